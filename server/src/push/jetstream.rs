//! The JetStream side of push: the stream notifications are published to, and the
//! durable consumers on it (the webhook sender's, the device push's).

use std::time::Duration;

use async_nats::HeaderMap;
use async_nats::jetstream::{self, consumer, stream};
use futures_util::StreamExt as _;

use super::Pushed;
use crate::bus::BusError;
use crate::bus::nats::escape;

/// The stream every controller publishes notifications to.
pub const STREAM: &str = "SWITCHBOARD_NOTIFICATIONS";
/// How long the stream keeps a notification for consumers that were away.
const MAX_AGE: Duration = Duration::from_secs(7 * 24 * 60 * 60);
/// Repeats of one notification id within this window are stored once.
const DUPLICATE_WINDOW: Duration = Duration::from_secs(120);
/// How long a taken notification may stay unacknowledged (its retries included) before
/// the stream offers it again.
const ACK_WAIT: Duration = Duration::from_secs(1800);

/// The subject of an org's notifications: `notifications.<org>` (the org escaped as on
/// the bus, so that it stays one token).
pub fn subject(org: &str) -> String {
    format!("notifications.{}", escape(org))
}

/// The notification stream, created if it does not exist.
#[derive(Clone)]
pub struct NotificationStream {
    context: jetstream::Context,
}

fn unavailable(what: &str, error: impl std::fmt::Display) -> BusError {
    BusError::Unavailable(format!("{what}: {error}"))
}

impl NotificationStream {
    pub async fn open(client: async_nats::Client) -> Result<NotificationStream, BusError> {
        let context = jetstream::new(client);
        let config = stream::Config {
            name: STREAM.to_string(),
            subjects: vec!["notifications.>".to_string()],
            max_age: MAX_AGE,
            storage: stream::StorageType::File,
            duplicate_window: DUPLICATE_WINDOW,
            ..Default::default()
        };
        context
            .get_or_create_stream(config)
            .await
            .map_err(|e| unavailable("notification stream", e))?;
        Ok(NotificationStream { context })
    }

    /// Publishes in the background, waiting for the stream's acknowledgements; failures
    /// are logged (the records stay in the Store).
    pub fn publish(&self, pushed: Vec<(String, Pushed)>) {
        let context = self.context.clone();
        tokio::spawn(async move {
            for (org, p) in pushed {
                let mut headers = HeaderMap::new();
                headers.insert("Nats-Msg-Id", p.id.to_string().as_str());
                let acked = match context.publish_with_headers(subject(&org), headers, p.body).await
                {
                    Ok(ack) => ack.await.map(|_| ()).map_err(|e| e.to_string()),
                    Err(error) => Err(error.to_string()),
                };
                if let Err(error) = acked {
                    tracing::error!(%error, id = p.id, "a notification was not published");
                }
            }
        });
    }

    /// The durable consumer `name` (shared by every controller), which offers a
    /// notification at most `max_deliver` times.
    pub async fn consumer(&self, name: &str, max_deliver: u32) -> Result<StreamConsumer, BusError> {
        let stream = self
            .context
            .get_stream(STREAM)
            .await
            .map_err(|e| unavailable("notification stream", e))?;
        let config = consumer::pull::Config {
            durable_name: Some(name.to_string()),
            ack_wait: ACK_WAIT,
            // Each delivery retries within; a redelivery happens only when a controller
            // stopped before finishing it.
            max_deliver: i64::from(max_deliver),
            ..Default::default()
        };
        let consumer: consumer::PullConsumer = stream
            .get_or_create_consumer(name, config)
            .await
            .map_err(|e| unavailable("notification consumer", e))?;
        let messages =
            consumer.messages().await.map_err(|e| unavailable("notification consumer", e))?;
        Ok(StreamConsumer { name: name.to_string(), messages })
    }
}

/// Notifications for one consumer, from the stream.
pub struct StreamConsumer {
    name: String,
    messages: consumer::pull::Stream,
}

/// What to do once a notification was delivered (or given up).
pub enum Done {
    Nothing,
    /// Acknowledge it on the stream.
    Ack(Box<jetstream::Message>),
}

impl Done {
    pub async fn finished(self) {
        if let Done::Ack(message) = self
            && let Err(error) = message.ack().await
        {
            tracing::warn!(%error, "could not acknowledge a pushed notification");
        }
    }
}

impl StreamConsumer {
    /// The next notification; None once the consumer ended.
    pub async fn next(&mut self) -> Option<(Pushed, Done)> {
        loop {
            let message = match self.messages.next().await? {
                Ok(message) => message,
                Err(error) => {
                    tracing::warn!(%error, consumer = %self.name, "notification consumer");
                    continue;
                }
            };
            let id = message
                .headers
                .as_ref()
                .and_then(|h| h.get("Nats-Msg-Id"))
                .and_then(|v| v.as_str().parse().ok())
                .unwrap_or(0);
            let pushed = Pushed { id, body: message.payload.clone() };
            return Some((pushed, Done::Ack(Box::new(message))));
        }
    }
}
