//! What a user says of their own availability, and when they were last seen: the lasting
//! part of presence (whether they are online now is the presence board's).

use serde::{Deserialize, Serialize};

/// Availability a user sets for others to see.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum Availability {
    #[default]
    Available,
    Away,
    DoNotDisturb,
}

/// A user's status in one org. All defaults until they set one or go offline once.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserStatus {
    pub availability: Availability,
    /// A short custom text ("in a meeting"), empty for none.
    pub text: String,
    /// When their last stream closed (Unix milliseconds); 0 if never seen offline.
    pub last_seen_ms: i64,
}
