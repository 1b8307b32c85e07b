//! Local presence: how many streams each user has open on this relay. The first one
//! reports them online upstream; when the last one closes they are reported offline only
//! after the debounce, and only if no stream reopened meanwhile, so a quick reconnect
//! never flaps.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use switchboard_auth::OrgUser;
use switchboard_proto::v1 as pb;

use crate::upstream::Upstream;

struct UserStreams {
    open: usize,
    /// Open streams that follow all of the user's conversations.
    following_all: usize,
    /// Bumped on every change, so a pending offline report can tell it is stale.
    generation: u64,
    /// The `name` claim of the token of the stream that brought them online.
    name: String,
}

pub(crate) struct LocalPresence {
    upstream: Arc<Upstream>,
    debounce: Duration,
    /// (org, user) → their streams here. An entry exists while the user counts as online.
    users: Mutex<HashMap<OrgUser, UserStreams>>,
}

impl LocalPresence {
    pub(crate) fn new(upstream: Arc<Upstream>, debounce: Duration) -> Self {
        LocalPresence { upstream, debounce, users: Mutex::new(HashMap::new()) }
    }

    /// Counts a new stream of the user, unless they already have `max` open here. `name`
    /// (their token's) goes with the report that they came online.
    pub(crate) fn try_open(&self, org: &str, user: &str, name: &str, max: usize) -> bool {
        let mut users = self.users.lock().expect("presence lock poisoned");
        let key = OrgUser::new(org, user);
        let entry = users.entry(key).or_insert_with(|| UserStreams {
            open: 0,
            following_all: 0,
            generation: 0,
            name: name.to_string(),
        });
        if entry.open >= max {
            return false;
        }
        let was_online = entry.open > 0 || entry.generation > 0;
        entry.open += 1;
        entry.generation += 1;
        if !was_online {
            self.upstream.report_online(org, user, entry.following_all > 0, &entry.name);
        }
        true
    }

    /// One of the user's open streams now follows all of their conversations.
    pub(crate) fn follows_all(&self, org: &str, user: &str) {
        let mut users = self.users.lock().expect("presence lock poisoned");
        let Some(entry) = users.get_mut(&OrgUser::new(org, user)) else { return };
        entry.following_all += 1;
        if entry.following_all == 1 {
            self.upstream.report_online(org, user, true, &entry.name);
        }
    }

    /// A stream of the user closed; `followed_all` says whether it followed all of their
    /// conversations.
    pub(crate) fn closed(self: &Arc<Self>, org: &str, user: &str, followed_all: bool) {
        let key = OrgUser::new(org, user);
        let generation = {
            let mut users = self.users.lock().expect("presence lock poisoned");
            let Some(entry) = users.get_mut(&key) else { return };
            entry.open -= 1;
            entry.generation += 1;
            if followed_all {
                entry.following_all -= 1;
            }
            if entry.open > 0 {
                if followed_all && entry.following_all == 0 {
                    self.upstream.report_online(org, user, false, &entry.name);
                }
                return;
            }
            entry.generation
        };
        let presence = self.clone();
        tokio::spawn(async move {
            tokio::time::sleep(presence.debounce).await;
            let mut users = presence.users.lock().expect("presence lock poisoned");
            if users.get(&key).is_some_and(|e| e.open == 0 && e.generation == generation) {
                users.remove(&key);
                presence.upstream.report_offline(&key.org, &key.user);
            }
        });
    }

    /// The reports of the users this relay has online (whether a stream of theirs follows
    /// all of their conversations, and their name), re-sent whenever the controller link
    /// reopens.
    pub(crate) fn online_users(&self) -> Vec<pb::PresenceReport> {
        let users = self.users.lock().expect("presence lock poisoned");
        let report = |(key, streams): (&OrgUser, &UserStreams)| pb::PresenceReport {
            org: key.org.clone(),
            user_id: key.user.clone(),
            online: true,
            follows_all: streams.following_all > 0,
            name: streams.name.clone(),
        };
        users.iter().map(report).collect()
    }
}
