//! Presence: who is online, from what relays report here and what other controllers
//! announce on the board. Changes go out once per tick on the org's presence topic, to
//! the streams that watch those users (no store read, whatever the user's conversations).

use std::sync::Arc;

use crate::auth::{Caller, OrgUser};
use crate::bus::PresenceBoard;
use crate::error::{ChatError, ChatResult};
use crate::realtime::{Events, PendingPresence, PresenceTracker, RelayId};
use crate::validate::{self, Violations};

/// Who is online: via this controller's relays, and anywhere in the cluster.
pub struct Presence {
    /// Who is online via this controller's relays.
    pub(super) tracker: PresenceTracker,
    /// Who is online anywhere in the cluster.
    pub(super) board: Arc<dyn PresenceBoard>,
    /// Changes waiting for the next tick's events.
    pub(super) pending: PendingPresence,
    pub(super) events: Events,
}

impl Presence {
    /// GetPresence: which of these users of the caller's org are online.
    pub async fn presence_of(&self, caller: &Caller, users: &[String]) -> ChatResult<Vec<bool>> {
        let mut violations = Violations::new();
        violations.check("user_ids", validate::check_user_ids(users));
        if users.is_empty() {
            violations.check("user_ids", Err("name at least one user".into()));
        }
        violations.finish()?;
        let mut online = Vec::with_capacity(users.len());
        for user in users {
            let here = self.board.is_online(&caller.org, user).await;
            online.push(here.map_err(|e| ChatError::Unavailable(e.to_string()))?);
        }
        Ok(online)
    }

    /// A relay reports a user's first stream opened or last one closed.
    pub async fn report_presence(
        &self,
        relay: RelayId,
        org: &str,
        user: &str,
        online: bool,
        follows_all: bool,
    ) {
        match self.tracker.report(relay, org, user, online, follows_all) {
            Some(true) => self.arrived(org, user).await,
            Some(false) => self.departed(org, user).await,
            None => {}
        }
    }

    /// A relay stream ended: its users are offline unless another relay has them.
    pub async fn relay_gone(&self, relay: RelayId) {
        for OrgUser { org, user } in self.tracker.relay_gone(relay) {
            self.departed(&org, &user).await;
        }
    }

    /// Heartbeat for this controller's online users on the cluster board.
    pub async fn refresh_presence(&self) {
        match self.board.refresh(&self.tracker.online_users()).await {
            Ok(expired) => {
                for OrgUser { org, user } in expired {
                    self.publish_presence(&org, &user, false);
                }
            }
            Err(error) => tracing::warn!(%error, "presence heartbeat failed"),
        }
    }

    async fn arrived(&self, org: &str, user: &str) {
        match self.board.arrive(org, user).await {
            Ok(true) => self.publish_presence(org, user, true),
            Ok(false) => {} // already online via another controller
            Err(error) => tracing::warn!(%error, "presence board unavailable"),
        }
    }

    async fn departed(&self, org: &str, user: &str) {
        match self.board.depart(org, user).await {
            Ok(true) => self.publish_presence(org, user, false),
            Ok(false) => {} // still online via another controller
            Err(error) => tracing::warn!(%error, "presence board unavailable"),
        }
    }

    fn publish_presence(&self, org: &str, user: &str, online: bool) {
        self.pending.record(org, user, online);
    }

    /// Publishes the changes since the last tick, one event per org.
    pub async fn publish_pending(&self) {
        for (org, changes) in self.pending.take() {
            self.events.presence_changed(&org, changes).await;
        }
    }

    /// Whether a device of the user receives this conversation's messages live now: a
    /// stream that follows all of the user's conversations does; a stream limited to a list
    /// is not taken to (the list is the relay's), so its user is notified. A user online
    /// only through other controllers' relays is taken to follow.
    pub(super) async fn follows_live(&self, org: &str, user: &str) -> bool {
        match self.tracker.follows_all(org, user) {
            Some(follows) => follows,
            None => self.is_online(org, user).await,
        }
    }

    pub(super) async fn is_online(&self, org: &str, user: &str) -> bool {
        self.board.is_online(org, user).await.unwrap_or(false)
    }
}
