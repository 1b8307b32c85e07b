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

use std::collections::{BTreeSet, HashMap};
use std::time::Duration;

use switchboard_proto::tonic::{Code, Request, Status};
use switchboard_proto::v1::{
    self as pb, client_frame::Kind as ClientKind, event::Kind as EventKind,
    realtime_client::RealtimeClient, server_frame::Kind as ServerKind,
};
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;
use tokio_stream::wrappers::ReceiverStream;

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
        }
    }
}

/// What the app receives.
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

/// Moves a conversation's position forward to a message event's.
fn advance(positions: &mut HashMap<u64, u64>, event: &pb::Event) {
    if event.seq != 0 {
        let position = positions.entry(event.conversation_id).or_default();
        *position = (*position).max(event.seq);
    }
}

/// Takes the positions a `live` frame names: the stream has everything up to them.
fn went_live(positions: &mut HashMap<u64, u64>, live: &pb::Live) {
    for named in &live.positions {
        let position = positions.entry(named.channel_id).or_default();
        *position = (*position).max(named.after_seq);
    }
}

/// The connection task: connect, serve, and on any break reconnect with backoff.
async fn run(
    mut options: RealtimeOptions,
    mut commands: mpsc::Receiver<Command>,
    events: mpsc::Sender<RealtimeEvent>,
) {
    let mut resume =
        Resume { following: Following::new(&options.only), received: options.positions.clone() };
    let mut backoff = options.min_backoff;
    let mut attempt = 0usize;
    loop {
        let address = options.addresses[attempt % options.addresses.len()].clone();
        attempt += 1;
        let outcome = connection(&address, &mut options, &mut commands, &events, &mut resume).await;
        let status = match outcome {
            Ok(Ended::AppClosed) => return,
            Ok(Ended::WasLive) => {
                backoff = options.min_backoff;
                Status::unavailable("the stream ended")
            }
            Err(status) => status,
        };
        let event =
            RealtimeEvent::Disconnected { code: status.code(), message: status.message().into() };
        if events.send(event).await.is_err() {
            return;
        }
        tokio::time::sleep(backoff).await;
        backoff = (backoff * 2).min(options.max_backoff);
    }
}

/// What a reconnect asks the relay for.
struct Resume {
    /// The conversations the app follows, as it last changed them.
    following: Following,
    /// The position received per conversation, where the replay starts.
    received: HashMap<u64, u64>,
}

impl Resume {
    /// Takes note of an event from the relay: a message event moves its conversation's
    /// position; the user (`me`) being added to a conversation again means it is followed
    /// again when following all (the relay subscribes it, as it follows membership).
    fn saw(&mut self, event: &pb::Event, me: &str) {
        advance(&mut self.received, event);
        if let Some(EventKind::MemberJoined(pb::MemberJoined { member: Some(member), .. })) =
            &event.kind
            && member.user_id == me
            && let Following::All { except } = &mut self.following
        {
            except.remove(&event.conversation_id);
        }
    }

    fn hello(&self) -> pb::Hello {
        let resume = self
            .received
            .iter()
            .filter(|(channel, _)| self.following.includes(**channel))
            .map(|(channel_id, after_seq)| pb::ChannelPosition {
                channel_id: *channel_id,
                after_seq: *after_seq,
                ..Default::default()
            })
            .collect();
        match &self.following {
            Following::All { except } => {
                pb::Hello { resume, except: except.iter().copied().collect(), ..Default::default() }
            }
            Following::Only(only) => pb::Hello {
                only: only.iter().copied().collect(),
                resume,
                none: only.is_empty(),
                ..Default::default()
            },
        }
    }
}

/// Which conversations the app follows.
enum Following {
    /// All of the user's (the relay adds those joined later) except these.
    All { except: BTreeSet<u64> },
    /// Exactly these.
    Only(BTreeSet<u64>),
}

impl Following {
    fn new(only: &[u64]) -> Self {
        match only {
            [] => Following::All { except: BTreeSet::new() },
            only => Following::Only(only.iter().copied().collect()),
        }
    }

    fn includes(&self, channel: u64) -> bool {
        match self {
            Following::All { except } => !except.contains(&channel),
            Following::Only(only) => only.contains(&channel),
        }
    }

    /// Follows a `subscribe` or `unsubscribe` frame the app sends.
    fn change(&mut self, frame: &ClientKind) {
        match (self, frame) {
            (Following::All { except }, ClientKind::Subscribe(subscribe)) => {
                for position in &subscribe.channels {
                    except.remove(&position.channel_id);
                }
            }
            (Following::All { except }, ClientKind::Unsubscribe(unsubscribe)) => {
                except.extend(&unsubscribe.channel_ids);
            }
            (Following::Only(only), ClientKind::Subscribe(subscribe)) => {
                only.extend(subscribe.channels.iter().map(|position| position.channel_id));
            }
            (Following::Only(only), ClientKind::Unsubscribe(unsubscribe)) => {
                for channel in &unsubscribe.channel_ids {
                    only.remove(channel);
                }
            }
            _ => {}
        }
    }
}

enum Ended {
    /// The app dropped its handle.
    AppClosed,
    /// The stream had gone live before it ended (so the next attempt starts fast).
    WasLive,
}

async fn connection(
    address: &str,
    options: &mut RealtimeOptions,
    commands: &mut mpsc::Receiver<Command>,
    events: &mpsc::Sender<RealtimeEvent>,
    resume: &mut Resume,
) -> Result<Ended, Status> {
    let channel = crate::client::endpoint(address, options.ca_pem.as_deref())
        .map_err(|e| Status::invalid_argument(format!("bad address {address}: {e}")))?
        .connect_timeout(Duration::from_secs(5))
        .tcp_nodelay(true)
        .connect()
        .await
        .map_err(|e| Status::unavailable(format!("cannot connect to {address}: {e}")))?;
    let (outbound, outbound_rx) = mpsc::channel::<pb::ClientFrame>(1024);
    let hello = resume.hello();
    let _ = outbound.try_send(pb::ClientFrame { kind: Some(ClientKind::Hello(hello)) });
    let mut request = Request::new(ReceiverStream::new(outbound_rx));
    let bearer = format!("Bearer {}", options.token)
        .parse()
        .map_err(|_| Status::unauthenticated("the token has characters a header cannot carry"))?;
    request.metadata_mut().insert("authorization", bearer);
    let mut inbound = RealtimeClient::new(channel).connect(request).await?.into_inner();

    let mut pending: HashMap<String, oneshot::Sender<Result<pb::Ack, SdkError>>> = HashMap::new();
    let mut live = false;
    // Who the relay says the stream is for (from its welcome).
    let mut me = String::new();
    let result = loop {
        tokio::select! {
            command = commands.recv() => {
                let frame = match command {
                    None => break Ok(Ended::AppClosed),
                    Some(Command::Frame(kind)) => {
                        resume.following.change(&kind);
                        kind
                    }
                    Some(Command::Send(frame, reply)) => {
                        let id = frame.message.as_ref().map(|m| m.client_msg_id.clone());
                        pending.insert(id.unwrap_or_default(), reply);
                        ClientKind::Send(frame)
                    }
                    Some(Command::SetToken(token)) => {
                        options.token = token.clone();
                        ClientKind::RefreshToken(pb::RefreshToken { token })
                    }
                };
                if outbound.send(pb::ClientFrame { kind: Some(frame) }).await.is_err() {
                    break Err(Status::unavailable("the stream closed"));
                }
            }
            frame = inbound.message() => {
                let kind = match frame {
                    Ok(Some(pb::ServerFrame { kind: Some(kind) })) => kind,
                    Ok(Some(_)) => continue,
                    Ok(None) if live => break Ok(Ended::WasLive),
                    Ok(None) => break Err(Status::unavailable("the stream ended")),
                    Err(status) => break Err(status),
                };
                let event = match kind {
                    ServerKind::Welcome(welcome) => {
                        me.clone_from(&welcome.user_id);
                        RealtimeEvent::Welcome(welcome)
                    }
                    ServerKind::Live(done) => {
                        live = true;
                        went_live(&mut resume.received, &done);
                        RealtimeEvent::Live(done)
                    }
                    ServerKind::Event(event) => {
                        resume.saw(&event, &me);
                        RealtimeEvent::Event(event)
                    }
                    ServerKind::Ack(ack) => {
                        if let Some(reply) = pending.remove(&ack.client_msg_id) {
                            let _ = reply.send(Ok(ack));
                        }
                        continue;
                    }
                    ServerKind::Error(error) => match pending.remove(&error.client_msg_id) {
                        Some(reply) if !error.client_msg_id.is_empty() => {
                            let status = Status::new(Code::from_i32(error.code), error.message);
                            let _ = reply.send(Err(SdkError::Status(status)));
                            continue;
                        }
                        _ => RealtimeEvent::Error(error),
                    },
                    ServerKind::Pong(_) => continue,
                };
                if events.send(event).await.is_err() {
                    break Ok(Ended::AppClosed);
                }
            }
        }
    };
    // Sends in flight are unknown: the app may retry them with the same client_msg_id.
    for (_, reply) in pending {
        let _ = reply.send(Err(SdkError::Status(Status::unavailable(
            "disconnected before the acknowledgement; retry with the same client_msg_id",
        ))));
    }
    result
}
