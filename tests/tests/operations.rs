//! The HTTP port an operator watches: metrics that move with traffic, health, readiness
//! that follows the controller's dependencies.

use std::time::{Duration, Instant};

use switchboard_tests::http::{get, metric, metric_total};
use switchboard_tests::live::{self, message_ids};
use switchboard_tests::{Code, NatsServer, TestController, TestRelay, expect_code, proto};

#[tokio::test]
async fn metrics_move_as_messages_flow() {
    let server = TestController::start().await;
    let relay = TestRelay::start(&server).await;
    let (_, before) = get(server.http_address, "/metrics").await;
    assert_eq!(metric(&before, "switchboard_messages_sent_total"), 0.0);

    let alice = relay.client(server.token("alice", "acme")).await;
    let request = proto::CreateTeamRequest {
        name: "Ops".into(),
        members: vec!["bob".into()],
        ..Default::default()
    };
    let team = alice.create_team(request).await.unwrap().id;
    let mut bob = relay.realtime(server.token("bob", "acme"));
    live::live(&mut bob).await;
    let mut sent = Vec::new();
    for i in 0..5 {
        sent.push(alice.send_text(team, &format!("m{i}")).await.unwrap().id);
    }
    assert_eq!(message_ids(&mut bob, 5).await, sent);

    let (status, after) = get(server.http_address, "/metrics").await;
    assert_eq!(status, 200);
    assert_eq!(metric(&after, "switchboard_messages_sent_total"), 5.0);
    assert_eq!(metric(&after, "switchboard_send_ack_seconds_count"), 5.0);
    assert!(
        metric_total(&after, "switchboard_store_write_seconds_count") >= 6.0,
        "team + 5 messages"
    );
    let message_writes = r#"switchboard_store_write_seconds_count{operation="insert_message"}"#;
    assert_eq!(metric(&after, message_writes), 5.0, "each operation is counted on its own");
    assert!(metric_total(&after, "switchboard_store_read_seconds_count") > 0.0);
    assert!(metric(&after, "switchboard_bus_publish_seconds_count") >= 5.0);
    assert_eq!(metric(&after, "switchboard_relay_streams"), 1.0);
    assert!(metric(&after, "switchboard_bus_topics") >= 2.0, "bob's conversation and user topics");
}

#[tokio::test]
async fn health_answers_and_readiness_follows_the_bus() {
    let mut nats = NatsServer::start();
    let server = TestController::builder().nats(nats.url()).start().await;
    assert_eq!(get(server.http_address, "/healthz").await, (200, "ok\n".into()));
    let ready = |want: u16| async move {
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            let (status, body) = get(server.http_address, "/readyz").await;
            if status == want {
                return body;
            }
            assert!(Instant::now() < deadline, "readyz stayed {status}: {body}");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    };
    ready(200).await;
    nats.kill();
    let body = ready(503).await;
    assert!(body.contains("bus"), "names what is missing: {body}");
    assert_eq!(get(server.http_address, "/healthz").await.0, 200, "alive, just not ready");
    nats.restart();
    ready(200).await;
}

#[tokio::test]
async fn the_send_rate_is_limited_per_user_and_recovers_after_the_hinted_wait() {
    use tonic_types::StatusExt;
    let server = TestController::builder()
        .configure(|c| (c.limits.send_rate_per_sec, c.limits.send_burst) = (5, 5))
        .start()
        .await;
    let alice = server.client("alice", "acme").await;
    let request = proto::CreateTeamRequest {
        name: "Rate".into(),
        members: vec!["bob".into()],
        ..Default::default()
    };
    let team = alice.create_team(request).await.unwrap().id;
    for i in 0..5 {
        alice.send_text(team, &format!("burst {i}")).await.unwrap();
    }
    let error = alice.send_text(team, "one too many").await.unwrap_err();
    let switchboard_tests::SdkError::Status(status) = error else { panic!("{error}") };
    assert_eq!(status.code(), switchboard_tests::Code::ResourceExhausted);
    let wait =
        status.get_error_details().retry_info().and_then(|r| r.retry_delay).expect("a retry hint");
    assert!(wait <= Duration::from_millis(200), "one token per 200 ms: {wait:?}");
    let bob = server.client("bob", "acme").await;
    bob.send_text(team, "bob has his own budget").await.unwrap();
    tokio::time::sleep(wait).await; // the window the server named
    alice.send_text(team, "after the wait").await.unwrap();
    let page = alice
        .history(proto::ListHistoryRequest { channel_id: team, limit: 50, ..Default::default() })
        .await
        .unwrap();
    assert_eq!(page.messages.len(), 7, "the refused send was not stored");
}

#[tokio::test]
async fn a_user_may_hold_only_so_many_streams_and_an_address_may_connect_only_so_fast() {
    use switchboard_tests::{Code, Realtime, RealtimeEvent, RealtimeOptions};
    let server = TestController::start().await;
    let relay = TestRelay::builder(&server).configure(|c| c.max_streams_per_user = 2).start().await;
    let connect = |token: String| {
        let mut options = RealtimeOptions::new(relay.url(), token);
        options.min_backoff = Duration::from_secs(60);
        Realtime::connect(options)
    };
    let first_code = |mut live: Realtime| async move {
        live::until(&mut live, "the first outcome", |e| match e {
            RealtimeEvent::Live(_) => Some(Code::Ok),
            RealtimeEvent::Disconnected { code, .. } => Some(*code),
            _ => None,
        })
        .await
        .0
    };
    let mut one = connect(server.token("carol", "acme"));
    live::live(&mut one).await;
    let mut two = connect(server.token("carol", "acme"));
    live::live(&mut two).await;
    assert_eq!(first_code(connect(server.token("carol", "acme"))).await, Code::ResourceExhausted);
    assert_eq!(first_code(connect(server.token("dave", "acme"))).await, Code::Ok, "per user");
    drop(one);
    let admin = relay.client(server.admin_token("ops", "acme")).await;
    // dave's probe has gone too: only carol's second stream is left
    relay.wait_status(&admin, |s| s.sessions == 1).await;
    assert_eq!(first_code(connect(server.token("carol", "acme"))).await, Code::Ok, "room again");

    let strict = TestRelay::builder(&server)
        .configure(|c| (c.connect_rate_per_ip, c.connect_burst_per_ip) = (1, 2))
        .start()
        .await;
    let mut outcomes = Vec::new();
    for user in ["u1", "u2", "u3"] {
        let mut options = RealtimeOptions::new(strict.url(), server.token(user, "acme"));
        options.min_backoff = Duration::from_secs(60);
        outcomes.push(first_code(Realtime::connect(options)).await);
    }
    assert_eq!(outcomes, [Code::Ok, Code::Ok, Code::ResourceExhausted]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_overloaded_controller_sheds_calls_with_unavailable_while_health_stays_up() {
    use switchboard_tests::Code;
    use tonic_health::pb::{
        HealthCheckRequest, health_check_response::ServingStatus, health_client::HealthClient,
    };
    let server =
        TestController::builder().configure(|c| c.limits.max_concurrent_requests = 1).start().await;
    let request = proto::CreateTeamRequest { name: "Busy".into(), ..Default::default() };
    let team = server.client("alice", "acme").await.create_team(request).await.unwrap().id;

    // 128 sends at once from 4 connections, against room for one call at a time.
    let mut calls = Vec::new();
    for _ in 0..4 {
        let alice = server.client("alice", "acme").await;
        for i in 0..32 {
            let alice = alice.clone();
            calls.push(tokio::spawn(async move { alice.send_text(team, &format!("m{i}")).await }));
        }
    }
    let channel =
        tonic::transport::Endpoint::from_shared(server.url()).unwrap().connect().await.unwrap();
    let health = HealthClient::new(channel)
        .check(HealthCheckRequest { service: "switchboard.v1.Chat".into() })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(health.status(), ServingStatus::Serving, "health answers in the middle of it");
    let (mut ok, mut shed) = (0, 0);
    for call in calls {
        match call.await.unwrap() {
            Ok(_) => ok += 1,
            Err(error) => {
                assert_eq!(error.code(), Code::Unavailable, "{error}");
                shed += 1;
            }
        }
    }
    assert!(ok > 0 && shed > 0, "{ok} served, {shed} shed");
    // Calm again: calls go through.
    server.client("alice", "acme").await.send_text(team, "after the storm").await.unwrap();
}

#[tokio::test]
async fn a_call_past_the_request_timeout_fails_with_deadline_exceeded_and_streams_are_not_cut() {
    // A "controller" that accepts connections and never answers: calls forwarded to it hang.
    let silent = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let silent_url = format!("http://{}", silent.local_addr().unwrap());
    let held = tokio::spawn(async move {
        let mut sockets = Vec::new();
        while let Ok((socket, _)) = silent.accept().await {
            sockets.push(socket);
        }
    });
    let server = TestController::start().await;
    let relay = TestRelay::builder(&server)
        .controllers(vec![silent_url])
        .configure(|c| c.request_timeout_ms = 300)
        .start_unlinked()
        .await;
    let alice = relay.client(server.token("alice", "acme")).await;
    // (Without the limit the call would hang: the handshake never completes.)
    let message = expect_code(alice.open_self().await, Code::DeadlineExceeded);
    assert!(message.contains("300 ms"), "{message}");
    held.abort();

    // On a working relay with the same limit, a live stream outlasts it.
    let relay = TestRelay::builder(&server).configure(|c| c.request_timeout_ms = 300).start().await;
    let mut bob = relay.realtime(server.token("bob", "acme"));
    live::live(&mut bob).await;
    let bob_calls = relay.client(server.token("bob", "acme")).await;
    let own = bob_calls.open_self().await.unwrap().id;
    // Outlast the limit several times over, then the stream still delivers.
    tokio::time::sleep(Duration::from_millis(1_000)).await;
    bob_calls.send_text(own, "still here").await.unwrap();
    live::message(&mut bob, "still here").await;
}
