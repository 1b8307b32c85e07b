//! Resume without gaps, slow clients, expiring tokens.

use std::time::Duration;

use switchboard_sdk::token::{SigningKey, TokenSpec, mint_at};
use switchboard_tests::{
    Client, Code, Realtime, RealtimeEvent, RealtimeOptions, TestController, TestRelay, proto,
};
use switchboard_tests::{TEST_SECRET, live};

/// A new team of alice's (the caller) with bob.
async fn team(alice: &Client) -> u64 {
    let request = proto::CreateTeamRequest {
        name: "Resume".into(),
        members: vec!["bob".into()],
        ..Default::default()
    };
    alice.create_team(request).await.unwrap().id
}

#[tokio::test]
async fn resume_delivers_everything_missed_and_sent_during_the_replay_exactly_once_in_order() {
    let server = TestController::start().await;
    let relay = TestRelay::start(&server).await;
    let alice = relay.client(server.token("alice", "acme")).await;
    let channel = team(&alice).await;

    let mut first = relay.realtime(server.token("bob", "acme"));
    live::live(&mut first).await;
    let mut sent = vec![alice.send_text(channel, "before").await.unwrap().id];
    let before = live::position_of(&mut first, "before").await;
    let positions = first.positions();
    assert_eq!(positions.get(&channel), Some(&before), "the position of what the app took");
    drop(first);

    // While bob is away: more than one history page (200), so the replay takes a while.
    for i in 0..450 {
        sent.push(alice.send_text(channel, &format!("away {i}")).await.unwrap().id);
    }
    // Bob comes back with his position while alice keeps talking through his replay.
    let mut options = RealtimeOptions::new(relay.url(), server.token("bob", "acme"));
    options.positions = positions;
    let mut back = Realtime::connect(options);
    let during = tokio::spawn({
        let alice = alice.clone();
        async move {
            let mut ids = Vec::new();
            for i in 0..100 {
                ids.push(alice.send_text(channel, &format!("during {i}")).await.unwrap().id);
            }
            ids
        }
    });
    let missed = sent.len() - 1 + 100;
    let received = live::message_ids(&mut back, missed).await;
    sent.extend(during.await.unwrap());
    assert_eq!(received.len(), missed, "no duplicates");
    assert_eq!(received, sent[1..], "every message once, in order");
}

#[tokio::test]
async fn the_sdk_reconnects_to_another_relay_and_resumes_by_itself() {
    let server = TestController::start().await;
    let (one, two) = (TestRelay::start(&server).await, TestRelay::start(&server).await);
    let alice = two.client(server.token("alice", "acme")).await;
    let channel = team(&alice).await;

    let mut options = RealtimeOptions::new(one.url(), server.token("bob", "acme"));
    options.addresses.push(two.url());
    options.min_backoff = Duration::from_millis(20);
    let mut bob = Realtime::connect(options);
    live::live(&mut bob).await;
    let mut sent = vec![alice.send_text(channel, "first").await.unwrap().id];
    assert_eq!(live::message_ids(&mut bob, 1).await, sent);

    one.stop().await; // bob's stream ends with UNAVAILABLE
    for i in 0..20 {
        sent.push(alice.send_text(channel, &format!("while moving {i}")).await.unwrap().id);
    }
    let (code, _) = live::until(&mut bob, "the disconnect", |e| match e {
        RealtimeEvent::Disconnected { code, .. } => Some(*code),
        _ => None,
    })
    .await;
    assert_eq!(code, Code::Unavailable);
    assert_eq!(live::message_ids(&mut bob, 20).await, sent[1..], "resumed on the other relay");
    let ack = bob
        .send(proto::SendMessageRequest {
            channel_id: channel,
            data: "I'm back".into(),
            ..Default::default()
        })
        .await
        .unwrap();
    assert!(ack.message.unwrap().id > *sent.last().unwrap());
}

/// An app that saves its positions and restarts gets every message it had not taken yet,
/// including those that had already reached the SDK.
#[tokio::test]
async fn a_restart_from_saved_positions_gets_what_the_app_had_not_taken() {
    let server = TestController::start().await;
    let relay = TestRelay::start(&server).await;
    let alice = relay.client(server.token("alice", "acme")).await;
    let channel = team(&alice).await;
    let mut bob = relay.realtime(server.token("bob", "acme"));
    let mut witness = relay.realtime(server.token("bob", "acme"));
    live::live(&mut bob).await;
    live::live(&mut witness).await;
    let mut ids = Vec::new();
    for text in ["one", "two", "three"] {
        ids.push(alice.send_text(channel, text).await.unwrap().id);
    }
    // Bob's other stream has all three, so they are on their way to this one too; the app
    // takes only the first.
    live::message(&mut witness, "three").await;
    let one = live::position_of(&mut bob, "one").await;
    let saved = bob.positions();
    assert_eq!(saved.get(&channel), Some(&one), "what the app took, not what arrived");
    drop(bob);

    let mut options = RealtimeOptions::new(relay.url(), server.token("bob", "acme"));
    options.positions = saved;
    let mut restarted = Realtime::connect(options);
    assert_eq!(live::message_ids(&mut restarted, 2).await, ids[1..]);
}

/// Bob's SDK on the first of `relays`, trying the others in turn when it loses it.
fn bob_on(server: &TestController, relays: &[&TestRelay], only: Vec<u64>) -> Realtime {
    let mut options = RealtimeOptions::new(relays[0].url(), server.token("bob", "acme"));
    options.addresses.extend(relays[1..].iter().map(|relay| relay.url()));
    options.min_backoff = Duration::from_millis(20);
    options.only = only;
    Realtime::connect(options)
}

/// Returns once the relay has served the frames the app sent before: it serves a stream's
/// frames in order, so a send's ack comes after them.
async fn served(live: &Realtime, channel: u64) {
    let note = proto::SendMessageRequest {
        channel_id: channel,
        data: "served".into(),
        ..Default::default()
    };
    live.send(note).await.unwrap();
}

/// Stops the relay `live` is on and returns the welcome of its reconnect to the next one.
async fn moved(live: &mut Realtime, from: TestRelay) -> proto::Welcome {
    from.stop().await;
    let welcome = live::welcome(live).await;
    live::live(live).await;
    welcome
}

/// Alice writes in `off` and then `marker` in `on`: bob gets the marker with nothing from
/// `off` before it.
async fn hears_only(bob: &mut Realtime, alice: &Client, on: u64, off: u64, marker: &str) {
    alice.send_text(off, "not for bob").await.unwrap();
    alice.send_text(on, marker).await.unwrap();
    let (_, before) = live::message(bob, marker).await;
    let leaked: Vec<_> =
        before.iter().filter_map(live::created).filter(|m| m.channel_id == off).collect();
    assert!(leaked.is_empty(), "bob got {leaked:?}");
}

/// Bob follows all his conversations but `quiet`, which he unsubscribed from; `busy` is
/// the other team of his and alice's. His SDK is on relay `one` and moves to `two`. Bind
/// every field (`..` would drop the controller and relay `two` at once).
struct AllButQuiet {
    _server: TestController,
    one: TestRelay,
    _two: TestRelay,
    quiet: u64,
    busy: u64,
    alice: Client,
    bob: Realtime,
}

async fn all_but_quiet() -> AllButQuiet {
    let server = TestController::start().await;
    let (one, two) = (TestRelay::start(&server).await, TestRelay::start(&server).await);
    let alice = two.client(server.token("alice", "acme")).await;
    let (quiet, busy) = (team(&alice).await, team(&alice).await);
    let mut bob = bob_on(&server, &[&one, &two], vec![]);
    live::live(&mut bob).await;
    bob.unsubscribe(&[quiet]).await.unwrap();
    served(&bob, busy).await;
    AllButQuiet { _server: server, one, _two: two, quiet, busy, alice, bob }
}

/// What the app unsubscribed from while following all its conversations stays out after
/// a reconnect.
#[tokio::test]
async fn an_unsubscribe_while_following_all_survives_a_reconnect() {
    let AllButQuiet { _server, one, _two, quiet, busy, alice, mut bob } = all_but_quiet().await;
    hears_only(&mut bob, &alice, busy, quiet, "heard").await;

    let welcome = moved(&mut bob, one).await;
    assert_eq!(welcome.channel_ids, [busy]);
    hears_only(&mut bob, &alice, busy, quiet, "still heard").await;
}

/// Following all, a conversation the app unsubscribed from is followed again once the user
/// is added to it again: live (the relay follows membership) and after a reconnect.
#[tokio::test]
async fn a_conversation_unsubscribed_from_then_rejoined_is_followed_after_a_reconnect() {
    let AllButQuiet { _server, one, _two, quiet, busy, alice, mut bob } = all_but_quiet().await;
    alice.remove_member(quiet, "bob").await.unwrap();
    alice.add_members(quiet, &["bob"]).await.unwrap();
    live::until(&mut bob, "bob added back to quiet", |e| match e {
        RealtimeEvent::Event(proto::Event {
            conversation_id,
            kind: Some(proto::event::Kind::MemberJoined(joined)),
            ..
        }) if *conversation_id == quiet => {
            joined.member.as_ref().filter(|m| m.user_id == "bob").map(|_| ())
        }
        _ => None,
    })
    .await;
    let mut followed = moved(&mut bob, one).await.channel_ids;
    followed.sort();
    assert_eq!(followed, [quiet, busy]);
}

/// The conversations the app named, subscribed to and unsubscribed from are what it follows
/// after a reconnect, down to none.
#[tokio::test]
async fn subscription_changes_to_named_conversations_survive_reconnects() {
    let server = TestController::start().await;
    let one = TestRelay::start(&server).await;
    let (two, three) = (TestRelay::start(&server).await, TestRelay::start(&server).await);
    let alice = three.client(server.token("alice", "acme")).await;
    let (first, second) = (team(&alice).await, team(&alice).await);
    let mut bob = bob_on(&server, &[&one, &two, &three], vec![first]);
    live::live(&mut bob).await;

    bob.subscribe(&[second]).await.unwrap();
    bob.unsubscribe(&[first]).await.unwrap();
    served(&bob, second).await;
    hears_only(&mut bob, &alice, second, first, "joined").await;

    let welcome = moved(&mut bob, one).await;
    assert_eq!(welcome.channel_ids, [second]);
    alice.send_text(second, "after the move").await.unwrap();
    live::message(&mut bob, "after the move").await;

    bob.unsubscribe(&[second]).await.unwrap();
    served(&bob, second).await;
    let welcome = moved(&mut bob, two).await;
    assert_eq!(welcome.channel_ids, Vec::<u64>::new(), "none, not all");
}

#[tokio::test]
async fn a_stalled_client_is_cut_off_while_the_others_keep_receiving() {
    let server = TestController::start().await;
    let relay = TestRelay::builder(&server).configure(|c| c.client_queue = 16).start().await;
    let alice = relay.client(server.token("alice", "acme")).await;
    let channel = team(&alice).await;
    let admin = relay.client(server.admin_token("ops", "acme")).await;

    // A raw stream that says hello and then never reads, with small HTTP/2 windows like a
    // phone on a bad network (the defaults would let megabytes pile up in transit first).
    let endpoint = tonic::transport::Endpoint::from_shared(relay.url())
        .unwrap()
        .initial_stream_window_size(65_535)
        .initial_connection_window_size(65_535);
    let mut stalled = switchboard_proto::v1::realtime_client::RealtimeClient::new(
        endpoint.connect().await.unwrap(),
    );
    let (frames, outbound) = tokio::sync::mpsc::channel(4);
    let hello = proto::Hello { only: vec![channel], ..Default::default() };
    frames
        .send(proto::ClientFrame { kind: Some(proto::client_frame::Kind::Hello(hello)) })
        .await
        .unwrap();
    let mut request = tonic::Request::new(tokio_stream::wrappers::ReceiverStream::new(outbound));
    let bearer = format!("Bearer {}", server.token("bob", "acme"));
    request.metadata_mut().insert("authorization", bearer.parse().unwrap());
    let mut stalled = stalled.connect(request).await.unwrap().into_inner();

    let mut healthy = relay.realtime(server.token("bob", "acme"));
    live::live(&mut healthy).await;
    relay.wait_status(&admin, |s| s.sessions == 2).await;

    // 8 KiB messages fill the transport's buffers quickly; then the queue of 16 overflows.
    let big = "x".repeat(8 * 1024);
    let mut sent = Vec::new();
    for _ in 0..200 {
        sent.push(alice.send_text(channel, &big).await.unwrap().id);
    }
    let status = relay.wait_status(&admin, |s| s.slow_disconnects >= 1).await;
    assert_eq!(status.slow_disconnects, 1, "only the stalled client was cut off");
    assert_eq!(
        live::message_ids(&mut healthy, 200).await,
        sent,
        "the healthy client got everything"
    );

    // Reading the stalled stream now: what was buffered, then the reason.
    let error = loop {
        match stalled.message().await {
            Ok(Some(_)) => continue,
            Ok(None) => panic!("the stream ended without saying why"),
            Err(status) => break status,
        }
    };
    assert_eq!(error.code(), Code::ResourceExhausted);
    assert!(error.message().contains("too far behind"), "{}", error.message());
}

/// A token for `user` that expires 2 s from the current whole second (`exp` has second
/// granularity, so this leaves at least a second to connect, even on a loaded machine),
/// and the moment it expires.
fn short_token(user: &str) -> (String, std::time::SystemTime) {
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap();
    // Minted at the whole second, so at least two seconds to connect before it expires.
    let spec = TokenSpec::new(user, "acme").ttl(Duration::from_secs(3));
    let key = SigningKey::Hs256(TEST_SECRET.into());
    let token = mint_at(&spec, &key, now.as_secs()).unwrap();
    (token, std::time::UNIX_EPOCH + Duration::from_secs(now.as_secs() + 3))
}

#[tokio::test]
async fn an_expired_token_ends_the_stream() {
    let server = TestController::builder().configure(|c| c.auth.leeway_secs = 0).start().await;
    let relay = TestRelay::builder(&server).configure(|c| c.token_grace_secs = 0).start().await;
    let (short, _) = short_token("bob");
    let mut options = RealtimeOptions::new(relay.url(), short);
    options.min_backoff = Duration::from_secs(60); // observe the first ending only
    let mut bob = Realtime::connect(options);
    live::live(&mut bob).await;
    let (disconnect, _) = live::until(&mut bob, "the token to expire", |e| match e {
        RealtimeEvent::Disconnected { code, message } => Some((*code, message.clone())),
        _ => None,
    })
    .await;
    assert_eq!(disconnect.0, Code::Unauthenticated, "{}", disconnect.1);
    assert!(disconnect.1.contains("expired"), "{}", disconnect.1);
}

#[tokio::test]
async fn a_refreshed_token_keeps_the_stream_open() {
    let server = TestController::builder().configure(|c| c.auth.leeway_secs = 0).start().await;
    let relay = TestRelay::builder(&server).configure(|c| c.token_grace_secs = 0).start().await;
    let alice = relay.client(server.token("alice", "acme")).await;
    let channel = team(&alice).await;
    let (short, expires) = short_token("bob");
    let mut options = RealtimeOptions::new(relay.url(), short);
    options.min_backoff = Duration::from_secs(60);
    let mut bob = Realtime::connect(options);
    live::live(&mut bob).await;
    bob.set_token(server.token("bob", "acme")).await.unwrap();
    // Wait until the first token is past its expiry (that is the point of the test).
    let past_expiry = expires + Duration::from_millis(500);
    let wait = past_expiry.duration_since(std::time::SystemTime::now()).unwrap_or_default();
    tokio::time::sleep(wait).await;
    alice.send_text(channel, "still there?").await.unwrap();
    let (_, before) = live::message(&mut bob, "still there?").await;
    assert!(!before.iter().any(|e| matches!(e, RealtimeEvent::Disconnected { .. })), "{before:?}");
}

/// Reads of conversations' logs the controller has made so far.
async fn log_reads(server: &TestController) -> f64 {
    let (_, metrics) = switchboard_tests::http::get(server.http_address, "/metrics").await;
    let list_log = r#"switchboard_store_read_seconds_count{operation="list_log"}"#;
    switchboard_tests::http::metric(&metrics, list_log)
}

#[tokio::test]
async fn members_resuming_a_conversation_at_once_share_one_read_of_its_log() {
    let server = TestController::start().await;
    let one = TestRelay::start(&server).await;
    let alice = server.client("alice", "acme").await;
    let members: Vec<String> = (0..20).map(|i| format!("member{i}")).collect();
    let request = proto::CreateTeamRequest {
        name: "Storm".into(),
        members: members.clone(),
        ..Default::default()
    };
    let channel = alice.create_team(request).await.unwrap().id;
    alice.send_text(channel, "before").await.unwrap();
    let mut saved = Vec::new();
    for member in &members {
        let mut stream = one.realtime(server.token(member, "acme"));
        live::live(&mut stream).await;
        saved.push(stream.positions());
    }
    one.stop().await;

    // While the relay is gone: one message for everyone, one for member0 alone.
    let everyone = alice.send_text(channel, "while away").await.unwrap().id;
    let private = proto::SendMessageRequest {
        channel_id: channel,
        to: "member0".into(),
        data: "for member0".into(),
        ..Default::default()
    };
    let for_member0 = alice.send(private).await.unwrap().message.unwrap().id;
    let two = TestRelay::start(&server).await;
    let reads_before = log_reads(&server).await;
    let mut back = Vec::new();
    for (member, positions) in members.iter().zip(saved) {
        let mut options = RealtimeOptions::new(two.url(), server.token(member, "acme"));
        options.positions = positions;
        back.push(Realtime::connect(options));
    }
    for (at, stream) in back.iter_mut().enumerate() {
        let (_, events) = live::next_live(stream).await;
        let ids: Vec<u64> = events.iter().filter_map(live::created).map(|m| m.id).collect();
        let want = if at == 0 { vec![everyone, for_member0] } else { vec![everyone] };
        assert_eq!(ids, want, "member{at} gets what it missed (and may see) exactly once");
    }
    let reads = log_reads(&server).await - reads_before;
    assert!(reads <= 2.0, "20 members resumed the conversation with {reads} reads of its log");
}
