//! Push delivery of notifications. Each new notification becomes one JSON payload (the
//! same bytes everywhere, documented in docs/notifications.md) that goes
//!
//! - with NATS (`nats.urls`): to the JetStream stream `SWITCHBOARD_NOTIFICATIONS` on
//!   subject `notifications.<org>`, which the webhook sender and the device push each
//!   consume with a durable consumer of their own (`webhook`, `devices`), so nothing is
//!   lost while controllers restart; other gateways may add theirs;
//! - without NATS: straight to their in-process queues.
//!
//! The webhook sender POSTs each payload, signed with HMAC-SHA256, and retries with
//! exponential backoff. The device senders (FCM, APNs, Web Push; one [`DeviceSender`]
//! trait) make one attempt to alert one device; the domain's device push decides whom,
//! with what, and how often to retry.

mod apns;
mod config;
mod consume;
mod ece;
mod fcm;
mod jetstream;
mod sender;
mod web_push;
mod webhook;

use std::sync::Arc;

use bytes::Bytes;
use serde::{Deserialize, Serialize};
use tokio::sync::mpsc;

pub use self::config::{ApnsConfig, FcmConfig, NotificationsConfig, WebPushConfig};
pub use self::consume::{Source, consume};
pub use self::jetstream::{NotificationStream, STREAM, subject};
pub use self::sender::{Alert, DeviceSender, Outcome, Senders};
pub use self::web_push::new_vapid_key_pem;
pub use self::webhook::{WebhookSender, signature};
use crate::metrics::ControllerMetrics;
use crate::model::Notification;

/// Notifications waiting for each in-process consumer (the webhook, the devices). When one
/// is full, new ones are dropped for it and counted as failed: the records stay in the
/// Store, only the push is lost.
const QUEUE: usize = 10_000;

/// One notification as pushed: its id (the delivery id) and its JSON payload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pushed {
    pub id: u64,
    pub body: Bytes,
}

impl Pushed {
    pub fn new(n: &Notification) -> Pushed {
        let payload = Payload {
            id: n.id.to_string(),
            org: n.org.clone(),
            user_id: n.user.clone(),
            conversation_id: n.conversation_id.to_string(),
            message_id: n.message_id.to_string(),
            from: n.from.clone(),
            reason: n.reason.name().to_string(),
            preview: n.preview.clone(),
            created_at_ms: n.created_at_ms,
        };
        let body = serde_json::to_vec(&payload).expect("the payload serializes");
        Pushed { id: n.id, body: body.into() }
    }
}

impl Pushed {
    /// The notification it carries.
    pub fn payload(&self) -> Result<Payload, serde_json::Error> {
        serde_json::from_slice(&self.body)
    }
}

/// The JSON payload of a pushed notification. Ids are strings: they exceed 2^53.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Payload {
    pub id: String,
    pub org: String,
    pub user_id: String,
    pub conversation_id: String,
    pub message_id: String,
    pub from: String,
    pub reason: String,
    pub preview: String,
    pub created_at_ms: i64,
}

/// Where new notifications go.
#[derive(Clone, Default)]
pub struct Push {
    outlet: Outlet,
    metrics: Option<Arc<ControllerMetrics>>,
}

#[derive(Clone, Default)]
enum Outlet {
    #[default]
    Nowhere,
    /// The queues of in-process consumers, each named (for logs).
    Queues(Vec<(&'static str, mpsc::Sender<Pushed>)>),
    /// The JetStream stream.
    Stream(Box<NotificationStream>),
}

impl Push {
    /// Pushes to the stream.
    pub fn to_stream(stream: NotificationStream, metrics: Arc<ControllerMetrics>) -> Push {
        Push { outlet: Outlet::Stream(Box::new(stream)), metrics: Some(metrics) }
    }

    /// Pushes to in-process consumers, each given its queue by [`Push::queue_for`].
    pub fn in_process(metrics: Arc<ControllerMetrics>) -> Push {
        Push { outlet: Outlet::Queues(Vec::new()), metrics: Some(metrics) }
    }

    /// A queue of its own for the in-process consumer `name`: the other end.
    pub fn queue_for(&mut self, name: &'static str) -> mpsc::Receiver<Pushed> {
        let (queue, queued) = mpsc::channel(QUEUE);
        match &mut self.outlet {
            Outlet::Queues(queues) => queues.push((name, queue)),
            outlet => *outlet = Outlet::Queues(vec![(name, queue)]),
        }
        queued
    }

    /// Hands notifications on; never waits.
    pub fn deliver(&self, notifications: &[Notification]) {
        match &self.outlet {
            Outlet::Nowhere => {}
            Outlet::Stream(stream) => {
                stream.publish(
                    notifications.iter().map(|n| (n.org.clone(), Pushed::new(n))).collect(),
                );
            }
            Outlet::Queues(queues) => {
                for n in notifications {
                    let pushed = Pushed::new(n);
                    for (consumer, queue) in queues {
                        if queue.try_send(pushed.clone()).is_err() {
                            tracing::warn!(consumer, "push queue full; a notification is dropped");
                            if let Some(metrics) = &self.metrics {
                                metrics.push_dropped.inc();
                            }
                        }
                    }
                }
            }
        }
    }
}
