//! Threads: each thread's replies, the counts kept on its root, who follows it, and the
//! threads each user follows by activity.

use std::sync::Arc;

use switchboard_server::ids::EPOCH_MS;
use switchboard_server::model::{MessageVersion, Role, ThreadFollow, UserThread};
use switchboard_server::store::{Direction, HistoryQuery, Revision, Store};

use super::{ORG, fresh_channel, id_in, message, team};

fn query(
    before: Option<u64>,
    after: Option<u64>,
    direction: Direction,
    limit: usize,
) -> HistoryQuery {
    HistoryQuery { before, after, direction, limit }
}

pub async fn replies_are_listed_counted_and_leave_with_their_delete(store: Arc<dyn Store>) {
    let channel = fresh_channel();
    team(&store, channel, &[("a", Role::Owner), ("b", Role::Member)]).await;
    let root = message(channel, id_in(3, 1), "a", None);
    store.insert_message(ORG, &root, &[]).await.unwrap();
    let head = store.log_head(channel).await.unwrap().unwrap();
    let reply = |n: i64, thread_only: bool| {
        let mut m = message(channel, id_in(3, n), "b", None);
        m.parent_id = Some(root.id);
        m.thread_only = thread_only;
        m
    };
    let replies = [reply(2, true), reply(3, false), reply(4, true)];
    for r in &replies {
        store.insert_message(ORG, r, &[]).await.unwrap();
    }
    // A private message naming a parent is not in its thread (the domain refuses one).
    let mut private = message(channel, id_in(3, 5), "b", None);
    private.to = Some("a".into());
    private.parent_id = Some(root.id);
    store.insert_message(ORG, &private, &[]).await.unwrap();
    let ids = |messages: Vec<switchboard_server::model::Message>| {
        messages.into_iter().map(|m| m.id).collect::<Vec<_>>()
    };
    let all = [replies[0].id, replies[1].id, replies[2].id];
    let newest_first = store
        .list_replies(channel, root.id, query(None, None, Direction::NewestFirst, 10))
        .await
        .unwrap();
    assert_eq!(ids(newest_first.clone()), [all[2], all[1], all[0]]);
    assert!(newest_first[0].thread_only && !newest_first[1].thread_only, "read back as written");
    let oldest_first =
        store.list_replies(channel, root.id, query(None, Some(all[0]), Direction::OldestFirst, 1));
    assert_eq!(ids(oldest_first.await.unwrap()), [all[1]], "ranges exclude their ends");
    let before =
        store.list_replies(channel, root.id, query(Some(all[2]), None, Direction::NewestFirst, 10));
    assert_eq!(ids(before.await.unwrap()), [all[1], all[0]]);
    assert_eq!(store.thread_summary(channel, root.id).await.unwrap(), (3, Some(all[2])));
    assert_eq!(store.count_replies_after(channel, root.id, all[0], 10).await.unwrap(), 2);
    assert_eq!(store.count_replies_after(channel, root.id, 0, 2).await.unwrap(), 2, "capped");
    assert_eq!(store.thread_summary(channel, all[0]).await.unwrap(), (0, None), "no thread");
    // Thread-only replies and private messages add nothing to the conversation's count.
    let now = store.log_head(channel).await.unwrap().unwrap();
    assert_eq!(now.count, head.count + 1);

    // The root's counts: a change in the log, kept by an edit of the root's own copy.
    let (counted, entry) =
        store.set_thread_summary(channel, root.id, 3, Some(all[2])).await.unwrap().unwrap();
    assert_eq!((counted.reply_count, counted.last_reply_id), (3, Some(all[2])));
    assert_eq!((entry.message_id, entry.prev, entry.count), (root.id, now.seq, now.count));
    let mut edited = root.clone();
    edited.data = "edited".into();
    let replaced = MessageVersion {
        data: root.data.clone(),
        written_at_ms: root.ts_ms,
        replaced_at_ms: EPOCH_MS + 9,
        seq: 0,
    };
    store.update_message(&edited, EPOCH_MS + 9, Revision::Edit(&replaced)).await.unwrap();
    let stored = store.get_message(channel, root.id).await.unwrap().unwrap();
    assert_eq!(
        (stored.data.as_str(), stored.reply_count, stored.last_reply_id),
        ("edited", 3, Some(all[2]))
    );

    // A deleted reply leaves its thread.
    let mut gone = replies[2].clone();
    gone.deleted = true;
    gone.data.clear();
    store.update_message(&gone, EPOCH_MS + 10, Revision::Delete).await.unwrap();
    assert_eq!(store.thread_summary(channel, root.id).await.unwrap(), (2, Some(all[1])));
    let left = store.list_replies(channel, root.id, query(None, None, Direction::NewestFirst, 10));
    assert_eq!(ids(left.await.unwrap()), [all[1], all[0]]);
    assert!(store.set_thread_summary(channel, id_in(3, 99), 1, None).await.unwrap().is_none());
}

pub async fn follows_are_kept_per_user_and_listed_by_activity(store: Arc<dyn Store>) {
    let channel = fresh_channel();
    let org = format!("threads-{channel}");
    let (first, second) = (id_in(4, 1), id_in(4, 2));
    let at = |activity, root| UserThread { activity, conversation_id: channel, root };
    let follow = |user: &str, following, read_up_to| ThreadFollow {
        user: user.into(),
        following,
        read_up_to,
        unfollowed: !following,
    };
    store.put_thread_follows(&org, at(id_in(4, 10), first), &[follow("a", true, 0)]).await.unwrap();
    store.put_thread_follows(&org, at(id_in(4, 10), first), &[follow("b", true, 7)]).await.unwrap();
    store
        .put_thread_follows(&org, at(id_in(4, 20), second), &[follow("a", true, 0)])
        .await
        .unwrap();
    assert_eq!(
        store.get_thread_follow(channel, first, "b").await.unwrap(),
        Some(follow("b", true, 7))
    );
    assert_eq!(store.get_thread_follow(channel, first, "c").await.unwrap(), None);
    assert_eq!(
        store.list_thread_follows(channel, first).await.unwrap(),
        [follow("a", true, 0), follow("b", true, 7)]
    );
    let listed = store.list_user_threads(&org, "a", None, 10).await.unwrap();
    assert_eq!(listed, [at(id_in(4, 20), second), at(id_in(4, 10), first)], "newest first");
    let page = store.list_user_threads(&org, "a", Some(id_in(4, 20)), 10).await.unwrap();
    assert_eq!(page, [at(id_in(4, 10), first)], "before excludes its own activity");
    assert!(store.list_user_threads("other-org", "a", None, 10).await.unwrap().is_empty());

    // A new reply moves the thread up for its followers.
    let users = ["a".to_string(), "b".to_string()];
    store
        .move_thread_activity(&org, &users, channel, first, id_in(4, 10), id_in(4, 30))
        .await
        .unwrap();
    let listed = store.list_user_threads(&org, "a", None, 10).await.unwrap();
    assert_eq!(listed, [at(id_in(4, 30), first), at(id_in(4, 20), second)]);
    // Unfollowing keeps the state (and the marker) but not the listing.
    store
        .put_thread_follows(&org, at(id_in(4, 30), first), &[follow("b", false, 7)])
        .await
        .unwrap();
    assert!(store.list_user_threads(&org, "b", None, 10).await.unwrap().is_empty());
    assert_eq!(
        store.get_thread_follow(channel, first, "b").await.unwrap(),
        Some(follow("b", false, 7))
    );
}
