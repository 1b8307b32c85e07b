//! Retention: each org's policy (a row per org default and per conversation with its own),
//! and the messages due to expire, in expiry order, for the retention sweep.
//!
//! A message sent with an expiry is listed in `expiring` by [`MessageStore::insert_message`]
//! in the same batch. ScyllaDB also writes the message and the rows that index it with a
//! TTL ending at that time, so the database removes them itself; the sweep then removes
//! what a TTL cannot reach (reactions, pins, earlier texts, the attachment) and records the
//! change for the search indexer. The embedded engine removes everything in the sweep.
//!
//! [`MessageStore::insert_message`]: super::MessageStore::insert_message

use async_trait::async_trait;

use super::StoreResult;
use crate::model::{ConversationId, Expiry, LogEntry, Message, MessageId, RetentionPolicy};

#[async_trait]
pub trait RetentionStore: Send + Sync {
    /// Sets how long `org` keeps messages (`days` None: forever): the org's default for
    /// `conversation` 0, else that conversation's own policy.
    async fn put_retention(
        &self,
        org: &str,
        conversation: ConversationId,
        days: Option<u32>,
    ) -> StoreResult<()>;

    /// Removes a conversation's own policy (it follows the org's again); whether it had one.
    /// For `conversation` 0, the org's default goes back to forever.
    async fn remove_retention(&self, org: &str, conversation: ConversationId) -> StoreResult<bool>;

    /// The org's policy (its default and the conversations with their own).
    async fn get_retention(&self, org: &str) -> StoreResult<RetentionPolicy>;

    /// Brings message `id`'s expiry forward to `expires_at_ms` (a policy made shorter
    /// reaches the messages sent before it), as a change in its conversation's log, and
    /// lists it among those due then. The message as it is now with its entry, or None if
    /// there is none. The caller only ever moves an expiry sooner: rows written with a TTL
    /// keep it, and the sweep removes the message at its new time first.
    async fn schedule_expiry(
        &self,
        org: &str,
        conversation: ConversationId,
        id: MessageId,
        expires_at_ms: i64,
    ) -> StoreResult<Option<(Message, LogEntry)>>;

    /// Up to `limit` messages whose expiry is at or before `now_ms`, soonest first, of
    /// every org.
    async fn due_expiries(&self, now_ms: i64, limit: usize) -> StoreResult<Vec<Expiry>>;

    /// Removes an expired message with what is kept of it (earlier texts, pin, reactions,
    /// notifications, its place in thread and sender listings), records the removal in the
    /// change feed at `now_ms` (for the search indexer), and takes it off `due_expiries`.
    /// Does nothing more for a message already gone. The attachment's bytes are the
    /// caller's (they live in the blob store).
    async fn expire_message(&self, expiry: &Expiry, now_ms: i64) -> StoreResult<()>;
}
