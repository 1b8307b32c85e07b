//! Moderation: who is banned from a team or channel, by whom and why.

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
