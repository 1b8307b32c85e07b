//! Notification records and push preferences in the ScyllaDB engine.

use async_trait::async_trait;
use futures_util::future::try_join_all;
use scylla::DeserializeRow;

use super::ScyllaStore;
use super::rows::{corrupt, row_limit, to_i64};
use super::statements::Statement;
use crate::model::{
    ConversationId, MessageId, Notification, NotificationReason, PushLevel, PushSettings,
};
use crate::store::{NotificationStore, StoreResult};

/// Notifications marked read at once (each a lightweight transaction on one row).
const MARKS_AT_ONCE: usize = 16;

#[async_trait]
impl NotificationStore for ScyllaStore {
    /// Each notification after the row that lets a delete of its message find it.
    async fn put_notifications(&self, notifications: &[Notification]) -> StoreResult<()> {
        for n in notifications {
            let (channel, id) = (to_i64(n.conversation_id), to_i64(n.message_id));
            let of_message = (channel, id, n.user.as_str(), n.org.as_str(), to_i64(n.id));
            self.run(Statement::MessageNotificationInsert, of_message).await?;
            self.run(Statement::NotificationInsert, NotificationRow::values(n)).await?;
        }
        Ok(())
    }

    /// One lightweight transaction each (a plain UPDATE would bring a removed row back,
    /// with nothing but `read` in it), `MARKS_AT_ONCE` at a time.
    async fn mark_notifications_read(&self, org: &str, user: &str, ids: &[u64]) -> StoreResult<()> {
        for some in ids.chunks(MARKS_AT_ONCE) {
            let marks = some.iter().map(|id| {
                self.lwt(Statement::NotificationMarkRead, (true, org, user, to_i64(*id)))
            });
            try_join_all(marks).await?;
        }
        Ok(())
    }

    async fn list_notifications(
        &self,
        org: &str,
        user: &str,
        before: u64,
        limit: usize,
    ) -> StoreResult<Vec<Notification>> {
        let key = (org, user, to_i64(before), row_limit(limit));
        let rows: Vec<NotificationRow> = self.rows(Statement::NotificationList, key).await?;
        rows.into_iter().map(NotificationRow::into_domain).collect()
    }

    async fn get_push_settings(&self, org: &str, user: &str) -> StoreResult<Option<PushSettings>> {
        let rows: Vec<(Option<String>, Option<i32>, Option<i32>)> =
            self.rows(Statement::PushSettingsGet, (org, user)).await?;
        let Some((level, from, to)) = rows.into_iter().next() else { return Ok(None) };
        let level = match level {
            None => PushLevel::All,
            Some(name) => PushLevel::from_name(&name)
                .ok_or_else(|| corrupt("push_settings", format!("unknown level `{name}`")))?,
        };
        let minute = |m: i32| m.clamp(0, i32::from(u16::MAX)) as u16;
        let quiet = from.zip(to).map(|(from, to)| (minute(from), minute(to)));
        Ok(Some(PushSettings { level, quiet }))
    }

    async fn set_push_settings(
        &self,
        org: &str,
        user: &str,
        settings: &PushSettings,
    ) -> StoreResult<()> {
        let (from, to) = settings.quiet.map(|(f, t)| (i32::from(f), i32::from(t))).unzip();
        let values = (org, user, settings.level.name(), from, to);
        self.run(Statement::PushSettingsPut, values).await?;
        Ok(())
    }
}

impl ScyllaStore {
    /// Removes every notification of message `id` (one by one: an `@all` may have made
    /// more than a batch carries), then the rows that found them.
    pub(super) async fn remove_notifications_of(
        &self,
        conversation_id: ConversationId,
        id: MessageId,
    ) -> StoreResult<()> {
        let message = (to_i64(conversation_id), to_i64(id));
        let notified: Vec<(String, String, i64)> =
            self.rows(Statement::MessageNotificationList, message).await?;
        for (org, user, notification) in notified {
            self.run(Statement::NotificationDelete, (org, user, notification)).await?;
        }
        self.run(Statement::MessageNotificationsDelete, message).await?;
        Ok(())
    }
}

#[derive(DeserializeRow)]
pub(super) struct NotificationRow {
    id: i64,
    org: String,
    user_id: String,
    conversation_id: i64,
    message_id: i64,
    sender: String,
    reason: String,
    preview: Option<String>,
    created_at_ms: i64,
    read: Option<bool>,
}

#[allow(clippy::type_complexity)]
impl NotificationRow {
    pub(super) fn values(
        n: &Notification,
    ) -> (String, String, i64, i64, i64, String, &'static str, String, i64, bool) {
        (
            n.org.clone(),
            n.user.clone(),
            to_i64(n.id),
            to_i64(n.conversation_id),
            to_i64(n.message_id),
            n.from.clone(),
            n.reason.name(),
            n.preview.clone(),
            n.created_at_ms,
            n.read,
        )
    }

    pub(super) fn into_domain(self) -> StoreResult<Notification> {
        let reason = NotificationReason::from_name(&self.reason)
            .ok_or_else(|| corrupt("notifications", format!("unknown reason `{}`", self.reason)))?;
        Ok(Notification {
            id: self.id as u64,
            org: self.org,
            user: self.user_id,
            conversation_id: self.conversation_id as u64,
            message_id: self.message_id as u64,
            from: self.sender,
            reason,
            preview: self.preview.unwrap_or_default(),
            created_at_ms: self.created_at_ms,
            read: self.read.unwrap_or(false),
        })
    }
}
