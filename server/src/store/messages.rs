//! Messages, each conversation's log of changes, and the change feed the search indexers
//! follow. A message, its log entry and its change are written together.

use async_trait::async_trait;

use super::StoreResult;
use crate::model::{
    ConversationId, LogEntry, Message, MessageChange, MessageId, MessageVersion, Notification, Pin,
    Reaction, ReactionCount,
};

/// Outcome of inserting a message that may carry an idempotency key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Inserted {
    /// The message was new and is now stored, its creation at this log entry.
    New(LogEntry),
    /// A message with the same (conversation, sender, client_msg_id) exists; here it is.
    Duplicate(Box<Message>),
}

/// What an update does to a message's earlier texts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Revision<'a> {
    /// An edit: the text it replaces is kept among the message's versions (its `seq` is
    /// the edit's position, whatever the caller's copy says).
    Edit(&'a MessageVersion),
    /// A delete: the message's versions, its pin and its notifications go with its text,
    /// and its reaction counts with the message's copy (the reactions stay stored, unread:
    /// a deleted message shows none).
    Delete,
}

/// Which way a history scan walks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    NewestFirst,
    OldestFirst,
}

/// A range of one conversation's messages: ids strictly between `after` and `before`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HistoryQuery {
    pub before: Option<MessageId>,
    pub after: Option<MessageId>,
    pub direction: Direction,
    pub limit: usize,
}

impl HistoryQuery {
    /// The lowest and highest id the range covers (both included), or None when it covers
    /// none. Ids are positive 63-bit numbers (they fit CQL's `bigint`).
    pub fn id_bounds(&self) -> Option<(MessageId, MessageId)> {
        let low = self.after.map_or(0, |after| after.saturating_add(1));
        let highest = i64::MAX as u64;
        let high = self.before.map_or(highest, |before| before.saturating_sub(1)).min(highest);
        (low <= high && self.limit > 0).then_some((low, high))
    }
}

#[async_trait]
pub trait MessageStore: Send + Sync {
    /// Stores a message and the notifications it causes, unless its (conversation, sender,
    /// client_msg_id) was seen within the dedup window, in which case the original comes
    /// back and nothing is written. The creation is appended to the conversation's log;
    /// the stored message carries its position (`created_seq` and `seq`, whatever the
    /// caller's copy says). Sending marks read: the author's read marker moves to the new
    /// message. A private message is kept unread for its recipient until their marker
    /// passes it (see [`ReadStore::count_private_unread`]).
    ///
    /// The message is listed among its sender's in `org` (see [`Self::list_user_messages`]).
    ///
    /// [`ReadStore::count_private_unread`]: super::ReadStore::count_private_unread
    async fn insert_message(
        &self,
        org: &str,
        message: &Message,
        notifications: &[Notification],
    ) -> StoreResult<Inserted>;

    async fn get_message(
        &self,
        conversation: ConversationId,
        id: MessageId,
    ) -> StoreResult<Option<Message>>;

    /// Up to `limit` of the messages `user` sent in `org` (deleted ones too), newest first,
    /// those with ids below `before` when given: (conversation, message) pairs.
    async fn list_user_messages(
        &self,
        org: &str,
        user: &str,
        before: Option<MessageId>,
        limit: usize,
    ) -> StoreResult<Vec<(ConversationId, MessageId)>>;

    /// Overwrites a stored message (edits and deletes); `at_ms` is when, for the change feed.
    /// The change is appended to the conversation's log, and the stored message's `seq` is
    /// its position (its `created_seq` stays as stored). The message's versions change as
    /// `revision` says, in the same batch.
    async fn update_message(
        &self,
        message: &Message,
        at_ms: i64,
        revision: Revision<'_>,
    ) -> StoreResult<LogEntry>;

    /// Up to `limit` earlier texts of a message, newest first, those replaced before log
    /// position `before_seq` when given.
    async fn list_message_versions(
        &self,
        conversation: ConversationId,
        id: MessageId,
        before_seq: Option<u64>,
        limit: usize,
    ) -> StoreResult<Vec<MessageVersion>>;

    /// Pins message `id` of a conversation (`pin`: by whom, when) or unpins it (None): the
    /// message's pin, the conversation's pins and the change in its log, written together.
    /// The message as it is now (its `seq` the change's position) with its log entry, or
    /// None if there is no such message.
    async fn set_pin(
        &self,
        conversation: ConversationId,
        id: MessageId,
        pin: Option<&Pin>,
    ) -> StoreResult<Option<(Message, LogEntry)>>;

    /// A conversation's pinned messages' ids with their pins, in no particular order (there
    /// are few: the domain bounds them).
    async fn list_pins(&self, conversation: ConversationId) -> StoreResult<Vec<(MessageId, Pin)>>;

    /// Adds `user`'s reaction `emoji` to message `id` at `at_ms` (`reacted`), or removes it;
    /// whether anything changed. Kept per message and per (conversation, user).
    async fn set_reaction(
        &self,
        conversation: ConversationId,
        id: MessageId,
        reaction: &Reaction,
        reacted: bool,
    ) -> StoreResult<bool>;

    /// Every reaction to a message, in (emoji, user) order.
    async fn list_reactions(
        &self,
        conversation: ConversationId,
        id: MessageId,
    ) -> StoreResult<Vec<Reaction>>;

    /// `user`'s reactions to the messages of a conversation with ids from `low` to `high`:
    /// (message, emoji) pairs.
    async fn user_reactions(
        &self,
        conversation: ConversationId,
        user: &str,
        low: MessageId,
        high: MessageId,
    ) -> StoreResult<Vec<(MessageId, String)>>;

    /// Writes message `id`'s reaction counts, with the change in its conversation's log (as
    /// [`Self::set_pin`] does). The message as it is now with its log entry, or None if
    /// there is no such message.
    async fn set_reaction_counts(
        &self,
        conversation: ConversationId,
        id: MessageId,
        counts: &[ReactionCount],
    ) -> StoreResult<Option<(Message, LogEntry)>>;

    /// Up to `query.limit` messages of a conversation in the query's range, in its direction.
    async fn list_messages(
        &self,
        conversation: ConversationId,
        query: HistoryQuery,
    ) -> StoreResult<Vec<Message>>;

    /// Up to `limit` entries of a conversation's log after position `after`, oldest first,
    /// stopping before any entry whose predecessor is not visible yet (see
    /// [`crate::model::unbroken_from`]).
    async fn list_log(
        &self,
        conversation: ConversationId,
        after: u64,
        limit: usize,
    ) -> StoreResult<Vec<LogEntry>>;

    /// The newest entry of a conversation's log.
    async fn log_head(&self, conversation: ConversationId) -> StoreResult<Option<LogEntry>>;

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
}
