//! `RelayState`: everything the relay's services share (its config, the token verifier,
//! the controller link, the local subscribers, presence and its watchers, figures and the
//! open sessions),
//! and the sessions' lifecycle. What it does with events and with its link lives in
//! `dispatch` and `link`.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use switchboard_auth::{Caller, TokenVerifier};
use switchboard_proto::encoded::EncodedStream;
use switchboard_proto::status;
use switchboard_proto::topic::Topic;

use crate::config::RelayConfig;
use crate::presence::LocalPresence;
use crate::replay;
use crate::session::Session;
use crate::stats::Stats;
use crate::subscribers::ChannelSubscribers;
use crate::upstream::Upstream;
use crate::watchers::PresenceWatchers;

/// Everything the relay's services share.
pub(crate) struct RelayState {
    pub(crate) config: RelayConfig,
    /// Verifies client tokens (every node verifies).
    pub(crate) verifier: Arc<TokenVerifier>,
    pub(crate) upstream: Arc<Upstream>,
    pub(crate) subscribers: ChannelSubscribers,
    pub(crate) presence: Arc<LocalPresence>,
    /// Whose presence each local stream shows.
    pub(crate) watchers: PresenceWatchers,
    pub(crate) stats: Arc<Stats>,
    /// New streams per client IP address.
    pub(crate) connect_rate: switchboard_auth::rate::KeyedRate<std::net::IpAddr>,
    /// Open sessions, to end them all on shutdown.
    pub(crate) sessions: Mutex<HashMap<u64, Arc<Session>>>,
    /// Sessions holding live events back until a resync.
    pub(crate) pending_resync: Mutex<Option<Vec<Arc<Session>>>>,
    pub(crate) next_session: AtomicU64,
    /// For uptime in reports.
    pub(crate) started: std::time::Instant,
    /// The address clients reach this relay at, set when it starts serving (for reports).
    pub(crate) address: std::sync::OnceLock<String>,
}

impl RelayState {
    /// What a replay reads from: the changes kept here, and the controller.
    pub(crate) fn replay_links(&self) -> (&ChannelSubscribers, &Upstream) {
        (&self.subscribers, &self.upstream)
    }

    /// A new session for the caller, unless they have the most streams allowed open.
    pub(crate) fn open_session(
        &self,
        caller: &Caller,
        token: String,
    ) -> Result<(Arc<Session>, EncodedStream), tonic::Status> {
        let max = self.config.max_streams_per_user;
        let name = caller.name.as_deref().unwrap_or_default();
        if !self.presence.try_open(&caller.org, &caller.user, name, max) {
            return Err(status::exhausted(format!(
                "{} already has {max} streams open on this relay (the most allowed)",
                caller.user
            )));
        }
        let id = self.next_session.fetch_add(1, Ordering::Relaxed);
        let queue = self.config.client_queue;
        let (session, frames) =
            Session::new(id, &caller.org, &caller.user, token, queue, self.stats.clone());
        self.sessions.lock().expect("sessions lock poisoned").insert(id, session.clone());
        self.stats.sessions.inc();
        Ok((session, frames))
    }

    pub(crate) fn close_session(&self, session: &Arc<Session>) {
        session.ended.cancel();
        for conversation_id in session.conversations() {
            self.subscribers
                .unsubscribe(session.id, &Topic::channel(&session.org, conversation_id));
        }
        self.subscribers.unsubscribe(session.id, &Topic::user(&session.org, &session.user));
        self.watchers.unwatch(session.id, &session.org, &session.watched());
        for conversation_id in session.counted() {
            let topic = Topic::online_count(&session.org, conversation_id);
            self.subscribers.unsubscribe(session.id, &topic);
        }
        self.subscribers.unsubscribe(session.id, &Topic::presence(&session.org));
        if self.sessions.lock().expect("sessions lock poisoned").remove(&session.id).is_some() {
            self.stats.sessions.dec();
        }
        self.presence.closed(&session.org, &session.user, session.follows_all());
    }

    /// Events may be lost from now on: every open session holds its live events back until
    /// it has been resynced (see [`RelayState::resync_held`]). Called when the controller
    /// link breaks (and again, harmlessly, if it breaks again before the resync).
    pub(crate) fn hold_all(&self) {
        let sessions: Vec<_> =
            self.sessions.lock().expect("sessions lock poisoned").values().cloned().collect();
        let mut pending = self.pending_resync.lock().expect("resync lock poisoned");
        let held = pending.get_or_insert_with(Vec::new);
        for session in sessions {
            if !held.iter().any(|h| h.id == session.id) {
                session.begin_replay();
                held.push(session);
            }
        }
    }

    /// Replays every held session from its positions and releases it. Call once the
    /// subscriptions are back in place.
    pub(crate) fn resync_held(self: &Arc<Self>) {
        let Some(held) = self.pending_resync.lock().expect("resync lock poisoned").take() else {
            return;
        };
        self.stats.resyncs.inc();
        tracing::info!(sessions = held.len(), "resyncing sessions from the store");
        for session in held {
            let state = self.clone();
            tokio::spawn(async move { replay::resync(state.replay_links(), &session).await });
        }
    }
}
