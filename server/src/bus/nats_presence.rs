//! Presence across controllers on NATS core (JetStream KV is not usable with the NATS 2.9
//! servers Debian ships), of users and of the controllers themselves. Every controller
//! announces on `sb._presence`:
//!
//! - once when it starts, before it serves anything,
//! - a delta when a user arrives or departs through it, and
//! - a heartbeat every TTL/3 listing the users it still has (in chunks).
//!
//! Each controller keeps a view, user → {node → last heard}, and counts a user online while
//! any entry is younger than the TTL. A controller that dies stops heartbeating, so its
//! users stop counting within the TTL. Offline transitions that nobody caused (expiry, or
//! two nodes departing at once) are announced by the lowest live node id; a duplicate
//! announcement is harmless (each client stream passes on a presence change once).
//!
//! Every announcement also says which run of its node it comes from, and how many outages
//! of its link to NATS that run has had. A node that stops being heard for the TTL, or is
//! heard from a new run or after a new outage, may have committed changes whose events
//! never reached NATS (it stopped, or its link broke, between a write and its publish):
//! the other controllers are told ([`Resync::PeerLost`]) and fill from the Store.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use futures_util::StreamExt;
use serde::{Deserialize, Serialize};

use tokio::sync::mpsc;

use super::presence::PresenceBoard;
use super::{BusError, Resync};
use crate::auth::OrgUser;

const SUBJECT: &str = "sb._presence";
/// Users per heartbeat message.
const HEARTBEAT_CHUNK: usize = 500;

#[derive(Serialize, Deserialize)]
struct Announcement {
    node: u16,
    /// Which run of the node, and how many outages of its link to NATS that run has had
    /// (absent from older nodes).
    #[serde(default)]
    run: Run,
    /// Arrived (true) or departed (false); heartbeats are arrivals that change nothing.
    online: bool,
    users: Vec<OrgUser>,
}

/// A node's run: when it started (Unix ms), and its link's outages since.
#[derive(Serialize, Deserialize, Clone, Copy, Default, PartialEq, Eq, Debug)]
struct Run {
    started_ms: i64,
    outages: u32,
}

/// What is known of a node: when it was last heard from at all (Unix ms), and in which run.
#[derive(Clone, Copy)]
struct Heard {
    at: i64,
    run: Run,
}

#[derive(Default)]
struct View {
    /// User → node → when last heard of (Unix ms).
    users: HashMap<OrgUser, BTreeMap<u16, i64>>,
    /// Node → last heard from.
    nodes: BTreeMap<u16, Heard>,
    /// Users this node departed recently: if another node's departure then empties them,
    /// both decided "still online", so this node announces the offline.
    departed_here: HashMap<OrgUser, i64>,
    /// Offline announcements owed, taken by `refresh`.
    owed: Vec<OrgUser>,
    /// Other nodes that may have lost what they published, to tell the hub about.
    lost: Vec<u16>,
}

pub struct NatsBoard {
    client: async_nats::Client,
    node: u16,
    /// This node's run, announced with everything.
    run: Mutex<Run>,
    ttl: Duration,
    view: Arc<Mutex<View>>,
    /// Where nodes that may have lost what they published are reported.
    resyncs: mpsc::Sender<Resync>,
}

impl NatsBoard {
    /// Starts listening to the other controllers, and announces this one: from here on,
    /// nodes that may have lost what they published are reported on `resyncs`.
    pub async fn open(
        client: async_nats::Client,
        node: u16,
        ttl: Duration,
        resyncs: mpsc::Sender<Resync>,
    ) -> Result<Self, BusError> {
        let mut announcements = client
            .subscribe(SUBJECT)
            .await
            .map_err(|e| BusError::Unavailable(format!("presence subscription: {e}")))?;
        let view = Arc::new(Mutex::new(View::default()));
        let (heard, told) = (view.clone(), resyncs.clone());
        let ttl_ms = ttl.as_millis() as i64;
        tokio::spawn(async move {
            while let Some(message) = announcements.next().await {
                let Ok(announcement) = serde_json::from_slice::<Announcement>(&message.payload)
                else {
                    continue;
                };
                if announcement.node != node {
                    let mut view = heard.lock().expect("view lock");
                    view.apply(&announcement, switchboard_proto::ids::now_ms(), ttl_ms);
                    report_lost(&mut view, &told);
                }
            }
        });
        let run = Mutex::new(Run { started_ms: switchboard_proto::ids::now_ms(), outages: 0 });
        let board = NatsBoard { client, node, run, ttl, view, resyncs };
        board.announce(true, Vec::new()).await?;
        Ok(board)
    }

    /// This node's link to NATS came back after an outage, during which what it published
    /// may have been lost: tells the other controllers, which fill from the Store.
    pub async fn link_restored(&self) -> Result<(), BusError> {
        self.run.lock().expect("run lock").outages += 1;
        self.announce(true, Vec::new()).await
    }

    async fn announce(&self, online: bool, users: Vec<OrgUser>) -> Result<(), BusError> {
        let run = *self.run.lock().expect("run lock");
        let announcement = Announcement { node: self.node, run, online, users };
        let payload = serde_json::to_vec(&announcement).expect("announcement serializes");
        self.client
            .publish(SUBJECT, payload.into())
            .await
            .map_err(|e| BusError::Unavailable(e.to_string()))
    }

    fn ttl_ms(&self) -> i64 {
        self.ttl.as_millis() as i64
    }
}

impl View {
    fn online(&self, user: &OrgUser, now: i64, ttl_ms: i64) -> bool {
        self.users.get(user).is_some_and(|nodes| nodes.values().any(|at| now - at < ttl_ms))
    }

    /// Another node's announcement.
    fn apply(&mut self, announcement: &Announcement, now: i64, ttl_ms: i64) {
        let heard = Heard { at: now, run: announcement.run };
        if let Some(before) = self.nodes.insert(announcement.node, heard)
            && before.run != announcement.run
        {
            self.lost.push(announcement.node);
        }
        for user in &announcement.users {
            if announcement.online {
                self.users.entry(user.clone()).or_default().insert(announcement.node, now);
                continue;
            }
            let Some(nodes) = self.users.get_mut(user) else { continue };
            nodes.remove(&announcement.node);
            let recently_departed =
                self.departed_here.get(user).is_some_and(|at| now - at < ttl_ms);
            if !nodes.values().any(|at| now - at < ttl_ms) {
                self.users.remove(user);
                if recently_departed && !self.users.contains_key(user) {
                    self.owed.push(user.clone());
                }
            }
        }
    }

    /// Drops entries older than the TTL (a node not heard from is lost); owes the
    /// announcements of users that expired if this node is the lowest live one.
    fn expire(&mut self, me: u16, now: i64, ttl_ms: i64) {
        let lost = &mut self.lost;
        self.nodes.retain(|node, heard| {
            let live = now - heard.at < ttl_ms;
            if !live && *node != me {
                lost.push(*node);
            }
            live
        });
        let lowest_live = self.nodes.keys().next().is_none_or(|lowest| me <= *lowest);
        let mut expired = Vec::new();
        self.users.retain(|user, nodes| {
            nodes.retain(|_, at| now - *at < ttl_ms);
            if nodes.is_empty() {
                expired.push(user.clone());
                return false;
            }
            true
        });
        if lowest_live {
            self.owed.extend(expired);
        }
        self.departed_here.retain(|_, at| now - *at < ttl_ms);
    }
}

#[async_trait]
impl PresenceBoard for NatsBoard {
    async fn arrive(&self, org: &str, user: &str) -> Result<bool, BusError> {
        let key = OrgUser::new(org, user);
        let was_online = {
            let mut view = self.view.lock().expect("view lock");
            let was_online = view.online(&key, switchboard_proto::ids::now_ms(), self.ttl_ms());
            view.users
                .entry(key.clone())
                .or_default()
                .insert(self.node, switchboard_proto::ids::now_ms());
            view.departed_here.remove(&key);
            was_online
        };
        self.announce(true, vec![key]).await?;
        Ok(!was_online)
    }

    async fn depart(&self, org: &str, user: &str) -> Result<bool, BusError> {
        let key = OrgUser::new(org, user);
        let now_offline = {
            let mut view = self.view.lock().expect("view lock");
            if let Some(nodes) = view.users.get_mut(&key) {
                nodes.remove(&self.node);
            }
            view.departed_here.insert(key.clone(), switchboard_proto::ids::now_ms());
            let offline = !view.online(&key, switchboard_proto::ids::now_ms(), self.ttl_ms());
            if offline {
                view.users.remove(&key);
            }
            offline
        };
        self.announce(false, vec![key]).await?;
        Ok(now_offline)
    }

    async fn is_online(&self, org: &str, user: &str) -> Result<bool, BusError> {
        let view = self.view.lock().expect("view lock");
        Ok(view.online(&OrgUser::new(org, user), switchboard_proto::ids::now_ms(), self.ttl_ms()))
    }

    async fn refresh(&self, users: &[OrgUser]) -> Result<Vec<OrgUser>, BusError> {
        let owed = {
            let mut view = self.view.lock().expect("view lock");
            let now = switchboard_proto::ids::now_ms();
            for user in users {
                view.users.entry(user.clone()).or_default().insert(self.node, now);
            }
            let run = *self.run.lock().expect("run lock");
            view.nodes.insert(self.node, Heard { at: now, run });
            view.expire(self.node, now, self.ttl_ms());
            report_lost(&mut view, &self.resyncs);
            std::mem::take(&mut view.owed)
        };
        // An empty heartbeat still says "this node is alive".
        if users.is_empty() {
            self.announce(true, Vec::new()).await?;
        }
        for chunk in users.chunks(HEARTBEAT_CHUNK) {
            self.announce(true, chunk.to_vec()).await?;
        }
        Ok(owed)
    }
}

/// Tells the hub about the nodes found lost. A report that does not fit waits behind
/// others that will fill from the Store after it was lost anyway.
fn report_lost(view: &mut View, resyncs: &mpsc::Sender<Resync>) {
    for node in view.lost.drain(..) {
        tracing::info!(
            node,
            "a controller stopped or lost its link to NATS; filling from the store"
        );
        let _ = resyncs.try_send(Resync::PeerLost { node });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user(name: &str) -> OrgUser {
        OrgUser::new("acme", name)
    }

    fn from(node: u16, online: bool, users: Vec<OrgUser>) -> Announcement {
        Announcement { node, run: Run { started_ms: 1, outages: 0 }, online, users }
    }

    #[test]
    fn a_user_is_online_while_any_fresh_node_has_them() {
        let mut view = View::default();
        let arrive = from(2, true, vec![user("a")]);
        view.apply(&arrive, 1_000, 30_000);
        assert!(view.online(&user("a"), 5_000, 30_000));
        assert!(!view.online(&user("a"), 40_000, 30_000), "stale entries do not count");
    }

    #[test]
    fn expiry_is_announced_by_the_lowest_live_node_only() {
        let mut low = View::default();
        let mut high = View::default();
        for (view, me) in [(&mut low, 1), (&mut high, 3)] {
            let other = if me == 1 { 3 } else { 1 };
            view.apply(&from(other, true, vec![]), 50_000, 30_000);
            view.apply(&from(2, true, vec![user("a")]), 1_000, 30_000);
            view.nodes.insert(me, Heard { at: 50_000, run: Run::default() });
            view.expire(me, 50_000, 30_000);
        }
        assert_eq!(low.owed, vec![user("a")]);
        assert!(high.owed.is_empty());
    }

    #[test]
    fn simultaneous_departures_still_end_in_one_offline() {
        let mut view = View::default();
        view.users.insert(user("a"), BTreeMap::from([(2, 1_000)]));
        view.departed_here.insert(user("a"), 1_000); // this node (1) departed, saw node 2
        view.apply(&from(2, false, vec![user("a")]), 1_100, 30_000);
        assert_eq!(view.owed, vec![user("a")]);
    }

    #[test]
    fn a_node_is_lost_when_it_goes_quiet_or_comes_back_from_a_new_run_or_outage() {
        let mut view = View::default();
        view.apply(&from(2, true, vec![]), 1_000, 30_000);
        view.apply(&from(2, true, vec![]), 2_000, 30_000);
        assert!(view.lost.is_empty(), "first heard, then heard again: nothing lost");
        let restarted =
            Announcement { run: Run { started_ms: 5, outages: 0 }, ..from(2, true, vec![]) };
        view.apply(&restarted, 3_000, 30_000);
        let link_back =
            Announcement { run: Run { started_ms: 5, outages: 1 }, ..from(2, true, vec![]) };
        view.apply(&link_back, 4_000, 30_000);
        assert_eq!(view.lost, [2, 2]);
        view.lost.clear();
        view.nodes.insert(1, Heard { at: 40_000, run: Run::default() });
        view.expire(1, 40_000, 30_000);
        assert_eq!(view.lost, [2], "quiet for the TTL; this node is never lost to itself");
    }

    #[test]
    fn users_travel_as_org_and_user_pairs_as_older_nodes_send_them() {
        let json = serde_json::to_string(&from(2, true, vec![user("a")])).unwrap();
        assert!(json.contains(r#""users":[["acme","a"]]"#), "{json}");
        let older = r#"{"node":3,"online":true,"users":[["acme","b"]]}"#;
        let heard: Announcement = serde_json::from_str(older).unwrap();
        assert_eq!(heard.users, [user("b")]);
        assert_eq!(heard.run, Run::default(), "a node that names no run");
    }
}
