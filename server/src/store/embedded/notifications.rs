//! Notification records and push preferences in the embedded engine.

use async_trait::async_trait;
use fjall::OwnedWriteBatch;

use super::{EmbeddedStore, Tables, decode, encode, get, keys};
use crate::model::{ConversationId, MessageId, Notification, PushSettings};
use crate::store::{NotificationStore, StoreResult};

impl Tables {
    /// Writes a notification, and who was notified of its message (its key), so that
    /// deleting the message can find it.
    pub(super) fn put_notification(&self, batch: &mut OwnedWriteBatch, n: &Notification) {
        let key = keys::notification(&n.org, &n.user, n.id);
        let of_message = keys::message_notification(n.conversation_id, n.message_id, &n.user);
        batch.insert(&self.message_notifications, of_message, &key[..]);
        batch.insert(&self.notifications, key, encode(n));
    }

    /// Removes every notification of message `id`.
    pub(super) fn remove_notifications_of(
        &self,
        batch: &mut OwnedWriteBatch,
        conversation_id: ConversationId,
        id: MessageId,
    ) -> StoreResult<()> {
        for row in self.message_notifications.prefix(keys::item(conversation_id, id)) {
            let (key, notification) = row.into_inner()?;
            batch.remove(&self.notifications, notification);
            batch.remove(&self.message_notifications, key);
        }
        Ok(())
    }
}

#[async_trait]
impl NotificationStore for EmbeddedStore {
    async fn put_notifications(&self, notifications: &[Notification]) -> StoreResult<()> {
        self.write("put_notifications", |t, batch| {
            for notification in notifications {
                t.put_notification(batch, notification);
            }
            Ok(())
        })
        .await
    }

    async fn mark_notifications_read(&self, org: &str, user: &str, ids: &[u64]) -> StoreResult<()> {
        self.write("mark_notifications_read", |t, batch| {
            for id in ids {
                let key = keys::notification(org, user, *id);
                let Some(value) = t.notifications.get(&key)? else { continue };
                let read = Notification { read: true, ..decode("notifications", &value)? };
                batch.insert(&t.notifications, key, encode(&read));
            }
            Ok(())
        })
        .await
    }

    async fn list_notifications(
        &self,
        org: &str,
        user: &str,
        before: u64,
        limit: usize,
    ) -> StoreResult<Vec<Notification>> {
        self.read("list_notifications", |t| {
            let range = keys::notification(org, user, 0)..keys::notification(org, user, before);
            let mut notifications = Vec::new();
            for item in t.notifications.range(range).rev().take(limit) {
                let (_, value) = item.into_inner()?;
                notifications.push(decode("notifications", &value)?);
            }
            Ok(notifications)
        })
    }

    async fn get_push_settings(&self, org: &str, user: &str) -> StoreResult<Option<PushSettings>> {
        self.read("get_push_settings", |t| {
            get("push_settings", &t.push_settings, &keys::user_prefix(org, user))
        })
    }

    async fn set_push_settings(
        &self,
        org: &str,
        user: &str,
        settings: &PushSettings,
    ) -> StoreResult<()> {
        self.write("set_push_settings", |t, batch| {
            batch.insert(&t.push_settings, keys::user_prefix(org, user), encode(settings));
            Ok(())
        })
        .await
    }
}
