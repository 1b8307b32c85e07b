//! Switchboard as a cluster on a real nats-server: several relays and controllers, and
//! nodes that die without a client losing a message.
//!
//! Tests with two controllers give them one shared store: a ScyllaDB keyspace when
//! `SCYLLA_URI` is set, otherwise one embedded store shared inside the test process. Either
//! way history is complete, so they check every message, not only live delivery; their
//! names say `shared_store`.

use std::time::Duration;

use switchboard_tests::live::{self, message_ids};
use switchboard_tests::{
    Client, NatsServer, Proxy, Realtime, RealtimeEvent, RealtimeOptions, RelayProcess,
    TestController, TestRelay, eventually, proto,
};

async fn team(alice: &Client, members: &[&str]) -> u64 {
    let request = proto::CreateTeamRequest {
        name: "Cluster".into(),
        members: members.iter().map(|m| m.to_string()).collect(),
        ..Default::default()
    };
    alice.create_team(request).await.unwrap().id
}

/// A live connection that fails over across `relays` (in order) quickly.
async fn live_on(relays: &[String], token: String) -> Realtime {
    let mut options = RealtimeOptions::new(relays[0].clone(), token);
    options.addresses = relays.to_vec();
    options.min_backoff = Duration::from_millis(20);
    options.max_backoff = Duration::from_millis(500);
    let mut realtime = Realtime::connect(options);
    live::live(&mut realtime).await;
    realtime
}

async fn send_many(alice: &Client, channel: u64, label: &str, count: usize) -> Vec<u64> {
    let mut ids = Vec::new();
    for i in 0..count {
        ids.push(alice.send_text(channel, &format!("{label} {i}")).await.unwrap().id);
    }
    ids
}

#[tokio::test]
async fn clients_on_three_relays_each_receive_every_message_once() {
    let nats = NatsServer::start();
    let server = TestController::builder().nats(nats.url()).start().await;
    let relays = [
        TestRelay::start(&server).await,
        TestRelay::start(&server).await,
        TestRelay::start(&server).await,
    ];
    let alice = server.client("alice", "acme").await;
    let channel = team(&alice, &["bob", "carol", "dave"]).await;
    let mut clients = Vec::new();
    for (relay, user) in relays.iter().zip(["bob", "carol", "dave"]) {
        clients.push(live_on(&[relay.url()], server.token(user, "acme")).await);
    }
    let sent = send_many(&alice, channel, "hello", 40).await;
    for client in &mut clients {
        assert_eq!(message_ids(client, 40).await, sent);
    }
}

#[tokio::test]
async fn a_relay_with_no_subscriber_of_a_channel_receives_none_of_its_traffic() {
    let nats = NatsServer::start();
    let server = TestController::builder().nats(nats.url()).start().await;
    let (busy, quiet) = (TestRelay::start(&server).await, TestRelay::start(&server).await);
    let alice = server.client("alice", "acme").await;
    let loud = team(&alice, &["bob"]).await;
    let carol = server.client("carol", "acme").await;
    let calm = team(&carol, &[]).await;
    let mut bob = live_on(&[busy.url()], server.token("bob", "acme")).await;
    let mut carol_live = live_on(&[quiet.url()], server.token("carol", "acme")).await;
    let admin = quiet.client(server.admin_token("ops", "acme")).await;
    let before = quiet.wait_status(&admin, |s| s.upstream_channels == vec![calm]).await;

    let sent = send_many(&alice, loud, "busy", 30).await;
    assert_eq!(message_ids(&mut bob, 30).await, sent);
    carol.send_text(calm, "marker").await.unwrap();
    live::message(&mut carol_live, "marker").await;
    let after = quiet.wait_status(&admin, |_| true).await;
    assert_eq!(after.events_received, before.events_received + 1, "only the marker reached it");
}

#[tokio::test]
async fn a_killed_relays_clients_reconnect_elsewhere_and_miss_nothing() {
    let nats = NatsServer::start();
    let server = TestController::builder().nats(nats.url()).start().await;
    let dir = tempfile::tempdir().unwrap();
    let doomed = RelayProcess::start(&dir.path().join("one"), &[server.url()]);
    let survivor = RelayProcess::start(&dir.path().join("two"), &[server.url()]);
    let alice = server.client("alice", "acme").await;
    let channel = team(&alice, &["bob", "carol"]).await;
    let both = [doomed.url.clone(), survivor.url.clone()];
    let mut bob = live_on(&both, server.token("bob", "acme")).await;
    let mut carol =
        live_on(std::slice::from_ref(&survivor.url), server.token("carol", "acme")).await;

    let mut sent = send_many(&alice, channel, "before", 25).await;
    assert_eq!(message_ids(&mut bob, 25).await, sent, "bob is live on the doomed relay");
    doomed.kill();
    sent.extend(send_many(&alice, channel, "during", 25).await);
    sent.extend(send_many(&alice, channel, "after", 25).await);

    let bobs = message_ids(&mut bob, 50).await;
    assert_eq!(bobs, sent[25..], "bob: every message once, in order, across the crash");
    assert_eq!(message_ids(&mut carol, 75).await, sent, "carol never noticed");
    eprintln!(
        "relay kill -9: sent {}, bob received {} after the crash (lost 0, duplicated {})",
        sent.len(),
        bobs.len(),
        bobs.len() - 50
    );
}

#[tokio::test]
async fn restarting_nats_mid_conversation_loses_nothing() {
    let mut nats = NatsServer::start();
    let server = TestController::builder().nats(nats.url()).start().await;
    let (one, two) = (TestRelay::start(&server).await, TestRelay::start(&server).await);
    let alice = server.client("alice", "acme").await;
    let channel = team(&alice, &["bob", "carol"]).await;
    let mut bob = live_on(&[one.url()], server.token("bob", "acme")).await;
    let mut carol = live_on(&[two.url()], server.token("carol", "acme")).await;

    let mut sent = send_many(&alice, channel, "before", 20).await;
    nats.kill();
    sent.extend(send_many(&alice, channel, "while NATS is down", 20).await);
    nats.restart();
    sent.extend(send_many(&alice, channel, "after", 20).await);

    for (who, client) in [("bob", &mut bob), ("carol", &mut carol)] {
        let received = message_ids(client, sent.len()).await;
        assert_eq!(received, sent, "{who}: every message once, in order");
    }
    let admin = one.client(server.admin_token("ops", "acme")).await;
    let refills =
        eventually("the controller filling after the outage", Duration::from_secs(10), || async {
            let stats = admin.admin_stats().await.ok()?;
            let resyncs = stats.controllers.first()?.bus_resyncs;
            (resyncs >= 1).then_some(resyncs)
        })
        .await;
    eprintln!(
        "NATS restart: sent {}, received {} per client, lost 0, duplicated 0, bus refills {refills}",
        sent.len(),
        sent.len(),
    );
}

#[tokio::test]
async fn the_relay_moves_to_the_other_controller_when_its_controller_dies_shared_store() {
    let nats = NatsServer::start();
    let dir = tempfile::tempdir().unwrap();
    let store = TestController::shared_store(&dir).await;
    let first =
        TestController::builder().nats(nats.url()).store(store.clone()).node_id(1).start().await;
    let second = TestController::builder().nats(nats.url()).store(store).node_id(2).start().await;
    let relay =
        TestRelay::builder(&first).controllers(vec![first.url(), second.url()]).start().await;
    let alice = second.client("alice", "acme").await;
    let channel = team(&alice, &["bob"]).await;
    let mut bob = live_on(&[relay.url()], first.token("bob", "acme")).await;

    let mut sent = send_many(&alice, channel, "before", 20).await;
    assert_eq!(message_ids(&mut bob, 20).await, sent);
    let first_url = first.url();
    first.crash();
    sent.extend(send_many(&alice, channel, "during", 20).await);
    let admin = relay.client(second.admin_token("ops", "acme")).await;
    let status =
        relay.wait_status(&admin, |s| s.upstream_connected && s.controller != first_url).await;
    assert_eq!(status.controller, second.url());
    sent.extend(send_many(&alice, channel, "after", 20).await);

    let received = message_ids(&mut bob, 40).await;
    assert_eq!(received, sent[20..], "every message once, in order");
    let stream_ended = bob_disconnected(&mut bob).await;
    assert!(!stream_ended, "bob's stream survived the controller's death");
    // Unary calls through the relay follow it to the surviving controller too.
    let bob_unary = relay.client(second.token("bob", "acme")).await;
    let reply = bob_unary.send_text(channel, "through the relay").await.unwrap();
    assert_eq!(reply.from, "bob");
}

/// Whether any disconnect is pending on the connection (checked with a marker-free probe:
/// the events so far are drained without waiting).
async fn bob_disconnected(live: &mut Realtime) -> bool {
    let mut disconnected = false;
    while let Ok(Some(event)) = tokio::time::timeout(Duration::ZERO, live.next()).await {
        disconnected |= matches!(event, RealtimeEvent::Disconnected { .. });
    }
    disconnected
}

#[tokio::test]
async fn presence_is_shared_across_relays_and_a_killed_relays_users_go_offline() {
    let nats = NatsServer::start();
    let server = TestController::builder().nats(nats.url()).start().await;
    let dir = tempfile::tempdir().unwrap();
    let doomed = RelayProcess::start(dir.path(), &[server.url()]);
    let steady = TestRelay::start(&server).await;
    let alice = server.client("alice", "acme").await;
    team(&alice, &["bob"]).await;
    let mut bob = live_on(&[steady.url()], server.token("bob", "acme")).await;
    bob.watch_presence(&["alice"]).await.unwrap();

    let _alice_live =
        live_on(std::slice::from_ref(&doomed.url), server.token("alice", "acme")).await;
    let presence_of = |online: bool| live::presence_is("alice", online);
    live::until(&mut bob, "alice online (other relay)", presence_of(true)).await;
    let online = alice.presence(&["alice", "bob"]).await.unwrap();
    assert!(online.iter().all(|p| p.online), "{online:?}");

    doomed.kill();
    live::until(&mut bob, "alice offline after her relay died", presence_of(false)).await;
    assert!(!alice.presence(&["alice"]).await.unwrap()[0].online);
}

#[tokio::test]
async fn presence_spans_controllers_and_stays_online_while_any_node_has_the_user_shared_store() {
    let nats = NatsServer::start();
    let dir = tempfile::tempdir().unwrap();
    let store = TestController::shared_store(&dir).await;
    let east =
        TestController::builder().nats(nats.url()).store(store.clone()).node_id(1).start().await;
    let west = TestController::builder().nats(nats.url()).store(store).node_id(2).start().await;
    let (east_relay, west_relay) = (TestRelay::start(&east).await, TestRelay::start(&west).await);
    let alice = east.client("alice", "acme").await;
    team(&alice, &["bob"]).await;
    let mut bob = live_on(&[west_relay.url()], west.token("bob", "acme")).await;
    bob.watch_presence(&["alice"]).await.unwrap();
    let presence_of = |online: bool| live::presence_is("alice", online);

    // alice connects through the other controller: bob, on this one, sees her come online
    let on_east = live_on(&[east_relay.url()], east.token("alice", "acme")).await;
    live::until(&mut bob, "alice online via the other controller", presence_of(true)).await;
    let bob_asks = west.client("bob", "acme").await;
    assert!(bob_asks.presence(&["alice"]).await.unwrap()[0].online);

    // a second device through bob's controller, then the first one leaves: still online
    let on_west = live_on(&[west_relay.url()], west.token("alice", "acme")).await;
    drop(on_east);
    let east_admin = east_relay.client(east.admin_token("ops", "acme")).await;
    east_relay.wait_status(&east_admin, |s| s.sessions == 0).await;
    alice.send_text(team(&alice, &["bob"]).await, "marker").await.unwrap();
    let (_, before) = live::message(&mut bob, "marker").await;
    let flapped = before.iter().any(|e| presence_of(false)(e).is_some());
    assert!(!flapped, "alice never went offline: {before:?}");
    assert!(bob_asks.presence(&["alice"]).await.unwrap()[0].online);

    drop(on_west);
    live::until(&mut bob, "alice offline everywhere", presence_of(false)).await;
    assert!(!bob_asks.presence(&["alice"]).await.unwrap()[0].online);
}

/// Two controllers on one store, the second reaching NATS through a proxy that can swallow
/// what it publishes; each notices the other gone within 3 s. On the second, alice's team
/// with carol; bob and carol live on a relay of the first, following all.
struct Muted {
    /// Taken when it crashes.
    second: Option<TestController>,
    proxy: Proxy,
    alice: Client,
    team: u64,
    bob: Realtime,
    carol: Realtime,
    _first: (TestController, TestRelay),
    _nats: NatsServer,
    _dir: tempfile::TempDir,
}

impl Muted {
    async fn start() -> Muted {
        let nats = NatsServer::start();
        let dir = tempfile::tempdir().unwrap();
        let store = TestController::shared_store(&dir).await;
        let proxy = Proxy::start(&nats.url()).await;
        let quick = |config: &mut switchboard_server::Config| config.nats.presence_ttl_secs = 3;
        let controller = |id| TestController::builder().node_id(id).configure(quick);
        let first = controller(1).nats(nats.url()).store(store.clone()).start().await;
        let second = controller(2).nats(proxy.nats_url()).store(store).start().await;
        let relay = TestRelay::start(&first).await;
        let alice = second.client("alice", "acme").await;
        let team = team(&alice, &["carol"]).await;
        let bob = live_on(&[relay.url()], first.token("bob", "acme")).await;
        let carol = live_on(&[relay.url()], first.token("carol", "acme")).await;
        let _first = (first, relay);
        let second = Some(second);
        Muted { second, proxy, alice, team, bob, carol, _first, _nats: nats, _dir: dir }
    }

    /// With the second controller's publishes swallowed: alice adds bob and says `text`.
    async fn add_bob_and_say_unheard(&self, text: &str) {
        self.proxy.swallow();
        self.alice.add_members(self.team, &["bob"]).await.unwrap();
        self.alice.send_text(self.team, text).await.unwrap();
    }

    /// Both get `text`; bob was told he joined before it.
    async fn both_get(&mut self, text: &str) {
        let (_, before) = live::message(&mut self.bob, text).await;
        let team = self.team;
        let joined = before.iter().any(|e| match live::kind(e) {
            Some(proto::event::Kind::MemberJoined(joined)) => {
                joined.conversation.as_ref().is_some_and(|c| c.id == team)
            }
            _ => false,
        });
        assert!(joined, "bob's stream was told he joined: {before:?}");
        live::message(&mut self.carol, text).await;
    }
}

/// What a controller committed but never published (its publish went nowhere, then it
/// crashed): a member added, and a message. Nothing else happens in the conversation, yet
/// the new member's open stream follows it and both members get the message, once the
/// first controller finds the second gone.
#[tokio::test]
async fn changes_whose_controller_died_before_publishing_them_still_reach_open_streams_shared_store()
 {
    let mut cluster = Muted::start().await;
    cluster.add_bob_and_say_unheard("said as bob joined").await;
    cluster.second.take().unwrap().crash();
    cluster.both_get("said as bob joined").await;
}

/// The same when the second controller lives on and only its link to NATS broke: once it
/// is back, it tells the first, which fills.
#[tokio::test]
async fn changes_published_into_a_broken_link_still_reach_open_streams_shared_store() {
    let mut cluster = Muted::start().await;
    cluster.add_bob_and_say_unheard("said into the void").await;
    cluster.proxy.cut();
    cluster.both_get("said into the void").await;
}
