//! `Admin.Stats` and `Admin.Connections` (`sbctl admin`): every node's figures and who is
//! connected where, for holders of chat.admin, never showing another org's users.

use serde_json::Value;
use switchboard_tests::{
    Code, NatsServer, Realtime, TestController, TestRelay, expect_code, live, proto, sbctl,
};

async fn live_on(relay: &TestRelay, token: String) -> Realtime {
    let mut stream = relay.realtime(token);
    live::live(&mut stream).await;
    stream
}

fn who(connections: &[proto::Connection]) -> Vec<(String, String, u32)> {
    connections.iter().map(|c| (c.user_id.clone(), c.relay.clone(), c.streams)).collect()
}

#[tokio::test]
async fn stats_and_connections_cover_every_relay_of_the_controller() {
    let server = TestController::start().await;
    let (one, two) = (TestRelay::start(&server).await, TestRelay::start(&server).await);
    let alice = one.client(server.token("alice", "acme")).await;
    let team = alice
        .create_team(proto::CreateTeamRequest {
            name: "Ops".into(),
            members: vec!["bob".into(), "carol".into()],
            ..Default::default()
        })
        .await
        .unwrap()
        .id;
    let _bob = live_on(&one, server.token("bob", "acme")).await;
    let _carol = live_on(&two, server.token("carol", "acme")).await;
    let _carol_again = live_on(&two, server.token("carol", "acme")).await;
    let _eve = live_on(&one, server.token("eve", "other-org")).await;
    for text in ["one", "two", "three"] {
        alice.send_text(team, text).await.unwrap();
    }

    let admin = one.client(server.admin_token("root", "acme")).await;
    let stats = admin.admin_stats().await.unwrap();
    assert_eq!(stats.controllers.len(), 1);
    let controller = &stats.controllers[0];
    assert_eq!(controller.address, server.url().trim_start_matches("http://"));
    assert_eq!(controller.messages_sent, 3);
    assert_eq!(controller.relay_streams, 2);
    assert!(controller.bus_connected);
    let clients: Vec<(String, u32)> =
        stats.relays.iter().map(|r| (r.address.clone(), r.client_streams)).collect();
    let mut expected = vec![(address(&one), 2), (address(&two), 2)];
    expected.sort();
    assert_eq!(clients, expected, "bob and eve on one, carol twice on two");
    assert!(stats.relays.iter().all(|r| r.controller == server.url()));

    let connections = admin.admin_connections("").await.unwrap();
    assert_eq!(
        who(&connections),
        [("bob".into(), address(&one), 1), ("carol".into(), address(&two), 2)],
        "acme's users only: eve is in another org"
    );
    let carol = admin.admin_connections("carol").await.unwrap();
    assert_eq!(who(&carol), [("carol".into(), address(&two), 2)]);

    let bob = one.client(server.token("bob", "acme")).await;
    expect_code(bob.admin_stats().await, Code::PermissionDenied);
    expect_code(bob.admin_connections("").await, Code::PermissionDenied);

    // The same through sbctl, as an operator would run it against a relay.
    let token = server.admin_token("root", "acme");
    let shown = sbctl(&one.url(), &token, &["--json", "admin", "stats"]).await.unwrap();
    let shown: Value = serde_json::from_str(&shown).unwrap();
    assert_eq!(shown["controllers"][0]["messages_sent"], 3);
    assert_eq!(shown["relays"].as_array().unwrap().len(), 2);
    let table = sbctl(&one.url(), &token, &["admin", "connections"]).await.unwrap();
    assert!(table.contains("carol") && table.contains(&address(&two)), "{table}");
    assert!(!table.contains("eve"), "{table}");
}

#[tokio::test]
async fn a_controller_reports_the_other_controllers_and_their_relays_over_nats() {
    let nats = NatsServer::start();
    let east = TestController::builder().nats(nats.url()).node_id(1).start().await;
    let west = TestController::builder().nats(nats.url()).node_id(2).start().await;
    let (east_relay, west_relay) = (TestRelay::start(&east).await, TestRelay::start(&west).await);
    let _bob = live_on(&west_relay, west.token("bob", "acme")).await;

    let admin = east_relay.client(east.admin_token("root", "acme")).await;
    let stats = admin.admin_stats().await.unwrap();
    let nodes: Vec<u32> = stats.controllers.iter().map(|c| c.node_id).collect();
    assert_eq!(nodes, [1, 2]);
    let mut relays: Vec<String> = stats.relays.iter().map(|r| r.address.clone()).collect();
    relays.sort();
    let mut expected = vec![address(&east_relay), address(&west_relay)];
    expected.sort();
    assert_eq!(relays, expected);

    let connections = admin.admin_connections("").await.unwrap();
    assert_eq!(who(&connections), [("bob".into(), address(&west_relay), 1)]);
}

fn address(relay: &TestRelay) -> String {
    relay.url().trim_start_matches("http://").to_string()
}
