//! Typing indicators: ephemeral, never stored. A start lasts `ttl` unless refreshed; a
//! sweeper ends the ones nobody refreshed, so a client that vanishes mid-word does not
//! leave "typing…" on everyone's screen.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::model::ConversationId;

/// (org, conversation, user)
pub type TypingKey = (String, ConversationId, String);

pub struct TypingTracker {
    /// How long a start holds without a refresh.
    ttl: Duration,
    /// (org, conversation, user) → when the indicator lapses.
    active: Mutex<HashMap<TypingKey, Instant>>,
}

impl TypingTracker {
    pub fn new(ttl: Duration) -> Self {
        TypingTracker { ttl, active: Mutex::new(HashMap::new()) }
    }

    pub fn ttl(&self) -> Duration {
        self.ttl
    }

    /// Starts or refreshes an indicator.
    pub fn start(&self, org: &str, conversation: ConversationId, user: &str) {
        let deadline = Instant::now() + self.ttl;
        self.lock().insert((org.to_string(), conversation, user.to_string()), deadline);
    }

    /// Ends an indicator; true if it was on.
    pub fn stop(&self, org: &str, conversation: ConversationId, user: &str) -> bool {
        self.lock().remove(&(org.to_string(), conversation, user.to_string())).is_some()
    }

    /// Removes and returns the indicators that lapsed by `now`.
    pub fn expired(&self, now: Instant) -> Vec<TypingKey> {
        let mut active = self.lock();
        let lapsed: Vec<_> = active
            .iter()
            .filter(|(_, deadline)| **deadline <= now)
            .map(|(k, _)| k.clone())
            .collect();
        for key in &lapsed {
            active.remove(key);
        }
        lapsed
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<TypingKey, Instant>> {
        self.active.lock().expect("typing lock poisoned")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn starts_lapse_unless_refreshed() {
        let typing = TypingTracker::new(Duration::from_secs(5));
        let t0 = Instant::now();
        typing.start("o", 1, "a");
        assert!(typing.expired(t0 + Duration::from_secs(1)).is_empty());
        let lapsed = typing.expired(t0 + Duration::from_secs(6));
        assert_eq!(lapsed, vec![("o".to_string(), 1, "a".to_string())]);
        assert!(!typing.stop("o", 1, "a"), "already lapsed");
    }
}
