//! Moderation: who is banned from or timed out in a team or channel, by whom and why;
//! members' reports of messages; each org's filters and suspended users.

use serde::{Deserialize, Serialize};

use super::ConversationId;

/// A user banned from a conversation: removed, and not to join or be added again until
/// unbanned.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ban {
    pub conversation_id: ConversationId,
    pub user: String,
    /// The admin who banned them.
    pub by: String,
    pub at_ms: i64,
    /// Why, as the admin put it (may be empty).
    pub reason: String,
}

/// A member timed out of a conversation: they stay a member and read, but neither post,
/// edit, react nor type until `until_ms`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Timeout {
    pub until_ms: i64,
    /// The admin who timed them out.
    pub by: String,
    /// Why, as the admin put it (may be empty).
    pub reason: String,
}

/// Where a report stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ReportState {
    Open,
    /// An admin acted on it.
    Resolved,
    /// An admin found nothing to act on.
    Dismissed,
}

impl ReportState {
    pub fn name(self) -> &'static str {
        match self {
            ReportState::Open => "open",
            ReportState::Resolved => "resolved",
            ReportState::Dismissed => "dismissed",
        }
    }

    pub fn from_name(name: &str) -> Option<ReportState> {
        [ReportState::Open, ReportState::Resolved, ReportState::Dismissed]
            .into_iter()
            .find(|s| s.name() == name)
    }
}

/// A member's report of a message to the conversation's admins, with the message as it
/// was when reported (kept for the admins after the message is deleted).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Report {
    /// Snowflake id: orders a conversation's reports in time.
    pub id: u64,
    pub conversation_id: ConversationId,
    pub message_id: u64,
    pub reporter: String,
    pub reason: String,
    /// The message's author and text when it was reported.
    pub author: String,
    pub text: String,
    pub state: ReportState,
    /// The admin who resolved or dismissed it, and when (empty and 0 while open).
    pub handled_by: String,
    pub handled_at_ms: i64,
}

/// What an org's filter looks for in messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum FilterKind {
    /// A word or phrase, matched whole and ignoring case.
    Word,
    /// A regular expression (linear-time engine: no backreferences or lookaround).
    Regex,
}

/// What happens to a message a filter matches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum FilterAction {
    /// The send or edit is refused, saying what matched.
    Refuse,
    /// It goes through, and is flagged for review (audited; reported to a team's admins).
    Flag,
}

impl FilterKind {
    pub fn name(self) -> &'static str {
        match self {
            FilterKind::Word => "word",
            FilterKind::Regex => "regex",
        }
    }

    pub fn from_name(name: &str) -> Option<FilterKind> {
        [FilterKind::Word, FilterKind::Regex].into_iter().find(|k| k.name() == name)
    }
}

impl FilterAction {
    pub fn name(self) -> &'static str {
        match self {
            FilterAction::Refuse => "refuse",
            FilterAction::Flag => "flag",
        }
    }

    pub fn from_name(name: &str) -> Option<FilterAction> {
        [FilterAction::Refuse, FilterAction::Flag].into_iter().find(|a| a.name() == name)
    }
}

/// One entry of an org's blocklist, applied to every text message sent or edited in it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Filter {
    pub org: String,
    /// Snowflake id: orders an org's filters by creation.
    pub id: u64,
    pub kind: FilterKind,
    pub pattern: String,
    pub action: FilterAction,
    pub created_by: String,
    pub created_at_ms: i64,
}

/// A user an org admin suspended: every call of theirs is refused and their streams end,
/// until lifted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Suspension {
    pub org: String,
    pub user: String,
    /// The org admin who suspended them.
    pub by: String,
    pub at_ms: i64,
    /// Why, as the admin put it (may be empty).
    pub reason: String,
}
