//! The light subscriber (`--light`): a bare `Realtime.Connect` stream that decodes only
//! what the bench reads, the text of each new message and the `live` frame, skipping every
//! other field unread. The SDK's subscribers decode whole frames, track positions and hand
//! each event through a queue to the app; with 1,000 of them the load generator took two
//! thirds of the machine, so the figures were partly its own. With these, the servers are
//! most of what is measured.

use std::time::Duration;

use futures_util::StreamExt as _;
use switchboard_proto::codec::ProtoCodec;
use switchboard_sdk::proto::{self as pb, client_frame::Kind as ClientKind};
use tonic::codegen::http::uri::PathAndQuery;
use tonic::transport::Endpoint;
use tonic::{Request, Status, Streaming};

/// `ServerFrame`, but for `event` (2) and `live` (6).
#[derive(Clone, PartialEq, prost::Message)]
pub(super) struct Frame {
    #[prost(message, optional, tag = "2")]
    pub(super) event: Option<Event>,
    #[prost(message, optional, tag = "6")]
    pub(super) live: Option<Empty>,
}

/// `Event`, but for `message_created` (2).
#[derive(Clone, PartialEq, prost::Message)]
pub(super) struct Event {
    #[prost(message, optional, tag = "2")]
    pub(super) message_created: Option<Created>,
}

/// `MessageCreated`: its `message` (1).
#[derive(Clone, PartialEq, prost::Message)]
pub(super) struct Created {
    #[prost(message, optional, tag = "1")]
    pub(super) message: Option<Text>,
}

/// `Message`, but for `data` (6).
#[derive(Clone, PartialEq, prost::Message)]
pub(super) struct Text {
    #[prost(string, tag = "6")]
    pub(super) data: String,
}

/// A message whose fields are all skipped.
#[derive(Clone, PartialEq, prost::Message)]
pub(super) struct Empty {}

impl Frame {
    /// The text of a new message, if the frame is one.
    pub(super) fn text(&self) -> Option<&str> {
        let created = self.event.as_ref()?.message_created.as_ref()?;
        Some(created.message.as_ref()?.data.as_str())
    }
}

/// Opens a stream on its own connection that follows `conversation` only.
pub(super) async fn subscribe(
    relay: &str,
    token: &str,
    conversation: u64,
) -> Result<Streaming<Frame>, Status> {
    let endpoint = Endpoint::from_shared(relay.to_string())
        .map_err(|e| Status::invalid_argument(format!("bad relay address {relay}: {e}")))?
        .tcp_nodelay(true)
        .connect_timeout(Duration::from_secs(5));
    let channel = endpoint
        .connect()
        .await
        .map_err(|e| Status::unavailable(format!("cannot connect to {relay}: {e}")))?;
    let mut grpc = tonic::client::Grpc::new(channel);
    grpc.ready().await.map_err(|e| Status::unavailable(e.to_string()))?;
    let hello = pb::Hello { only: vec![conversation], ..Default::default() };
    let hello = pb::ClientFrame { kind: Some(ClientKind::Hello(hello)) };
    // The client's half stays open: the relay ends a session whose client hung up.
    let frames = futures_util::stream::once(async { hello }).chain(futures_util::stream::pending());
    let mut request = Request::new(frames);
    let bearer = format!("Bearer {token}").parse().map_err(|_| Status::unauthenticated("token"))?;
    request.metadata_mut().insert("authorization", bearer);
    let path = PathAndQuery::from_static("/switchboard.v1.Realtime/Connect");
    let codec = ProtoCodec::<pb::ClientFrame, Frame>::new();
    Ok(grpc.streaming(request, path, codec).await?.into_inner())
}
