//! Push delivery of notifications: the built-in webhook sender, the reference consumer for
//! a push gateway (FCM, APNs). Each notification is POSTed as JSON, signed with
//! HMAC-SHA256, and retried with exponential backoff until the endpoint answers 2xx or the
//! attempts run out. The payload and headers are documented in docs/notifications.md.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;
use tokio::sync::{Semaphore, mpsc};
use tokio_util::sync::CancellationToken;

use crate::blobs::signing::hex;
use crate::metrics::ControllerMetrics;
use crate::model::Notification;

/// Notifications waiting for the webhook. When full, new ones are dropped (and counted as
/// failed): the records stay in the Store, only the push is lost.
const QUEUE: usize = 10_000;
/// Deliveries in flight at once.
const IN_FLIGHT: usize = 16;
/// Longest wait between two attempts.
const MAX_BACKOFF: Duration = Duration::from_secs(60);
/// Longest an attempt may take.
const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(10);

/// `[notifications]`: where notifications are pushed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct NotificationsConfig {
    /// The webhook notifications are POSTed to; none: no push.
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

/// Where new notifications go for push delivery.
#[derive(Clone, Default)]
pub struct Push {
    /// The webhook sender's queue, when a webhook is configured.
    webhook: Option<mpsc::Sender<Notification>>,
    metrics: Option<Arc<ControllerMetrics>>,
}

impl Push {
    /// Queues notifications for delivery; never waits.
    pub fn deliver(&self, notifications: Vec<Notification>) {
        let Some(queue) = &self.webhook else { return };
        for notification in notifications {
            if queue.try_send(notification).is_err() {
                tracing::warn!("webhook queue full; a notification is not pushed");
                if let Some(metrics) = &self.metrics {
                    metrics.webhook_failed.inc();
                }
            }
        }
    }
}

/// The JSON body of a webhook POST.
#[derive(Debug, Serialize)]
struct Payload<'a> {
    id: String,
    org: &'a str,
    user_id: &'a str,
    conversation_id: String,
    message_id: String,
    from: &'a str,
    reason: &'static str,
    preview: &'a str,
    created_at_ms: i64,
}

/// Sends queued notifications to the webhook.
pub struct WebhookSender {
    url: String,
    secret: Vec<u8>,
    max_attempts: u32,
    first_retry: Duration,
    client: reqwest::Client,
    queue: mpsc::Receiver<Notification>,
    metrics: Arc<ControllerMetrics>,
}

impl WebhookSender {
    /// The sender and the [`Push`] that feeds it; None when no webhook is configured.
    pub fn new(
        config: &NotificationsConfig,
        secret: Vec<u8>,
        metrics: Arc<ControllerMetrics>,
    ) -> Option<(Push, WebhookSender)> {
        let url = config.webhook_url.clone()?;
        let (queue_tx, queue) = mpsc::channel(QUEUE);
        let client = reqwest::Client::builder()
            .timeout(ATTEMPT_TIMEOUT)
            .build()
            .expect("an HTTP client with rustls builds");
        let push = Push { webhook: Some(queue_tx), metrics: Some(metrics.clone()) };
        let sender = WebhookSender {
            url,
            secret,
            max_attempts: config.webhook_max_attempts,
            first_retry: Duration::from_millis(config.webhook_first_retry_ms),
            client,
            queue,
            metrics,
        };
        Some((push, sender))
    }

    /// Delivers until `shutdown`; deliveries still retrying then are abandoned (their
    /// records stay in the Store).
    pub async fn run(mut self, shutdown: CancellationToken) {
        let slots = Arc::new(Semaphore::new(IN_FLIGHT));
        let this = Arc::new(Delivery {
            url: self.url,
            secret: self.secret,
            max_attempts: self.max_attempts,
            first_retry: self.first_retry,
            client: self.client,
            metrics: self.metrics,
        });
        loop {
            let notification = tokio::select! {
                _ = shutdown.cancelled() => return,
                next = self.queue.recv() => match next {
                    Some(n) => n,
                    None => return,
                },
            };
            let Ok(slot) = slots.clone().acquire_owned().await else { return };
            let delivery = this.clone();
            let stop = shutdown.clone();
            tokio::spawn(async move {
                tokio::select! {
                    _ = stop.cancelled() => {}
                    _ = delivery.send(&notification) => {}
                }
                drop(slot);
            });
        }
    }
}

/// What each delivery task needs.
struct Delivery {
    url: String,
    secret: Vec<u8>,
    max_attempts: u32,
    first_retry: Duration,
    client: reqwest::Client,
    metrics: Arc<ControllerMetrics>,
}

impl Delivery {
    async fn send(&self, n: &Notification) {
        let body = serde_json::to_vec(&Payload {
            id: n.id.to_string(),
            org: &n.org,
            user_id: &n.user,
            conversation_id: n.conversation_id.to_string(),
            message_id: n.message_id.to_string(),
            from: &n.from,
            reason: n.reason.name(),
            preview: &n.preview,
            created_at_ms: n.created_at_ms,
        })
        .expect("the payload serializes");
        let mut wait = self.first_retry;
        for attempt in 1..=self.max_attempts {
            let timestamp = switchboard_proto::ids::now_ms().to_string();
            let answer = self
                .client
                .post(&self.url)
                .header("content-type", "application/json")
                .header("x-switchboard-delivery", n.id.to_string())
                .header("x-switchboard-timestamp", &timestamp)
                .header("x-switchboard-signature", signature(&self.secret, &timestamp, &body))
                .body(body.clone())
                .send()
                .await;
            let retry = match answer {
                Ok(response) if response.status().is_success() => {
                    self.metrics.webhook_delivered.inc();
                    return;
                }
                Ok(response) => {
                    let status = response.status();
                    // Refusals other than "try later" will not change by retrying.
                    let transient = status.is_server_error()
                        || status.as_u16() == 408
                        || status.as_u16() == 429;
                    tracing::warn!(%status, attempt, id = n.id, "webhook refused a notification");
                    transient
                }
                Err(error) => {
                    tracing::warn!(%error, attempt, id = n.id, "webhook unreachable");
                    true
                }
            };
            if !retry || attempt == self.max_attempts {
                break;
            }
            tokio::time::sleep(wait).await;
            wait = (wait * 2).min(MAX_BACKOFF);
        }
        tracing::error!(id = n.id, "a notification was not pushed to the webhook");
        self.metrics.webhook_failed.inc();
    }
}

/// `sha256=` and the hex HMAC-SHA256 of `<timestamp>.<body>`.
pub fn signature(secret: &[u8], timestamp: &str, body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret).expect("HMAC takes any key length");
    mac.update(timestamp.as_bytes());
    mac.update(b".");
    mac.update(body);
    format!("sha256={}", hex(&mac.finalize().into_bytes()))
}
