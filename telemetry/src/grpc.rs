//! A tower layer for gRPC servers: one span per call, named after the method, continuing
//! the caller's trace when the request carries a `traceparent`. For a streaming call the
//! span covers the handler up to the response, not the stream's whole life.

use std::task::{Context, Poll};

use tonic::codegen::http;
use tower::{Layer, Service};
use tracing::Instrument as _;

use crate::propagation::{follow_traceparent, traceparent_header};

#[derive(Debug, Clone, Copy, Default)]
pub struct GrpcTraceLayer;

impl<S> Layer<S> for GrpcTraceLayer {
    type Service = GrpcTrace<S>;

    fn layer(&self, inner: S) -> GrpcTrace<S> {
        GrpcTrace { inner }
    }
}

#[derive(Debug, Clone)]
pub struct GrpcTrace<S> {
    inner: S,
}

impl<S, B> Service<http::Request<B>> for GrpcTrace<S>
where
    S: Service<http::Request<B>>,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = tracing::instrument::Instrumented<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: http::Request<B>) -> Self::Future {
        let method = request.uri().path();
        let span = tracing::info_span!(
            target: crate::SPANS,
            "grpc",
            otel.name = method,
            otel.kind = "server",
            rpc.system = "grpc",
            rpc.method = method,
        );
        follow_traceparent(&span, traceparent_header(request.headers()));
        let response = span.in_scope(|| self.inner.call(request));
        response.instrument(span)
    }
}
