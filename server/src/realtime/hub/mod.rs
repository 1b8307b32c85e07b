//! `FanoutHub`: which relay streams want which topics, and the dispatch of bus deliveries
//! to them. The controller is subscribed on the bus to a topic exactly while at least one
//! of its relays wants it, so traffic flows only where there are readers. A conversation's
//! message events go to relays in log order with none missing (the `Sequencer`, and gap
//! fills from the Store's log).

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use futures_util::future::join_all;
use switchboard_proto::prost::Message as _;
use switchboard_proto::v1::{self as pb, fanout_frame::Kind};
use switchboard_telemetry::{follow_traceparent, traceparent_of_current};
use tokio::sync::{RwLock, mpsc};
use tokio_util::sync::CancellationToken;
use tracing::Instrument as _;

mod refill;
mod relay_reads;
mod reports;

use super::Topic;
use super::changes;
use super::sequencer::Sequencer;
use crate::bus::{Bus, BusError, Delivery};
use crate::metrics::ControllerMetrics;
use crate::store::{Store, StoreError};

/// Identifies one relay stream on this controller.
pub type RelayId = u64;

/// Frames queued per relay stream. A relay that falls this far behind is cut off; it
/// reconnects and resyncs from the Store, so nobody waits on it.
const RELAY_QUEUE: usize = 16_384;

/// One attached relay stream.
struct RelayLink {
    /// The stream's outgoing queue: encoded `FanoutFrame`s (an event's bytes are shared by
    /// every relay it goes to).
    sender: mpsc::Sender<Bytes>,
    /// Cancelled to end the stream (slow relay, or shutdown).
    cut: CancellationToken,
    /// What it is subscribed to, to clean up when it goes.
    topics: HashSet<Topic>,
}

#[derive(Default)]
struct HubState {
    relays: HashMap<RelayId, RelayLink>,
    /// Topic → the relays that want it.
    topics: HashMap<Topic, HashSet<RelayId>>,
}

pub struct FanoutHub {
    /// Subscribed to a topic while `state.topics` has it.
    bus: Arc<dyn Bus>,
    /// Where conversations' logs are read: their positions, and the changes of gaps.
    store: Arc<dyn Store>,
    /// Orders the message events of the conversations subscribed to.
    sequencer: Sequencer,
    /// Wakes the dispatch loop when fills are due sooner than it expected.
    wake: tokio::sync::Notify,
    metrics: Arc<ControllerMetrics>,
    /// Held across a change of subscriptions, bus calls included, so that changes happen
    /// one at a time and an acknowledgement never precedes the bus subscription it
    /// promises. Dispatch never waits for it.
    changing: tokio::sync::Mutex<()>,
    /// Write-locked only briefly (registrations, and reading a new conversation's log
    /// head), never across a bus call.
    state: RwLock<HubState>,
    next_relay: AtomicU64,
    /// Report requests waiting for relays' answers, by request id.
    pending_reports: Mutex<HashMap<u64, mpsc::Sender<pb::RelayReport>>>,
    next_report: AtomicU64,
}

impl FanoutHub {
    pub fn new(bus: Arc<dyn Bus>, store: Arc<dyn Store>, metrics: Arc<ControllerMetrics>) -> Self {
        FanoutHub {
            bus,
            store,
            sequencer: Sequencer::default(),
            wake: tokio::sync::Notify::new(),
            metrics,
            changing: tokio::sync::Mutex::new(()),
            state: RwLock::default(),
            next_relay: AtomicU64::new(1),
            pending_reports: Mutex::default(),
            next_report: AtomicU64::new(1),
        }
    }

    /// Registers a relay stream: its id, its outgoing frames, and the token that ends it.
    pub async fn attach(&self) -> (RelayId, mpsc::Receiver<Bytes>, CancellationToken) {
        let id = self.next_relay.fetch_add(1, Ordering::Relaxed);
        let (sender, receiver) = mpsc::channel(RELAY_QUEUE);
        let cut = CancellationToken::new();
        let link = RelayLink { sender, cut: cut.clone(), topics: HashSet::new() };
        self.state.write().await.relays.insert(id, link);
        self.metrics.relay_streams.inc();
        (id, receiver, cut)
    }

    /// Adds topics for a relay and, once the bus delivers them, acknowledges with
    /// `subscribed` on the relay's stream, naming where each conversation's events start.
    /// With `pass_on_joins`, each user topic new here is followed by the user's
    /// conversations as joins (see below).
    pub async fn subscribe(
        &self,
        relay: RelayId,
        topics: Vec<Topic>,
        request_id: u64,
        pass_on_joins: bool,
    ) -> Result<(), SubscribeError> {
        let _changing = self.changing.lock().await;
        let new: Vec<Topic> = {
            let state = self.state.read().await;
            topics.iter().filter(|topic| !state.topics.contains_key(*topic)).cloned().collect()
        };
        // The bus first, without holding up dispatch (NATS may be slow to confirm). A
        // topic's events that arrive before it is registered go nowhere: they were
        // committed before its log is read below, so its start position covers them.
        let on_bus: Vec<&Topic> = new.iter().filter(|topic| topic.on_bus()).collect();
        for (done, topic) in on_bus.iter().enumerate() {
            if let Err(error) = self.bus.subscribe(topic).await {
                for topic in &on_bus[..done] {
                    let _ = self.bus.unsubscribe(topic).await;
                }
                return Err(error.into());
            }
        }
        let mut state = self.state.write().await;
        // Under the write lock no delivery is ordered, so each new conversation's order
        // starts exactly at its log's head. The heads are read at once, not one by one.
        let starts = join_all(new.iter().map(|topic| self.start_of(topic))).await;
        if let Some(Err(error)) = starts.iter().find(|start| start.is_err()) {
            let error = SubscribeError::Store(error.to_string());
            drop(state);
            for topic in on_bus {
                let _ = self.bus.unsubscribe(topic).await;
            }
            return Err(error);
        }
        for (topic, start) in new.iter().zip(starts) {
            if let Ok(Some((head, public))) = start {
                self.sequencer.start(topic, head, public);
            }
            state.topics.insert(topic.clone(), HashSet::new());
            if topic.on_bus() {
                self.metrics.bus_topics.inc();
            }
        }
        for topic in &topics {
            state.topics.entry(topic.clone()).or_default().insert(relay);
            if let Some(link) = state.relays.get_mut(&relay) {
                link.topics.insert(topic.clone());
            }
        }
        let ack = encode(Kind::Subscribed(pb::Topics {
            topics: topics.iter().map(Topic::to_proto).collect(),
            request_id,
            positions: topics.iter().map(|topic| self.sequencer.position(topic)).collect(),
            without_joins: false,
            heads: topics.iter().map(|topic| self.sequencer.head(topic)).collect(),
        }));
        if let Some(link) = state.relays.get(&relay)
            && link.sender.try_send(ack).is_err()
        {
            link.cut.cancel();
        }
        drop(state);
        // A join committed before a user's topic was registered here published its event
        // to nobody (NATS may also have delivered it late, after an outage): the user's
        // conversations follow the acknowledgement, and relays follow those they lack.
        let users = new.iter().filter(|topic| matches!(topic, Topic::User { .. }));
        for topic in users.filter(|_| pass_on_joins) {
            self.pass_on_joins(topic).await;
        }
        Ok(())
    }

    /// Where a conversation's order starts: its log's head, and the newest position
    /// everyone may see. None for user topics (not ordered).
    async fn start_of(&self, topic: &Topic) -> Result<Option<(u64, u64)>, StoreError> {
        let Some(conversation_id) = topic.channel_id() else { return Ok(None) };
        changes::starting_points(self.store.as_ref(), conversation_id).await.map(Some)
    }

    pub async fn unsubscribe(&self, relay: RelayId, topics: &[Topic]) {
        let _changing = self.changing.lock().await;
        let unwanted = {
            let mut state = self.state.write().await;
            if let Some(link) = state.relays.get_mut(&relay) {
                topics.iter().for_each(|topic| _ = link.topics.remove(topic));
            }
            self.drop_interest(&mut state, relay, topics)
        };
        self.bus_unsubscribe(unwanted).await;
    }

    /// Forgets a relay stream and everything it subscribed to.
    pub async fn detach(&self, relay: RelayId) {
        let _changing = self.changing.lock().await;
        let unwanted = {
            let mut state = self.state.write().await;
            let Some(link) = state.relays.remove(&relay) else { return };
            self.metrics.relay_streams.dec();
            link.cut.cancel();
            let topics: Vec<Topic> = link.topics.into_iter().collect();
            self.drop_interest(&mut state, relay, &topics)
        };
        self.bus_unsubscribe(unwanted).await;
    }

    /// Takes `relay` off `topics`; returns the topics no relay wants any more.
    fn drop_interest(&self, state: &mut HubState, relay: RelayId, topics: &[Topic]) -> Vec<Topic> {
        let mut unwanted = Vec::new();
        for topic in topics {
            let Some(relays) = state.topics.get_mut(topic) else { continue };
            relays.remove(&relay);
            if relays.is_empty() {
                state.topics.remove(topic);
                self.sequencer.stop(topic);
                if topic.on_bus() {
                    self.metrics.bus_topics.dec();
                }
                unwanted.push(topic.clone());
            }
        }
        unwanted
    }

    async fn bus_unsubscribe(&self, topics: Vec<Topic>) {
        for topic in topics.into_iter().filter(Topic::on_bus) {
            if let Err(error) = self.bus.unsubscribe(&topic).await {
                tracing::warn!(%error, ?topic, "bus unsubscribe failed");
            }
        }
    }

    /// Hands every bus delivery to the relays subscribed to its topic, in order, until the
    /// inbox closes; fills the gaps that outlast the wait from the log.
    pub async fn run(self: Arc<Self>, mut inbox: mpsc::Receiver<Delivery>) {
        loop {
            let fill_at = self.sequencer.next_fill();
            let delivery = tokio::select! {
                delivery = inbox.recv() => delivery,
                () = tokio::time::sleep_until(fill_at.unwrap_or_else(tokio::time::Instant::now)),
                    if fill_at.is_some() => {
                    self.fill_gaps().await;
                    continue;
                }
                () = self.wake.notified() => continue,
            };
            let Some(delivery) = delivery else { return };
            let span = tracing::info_span!(
                target: switchboard_telemetry::SPANS,
                "fanout",
                otel.kind = "consumer",
                conversation_id = delivery.event.conversation_id
            );
            follow_traceparent(&span, delivery.traceparent.as_deref());
            self.dispatch(delivery).instrument(span).await;
        }
    }

    async fn dispatch(&self, delivery: Delivery) {
        let state = self.state.read().await;
        let ready = self.sequencer.admit(delivery);
        let too_slow = self.hand_on(&state, ready);
        self.cut_off(&state, too_slow);
    }

    /// Queues each delivery to the relays subscribed to its topic; returns the relays too
    /// slow to take it. The frame is built and encoded once per delivery, not once per relay.
    fn hand_on(&self, state: &HubState, ready: Vec<Delivery>) -> Vec<RelayId> {
        let mut too_slow = Vec::new();
        for Delivery { topic, event, .. } in ready {
            let Some(relays) = state.topics.get(&topic) else { continue };
            let frame = encode(Kind::Event(pb::TopicEvent {
                topic: Some(topic.to_proto()),
                event: Some((*event).clone()),
                traceparent: traceparent_of_current().unwrap_or_default(),
            }));
            for relay in relays {
                let Some(link) = state.relays.get(relay) else { continue };
                if link.sender.try_send(frame.clone()).is_err() && !too_slow.contains(relay) {
                    too_slow.push(*relay);
                }
            }
        }
        too_slow
    }

    /// Ends the streams of relays too slow to keep up; each is detached as its stream ends
    /// (it reconnects and resyncs).
    fn cut_off(&self, state: &HubState, too_slow: Vec<RelayId>) {
        for relay in too_slow {
            tracing::warn!(relay, "relay stream fell behind; cutting it off (it will resync)");
            if let Some(link) = state.relays.get(&relay) {
                link.cut.cancel();
            }
        }
    }

    /// The topics this controller's relays want right now that `keep` picks (copying only
    /// those: there may be many thousands).
    pub async fn topics_where(&self, keep: impl Fn(&Topic) -> bool) -> Vec<Topic> {
        self.state.read().await.topics.keys().filter(|topic| keep(topic)).cloned().collect()
    }

    /// Hands an event of this controller's own making (an online count) to the relays
    /// subscribed to `topic` here.
    pub async fn hand_on_here(&self, topic: Topic, event: pb::Event) {
        let delivery = Delivery { topic, event: Arc::new(event), traceparent: None, prev: 0 };
        let state = self.state.read().await;
        let too_slow = self.hand_on(&state, vec![delivery]);
        self.cut_off(&state, too_slow);
    }
}

/// Why topics could not be subscribed.
#[derive(Debug, thiserror::Error)]
pub enum SubscribeError {
    #[error(transparent)]
    Bus(#[from] BusError),
    #[error("reading a conversation's log: {0}")]
    Store(String),
}

/// A `FanoutFrame` as relay streams queue it.
fn encode(kind: Kind) -> Bytes {
    pb::FanoutFrame { kind: Some(kind) }.encode_to_vec().into()
}
