//! Who is online: a user is online while at least one relay reports a stream for them. The
//! relays debounce quick reconnects, so reports here are already steady.

use std::collections::HashMap;
use std::sync::Mutex;

use super::RelayId;
use crate::auth::OrgUser;

#[derive(Default)]
pub struct PresenceTracker {
    /// The relays that report each online user, and whether a stream of the user there
    /// follows all of their conversations.
    online: Mutex<HashMap<OrgUser, HashMap<RelayId, bool>>>,
}

impl PresenceTracker {
    /// Applies a relay's report; `Some(online)` when the user's overall state changed.
    pub fn report(
        &self,
        relay: RelayId,
        org: &str,
        user: &str,
        online: bool,
        follows_all: bool,
    ) -> Option<bool> {
        let mut map = self.online.lock().expect("presence lock poisoned");
        let key = OrgUser::new(org, user);
        if online {
            let relays = map.entry(key).or_default();
            let was_online = !relays.is_empty();
            relays.insert(relay, follows_all);
            (!was_online).then_some(true)
        } else {
            let relays = map.get_mut(&key)?;
            if relays.remove(&relay).is_none() || !relays.is_empty() {
                return None;
            }
            map.remove(&key);
            Some(false)
        }
    }

    /// Forgets a relay that went away; returns the users who are offline because of it.
    pub fn relay_gone(&self, relay: RelayId) -> Vec<OrgUser> {
        let mut map = self.online.lock().expect("presence lock poisoned");
        let mut offline = Vec::new();
        map.retain(|user, relays| {
            if relays.remove(&relay).is_some() && relays.is_empty() {
                offline.push(user.clone());
                return false;
            }
            true
        });
        offline
    }

    /// Whether a stream of the user on this controller's relays follows all of their
    /// conversations; None when no relay of this controller has the user.
    pub fn follows_all(&self, org: &str, user: &str) -> Option<bool> {
        let map = self.online.lock().expect("presence lock poisoned");
        let relays = map.get(&OrgUser::new(org, user))?;
        Some(relays.values().any(|follows| *follows))
    }

    /// Users online via this controller's relays.
    pub fn online_users(&self) -> Vec<OrgUser> {
        self.online.lock().expect("presence lock poisoned").keys().cloned().collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn online_while_any_relay_reports_the_user() {
        let presence = PresenceTracker::default();
        assert_eq!(presence.report(1, "o", "u", true, false), Some(true));
        assert_eq!(presence.report(2, "o", "u", true, false), None);
        assert_eq!(presence.report(1, "o", "u", false, false), None);
        assert_eq!(presence.follows_all("o", "u"), Some(false), "still online via relay 2");
        assert_eq!(presence.relay_gone(2), vec![OrgUser::new("o", "u")]);
        assert_eq!(presence.follows_all("o", "u"), None, "offline");
        assert_eq!(presence.report(1, "o", "u", false, false), None);
    }

    #[test]
    fn a_user_follows_all_while_any_relay_says_so() {
        let presence = PresenceTracker::default();
        assert_eq!(presence.follows_all("o", "u"), None);
        presence.report(1, "o", "u", true, false);
        assert_eq!(presence.follows_all("o", "u"), Some(false));
        assert_eq!(presence.report(2, "o", "u", true, true), None, "no presence change");
        assert_eq!(presence.follows_all("o", "u"), Some(true));
        presence.report(2, "o", "u", true, false);
        assert_eq!(presence.follows_all("o", "u"), Some(false));
    }
}
