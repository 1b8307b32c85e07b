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
//! | self_conversations | (org, user) | |
//! | messages | (channel id, bucket) | message id |
//! | message_buckets | channel id | bucket |
//! | dedup | (channel id, sender, client_msg_id), with a TTL | |
//! | read_markers | channel id | user id |
//! | private_unread | (channel id, user id) | seq |
//! | attachments | attachment id | |
//! | pending_uploads | shard (id mod 16) | (expires at, attachment id) |
//! | audit | (org, day) | entry id, newest first |
//! | message_changes | hour, with a TTL | (at, channel id, message id) |
//! | conversation_log | (channel id, hour of seq) | seq |
//! | log_hours | channel id | hour of seq |
//! | log_heads | channel id | |
//! | notifications | (org, user) | notification id, newest first |
//!
//! Every write method returns only once the write is durable.

pub mod embedded;
pub mod metered;
pub mod scylla;

use async_trait::async_trait;

use crate::error::ChatError;
use crate::model::{
    Attachment, AttachmentId, AuditEntry, Conversation, ConversationId, LogEntry, Member, Message,
    MessageChange, MessageId, Notification, ReadMarker, Role,
};

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

/// Outcome of inserting a message that may carry an idempotency key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Inserted {
    /// The message was new and is now stored, its creation at this log entry.
    New(LogEntry),
    /// A message with the same (channel, sender, client_msg_id) exists; here it is.
    Duplicate(Box<Message>),
}

/// Which way a history scan walks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    NewestFirst,
    OldestFirst,
}

/// A range of one channel's messages: ids strictly between `after` and `before`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HistoryQuery {
    pub before: Option<MessageId>,
    pub after: Option<MessageId>,
    pub direction: Direction,
    pub limit: usize,
}

/// The outcome of a compare-and-set on a member's role.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RoleChange {
    Changed,
    /// The member's role was not the expected one (someone else changed it first).
    Conflict,
    NotAMember,
}

/// The outcome of claiming an attachment for a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AttachmentClaim {
    /// The attachment now belongs to the message.
    Claimed,
    /// Another message (this one) carries it already.
    Taken(MessageId),
    Missing,
}

#[async_trait]
pub trait Store: Send + Sync + 'static {
    /// Writes a new conversation and its first members (their user index rows included).
    async fn create_conversation(
        &self,
        conversation: &Conversation,
        members: &[Member],
    ) -> StoreResult<()>;

    async fn get_conversation(&self, id: ConversationId) -> StoreResult<Option<Conversation>>;

    /// Replaces a conversation's metadata (name, icon, tags, restricted, archived).
    /// `member_count` and `owner` are the Store's to maintain and are left as stored.
    async fn update_conversation(&self, conversation: &Conversation) -> StoreResult<Conversation>;

    /// The DIRECT conversation of the two members' pair, created from `conversation` if the
    /// pair has none yet. Race-free: concurrent callers all get the same conversation.
    async fn get_or_create_direct(
        &self,
        conversation: &Conversation,
        members: &[Member; 2],
    ) -> StoreResult<Conversation>;

    /// The SELF conversation of `owner`, created from `conversation` if it has none yet.
    async fn get_or_create_self(
        &self,
        conversation: &Conversation,
        owner: &Member,
    ) -> StoreResult<Conversation>;

    async fn get_member(&self, id: ConversationId, user: &str) -> StoreResult<Option<Member>>;

    /// Members ordered by user id, starting after `after`.
    async fn list_members(
        &self,
        id: ConversationId,
        after: &str,
        limit: usize,
    ) -> StoreResult<Vec<Member>>;

    /// Adds members who are not in yet; returns those it added.
    async fn add_members(&self, id: ConversationId, members: &[Member])
    -> StoreResult<Vec<Member>>;

    /// Removes a member (`by` themselves, or an admin) and appends the removal to the
    /// conversation's log; its entry, or None if they were not a member.
    async fn remove_member(
        &self,
        id: ConversationId,
        user: &str,
        by: &str,
    ) -> StoreResult<Option<LogEntry>>;

    /// Sets a member's role to `new` only if it is `expected` now.
    async fn change_role(
        &self,
        id: ConversationId,
        user: &str,
        expected: Role,
        new: Role,
    ) -> StoreResult<RoleChange>;

    /// Makes `to` the owner and `from` an admin, only if `from` is still the owner and `to`
    /// still a member. Returns the updated conversation, or None if either condition failed.
    async fn transfer_ownership(
        &self,
        id: ConversationId,
        from: &str,
        to: &str,
    ) -> StoreResult<Option<Conversation>>;

    /// Ids of a user's conversations in one org, ascending, after `after`.
    async fn list_user_conversations(
        &self,
        org: &str,
        user: &str,
        after: ConversationId,
        limit: usize,
    ) -> StoreResult<Vec<ConversationId>>;

    /// Stores a message and the notifications it causes, unless its (channel, sender,
    /// client_msg_id) was seen within the dedup window, in which case the original comes
    /// back and nothing is written. The creation is appended to the conversation's log;
    /// the stored message carries its position (`created_seq` and `seq`, whatever the
    /// caller's copy says). Sending marks read: the author's read marker moves to the new
    /// message. A private message is kept unread for its recipient until their marker
    /// passes it (see [`Store::count_private_unread`]).
    async fn insert_message(
        &self,
        message: &Message,
        notifications: &[Notification],
    ) -> StoreResult<Inserted>;

    async fn get_message(
        &self,
        channel: ConversationId,
        id: MessageId,
    ) -> StoreResult<Option<Message>>;

    /// Overwrites a stored message (edits and deletes); `at_ms` is when, for the change feed.
    /// The change is appended to the conversation's log, and the stored message's `seq` is
    /// its position (its `created_seq` stays as stored).
    async fn update_message(&self, message: &Message, at_ms: i64) -> StoreResult<LogEntry>;

    /// Up to `limit` entries of a conversation's log after position `after`, oldest first,
    /// stopping before any entry whose predecessor is not visible yet (see
    /// [`crate::model::unbroken_from`]).
    async fn list_log(
        &self,
        channel: ConversationId,
        after: u64,
        limit: usize,
    ) -> StoreResult<Vec<LogEntry>>;

    /// The newest entry of a conversation's log.
    async fn log_head(&self, channel: ConversationId) -> StoreResult<Option<LogEntry>>;

    /// Up to `query.limit` messages of a channel in the query's range, in its direction.
    async fn list_messages(
        &self,
        channel: ConversationId,
        query: HistoryQuery,
    ) -> StoreResult<Vec<Message>>;

    /// Moves a user's read marker forward to `marker` (by its place in the log; never
    /// back) and forgets the private messages to them up to it; returns the marker as it
    /// is now.
    async fn advance_read_marker(
        &self,
        channel: ConversationId,
        user: &str,
        marker: ReadMarker,
    ) -> StoreResult<ReadMarker>;

    /// Every read marker of a channel: user id and the message they read up to.
    async fn list_read_markers(
        &self,
        channel: ConversationId,
    ) -> StoreResult<Vec<(String, MessageId)>>;

    /// A user's read marker in a channel, if they have one.
    async fn get_read_marker(
        &self,
        channel: ConversationId,
        user: &str,
    ) -> StoreResult<Option<ReadMarker>>;

    /// How many private messages to `user` after log position `after` they have not read
    /// (their marker has not passed), counted up to `limit`.
    async fn count_private_unread(
        &self,
        channel: ConversationId,
        user: &str,
        after: u64,
        limit: usize,
    ) -> StoreResult<usize>;

    /// Mutes or unmutes the conversation for one member; false if they are not a member.
    async fn set_muted(&self, id: ConversationId, user: &str, muted: bool) -> StoreResult<bool>;

    /// Writes notifications, new or changed (marked read).
    async fn put_notifications(&self, notifications: &[Notification]) -> StoreResult<()>;

    /// Up to `limit` of a user's notifications with ids below `before`, newest first.
    async fn list_notifications(
        &self,
        org: &str,
        user: &str,
        before: u64,
        limit: usize,
    ) -> StoreResult<Vec<Notification>>;

    /// Writes an attachment, new or changed. An attachment is listed among the pending
    /// uploads exactly while its state is Pending.
    async fn put_attachment(&self, attachment: &Attachment) -> StoreResult<()>;

    async fn get_attachment(&self, id: AttachmentId) -> StoreResult<Option<Attachment>>;

    /// Records that `message` carries the attachment, only if no message does yet.
    async fn claim_attachment(
        &self,
        id: AttachmentId,
        message: MessageId,
    ) -> StoreResult<AttachmentClaim>;

    /// Up to `limit` pending uploads whose deadline passed before `now_ms`.
    async fn expired_uploads(&self, now_ms: i64, limit: usize) -> StoreResult<Vec<Attachment>>;

    /// Appends an entry to the audit log.
    async fn append_audit(&self, entry: &AuditEntry) -> StoreResult<()>;

    /// Up to `limit` entries of one org's day, newest first, with ids below `before`.
    async fn list_audit(
        &self,
        org: &str,
        day: u32,
        before: u64,
        limit: usize,
    ) -> StoreResult<Vec<AuditEntry>>;

    /// The change feed: up to `limit` changes of one hour (see [`change_hour`]) after
    /// `after`, oldest first. Every insert and update of a message writes its change in the
    /// same batch; changes are kept for a week.
    ///
    /// [`change_hour`]: crate::model::change_hour
    async fn list_message_changes(
        &self,
        hour: u32,
        after: Option<MessageChange>,
        limit: usize,
    ) -> StoreResult<Vec<MessageChange>>;

    /// Housekeeping the engine cannot leave to the database (expired dedup keys, say).
    async fn maintain(&self) -> StoreResult<()>;

    /// Makes everything written so far durable; called on shutdown.
    async fn flush(&self) -> StoreResult<()>;
}

/// Conversations read per Store call by [`user_conversations`].
const USER_CONVERSATIONS_PAGE: usize = 1_000;

/// Every conversation `user` of `org` is a member of, read a page at a time (presence
/// goes to all of them; a search covers all of them; a hub refills their joins).
pub async fn user_conversations(
    store: &dyn Store,
    org: &str,
    user: &str,
) -> StoreResult<Vec<ConversationId>> {
    let mut all = Vec::new();
    loop {
        let after = all.last().copied().unwrap_or(0);
        let page = store.list_user_conversations(org, user, after, USER_CONVERSATIONS_PAGE).await?;
        let last_page = page.len() < USER_CONVERSATIONS_PAGE;
        all.extend(page);
        if last_page {
            return Ok(all);
        }
    }
}
