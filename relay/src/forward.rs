//! The relay serves the controller's unary Chat, Files and Admin APIs by forwarding each
//! call as it is (metadata, the client's token included) over its channel to the controller
//! in use (following failover), so a client needs one address. Byte-level: no per-method
//! code, nothing decoded; only the `traceparent` header is replaced by this relay's span.

use std::convert::Infallible;
use std::future::Future;
use std::marker::PhantomData;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

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
/// `switchboard.v1.Admin`.
pub(crate) struct Admin;

impl NamedService for Forward<Chat> {
    const NAME: &'static str = "switchboard.v1.Chat";
}

impl NamedService for Forward<Files> {
    const NAME: &'static str = "switchboard.v1.Files";
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
                    tonic::Status::unavailable("the controller is unreachable; retry").into_http()
                }
            })
        })
    }
}
