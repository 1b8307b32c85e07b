//! Typing indicators: ephemeral, never stored. A start lasts `ttl` unless refreshed; a
//! sweeper ends the ones nobody refreshed, so a client that vanishes mid-word does not
//! leave "typing…" on everyone's screen. Time is the controller's clock (milliseconds), so
//! tests move it rather than wait.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::ids::Clock;
use crate::model::ConversationId;

/// (org, conversation, user)
pub type TypingKey = (String, ConversationId, String);

pub struct TypingTracker {
    /// How long a start holds without a refresh.
    ttl: Duration,
    /// (org, conversation, user) → when the indicator lapses (Unix milliseconds).
    active: Mutex<HashMap<TypingKey, i64>>,
    clock: Arc<dyn Clock>,
}

impl TypingTracker {
    pub fn new(ttl: Duration, clock: Arc<dyn Clock>) -> Self {
        TypingTracker { ttl, active: Mutex::new(HashMap::new()), clock }
    }

    pub fn ttl(&self) -> Duration {
        self.ttl
    }

    /// Starts or refreshes an indicator.
    pub fn start(&self, org: &str, conversation: ConversationId, user: &str) {
        let deadline = self.clock.now_ms().saturating_add(self.ttl.as_millis() as i64);
        self.lock().insert((org.to_string(), conversation, user.to_string()), deadline);
    }

    /// Ends an indicator; true if it was on.
    pub fn stop(&self, org: &str, conversation: ConversationId, user: &str) -> bool {
        self.lock().remove(&(org.to_string(), conversation, user.to_string())).is_some()
    }

    /// Removes and returns the indicators that lapsed by now.
    pub fn expired(&self) -> Vec<TypingKey> {
        let now = self.clock.now_ms();
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

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<TypingKey, i64>> {
        self.active.lock().expect("typing lock poisoned")
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicI64, Ordering};

    use super::*;

    #[test]
    fn starts_lapse_unless_refreshed() {
        struct Pinned(AtomicI64);
        impl Clock for Pinned {
            fn now_ms(&self) -> i64 {
                self.0.load(Ordering::SeqCst)
            }
        }
        let clock = Arc::new(Pinned(AtomicI64::new(1_000_000)));
        let typing = TypingTracker::new(Duration::from_secs(5), clock.clone());
        typing.start("o", 1, "a");
        clock.0.fetch_add(4_000, Ordering::SeqCst);
        typing.start("o", 1, "a");
        clock.0.fetch_add(4_000, Ordering::SeqCst);
        assert!(typing.expired().is_empty(), "refreshed 4 s ago");
        clock.0.fetch_add(1_000, Ordering::SeqCst);
        let lapsed = typing.expired();
        assert_eq!(lapsed, vec![("o".to_string(), 1, "a".to_string())]);
        assert!(!typing.stop("o", 1, "a"), "already lapsed");
    }
}
