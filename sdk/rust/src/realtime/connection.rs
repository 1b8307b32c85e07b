//! The connection task behind a [`Realtime`](super::Realtime): connect, say `hello` with
//! the positions to resume from, serve frames both ways, and on any break reconnect with
//! backoff.

use std::collections::{BTreeSet, HashMap};
use std::time::Duration;

use switchboard_proto::tonic::{Code, Request, Status};
use switchboard_proto::v1::{
    self as pb, client_frame::Kind as ClientKind, event::Kind as EventKind,
    realtime_client::RealtimeClient, server_frame::Kind as ServerKind,
};
use tokio::sync::{mpsc, oneshot};
use tokio_stream::wrappers::ReceiverStream;

use super::{Command, RealtimeEvent, RealtimeOptions};
use crate::SdkError;

/// Moves a conversation's position forward to a message event's.
pub(super) fn advance(positions: &mut HashMap<u64, u64>, event: &pb::Event) {
    if event.seq != 0 {
        let position = positions.entry(event.conversation_id).or_default();
        *position = (*position).max(event.seq);
    }
}

/// Takes the positions a `live` frame names: the stream has everything up to them.
pub(super) fn went_live(positions: &mut HashMap<u64, u64>, live: &pb::Live) {
    for named in &live.positions {
        let position = positions.entry(named.channel_id).or_default();
        *position = (*position).max(named.after_seq);
    }
}

/// The connection task: connect, serve, and on any break reconnect with backoff.
pub(super) async fn run(
    mut options: RealtimeOptions,
    mut commands: mpsc::Receiver<Command>,
    events: mpsc::Sender<RealtimeEvent>,
) {
    let mut resume = Resume {
        following: Following::new(&options.only),
        received: options.positions.clone(),
        watching: options.watch_presence.clone(),
        counting: Vec::new(),
    };
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
    /// The users whose presence the app shows, as it last set them.
    watching: Vec<String>,
    /// The conversations whose online count the app shows, as it last set them (asked for
    /// again once a new stream is live: a hello has no place for them).
    counting: Vec<u64>,
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
        let watch_presence = self.watching.clone();
        match &self.following {
            Following::All { except } => pb::Hello {
                resume,
                except: except.iter().copied().collect(),
                watch_presence,
                ..Default::default()
            },
            Following::Only(only) => pb::Hello {
                only: only.iter().copied().collect(),
                resume,
                none: only.is_empty(),
                watch_presence,
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
                        match &kind {
                            ClientKind::WatchPresence(watch) => {
                                resume.watching.clone_from(&watch.user_ids);
                            }
                            ClientKind::WatchOnlineCounts(watch) => {
                                resume.counting.clone_from(&watch.channel_ids);
                            }
                            _ => {}
                        }
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
                        if !live && !resume.counting.is_empty() {
                            let channel_ids = resume.counting.clone();
                            let watch = ClientKind::WatchOnlineCounts(pb::WatchOnlineCounts { channel_ids });
                            let _ = outbound.try_send(pb::ClientFrame { kind: Some(watch) });
                        }
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
