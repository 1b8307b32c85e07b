//! `switchboard.v1.Realtime` served by hand instead of by the generated server, for one
//! reason: fan-out. A live event goes to every local subscriber of its channel; the relay
//! encodes it once (see `RelayState::dispatch`) and queues the same bytes, shared, on every
//! subscriber's session, so each stream only copies them into its socket buffer
//! ([`EncodedCodec`]).

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use bytes::Bytes;
use switchboard_proto::codec::EncodedCodec;
use switchboard_proto::v1 as pb;
use tonic::body::Body;
use tonic::codegen::http;
use tonic::server::{Grpc, NamedService, StreamingService};
use tonic::{Request, Response, Status, Streaming};

use crate::connect::RealtimeApi;
use crate::session::FrameStream;

/// Encodes a `ServerFrame` the way every queued frame is stored: as its protobuf bytes.
pub(crate) fn encode(kind: pb::server_frame::Kind) -> Bytes {
    let frame = pb::ServerFrame { kind: Some(kind) };
    Bytes::from(prost::Message::encode_to_vec(&frame))
}

/// `ServerFrame { kind: Event(event) }`, encoded straight from the shared event (no copy
/// of it): the frame's only field is the event, field 2.
pub(crate) fn encode_event(event: &pb::Event) -> Bytes {
    let mut frame = Vec::with_capacity(prost::Message::encoded_len(event) + 6);
    prost::encoding::message::encode(EVENT_FIELD, event, &mut frame);
    Bytes::from(frame)
}

/// `ServerFrame.event`'s field number.
const EVENT_FIELD: u32 = 2;

/// The `switchboard.v1.Realtime` service.
#[derive(Clone)]
pub(crate) struct RealtimeService {
    api: Arc<RealtimeApi>,
    /// Largest client frame decoded.
    max_frame_bytes: usize,
}

impl RealtimeService {
    pub(crate) fn new(api: RealtimeApi, max_frame_bytes: usize) -> Self {
        RealtimeService { api: Arc::new(api), max_frame_bytes }
    }
}

impl NamedService for RealtimeService {
    const NAME: &'static str = "switchboard.v1.Realtime";
}

/// `Connect` as tonic's streaming handler wants it.
struct Connect(Arc<RealtimeApi>);

impl StreamingService<pb::ClientFrame> for Connect {
    type Response = Bytes;
    type ResponseStream = FrameStream;
    type Future = Pin<Box<dyn Future<Output = Result<Response<FrameStream>, Status>> + Send>>;

    fn call(&mut self, request: Request<Streaming<pb::ClientFrame>>) -> Self::Future {
        let api = self.0.clone();
        Box::pin(async move { api.connect(request).await })
    }
}

impl tower::Service<http::Request<Body>> for RealtimeService {
    type Response = http::Response<Body>;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, Infallible>> + Send>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: http::Request<Body>) -> Self::Future {
        let (api, max) = (self.api.clone(), self.max_frame_bytes);
        Box::pin(async move {
            if request.uri().path() != "/switchboard.v1.Realtime/Connect" {
                let status = Status::unimplemented(format!("no method {}", request.uri().path()));
                return Ok(status.into_http());
            }
            let mut grpc = Grpc::new(EncodedCodec::<pb::ClientFrame>::default())
                .apply_max_message_size_config(Some(max), None);
            Ok(grpc.streaming(Connect(api), request).await)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_event_is_encoded_as_its_server_frame() {
        let event = pb::Event {
            conversation_id: 7,
            kind: Some(pb::event::Kind::Typing(pb::Typing {
                user_id: "alice".into(),
                typing: true,
                expires_in_ms: 6000,
            })),
        };
        let framed = encode(pb::server_frame::Kind::Event(event.clone()));
        assert_eq!(encode_event(&event), framed);
    }
}
