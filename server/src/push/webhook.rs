//! The webhook sender: POSTs each pushed notification, signed, and retries with backoff
//! until the endpoint answers 2xx or the attempts run out.

use std::sync::Arc;
use std::time::Duration;

use hmac::{Hmac, Mac};
use sha2::Sha256;
use tokio_util::sync::CancellationToken;

use super::consume::{Source, consume};
use super::sender::ATTEMPT_TIMEOUT;
use super::{NotificationsConfig, Pushed};
use crate::blobs::signing::hex;
use crate::metrics::ControllerMetrics;

/// Deliveries in flight at once.
const IN_FLIGHT: usize = 16;
/// Longest wait between two attempts.
const MAX_BACKOFF: Duration = Duration::from_secs(60);

/// Sends pushed notifications to the webhook.
pub struct WebhookSender {
    webhook: Arc<Webhook>,
    source: Source,
}

/// The endpoint and how to reach it.
struct Webhook {
    url: String,
    secret: Vec<u8>,
    max_attempts: u32,
    first_retry: Duration,
    client: reqwest::Client,
    metrics: Arc<ControllerMetrics>,
}

impl WebhookSender {
    /// A sender for `[notifications]`, which must name a webhook URL.
    pub fn new(
        config: &NotificationsConfig,
        secret: Vec<u8>,
        source: Source,
        metrics: Arc<ControllerMetrics>,
    ) -> WebhookSender {
        let client = reqwest::Client::builder()
            .timeout(ATTEMPT_TIMEOUT)
            .build()
            .expect("an HTTP client with rustls builds");
        let webhook = Webhook {
            url: config.webhook_url.clone().unwrap_or_default(),
            secret,
            max_attempts: config.webhook_max_attempts,
            first_retry: Duration::from_millis(config.webhook_first_retry_ms),
            client,
            metrics,
        };
        WebhookSender { webhook: Arc::new(webhook), source }
    }

    /// Delivers until `shutdown` (see [`consume`]).
    pub async fn run(self, shutdown: CancellationToken) {
        let webhook = self.webhook;
        consume(self.source, IN_FLIGHT, shutdown, move |pushed| {
            let webhook = webhook.clone();
            async move { webhook.send(&pushed).await }
        })
        .await;
    }
}

impl Webhook {
    /// Delivers one notification, retrying as configured; the outcome is logged and counted.
    async fn send(&self, pushed: &Pushed) {
        let mut wait = self.first_retry;
        for attempt in 1..=self.max_attempts {
            let timestamp = switchboard_proto::ids::now_ms().to_string();
            let answer = self
                .client
                .post(&self.url)
                .header("content-type", "application/json")
                .header("x-switchboard-delivery", pushed.id.to_string())
                .header("x-switchboard-timestamp", &timestamp)
                .header(
                    "x-switchboard-signature",
                    signature(&self.secret, &timestamp, &pushed.body),
                )
                .body(pushed.body.clone())
                .send()
                .await;
            let retry = match answer {
                Ok(response) if response.status().is_success() => {
                    self.metrics.webhook_delivered.inc();
                    return;
                }
                Ok(response) => {
                    let status = response.status();
                    tracing::warn!(%status, attempt, id = pushed.id, "webhook refused a notification");
                    // Refusals other than "try later" will not change by retrying.
                    status.is_server_error() || matches!(status.as_u16(), 408 | 429)
                }
                Err(error) => {
                    tracing::warn!(%error, attempt, id = pushed.id, "webhook unreachable");
                    true
                }
            };
            if !retry || attempt == self.max_attempts {
                break;
            }
            tokio::time::sleep(wait).await;
            wait = (wait * 2).min(MAX_BACKOFF);
        }
        tracing::error!(id = pushed.id, "a notification was not pushed to the webhook");
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
