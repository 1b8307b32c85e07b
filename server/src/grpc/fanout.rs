//! `switchboard.v1.Fanout`: the internal stream each relay holds to a controller. Opened
//! only with the cluster's service credential. Served by hand instead of by the generated
//! server, like the relay's `Realtime`, for fan-out: the hub encodes each event once and
//! queues the same bytes on every relay stream that wants it ([`EncodedCodec`]).

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use bytes::Bytes;
use switchboard_proto::codec::EncodedCodec;
use switchboard_proto::v1::{self as pb, relay_frame::Kind};
use tokio_stream::wrappers::ReceiverStream;
use tokio_stream::{Stream, StreamExt};
use tonic::body::Body;
use tonic::codegen::{Service, http};
use tonic::server::{Grpc, NamedService, StreamingService};
use tonic::{Request, Response, Status, Streaming};

use crate::auth::ServiceCredential;
use crate::chat::ChatService;
use crate::realtime::{FanoutHub, RelayId, Topic};

#[derive(Clone)]
pub struct FanoutApi {
    /// Presence reports go to the domain service.
    chat: Arc<ChatService>,
    /// Where relay streams register their topics.
    hub: Arc<FanoutHub>,
    /// The relays' shared secret; None refuses every relay.
    credential: Option<ServiceCredential>,
}

impl FanoutApi {
    pub fn new(
        chat: Arc<ChatService>,
        hub: Arc<FanoutHub>,
        credential: Option<ServiceCredential>,
    ) -> Self {
        FanoutApi { chat, hub, credential }
    }
}

/// Encoded `FanoutFrame`s to the relay.
type FrameStream = Pin<Box<dyn Stream<Item = Result<Bytes, Status>> + Send>>;

impl FanoutApi {
    async fn stream(
        &self,
        request: Request<Streaming<pb::RelayFrame>>,
    ) -> Result<Response<FrameStream>, Status> {
        let credential = self.credential.as_ref().ok_or_else(|| {
            Status::unauthenticated("this controller has no service credential configured")
        })?;
        credential.check(request.metadata())?;
        let (relay, outgoing, cut) = self.hub.attach().await;
        tracing::info!(relay, "relay attached");
        let mut incoming = request.into_inner();
        let (chat, hub) = (self.chat.clone(), self.hub.clone());
        tokio::spawn(async move {
            loop {
                let frame = tokio::select! {
                    () = cut.cancelled() => break,
                    frame = incoming.message() => frame,
                };
                match frame {
                    Ok(Some(frame)) => handle(&chat, &hub, relay, frame).await,
                    Ok(None) => break,
                    Err(status) => {
                        tracing::info!(relay, %status, "relay stream broke");
                        break;
                    }
                }
            }
            hub.detach(relay).await;
            chat.relay_gone(relay).await;
            tracing::info!(relay, "relay detached");
        });
        // Ends when the hub drops the relay (detached, or cut off for being slow).
        Ok(Response::new(Box::pin(ReceiverStream::new(outgoing).map(Ok))))
    }
}

async fn handle(chat: &ChatService, hub: &FanoutHub, relay: RelayId, frame: pb::RelayFrame) {
    match frame.kind {
        Some(Kind::Subscribe(request)) => {
            let topics = request.topics.iter().filter_map(Topic::from_proto).collect();
            if let Err(error) = hub.subscribe(relay, topics, request.request_id).await {
                tracing::warn!(relay, %error, "subscribe failed; dropping the relay to resync");
                hub.detach(relay).await;
            }
        }
        Some(Kind::Unsubscribe(request)) => {
            let topics: Vec<Topic> = request.topics.iter().filter_map(Topic::from_proto).collect();
            hub.unsubscribe(relay, &topics).await;
        }
        Some(Kind::Presence(report)) => {
            let (org, user) = (&report.org, &report.user_id);
            chat.report_presence(relay, org, user, report.online, report.follows_all).await;
        }
        Some(Kind::Report(report)) => hub.report_arrived(report),
        None => {}
    }
}

impl NamedService for FanoutApi {
    const NAME: &'static str = "switchboard.v1.Fanout";
}

/// `Stream` as tonic's streaming handler wants it.
struct StreamMethod(FanoutApi);

impl StreamingService<pb::RelayFrame> for StreamMethod {
    type Response = Bytes;
    type ResponseStream = FrameStream;
    type Future = Pin<Box<dyn Future<Output = Result<Response<FrameStream>, Status>> + Send>>;

    fn call(&mut self, request: Request<Streaming<pb::RelayFrame>>) -> Self::Future {
        let api = self.0.clone();
        Box::pin(async move { api.stream(request).await })
    }
}

impl Service<http::Request<Body>> for FanoutApi {
    type Response = http::Response<Body>;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, Infallible>> + Send>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: http::Request<Body>) -> Self::Future {
        let api = self.clone();
        Box::pin(async move {
            if request.uri().path() != "/switchboard.v1.Fanout/Stream" {
                let status = Status::unimplemented(format!("no method {}", request.uri().path()));
                return Ok(status.into_http());
            }
            let mut grpc = Grpc::new(EncodedCodec::<pb::RelayFrame>::default());
            Ok(grpc.streaming(StreamMethod(api), request).await)
        })
    }
}
