//! The presence board: who is online across the whole cluster. Each controller learns
//! from its own relays (see `realtime::PresenceTracker`) and records here that a user is
//! online "via this node"; a user is online while any node has them. The in-process board
//! serves a single controller; the NATS board shares the records between controllers with
//! heartbeats, so a controller that dies stops counting after the TTL.

use std::collections::HashSet;
use std::sync::Mutex;

use async_trait::async_trait;

use super::BusError;
use crate::auth::OrgUser;

#[async_trait]
pub trait PresenceBoard: Send + Sync + 'static {
    /// The user is online via this node; true if they were offline everywhere before.
    async fn arrive(&self, org: &str, user: &str) -> Result<bool, BusError>;

    /// The user is no longer online via this node; true if now offline everywhere.
    async fn depart(&self, org: &str, user: &str) -> Result<bool, BusError>;

    async fn is_online(&self, org: &str, user: &str) -> Result<bool, BusError>;

    /// Heartbeat: this node still has these users online. Returns users who went offline
    /// without anyone announcing it (their node died), whom this node should announce.
    async fn refresh(&self, users: &[OrgUser]) -> Result<Vec<OrgUser>, BusError>;
}

/// One controller: its own users are everyone.
#[derive(Default)]
pub struct LocalBoard {
    online: Mutex<HashSet<OrgUser>>,
}

#[async_trait]
impl PresenceBoard for LocalBoard {
    async fn arrive(&self, org: &str, user: &str) -> Result<bool, BusError> {
        Ok(self.online.lock().expect("board lock").insert(OrgUser::new(org, user)))
    }

    async fn depart(&self, org: &str, user: &str) -> Result<bool, BusError> {
        Ok(self.online.lock().expect("board lock").remove(&OrgUser::new(org, user)))
    }

    async fn is_online(&self, org: &str, user: &str) -> Result<bool, BusError> {
        Ok(self.online.lock().expect("board lock").contains(&OrgUser::new(org, user)))
    }

    async fn refresh(&self, _: &[OrgUser]) -> Result<Vec<OrgUser>, BusError> {
        Ok(Vec::new())
    }
}
