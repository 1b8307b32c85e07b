//! Threads: replies form a thread under their root, counted on it, shown in the
//! conversation only when asked; followers hear of replies and list their threads with
//! what they have not read, on every device; a resume brings the replies and counts that
//! changed while away; replies are found by search in their conversation.

use std::time::Duration;

use switchboard_sdk::Client;
use switchboard_tests::eventually;
use switchboard_tests::{
    Code, Realtime, RealtimeEvent, RealtimeOptions, TestController, TestRelay, expect_code, live,
    proto,
};

/// How long a root's counts may take to follow its replies (a tick, and the write).
const RECOUNT_DEADLINE: Duration = Duration::from_secs(10);

async fn reply(client: &Client, team: u64, parent: u64, text: &str) -> proto::Message {
    client.reply(team, parent, text, false).await.unwrap()
}

async fn texts_of(page: proto::ListHistoryResponse) -> Vec<String> {
    page.messages.into_iter().map(|m| m.data).collect()
}

async fn history(client: &Client, team: u64) -> Vec<String> {
    let request = proto::ListHistoryRequest { channel_id: team, limit: 50, ..Default::default() };
    texts_of(client.history(request).await.unwrap()).await
}

async fn replies(
    client: &Client,
    team: u64,
    root: u64,
    before: u64,
    limit: u32,
) -> proto::ListHistoryResponse {
    let request = proto::ListRepliesRequest {
        channel_id: team,
        root_id: root,
        before,
        limit,
        ..Default::default()
    };
    client.replies(request).await.unwrap()
}

/// Waits until the root as `client` reads it counts `count` replies, the newest `last`.
async fn counted(client: &Client, team: u64, root: u64, count: u32, last: u64) -> proto::Message {
    eventually("the root's counts", RECOUNT_DEADLINE, || async {
        let thread = client.thread(team, root).await.unwrap();
        let root = thread.root.unwrap();
        (root.reply_count == count && root.last_reply_id == last).then_some(root)
    })
    .await
}

async fn unread(client: &Client, team: u64) -> u32 {
    let all = client.all_conversations().await.unwrap();
    all.iter().find(|c| c.id == team).expect("a conversation of the user").unread_count
}

#[tokio::test]
async fn replies_form_a_thread_counted_on_its_root_and_shown_where_asked() {
    let server = TestController::start().await;
    let (alice, team) = server.team_of("alice", &["bob", "carol"]).await;
    let bob = server.client("bob", "acme").await;
    let carol = server.client("carol", "acme").await;
    let root = alice.send_text(team, "plan for friday?").await.unwrap();
    let first = reply(&bob, team, root.id, "beach").await;
    assert!(first.thread_only && first.parent_id == root.id);
    let shared = carol.reply(team, root.id, "mountains, also for everyone", true).await.unwrap();
    assert!(!shared.thread_only);
    // A reply to a reply goes to the same thread.
    let nested = reply(&bob, team, shared.id, "why not both").await;
    assert_eq!(nested.parent_id, root.id);

    // The conversation shows the root and the reply posted to it; its thread shows all.
    assert_eq!(history(&carol, team).await, ["mountains, also for everyone", "plan for friday?"]);
    let page = replies(&carol, team, root.id, 0, 2).await;
    assert!(page.has_more);
    assert_eq!(texts_of(page.clone()).await, ["why not both", "mountains, also for everyone"]);
    let rest = replies(&carol, team, root.id, page.messages[1].id, 2).await;
    assert_eq!((texts_of(rest.clone()).await, rest.has_more), (vec!["beach".to_string()], false));
    let after = proto::ListRepliesRequest {
        channel_id: team,
        root_id: root.id,
        after: first.id,
        limit: 1,
        ..Default::default()
    };
    let forward = carol.replies(after).await.unwrap();
    assert_eq!(texts_of(forward).await, ["mountains, also for everyone"], "paging forward");

    // Only replies posted to the conversation count as unread there.
    assert_eq!(unread(&alice, team).await, 1);
    let root_now = counted(&alice, team, root.id, 3, nested.id).await;
    assert_eq!(root_now.last_reply_at_ms, nested.ts_ms);

    // A deleted reply leaves the count; the thread goes on.
    bob.delete_message(team, nested.id).await.unwrap();
    counted(&alice, team, root.id, 2, shared.id).await;
    assert_eq!(texts_of(replies(&alice, team, root.id, 0, 10).await).await.len(), 2);

    // What is refused, and to whom.
    let private_reply = proto::SendMessageRequest {
        channel_id: team,
        to: "carol".into(),
        data: "psst".into(),
        parent_id: root.id,
        ..Default::default()
    };
    expect_code(bob.send(private_reply).await, Code::InvalidArgument);
    let private = alice.send_private(team, "bob", "for bob").await.unwrap();
    expect_code(bob.reply(team, private.id, "re", false).await, Code::InvalidArgument);
    expect_code(carol.reply(team, private.id, "re", false).await, Code::InvalidArgument);
    let not_a_root =
        proto::ListRepliesRequest { channel_id: team, root_id: first.id, ..Default::default() };
    expect_code(carol.replies(not_a_root).await, Code::InvalidArgument);
    let outsider = server.client("dave", "acme").await;
    expect_code(outsider.thread(team, root.id).await, Code::PermissionDenied);
    let globex = server.client("alice", "globex").await;
    expect_code(globex.thread(team, root.id).await, Code::NotFound);
    expect_code(carol.mark_thread_read(team, root.id, private.id).await, Code::NotFound);
    expect_code(carol.mark_thread_read(team, root.id, root.id).await, Code::InvalidArgument);
}

#[tokio::test]
async fn followers_hear_of_replies_and_list_their_threads() {
    let server = TestController::start().await;
    let (alice, team) = server.team_of("alice", &["bob", "carol", "dave"]).await;
    let bob = server.client("bob", "acme").await;
    let carol = server.client("carol", "acme").await;
    let dave = server.client("dave", "acme").await;
    let root = alice.send_text(team, "who reviews #42?").await.unwrap();
    let other = alice.send_text(team, "lunch?").await.unwrap();

    // Replying follows; so does writing the root, and being mentioned.
    let first = reply(&bob, team, root.id, "me, @carol too").await;
    let alice_sees = alice.thread(team, root.id).await.unwrap();
    assert_eq!((alice_sees.following, alice_sees.unread_count), (true, 1));
    let bob_sees = bob.thread(team, root.id).await.unwrap();
    assert_eq!(
        (bob_sees.following, bob_sees.read_up_to, bob_sees.unread_count),
        (true, first.id, 0)
    );
    assert!(carol.thread(team, root.id).await.unwrap().following, "mentioned");
    assert!(!dave.thread(team, root.id).await.unwrap().following);

    let notified = |client: &Client| {
        let client = client.clone();
        async move {
            let request = proto::ListNotificationsRequest::default();
            let list = client.list_notifications(request).await.unwrap().notifications;
            list.into_iter().map(|n| (n.message_id, n.reason())).collect::<Vec<_>>()
        }
    };
    assert_eq!(notified(&alice).await, [(first.id, proto::NotificationReason::ThreadReply)]);
    assert_eq!(notified(&carol).await, [(first.id, proto::NotificationReason::Mention)]);
    assert!(notified(&dave).await.is_empty(), "not a follower");

    // "My threads": newest reply first, with what is unread.
    let second = reply(&carol, team, other.id, "yes").await;
    let listed = |client: &Client| {
        let client = client.clone();
        async move {
            let page = client.threads(0, 10).await.unwrap();
            page.threads
                .into_iter()
                .map(|t| (t.root.unwrap().id, t.unread_count))
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(listed(&alice).await, [(other.id, 1), (root.id, 1)]);
    let third = reply(&bob, team, root.id, "reviewed").await;
    counted(&alice, team, root.id, 2, third.id).await;
    assert_eq!(listed(&alice).await, [(root.id, 2), (other.id, 1)], "moved up by its reply");
    let first_page = alice.threads(0, 1).await.unwrap();
    assert_eq!(first_page.threads.len(), 1);
    let next = alice.threads(first_page.next_before, 1).await.unwrap();
    assert_eq!(next.threads[0].root.as_ref().unwrap().id, other.id);
    assert_eq!(next.next_before, 0, "the last page");

    // Reading, unfollowing, and replying again.
    let read = alice.mark_thread_read(team, root.id, first.id).await.unwrap();
    assert_eq!((read.read_up_to, read.unread_count), (first.id, 1));
    let back = alice.mark_thread_read(team, root.id, first.id).await.unwrap();
    assert_eq!(back.read_up_to, first.id, "markers only move forward");
    alice.follow_thread(team, root.id, false).await.unwrap();
    assert_eq!(listed(&alice).await, [(other.id, 1)]);
    let unheard = reply(&bob, team, root.id, "merged").await;
    assert!(!notified(&alice).await.iter().any(|(id, _)| *id == unheard.id));
    let mentioned = reply(&bob, team, root.id, "thanks @alice").await;
    assert!(!alice.thread(team, root.id).await.unwrap().following, "a mention does not re-follow");
    assert!(notified(&alice).await.contains(&(mentioned.id, proto::NotificationReason::Mention)));
    reply(&alice, team, root.id, "you're welcome").await;
    assert!(alice.thread(team, root.id).await.unwrap().following, "replying follows again");
    dave.follow_thread(team, other.id, true).await.unwrap();
    assert_eq!(listed(&dave).await, [(other.id, 1)]);
    assert_eq!(second.parent_id, other.id);
    // Reading a thread without following it is not unfollowing it: a mention follows.
    dave.mark_thread_read(team, root.id, first.id).await.unwrap();
    assert!(!dave.thread(team, root.id).await.unwrap().following);
    reply(&bob, team, root.id, "@dave can you deploy?").await;
    assert!(dave.thread(team, root.id).await.unwrap().following, "followed on the mention");
}

/// The `thread_changed` of the thread of `root` on a stream.
fn thread_changed(event: &RealtimeEvent, root: u64) -> Option<proto::Thread> {
    match live::kind(event) {
        Some(proto::event::Kind::ThreadChanged(e)) => {
            e.thread.clone().filter(|t| t.root.as_ref().is_some_and(|m| m.id == root))
        }
        _ => None,
    }
}

#[tokio::test]
async fn a_threads_unread_state_follows_the_user_across_devices() {
    let server = TestController::start().await;
    let relay = TestRelay::start(&server).await;
    let (alice, team) = server.team_of("alice", &["bob", "carol"]).await;
    let carol = relay.client(server.token("carol", "acme")).await;
    let bob = relay.client(server.token("bob", "acme")).await;
    let mut phone = relay.realtime(server.token("bob", "acme"));
    let mut laptop = relay.realtime(server.token("bob", "acme"));
    live::live(&mut phone).await;
    live::live(&mut laptop).await;
    let root = alice.send_text(team, "release notes").await.unwrap();
    let first = reply(&carol, team, root.id, "typo in line 3").await;
    let second = reply(&carol, team, root.id, "and line 9").await;
    for device in [&mut phone, &mut laptop] {
        let (created, _) = live::until(device, "the second reply", |event| {
            live::created(event).filter(|m| m.id == second.id).cloned()
        })
        .await;
        assert!(created.thread_only && created.parent_id == root.id, "live, placed by its fields");
    }

    // Following on the phone shows on the laptop too, with the count.
    bob.follow_thread(team, root.id, true).await.unwrap();
    for device in [&mut phone, &mut laptop] {
        let (thread, _) =
            live::until(device, "thread_changed", |event| thread_changed(event, root.id)).await;
        assert_eq!((thread.following, thread.unread_count), (true, 2));
    }
    // Reading on the laptop clears the phone's badge.
    bob.mark_thread_read(team, root.id, second.id).await.unwrap();
    let (thread, _) =
        live::until(&mut phone, "the read", |event| thread_changed(event, root.id)).await;
    assert_eq!((thread.read_up_to, thread.unread_count), (second.id, 0));
    assert_eq!(bob.threads(0, 10).await.unwrap().threads[0].unread_count, 0);
    // A new reply: every device hears it and the root's count.
    let third = reply(&carol, team, root.id, "fixed").await;
    let (counted, _) =
        live::until(&mut laptop, "the root's count", |event| match live::kind(event) {
            Some(proto::event::Kind::MessageEdited(e)) => {
                e.message.clone().filter(|m| m.id == root.id && m.reply_count == 3)
            }
            _ => None,
        })
        .await;
    assert_eq!(counted.last_reply_id, third.id);
    assert_eq!(bob.thread(team, root.id).await.unwrap().unread_count, 1);
    assert_eq!(first.parent_id, root.id);
}

#[tokio::test]
async fn replies_and_counts_from_while_away_arrive_on_resume() {
    let server = TestController::start().await;
    let relay = TestRelay::start(&server).await;
    let (alice, team) = server.team_of("alice", &["bob", "carol"]).await;
    let carol = relay.client(server.token("carol", "acme")).await;
    let mut bob = relay.realtime(server.token("bob", "acme"));
    live::live(&mut bob).await;
    let root = alice.send_text(team, "retro notes").await.unwrap();
    live::position_of(&mut bob, "retro notes").await;
    let positions = bob.positions();
    drop(bob);

    let away = reply(&carol, team, root.id, "went well: the demo").await;
    counted(&carol, team, root.id, 1, away.id).await;
    let mut options = RealtimeOptions::new(relay.url(), server.token("bob", "acme"));
    options.positions = positions;
    let mut back = Realtime::connect(options);
    let (_, replayed) = live::next_live(&mut back).await;
    let created: Vec<_> = replayed.iter().filter_map(live::created).collect();
    assert!(created.iter().any(|m| m.id == away.id && m.thread_only), "the reply: {created:?}");
    let mut edited = replayed.iter().filter_map(|event| match live::kind(event) {
        Some(proto::event::Kind::MessageEdited(e)) => e.message.clone(),
        _ => None,
    });
    let root_now = edited.rfind(|m| m.id == root.id).expect("the root's count");
    assert_eq!((root_now.reply_count, root_now.last_reply_id), (1, away.id));
}

#[tokio::test]
async fn thread_replies_are_found_by_search_in_their_conversation() {
    let server = TestController::start().await;
    let (alice, team) = server.team_of("alice", &["bob"]).await;
    let bob = server.client("bob", "acme").await;
    let root = alice.send_text(team, "incident review").await.unwrap();
    let hidden = reply(&bob, team, root.id, "the flamingo cache expired").await;
    let request = proto::SearchRequest {
        query: "flamingo".into(),
        conversation_id: team,
        ..Default::default()
    };
    let hit = eventually("the reply indexed", Duration::from_secs(10), || async {
        let hits = alice.search(request.clone()).await.unwrap().hits;
        hits.into_iter().next().and_then(|hit| hit.message)
    })
    .await;
    assert_eq!((hit.id, hit.parent_id, hit.thread_only), (hidden.id, root.id, true));
}
