//! The controller's Prometheus metrics (`switchboard_*`), served with the relay's on the
//! HTTP port's `/metrics`.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

pub struct ControllerMetrics {
    /// Messages accepted and stored (retries answered with the original not included).
    pub messages_sent: Counter,
    /// From receiving a send to its durable write.
    pub send_ack_seconds: Histogram,
    pub bus_publish_seconds: Histogram,
    /// Relay streams attached to this controller.
    pub relay_streams: Gauge,
    /// Topics this controller is subscribed to on the bus.
    pub bus_topics: Gauge,
    /// Bus outages after which the hub read its conversations' logs for what was lost.
    pub bus_resyncs: Counter,
    /// Gaps in a conversation's events filled from its log (an event lost or long delayed
    /// on the bus).
    pub gap_fills: Counter,
    /// Notification records written.
    pub notifications_created: Counter,
    /// Webhook deliveries that got a 2xx answer.
    pub webhook_delivered: Counter,
    /// Webhook deliveries abandoned (attempts exhausted, or refused).
    pub webhook_failed: Counter,
    /// Notifications an in-process push queue (the webhook's, the devices') had no room
    /// for.
    pub push_dropped: Counter,
    /// Attempts to alert a device, by platform and outcome (`delivered`, `unregistered`,
    /// `retry`, `failed`).
    pub push_attempts: Family<PushAttempt, Counter>,
    /// Notifications not pushed to devices, by why (`live`, `no_devices`, `not_configured`,
    /// `gave_up`).
    pub push_skipped: Family<PushSkipped, Counter>,
}

/// The labels of `push_attempts`.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct PushAttempt {
    pub platform: &'static str,
    pub outcome: &'static str,
}

/// The label of `push_skipped`.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct PushSkipped {
    pub reason: &'static str,
}

/// 100 µs to ~3 s.
fn latency() -> Histogram {
    Histogram::new(exponential_buckets(0.000_1, 2.0, 16))
}

impl Default for ControllerMetrics {
    fn default() -> Self {
        ControllerMetrics {
            messages_sent: Counter::default(),
            send_ack_seconds: latency(),
            bus_publish_seconds: latency(),
            relay_streams: Gauge::default(),
            bus_topics: Gauge::default(),
            bus_resyncs: Counter::default(),
            gap_fills: Counter::default(),
            notifications_created: Counter::default(),
            webhook_delivered: Counter::default(),
            webhook_failed: Counter::default(),
            push_dropped: Counter::default(),
            push_attempts: Family::default(),
            push_skipped: Family::default(),
        }
    }
}

impl ControllerMetrics {
    pub fn register(&self, registry: &mut Registry) {
        let r = registry.sub_registry_with_prefix("switchboard");
        r.register("messages_sent", "Messages accepted and stored", self.messages_sent.clone());
        r.register(
            "send_ack_seconds",
            "Send to durable acknowledgement",
            self.send_ack_seconds.clone(),
        );
        r.register(
            "bus_publish_seconds",
            "Event publishes on the bus",
            self.bus_publish_seconds.clone(),
        );
        r.register("relay_streams", "Relay streams attached", self.relay_streams.clone());
        r.register("bus_topics", "Topics subscribed on the bus", self.bus_topics.clone());
        r.register(
            "bus_resyncs",
            "Reads of every conversation's log for events the bus may have lost (an outage of this controller's link, or another controller lost)",
            self.bus_resyncs.clone(),
        );
        r.register(
            "gap_fills",
            "Gaps in conversations' events filled from their logs",
            self.gap_fills.clone(),
        );
        r.register(
            "notifications_created",
            "Notification records written",
            self.notifications_created.clone(),
        );
        r.register(
            "webhook_delivered",
            "Notifications the webhook accepted",
            self.webhook_delivered.clone(),
        );
        r.register(
            "webhook_failed",
            "Notifications the webhook never accepted",
            self.webhook_failed.clone(),
        );
        r.register(
            "push_dropped",
            "Notifications an in-process push queue had no room for",
            self.push_dropped.clone(),
        );
        r.register(
            "push_attempts",
            "Attempts to alert a device, by platform and outcome",
            self.push_attempts.clone(),
        );
        r.register(
            "push_skipped",
            "Notifications not pushed to devices, by why",
            self.push_skipped.clone(),
        );
    }
}
