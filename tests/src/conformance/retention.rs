//! Retention: policies per org and conversation, and messages that expire, swept with an
//! injected clock (`now` is the sweep's, an hour or a day ahead of the real one).

use std::sync::Arc;

use switchboard_server::ids::Clock as _;
use switchboard_server::ids::{EPOCH_MS, SystemClock, first_id_at};
use switchboard_server::model::{
    Attachment, AttachmentState, DAY_MS, Expiry, Message, MessageType, MessageVersion,
    Notification, NotificationReason, Pin, Reaction, Report, ReportState, RetentionPolicy,
    change_hour,
};
use switchboard_server::store::{Direction, HistoryQuery, Revision, Store};

use super::{fresh_channel, message};

pub async fn policies_are_kept_per_org_and_conversation(store: Arc<dyn Store>) {
    let org = format!("retained-{}", fresh_channel());
    assert_eq!(store.get_retention(&org).await.unwrap(), RetentionPolicy::default(), "forever");
    store.put_retention(&org, 0, Some(30)).await.unwrap();
    store.put_retention(&org, 7, None).await.unwrap();
    store.put_retention(&org, 8, Some(1)).await.unwrap();
    store.put_retention("elsewhere", 0, Some(2)).await.unwrap();
    let policy = store.get_retention(&org).await.unwrap();
    assert!(policy.any_set);
    assert_eq!(policy.org_days, Some(30));
    assert_eq!(policy.conversations, [(7, None), (8, Some(1))].into());
    assert!(store.remove_retention(&org, 7).await.unwrap());
    assert!(!store.remove_retention(&org, 7).await.unwrap(), "removed once");
    store.put_retention(&org, 0, None).await.unwrap();
    let policy = store.get_retention(&org).await.unwrap();
    assert_eq!((policy.org_days, policy.conversations), (None, [(8, Some(1))].into()));
    assert!(policy.any_set, "forever, but set");
}

/// Messages of `channel` among those due at `now`.
async fn due_in(store: &Arc<dyn Store>, channel: u64, now: i64) -> Vec<Expiry> {
    let due = store.due_expiries(now, 10_000).await.unwrap();
    due.into_iter().filter(|e| e.channel_id == channel).collect()
}

pub async fn expired_messages_go_with_everything_kept_of_them(store: Arc<dyn Store>) {
    let channel = fresh_channel();
    let org = format!("expiring-{channel}");
    let at = SystemClock.now_ms() + 60 * 60 * 1000;
    let expiring = |id: u64, expires_at_ms: i64| Message {
        expires_at_ms,
        ..message(channel, id, "alice", None)
    };
    let id = |n: i64| first_id_at(EPOCH_MS + n);
    let mut root = expiring(id(1), at);
    root.kind = MessageType::Image;
    root.attachment = Some(Box::new(Attachment {
        id: 77,
        org: org.clone(),
        channel_id: channel,
        uploader: "alice".into(),
        filename: "a.png".into(),
        content_type: "image/png".into(),
        size: 10,
        dimensions: None,
        state: AttachmentState::Complete,
        created_at_ms: EPOCH_MS,
        expires_at_ms: 0,
        multipart: None,
        message_id: Some(root.id),
    }));
    let reply = Message { parent_id: Some(root.id), ..expiring(id(2), at + 1) };
    let later = expiring(id(3), at + DAY_MS);
    let kept = expiring(id(4), 0);
    let notified = Notification {
        id: id(5),
        org: org.clone(),
        user: "bob".into(),
        conversation_id: channel,
        message_id: root.id,
        from: "alice".into(),
        reason: NotificationReason::Mention,
        preview: "secret".into(),
        created_at_ms: EPOCH_MS,
        read: false,
    };
    store.insert_message(&org, &root, std::slice::from_ref(&notified)).await.unwrap();
    for m in [&reply, &later, &kept] {
        store.insert_message(&org, m, &[]).await.unwrap();
    }
    // What others add to it, and an edit, which keeps its expiry.
    let replaced =
        MessageVersion { data: root.data.clone(), written_at_ms: 1, replaced_at_ms: 2, seq: 0 };
    let edited = Message { data: "edited".into(), ..root.clone() };
    store.update_message(&edited, EPOCH_MS + 2, Revision::Edit(&replaced)).await.unwrap();
    let reaction = Reaction { emoji: "👍".into(), user: "bob".into(), at_ms: EPOCH_MS + 3 };
    store.set_reaction(channel, root.id, &reaction, true).await.unwrap();
    store
        .set_pin(channel, root.id, Some(&Pin { by: "bob".into(), at_ms: EPOCH_MS + 4 }))
        .await
        .unwrap();
    let stored = store.get_message(channel, root.id).await.unwrap().unwrap();
    assert_eq!(stored.expires_at_ms, at, "an edit, a pin and a reaction keep the expiry");
    // Reports keep what they report, but not past its retention.
    let report = |n: i64, message: &Message| Report {
        id: id(n),
        conversation_id: channel,
        message_id: message.id,
        reporter: "bob".into(),
        reason: "rude".into(),
        author: message.from.clone(),
        text: message.data.clone(),
        state: ReportState::Open,
        handled_by: String::new(),
        handled_at_ms: 0,
    };
    let (of_root, of_kept) = (report(6, &edited), report(7, &kept));
    store.put_report(&of_root).await.unwrap();
    store.put_report(&of_kept).await.unwrap();

    assert!(due_in(&store, channel, at - 1).await.is_empty(), "nothing is due before its time");
    let due = due_in(&store, channel, at + 1).await;
    let ids: Vec<u64> = due.iter().map(|e| e.message_id).collect();
    assert_eq!(ids, [root.id, reply.id], "soonest first");
    assert_eq!((due[0].org.as_str(), due[0].attachment), (org.as_str(), Some(77)));
    for expiry in &due {
        store.expire_message(expiry, at + 1).await.unwrap();
    }
    store.expire_message(&due[0], at + 1).await.unwrap();

    assert_eq!(store.get_message(channel, root.id).await.unwrap(), None);
    let query =
        HistoryQuery { after: None, before: None, limit: 10, direction: Direction::NewestFirst };
    let history = store.list_messages(channel, query).await.unwrap();
    let left: Vec<u64> = history.iter().map(|m| m.id).collect();
    assert_eq!(left, [kept.id, later.id], "the others stay");
    assert!(store.list_message_versions(channel, root.id, None, 10).await.unwrap().is_empty());
    assert!(store.list_reactions(channel, root.id).await.unwrap().is_empty());
    assert!(store.user_reactions(channel, "bob", 0, u64::MAX >> 1).await.unwrap().is_empty());
    assert!(store.list_pins(channel).await.unwrap().is_empty());
    assert!(store.list_notifications(&org, "bob", u64::MAX, 10).await.unwrap().is_empty());
    let reports = store.list_reports(channel, u64::MAX, 10).await.unwrap();
    let forgot = Report { text: String::new(), ..of_root };
    assert_eq!(reports, [of_kept, forgot], "the report stays, without the text it kept");
    let sent = store.list_user_messages(&org, "alice", None, 10).await.unwrap();
    assert_eq!(sent, [(channel, kept.id), (channel, later.id)]);
    let thread = store.thread_summary(channel, root.id).await.unwrap();
    assert_eq!(thread, (0, None), "the thread lost its reply");
    let changes = store.list_message_changes(change_hour(at + 1), None, 100).await.unwrap();
    assert!(
        changes.iter().any(|c| c.message_id == root.id && c.at_ms == at + 1),
        "the change feed records the removal, for the search indexer"
    );
    assert!(due_in(&store, channel, at + 1).await.is_empty(), "swept once");
    let next = due_in(&store, channel, at + DAY_MS).await;
    assert_eq!(next.iter().map(|e| e.message_id).collect::<Vec<_>>(), [later.id]);
    store.expire_message(&next[0], at + DAY_MS).await.unwrap();
}

pub async fn a_sooner_expiry_is_a_change_in_the_log_and_listed_due_once(store: Arc<dyn Store>) {
    let channel = fresh_channel();
    let org = format!("sooner-{channel}");
    let at = SystemClock.now_ms() + 60 * 60 * 1000;
    let id = |n: i64| first_id_at(EPOCH_MS + n);
    let forever = message(channel, id(1), "alice", None);
    let later =
        Message { expires_at_ms: at + 10 * DAY_MS, ..message(channel, id(2), "alice", None) };
    for m in [&forever, &later] {
        store.insert_message(&org, m, &[]).await.unwrap();
    }

    let (changed, entry) =
        store.schedule_expiry(&org, channel, forever.id, at).await.unwrap().unwrap();
    assert_eq!((changed.id, changed.expires_at_ms), (forever.id, at));
    assert_eq!(changed.data, forever.data, "only its expiry changes");
    assert_eq!(entry.message_id, forever.id);
    assert_eq!(store.log_head(channel).await.unwrap(), Some(entry.clone()), "a change in the log");
    let stored = store.get_message(channel, forever.id).await.unwrap().unwrap();
    assert_eq!((stored.expires_at_ms, stored.seq), (at, entry.seq));
    store.schedule_expiry(&org, channel, later.id, at + 1).await.unwrap().unwrap();
    assert_eq!(store.schedule_expiry(&org, channel, id(3), at).await.unwrap(), None, "no such");

    let due = due_in(&store, channel, at + 20 * DAY_MS).await;
    let due: Vec<(u64, i64)> = due.iter().map(|e| (e.message_id, e.expires_at_ms)).collect();
    assert_eq!(due, [(forever.id, at), (later.id, at + 1)], "at the new time only");
    for expiry in due_in(&store, channel, at + 1).await {
        store.expire_message(&expiry, at + 1).await.unwrap();
    }
    assert!(due_in(&store, channel, at + 20 * DAY_MS).await.is_empty());
    assert_eq!(store.get_message(channel, later.id).await.unwrap(), None);
}
