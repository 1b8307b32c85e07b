//! Presence: who is online, from what relays report here and what other controllers
//! announce on the board, and the status each user sets (availability, a text) with when
//! they were last seen, from the store. Changes go out once per tick on the org's presence
//! topic, to the streams that watch those users: each costs one status read (and, going
//! offline, one write) when the tick publishes it, never while a relay's report waits,
//! whatever the user's conversations.

use std::sync::Arc;

use switchboard_proto::v1 as pb;

use crate::auth::{Caller, OrgUser};
use crate::bus::PresenceBoard;
use crate::convert;
use crate::error::{ChatError, ChatResult};
use crate::ids::IdGenerator;
use crate::model::{Availability, UserStatus};
use crate::realtime::{
    Events, OnlineCounts, PendingPresence, PresenceChange, PresenceTracker, RelayId,
};
use crate::store::{MemberStore, StatusStore};
use crate::validate::{self, Violations};

use super::Relations;

/// Members read per page when counting who of a conversation is online.
const COUNT_PAGE: usize = 1_000;

/// Who is online: via this controller's relays, and anywhere in the cluster.
pub struct Presence {
    /// What users set, and when they were last seen.
    pub(super) store: Arc<dyn StatusStore>,
    /// Whom online counts count.
    pub(super) members: Arc<dyn MemberStore>,
    /// The controller's clock, for last-seen times.
    pub(super) ids: Arc<IdGenerator>,
    /// Who is online via this controller's relays.
    pub(super) tracker: PresenceTracker,
    /// Who is online anywhere in the cluster.
    pub(super) board: Arc<dyn PresenceBoard>,
    /// Changes waiting for the next tick's events.
    pub(super) pending: PendingPresence,
    /// The online counts this controller's relays want, and when their orgs changed.
    pub counts: OnlineCounts,
    pub(super) events: Events,
    /// Users with a block between them and the caller are answered as unknown.
    pub(super) relations: Arc<Relations>,
}

impl Presence {
    /// GetPresence: these users' presence (of the caller's org).
    pub async fn presence_of(
        &self,
        caller: &Caller,
        users: &[String],
    ) -> ChatResult<Vec<pb::UserPresence>> {
        let mut violations = Violations::new();
        violations.check("user_ids", validate::check_user_ids(users));
        if users.is_empty() {
            violations.check("user_ids", Err("name at least one user".into()));
        }
        violations.finish()?;
        let apart = self.relations.kept_apart(&caller.org, &caller.user).await?;
        let mut presence = Vec::with_capacity(users.len());
        for user in users {
            if apart.contains(user) {
                // As for someone never seen: nothing says why.
                presence.push(pb::UserPresence { user_id: user.clone(), ..Default::default() });
                continue;
            }
            let online = self.board.is_online(&caller.org, user).await;
            let online = online.map_err(|e| ChatError::Unavailable(e.to_string()))?;
            let status = self.store.get_status(&caller.org, user).await?.unwrap_or_default();
            presence.push(convert::user_presence(user, online, &status));
        }
        Ok(presence)
    }

    /// SetStatus: the caller's availability and text; their presence as others now see it.
    pub async fn set_status(
        &self,
        caller: &Caller,
        availability: i32,
        text: &str,
    ) -> ChatResult<pb::UserPresence> {
        let mut violations = Violations::new();
        let chosen = convert::availability_from(availability);
        if chosen.is_none() {
            violations.check("availability", Err(format!("{availability} is not an availability")));
        }
        violations.check("text", validate::check_status_text(text));
        violations.finish()?;
        let availability = chosen.unwrap_or(Availability::Available);
        let (org, user) = (&caller.org, &caller.user);
        self.store.set_status(org, user, availability, text).await?;
        let status = self.store.get_status(org, user).await?.unwrap_or_default();
        let online = self.is_online(org, user).await;
        self.pending.record(org, user, PresenceChange { online, went_offline_ms: None });
        Ok(convert::user_presence(user, online, &status))
    }

    /// How many of a conversation's members are online now, and how many there are: one
    /// range read of its members per 1,000, and a presence lookup each (in memory).
    pub async fn count_online(&self, org: &str, conversation: u64) -> ChatResult<pb::OnlineCount> {
        let mut count = pb::OnlineCount::default();
        let mut after = String::new();
        loop {
            let page = self.members.list_members(conversation, &after, COUNT_PAGE).await?;
            for member in &page {
                count.members += 1;
                if self.is_online(org, &member.user_id).await {
                    count.online += 1;
                }
            }
            match page.last() {
                Some(last) if page.len() == COUNT_PAGE => after.clone_from(&last.user_id),
                _ => return Ok(count),
            }
        }
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

    /// A user came online or went offline (everywhere): their presence goes out with the
    /// next tick.
    fn publish_presence(&self, org: &str, user: &str, online: bool) {
        self.counts.presence_changed(org, tokio::time::Instant::now());
        let went_offline_ms = (!online).then(|| self.ids.now_ms());
        self.pending.record(org, user, PresenceChange { online, went_offline_ms });
    }

    /// Publishes the changes since the last tick, one event per org, each user's presence
    /// whole (their status read now; going offline, when is recorded first).
    pub async fn publish_pending(&self) {
        for (org, changes) in self.pending.take() {
            let mut users = Vec::with_capacity(changes.len());
            for (user, change) in changes {
                users.push(self.presence_after(&org, &user, change).await);
            }
            self.events.presence_changed(&org, pb::PresenceChanged { users }).await;
        }
    }

    async fn presence_after(
        &self,
        org: &str,
        user: &str,
        change: PresenceChange,
    ) -> pb::UserPresence {
        if let Some(at_ms) = change.went_offline_ms
            && let Err(error) = self.store.set_last_seen(org, user, at_ms).await
        {
            tracing::warn!(%error, "last seen not recorded");
        }
        let status = match self.store.get_status(org, user).await {
            Ok(status) => status.unwrap_or_default(),
            Err(error) => {
                tracing::warn!(%error, "presence told without the user's status");
                UserStatus::default()
            }
        };
        convert::user_presence(user, change.online, &status)
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
