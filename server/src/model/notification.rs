//! Notification records: a message a user should hear about, and why.

use serde::{Deserialize, Serialize};

use super::{ConversationId, MessageId};

/// Why a user got a notification.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum NotificationReason {
    /// `@user`.
    Mention,
    /// `@here` or `@all`.
    MentionAll,
    /// A direct message.
    Direct,
    /// A reply in a thread they follow.
    ThreadReply,
}

impl NotificationReason {
    pub fn name(self) -> &'static str {
        match self {
            NotificationReason::Mention => "mention",
            NotificationReason::MentionAll => "mention_all",
            NotificationReason::Direct => "direct",
            NotificationReason::ThreadReply => "thread_reply",
        }
    }

    pub fn from_name(name: &str) -> Option<NotificationReason> {
        [
            NotificationReason::Mention,
            NotificationReason::MentionAll,
            NotificationReason::Direct,
            NotificationReason::ThreadReply,
        ]
        .into_iter()
        .find(|r| r.name() == name)
    }
}

/// A message a user should hear about because they were not following it live.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Notification {
    /// Snowflake id; orders a user's notifications in time.
    pub id: u64,
    pub org: String,
    /// Who is notified.
    pub user: String,
    pub conversation_id: ConversationId,
    pub message_id: MessageId,
    /// The message's author.
    pub from: String,
    pub reason: NotificationReason,
    /// The start of the message's text.
    pub preview: String,
    pub created_at_ms: i64,
    pub read: bool,
}
