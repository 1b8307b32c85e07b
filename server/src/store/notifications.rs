//! Notification records, per user, newest first; and each user's push preferences.

use async_trait::async_trait;

use super::StoreResult;
use crate::model::{Notification, PushSettings};

#[async_trait]
pub trait NotificationStore: Send + Sync {
    /// Writes notifications, new or changed.
    async fn put_notifications(&self, notifications: &[Notification]) -> StoreResult<()>;

    /// Marks a user's notifications `ids` read, those still there only: one removed since
    /// it was read (its message deleted, expired or erased) stays removed.
    async fn mark_notifications_read(&self, org: &str, user: &str, ids: &[u64]) -> StoreResult<()>;

    /// Up to `limit` of a user's notifications with ids below `before`, newest first.
    async fn list_notifications(
        &self,
        org: &str,
        user: &str,
        before: u64,
        limit: usize,
    ) -> StoreResult<Vec<Notification>>;

    /// A user's push preferences, if they ever set them.
    async fn get_push_settings(&self, org: &str, user: &str) -> StoreResult<Option<PushSettings>>;

    /// Replaces a user's push preferences.
    async fn set_push_settings(
        &self,
        org: &str,
        user: &str,
        settings: &PushSettings,
    ) -> StoreResult<()>;
}
