//! Presence changes waiting for the next tick. Every tick, one `presence_changed` event per
//! org carries all of its users' changes since the last, so a thousand members arriving at
//! once cost each stream watching them a few events, not a thousand.

use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;
use std::time::Duration;

use switchboard_proto::v1 as pb;

/// How long a change waits for others to share its event: short next to the relays'
/// offline debounce (3 s), long enough that a connect storm batches.
pub const PRESENCE_TICK: Duration = Duration::from_millis(200);

#[derive(Default)]
pub struct PendingPresence {
    /// Per org, each user's newest presence since the last tick (a user who came and went
    /// within one tick is told as gone).
    changes: Mutex<HashMap<String, BTreeMap<String, pb::UserPresence>>>,
}

impl PendingPresence {
    pub fn record(&self, org: &str, presence: pb::UserPresence) {
        let mut changes = self.changes.lock().expect("presence lock poisoned");
        changes.entry(org.to_string()).or_default().insert(presence.user_id.clone(), presence);
    }

    /// The changes since the last call, one batch per org.
    pub fn take(&self) -> Vec<(String, pb::PresenceChanged)> {
        let changes = std::mem::take(&mut *self.changes.lock().expect("presence lock poisoned"));
        let batch = |users: BTreeMap<String, pb::UserPresence>| pb::PresenceChanged {
            users: users.into_values().collect(),
        };
        changes.into_iter().map(|(org, users)| (org, batch(users))).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_tick_carries_each_users_newest_state_once_per_org() {
        let pending = PendingPresence::default();
        let presence = |user: &str, online| pb::UserPresence {
            user_id: user.into(),
            online,
            ..Default::default()
        };
        pending.record("acme", presence("ann", true));
        pending.record("acme", presence("bob", true));
        pending.record("acme", presence("ann", false));
        pending.record("other", presence("ann", true));
        let mut batches = pending.take();
        batches.sort_by(|a, b| a.0.cmp(&b.0));
        let users = |batch: &pb::PresenceChanged| {
            batch.users.iter().map(|u| (u.user_id.clone(), u.online)).collect::<Vec<_>>()
        };
        assert_eq!(batches.len(), 2);
        assert_eq!(users(&batches[0].1), [("ann".into(), false), ("bob".into(), true)]);
        assert_eq!(users(&batches[1].1), [("ann".into(), true)]);
        assert!(pending.take().is_empty(), "taken once");
    }
}
