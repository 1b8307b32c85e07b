//! Resume positions (issue #20): the scenarios the issue reports, as a third-party client
//! following realtime.proto would meet them. Six senders on two controllers at once, a
//! follower that drops out mid-stream and resumes; edits and deletes made while away;
//! `subscribe` and `live` naming positions; positions by message id refused.

use std::collections::{BTreeMap, HashMap};

use switchboard_sdk::proto::event::Kind;
use switchboard_tests::{
    Client, Code, NatsServer, Realtime, RealtimeEvent, RealtimeOptions, TestController, TestRelay,
    live, proto, violated_fields,
};
use tonic::Status;

const SENDERS: [&str; 6] = ["s1", "s2", "s3", "s4", "s5", "s6"];

/// What a follower's app was handed: per message, how often it came as new; and the
/// positions of the message events, in the order they came.
#[derive(Default)]
struct Handed {
    created: BTreeMap<u64, u32>,
    positions: Vec<u64>,
}

impl Handed {
    fn take(&mut self, event: &RealtimeEvent) {
        if let RealtimeEvent::Event(event) = event {
            if let Some(Kind::MessageCreated(created)) = &event.kind {
                *self.created.entry(created.message.as_ref().unwrap().id).or_default() += 1;
            }
            if event.seq != 0 {
                self.positions.push(event.seq);
            }
        }
    }
}

/// Reads events until `until` says stop; hands each to `handed`.
async fn read_until(
    live: &mut Realtime,
    handed: &mut Handed,
    mut until: impl FnMut(&Handed) -> bool,
) {
    while !until(handed) {
        let event = tokio::time::timeout(live::EVENT_DEADLINE, live.next())
            .await
            .expect("events in time")
            .expect("the stream is open");
        handed.take(&event);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn six_senders_on_two_controllers_and_a_resume_mid_stream_lose_nothing() {
    let nats = NatsServer::start();
    let dir = tempfile::tempdir().unwrap();
    let store = TestController::shared_store(&dir).await;
    let controllers = [
        TestController::builder().nats(nats.url()).store(store.clone()).node_id(1).start().await,
        TestController::builder().nats(nats.url()).store(store).node_id(2).start().await,
    ];
    let relay = TestRelay::start(&controllers[0]).await;
    let mut senders = Vec::new();
    for (i, user) in SENDERS.iter().enumerate() {
        senders.push(controllers[i % 2].client(user, "acme").await);
    }
    let members: Vec<&str> = SENDERS[1..].iter().copied().chain(["f"]).collect();
    let team = switchboard_tests::create_team(&senders[0], &members).await;

    let token = controllers[0].token("f", "acme");
    let mut follower = Realtime::connect(RealtimeOptions::new(relay.url(), token.clone()));
    live::live(&mut follower).await;
    let sending = tokio::spawn(send_all(senders, team, 30));
    // Mid-stream: after some messages, the follower drops out (what it was handed so far
    // is all it has), and comes back with the positions its SDK gave the app.
    let mut handed = Handed::default();
    read_until(&mut follower, &mut handed, |h| h.created.len() >= 40).await;
    let positions = follower.positions();
    drop(follower);
    let mut options = RealtimeOptions::new(relay.url(), token);
    options.positions = positions;
    let mut back = Realtime::connect(options);
    let sent = sending.await.unwrap();
    read_until(&mut back, &mut handed, |h| sent.iter().all(|id| h.created.contains_key(id))).await;

    let twice: Vec<_> = handed.created.iter().filter(|(_, n)| **n > 1).collect();
    assert!(twice.is_empty(), "handed over more than once: {twice:?}");
    assert_eq!(handed.created.len(), sent.len(), "every message, and no other");
    let mut ordered = handed.positions.clone();
    ordered.sort_unstable();
    ordered.dedup();
    assert_eq!(handed.positions, ordered, "in log order, each change once");
}

/// Every sender sends `count` messages at once with the others; the ids sent.
async fn send_all(senders: Vec<Client>, team: u64, count: usize) -> Vec<u64> {
    let sends = senders.into_iter().enumerate().map(|(i, sender)| async move {
        let mut ids = Vec::new();
        for n in 0..count {
            ids.push(sender.send_text(team, &format!("{i}/{n}")).await.unwrap().id);
        }
        ids
    });
    futures_util::future::join_all(sends).await.into_iter().flatten().collect()
}

#[tokio::test]
async fn edits_and_deletes_made_while_away_arrive_on_resume_once_in_log_order() {
    let server = TestController::start().await;
    let relay = TestRelay::start(&server).await;
    let (alice, team) = server.team_of("alice", &["bob"]).await;
    let mut bob = relay.realtime(server.token("bob", "acme"));
    live::live(&mut bob).await;
    let kept = alice.send_text(team, "kept").await.unwrap();
    let edited = alice.send_text(team, "to edit").await.unwrap();
    let deleted = alice.send_text(team, "to delete").await.unwrap();
    live::message(&mut bob, "to delete").await;
    let positions = bob.positions();
    drop(bob);

    alice.edit_message(team, edited.id, "edited while away").await.unwrap();
    alice.delete_message(team, deleted.id).await.unwrap();
    let new = alice.send_text(team, "new while away").await.unwrap();
    alice.edit_message(team, new.id, "new, then edited").await.unwrap();

    let mut options = RealtimeOptions::new(relay.url(), server.token("bob", "acme"));
    options.positions = positions;
    let mut back = Realtime::connect(options);
    let (_, events) = live::next_live(&mut back).await;
    let changes: Vec<(String, u64, String)> = events
        .iter()
        .filter_map(|e| match live::kind(e)? {
            Kind::MessageCreated(m) => Some(("created", m.message.as_ref()?)),
            Kind::MessageEdited(m) => Some(("edited", m.message.as_ref()?)),
            Kind::MessageDeleted(m) => Some(("deleted", m.message.as_ref()?)),
            _ => None,
        })
        .map(|(what, m)| (what.to_string(), m.id, m.data.clone()))
        .collect();
    assert_eq!(
        changes,
        [
            ("edited".into(), edited.id, "edited while away".into()),
            ("deleted".into(), deleted.id, String::new()),
            ("created".into(), new.id, "new, then edited".into()),
            ("edited".into(), new.id, "new, then edited".into()),
        ],
        "each change once, in the order made; a message new to bob comes as created, as it is now"
    );
    assert!(changes.iter().all(|(_, id, _)| *id != kept.id), "nothing bob had and nothing changed");
}

#[tokio::test]
async fn live_names_a_position_for_every_conversation_and_subscribe_gets_its_own() {
    let server = TestController::start().await;
    let relay = TestRelay::start(&server).await;
    let (alice, first) = server.team_of("alice", &["bob"]).await;
    let second = switchboard_tests::create_team(&alice, &["bob"]).await;
    alice.send_text(second, "said before bob subscribed").await.unwrap();

    // Following only `first`; a position in `second` from the start of its log (1).
    let mut options = RealtimeOptions::new(relay.url(), server.token("bob", "acme"));
    options.only = vec![first];
    options.positions = HashMap::from([(second, 1)]);
    let mut bob = Realtime::connect(options);
    let live = live::live(&mut bob).await;
    assert_eq!(live.channel_ids, [first]);
    assert_eq!(live.positions.len(), 1);
    assert_eq!(live.positions[0].channel_id, first);
    assert!(live.positions[0].after_seq > 0, "a position to resume from: {live:?}");

    // A subscribe resuming `second` replays what was said, then says live with a position
    // past it.
    bob.subscribe(&[second]).await.unwrap();
    let (live, events) = live::next_live(&mut bob).await;
    assert_eq!(live::texts(&events), ["said before bob subscribed"]);
    let replayed = events.iter().find_map(|e| match e {
        RealtimeEvent::Event(event) if event.seq != 0 => Some(event.seq),
        _ => None,
    });
    assert_eq!(live.channel_ids, [second]);
    assert_eq!(Some(live.positions[0].after_seq), replayed, "live is where the replay ended");
    assert_eq!(bob.positions().get(&second).copied(), replayed);
}

/// Opens a realtime stream with `hello` and returns how it ended.
async fn refused(relay: &TestRelay, token: String, hello: proto::Hello) -> Status {
    let channel = tonic::transport::Endpoint::from_shared(relay.url()).unwrap();
    let mut client = proto::realtime_client::RealtimeClient::new(channel.connect().await.unwrap());
    let first = proto::ClientFrame { kind: Some(proto::client_frame::Kind::Hello(hello)) };
    let mut request = tonic::Request::new(tokio_stream::iter([first]));
    request.metadata_mut().insert("authorization", format!("Bearer {token}").parse().unwrap());
    match client.connect(request).await {
        Err(status) => status,
        Ok(stream) => {
            let mut stream = stream.into_inner();
            loop {
                match stream.message().await {
                    Err(status) => return status,
                    Ok(None) => panic!("the stream ended without an error"),
                    Ok(Some(_)) => {}
                }
            }
        }
    }
}

#[tokio::test]
async fn positions_by_message_id_are_refused_with_what_to_send_instead() {
    let server = TestController::start().await;
    let relay = TestRelay::start(&server).await;
    let (alice, team) = server.team_of("alice", &["bob"]).await;
    let sent = alice.send_text(team, "hello").await.unwrap();

    let by_id =
        proto::ChannelPosition { channel_id: team, after_id: sent.id, ..Default::default() };
    let id_as_seq =
        proto::ChannelPosition { channel_id: team, after_seq: sent.id, ..Default::default() };
    for (position, says) in [(by_id, "after_seq"), (id_as_seq, "message id")] {
        let hello = proto::Hello { resume: vec![position], ..Default::default() };
        let status = refused(&relay, server.token("bob", "acme"), hello).await;
        assert_eq!(status.code(), Code::InvalidArgument, "{status:?}");
        assert!(status.message().contains(says), "{}", status.message());
        assert_eq!(violated_fields(&status), ["hello.resume"]);
    }
    let bob = relay.client(server.token("bob", "acme")).await;
    let request = proto::ListChangesRequest { channel_id: team, after_seq: sent.id, limit: 0 };
    let error = bob.changes(request).await.expect_err("refused");
    assert_eq!(error.code(), Code::InvalidArgument, "{error:?}");
}
