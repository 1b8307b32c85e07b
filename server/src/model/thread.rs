//! Threads: who follows one and how far they have read it, and the threads a user follows
//! by their latest activity.

use serde::{Deserialize, Serialize};

use super::{ConversationId, Message, MessageId};

/// One user's state of a thread: whether they follow it, and the newest reply they read.
/// Kept after an unfollow, so that being mentioned or the root's author does not follow
/// it again on its own.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ThreadFollow {
    pub user: String,
    pub following: bool,
    /// 0 for none.
    pub read_up_to: MessageId,
}

/// A thread a user follows, under its activity (see [`thread_activity`]): what "my threads"
/// lists, the one with the newest reply first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserThread {
    pub activity: MessageId,
    pub conversation_id: ConversationId,
    pub root: MessageId,
}

/// Where a thread sorts among a user's threads: its newest reply, or its root without
/// replies.
pub fn thread_activity(root: &Message) -> MessageId {
    root.last_reply_id.unwrap_or(root.id)
}

/// A thread as one user sees it: its root, and their state of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ThreadView {
    pub root: Message,
    pub following: bool,
    pub read_up_to: MessageId,
    /// Replies after `read_up_to`, counted up to a cap.
    pub unread: u32,
}
