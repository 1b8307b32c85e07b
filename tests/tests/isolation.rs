//! Orgs never see each other; DIRECT and SELF conversations stay private.

use switchboard_tests::{Code, TestController, expect_code, outcome, proto};

#[tokio::test]
async fn nothing_crosses_orgs() {
    let server = TestController::start().await;
    let alice = server.client("alice", "acme").await;
    let team = alice
        .create_team(proto::CreateTeamRequest { name: "Acme".into(), ..Default::default() })
        .await
        .unwrap();
    let message = alice.send_text(team.id, "acme secret").await.unwrap();

    // The same user id in another org is another person.
    let alice_elsewhere = server.client("alice", "globex").await;
    expect_code(alice_elsewhere.get_conversation(team.id).await, Code::NotFound);
    expect_code(alice_elsewhere.send_text(team.id, "hi").await, Code::NotFound);
    expect_code(
        alice_elsewhere
            .history(proto::ListHistoryRequest { channel_id: team.id, ..Default::default() })
            .await,
        Code::NotFound,
    );
    expect_code(alice_elsewhere.delete_message(team.id, message.id).await, Code::NotFound);
    expect_code(alice_elsewhere.add_members(team.id, &["mallory"]).await, Code::NotFound);
    assert!(alice_elsewhere.all_conversations().await.unwrap().is_empty());

    // A not-found across orgs reads exactly like an unknown id.
    let unknown = expect_code(alice_elsewhere.get_conversation(team.id + 1).await, Code::NotFound);
    let foreign = expect_code(alice_elsewhere.get_conversation(team.id).await, Code::NotFound);
    assert_eq!(
        unknown.replace(&(team.id + 1).to_string(), "ID"),
        foreign.replace(&team.id.to_string(), "ID")
    );

    // Adding "bob" in acme never gives globex's bob anything.
    alice.add_members(team.id, &["bob"]).await.unwrap();
    let bob_elsewhere = server.client("bob", "globex").await;
    assert!(bob_elsewhere.all_conversations().await.unwrap().is_empty());
}

#[tokio::test]
async fn direct_conversations_are_one_per_pair_and_private() {
    let server = TestController::start().await;
    let alice = server.client("alice", "acme").await;
    let bob = server.client("bob", "acme").await;
    let first = alice.open_direct("bob").await.unwrap();
    let again = alice.open_direct("bob").await.unwrap();
    let from_bob = bob.open_direct("alice").await.unwrap();
    assert_eq!(first.id, again.id);
    assert_eq!(first.id, from_bob.id);
    assert_eq!(first.kind, proto::ConversationKind::Direct as i32);
    assert_eq!(first.member_count, 2);

    // Concurrent opens still make exactly one.
    let carol = server.client("carol", "acme").await;
    let dave = server.client("dave", "acme").await;
    let opens = futures_join((0..8).map(|i| {
        let (client, peer) =
            if i % 2 == 0 { (carol.clone(), "dave") } else { (dave.clone(), "carol") };
        tokio::spawn(async move { client.open_direct(peer).await.unwrap().id })
    }))
    .await;
    assert!(opens.windows(2).all(|w| w[0] == w[1]), "all opens agree: {opens:?}");

    bob.send_text(first.id, "just us").await.unwrap();
    let eve = server.client("eve", "acme").await;
    expect_code(eve.get_conversation(first.id).await, Code::PermissionDenied);
    expect_code(
        eve.history(proto::ListHistoryRequest { channel_id: first.id, ..Default::default() }).await,
        Code::PermissionDenied,
    );
    expect_code(eve.send_text(first.id, "let me in").await, Code::PermissionDenied);
    // a DM has no roles to manage and cannot be left
    expect_code(alice.add_members(first.id, &["eve"]).await, Code::FailedPrecondition);
    expect_code(alice.leave(first.id).await, Code::FailedPrecondition);
    // a DM with yourself is what SELF is for
    expect_code(alice.open_direct("alice").await, Code::InvalidArgument);
    // the same pair in another org is a different conversation
    let other_org = server.client("alice", "globex").await.open_direct("bob").await.unwrap();
    assert_ne!(other_org.id, first.id);
}

#[tokio::test]
async fn self_conversations_belong_to_one_user() {
    let server = TestController::start().await;
    let alice = server.client("alice", "acme").await;
    let notes = alice.open_self().await.unwrap();
    assert_eq!(alice.open_self().await.unwrap().id, notes.id);
    assert_eq!(notes.kind, proto::ConversationKind::Self_ as i32);
    assert_eq!(notes.member_count, 1);
    alice.send_text(notes.id, "buy milk").await.unwrap();
    let bob = server.client("bob", "acme").await;
    assert_ne!(bob.open_self().await.unwrap().id, notes.id);
    assert_eq!(outcome(bob.get_conversation(notes.id).await), Code::PermissionDenied);
    assert_eq!(outcome(bob.send_text(notes.id, "hi").await), Code::PermissionDenied);
    assert_eq!(outcome(alice.add_members(notes.id, &["bob"]).await), Code::FailedPrecondition);
    let kinds: Vec<i32> = alice.all_conversations().await.unwrap().iter().map(|c| c.kind).collect();
    assert_eq!(kinds, vec![proto::ConversationKind::Self_ as i32]);
}

async fn futures_join<T: Send + 'static>(
    handles: impl Iterator<Item = tokio::task::JoinHandle<T>>,
) -> Vec<T> {
    let mut out = Vec::new();
    for handle in handles.collect::<Vec<_>>() {
        out.push(handle.await.unwrap());
    }
    out
}
