//! Threads: each thread's replies (written with each reply by `insert_message`, removed
//! with its delete), the counts kept on its root, who follows it, and the threads each
//! user follows by activity.

use async_trait::async_trait;

use super::{HistoryQuery, StoreResult};
use crate::model::{ConversationId, LogEntry, Message, MessageId, ThreadFollow, UserThread};

#[async_trait]
pub trait ThreadStore: Send + Sync {
    /// Up to `query.limit` replies of the thread of `root` in the query's range, in its
    /// direction (deleted replies are not in the thread).
    async fn list_replies(
        &self,
        conversation: ConversationId,
        root: MessageId,
        query: HistoryQuery,
    ) -> StoreResult<Vec<Message>>;

    /// How many replies the thread of `root` has, and its newest.
    async fn thread_summary(
        &self,
        conversation: ConversationId,
        root: MessageId,
    ) -> StoreResult<(u32, Option<MessageId>)>;

    /// How many replies of the thread of `root` come after reply `after`, counted up to
    /// `limit`.
    async fn count_replies_after(
        &self,
        conversation: ConversationId,
        root: MessageId,
        after: MessageId,
        limit: usize,
    ) -> StoreResult<usize>;

    /// Writes the root's `reply_count` and `last_reply_id`, with the change in its
    /// conversation's log (as `MessageStore::set_pin` does). The root as it is now with its
    /// log entry, or None if there is no such message.
    async fn set_thread_summary(
        &self,
        conversation: ConversationId,
        root: MessageId,
        reply_count: u32,
        last_reply_id: Option<MessageId>,
    ) -> StoreResult<Option<(Message, LogEntry)>>;

    /// A user's state of a thread, if they ever followed it.
    async fn get_thread_follow(
        &self,
        conversation: ConversationId,
        root: MessageId,
        user: &str,
    ) -> StoreResult<Option<ThreadFollow>>;

    /// Everyone's state of a thread, in user order.
    async fn list_thread_follows(
        &self,
        conversation: ConversationId,
        root: MessageId,
    ) -> StoreResult<Vec<ThreadFollow>>;

    /// Writes users' states of a thread, and their listings of it (`thread`, of `org`):
    /// listed when they follow it, not listed when they do not. All in one batch.
    async fn put_thread_follows(
        &self,
        org: &str,
        thread: UserThread,
        follows: &[ThreadFollow],
    ) -> StoreResult<()>;

    /// Moves the listing of thread `root` of these users from activity `from` to `to`.
    async fn move_thread_activity(
        &self,
        org: &str,
        users: &[String],
        conversation: ConversationId,
        root: MessageId,
        from: MessageId,
        to: MessageId,
    ) -> StoreResult<()>;

    /// Up to `limit` of the threads a user follows with activity before `before` (all when
    /// None), newest activity first. A listing may be stale (a thread moved on, or
    /// unfollowed, while it was written): readers check it against the thread.
    async fn list_user_threads(
        &self,
        org: &str,
        user: &str,
        before: Option<MessageId>,
        limit: usize,
    ) -> StoreResult<Vec<UserThread>>;
}
