//! [`Realtime`]: a live connection to a relay that survives disconnects.
//!
//! It remembers, per conversation, its position in the conversation's log: the largest
//! `seq` of the message events it received, or the position a `live` frame named. When the
//! stream breaks it reconnects with exponential backoff (trying each relay address in
//! turn) and sends those positions in its `hello`, so the relay replays exactly what was
//! missed: every message created since, once, and every edit and delete since, in log
//! order (what was received but not yet taken by the app is still queued for it).
//! Each conversation's message events reach the app in log order, the order in which the
//! changes were committed. [`Realtime::positions`] is what the app has taken, the
//! positions to save for a restart. What the app subscribed to and unsubscribed from
//! while connected is asked for again on every reconnect.

mod connection;

use std::collections::HashMap;
use std::time::Duration;

use switchboard_proto::tonic::{Code, Status};
use switchboard_proto::v1::{self as pb, client_frame::Kind as ClientKind};
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;

use self::connection::{advance, run, went_live};
use crate::SdkError;

/// How to connect.
#[derive(Debug, Clone)]
pub struct RealtimeOptions {
    /// Relay addresses (e.g. `http://127.0.0.1:7400`), tried in turn.
    pub addresses: Vec<String>,
    pub token: String,
    /// Subscribe to only these conversations; empty for all of the user's (following
    /// membership changes).
    pub only: Vec<u64>,
    /// Known positions (conversation → log position), e.g. from [`Realtime::positions`] in a
    /// previous run.
    pub positions: HashMap<u64, u64>,
    /// First reconnect delay; doubles up to `max_backoff`.
    pub min_backoff: Duration,
    pub max_backoff: Duration,
    /// CA certificate (PEM) to trust for `https://` relays.
    pub ca_pem: Option<Vec<u8>>,
    /// Users whose presence the app shows from the start (see [`Realtime::watch_presence`]).
    pub watch_presence: Vec<String>,
}

impl RealtimeOptions {
    pub fn new(address: impl Into<String>, token: impl Into<String>) -> Self {
        RealtimeOptions {
            addresses: vec![address.into()],
            token: token.into(),
            only: Vec::new(),
            positions: HashMap::new(),
            min_backoff: Duration::from_millis(100),
            max_backoff: Duration::from_secs(5),
            ca_pem: None,
            watch_presence: Vec::new(),
        }
    }
}

/// What the app receives.
// Nearly everything received is an `Event`: boxing it, as the lint suggests for the largest
// variant, would cost an allocation per event to save space on the rare others.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq)]
pub enum RealtimeEvent {
    /// Connected (or reconnected) and subscribed.
    Welcome(pb::Welcome),
    /// Replays are done; events from here on are live.
    Live(pb::Live),
    Event(pb::Event),
    /// A client frame failed (sends report through [`Realtime::send`] instead).
    Error(pb::ErrorFrame),
    /// The stream ended; a reconnect follows unless the app closed it.
    Disconnected {
        code: Code,
        message: String,
    },
}

/// Commands from the app to the connection task.
enum Command {
    Frame(ClientKind),
    /// A send and who waits for its ack (the frame carries the caller's trace context).
    Send(pb::SendFrame, oneshot::Sender<Result<pb::Ack, SdkError>>),
    SetToken(String),
}

/// A live connection. Dropping it closes the connection.
pub struct Realtime {
    commands: mpsc::Sender<Command>,
    events: mpsc::Receiver<RealtimeEvent>,
    /// The position of what the app has taken from [`Realtime::next`], per conversation.
    positions: HashMap<u64, u64>,
    task: JoinHandle<()>,
}

impl Realtime {
    /// Starts connecting; events (including `Welcome`) arrive through [`Realtime::next`].
    pub fn connect(options: RealtimeOptions) -> Realtime {
        let (commands, command_rx) = mpsc::channel(1024);
        let (event_tx, events) = mpsc::channel(4096);
        let positions = options.positions.clone();
        let task = tokio::spawn(run(options, command_rx, event_tx));
        Realtime { commands, events, positions, task }
    }

    /// The next event; None once closed.
    pub async fn next(&mut self) -> Option<RealtimeEvent> {
        let event = self.events.recv().await?;
        match &event {
            RealtimeEvent::Event(event) => advance(&mut self.positions, event),
            RealtimeEvent::Live(live) => went_live(&mut self.positions, live),
            _ => {}
        }
        Some(event)
    }

    /// Sends a message and waits for its acknowledgement. A `client_msg_id` is generated
    /// when empty; retrying with the same one after an error never duplicates the message.
    pub async fn send(&self, mut request: pb::SendMessageRequest) -> Result<pb::Ack, SdkError> {
        if request.client_msg_id.is_empty() {
            request.client_msg_id = format!("sdk-{:016x}", rand::random::<u64>());
        }
        let (reply, answer) = oneshot::channel();
        let traceparent = switchboard_telemetry::traceparent_of_current().unwrap_or_default();
        let frame = pb::SendFrame { message: Some(request), traceparent };
        self.command(Command::Send(frame, reply)).await?;
        answer.await.map_err(|_| closed())?
    }

    pub async fn typing(&self, channel_id: u64, typing: bool) -> Result<(), SdkError> {
        self.frame(ClientKind::Typing(pb::TypingFrame { channel_id, typing })).await
    }

    pub async fn mark_read(&self, channel_id: u64, message_id: u64) -> Result<(), SdkError> {
        self.frame(ClientKind::MarkRead(pb::MarkReadFrame { channel_id, message_id })).await
    }

    /// Adds conversations (each replayed from its known position, if any).
    pub async fn subscribe(&self, channel_ids: &[u64]) -> Result<(), SdkError> {
        let channels = channel_ids
            .iter()
            .map(|id| pb::ChannelPosition {
                channel_id: *id,
                after_seq: self.positions.get(id).copied().unwrap_or(0),
                ..Default::default()
            })
            .collect();
        self.frame(ClientKind::Subscribe(pb::Subscribe { channels })).await
    }

    pub async fn unsubscribe(&self, channel_ids: &[u64]) -> Result<(), SdkError> {
        let request = pb::Unsubscribe { channel_ids: channel_ids.to_vec() };
        self.frame(ClientKind::Unsubscribe(request)).await
    }

    /// Shows the presence of exactly these users of the org (at most 1,000; empty for no
    /// one): a `presence_changed` event follows with the state of each one not watched
    /// before, then one for each batch of changes. Kept across reconnects.
    pub async fn watch_presence(&self, user_ids: &[&str]) -> Result<(), SdkError> {
        let user_ids = user_ids.iter().map(|user| user.to_string()).collect();
        self.frame(ClientKind::WatchPresence(pb::WatchPresence { user_ids })).await
    }

    /// Shows how many members of these conversations (at most 100, each one the connection
    /// follows) are online: an `online_count` event for each now, then when it changes
    /// (at most once a second). Kept across reconnects.
    pub async fn watch_online_counts(&self, channel_ids: &[u64]) -> Result<(), SdkError> {
        let channel_ids = channel_ids.to_vec();
        self.frame(ClientKind::WatchOnlineCounts(pb::WatchOnlineCounts { channel_ids })).await
    }

    /// Uses a new token from now on (also for reconnects).
    pub async fn set_token(&self, token: impl Into<String>) -> Result<(), SdkError> {
        self.command(Command::SetToken(token.into())).await
    }

    /// The log position of what the app has taken, per conversation: save these to resume
    /// after a restart.
    pub fn positions(&self) -> HashMap<u64, u64> {
        self.positions.clone()
    }

    async fn frame(&self, kind: ClientKind) -> Result<(), SdkError> {
        self.command(Command::Frame(kind)).await
    }

    async fn command(&self, command: Command) -> Result<(), SdkError> {
        self.commands.send(command).await.map_err(|_| closed())
    }
}

impl Drop for Realtime {
    fn drop(&mut self) {
        self.task.abort();
    }
}

fn closed() -> SdkError {
    SdkError::Status(Status::unavailable("the realtime connection is closed"))
}
