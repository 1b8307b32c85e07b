//! The relay serves the controller's unary Chat, Files, People and Admin APIs by forwarding each
//! call as it is (metadata, the client's token included) over its channel to the controller
//! in use (following failover), so a client needs one address. Byte-level: no per-method
//! code, nothing decoded; only the `traceparent` header is replaced by this relay's span.

use std::convert::Infallible;
use std::future::Future;
use std::marker::PhantomData;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use switchboard_proto::status;
use tonic::body::Body;
use tonic::codegen::http;
use tonic::server::NamedService;
use tower::Service;

use crate::upstream::Upstream;

/// Forwards the service `S` names.
pub(crate) struct Forward<S> {
    /// Which controller is in use.
    upstream: Arc<Upstream>,
    service: PhantomData<S>,
}

impl<S> Forward<S> {
    pub(crate) fn new(upstream: Arc<Upstream>) -> Self {
        Forward { upstream, service: PhantomData }
    }
}

impl<S> Clone for Forward<S> {
    fn clone(&self) -> Self {
        Forward::new(self.upstream.clone())
    }
}

/// `switchboard.v1.Chat`.
pub(crate) struct Chat;
/// `switchboard.v1.Files`.
pub(crate) struct Files;
/// `switchboard.v1.People`.
pub(crate) struct People;
/// `switchboard.v1.Admin`.
pub(crate) struct Admin;

impl NamedService for Forward<Chat> {
    const NAME: &'static str = "switchboard.v1.Chat";
}

impl NamedService for Forward<Files> {
    const NAME: &'static str = "switchboard.v1.Files";
}

impl NamedService for Forward<People> {
    const NAME: &'static str = "switchboard.v1.People";
}

impl NamedService for Forward<Admin> {
    const NAME: &'static str = "switchboard.v1.Admin";
}

impl<S> Service<http::Request<Body>> for Forward<S> {
    type Response = http::Response<Body>;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, Infallible>> + Send>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, mut request: http::Request<Body>) -> Self::Future {
        // This relay's span is the controller's parent now, not the client's.
        switchboard_telemetry::inject_traceparent(request.headers_mut());
        // The body may not be the one the client framed: gRPC-Web text arrives base64 and
        // leaves decoded, shorter than its `content-length` said (and than the exact size
        // tonic-web's decoder still claims). HTTP/2 needs no length: forward none.
        request.headers_mut().remove(http::header::CONTENT_LENGTH);
        let request = request.map(|body| Body::new(UnsizedBody(body)));
        let mut channel = self.upstream.channel();
        Box::pin(async move {
            let forwarded = async {
                std::future::poll_fn(|cx| channel.poll_ready(cx)).await?;
                channel.call(request).await
            };
            Ok(match forwarded.await {
                Ok(response) => response,
                Err(error) => {
                    tracing::warn!(%error, "cannot forward a call to the controller");
                    status::unavailable("the controller is unreachable; retry").into_http()
                }
            })
        })
    }
}

/// A body passed on frame by frame that claims no length of its own.
struct UnsizedBody(Body);

impl http_body::Body for UnsizedBody {
    type Data = bytes::Bytes;
    type Error = tonic::Status;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Self::Data>, Self::Error>>> {
        Pin::new(&mut self.0).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.0.is_end_stream()
    }
}
