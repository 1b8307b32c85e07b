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

/// Which of a user's notifications are pushed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum PushLevel {
    #[default]
    All,
    /// Mentions and direct messages.
    Mentions,
    None,
}

impl PushLevel {
    pub fn name(self) -> &'static str {
        match self {
            PushLevel::All => "all",
            PushLevel::Mentions => "mentions",
            PushLevel::None => "none",
        }
    }

    pub fn from_name(name: &str) -> Option<PushLevel> {
        [PushLevel::All, PushLevel::Mentions, PushLevel::None]
            .into_iter()
            .find(|l| l.name() == name)
    }
}

/// A minute of the day, 0 to 1439.
pub const MINUTES_PER_DAY: u16 = 24 * 60;

/// A user's push preferences: how much is pushed, and quiet hours in their time zone.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PushSettings {
    pub level: PushLevel,
    /// From and to, minutes after local midnight (wrapping past it when from > to); None
    /// for no quiet hours.
    pub quiet: Option<(u16, u16)>,
}

impl PushSettings {
    /// Whether a notification for `reason` is pushed at `minute` of the user's day.
    pub fn allows(&self, reason: NotificationReason, minute: u16) -> bool {
        let level = match self.level {
            PushLevel::All => true,
            PushLevel::Mentions => reason != NotificationReason::ThreadReply,
            PushLevel::None => false,
        };
        level && !self.quiet_at(minute)
    }

    fn quiet_at(&self, minute: u16) -> bool {
        match self.quiet {
            Some((from, to)) if from <= to => (from..to).contains(&minute),
            Some((from, to)) => minute >= from || minute < to,
            None => false,
        }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels_and_quiet_hours_decide_what_is_pushed() {
        let at = |level, quiet| PushSettings { level, quiet };
        let (mention, thread) = (NotificationReason::Mention, NotificationReason::ThreadReply);
        assert!(at(PushLevel::All, None).allows(thread, 0));
        assert!(!at(PushLevel::Mentions, None).allows(thread, 0));
        assert!(at(PushLevel::Mentions, None).allows(NotificationReason::Direct, 0));
        assert!(!at(PushLevel::None, None).allows(mention, 0));
        // 22:00 to 07:00 wraps past midnight; 09:00 to 17:00 does not; the end is not quiet.
        let night = at(PushLevel::All, Some((22 * 60, 7 * 60)));
        let quiet: Vec<bool> = [21 * 60 + 59, 22 * 60, 0, 6 * 60 + 59, 7 * 60]
            .into_iter()
            .map(|minute| !night.allows(mention, minute))
            .collect();
        assert_eq!(quiet, [false, true, true, true, false]);
        let day = at(PushLevel::All, Some((9 * 60, 17 * 60)));
        assert!(!day.allows(mention, 12 * 60) && day.allows(mention, 17 * 60));
        assert!(day.allows(mention, 8 * 60));
    }
}
