//! Live chat through a relay: who receives what, typing, read receipts,
//! subscriptions that follow membership, and the relay's upstream subscriptions.

use switchboard_sdk::proto::event::Kind;
use switchboard_tests::live::{self, kind, texts};
use switchboard_tests::{
    Client, Code, Realtime, RealtimeEvent, RealtimeOptions, TestController, TestRelay, proto,
};

struct Chat {
    server: TestController,
    relay: TestRelay,
}

impl Chat {
    async fn start() -> Chat {
        let server =
            TestController::builder().configure(|c| c.realtime.typing_ttl_ms = 300).start().await;
        let relay = TestRelay::start(&server).await;
        Chat { server, relay }
    }

    async fn client(&self, user: &str) -> Client {
        self.relay.client(self.server.token(user, "acme")).await
    }

    async fn live(&self, user: &str) -> switchboard_tests::Realtime {
        let mut realtime = self.relay.realtime(self.server.token(user, "acme"));
        live::live(&mut realtime).await;
        realtime
    }

    async fn team(&self, owner: &Client, members: &[&str]) -> u64 {
        let request = proto::CreateTeamRequest {
            name: "Live".into(),
            members: members.iter().map(|m| m.to_string()).collect(),
            ..Default::default()
        };
        owner.create_team(request).await.unwrap().id
    }
}

fn text(channel: u64, data: &str) -> proto::SendMessageRequest {
    proto::SendMessageRequest { channel_id: channel, data: data.into(), ..Default::default() }
}

#[tokio::test]
async fn two_members_chat_live_and_a_non_member_receives_nothing() {
    let chat = Chat::start().await;
    let alice = chat.client("alice").await;
    let team = chat.team(&alice, &["bob"]).await;
    let notes_of_carol = chat.client("carol").await.open_self().await.unwrap().id;

    let mut a = chat.live("alice").await;
    let mut b = chat.live("bob").await;
    let mut c = chat.live("carol").await;

    let ack = a.send(text(team, "hi bob")).await.unwrap();
    let (seen, _) = live::message(&mut b, "hi bob").await;
    assert_eq!(
        Some(seen.clone()),
        ack.message,
        "bob gets the stored message, server fields included"
    );
    assert_eq!(seen.from, "alice");
    b.send(text(team, "hi alice")).await.unwrap();
    live::message(&mut a, "hi alice").await;

    // carol hears only her own marker: nothing of the team arrived before it
    c.send(text(notes_of_carol, "marker")).await.unwrap();
    let (_, before) = live::message(&mut c, "marker").await;
    assert!(texts(&before).is_empty(), "carol saw {before:?}");
}

/// A client reconnecting with a conversation it was removed from keeps its stream: the
/// relay starts without that one and says why.
#[tokio::test]
async fn a_hello_naming_a_conversation_the_user_cannot_follow_starts_without_it() {
    let chat = Chat::start().await;
    let alice = chat.client("alice").await;
    let shared = chat.team(&alice, &["bob"]).await;
    let private = chat.team(&alice, &[]).await;
    let mut options = RealtimeOptions::new(chat.relay.url(), chat.server.token("bob", "acme"));
    options.only = vec![shared, private];
    let mut bob = Realtime::connect(options);

    let welcome = live::welcome(&mut bob).await;
    assert_eq!(welcome.channel_ids, [shared]);
    let (refused, _) = live::until(&mut bob, "the refusal", |e| match e {
        RealtimeEvent::Error(error) => Some(error.clone()),
        _ => None,
    })
    .await;
    assert_eq!(refused.code, Code::PermissionDenied as i32);
    assert!(refused.message.contains(&format!("conversation {private}")), "{refused:?}");
    live::live(&mut bob).await;
    alice.send_text(shared, "still here").await.unwrap();
    live::message(&mut bob, "still here").await;
}

#[tokio::test]
async fn a_private_message_reaches_only_its_two_parties() {
    let chat = Chat::start().await;
    let alice = chat.client("alice").await;
    let team = chat.team(&alice, &["bob", "dave"]).await;
    let mut a = chat.live("alice").await;
    let mut b = chat.live("bob").await;
    let mut d = chat.live("dave").await;

    let private = proto::SendMessageRequest { to: "bob".into(), ..text(team, "psst") };
    a.send(private).await.unwrap();
    a.send(text(team, "everyone")).await.unwrap();

    let (_, before) = live::message(&mut b, "everyone").await;
    assert_eq!(texts(&before), ["psst"]);
    let (_, before) = live::message(&mut d, "everyone").await;
    assert!(texts(&before).is_empty(), "dave saw {:?}", texts(&before));
    let (_, before) = live::message(&mut a, "everyone").await;
    assert_eq!(texts(&before), ["psst"], "the sender sees her own private message");
}

#[tokio::test]
async fn typing_is_relayed_and_expires_without_a_refresh() {
    let chat = Chat::start().await;
    let alice = chat.client("alice").await;
    let team = chat.team(&alice, &["bob"]).await;
    let a = chat.live("alice").await;
    let mut b = chat.live("bob").await;

    // The controller's clock stands still until the test moves it.
    let clock = &chat.server.clock;
    clock.set(switchboard_server::ids::Clock::now_ms(&switchboard_server::ids::SystemClock));
    a.typing(team, true).await.unwrap();
    let typing = |want: bool| {
        move |e: &RealtimeEvent| match kind(e) {
            Some(Kind::Typing(t)) if t.user_id == "alice" && t.typing == want => Some(t.clone()),
            _ => None,
        }
    };
    let (started, _) = live::until(&mut b, "alice typing", typing(true)).await;
    assert_eq!(started.expires_in_ms, 300);
    // alice never says she stopped: the indicator lapses on its own, once its time is up
    clock.advance(299);
    a.typing(team, true).await.unwrap();
    live::until(&mut b, "alice still typing", typing(true)).await;
    clock.advance(300);
    live::until(&mut b, "alice's typing to lapse", typing(false)).await;

    a.typing(team, true).await.unwrap();
    live::until(&mut b, "alice typing again", typing(true)).await;
    a.typing(team, false).await.unwrap();
    live::until(&mut b, "alice stopped", typing(false)).await;
}

#[tokio::test]
async fn read_receipts_are_stored_and_broadcast() {
    let chat = Chat::start().await;
    let alice = chat.client("alice").await;
    let team = chat.team(&alice, &["bob"]).await;
    let mut a = chat.live("alice").await;
    let b = chat.live("bob").await;
    let first = alice.send_text(team, "one").await.unwrap();
    let second = alice.send_text(team, "two").await.unwrap();

    b.mark_read(team, second.id).await.unwrap();
    let (receipt, _) = live::until(&mut a, "bob's receipt", receipt_of("bob")).await;
    assert_eq!(receipt.message_id, second.id);

    let bob = chat.client("bob").await;
    assert_eq!(bob.mark_read(team, first.id).await.unwrap(), second.id, "markers never move back");
    let markers = alice.read_markers(team).await.unwrap();
    let marker = |user: &str| proto::ReadMarker { user_id: user.into(), message_id: second.id };
    assert_eq!(markers, vec![marker("alice"), marker("bob")], "sending marks read");
}

#[tokio::test]
async fn a_receipt_on_a_private_message_reaches_only_its_parties() {
    let chat = Chat::start().await;
    let alice = chat.client("alice").await;
    let team = chat.team(&alice, &["bob", "carol"]).await;
    let mut a = chat.live("alice").await;
    let b = chat.live("bob").await;
    let mut c = chat.live("carol").await;
    let public = alice.send_text(team, "for everyone").await.unwrap();
    let private = alice
        .send(proto::SendMessageRequest { to: "bob".into(), ..text(team, "for bob only") })
        .await
        .unwrap()
        .message
        .unwrap();

    b.mark_read(team, private.id).await.unwrap();
    let receipts = |events: &[RealtimeEvent]| -> Vec<u64> {
        events.iter().filter_map(|e| receipt_of("bob")(e).map(|r| r.message_id)).collect()
    };
    // Alice, a party to it, hears of the exact message last.
    let (exact, before) = live::until(&mut a, "bob's exact receipt", |e| match kind(e) {
        Some(Kind::ReadReceipt(r)) if r.message_id == private.id => Some(r.message_id),
        _ => None,
    })
    .await;
    assert_eq!(exact, private.id);
    assert_eq!(receipts(&before), vec![public.id]);
    // Carol hears only of the message before it that she sees, proved by a later marker.
    alice.send_text(team, "marker").await.unwrap();
    let (_, before) = live::message(&mut c, "marker").await;
    assert_eq!(receipts(&before), vec![public.id]);

    let bob_for = |markers: Vec<proto::ReadMarker>| {
        markers.into_iter().find(|m| m.user_id == "bob").map(|m| m.message_id)
    };
    let carol = chat.client("carol").await;
    assert_eq!(bob_for(carol.read_markers(team).await.unwrap()), Some(public.id));
    assert_eq!(bob_for(alice.read_markers(team).await.unwrap()), Some(private.id));
}

#[tokio::test]
async fn reading_on_one_device_tells_the_users_other_devices() {
    let chat = Chat::start().await;
    let alice = chat.client("alice").await;
    let team = chat.team(&alice, &["bob"]).await;
    let other = chat.team(&alice, &["bob"]).await;
    let phone = chat.live("bob").await;
    let mut desktop = chat.live("bob").await;
    let only = |channel: u64| {
        let mut options = RealtimeOptions::new(chat.relay.url(), chat.server.token("bob", "acme"));
        options.only = vec![channel];
        Realtime::connect(options)
    };
    let (mut tablet, mut watch) = (only(team), only(other));
    live::live(&mut tablet).await;
    live::live(&mut watch).await;
    let first = alice.send_text(team, "read me").await.unwrap();
    alice.send_text(team, "and me").await.unwrap();
    live::message(&mut desktop, "and me").await;

    phone.mark_read(team, first.id).await.unwrap();
    let (receipt, _) = live::until(&mut desktop, "bob's own receipt", receipt_of("bob")).await;
    assert_eq!(receipt.message_id, first.id);
    for (device, stream) in [("desktop", &mut desktop), ("tablet", &mut tablet)] {
        let (event, unread) = live::until(stream, "bob's unread state", |e| match e {
            RealtimeEvent::Event(event) => match &event.kind {
                Some(Kind::UnreadChanged(unread)) => Some((event.conversation_id, *unread)),
                _ => None,
            },
            _ => None,
        })
        .await
        .0;
        assert_eq!(event, team, "{device}");
        let expected =
            proto::UnreadChanged { read_up_to: first.id, unread_count: 1, mention_count: 0 };
        assert_eq!(unread, expected, "{device}: one message left to read");
    }
    // The watch follows only the other team: it hears nothing of this one.
    alice.send_text(other, "marker").await.unwrap();
    let (_, before) = live::message(&mut watch, "marker").await;
    let unread_events = before.iter().filter(|e| matches!(kind(e), Some(Kind::UnreadChanged(_))));
    assert_eq!(unread_events.count(), 0, "{before:?}");
}

/// Picks `user`'s read receipts.
fn receipt_of(user: &'static str) -> impl FnMut(&RealtimeEvent) -> Option<proto::ReadReceipt> {
    move |e| match kind(e) {
        Some(Kind::ReadReceipt(r)) if r.user_id == user => Some(r.clone()),
        _ => None,
    }
}

#[tokio::test]
async fn subscriptions_follow_membership_while_connected() {
    let chat = Chat::start().await;
    let alice = chat.client("alice").await;
    let team = chat.team(&alice, &[]).await;
    let carols_notes = chat.client("carol").await.open_self().await.unwrap().id;
    let mut c = chat.live("carol").await;

    alice.add_members(team, &["carol"]).await.unwrap();
    live::until(&mut c, "carol's join", |e| match kind(e) {
        Some(Kind::MemberJoined(j)) if j.member.as_ref().unwrap().user_id == "carol" => Some(()),
        _ => None,
    })
    .await;
    alice.send_text(team, "welcome carol").await.unwrap();
    live::message(&mut c, "welcome carol").await;

    alice.remove_member(team, "carol").await.unwrap();
    live::until(&mut c, "carol's removal", |e| match kind(e) {
        Some(Kind::MemberLeft(l)) if l.user_id == "carol" => Some(()),
        _ => None,
    })
    .await;
    alice.send_text(team, "after carol left").await.unwrap();
    c.send(text(carols_notes, "marker")).await.unwrap();
    let (_, before) = live::message(&mut c, "marker").await;
    assert!(texts(&before).is_empty(), "carol still hears the team: {:?}", texts(&before));
}

#[tokio::test]
async fn the_relay_holds_upstream_subscriptions_exactly_for_channels_in_use() {
    let chat = Chat::start().await;
    let alice = chat.client("alice").await;
    let first = chat.team(&alice, &["bob"]).await;
    let second = chat.team(&alice, &["bob"]).await;
    let unused = chat.team(&alice, &[]).await;
    let admin = chat.relay.client(chat.server.admin_token("ops", "acme")).await;
    let channels =
        |want: Vec<u64>| move |s: &proto::RelayStatusResponse| s.upstream_channels == want;
    let sorted = |mut ids: Vec<u64>| {
        ids.sort_unstable();
        ids
    };

    let status = chat.relay.wait_status(&admin, channels(vec![])).await;
    assert_eq!(status.sessions, 0);

    let mut only_first = switchboard_tests::RealtimeOptions::new(
        chat.relay.url(),
        chat.server.token("alice", "acme"),
    );
    only_first.only = vec![first];
    let mut a = switchboard_tests::Realtime::connect(only_first);
    live::live(&mut a).await;
    chat.relay.wait_status(&admin, channels(vec![first])).await;

    let b = chat.live("bob").await;
    let status = chat.relay.wait_status(&admin, channels(sorted(vec![first, second]))).await;
    assert!(!status.upstream_channels.contains(&unused), "no subscriber, no subscription");
    assert_eq!(status.sessions, 2);

    drop(b);
    chat.relay.wait_status(&admin, channels(vec![first])).await;
    drop(a);
    let status =
        chat.relay.wait_status(&admin, |s| s.sessions == 0 && s.upstream_channels.is_empty()).await;
    assert_eq!(status.upstream_users, 0);
}

#[tokio::test]
async fn the_relay_forwards_the_chat_api_with_the_callers_token() {
    let chat = Chat::start().await;
    let alice = chat.client("alice").await;
    let team = chat.team(&alice, &["bob"]).await;
    let bob = chat.client("bob").await;
    bob.send_text(team, "via the relay").await.unwrap();
    let history = alice
        .history(proto::ListHistoryRequest { channel_id: team, ..Default::default() })
        .await
        .unwrap();
    assert_eq!(history.messages[0].data, "via the relay");
    let stranger = chat.client("eve").await;
    let denied = stranger.send_text(team, "let me in").await.unwrap_err();
    assert_eq!(denied.code(), switchboard_tests::Code::PermissionDenied);
    let anonymous = chat.relay.client(String::new()).await;
    assert_eq!(
        anonymous.open_self().await.unwrap_err().code(),
        switchboard_tests::Code::Unauthenticated
    );
}

#[tokio::test]
async fn a_subscribe_frame_ends_with_live_naming_what_it_added() {
    let chat = Chat::start().await;
    let alice = chat.client("alice").await;
    let first = chat.team(&alice, &[]).await;
    let second = chat.team(&alice, &[]).await;
    let carols = chat.team(&chat.client("carol").await, &[]).await;
    alice.send_text(second, "said before").await.unwrap();
    let mut options = RealtimeOptions::new(chat.relay.url(), chat.server.token("alice", "acme"));
    options.only = vec![first];
    let mut live = Realtime::connect(options);
    live::live(&mut live).await;

    live.subscribe(&[second, carols]).await.unwrap();
    let (done, before) = live::next_live(&mut live).await;
    assert_eq!(done.channel_ids, vec![second]);
    let refused = live::error_codes(&before);
    assert_eq!(refused, vec![Code::PermissionDenied as i32], "{before:?}");
}
