//! Presence through a relay, as a client sees it: a stream shows the presence of the users
//! it watches (`watch_presence`), starting with their state and then each change, and hears
//! nothing of anyone else; online and offline with a debounce; what `GetPresence` answers.

use switchboard_tests::live::{self, kind, presence_is, presence_of};
use switchboard_tests::{
    Client, Code, Realtime, RealtimeEvent, RealtimeOptions, TestController, TestRelay, proto,
};

struct Chat {
    server: TestController,
    relay: TestRelay,
}

impl Chat {
    async fn start() -> Chat {
        let server = TestController::start().await;
        let relay = TestRelay::start(&server).await;
        Chat { server, relay }
    }

    async fn client(&self, user: &str, org: &str) -> Client {
        self.relay.client(self.server.token(user, org)).await
    }

    /// A live stream of `user` in acme that watches `watched`.
    async fn watching(&self, user: &str, watched: &[&str]) -> Realtime {
        self.watching_in("acme", user, watched).await
    }

    async fn watching_in(&self, org: &str, user: &str, watched: &[&str]) -> Realtime {
        let mut options = RealtimeOptions::new(self.relay.url(), self.server.token(user, org));
        options.watch_presence = watched.iter().map(|u| u.to_string()).collect();
        let mut realtime = Realtime::connect(options);
        live::live(&mut realtime).await;
        realtime
    }

    async fn team(&self, owner: &Client, members: &[&str]) -> u64 {
        let request = proto::CreateTeamRequest {
            name: "Presence".into(),
            members: members.iter().map(|m| m.to_string()).collect(),
            ..Default::default()
        };
        owner.create_team(request).await.unwrap().id
    }
}

/// The presence events among `events`, as (user, online) pairs.
fn presence_changes(events: &[RealtimeEvent]) -> Vec<(String, bool)> {
    let changes = events.iter().filter_map(|e| match kind(e) {
        Some(proto::event::Kind::PresenceChanged(changed)) => Some(changed.users.clone()),
        _ => None,
    });
    changes.flatten().map(|u| (u.user_id, u.online)).collect()
}

fn error_of(event: &RealtimeEvent) -> Option<proto::ErrorFrame> {
    match event {
        RealtimeEvent::Error(error) => Some(error.clone()),
        _ => None,
    }
}

#[tokio::test]
async fn presence_goes_online_and_offline_with_a_debounce() {
    let chat = Chat::start().await;
    let alice = chat.client("alice", "acme").await;
    let team = chat.team(&alice, &["bob"]).await;
    let mut b = chat.watching("bob", &["alice"]).await;
    live::until(&mut b, "alice's state when bob starts watching", presence_is("alice", false))
        .await;

    let a = chat.relay.realtime(chat.server.token("alice", "acme"));
    live::until(&mut b, "alice online", presence_is("alice", true)).await;
    let online = |p: &[proto::UserPresence]| p.iter().map(|u| u.online).collect::<Vec<_>>();
    let asked = alice.presence(&["alice", "bob", "zed"]).await.unwrap();
    assert_eq!(online(&asked), [true, true, false]);

    // a quick reconnect (inside the 300 ms debounce) does not flap
    drop(a);
    let mut a = chat.relay.realtime(chat.server.token("alice", "acme"));
    live::live(&mut a).await;
    a.send(proto::SendMessageRequest {
        channel_id: team,
        data: "back".into(),
        ..Default::default()
    })
    .await
    .unwrap();
    let (_, before) = live::message(&mut b, "back").await;
    assert!(presence_changes(&before).is_empty(), "presence flapped: {before:?}");

    drop(a);
    live::until(&mut b, "alice offline", presence_is("alice", false)).await;
    assert_eq!(online(&alice.presence(&["alice"]).await.unwrap()), [false]);
}

/// Members of a team hear nothing of each other's presence unless they watch; a stream of
/// another org watching the same user id hears nothing of this org's user.
#[tokio::test]
async fn presence_reaches_only_the_streams_that_watch_the_user_in_their_org() {
    let chat = Chat::start().await;
    let alice = chat.client("alice", "acme").await;
    let team = chat.team(&alice, &["bob", "carol"]).await;
    let erin = chat.client("erin", "globex").await;
    let elsewhere = chat.team(&erin, &["dave"]).await;
    let mut bob = chat.watching("bob", &["alice"]).await;
    let mut carol = chat.watching("carol", &[]).await;
    let mut dave = chat.watching_in("globex", "dave", &["alice"]).await;
    live::until(&mut dave, "globex's alice, offline", presence_is("alice", false)).await;

    let _alice_live = chat.watching("alice", &[]).await;
    live::until(&mut bob, "alice online", presence_is("alice", true)).await;
    alice.send_text(team, "marker").await.unwrap();
    let (_, before) = live::message(&mut carol, "marker").await;
    assert_eq!(presence_changes(&before), [], "carol watches no one");
    erin.send_text(elsewhere, "marker").await.unwrap();
    let (_, before) = live::message(&mut dave, "marker").await;
    assert_eq!(presence_changes(&before), [], "acme's alice is not globex's");
}

#[tokio::test]
async fn watching_starts_with_each_new_users_state_and_a_new_set_replaces_the_old() {
    let chat = Chat::start().await;
    let alice = chat.client("alice", "acme").await;
    let team = chat.team(&alice, &["bob", "carol"]).await;
    let alice_live = chat.watching("alice", &[]).await;
    let mut carol = chat.watching("carol", &["alice"]).await;
    live::until(&mut carol, "alice online", presence_is("alice", true)).await;

    let mut bob = chat.watching("bob", &[]).await;
    bob.watch_presence(&["alice", "zed"]).await.unwrap();
    let (first, _) = live::until(&mut bob, "the watched users' state", |e| {
        presence_of(e, "alice").map(|_| presence_changes(std::slice::from_ref(e)))
    })
    .await;
    let mut first = first;
    first.sort();
    assert_eq!(first, [("alice".to_string(), true), ("zed".to_string(), false)], "one event");

    // Watching zed alone: nothing new to tell, and alice leaving is not bob's concern.
    bob.watch_presence(&["zed"]).await.unwrap();
    drop(alice_live);
    live::until(&mut carol, "alice offline", presence_is("alice", false)).await;
    alice.send_text(team, "marker").await.unwrap();
    let (_, before) = live::message(&mut bob, "marker").await;
    assert_eq!(presence_changes(&before), [], "{before:?}");

    bob.watch_presence(&["alice"]).await.unwrap();
    live::until(&mut bob, "alice's state, watched again", presence_is("alice", false)).await;
}

#[tokio::test]
async fn a_watch_list_too_long_or_with_a_bad_id_is_refused_and_the_stream_goes_on() {
    let chat = Chat::start().await;
    let mut bob = chat.watching("bob", &[]).await;
    let too_many: Vec<String> = (0..1001).map(|i| format!("user-{i}")).collect();
    let too_many: Vec<&str> = too_many.iter().map(String::as_str).collect();
    bob.watch_presence(&too_many).await.unwrap();
    let (refused, _) = live::until(&mut bob, "the refusal", error_of).await;
    assert_eq!(refused.code, Code::InvalidArgument as i32);
    assert!(refused.message.contains("watch_presence.user_ids"), "{refused:?}");
    assert!(refused.message.contains("at most 1000"), "{refused:?}");

    bob.watch_presence(&["alice", ""]).await.unwrap();
    let (refused, _) = live::until(&mut bob, "the refusal", error_of).await;
    assert_eq!(refused.code, Code::InvalidArgument as i32);

    bob.watch_presence(&["alice"]).await.unwrap();
    live::until(&mut bob, "alice's state", presence_is("alice", false)).await;

    // In a hello, a bad list ends the stream before it starts.
    let mut options = RealtimeOptions::new(chat.relay.url(), chat.server.token("carol", "acme"));
    options.watch_presence = vec![String::new()];
    let mut carol = Realtime::connect(options);
    let (code, message) = live::disconnected(&mut carol).await;
    assert_eq!(code, Code::InvalidArgument, "{message}");
    assert!(message.contains("hello.watch_presence"), "{message}");
}

/// The presence of `user` in a `presence_changed` event, if the event names them.
fn presence_in(event: &RealtimeEvent, user: &str) -> Option<proto::UserPresence> {
    match kind(event) {
        Some(proto::event::Kind::PresenceChanged(changed)) => {
            changed.users.iter().find(|u| u.user_id == user).cloned()
        }
        _ => None,
    }
}

#[tokio::test]
async fn a_status_reaches_those_watching_and_outlives_the_stream_with_the_last_seen_time() {
    let chat = Chat::start().await;
    let alice = chat.client("alice", "acme").await;
    let alice_live = chat.watching("alice", &[]).await;
    let mut bob = chat.watching("bob", &["alice"]).await;
    live::until(&mut bob, "alice online", presence_is("alice", true)).await;

    let set = alice.set_status(proto::Availability::Away, "at lunch").await.unwrap();
    assert!(set.online);
    assert_eq!(
        (set.availability, set.status_text.as_str()),
        (proto::Availability::Away as i32, "at lunch")
    );
    let (seen, _) = live::until(&mut bob, "alice away", |e| {
        presence_in(e, "alice").filter(|p| p.availability == proto::Availability::Away as i32)
    })
    .await;
    assert_eq!(seen, set, "watchers see what she set, as GetPresence would");

    let before = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap();
    drop(alice_live);
    let (gone, _) =
        live::until(&mut bob, "alice offline", |e| presence_in(e, "alice").filter(|p| !p.online))
            .await;
    assert_eq!(gone.status_text, "at lunch", "the status outlives her streams");
    assert!(gone.last_seen_ms >= before.as_millis() as i64, "{gone:?}");
    let asked = chat.client("carol", "acme").await.presence(&["alice"]).await.unwrap();
    assert_eq!(asked, std::slice::from_ref(&gone));

    let _back = chat.watching("alice", &[]).await;
    let (back, _) =
        live::until(&mut bob, "alice back", |e| presence_in(e, "alice").filter(|p| p.online)).await;
    assert_eq!((back.last_seen_ms, back.status_text.as_str()), (0, "at lunch"));
    let cleared = alice.set_status(proto::Availability::Unspecified, "").await.unwrap();
    assert_eq!(cleared.availability, proto::Availability::Available as i32);
}

#[tokio::test]
async fn a_status_too_long_or_unknown_is_refused_with_its_field() {
    let chat = Chat::start().await;
    let alice = chat.client("alice", "acme").await;
    let refused = |result| match result {
        Err(switchboard_tests::SdkError::Status(status)) => {
            assert_eq!(status.code(), Code::InvalidArgument, "{status:?}");
            switchboard_tests::violated_fields(&status)
        }
        other => panic!("expected INVALID_ARGUMENT, got {other:?}"),
    };
    let long = "x".repeat(101);
    assert_eq!(refused(alice.set_status(proto::Availability::Away, &long).await), ["text"]);
    assert_eq!(refused(alice.set_status(proto::Availability::Away, "a\u{7}b").await), ["text"]);
    let request = proto::SetStatusRequest { availability: 9, text: String::new() };
    let unknown = alice.raw().set_status(request).await;
    let unknown = unknown.map(|r| r.into_inner()).map_err(switchboard_tests::SdkError::from);
    assert_eq!(refused(unknown), ["availability"]);
    let unchanged = alice.presence(&["alice"]).await.unwrap();
    assert_eq!(unchanged[0].availability, proto::Availability::Available as i32);
}

fn online_count(event: &RealtimeEvent) -> Option<(u64, u32, u32)> {
    match event {
        RealtimeEvent::Event(proto::Event {
            conversation_id,
            kind: Some(proto::event::Kind::OnlineCount(count)),
            ..
        }) => Some((*conversation_id, count.online, count.members)),
        _ => None,
    }
}

#[tokio::test]
async fn an_online_count_starts_with_the_count_now_and_follows_members_coming_and_going() {
    let chat = Chat::start().await;
    let alice = chat.client("alice", "acme").await;
    let team = chat.team(&alice, &["bob", "carol"]).await;
    let elsewhere = chat.team(&alice, &[]).await;
    let mut bob = chat.watching("bob", &[]).await;
    bob.watch_online_counts(&[team, elsewhere]).await.unwrap();
    let (refused, _) = live::until(&mut bob, "the refusal", error_of).await;
    assert_eq!(refused.code, Code::FailedPrecondition as i32);
    assert!(refused.message.contains(&elsewhere.to_string()), "{refused:?}");
    let (now, _) = live::until(&mut bob, "the count now", online_count).await;
    assert_eq!(now, (team, 1, 3), "bob online, of alice, bob and carol");

    let _carol = chat.watching("carol", &[]).await;
    let (then, _) =
        live::until(&mut bob, "carol counted", |e| online_count(e).filter(|c| c.1 == 2)).await;
    assert_eq!(then, (team, 2, 3));
}
