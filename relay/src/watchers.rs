//! `PresenceWatchers`: whose presence each local stream shows (`watch_presence`), and the
//! newest state known here of each watched user. A batch of changes from an org's presence
//! topic reaches each stream watching any of its users as one `presence_changed` event
//! naming only those users: the cost is the changes times their watchers, never the size
//! of a conversation.
//!
//! A user first watched here is looked up once upstream (`GetPresence`); streams that watch
//! them later are told the state known here. Changes and a stream's first states are sent
//! under one lock, so a change never arrives before the older state it replaced. A stream
//! is never told the presence of someone with a block between them and its user.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use switchboard_auth::OrgUser;
use switchboard_proto::v1::{self as pb, event::Kind};

use crate::frames::encode_event;
use crate::session::{Session, SessionId};
use crate::upstream::Upstream;

struct Watched {
    /// The local streams that show this user's presence.
    sessions: HashMap<SessionId, Arc<Session>>,
    /// Their presence, once known (from a lookup or a change).
    presence: Option<pb::UserPresence>,
}

#[derive(Default)]
pub(crate) struct PresenceWatchers {
    /// Every user some local stream watches.
    users: Mutex<HashMap<OrgUser, Watched>>,
}

impl PresenceWatchers {
    fn users(&self) -> std::sync::MutexGuard<'_, HashMap<OrgUser, Watched>> {
        self.users.lock().expect("watchers lock poisoned")
    }

    /// Adds `session` as a watcher of `users` (of its org); returns those whose state is
    /// not known here yet.
    pub(crate) fn watch(&self, session: &Arc<Session>, users: &[String]) -> Vec<String> {
        let mut watched = self.users();
        let mut unknown = Vec::new();
        for user in users {
            let entry = watched
                .entry(OrgUser::new(&session.org, user))
                .or_insert_with(|| Watched { sessions: HashMap::new(), presence: None });
            entry.sessions.insert(session.id, session.clone());
            if entry.presence.is_none() {
                unknown.push(user.clone());
            }
        }
        unknown
    }

    /// `session` no longer watches `users` (of `org`).
    pub(crate) fn unwatch(&self, session: SessionId, org: &str, users: &[String]) {
        let mut watched = self.users();
        for user in users {
            let key = OrgUser::new(org, user);
            if let Some(entry) = watched.get_mut(&key) {
                entry.sessions.remove(&session);
                if entry.sessions.is_empty() {
                    watched.remove(&key);
                }
            }
        }
    }

    /// States looked up upstream: kept for users still watched whose state is still
    /// unknown (a change that arrived meanwhile is at least as new).
    pub(crate) fn learn(&self, org: &str, answers: &[pb::UserPresence]) {
        let mut watched = self.users();
        for answer in answers {
            if let Some(entry) = watched.get_mut(&OrgUser::new(org, &answer.user_id)) {
                entry.presence.get_or_insert_with(|| answer.clone());
            }
        }
    }

    /// Tells `session` the presence of `users` (offline while unknown): one `presence_changed`.
    pub(crate) fn tell(&self, session: &Session, users: &[String]) {
        if users.is_empty() {
            return;
        }
        let watched = self.users();
        let states = users.iter().map(|user| {
            let known = watched.get(&OrgUser::new(&session.org, user));
            let presence = known.and_then(|entry| entry.presence.clone());
            presence
                .unwrap_or_else(|| pb::UserPresence { user_id: user.clone(), ..Default::default() })
        });
        deliver(session, states.collect());
    }

    /// A batch of the org's changes: each watched user's state moves on, and each stream
    /// watching any of them gets one event with those users.
    pub(crate) fn changed(&self, org: &str, changes: &pb::PresenceChanged) {
        let mut watched = self.users();
        let mut per_session: HashMap<SessionId, (Arc<Session>, Vec<pb::UserPresence>)> =
            HashMap::new();
        for change in &changes.users {
            let Some(entry) = watched.get_mut(&OrgUser::new(org, &change.user_id)) else {
                continue;
            };
            // Already known here (a lookup can see an arrival before its batch is out):
            // every stream watching the user has been told it.
            if entry.presence.as_ref() == Some(change) {
                continue;
            }
            entry.presence = Some(change.clone());
            for (id, session) in &entry.sessions {
                let (_, users) =
                    per_session.entry(*id).or_insert_with(|| (session.clone(), Vec::new()));
                users.push(change.clone());
            }
        }
        for (session, users) in per_session.into_values() {
            deliver(&session, users);
        }
    }
}

impl PresenceWatchers {
    /// A block between a user and someone changed: the users kept from them are asked
    /// again (once for all of `sessions`, their streams that watch anyone); those newly kept
    /// apart are told offline, those no longer get their state.
    pub(crate) async fn blocks_changed(&self, upstream: &Upstream, sessions: &[Arc<Session>]) {
        let Some(first) = sessions.first() else { return };
        let apart = match upstream.kept_apart(&first.org, &first.user).await {
            Ok(apart) => apart,
            Err(status) => {
                tracing::warn!(user = %first.user, %status, "could not refresh a user's blocks");
                return;
            }
        };
        for session in sessions {
            let (hidden, shown) = session.set_apart(apart.clone());
            let watched = session.watched();
            let of_watched = |users: Vec<String>| -> Vec<String> {
                users.into_iter().filter(|user| watched.contains(user)).collect()
            };
            self.hide(session, &of_watched(hidden));
            self.tell(session, &of_watched(shown));
        }
    }

    /// `users` are now kept from `session` (a block): it is told they are offline, and
    /// nothing more of them.
    fn hide(&self, session: &Session, users: &[String]) {
        let offline = users
            .iter()
            .map(|user| pb::UserPresence { user_id: user.clone(), ..Default::default() });
        send(session, offline.collect());
    }
}

/// Sends `users`' states to `session`, but for those kept from it.
fn deliver(session: &Session, mut users: Vec<pb::UserPresence>) {
    users.retain(|user| !session.hides(&user.user_id));
    send(session, users);
}

fn send(session: &Session, users: Vec<pb::UserPresence>) {
    if users.is_empty() {
        return;
    }
    let event = Arc::new(pb::Event {
        conversation_id: 0,
        seq: 0,
        kind: Some(Kind::PresenceChanged(pb::PresenceChanged { users })),
    });
    session.deliver(&event, &encode_event(&event));
}
