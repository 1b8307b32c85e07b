//! `switchboard.v1.RealtimeWeb`: the Realtime API for browsers, which over gRPC-Web can
//! receive a stream but not send one. `Subscribe` is a session (the same session type,
//! replay and hold-back as `Connect`); `Act` feeds it client frames, as the client half of
//! a `Connect` stream would.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use switchboard_auth::authenticate;
use switchboard_proto::status;
use switchboard_proto::v1::{
    self as pb, client_frame::Kind as ClientKind, realtime_web_server::RealtimeWeb,
};
use tokio::sync::mpsc;
use tokio_stream::StreamExt;
use tokio_stream::wrappers::ReceiverStream;
use tonic::{Request, Response, Status};

use crate::connect::{admit, spawn_session};
use crate::session::SessionId;
use crate::state::RelayState;
use switchboard_proto::encoded::EncodedStream;

/// Client frames waiting for a web session. Small: a browser acts at human speed; a full
/// inbox answers RESOURCE_EXHAUSTED (the caller retries) rather than queueing without end.
const INBOX: usize = 64;
/// How often a web session's stream carries a keep-alive `pong` (nonce 0).
const WEB_KEEPALIVE: std::time::Duration = std::time::Duration::from_secs(60);

/// The open web sessions' inboxes, with whose they are.
#[derive(Default)]
struct Inboxes {
    by_session: Mutex<HashMap<SessionId, Inbox>>,
}

struct Inbox {
    org: String,
    user: String,
    frames: mpsc::Sender<pb::ClientFrame>,
}

pub(crate) struct RealtimeWebApi {
    state: Arc<RelayState>,
    inboxes: Arc<Inboxes>,
}

impl RealtimeWebApi {
    pub(crate) fn new(state: Arc<RelayState>) -> Self {
        RealtimeWebApi { state, inboxes: Arc::default() }
    }
}

#[tonic::async_trait]
impl RealtimeWeb for RealtimeWebApi {
    type SubscribeStream = std::pin::Pin<Box<EndOnDrop>>;

    async fn subscribe(
        &self,
        request: Request<pb::Hello>,
    ) -> Result<Response<Self::SubscribeStream>, Status> {
        let (caller, session, frames) = admit(&self.state, &request)?;
        let (inbox, inbound) = mpsc::channel(INBOX);
        let hello = pb::ClientFrame { kind: Some(ClientKind::Hello(request.into_inner())) };
        inbox.try_send(hello).expect("a new inbox has room");
        let id = session.id;
        let entry = Inbox { org: caller.org.clone(), user: caller.user.clone(), frames: inbox };
        self.inboxes.by_session.lock().expect("inboxes lock poisoned").insert(id, entry);
        // The inbox goes when the session ends (the browser left, or the session was cut).
        // Meanwhile a keep-alive `pong` every minute: a browser's stream over HTTP/1.1 has no
        // pings of its own, and a quiet room must not look like an idle connection.
        let (inboxes, ended, quiet) =
            (self.inboxes.clone(), session.ended.clone(), session.clone());
        tokio::spawn(async move {
            let mut keepalive = tokio::time::interval(WEB_KEEPALIVE);
            keepalive.tick().await;
            loop {
                tokio::select! {
                    () = ended.cancelled() => break,
                    _ = keepalive.tick() => {
                        quiet.send(pb::server_frame::Kind::Pong(pb::Pong { nonce: 0 })).await;
                    }
                }
            }
            inboxes.by_session.lock().expect("inboxes lock poisoned").remove(&id);
        });
        let inbound = ReceiverStream::new(inbound).map(Ok);
        let ended = session.ended.clone();
        spawn_session(self.state.clone(), session, caller.expires_at, inbound);
        // No inbound stream ends when the page goes away: the response stream's drop does.
        let frames = EndOnDrop { frames, _ended: ended.drop_guard() };
        Ok(Response::new(Box::pin(frames)))
    }

    async fn act(
        &self,
        request: Request<pb::ActRequest>,
    ) -> Result<Response<pb::ActResponse>, Status> {
        let caller = authenticate(&self.state.verifier, request.metadata())?;
        let act = request.into_inner();
        let frame = act.frame.ok_or_else(|| status::invalid("frame", "missing"))?;
        if matches!(frame.kind, None | Some(ClientKind::Hello(_))) {
            return Err(status::invalid("frame", "`hello` opens a session (Subscribe)"));
        }
        // The message names the parsed id, never the text sent: errors echo no input.
        let id: SessionId = act
            .session_id
            .parse()
            .map_err(|_| status::invalid("session_id", "not a session id from `welcome`"))?;
        let gone = || status::not_found(format!("no open session {id}"));
        let frames = {
            let inboxes = self.inboxes.by_session.lock().expect("inboxes lock poisoned");
            match inboxes.get(&id) {
                // Someone else's session does not exist, as far as the caller can tell.
                Some(inbox) if inbox.org == caller.org && inbox.user == caller.user => {
                    inbox.frames.clone()
                }
                _ => return Err(gone()),
            }
        };
        match frames.try_send(frame) {
            Ok(()) => Ok(Response::new(pb::ActResponse {})),
            Err(mpsc::error::TrySendError::Full(_)) => {
                Err(status::exhausted("the session has too many frames waiting"))
            }
            Err(mpsc::error::TrySendError::Closed(_)) => Err(gone()),
        }
    }
}

/// A session's frames that end the session when dropped (the client went away).
pub(crate) struct EndOnDrop {
    frames: EncodedStream,
    /// Cancels the session's `ended` token on drop; held only for that.
    _ended: tokio_util::sync::DropGuard,
}

impl tokio_stream::Stream for EndOnDrop {
    type Item = Result<pb::ServerFrame, Status>;

    fn poll_next(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Self::Item>> {
        // Queued frames are encoded (for native streams); the generated server re-encodes.
        self.frames.as_mut().poll_next(cx).map(|frame| {
            frame.map(|frame| {
                frame.and_then(|bytes| {
                    <pb::ServerFrame as prost::Message>::decode(bytes)
                        .map_err(|e| status::internal(format!("a queued frame: {e}")))
                })
            })
        })
    }
}

/// CORS for gRPC-Web: pages from `origins` (or any, for `*`) may POST with any header (the
/// token travels in `authorization`, never in cookies) and read the gRPC status headers.
pub(crate) fn cors(origins: &[String]) -> tower_http::cors::CorsLayer {
    use tonic::codegen::http::{HeaderName, HeaderValue, Method};
    use tower_http::cors::{AllowOrigin, CorsLayer};
    let allow = if origins.iter().any(|o| o == "*") {
        AllowOrigin::any()
    } else {
        AllowOrigin::list(origins.iter().filter_map(|o| HeaderValue::from_str(o).ok()))
    };
    let exposed =
        ["grpc-status", "grpc-message", "grpc-status-details-bin"].map(HeaderName::from_static);
    // Named one by one: a `*` does not cover `authorization` in every browser.
    let allowed = [
        "authorization",
        "content-type",
        "x-grpc-web",
        "x-user-agent",
        "grpc-timeout",
        "traceparent",
        "tracestate",
        "connect-protocol-version",
        "connect-timeout-ms",
    ]
    .map(HeaderName::from_static);
    CorsLayer::new()
        .allow_origin(allow)
        .allow_methods([Method::POST, Method::OPTIONS])
        .allow_headers(allowed)
        .expose_headers(exposed)
        .max_age(std::time::Duration::from_secs(24 * 3600))
}
