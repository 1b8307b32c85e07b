//! The HTTP port an operator watches: metrics that move with traffic, health, readiness
//! that follows the controller's dependencies.

use std::time::{Duration, Instant};

use switchboard_tests::http::{get, metric};
use switchboard_tests::live::{self, message_ids};
use switchboard_tests::{NatsServer, TestController, TestRelay, proto};

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
    assert!(metric(&after, "switchboard_store_write_seconds_count") >= 6.0, "team + 5 messages");
    assert!(metric(&after, "switchboard_store_read_seconds_count") > 0.0);
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
