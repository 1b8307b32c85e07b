//! The NATS bus: events travel between controllers as protobuf on NATS core subjects.
//!
//! Subjects, per org and topic (org and user ids are escaped so that `.`, `*`, `>` and
//! `%` cannot change the subject's shape: `%2E`, `%2A`, `%3E`, `%25`):
//!
//! | topic | subject |
//! |---|---|
//! | a conversation | `sb.<org>.ch.<conversation id>` |
//! | a user's membership changes | `sb.<org>.user.<user id>` |
//! | the org's presence changes, batched | `sb.<org>.presence` |
//!
//! The payload is the `switchboard.v1.Event`; a `traceparent` header carries the
//! publisher's trace context when traces are exported, and an `Sb-Prev` header a message
//! event's previous log position.
//!
//! A controller holds a NATS subscription for a topic only while one of its relays wants
//! it. Delivery is at most once: when the connection to NATS drops, the outage is reported
//! on `resyncs` once it is back, and the hub fills the gap from the Store (and the other
//! controllers are told, see `nats_presence`).

use std::collections::HashMap;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_nats::{Client, ConnectOptions, Event};
use async_trait::async_trait;
use futures_util::StreamExt;
use switchboard_proto::prost::Message as _;
use switchboard_proto::v1 as pb;
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;

use super::{Bus, BusError, Delivery, NatsConfig, Resync};
use switchboard_proto::topic::Topic;

/// The header naming a message event's previous log position.
const PREV_HEADER: &str = "Sb-Prev";

/// How long a subscription waits for NATS to confirm it.
const BARRIER_TIMEOUT: Duration = Duration::from_secs(10);

pub struct NatsBus {
    client: Client,
    /// Where received events go (the hub's inbox).
    inbox: mpsc::Sender<Delivery>,
    /// One forwarding task per subscribed topic; aborting it unsubscribes.
    subscriptions: Mutex<HashMap<Topic, JoinHandle<()>>>,
    barrier: Arc<Barrier>,
}

/// Round trips through NATS on a private subject. NATS handles one connection's operations
/// in order, so a barrier that came back proves every earlier SUB is in place.
struct Barrier {
    subject: String,
    next: AtomicU64,
    waiting: Mutex<HashMap<u64, oneshot::Sender<()>>>,
}

impl NatsBus {
    /// Connects (retrying in the background if NATS is not up yet); outages are reported
    /// on `resyncs` when the connection comes back.
    pub async fn connect(
        config: &NatsConfig,
        inbox: mpsc::Sender<Delivery>,
        resyncs: mpsc::Sender<Resync>,
    ) -> Result<NatsBus, BusError> {
        let lost_at = Arc::new(AtomicI64::new(0));
        let options =
            connect_options(config, "switchboard-controller").await?.event_callback(move |event| {
                let (lost_at, resyncs) = (lost_at.clone(), resyncs.clone());
                async move { on_event(event, &lost_at, &resyncs) }
            });
        let client = options
            .connect(config.urls.as_slice())
            .await
            .map_err(|e| BusError::Unavailable(format!("cannot connect to NATS: {e}")))?;
        let barrier = Arc::new(Barrier {
            subject: format!(
                "sb._barrier.{}",
                async_nats::Client::new_inbox(&client).replace('.', "-")
            ),
            next: AtomicU64::new(1),
            waiting: Mutex::new(HashMap::new()),
        });
        let mut answers = client
            .subscribe(barrier.subject.clone())
            .await
            .map_err(|e| BusError::Unavailable(e.to_string()))?;
        let answered = barrier.clone();
        tokio::spawn(async move {
            while let Some(message) = answers.next().await {
                let Ok(token) = std::str::from_utf8(&message.payload).unwrap_or("").parse() else {
                    continue;
                };
                if let Some(waiter) = answered.waiting.lock().expect("barrier lock").remove(&token)
                {
                    let _ = waiter.send(());
                }
            }
        });
        Ok(NatsBus { client, inbox, subscriptions: Mutex::new(HashMap::new()), barrier })
    }

    /// The connection, for the presence board.
    pub fn client(&self) -> Client {
        self.client.clone()
    }

    /// Returns once NATS has handled everything this connection sent before.
    async fn barrier(&self) -> Result<(), BusError> {
        let token = self.barrier.next.fetch_add(1, Ordering::Relaxed);
        let (done, answer) = oneshot::channel();
        self.barrier.waiting.lock().expect("barrier lock").insert(token, done);
        let subject = self.barrier.subject.clone();
        self.client
            .publish(subject, token.to_string().into())
            .await
            .map_err(|e| BusError::Unavailable(e.to_string()))?;
        match tokio::time::timeout(BARRIER_TIMEOUT, answer).await {
            Ok(Ok(())) => Ok(()),
            _ => {
                self.barrier.waiting.lock().expect("barrier lock").remove(&token);
                Err(BusError::Unavailable("NATS did not confirm the subscription".into()))
            }
        }
    }
}

fn on_event(event: Event, lost_at: &AtomicI64, resyncs: &mpsc::Sender<Resync>) {
    match event {
        Event::Disconnected => {
            tracing::warn!("lost the connection to NATS");
            let _ = lost_at.compare_exchange(
                0,
                switchboard_proto::ids::now_ms(),
                Ordering::SeqCst,
                Ordering::SeqCst,
            );
        }
        Event::Connected => {
            let since_ms = lost_at.swap(0, Ordering::SeqCst);
            if since_ms != 0 {
                tracing::info!("reconnected to NATS; filling what was lost from the store");
                let _ = resyncs.try_send(Resync::Outage { since_ms });
            }
        }
        other => tracing::debug!(%other, "NATS event"),
    }
}

fn read_trimmed(path: &std::path::Path) -> Result<String, BusError> {
    std::fs::read_to_string(path)
        .map(|s| s.trim().to_string())
        .map_err(|e| BusError::Unavailable(format!("cannot read {}: {e}", path.display())))
}

/// How every Switchboard node connects to NATS (`[nats]`): credentials, TLS, and retrying
/// (also the first connect), at most 2 s apart.
pub async fn connect_options(config: &NatsConfig, name: &str) -> Result<ConnectOptions, BusError> {
    let mut options =
        ConnectOptions::new().name(name).retry_on_initial_connect().reconnect_delay_callback(
            |attempts| Duration::from_millis((50u64 << attempts.min(6)).min(2_000)),
        );
    if let Some(path) = &config.token_file {
        options = options.token(read_trimmed(path)?);
    }
    if let Some(path) = &config.credentials_file {
        options = options
            .credentials_file(path)
            .await
            .map_err(|e| BusError::Unavailable(format!("NATS credentials: {e}")))?;
    }
    if let Some(path) = &config.ca_file {
        options = options.add_root_certificates(path.clone());
    }
    if config.tls_required {
        options = options.require_tls(true);
    }
    Ok(options)
}

/// The NATS subject of a topic.
pub fn subject(topic: &Topic) -> String {
    match topic {
        Topic::Channel { org, id } => format!("sb.{}.ch.{id}", escape(org)),
        Topic::User { org, user } => format!("sb.{}.user.{}", escape(org), escape(user)),
        Topic::Presence { org } => format!("sb.{}.presence", escape(org)),
        // Never subscribed on the bus (see `FanoutHub::subscribe`); named all the same.
        Topic::OnlineCount { org, id } => format!("sb.{}.online.{id}", escape(org)),
    }
}

/// Keeps an id inside one subject token.
pub(crate) fn escape(id: &str) -> String {
    let mut out = String::with_capacity(id.len());
    for c in id.chars() {
        match c {
            '%' => out.push_str("%25"),
            '.' => out.push_str("%2E"),
            '*' => out.push_str("%2A"),
            '>' => out.push_str("%3E"),
            c => out.push(c),
        }
    }
    out
}

#[async_trait]
impl Bus for NatsBus {
    /// The connection sends its subscriptions again before anything else after a
    /// reconnect: a barrier's answer means NATS has them.
    async fn settle(&self) -> Result<(), BusError> {
        self.barrier().await
    }

    async fn publish(&self, topic: &Topic, event: pb::Event, prev: u64) -> Result<(), BusError> {
        let payload = event.encode_to_vec().into();
        let mut headers = async_nats::HeaderMap::new();
        if let Some(traceparent) = switchboard_telemetry::traceparent_of_current() {
            headers.insert(switchboard_telemetry::TRACEPARENT, traceparent.as_str());
        }
        if event.seq != 0 {
            headers.insert(PREV_HEADER, prev.to_string().as_str());
        }
        let sent = if headers.is_empty() {
            self.client.publish(subject(topic), payload).await
        } else {
            self.client.publish_with_headers(subject(topic), headers, payload).await
        };
        sent.map_err(|e| BusError::Unavailable(e.to_string()))
    }

    async fn subscribe(&self, topic: &Topic) -> Result<(), BusError> {
        let mut messages = self
            .client
            .subscribe(subject(topic))
            .await
            .map_err(|e| BusError::Unavailable(e.to_string()))?;
        let (inbox, delivered) = (self.inbox.clone(), topic.clone());
        let forward = tokio::spawn(async move {
            while let Some(message) = messages.next().await {
                let header = |name: &str| {
                    let headers = message.headers.as_ref()?;
                    headers.get(name).map(|value| value.as_str().to_string())
                };
                let traceparent = header(switchboard_telemetry::TRACEPARENT);
                let prev = header(PREV_HEADER).and_then(|prev| prev.parse().ok()).unwrap_or(0);
                match pb::Event::decode(message.payload) {
                    Ok(event) => {
                        let topic = delivered.clone();
                        let event = Arc::new(event);
                        let delivery = Delivery { topic, event, traceparent, prev };
                        if inbox.send(delivery).await.is_err() {
                            return;
                        }
                    }
                    Err(error) => tracing::warn!(%error, "undecodable event on NATS; skipped"),
                }
            }
        });
        if let Some(previous) =
            self.subscriptions.lock().expect("subscriptions lock").insert(topic.clone(), forward)
        {
            previous.abort();
        }
        self.barrier().await
    }

    fn is_connected(&self) -> bool {
        self.client.connection_state() == async_nats::connection::State::Connected
    }

    async fn unsubscribe(&self, topic: &Topic) -> Result<(), BusError> {
        if let Some(forward) = self.subscriptions.lock().expect("subscriptions lock").remove(topic)
        {
            forward.abort();
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subjects_are_per_org_and_topic_and_ids_cannot_break_them() {
        assert_eq!(subject(&Topic::channel("acme", 42)), "sb.acme.ch.42");
        assert_eq!(subject(&Topic::user("acme", "a.b@c")), "sb.acme.user.a%2Eb@c");
        assert_eq!(subject(&Topic::user("x.>", "%")), "sb.x%2E%3E.user.%25");
        assert_eq!(subject(&Topic::presence("acme")), "sb.acme.presence");
    }
}
