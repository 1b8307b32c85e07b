//! Rows that tables added later need from what was written before them: filled when a
//! store is opened, once (each backfill is marked done in `backfills`), a chunk of rows per
//! batch. Every write is one the engine makes anyway, so a backfill cut off in the middle
//! is run again whole.

use std::collections::HashMap;

use fjall::{Database, Keyspace, OwnedWriteBatch, PersistMode};

use super::{Tables, decode, keys};
use crate::model::{Conversation, ConversationId, Message, Notification, Report};
use crate::store::StoreResult;

/// Rows written per batch.
const CHUNK: usize = 10_000;

/// Runs the backfills not done yet.
pub(super) fn run(db: &Database, t: &Tables) -> StoreResult<()> {
    fill(db, t, "org_conversations", &t.conversations, |batch, t, value| {
        let conversation: Conversation = decode("conversations", value)?;
        let key = keys::org_entry(&conversation.org, conversation.id);
        batch.insert(&t.org_conversations, key, []);
        Ok(())
    })?;
    let mut orgs: HashMap<ConversationId, Option<String>> = HashMap::new();
    fill(db, t, "user_messages", &t.messages, |batch, t, value| {
        let message: Message = decode("messages", value)?;
        let org = match orgs.get(&message.channel_id) {
            Some(org) => org.clone(),
            None => {
                let org = t.conversation(message.channel_id)?.map(|c| c.org);
                orgs.insert(message.channel_id, org.clone());
                org
            }
        };
        if let Some(org) = org {
            let key = keys::user_entry(&org, &message.from, message.id);
            batch.insert(&t.user_messages, key, &message.channel_id.to_be_bytes()[..]);
        }
        Ok(())
    })?;
    fill(db, t, "message_notifications", &t.notifications, |batch, t, value| {
        let n: Notification = decode("notifications", value)?;
        let key = keys::notification(&n.org, &n.user, n.id);
        let of_message = keys::message_notification(n.conversation_id, n.message_id, &n.user);
        batch.insert(&t.message_notifications, of_message, &key[..]);
        Ok(())
    })?;
    fill(db, t, "message_reports", &t.reports, |batch, t, value| {
        let report: Report = decode("reports", value)?;
        let key = keys::message_report(report.conversation_id, report.message_id, report.id);
        batch.insert(&t.message_reports, key, []);
        Ok(())
    })
}

/// Runs backfill `name` unless it is done: `write` for each row of `from`.
fn fill(
    db: &Database,
    t: &Tables,
    name: &str,
    from: &Keyspace,
    mut write: impl FnMut(&mut OwnedWriteBatch, &Tables, &[u8]) -> StoreResult<()>,
) -> StoreResult<()> {
    if t.backfills.contains_key(name)? {
        return Ok(());
    }
    let mut batch = db.batch();
    let mut written = 0;
    for row in from.iter() {
        let (_, value) = row.into_inner()?;
        write(&mut batch, t, &value)?;
        written += 1;
        if written % CHUNK == 0 {
            std::mem::replace(&mut batch, db.batch()).commit()?;
        }
    }
    batch.insert(&t.backfills, name, []);
    batch.commit()?;
    db.persist(PersistMode::SyncAll)?;
    if written > 0 {
        tracing::info!(backfill = name, rows = written, "filled a table from the data before it");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use crate::model::{
        Conversation, Kind, MessageType, NotificationReason, ReportState, Visibility,
    };
    use crate::store::embedded::EmbeddedStore;
    use crate::store::{ConversationStore, MessageStore, ModerationStore};

    use super::*;

    /// The id of the report the store holds.
    const REPORT: u64 = 7;

    /// A store as one written before the tables these backfills fill: their rows and the
    /// marks that they were filled are removed.
    async fn as_before_backfills(store: &EmbeddedStore, org: &str, message: &Message) {
        store
            .write("test", |t, batch| {
                batch.remove(&t.org_conversations, keys::org_entry(org, message.channel_id));
                batch.remove(&t.user_messages, keys::user_entry(org, &message.from, message.id));
                let notified = keys::message_notification(message.channel_id, message.id, "bob");
                batch.remove(&t.message_notifications, notified);
                let reported = keys::message_report(message.channel_id, message.id, REPORT);
                batch.remove(&t.message_reports, reported);
                let names = [
                    "org_conversations",
                    "user_messages",
                    "message_notifications",
                    "message_reports",
                ];
                for name in names {
                    batch.remove(&t.backfills, name);
                }
                Ok(())
            })
            .await
            .unwrap();
    }

    #[tokio::test]
    async fn a_store_from_before_the_listings_lists_what_it_holds_once_opened() {
        let dir =
            std::env::temp_dir().join(format!("sb-backfill-{}", switchboard_proto::ids::now_us()));
        let conversation = Conversation {
            id: 42,
            org: "acme".into(),
            kind: Kind::Group,
            name: "team".into(),
            icon: String::new(),
            archived: false,
            meta_tags: Vec::new(),
            owner: "owner".into(),
            created_at_ms: 1,
            restricted: false,
            visibility: Visibility::Private,
            member_count: 0,
            custom_fields: Default::default(),
            external_key: None,
            members_may_pin: false,
            slow_mode_seconds: 0,
        };
        let id = crate::ids::first_id_at(crate::ids::EPOCH_MS + 5);
        let message = Message {
            id,
            channel_id: 42,
            from: "alice".into(),
            to: None,
            kind: MessageType::Text,
            data: "hello".into(),
            ts_ms: crate::ids::timestamp_ms(id),
            ..Default::default()
        };
        {
            let store = EmbeddedStore::open(&dir).unwrap();
            store.create_conversation(&conversation, &[]).await.unwrap();
            let notification = Notification {
                id: message.id + 1,
                org: "acme".into(),
                user: "bob".into(),
                conversation_id: 42,
                message_id: message.id,
                from: "alice".into(),
                reason: NotificationReason::Mention,
                preview: "hello".into(),
                created_at_ms: 1,
                read: false,
            };
            store.insert_message("acme", &message, &[notification]).await.unwrap();
            let report = Report {
                id: REPORT,
                conversation_id: 42,
                message_id: message.id,
                reporter: "bob".into(),
                reason: String::new(),
                author: "alice".into(),
                text: "hello".into(),
                state: ReportState::Open,
                handled_by: String::new(),
                handled_at_ms: 0,
            };
            store.put_report(&report).await.unwrap();
            as_before_backfills(&store, "acme", &message).await;
            assert!(store.list_org_conversations("acme", 0, 10).await.unwrap().is_empty());
            assert!(store.list_user_messages("acme", "alice", None, 10).await.unwrap().is_empty());
        }
        let store = EmbeddedStore::open(&dir).unwrap();
        assert_eq!(store.list_org_conversations("acme", 0, 10).await.unwrap(), [42]);
        let sent = store.list_user_messages("acme", "alice", None, 10).await.unwrap();
        assert_eq!(sent, [(42, message.id)]);
        let notified = keys::message_notification(42, message.id, "bob");
        let indexed =
            store.read("test", |t| Ok(t.message_notifications.contains_key(&notified)?));
        assert!(indexed.unwrap(), "the notification is found from its message again");
        let reported = keys::message_report(42, message.id, REPORT);
        let indexed = store.read("test", |t| Ok(t.message_reports.contains_key(reported)?));
        assert!(indexed.unwrap(), "the report is found from its message again");
        drop(store);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
