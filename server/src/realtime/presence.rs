//! Who is online: a user is online while at least one relay reports a stream for them. The
//! relays debounce quick reconnects, so reports here are already steady.

use std::collections::{HashMap, HashSet};
use std::sync::Mutex;

use super::RelayId;

/// (org, user)
type UserKey = (String, String);

#[derive(Default)]
pub struct PresenceTracker {
    /// The relays that report each online user.
    online: Mutex<HashMap<UserKey, HashSet<RelayId>>>,
}

impl PresenceTracker {
    /// Applies a relay's report; `Some(online)` when the user's overall state changed.
    pub fn report(&self, relay: RelayId, org: &str, user: &str, online: bool) -> Option<bool> {
        let mut map = self.online.lock().expect("presence lock poisoned");
        let key = (org.to_string(), user.to_string());
        if online {
            let relays = map.entry(key).or_default();
            let was_online = !relays.is_empty();
            relays.insert(relay);
            (!was_online).then_some(true)
        } else {
            let relays = map.get_mut(&key)?;
            if !relays.remove(&relay) || !relays.is_empty() {
                return None;
            }
            map.remove(&key);
            Some(false)
        }
    }

    /// Forgets a relay that went away; returns the users who are offline because of it.
    pub fn relay_gone(&self, relay: RelayId) -> Vec<UserKey> {
        let mut map = self.online.lock().expect("presence lock poisoned");
        let mut offline = Vec::new();
        map.retain(|user, relays| {
            if relays.remove(&relay) && relays.is_empty() {
                offline.push(user.clone());
                return false;
            }
            true
        });
        offline
    }

    pub fn is_online(&self, org: &str, user: &str) -> bool {
        let map = self.online.lock().expect("presence lock poisoned");
        map.contains_key(&(org.to_string(), user.to_string()))
    }

    /// Users online via this controller's relays.
    pub fn online_users(&self) -> Vec<UserKey> {
        self.online.lock().expect("presence lock poisoned").keys().cloned().collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn online_while_any_relay_reports_the_user() {
        let presence = PresenceTracker::default();
        assert_eq!(presence.report(1, "o", "u", true), Some(true));
        assert_eq!(presence.report(2, "o", "u", true), None);
        assert_eq!(presence.report(1, "o", "u", false), None);
        assert!(presence.is_online("o", "u"));
        assert_eq!(presence.relay_gone(2), vec![("o".to_string(), "u".to_string())]);
        assert!(!presence.is_online("o", "u"));
        assert_eq!(presence.report(1, "o", "u", false), None);
    }
}
