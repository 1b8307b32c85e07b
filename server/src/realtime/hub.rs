//! `FanoutHub`: which relay streams want which topics, and the dispatch of bus deliveries
//! to them. The controller is subscribed on the bus to a topic exactly while at least one
//! of its relays wants it, so traffic flows only where there are readers.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use switchboard_proto::prost::Message as _;
use switchboard_proto::v1::{self as pb, fanout_frame::Kind};
use switchboard_telemetry::{follow_traceparent, traceparent_of_current};
use tokio::sync::{RwLock, mpsc};
use tokio_util::sync::CancellationToken;
use tracing::Instrument as _;

use super::Topic;
use crate::bus::{Bus, BusError, Delivery};
use crate::metrics::ControllerMetrics;

/// Identifies one relay stream on this controller.
pub type RelayId = u64;

/// Frames queued per relay stream. A relay that falls this far behind is cut off; it
/// reconnects and resyncs from the Store, so nobody waits on it.
const RELAY_QUEUE: usize = 16_384;

/// How long `sbctl admin` waits for relays to report (well inside the window in which
/// controllers collect each other's reports).
const REPORT_TIMEOUT: Duration = Duration::from_millis(500);

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
    metrics: Arc<ControllerMetrics>,
    /// Write-locked across bus (un)subscribes, so an acknowledgement never precedes the
    /// bus subscription it promises.
    state: RwLock<HubState>,
    next_relay: AtomicU64,
    /// Report requests waiting for relays' answers, by request id.
    pending_reports: Mutex<HashMap<u64, mpsc::Sender<pb::RelayReport>>>,
    next_report: AtomicU64,
}

impl FanoutHub {
    pub fn new(bus: Arc<dyn Bus>, metrics: Arc<ControllerMetrics>) -> Self {
        FanoutHub {
            bus,
            metrics,
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
    /// `subscribed` on the relay's stream.
    pub async fn subscribe(
        &self,
        relay: RelayId,
        topics: Vec<Topic>,
        request_id: u64,
    ) -> Result<(), BusError> {
        let mut state = self.state.write().await;
        for topic in &topics {
            let relays = state.topics.entry(topic.clone()).or_default();
            if relays.is_empty() {
                if let Err(error) = self.bus.subscribe(topic).await {
                    state.topics.remove(topic);
                    return Err(error);
                }
                self.metrics.bus_topics.inc();
            }
            relays.insert(relay);
            if let Some(link) = state.relays.get_mut(&relay) {
                link.topics.insert(topic.clone());
            }
        }
        let ack = encode(Kind::Subscribed(pb::Topics {
            topics: topics.iter().map(Topic::to_proto).collect(),
            request_id,
        }));
        if let Some(link) = state.relays.get(&relay)
            && link.sender.try_send(ack).is_err()
        {
            link.cut.cancel();
        }
        Ok(())
    }

    pub async fn unsubscribe(&self, relay: RelayId, topics: &[Topic]) {
        let mut state = self.state.write().await;
        for topic in topics {
            if let Some(link) = state.relays.get_mut(&relay) {
                link.topics.remove(topic);
            }
            self.drop_interest(&mut state, relay, topic).await;
        }
    }

    /// Forgets a relay stream and everything it subscribed to.
    pub async fn detach(&self, relay: RelayId) {
        let mut state = self.state.write().await;
        let Some(link) = state.relays.remove(&relay) else { return };
        self.metrics.relay_streams.dec();
        link.cut.cancel();
        for topic in &link.topics {
            self.drop_interest(&mut state, relay, topic).await;
        }
    }

    async fn drop_interest(&self, state: &mut HubState, relay: RelayId, topic: &Topic) {
        let Some(relays) = state.topics.get_mut(topic) else { return };
        relays.remove(&relay);
        if relays.is_empty() {
            state.topics.remove(topic);
            self.metrics.bus_topics.dec();
            if let Err(error) = self.bus.unsubscribe(topic).await {
                tracing::warn!(%error, ?topic, "bus unsubscribe failed");
            }
        }
    }

    /// Hands every bus delivery to the relays subscribed to its topic, until the inbox
    /// closes.
    pub async fn run(self: Arc<Self>, mut inbox: mpsc::Receiver<Delivery>) {
        while let Some(delivery) = inbox.recv().await {
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

    /// The frame is built and encoded once per delivery, not once per relay.
    async fn dispatch(&self, Delivery { topic, event, .. }: Delivery) {
        let frame = encode(Kind::Event(pb::TopicEvent {
            topic: Some(topic.to_proto()),
            event: Some((*event).clone()),
            traceparent: traceparent_of_current().unwrap_or_default(),
        }));
        let mut too_slow = Vec::new();
        {
            let state = self.state.read().await;
            let Some(relays) = state.topics.get(&topic) else { return };
            for relay in relays {
                let Some(link) = state.relays.get(relay) else { continue };
                if link.sender.try_send(frame.clone()).is_err() {
                    too_slow.push(*relay);
                }
            }
        }
        for relay in too_slow {
            tracing::warn!(relay, "relay stream fell behind; cutting it off (it will resync)");
            self.detach(relay).await;
        }
    }

    /// Tells every relay that events since `since_ms` may be lost, so it replays from the
    /// Store. A relay whose queue is full is cut off instead (it resyncs on reconnect).
    pub async fn resync_all(&self, since_ms: i64) {
        let frame = encode(Kind::Resync(pb::Resync { since_ms }));
        let state = self.state.read().await;
        for link in state.relays.values() {
            if link.sender.try_send(frame.clone()).is_err() {
                link.cut.cancel();
            }
        }
    }

    /// Asks every attached relay for its figures and connections; returns the answers that
    /// arrive within [`REPORT_TIMEOUT`] (a relay too busy to answer is left out).
    pub async fn relay_reports(&self, query: pb::ReportQuery) -> Vec<pb::RelayReport> {
        let request_id = self.next_report.fetch_add(1, Ordering::Relaxed);
        let frame =
            encode(Kind::ReportRequest(pb::ReportRequest { request_id, query: Some(query) }));
        let (asked, mut answered) = {
            let state = self.state.read().await;
            let (answers, answered) = mpsc::channel(state.relays.len().max(1));
            // Registered before asking, so that no answer arrives unexpected.
            self.pending_reports.lock().expect("reports lock").insert(request_id, answers);
            let relays = state.relays.values();
            (relays.filter(|link| link.sender.try_send(frame.clone()).is_ok()).count(), answered)
        };
        let mut reports = Vec::with_capacity(asked);
        let deadline = tokio::time::Instant::now() + REPORT_TIMEOUT;
        while reports.len() < asked {
            match tokio::time::timeout_at(deadline, answered.recv()).await {
                Ok(Some(report)) => reports.push(report),
                _ => break,
            }
        }
        self.pending_reports.lock().expect("reports lock").remove(&request_id);
        reports
    }

    /// A relay's answer to [`FanoutHub::relay_reports`].
    pub fn report_arrived(&self, report: pb::RelayReport) {
        let pending = self.pending_reports.lock().expect("reports lock");
        if let Some(answers) = pending.get(&report.request_id) {
            let _ = answers.try_send(report);
        }
    }

    /// Topics this controller holds on the bus right now.
    pub async fn topics(&self) -> Vec<Topic> {
        self.state.read().await.topics.keys().cloned().collect()
    }
}

/// A `FanoutFrame` as relay streams queue it.
fn encode(kind: Kind) -> Bytes {
    pb::FanoutFrame { kind: Some(kind) }.encode_to_vec().into()
}
