//! Push delivery of notifications. Each new notification becomes one JSON payload (the
//! same bytes everywhere, documented in docs/notifications.md) that goes
//!
//! - with NATS (`nats.urls`): to the JetStream stream `SWITCHBOARD_NOTIFICATIONS` on
//!   subject `notifications.<org>`, where push gateways (FCM, APNs) consume it with their
//!   own durable consumers, and the webhook sender with the durable consumer `webhook`, so
//!   nothing is lost while controllers restart;
//! - without NATS: straight to the webhook sender's in-process queue.
//!
//! The webhook sender (the reference consumer) POSTs each payload, signed with
//! HMAC-SHA256, and retries with exponential backoff.

mod jetstream;
mod webhook;

use std::path::PathBuf;
use std::sync::Arc;

use bytes::Bytes;
use serde::{Deserialize, Serialize};
use tokio::sync::mpsc;

pub use self::jetstream::{NotificationStream, STREAM, subject};
pub use self::webhook::{Source, WebhookSender, signature};
use crate::metrics::ControllerMetrics;
use crate::model::Notification;

/// Notifications waiting for the webhook (in-process). When full, new ones are dropped
/// and counted as failed: the records stay in the Store, only the push is lost.
const QUEUE: usize = 10_000;

/// `[notifications]`: where notifications are pushed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct NotificationsConfig {
    /// The webhook notifications are POSTed to; none: no webhook.
    pub webhook_url: Option<String>,
    /// The HMAC-SHA256 key the webhook's signature is made with (at least 32 bytes).
    pub webhook_secret_file: Option<PathBuf>,
    /// Attempts per notification before it is given up.
    pub webhook_max_attempts: u32,
    /// Wait before the first retry; doubled after each failure (up to a minute).
    pub webhook_first_retry_ms: u64,
}

impl Default for NotificationsConfig {
    fn default() -> Self {
        NotificationsConfig {
            webhook_url: None,
            webhook_secret_file: None,
            webhook_max_attempts: 8,
            webhook_first_retry_ms: 500,
        }
    }
}

impl NotificationsConfig {
    pub fn validate(&self) -> Result<(), String> {
        let Some(url) = &self.webhook_url else {
            return Ok(());
        };
        if !(url.starts_with("http://") || url.starts_with("https://")) {
            return Err(format!("webhook_url must be an http:// or https:// URL, got {url:?}"));
        }
        if self.webhook_secret_file.is_none() {
            return Err("webhook_url needs webhook_secret_file (the signing key)".into());
        }
        if !(1..=100).contains(&self.webhook_max_attempts) {
            return Err("webhook_max_attempts must be 1 to 100".into());
        }
        Ok(())
    }
}

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

/// The JSON payload of a pushed notification. Ids are strings: they exceed 2^53.
#[derive(Debug, Serialize, Deserialize)]
struct Payload {
    id: String,
    org: String,
    user_id: String,
    conversation_id: String,
    message_id: String,
    from: String,
    reason: String,
    preview: String,
    created_at_ms: i64,
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
    /// The in-process webhook sender's queue.
    Webhook(mpsc::Sender<Pushed>),
    /// The JetStream stream.
    Stream(Box<NotificationStream>),
}

impl Push {
    /// Pushes to the stream.
    pub fn to_stream(stream: NotificationStream, metrics: Arc<ControllerMetrics>) -> Push {
        Push { outlet: Outlet::Stream(Box::new(stream)), metrics: Some(metrics) }
    }

    /// Pushes to an in-process webhook sender: this and its queue's other end.
    pub fn to_webhook(metrics: Arc<ControllerMetrics>) -> (Push, mpsc::Receiver<Pushed>) {
        let (queue, queued) = mpsc::channel(QUEUE);
        (Push { outlet: Outlet::Webhook(queue), metrics: Some(metrics) }, queued)
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
            Outlet::Webhook(queue) => {
                for n in notifications {
                    if queue.try_send(Pushed::new(n)).is_err() {
                        tracing::warn!("webhook queue full; a notification is not pushed");
                        if let Some(metrics) = &self.metrics {
                            metrics.webhook_failed.inc();
                        }
                    }
                }
            }
        }
    }
}
