//! Threads: who follows one and how far they have read it, and the threads a user follows
//! by their latest activity.

use serde::{Deserialize, Serialize};

use super::{ConversationId, Message, MessageId};

/// One user's state of a thread: whether they follow it, and the newest reply they read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ThreadFollow {
    pub user: String,
    pub following: bool,
    /// 0 for none.
    pub read_up_to: MessageId,
    /// They unfollowed it themselves: being mentioned in it, or its root's author, does not
    /// make them follow it again (replying does).
    #[serde(default)]
    pub unfollowed: bool,
}

impl ThreadFollow {
    /// Whether a mention or the root's authorship makes the user follow the thread: unless
    /// they follow it already or unfollowed it.
    pub fn follows_on_mention(follow: Option<&ThreadFollow>) -> bool {
        follow.is_none_or(|f| !f.following && !f.unfollowed)
    }
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
