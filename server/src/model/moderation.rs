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
