//! The in-process bus: for a single controller, publishing is handing the event to this
//! controller's own inbox, if anything here subscribed to its topic.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use switchboard_proto::v1 as pb;
use tokio::sync::mpsc;

use super::{Bus, BusError, Delivery};
use switchboard_proto::topic::Topic;

pub struct InProcessBus {
    /// Topics some relay of this controller wants.
    subscribed: Mutex<HashSet<Topic>>,
    /// The hub's inbox. Bounded: when the hub falls behind, publishers wait (backpressure
    /// on senders, whose messages are already durable).
    inbox: mpsc::Sender<Delivery>,
}

impl InProcessBus {
    pub fn new(inbox: mpsc::Sender<Delivery>) -> Self {
        InProcessBus { subscribed: Mutex::new(HashSet::new()), inbox }
    }
}

#[async_trait]
impl Bus for InProcessBus {
    async fn publish(&self, topic: &Topic, event: pb::Event, prev: u64) -> Result<(), BusError> {
        let wanted = self.subscribed.lock().expect("bus lock poisoned").contains(topic);
        if wanted {
            let traceparent = switchboard_telemetry::traceparent_of_current();
            self.inbox
                .send(Delivery { topic: topic.clone(), event: Arc::new(event), traceparent, prev })
                .await
                .map_err(|_| BusError::Unavailable("the controller is shutting down".into()))?;
        }
        Ok(())
    }

    async fn subscribe(&self, topic: &Topic) -> Result<(), BusError> {
        self.subscribed.lock().expect("bus lock poisoned").insert(topic.clone());
        Ok(())
    }

    async fn unsubscribe(&self, topic: &Topic) -> Result<(), BusError> {
        self.subscribed.lock().expect("bus lock poisoned").remove(topic);
        Ok(())
    }
}
