//! `ChannelSubscribers`: per topic, the local sessions that want it. The relay holds an
//! upstream subscription for a topic exactly while it has at least one local subscriber:
//! the first one subscribes upstream (and waits for the controller's acknowledgement), the
//! last one to leave unsubscribes.
//!
//! Each conversation's topic knows its position: the newest change of the conversation
//! everyone in it may see that reached this relay (first, the one the controller's
//! acknowledgement names). A session that joins a topic starts there: every later change
//! reaches it.
//!
//! Each conversation's topic also keeps its latest changes (`Recent`), for sessions
//! resuming there: they are kept, and handed on, under the same lock.
//!
//! The registry lock is never held across an upstream round-trip: acknowledgements arrive
//! on the same stream the dispatcher reads, so holding it would deadlock.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use switchboard_proto::v1::{self as pb, event::Kind};
use tokio::sync::watch;
use tonic::Status;

use crate::recent::{Change, Recent};
use crate::session::{Session, SessionId};
use crate::stats::Stats;
use crate::upstream::Upstream;
use switchboard_proto::status;
use switchboard_proto::topic::Topic;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Upstreamed {
    Pending,
    /// In place, from this position on.
    Ready(u64),
    Failed,
}

struct TopicEntry {
    sessions: HashMap<SessionId, Arc<Session>>,
    /// For a topic whose every event replaces the last (an online count): the last one,
    /// for sessions that join later.
    kept: Option<(Arc<pb::Event>, Bytes)>,
    /// Whether the upstream subscription is in place; later subscribers wait for it.
    upstreamed: watch::Sender<Upstreamed>,
    /// The newest public change of the conversation that reached this relay.
    position: u64,
    /// The conversation's latest changes.
    recent: Recent,
    /// Held while the log is read to fill what `recent` lacks, so that sessions resuming
    /// at once wait for one read instead of each making their own.
    filling: Arc<tokio::sync::Mutex<()>>,
}

impl TopicEntry {
    /// A topic new to the relay, for its first session, not yet subscribed upstream.
    fn new(session: &Arc<Session>) -> TopicEntry {
        let (upstreamed, _) = watch::channel(Upstreamed::Pending);
        TopicEntry {
            sessions: HashMap::from([(session.id, session.clone())]),
            kept: None,
            upstreamed,
            position: 0,
            recent: Recent::default(),
            filling: Arc::default(),
        }
    }
}

pub(crate) struct ChannelSubscribers {
    upstream: Arc<Upstream>,
    /// Gauges of upstream topics and local subscriptions.
    stats: Arc<Stats>,
    registry: Mutex<HashMap<Topic, TopicEntry>>,
}

impl ChannelSubscribers {
    pub(crate) fn new(upstream: Arc<Upstream>, stats: Arc<Stats>) -> Self {
        ChannelSubscribers { upstream, stats, registry: Mutex::new(HashMap::new()) }
    }

    /// Adds `session` to `topic`; returns once the topic's events flow to this relay, with
    /// the position the session starts at.
    pub(crate) async fn subscribe(
        &self,
        session: &Arc<Session>,
        topic: Topic,
    ) -> Result<u64, Status> {
        let started = self.subscribe_all(session, vec![topic], true).await?;
        Ok(started.first().map_or(0, |(_, position)| *position))
    }

    /// Adds `session` to every topic; the ones new to this relay are subscribed upstream in
    /// one request. Returns once all their events flow to this relay, with the position
    /// the session starts at in each (0 for user topics): every later change reaches it.
    pub(crate) async fn subscribe_all(
        &self,
        session: &Arc<Session>,
        topics: Vec<Topic>,
        follows_membership: bool,
    ) -> Result<Vec<(Topic, u64)>, Status> {
        let mut started = Vec::new();
        let mut mine = Vec::new();
        let mut theirs = Vec::new();
        {
            let mut registry = self.registry.lock().expect("registry lock poisoned");
            for topic in topics {
                match registry.get_mut(&topic) {
                    Some(entry) => {
                        if entry.sessions.insert(session.id, session.clone()).is_none() {
                            self.stats.local_subscriptions.inc();
                        }
                        match *entry.upstreamed.borrow() {
                            // Read under the lock the dispatcher holds: every change after
                            // it reaches the session.
                            Upstreamed::Ready(_) => started.push((topic, entry.position)),
                            _ => theirs.push((topic, entry.upstreamed.subscribe())),
                        }
                    }
                    None => {
                        registry.insert(topic.clone(), TopicEntry::new(session));
                        self.stats.local_subscriptions.inc();
                        self.stats.upstream_topics.inc();
                        mine.push(topic);
                    }
                }
            }
        }
        if !mine.is_empty() {
            let result = self.upstream.subscribe(&mine, follows_membership).await;
            let mut registry = self.registry.lock().expect("registry lock poisoned");
            for (at, topic) in mine.iter().enumerate() {
                let position = match &result {
                    Ok(positions) => positions.get(at).copied().unwrap_or(0),
                    Err(_) => 0,
                };
                // The topic's position was set when the acknowledgement arrived
                // ([`Self::started`]).
                if let Some(entry) = registry.get_mut(topic) {
                    let outcome = match result {
                        Ok(_) => Upstreamed::Ready(position),
                        Err(_) => Upstreamed::Failed,
                    };
                    entry.upstreamed.send_replace(outcome);
                }
                if result.is_err()
                    && let Some(entry) = registry.remove(topic)
                {
                    self.stats.local_subscriptions.dec_by(entry.sessions.len() as i64);
                    self.stats.upstream_topics.dec();
                }
                started.push((topic.clone(), position));
            }
            result?;
        }
        for (topic, mut upstreamed) in theirs {
            let outcome =
                upstreamed.wait_for(|state| *state != Upstreamed::Pending).await.map(|s| *s);
            let Ok(Upstreamed::Ready(position)) = outcome else {
                self.unsubscribe(session.id, &topic);
                return Err(status::unavailable("the relay could not subscribe at the controller"));
            };
            started.push((topic, position));
        }
        Ok(started)
    }

    /// Removes a session from a topic, unsubscribing upstream if it was the last.
    pub(crate) fn unsubscribe(&self, session: SessionId, topic: &Topic) {
        let mut registry = self.registry.lock().expect("registry lock poisoned");
        let Some(entry) = registry.get_mut(topic) else { return };
        if entry.sessions.remove(&session).is_some() {
            self.stats.local_subscriptions.dec();
        }
        if entry.sessions.is_empty() {
            registry.remove(topic);
            self.stats.upstream_topics.dec();
            self.upstream.unsubscribe(std::slice::from_ref(topic));
        }
    }

    /// Calls `each` with every session subscribed to `topic` right now, under the registry
    /// lock, so that dispatching an event copies no list of its subscribers. `each` must
    /// not subscribe or unsubscribe.
    pub(crate) fn for_each(&self, topic: &Topic, each: impl FnMut(&Arc<Session>)) {
        let registry = self.registry.lock().expect("registry lock poisoned");
        if let Some(entry) = registry.get(topic) {
            entry.sessions.values().for_each(each);
        }
    }

    /// Like [`Self::for_each`], for a change of the conversation, which everyone in it may
    /// see if `public`: the topic keeps it, and its position moves there if public.
    pub(crate) fn for_each_change(
        &self,
        topic: &Topic,
        change: Change,
        public: bool,
        each: impl FnMut(&Arc<Session>),
    ) {
        let mut registry = self.registry.lock().expect("registry lock poisoned");
        if let Some(entry) = registry.get_mut(topic) {
            if public {
                entry.position = entry.position.max(change.0.seq);
            }
            if let Some(Kind::MessageExpired(expired)) = &change.0.kind {
                entry.recent.forget(expired.message.as_ref().map_or(0, |m| m.id));
            }
            if change.0.seq > 0 {
                entry.recent.push(change);
            }
            entry.sessions.values().for_each(each);
        }
    }

    /// The controller acknowledged `ack`'s topics (in stream order: before any of their
    /// events that followed): each conversation's position moves to where it started, and
    /// its changes are kept from its head on.
    pub(crate) fn started(&self, ack: &pb::Topics) {
        let mut registry = self.registry.lock().expect("registry lock poisoned");
        for (at, topic) in ack.topics.iter().enumerate() {
            let Some(entry) = Topic::from_proto(topic).and_then(|topic| registry.get_mut(&topic))
            else {
                continue;
            };
            entry.position = entry.position.max(ack.positions.get(at).copied().unwrap_or(0));
            entry.recent = match ack.heads.get(at) {
                Some(head) if *head > 0 => Recent::since(*head),
                _ => Recent::default(),
            };
        }
    }

    /// The link to the controller broke: what reached the relay may have gaps from now on,
    /// so no conversation's latest changes serve a resume until it is acknowledged again.
    pub(crate) fn forget_recent(&self) {
        let mut registry = self.registry.lock().expect("registry lock poisoned");
        registry.values_mut().for_each(|entry| entry.recent = Recent::default());
    }

    /// Every change of `topic` after `position` that reached this relay, if it has them all.
    pub(crate) fn recent_after(&self, topic: &Topic, position: u64) -> Option<Vec<Change>> {
        let registry = self.registry.lock().expect("registry lock poisoned");
        registry.get(topic)?.recent.after(position)
    }

    /// Where `topic`'s kept changes start, and the lock to hold while filling before it.
    pub(crate) fn recent_start(
        &self,
        topic: &Topic,
    ) -> Option<(Option<u64>, Arc<tokio::sync::Mutex<()>>)> {
        let registry = self.registry.lock().expect("registry lock poisoned");
        let entry = registry.get(topic)?;
        Some((entry.recent.starts_after(), entry.filling.clone()))
    }

    /// Adds a read of `topic`'s log from `after` to `until` before its kept changes.
    pub(crate) fn fill_recent(
        &self,
        topic: &Topic,
        after: u64,
        until: u64,
        events: Vec<pb::Event>,
    ) {
        let mut registry = self.registry.lock().expect("registry lock poisoned");
        if let Some(entry) = registry.get_mut(topic) {
            entry.recent.fill(after, until, events);
        }
    }

    /// Like [`Self::for_each`], for a topic whose every event replaces the last: keeps
    /// `event` (and its encoding) for sessions that join later ([`Self::kept`]).
    pub(crate) fn for_each_keeping(
        &self,
        topic: &Topic,
        event: (Arc<pb::Event>, Bytes),
        each: impl FnMut(&Arc<Session>),
    ) {
        let mut registry = self.registry.lock().expect("registry lock poisoned");
        if let Some(entry) = registry.get_mut(topic) {
            entry.kept = Some(event);
            entry.sessions.values().for_each(each);
        }
    }

    /// The last event kept for `topic`, if any.
    pub(crate) fn kept(&self, topic: &Topic) -> Option<(Arc<pb::Event>, Bytes)> {
        let registry = self.registry.lock().expect("registry lock poisoned");
        registry.get(topic).and_then(|entry| entry.kept.clone())
    }

    /// Every topic with a local subscriber.
    pub(crate) fn topics(&self) -> Vec<Topic> {
        self.registry.lock().expect("registry lock poisoned").keys().cloned().collect()
    }
}
