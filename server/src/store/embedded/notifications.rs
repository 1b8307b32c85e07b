//! Notification records and push preferences in the embedded engine.

use async_trait::async_trait;
use fjall::OwnedWriteBatch;

use super::{EmbeddedStore, Tables, decode, encode, get, keys};
use crate::model::{Notification, PushSettings};
use crate::store::{NotificationStore, StoreResult};

impl Tables {
    pub(super) fn put_notification(&self, batch: &mut OwnedWriteBatch, n: &Notification) {
        batch.insert(&self.notifications, keys::notification(&n.org, &n.user, n.id), encode(n));
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
