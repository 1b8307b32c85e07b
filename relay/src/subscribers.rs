//! `ChannelSubscribers`: per topic, the local sessions that want it. The relay holds an
//! upstream subscription for a topic exactly while it has at least one local subscriber:
//! the first one subscribes upstream (and waits for the controller's acknowledgement), the
//! last one to leave unsubscribes.
//!
//! The registry lock is never held across an upstream round-trip: acknowledgements arrive
//! on the same stream the dispatcher reads, so holding it would deadlock.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use tokio::sync::watch;
use tonic::Status;

use crate::session::{Session, SessionId};
use crate::stats::Stats;
use crate::upstream::Upstream;
use switchboard_proto::topic::Topic;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Upstreamed {
    Pending,
    Ready,
    Failed,
}

struct TopicEntry {
    sessions: HashMap<SessionId, Arc<Session>>,
    /// Whether the upstream subscription is in place; later subscribers wait for it.
    upstreamed: watch::Sender<Upstreamed>,
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

    /// Adds `session` to `topic`; returns once the topic's events flow to this relay.
    pub(crate) async fn subscribe(
        &self,
        session: &Arc<Session>,
        topic: Topic,
    ) -> Result<(), Status> {
        self.subscribe_all(session, vec![topic]).await
    }

    /// Adds `session` to every topic; the ones new to this relay are subscribed upstream in
    /// one request. Returns once all their events flow to this relay.
    pub(crate) async fn subscribe_all(
        &self,
        session: &Arc<Session>,
        topics: Vec<Topic>,
    ) -> Result<(), Status> {
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
                        theirs.push((topic, entry.upstreamed.subscribe()));
                    }
                    None => {
                        let (upstreamed, _) = watch::channel(Upstreamed::Pending);
                        let sessions = HashMap::from([(session.id, session.clone())]);
                        registry.insert(topic.clone(), TopicEntry { sessions, upstreamed });
                        self.stats.local_subscriptions.inc();
                        self.stats.upstream_topics.inc();
                        mine.push(topic);
                    }
                }
            }
        }
        if !mine.is_empty() {
            let result = self.upstream.subscribe(&mine).await;
            let outcome = if result.is_ok() { Upstreamed::Ready } else { Upstreamed::Failed };
            let mut registry = self.registry.lock().expect("registry lock poisoned");
            for topic in &mine {
                if let Some(entry) = registry.get(topic) {
                    entry.upstreamed.send_replace(outcome);
                }
                if result.is_err()
                    && let Some(entry) = registry.remove(topic)
                {
                    self.stats.local_subscriptions.dec_by(entry.sessions.len() as i64);
                    self.stats.upstream_topics.dec();
                }
            }
            result?;
        }
        for (topic, mut upstreamed) in theirs {
            let outcome =
                upstreamed.wait_for(|state| *state != Upstreamed::Pending).await.map(|s| *s);
            if !matches!(outcome, Ok(Upstreamed::Ready)) {
                self.unsubscribe(session.id, &topic);
                return Err(Status::unavailable("the relay could not subscribe at the controller"));
            }
        }
        Ok(())
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

    /// Every topic with a local subscriber.
    pub(crate) fn topics(&self) -> Vec<Topic> {
        self.registry.lock().expect("registry lock poisoned").keys().cloned().collect()
    }
}
