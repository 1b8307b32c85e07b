//! The relay serves the controller's unary Chat API by forwarding each call as it is
//! (metadata, the client's token included) over its channel to the controller, so a
//! client needs one address. Byte-level: no per-method code, nothing decoded; only the
//! `traceparent` header is replaced by this relay's span.

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use tonic::body::Body;
use tonic::codegen::http;
use tonic::server::NamedService;
use tonic::transport::Channel;
use tower::Service;

#[derive(Clone)]
pub(crate) struct ForwardChat {
    /// The controller.
    channel: Channel,
}

impl ForwardChat {
    pub(crate) fn new(channel: Channel) -> Self {
        ForwardChat { channel }
    }
}

impl NamedService for ForwardChat {
    const NAME: &'static str = "switchboard.v1.Chat";
}

impl Service<http::Request<Body>> for ForwardChat {
    type Response = http::Response<Body>;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, Infallible>> + Send>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, mut request: http::Request<Body>) -> Self::Future {
        // This relay's span is the controller's parent now, not the client's.
        switchboard_telemetry::inject_traceparent(request.headers_mut());
        let mut channel = self.channel.clone();
        Box::pin(async move {
            let forwarded = async {
                std::future::poll_fn(|cx| channel.poll_ready(cx)).await?;
                channel.call(request).await
            };
            Ok(match forwarded.await {
                Ok(response) => response,
                Err(error) => {
                    tracing::warn!(%error, "cannot forward a Chat call to the controller");
                    tonic::Status::unavailable("the controller is unreachable; retry").into_http()
                }
            })
        })
    }
}
