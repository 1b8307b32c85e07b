//! Retention policies and expiring messages in ScyllaDB. A message that expires is written
//! with a TTL on its row, its sender listing, its thread listing and its earlier texts (see
//! `messages`), so the database removes those itself; the sweep removes the rest, which a
//! TTL cannot follow (notifications, whose read flag is rewritten; reactions and pins,
//! written without knowing the message), and what the TTL has not removed yet.
//!
//! `expiring` is partitioned by hour of expiry; `expiry_sweeps` keeps the first hour not
//! yet emptied, so that a sweep reads the one or two partitions from there to now.

use async_trait::async_trait;
use scylla::serialize::row::SerializeRow;
use scylla::statement::batch::BatchType;

use super::ScyllaStore;
use super::messages::{Write, expiring_values, expiry_hour, ttl_of};
use super::rows::to_i64;
use super::statements::Statement;
use crate::ids::bucket_of;
use crate::model::{
    ConversationId, Expiry, LogEntry, Message, MessageId, RetentionPolicy, change_hour,
};
use crate::store::{MessageStore, RetentionStore, StoreResult};

/// The retention sweep's row of `expiry_sweeps`.
const SWEEP: &str = "retention";
/// How far back a sweep with no row yet starts: a week of hours (no message expires
/// sooner than a day after it is sent).
const FIRST_LOOK_BACK_HOURS: i64 = 7 * 24;

#[async_trait]
impl RetentionStore for ScyllaStore {
    async fn put_retention(
        &self,
        org: &str,
        conversation: ConversationId,
        days: Option<u32>,
    ) -> StoreResult<()> {
        let days = i32::try_from(days.unwrap_or(0)).unwrap_or(i32::MAX);
        self.run(Statement::RetentionPut, (org, to_i64(conversation), days)).await?;
        Ok(())
    }

    async fn remove_retention(&self, org: &str, conversation: ConversationId) -> StoreResult<bool> {
        let key = (org, to_i64(conversation));
        let there: Vec<(i64,)> = self.rows(Statement::RetentionGet, key).await?;
        if !there.is_empty() {
            self.run(Statement::RetentionDelete, key).await?;
        }
        Ok(!there.is_empty())
    }

    async fn get_retention(&self, org: &str) -> StoreResult<RetentionPolicy> {
        let rows: Vec<(i64, Option<i32>)> = self.rows(Statement::RetentionList, (org,)).await?;
        let mut policy = RetentionPolicy { any_set: !rows.is_empty(), ..Default::default() };
        for (conversation, days) in rows {
            let days = days.filter(|&d| d > 0).map(|d| d as u32);
            match conversation {
                0 => policy.org_days = days,
                id => _ = policy.conversations.insert(id as u64, days),
            }
        }
        Ok(policy)
    }

    async fn schedule_expiry(
        &self,
        org: &str,
        conversation: ConversationId,
        id: MessageId,
        expires_at_ms: i64,
    ) -> StoreResult<Option<(Message, LogEntry)>> {
        let writes = |stored: &Message, entry: &LogEntry| -> Vec<Write> {
            let key = (to_i64(conversation), bucket_of(id) as i32, to_i64(id));
            // The cell keeps the row's TTL: one without would outlive the row's other cells.
            let set = (ttl_of(stored), expires_at_ms, to_i64(entry.seq), key.0, key.1, key.2);
            let due = Message { expires_at_ms, ..stored.clone() };
            let mut writes: Vec<Write> = vec![
                (Statement::MessageSetExpiry, Box::new(set)),
                (Statement::ExpiringInsert, Box::new(expiring_values(org, &due))),
            ];
            if stored.expires_at_ms != 0 {
                let at = stored.expires_at_ms;
                let earlier = (expiry_hour(at), at, key.0, key.2);
                writes.push((Statement::ExpiringDelete, Box::new(earlier)));
            }
            writes
        };
        self.change_message(conversation, id, |m| m.expires_at_ms = expires_at_ms, writes).await
    }

    async fn due_expiries(&self, now_ms: i64, limit: usize) -> StoreResult<Vec<Expiry>> {
        let now_hour = expiry_hour(now_ms);
        let swept: Vec<(i64,)> = self.rows(Statement::SweepGet, (SWEEP,)).await?;
        let first = swept.first().map_or(now_hour - FIRST_LOOK_BACK_HOURS, |(hour,)| *hour);
        let (mut hour, mut emptied) = (first, first);
        let mut due = Vec::new();
        while hour <= now_hour && due.len() < limit {
            let left = i32::try_from(limit - due.len()).unwrap_or(i32::MAX);
            let rows: Vec<ExpiringRow> =
                self.rows(Statement::ExpiringDue, (hour, now_ms, left)).await?;
            // An hour wholly past with nothing left gets no more: later sweeps start after.
            if rows.is_empty() && hour == emptied && hour < now_hour {
                emptied = hour + 1;
            }
            due.extend(rows.into_iter().map(ExpiringRow::into_domain));
            hour += 1;
        }
        if emptied != first || swept.is_empty() {
            self.run(Statement::SweepPut, (SWEEP, emptied)).await?;
        }
        Ok(due)
    }

    async fn expire_message(&self, expiry: &Expiry, now_ms: i64) -> StoreResult<()> {
        let (conversation_id, id) = (expiry.channel_id, expiry.message_id);
        let (channel, message) = (to_i64(conversation_id), to_i64(id));
        self.remove_notifications_of(conversation_id, id).await?;
        self.forget_reported_text(conversation_id, id).await?;
        let reactions: Vec<(String, String, i64)> =
            self.rows(Statement::ReactionList, (channel, message)).await?;
        for (emoji, user, _) in reactions {
            let key = (channel, user, message, emoji);
            self.run(Statement::UserReactionDelete, key).await?;
        }
        let hour = expiry_hour(expiry.expires_at_ms);
        let mut statements = vec![
            Statement::MessageDelete,
            Statement::VersionsDelete,
            Statement::PinDelete,
            Statement::ReactionsDelete,
            Statement::ChangeInsert,
            Statement::ExpiringDelete,
        ];
        let mut values: Vec<Box<dyn SerializeRow + Send + Sync>> = vec![
            Box::new((channel, bucket_of(id) as i32, message)),
            Box::new((channel, message)),
            Box::new((channel, message)),
            Box::new((channel, message)),
            Box::new((change_hour(now_ms) as i32, now_ms, channel, message)),
            Box::new((hour, expiry.expires_at_ms, channel, message)),
        ];
        // Swept before its TTL ran out (clocks differ by a little): what the TTL would
        // have removed goes now, found from the message.
        if let Some(found) = self.get_message(conversation_id, id).await? {
            statements.push(Statement::UserMessageDelete);
            values.push(Box::new((expiry.org.clone(), found.from, message)));
            if let Some(root) = found.parent_id {
                statements.push(Statement::ThreadReplyDelete);
                values.push(Box::new((channel, to_i64(root), message)));
            }
        }
        self.batch(BatchType::Logged, &statements, values).await
    }
}

/// An `expiring` row as selected.
#[derive(scylla::DeserializeRow)]
struct ExpiringRow {
    expires_at: i64,
    channel_id: i64,
    message_id: i64,
    org: String,
    attachment_id: Option<i64>,
    sender: Option<String>,
    recipient: Option<String>,
}

impl ExpiringRow {
    fn into_domain(self) -> Expiry {
        Expiry {
            expires_at_ms: self.expires_at,
            channel_id: self.channel_id as u64,
            message_id: self.message_id as u64,
            org: self.org,
            attachment: self.attachment_id.map(|id| id as u64),
            from: self.sender.unwrap_or_default(),
            to: self.recipient,
        }
    }
}
