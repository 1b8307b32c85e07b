//! `switchboard.v1.Realtime.Connect`: one bidirectional stream per client device.
//!
//! The stream is authenticated when it opens. The first client frame must be `hello`; the
//! relay subscribes the session (upstream subscriptions acknowledged before any history is
//! read), answers `welcome`, replays what the client missed while holding live events back,
//! releases them without duplicates, says `live`, and then serves client frames until the
//! client leaves, the token expires, or the client falls too far behind.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use switchboard_auth::{Caller, Scope, authenticate, bearer_token};
use switchboard_proto::status;
use switchboard_proto::v1::{
    self as pb, chat_client::ChatClient, client_frame::Kind as ClientKind,
    server_frame::Kind as ServerKind,
};
use tokio::time::Instant;
use tokio_stream::{Stream, StreamExt};
use tonic::{Request, Response, Status, Streaming};
use tracing::Instrument as _;

use crate::frames::error_frame;
use crate::replay;
use crate::session::Session;
use crate::state::RelayState;
use crate::subscribe::{
    all_conversations, members_of, not_a_member, positions_by_seq, subscribe_frame,
    within_frame_cap,
};
use crate::upstream::with_token;
use crate::watch::{watch_list, watch_online_counts, watch_presence};
use switchboard_proto::encoded::{EncodedStream, StreamMethod};
use switchboard_proto::topic::Topic;

/// How long a new stream may take to send its `hello`.
const HELLO_TIMEOUT: Duration = Duration::from_secs(30);
pub(crate) struct RealtimeApi {
    pub(crate) state: Arc<RelayState>,
}

/// `switchboard.v1.Realtime`'s one method, `Connect`, served by
/// `switchboard_proto::encoded` instead of by the generated server, so that sessions queue
/// frames already encoded (see `crate::frames`).
#[derive(Clone)]
pub(crate) struct RealtimeService(pub(crate) Arc<RealtimeApi>);

impl StreamMethod for RealtimeService {
    const SERVICE: &'static str = "switchboard.v1.Realtime";
    const PATH: &'static str = "/switchboard.v1.Realtime/Connect";
    type Incoming = pb::ClientFrame;

    async fn open(
        &self,
        request: Request<Streaming<pb::ClientFrame>>,
    ) -> Result<Response<EncodedStream>, Status> {
        self.0.connect(request).await
    }
}

impl RealtimeApi {
    /// `Realtime.Connect` (served by [`RealtimeService`]).
    pub(crate) async fn connect(
        &self,
        request: Request<Streaming<pb::ClientFrame>>,
    ) -> Result<Response<EncodedStream>, Status> {
        let (caller, session, frames) = admit(&self.state, &request)?;
        spawn_session(self.state.clone(), session, caller.expires_at, request.into_inner());
        Ok(Response::new(frames))
    }
}

/// A new stream: its address within the connect rate, its token valid with `chat.read`;
/// opens its session.
pub(crate) fn admit<T>(
    state: &RelayState,
    request: &Request<T>,
) -> Result<(Caller, Arc<Session>, EncodedStream), Status> {
    if let Some(address) = request.remote_addr()
        && let Err(wait) = state.connect_rate.check(&address.ip())
    {
        return Err(status::too_many("too many new streams from this address", wait));
    }
    let caller = authenticate(&state.verifier, request.metadata())?;
    caller.require(Scope::Read)?;
    let token = bearer_token(request.metadata())?.to_string();
    let (session, frames) = state.open_session(&caller, token)?;
    Ok((caller, session, frames))
}

/// Serves the session's client frames from `inbound` (its first must be `hello`) until it
/// ends, then closes the session.
pub(crate) fn spawn_session(
    state: Arc<RelayState>,
    session: Arc<Session>,
    expires_at: u64,
    inbound: impl Stream<Item = Result<pb::ClientFrame, Status>> + Send + Unpin + 'static,
) {
    tokio::spawn(async move {
        // Closes the session however the task ends, a panic included: a session left open
        // would count against the user's streams and keep them online.
        let _closing = ClosesSession { state: state.clone(), session: session.clone() };
        let result = serve(&state, &session, expires_at, inbound).await;
        if let Err(status) = result {
            session.end(status);
        }
    });
}

/// Closes its session when dropped.
struct ClosesSession {
    state: Arc<RelayState>,
    session: Arc<Session>,
}

impl Drop for ClosesSession {
    fn drop(&mut self) {
        self.state.close_session(&self.session);
    }
}

/// When a token that expires at `exp` (Unix seconds) stops being honoured. The verifier
/// refuses an `exp` past year 9999; the arithmetic saturates all the same.
fn deadline(exp: u64, grace: Duration) -> Instant {
    let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default();
    let left = Duration::from_secs(exp).saturating_sub(now).saturating_add(grace);
    let start = Instant::now();
    start.checked_add(left).unwrap_or_else(|| start + Duration::from_secs(100 * 365 * 86_400))
}

async fn serve(
    state: &Arc<RelayState>,
    session: &Arc<Session>,
    expires_at: u64,
    mut inbound: impl Stream<Item = Result<pb::ClientFrame, Status>> + Unpin,
) -> Result<(), Status> {
    let grace = Duration::from_secs(state.config.token_grace_secs);
    let expiry = tokio::time::sleep_until(deadline(expires_at, grace));
    tokio::pin!(expiry);

    let first = tokio::select! {
        frame = tokio::time::timeout(HELLO_TIMEOUT, inbound.next()) => frame.map(Option::transpose),
        () = &mut expiry => return Err(status::unauthenticated("the token expired")),
    };
    let hello = match first {
        Ok(Ok(Some(pb::ClientFrame { kind: Some(ClientKind::Hello(hello)) }))) => hello,
        Ok(Ok(None)) => return Ok(()),
        Ok(Err(status)) => return Err(status),
        _ => return Err(status::malformed("the first frame must be `hello`")),
    };
    // Boxed: the start's state (calls upstream, replays) is large and needed once, and the
    // task holding this future lives as long as the stream.
    Box::pin(start(state, session, hello)).await?;

    loop {
        let frame = tokio::select! {
            () = session.ended.cancelled() => return Ok(()),
            () = &mut expiry => {
                return Err(status::unauthenticated("the token expired; reconnect with a new one"));
            }
            frame = inbound.next() => frame,
        };
        let Some(frame) = frame.transpose()? else { return Ok(()) };
        match frame.kind {
            Some(ClientKind::RefreshToken(refresh)) => {
                match refreshed(state, session, &refresh.token) {
                    Ok(exp) => expiry.as_mut().reset(deadline(exp, grace)),
                    Err(status) => {
                        session.send(error_frame("", &status)).await;
                    }
                }
            }
            Some(kind) => Box::pin(handle(state, session, kind)).await,
            None => {}
        }
    }
}

/// Subscribes the session as its hello asks, replays, and goes live.
async fn start(
    state: &Arc<RelayState>,
    session: &Arc<Session>,
    hello: pb::Hello,
) -> Result<(), Status> {
    if hello.none && !hello.only.is_empty() {
        let why = "`none` and `only` cannot both be set";
        return Err(status::invalid_fields(
            format!("invalid request: hello: {why}"),
            [("hello.none", why), ("hello.only", why)],
        ));
    }
    for (field, count) in
        [("only", hello.only.len()), ("except", hello.except.len()), ("resume", hello.resume.len())]
    {
        within_frame_cap("hello", field, count)?;
    }
    positions_by_seq("hello", "resume", &hello.resume)?;
    let watched = watch_list("hello.watch_presence", hello.watch_presence)?;
    let follow_all = hello.only.is_empty() && !hello.none;
    if !follow_all && !hello.except.is_empty() {
        let why = "`except` applies only when following all conversations";
        return Err(status::invalid("hello.except", why));
    }
    session.follow_all.store(follow_all, std::sync::atomic::Ordering::Relaxed);
    if follow_all {
        state.presence.follows_all(&session.org, &session.user);
    }
    // Conversations in `only` the user may not follow (no longer a member, say, when a
    // client reconnects) are left out with an error frame each; the rest start as asked.
    let mut refused = Vec::new();
    let conversation_ids = if follow_all {
        let mut all = all_conversations(state, session).await?;
        all.retain(|conversation_id| !hello.except.contains(conversation_id));
        hello.except.iter().for_each(|conversation_id| session.leave_out(*conversation_id));
        all
    } else {
        let mine = members_of(state, session, &hello.only).await?;
        let mut allowed = Vec::new();
        for conversation_id in &hello.only {
            if mine.contains(conversation_id) {
                allowed.push(*conversation_id);
            } else {
                refused.push(not_a_member(*conversation_id));
            }
        }
        allowed
    };
    let resume: HashMap<u64, u64> = hello
        .resume
        .iter()
        .filter(|p| p.after_seq > 0 && conversation_ids.contains(&p.channel_id))
        .map(|p| (p.channel_id, p.after_seq))
        .collect();

    session.begin_replay();
    let result = async {
        let mut topics: Vec<Topic> = conversation_ids
            .iter()
            .map(|conversation_id| Topic::channel(&session.org, *conversation_id))
            .collect();
        // The user's own events: membership (for a stream that follows all), unread state.
        topics.push(Topic::user(&session.org, &session.user));
        // Known to the session first, so that closing it after a failure cleans up all.
        for conversation_id in &conversation_ids {
            session.follow_conversation(*conversation_id);
        }
        let subscribed = state.subscribers.subscribe_all(session, topics, follow_all).await?;
        for (topic, position) in subscribed {
            if let Some(conversation_id) = topic.channel_id()
                && !resume.contains_key(&conversation_id)
            {
                session.reached(conversation_id, position);
            }
        }
        let welcome = pb::Welcome {
            session_id: session.id.to_string(),
            user_id: session.user.clone(),
            org: session.org.clone(),
            channel_ids: session.conversations(),
        };
        session.send(ServerKind::Welcome(welcome)).await;
        for status in &refused {
            session.send(error_frame("", status)).await;
        }
        for (conversation_id, after) in &resume {
            replay::replay(state.replay_links(), session, *conversation_id, *after).await?;
        }
        Ok::<(), Status>(())
    }
    .await;
    if result.is_err() {
        session.drop_held();
    }
    session.finish_replay();
    result?;
    let channel_ids = session.conversations();
    let positions = session.positions(&channel_ids);
    session.send(ServerKind::Live(pb::Live { channel_ids, positions })).await;
    if !watched.is_empty()
        && let Err(status) = watch_presence(state, session, watched).await
    {
        session.send(error_frame("", &status)).await;
    }
    Ok(())
}

/// A new token for the same user: the stream lives on until it expires.
fn refreshed(state: &RelayState, session: &Session, token: &str) -> Result<u64, Status> {
    let caller: Caller =
        state.verifier.verify(token).map_err(|e| status::unauthenticated(e.to_string()))?;
    if caller.user != session.user || caller.org != session.org {
        return Err(status::denied("the new token is for another user"));
    }
    // The same scope the stream was opened with.
    caller.require(Scope::Read)?;
    session.set_token(token.to_string());
    Ok(caller.expires_at)
}

/// Serves one client frame; failures become error frames and the stream stays open.
async fn handle(state: &Arc<RelayState>, session: &Arc<Session>, kind: ClientKind) {
    let mut chat = ChatClient::new(state.upstream.channel());
    let token = session.token();
    match kind {
        ClientKind::Send(pb::SendFrame { message: Some(message), traceparent }) => {
            let client_msg_id = message.client_msg_id.clone();
            let span = tracing::info_span!(target: switchboard_telemetry::SPANS, "relay.send", otel.kind = "server");
            switchboard_telemetry::follow_traceparent(&span, Some(&traceparent));
            let request = span.in_scope(|| with_token(message, &token));
            let frame = match chat.send_message(request).instrument(span).await {
                Ok(sent) => {
                    let sent = sent.into_inner();
                    ServerKind::Ack(pb::Ack {
                        client_msg_id,
                        message: sent.message,
                        duplicate: sent.duplicate,
                    })
                }
                Err(status) => error_frame(&client_msg_id, &status),
            };
            session.send(frame).await;
        }
        ClientKind::Typing(typing) => {
            let request =
                pb::SetTypingRequest { channel_id: typing.channel_id, typing: typing.typing };
            if let Err(status) = chat.set_typing(with_token(request, &token)).await {
                session.send(error_frame("", &status)).await;
            }
        }
        ClientKind::MarkRead(read) => {
            let request =
                pb::MarkReadRequest { channel_id: read.channel_id, message_id: read.message_id };
            if let Err(status) = chat.mark_read(with_token(request, &token)).await {
                session.send(error_frame("", &status)).await;
            }
        }
        ClientKind::Subscribe(subscribe) => {
            if let Err(status) = subscribe_frame(state, session, subscribe.channels).await {
                session.send(error_frame("", &status)).await;
            }
        }
        ClientKind::Unsubscribe(unsubscribe) => {
            for conversation_id in unsubscribe.channel_ids {
                session.leave_out(conversation_id);
                state.let_go(session, conversation_id);
            }
        }
        ClientKind::WatchPresence(watch) => {
            let watched = watch_list("watch_presence.user_ids", watch.user_ids);
            let result = match watched {
                Ok(users) => watch_presence(state, session, users).await,
                Err(status) => Err(status),
            };
            if let Err(status) = result {
                session.send(error_frame("", &status)).await;
            }
        }
        ClientKind::WatchOnlineCounts(watch) => {
            if let Err(status) = watch_online_counts(state, session, watch.channel_ids).await {
                session.send(error_frame("", &status)).await;
            }
        }
        ClientKind::Ping(ping) => {
            session.send(ServerKind::Pong(pb::Pong { nonce: ping.nonce })).await;
        }
        ClientKind::Hello(_) => {
            let status = status::malformed("`hello` is only the first frame");
            session.send(error_frame("", &status)).await;
        }
        ClientKind::Send(pb::SendFrame { message: None, .. }) => {
            let status = status::invalid("send.message", "`send` needs a message");
            session.send(error_frame("", &status)).await;
        }
        ClientKind::RefreshToken(_) => {}
    }
}
