//! The relay's metrics: Prometheus counters and gauges, also read by `RelayAdmin.Status`.

use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;

#[derive(Default)]
pub(crate) struct Stats {
    pub(crate) events_received: Counter,
    pub(crate) events_delivered: Counter,
    pub(crate) slow_disconnects: Counter,
    /// Times the relay replayed its sessions after a possible loss of events.
    pub(crate) resyncs: Counter,
    /// Open client streams.
    pub(crate) sessions: Gauge,
    /// Topics with at least one local subscriber (= upstream subscriptions).
    pub(crate) upstream_topics: Gauge,
    /// Session × topic subscriptions held locally.
    pub(crate) local_subscriptions: Gauge,
    /// 1 while the Fanout stream to a controller is up.
    pub(crate) upstream_connected: Gauge,
}

/// The relay's figures at one moment, as both `RelayAdmin.Status` and the reports for
/// `sbctl admin` show them.
pub(crate) struct StatsSnapshot {
    pub(crate) sessions: u32,
    pub(crate) upstream_topics: u32,
    pub(crate) local_subscriptions: u32,
    pub(crate) events_received: u64,
    pub(crate) deliveries: u64,
    pub(crate) slow_disconnects: u64,
    pub(crate) resyncs: u64,
    pub(crate) upstream_connected: bool,
}

impl Stats {
    pub(crate) fn snapshot(&self) -> StatsSnapshot {
        StatsSnapshot {
            sessions: self.sessions.get().max(0) as u32,
            upstream_topics: self.upstream_topics.get().max(0) as u32,
            local_subscriptions: self.local_subscriptions.get().max(0) as u32,
            events_received: self.events_received.get(),
            deliveries: self.events_delivered.get(),
            slow_disconnects: self.slow_disconnects.get(),
            resyncs: self.resyncs.get(),
            upstream_connected: self.upstream_connected.get() == 1,
        }
    }

    pub(crate) fn register(&self, registry: &mut Registry) {
        let relay = registry.sub_registry_with_prefix("switchboard_relay");
        relay.register(
            "events_received",
            "Events received from the controller",
            self.events_received.clone(),
        );
        relay.register(
            "deliveries",
            "Events delivered to client streams",
            self.events_delivered.clone(),
        );
        relay.register(
            "slow_disconnects",
            "Client streams cut off for falling behind",
            self.slow_disconnects.clone(),
        );
        relay.register(
            "resyncs",
            "Replays of every session after events may have been lost",
            self.resyncs.clone(),
        );
        relay.register("client_streams", "Open client streams", self.sessions.clone());
        relay.register(
            "upstream_topics",
            "Topics subscribed at the controller (conversations and users)",
            self.upstream_topics.clone(),
        );
        relay.register(
            "local_subscriptions",
            "Session subscriptions to topics on this relay",
            self.local_subscriptions.clone(),
        );
        relay.register(
            "upstream_connected",
            "1 while the stream to a controller is up",
            self.upstream_connected.clone(),
        );
    }
}
