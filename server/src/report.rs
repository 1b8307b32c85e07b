//! Figures and connections for `sbctl admin`: this controller's, its relays' (asked over
//! their Fanout streams), and, in a cluster, every other controller's (asked over NATS on
//! `sb._admin.report`: each controller answers for itself and its relays).

use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use switchboard_proto::prost::Message as _;
use switchboard_proto::v1 as pb;

use crate::bus::Bus;
use crate::metrics::ControllerMetrics;
use crate::realtime::FanoutHub;

/// Where controllers ask each other.
const QUERY_SUBJECT: &str = "sb._admin.report";
/// How long a cluster query collects answers. Controllers do not know how many peers are
/// up, so the answer is whoever replied in this window.
const GATHER_WINDOW: Duration = Duration::from_secs(1);

pub struct NodeReporter {
    node_id: u16,
    hub: Arc<FanoutHub>,
    bus: Arc<dyn Bus>,
    metrics: Arc<ControllerMetrics>,
    /// The other controllers, when clustered.
    nats: Option<async_nats::Client>,
    /// For uptime.
    started: Instant,
    /// The gRPC address, set when serving starts.
    address: OnceLock<String>,
}

impl NodeReporter {
    pub fn new(
        node_id: u16,
        hub: Arc<FanoutHub>,
        bus: Arc<dyn Bus>,
        metrics: Arc<ControllerMetrics>,
        nats: Option<async_nats::Client>,
    ) -> Self {
        NodeReporter {
            node_id,
            hub,
            bus,
            metrics,
            nats,
            started: Instant::now(),
            address: OnceLock::new(),
        }
    }

    pub fn set_address(&self, address: String) {
        let _ = self.address.set(address);
    }

    /// Every node's report: this controller's alone, or, in a cluster, every controller
    /// that answered (this one included, through NATS like the others).
    pub async fn cluster_report(&self, query: pb::ReportQuery) -> pb::NodeReport {
        let Some(nats) = &self.nats else { return self.local_report(query).await };
        match gather(nats, &query).await {
            Ok(report) => report,
            Err(error) => {
                tracing::warn!(%error, "cannot ask the other controllers; answering for this one");
                self.local_report(query).await
            }
        }
    }

    /// This controller and its relays.
    pub async fn local_report(&self, query: pb::ReportQuery) -> pb::NodeReport {
        let controller = pb::ControllerStats {
            node_id: u32::from(self.node_id),
            address: self.address.get().cloned().unwrap_or_default(),
            uptime_secs: self.started.elapsed().as_secs(),
            messages_sent: self.metrics.messages_sent.get(),
            relay_streams: self.metrics.relay_streams.get() as u32,
            bus_topics: self.metrics.bus_topics.get() as u32,
            bus_resyncs: self.metrics.bus_resyncs.get(),
            bus_connected: self.bus.is_connected(),
            gap_fills: self.metrics.gap_fills.get(),
        };
        let mut report = pb::NodeReport { controllers: vec![controller], ..Default::default() };
        for relay in self.hub.relay_reports(query).await {
            report.relays.extend(relay.stats);
            report.connections.extend(relay.connections);
        }
        report
    }

    /// Answers other controllers' queries until the connection closes.
    pub async fn answer_queries(self: Arc<Self>) {
        // A single node has no peers to answer: nothing to do until shutdown.
        let Some(nats) = self.nats.clone() else { return std::future::pending().await };
        let mut queries = match nats.subscribe(QUERY_SUBJECT).await {
            Ok(queries) => queries,
            Err(error) => {
                tracing::warn!(%error, "cannot answer admin queries from other controllers");
                return;
            }
        };
        while let Some(message) = queries.next().await {
            let (Some(reply), Ok(query)) =
                (message.reply, pb::ReportQuery::decode(message.payload))
            else {
                continue;
            };
            let reporter = self.clone();
            let nats = nats.clone();
            tokio::spawn(async move {
                let report = reporter.local_report(query).await;
                if let Err(error) = nats.publish(reply, report.encode_to_vec().into()).await {
                    tracing::debug!(%error, "admin report not sent");
                }
            });
        }
    }
}

/// Publishes the query and merges the answers that arrive within the window.
async fn gather(
    nats: &async_nats::Client,
    query: &pb::ReportQuery,
) -> Result<pb::NodeReport, async_nats::Error> {
    let inbox = nats.new_inbox();
    let mut answers = nats.subscribe(inbox.clone()).await?;
    nats.publish_with_reply(QUERY_SUBJECT, inbox, query.encode_to_vec().into()).await?;
    nats.flush().await?;
    let mut merged = pb::NodeReport::default();
    let deadline = tokio::time::Instant::now() + GATHER_WINDOW;
    while let Ok(Some(answer)) = tokio::time::timeout_at(deadline, answers.next()).await {
        if let Ok(report) = pb::NodeReport::decode(answer.payload) {
            merged.controllers.extend(report.controllers);
            merged.relays.extend(report.relays);
            merged.connections.extend(report.connections);
        }
    }
    merged.controllers.sort_by_key(|c| (c.node_id, c.address.clone()));
    Ok(merged)
}
