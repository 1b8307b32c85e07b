//! The Bus carries events between controllers: a controller publishes each event on its
//! topic, and every controller subscribed to that topic receives it into its inbox, from
//! where its `FanoutHub` hands it to the relays that want it. Delivery is at most once; gaps
//! are closed by resume from the Store. The in-process bus serves a single controller; the
//! NATS bus (`nats.urls` set) connects controllers into a cluster.

mod config;
mod in_process;
pub mod nats;
mod nats_presence;
mod presence;

use std::sync::Arc;

use async_trait::async_trait;
use switchboard_proto::v1 as pb;

pub use config::NatsConfig;
pub use in_process::InProcessBus;
pub use nats::NatsBus;
pub use nats_presence::NatsBoard;
pub use presence::{LocalBoard, PresenceBoard};

use switchboard_proto::topic::Topic;

/// An event received from the bus.
pub struct Delivery {
    pub topic: Topic,
    /// Shared by every relay it goes to.
    pub event: Arc<pb::Event>,
    /// The publishing span's trace context, when traces are exported.
    pub traceparent: Option<String>,
    /// For a message event: the log position before it (see [`crate::model::LogEntry`]),
    /// which lets the hub put the conversation's events in order. 0 for other events.
    pub prev: u64,
}

/// Why the hub fills from the Store what the bus may have lost.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Resync {
    /// This controller's link to the bus was down from `since_ms` until now.
    Outage { since_ms: i64 },
    /// Another controller stopped, started again, or had its link to the bus break: what
    /// it published may never have arrived.
    PeerLost { node: u16 },
}

#[derive(Debug, thiserror::Error)]
pub enum BusError {
    #[error("the bus is unavailable: {0}")]
    Unavailable(String),
}

#[async_trait]
pub trait Bus: Send + Sync + 'static {
    /// Sends `event` to every controller subscribed to `topic` (this one included), with
    /// the current span's trace context and, for a message event, the log position before
    /// it (`prev`; 0 otherwise).
    async fn publish(&self, topic: &Topic, event: pb::Event, prev: u64) -> Result<(), BusError>;

    /// Starts delivering `topic`'s events to this controller's inbox. Once this returns,
    /// every event published afterwards arrives.
    async fn subscribe(&self, topic: &Topic) -> Result<(), BusError>;

    /// Stops delivering `topic`'s events here.
    async fn unsubscribe(&self, topic: &Topic) -> Result<(), BusError>;

    /// Returns once every subscription made so far delivers again (after a reconnect, the
    /// bus restores them), so that what is published from then on arrives.
    async fn settle(&self) -> Result<(), BusError> {
        Ok(())
    }

    /// Whether the bus is reachable now (for readiness).
    fn is_connected(&self) -> bool {
        true
    }
}
