//! Reactions: one per (user, emoji, message), counted on the message with "did I react";
//! private messages' only at their parties; a storm on one message coalesced into a few
//! changes per member; resumes bring the reactions made while away.

use std::time::Instant;

use switchboard_tests::{
    Client, Code, Realtime, RealtimeEvent, RealtimeOptions, TestController, TestRelay, expect_code,
    live, proto, sbctl,
};

/// The message of a `message_edited` event about `id`.
fn changed(event: &RealtimeEvent, id: u64) -> Option<proto::Message> {
    match live::kind(event) {
        Some(proto::event::Kind::MessageEdited(e)) => e.message.clone().filter(|m| m.id == id),
        _ => None,
    }
}

fn counts(message: &proto::Message) -> Vec<(String, u32, bool)> {
    message.reactions.iter().map(|r| (r.emoji.clone(), r.count, r.mine)).collect()
}

#[tokio::test]
async fn reactions_are_counted_once_per_user_and_emoji_with_did_i_react() {
    let server = TestController::start().await;
    let (alice, team) = server.team_of("alice", &["bob", "carol"]).await;
    let bob = server.client("bob", "acme").await;
    let carol = server.client("carol", "acme").await;
    let sent = alice.send_text(team, "ship it?").await.unwrap();

    let after_bob = bob.react(team, sent.id, "👍", true).await.unwrap();
    assert_eq!(counts(&after_bob), [("👍".into(), 1, true)]);
    assert_eq!(bob.react(team, sent.id, "👍", true).await.unwrap().reactions[0].count, 1, "once");
    carol.react(team, sent.id, "👍", true).await.unwrap();
    let party = carol.react(team, sent.id, ":tada:", true).await.unwrap();
    assert_eq!(counts(&party), [("👍".into(), 2, true), (":tada:".into(), 1, true)]);
    assert_eq!(party.reactions[0].first_users, ["bob", "carol"]);

    // History tells each reader what they reacted with.
    let page = |client: &Client| {
        let client = client.clone();
        async move {
            let request =
                proto::ListHistoryRequest { channel_id: team, limit: 10, ..Default::default() };
            client.history(request).await.unwrap().messages.remove(0)
        }
    };
    assert_eq!(counts(&page(&bob).await), [("👍".into(), 2, true), (":tada:".into(), 1, false)]);
    assert_eq!(counts(&page(&alice).await), [("👍".into(), 2, false), (":tada:".into(), 1, false)]);
    let reactors = alice.list_reactions(team, sent.id, "👍", "", 1).await.unwrap();
    assert_eq!(
        (reactors.user_ids.clone(), reactors.next_after.as_str()),
        (vec!["bob".to_string()], "bob")
    );
    let rest = alice.list_reactions(team, sent.id, "👍", "bob", 1).await.unwrap();
    assert_eq!((rest.user_ids, rest.next_after), (vec!["carol".to_string()], String::new()));

    // Taking one back; the last one of an emoji takes the emoji away.
    let back = carol.react(team, sent.id, ":tada:", false).await.unwrap();
    assert_eq!(counts(&back), [("👍".into(), 2, true)]);

    // Bad input and the wrong people.
    for bad in ["", "like", ":Big:", "👍 👍"] {
        expect_code(bob.react(team, sent.id, bad, true).await, Code::InvalidArgument);
    }
    let private = alice.send_private(team, "bob", "psst").await.unwrap();
    bob.react(team, private.id, "👀", true).await.unwrap();
    expect_code(carol.react(team, private.id, "👀", true).await, Code::NotFound);
    expect_code(carol.list_reactions(team, private.id, "👀", "", 0).await, Code::NotFound);
    let outsider = server.client("dave", "acme").await;
    expect_code(outsider.react(team, sent.id, "👍", true).await, Code::PermissionDenied);
    let globex = server.client("alice", "globex").await;
    expect_code(globex.react(team, sent.id, "👍", true).await, Code::NotFound);
    alice.delete_message(team, sent.id).await.unwrap();
    expect_code(bob.react(team, sent.id, "😢", true).await, Code::FailedPrecondition);
    assert!(page(&bob).await.reactions.is_empty() || page(&bob).await.id != sent.id);

    // sbctl.
    let shown = sbctl(
        &server.url(),
        &server.token("bob", "acme"),
        &["--json", "react", &team.to_string(), &private.id.to_string(), "🚀"],
    )
    .await
    .unwrap();
    let shown: serde_json::Value = serde_json::from_str(&shown).unwrap();
    assert_eq!(shown[0]["reactions"][1]["emoji"], "🚀", "{shown}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_reaction_storm_on_one_message_reaches_each_member_as_a_few_changes() {
    let server = TestController::start().await;
    let relay = TestRelay::start(&server).await;
    let alice = relay.client(server.token("alice", "acme")).await;
    let members: Vec<String> = (0..999).map(|i| format!("m{i:03}")).collect();
    let request = proto::CreateTeamRequest { name: "All hands".into(), ..Default::default() };
    let team = alice.create_team(request).await.unwrap().id;
    for chunk in members.chunks(500) {
        let users: Vec<&str> = chunk.iter().map(String::as_str).collect();
        alice.add_members(team, &users).await.unwrap();
    }
    // Three members follow live.
    let mut followers = Vec::new();
    for user in ["m000", "m001", "m002"] {
        let mut follower = relay.realtime(server.token(user, "acme"));
        live::live(&mut follower).await;
        followers.push(follower);
    }
    let sent = alice.send_text(team, "we shipped").await.unwrap();
    for follower in &mut followers {
        live::position_of(follower, "we shipped").await;
    }

    // 300 members click at once.
    let started = Instant::now();
    let mut clicks = Vec::new();
    for user in members.iter().take(300) {
        let client = relay.client(server.token(user, "acme")).await;
        clicks.push(tokio::spawn(async move { client.react(team, sent.id, "🎉", true).await }));
    }
    for click in clicks {
        click.await.unwrap().unwrap();
    }
    let took = started.elapsed();

    // Each follower sees the count climb to 300 in a few changes, not 300.
    let ticks = (took.as_millis() / 200) as usize + 2;
    for follower in &mut followers {
        let mut seen = 0;
        let (last, _) = live::until(follower, "the last count", |event| {
            let message = changed(event, sent.id)?;
            seen += 1;
            (message.reactions[0].count == 300).then_some(message)
        })
        .await;
        assert_eq!(last.reactions[0].first_users.len(), 3);
        assert!(seen <= ticks, "{seen} changes for 300 clicks in {took:?} (at most {ticks})");
        assert!(seen < 300 / 4, "{seen} changes for 300 clicks: not coalesced");
    }
}

#[tokio::test]
async fn reactions_made_while_away_arrive_on_resume() {
    let server = TestController::start().await;
    let relay = TestRelay::start(&server).await;
    let alice = relay.client(server.token("alice", "acme")).await;
    let (_, team) = server.team_of("alice", &["bob", "carol"]).await;
    let mut bob = relay.realtime(server.token("bob", "acme"));
    live::live(&mut bob).await;
    let sent = alice.send_text(team, "lunch?").await.unwrap();
    live::position_of(&mut bob, "lunch?").await;
    let positions = bob.positions();
    drop(bob);

    let carol = relay.client(server.token("carol", "acme")).await;
    carol.react(team, sent.id, "🍕", true).await.unwrap();
    alice.react(team, sent.id, "🍕", true).await.unwrap();
    let mut options = RealtimeOptions::new(relay.url(), server.token("bob", "acme"));
    options.positions = positions;
    let mut back = Realtime::connect(options);
    let (_, replayed) = live::next_live(&mut back).await;
    let last = replayed.iter().filter_map(|event| changed(event, sent.id)).next_back();
    let last = last.expect("the reactions were replayed");
    assert_eq!(counts(&last), [("🍕".into(), 2, false)]);
    assert_eq!(last.reactions[0].first_users, ["carol", "alice"]);
}
