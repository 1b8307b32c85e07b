//! Persistence behind one trait, so that the embedded engine (single node, default) and the
//! ScyllaDB engine (clusters) are interchangeable.
//!
//! The model is Scylla-shaped: every read is a partition lookup or a range scan inside one
//! partition, tables are denormalized and written together:
//!
//! | table | partition | clustering |
//! |---|---|---|
//! | conversations | conversation id | |
//! | members | conversation id | user id |
//! | user_conversations | (org, user) | conversation id |
//! | direct_pairs | (org, user a, user b) | |
//! | conversation_keys | (org, external key) | |
//! | self_conversations | (org, user) | |
//! | messages | (channel id, bucket) | message id |
//! | message_versions | (channel id, message id) | seq of the edit, newest first |
//! | pins | channel id | message id |
//! | thread_replies | (channel id, root id) | reply id |
//! | thread_follows | (channel id, root id) | user id |
//! | user_threads | (org, user) | (activity, channel id, root id), newest first |
//! | reactions | (channel id, message id) | emoji, user |
//! | user_reactions | (channel id, user) | message id, emoji |
//! | message_buckets | channel id | bucket |
//! | dedup | (channel id, sender, client_msg_id), with a TTL | |
//! | read_markers | channel id | user id |
//! | private_unread | (channel id, user id) | seq |
//! | attachments | attachment id | |
//! | pending_uploads | shard (id mod 16) | (expires at, attachment id) |
//! | conversation_files | channel id | attachment id, newest first |
//! | user_uploads | (org, user) | attachment id, newest first |
//! | audit | (org, day) | entry id, newest first |
//! | user_audit | (org, user) | entry id, newest first |
//! | message_changes | hour, with a TTL | (at, channel id, message id) |
//! | conversation_log | (channel id, hour of seq) | seq |
//! | log_hours | channel id | hour of seq |
//! | log_heads | channel id | |
//! | notifications | (org, user) | notification id, newest first |
//! | message_notifications | (channel id, message id) | user id |
//! | user_messages | (org, user) | message id, newest first |
//! | retention | org | conversation id (0: the org's default) |
//! | expiring | hour of expiry | (expires at, channel id, message id) |
//! | expiry_sweeps | sweep name | |
//! | jobs | org | job id, newest first |
//! | open_jobs | shard (always 0) | job id |
//! | duty_leases | duty name | |
//! | push_settings | (org, user) | |
//! | devices | (org, user) | device id |
//! | device_owners | device id | |
//! | bans | channel id | user |
//! | timeouts | channel id | user, with a TTL |
//! | filters | org | filter id |
//! | suspensions | org | user |
//! | reports | channel id | report id, newest first |
//! | message_reports | (channel id, message id) | report id |
//! | user_status | (org, user) | |
//! | profiles | (org, user) | |
//! | directory | (org, first character of the term) | term, user |
//! | contacts, blocks | (org, user) | the other user |
//!
//! One trait per aggregate (conversations, members, messages with their log and change
//! feed, threads, read markers, notifications, devices, moderation, retention, attachments, audit, background jobs, users' statuses,
//! profiles and the directory, contacts and blocks), each implemented by every engine in a
//! file named after it; [`Store`] is all of them together. Writes that span tables of
//! one aggregate (a message with its log entry, change and notifications) stay one method,
//! so an engine can make them one batch. Every write method returns only once the write is
//! durable.

mod attachments;
mod audit;
mod conversations;
mod devices;
pub mod embedded;
mod jobs;
mod members;
mod messages;
mod meter;
mod moderation;
mod notifications;
mod profiles;
mod reads;
mod relations;
mod retention;
pub mod scylla;
mod status;
mod threads;

use async_trait::async_trait;

pub use self::attachments::{AttachmentClaim, AttachmentStore};
pub use self::audit::AuditStore;
pub use self::conversations::ConversationStore;
pub use self::devices::DeviceStore;
pub use self::jobs::JobStore;
pub use self::members::{MemberStore, RoleChange, user_conversations};
pub use self::messages::{Direction, HistoryQuery, Inserted, MessageStore, Revision};
pub use self::meter::StoreMeter;
pub use self::moderation::ModerationStore;
pub use self::notifications::NotificationStore;
pub use self::profiles::ProfileStore;
pub use self::reads::ReadStore;
pub use self::relations::RelationStore;
pub use self::retention::RetentionStore;
pub use self::status::StatusStore;
pub use self::threads::ThreadStore;
use crate::error::ChatError;

/// A failure of the storage engine itself (not of the caller's request).
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("embedded database: {0}")]
    Embedded(#[from] fjall::Error),
    #[error("ScyllaDB: {0}")]
    Scylla(String),
    #[error("corrupt row in {table}: {reason}")]
    Corrupt { table: &'static str, reason: String },
    #[error("storage task failed: {0}")]
    Task(String),
}

pub type StoreResult<T> = Result<T, StoreError>;

impl From<StoreError> for ChatError {
    fn from(error: StoreError) -> Self {
        ChatError::Backend { what: "the message store", error: error.to_string() }
    }
}

/// Every aggregate of one engine, and what concerns the engine as a whole.
#[async_trait]
pub trait Store:
    ConversationStore
    + MemberStore
    + MessageStore
    + ThreadStore
    + ReadStore
    + NotificationStore
    + DeviceStore
    + ModerationStore
    + AttachmentStore
    + AuditStore
    + JobStore
    + StatusStore
    + ProfileStore
    + RelationStore
    + RetentionStore
    + 'static
{
    /// The engine's latency histograms and spans, for the node's `/metrics`.
    fn meter(&self) -> &StoreMeter;

    /// Housekeeping the engine cannot leave to the database (expired dedup keys, say).
    async fn maintain(&self) -> StoreResult<()>;

    /// Makes everything written so far durable; called on shutdown.
    async fn flush(&self) -> StoreResult<()>;
}
