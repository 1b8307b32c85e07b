//! Presence changes waiting for the next tick. Every tick, one `presence_changed` event per
//! org carries all of its users' changes since the last, so a thousand members arriving at
//! once cost each stream watching them a few events, not a thousand.

use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;
use std::time::Duration;

/// How long a change waits for others to share its event: short next to the relays'
/// offline debounce (3 s), long enough that a connect storm batches.
pub const PRESENCE_TICK: Duration = Duration::from_millis(200);

/// What happened to a user's presence since the last tick.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Change {
    /// Online now.
    pub online: bool,
    /// When they went offline (Unix milliseconds), if that is the change.
    pub went_offline_ms: Option<i64>,
}

#[derive(Default)]
pub struct PendingPresence {
    /// Per org, each user's newest change since the last tick (a user who came and went
    /// within one tick is told as gone).
    changes: Mutex<HashMap<String, BTreeMap<String, Change>>>,
}

impl PendingPresence {
    pub fn record(&self, org: &str, user: &str, change: Change) {
        let mut changes = self.changes.lock().expect("presence lock poisoned");
        changes.entry(org.to_string()).or_default().insert(user.to_string(), change);
    }

    /// The changes since the last call, per org.
    pub fn take(&self) -> Vec<(String, Vec<(String, Change)>)> {
        let changes = std::mem::take(&mut *self.changes.lock().expect("presence lock poisoned"));
        changes.into_iter().map(|(org, users)| (org, users.into_iter().collect())).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_tick_carries_each_users_newest_change_once_per_org() {
        let pending = PendingPresence::default();
        let (online, offline) = (
            Change { online: true, went_offline_ms: None },
            Change { online: false, went_offline_ms: Some(7) },
        );
        pending.record("acme", "ann", online);
        pending.record("acme", "bob", online);
        pending.record("acme", "ann", offline);
        pending.record("other", "ann", online);
        let mut batches = pending.take();
        batches.sort_by(|a, b| a.0.cmp(&b.0));
        assert_eq!(batches.len(), 2);
        assert_eq!(batches[0].1, [("ann".to_string(), offline), ("bob".to_string(), online)]);
        assert_eq!(batches[1].1, [("ann".to_string(), online)]);
        assert!(pending.take().is_empty(), "taken once");
    }
}
