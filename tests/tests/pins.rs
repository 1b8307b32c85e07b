//! Pins: who may pin, the bound per conversation, the listing, and pins reaching members
//! live and on resume as changes of the message.

use switchboard_tests::{
    Client, Code, Realtime, RealtimeOptions, TestController, TestRelay, expect_code, live, proto,
    sbctl,
};

/// A team of alice's with bob and carol.
async fn team(alice: &Client) -> u64 {
    let request = proto::CreateTeamRequest {
        name: "Pins".into(),
        members: vec!["bob".into(), "carol".into()],
        ..Default::default()
    };
    alice.create_team(request).await.unwrap().id
}

fn members_may_pin(id: u64, allowed: bool) -> proto::UpdateTeamRequest {
    proto::UpdateTeamRequest {
        conversation_id: id,
        members_may_pin: Some(allowed),
        ..Default::default()
    }
}

#[tokio::test]
async fn admins_pin_members_only_when_allowed_and_the_list_is_newest_first() {
    let server = TestController::start().await;
    let alice = server.client("alice", "acme").await;
    let bob = server.client("bob", "acme").await;
    let team = team(&alice).await;
    let first = bob.send_text(team, "the plan").await.unwrap();
    let second = alice.send_text(team, "the agenda").await.unwrap();

    let refused = expect_code(bob.pin_message(team, first.id, true).await, Code::PermissionDenied);
    assert!(refused.contains("pin"), "{refused}");
    let pinned = alice.pin_message(team, first.id, true).await.unwrap();
    assert_eq!(pinned.pinned_by, "alice");
    assert!(pinned.pinned_at_ms >= first.ts_ms);
    assert_eq!(alice.pin_message(team, first.id, true).await.unwrap(), pinned, "once");

    // Members may pin once the team lets them.
    let updated = alice.update_team(members_may_pin(team, true)).await.unwrap();
    assert!(updated.members_may_pin);
    bob.pin_message(team, second.id, true).await.unwrap();
    let carol = server.client("carol", "acme").await;
    let listed = carol.list_pins(team).await.unwrap();
    let ids: Vec<u64> = listed.iter().map(|m| m.id).collect();
    assert_eq!(ids, [second.id, first.id], "most recently pinned first");
    assert_eq!(listed[0].pinned_by, "bob");
    let history = carol
        .history(proto::ListHistoryRequest { channel_id: team, limit: 10, ..Default::default() })
        .await
        .unwrap();
    assert!(history.messages.iter().all(|m| !m.pinned_by.is_empty()), "history shows pins");
    let args = ["--json", "pins", &team.to_string()].map(String::from);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let shown = sbctl(&server.url(), &server.token("carol", "acme"), &args).await.unwrap();
    let shown: serde_json::Value = serde_json::from_str(&shown).unwrap();
    assert_eq!(shown[0]["pinned_by"], "bob", "{shown}");

    // Unpinning, and a delete, take messages off the list.
    let unpinned = carol.pin_message(team, first.id, false).await.unwrap();
    assert_eq!((unpinned.pinned_by.as_str(), unpinned.pinned_at_ms), ("", 0));
    alice.delete_message(team, second.id).await.unwrap();
    assert!(carol.list_pins(team).await.unwrap().is_empty());
    expect_code(alice.pin_message(team, second.id, true).await, Code::FailedPrecondition);

    // Pinning someone else's message is audited.
    let admin = server.client_with_token(server.admin_token("root", "acme")).await;
    let log = admin.list_audit(proto::ListAuditRequest::default()).await.unwrap();
    let actions: Vec<(&str, &str)> =
        log.entries.iter().map(|e| (e.action.as_str(), e.actor.as_str())).collect();
    assert!(actions.contains(&("message.pinned", "alice")), "{actions:?}");
    assert!(actions.contains(&("message.unpinned", "carol")), "{actions:?}");
    assert!(actions.contains(&("message.pinned", "bob")), "{actions:?}");
    assert_eq!(actions.iter().filter(|(action, _)| action.starts_with("message.")).count(), 3);

    // Others cannot see or touch them.
    let outsider = server.client("dave", "acme").await;
    expect_code(outsider.list_pins(team).await, Code::PermissionDenied);
    expect_code(outsider.pin_message(team, first.id, true).await, Code::PermissionDenied);
    let globex = server.client("alice", "globex").await;
    expect_code(globex.list_pins(team).await, Code::NotFound);
}

#[tokio::test]
async fn pins_are_bounded_and_private_messages_are_not_pinned() {
    let server = TestController::start().await;
    let alice = server.client("alice", "acme").await;
    let team = team(&alice).await;
    for i in 0..100 {
        let sent = alice.send_text(team, &format!("note {i}")).await.unwrap();
        alice.pin_message(team, sent.id, true).await.unwrap();
    }
    let one_more = alice.send_text(team, "one more").await.unwrap();
    let full =
        expect_code(alice.pin_message(team, one_more.id, true).await, Code::FailedPrecondition);
    assert!(full.contains("100"), "{full}");
    assert_eq!(alice.list_pins(team).await.unwrap().len(), 100);

    let private = alice.send_private(team, "bob", "psst").await.unwrap();
    expect_code(alice.pin_message(team, private.id, true).await, Code::FailedPrecondition);

    // In a direct conversation either party pins.
    let bob = server.client("bob", "acme").await;
    let dm = bob.open_direct("alice").await.unwrap();
    let said = alice.send_text(dm.id, "address: 1 Main St").await.unwrap();
    assert_eq!(bob.pin_message(dm.id, said.id, true).await.unwrap().pinned_by, "bob");
}

#[tokio::test]
async fn pins_reach_members_live_and_when_they_come_back() {
    let server = TestController::start().await;
    let relay = TestRelay::start(&server).await;
    let alice = relay.client(server.token("alice", "acme")).await;
    let team = team(&alice).await;
    let mut bob = relay.realtime(server.token("bob", "acme"));
    live::live(&mut bob).await;
    let first = alice.send_text(team, "first").await.unwrap();
    let second = alice.send_text(team, "second").await.unwrap();
    live::position_of(&mut bob, "second").await;

    // Live: the message as it is now.
    alice.pin_message(team, first.id, true).await.unwrap();
    let (changed, _) = live::until(&mut bob, "the pin", |event| match live::kind(event) {
        Some(proto::event::Kind::MessageEdited(e)) => e.message.clone(),
        _ => None,
    })
    .await;
    assert_eq!((changed.id, changed.pinned_by.as_str()), (first.id, "alice"));
    assert_eq!(changed.edited_at_ms, 0, "a pin is not an edit of the text");

    // Away: a pin and an unpin, delivered on resume in log order.
    let positions = bob.positions();
    drop(bob);
    alice.pin_message(team, second.id, true).await.unwrap();
    alice.pin_message(team, first.id, false).await.unwrap();
    let mut options = RealtimeOptions::new(relay.url(), server.token("bob", "acme"));
    options.positions = positions;
    let mut back = Realtime::connect(options);
    let (_, replayed) = live::next_live(&mut back).await;
    let pins: Vec<(u64, String)> = replayed
        .iter()
        .filter_map(|event| match live::kind(event) {
            Some(proto::event::Kind::MessageEdited(e)) => e.message.clone(),
            _ => None,
        })
        .map(|m| (m.id, m.pinned_by))
        .collect();
    assert_eq!(pins, [(second.id, "alice".to_string()), (first.id, String::new())]);
}
