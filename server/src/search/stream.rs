//! The cluster's indexing path: controllers' message events, kept by the JetStream stream
//! `SWITCHBOARD_MESSAGES` (which records the bus subjects `sb.*.ch.*`), read by the
//! indexer's durable consumer. Events are acknowledged only once the index committed
//! them, so whatever was published while the indexer was down is indexed when it is back.

use std::sync::Arc;
use std::time::Duration;

use async_nats::jetstream::{self, consumer, stream};
use futures_util::StreamExt as _;
use switchboard_proto::prost::Message as _;
use switchboard_proto::v1::{self as pb, event::Kind};
use tokio_util::sync::CancellationToken;

use super::applier::Applier;
use super::{SearchError, SearchIndex};
use crate::store::Store;

/// The stream of conversation events.
pub const MESSAGE_STREAM: &str = "SWITCHBOARD_MESSAGES";
/// How long events wait for an indexer that is away.
const MAX_AGE: Duration = Duration::from_secs(7 * 24 * 60 * 60);
/// The most the stream keeps (typing and presence ride the same subjects); the oldest go.
const MAX_BYTES: i64 = 4 * 1024 * 1024 * 1024;
/// The indexer's durable consumer.
const CONSUMER: &str = "indexer";
/// Events taken at once; one commit and one acknowledgement per batch.
const BATCH: usize = 1_000;
/// How long a fetch waits for events.
const FETCH_WAIT: Duration = Duration::from_millis(500);
/// How long a batch may stay unacknowledged before the stream offers it again.
const ACK_WAIT: Duration = Duration::from_secs(120);

fn unavailable(what: &str, error: impl std::fmt::Display) -> SearchError {
    SearchError::Index(format!("{what}: {error}"))
}

/// Creates the message stream if it does not exist (controllers that forward Search to an
/// indexer do it at start, so that events are kept from then on).
pub async fn open_message_stream(
    client: async_nats::Client,
) -> Result<jetstream::stream::Stream, SearchError> {
    let config = stream::Config {
        name: MESSAGE_STREAM.to_string(),
        subjects: vec!["sb.*.ch.*".to_string()],
        max_age: MAX_AGE,
        max_bytes: MAX_BYTES,
        storage: stream::StorageType::File,
        ..Default::default()
    };
    jetstream::new(client)
        .get_or_create_stream(config)
        .await
        .map_err(|e| unavailable("message stream", e))
}

/// Indexes the message events of the stream.
pub struct StreamIndexer {
    applier: Applier,
    consumer: consumer::PullConsumer,
}

impl StreamIndexer {
    pub async fn new(
        index: Arc<SearchIndex>,
        store: Arc<dyn Store>,
        client: async_nats::Client,
    ) -> Result<StreamIndexer, SearchError> {
        let stream = open_message_stream(client).await?;
        let config = consumer::pull::Config {
            durable_name: Some(CONSUMER.to_string()),
            ack_policy: consumer::AckPolicy::All,
            ack_wait: ACK_WAIT,
            ..Default::default()
        };
        let consumer = stream
            .get_or_create_consumer(CONSUMER, config)
            .await
            .map_err(|e| unavailable("indexer consumer", e))?;
        Ok(StreamIndexer { applier: Applier::new(index, store), consumer })
    }

    /// Indexes until `shutdown`; a failed batch is logged and taken again.
    pub async fn run(mut self, shutdown: CancellationToken) {
        while !shutdown.is_cancelled() {
            if let Err(error) = self.batch().await {
                tracing::warn!(%error, "indexing from the stream failed; retrying");
                tokio::select! {
                    _ = shutdown.cancelled() => {}
                    _ = tokio::time::sleep(FETCH_WAIT) => {}
                }
            }
        }
    }

    /// Takes a batch, applies its message events, commits, then acknowledges it.
    async fn batch(&mut self) -> Result<(), SearchError> {
        let mut events = self
            .consumer
            .batch()
            .max_messages(BATCH)
            .expires(FETCH_WAIT)
            .messages()
            .await
            .map_err(|e| unavailable("indexer consumer", e))?;
        let mut last = None;
        while let Some(message) = events.next().await {
            let message = message.map_err(|e| unavailable("indexer consumer", e))?;
            if let Some((conversation_id, id)) = changed_message(&message.payload) {
                self.applier.apply(conversation_id, id).await?;
            }
            last = Some(message);
        }
        let Some(last) = last else { return Ok(()) };
        if self.applier.dirty {
            self.applier.commit(String::new()).await?;
        }
        // With AckPolicy::All, the last one acknowledges the whole batch.
        last.ack().await.map_err(|e| unavailable("acknowledging indexed events", e))
    }
}

/// The (conversation, message) a message event is about; None for other events.
fn changed_message(payload: &[u8]) -> Option<(u64, u64)> {
    let event = pb::Event::decode(payload).ok()?;
    let message = match event.kind? {
        Kind::MessageCreated(e) => e.message,
        Kind::MessageEdited(e) => e.message,
        Kind::MessageDeleted(e) => e.message,
        Kind::MessageExpired(e) => e.message,
        _ => None,
    }?;
    Some((message.channel_id, message.id))
}
