//! The fan-out streams (a relay's client streams, a controller's relay streams) are served
//! by [`EncodedStreaming`] instead of by their generated servers: each event is encoded
//! once and the same bytes, shared, are queued on every stream it goes to, so writing one
//! is a copy ([`EncodedCodec`]). A generated server would want a message per stream,
//! cloned and encoded each time.

use std::convert::Infallible;
use std::future::Future;
use std::marker::PhantomData;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::{BufMut, Bytes};
use tonic::body::Body;
use tonic::codec::{BufferSettings, Codec, EncodeBuf, Encoder};
use tonic::codegen::tokio_stream::Stream;
use tonic::codegen::{Service, http};
use tonic::server::{Grpc, NamedService, StreamingService};
use tonic::{Request, Response, Status, Streaming};

use crate::codec::{ProtoDecoder, buffers};

/// What a fan-out stream sends: encoded messages, then at most one error.
pub type EncodedStream = Pin<Box<dyn Stream<Item = Result<Bytes, Status>> + Send>>;

type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send>>;

/// A service's one bidirectional streaming method, whose responses are encoded already.
pub trait StreamMethod: Clone + Send + Sync + 'static {
    /// The service's full name, as in `switchboard.v1.Fanout`.
    const SERVICE: &'static str;
    /// The method's path, as in `/switchboard.v1.Fanout/Stream`.
    const PATH: &'static str;
    /// What the client sends.
    type Incoming: prost::Message + Default + Send + 'static;

    /// Opens one stream.
    fn open(
        &self,
        request: Request<Streaming<Self::Incoming>>,
    ) -> impl Future<Output = Result<Response<EncodedStream>, Status>> + Send;
}

/// Serves the service of a [`StreamMethod`] with [`EncodedCodec`].
#[derive(Clone)]
pub struct EncodedStreaming<M> {
    method: M,
    /// Largest incoming message decoded (tonic's default when None).
    max_decoding: Option<usize>,
}

impl<M> EncodedStreaming<M> {
    pub fn new(method: M) -> Self {
        EncodedStreaming { method, max_decoding: None }
    }

    pub fn max_decoding_message_size(mut self, limit: usize) -> Self {
        self.max_decoding = Some(limit);
        self
    }
}

impl<M: StreamMethod> NamedService for EncodedStreaming<M> {
    const NAME: &'static str = M::SERVICE;
}

impl<M: StreamMethod> Service<http::Request<Body>> for EncodedStreaming<M> {
    type Response = http::Response<Body>;
    type Error = Infallible;
    type Future = BoxFuture<Result<Self::Response, Infallible>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: http::Request<Body>) -> Self::Future {
        let (method, max_decoding) = (self.method.clone(), self.max_decoding);
        Box::pin(async move {
            if request.uri().path() != M::PATH {
                let status = Status::unimplemented(format!("no method {}", request.uri().path()));
                return Ok(status.into_http());
            }
            let mut grpc = Grpc::new(EncodedCodec::<M::Incoming>::default())
                .apply_max_message_size_config(max_decoding, None);
            Ok(grpc.streaming(Opener(method), request).await)
        })
    }
}

/// A [`StreamMethod`] as tonic's streaming handler wants it.
struct Opener<M>(M);

impl<M: StreamMethod> StreamingService<M::Incoming> for Opener<M> {
    type Response = Bytes;
    type ResponseStream = EncodedStream;
    type Future = BoxFuture<Result<Response<EncodedStream>, Status>>;

    fn call(&mut self, request: Request<Streaming<M::Incoming>>) -> Self::Future {
        let method = self.0.clone();
        Box::pin(async move { method.open(request).await })
    }
}

/// Encoded messages out, decoded ones in (as by [`crate::codec::ProtoCodec`]).
#[derive(Debug, Clone, Copy, Default)]
pub struct EncodedCodec<U> {
    _decoded: PhantomData<U>,
}

impl<U: prost::Message + Default + Send + 'static> Codec for EncodedCodec<U> {
    type Encode = Bytes;
    type Decode = U;
    type Encoder = EncodedWriter;
    type Decoder = ProtoDecoder<U>;

    fn encoder(&mut self) -> EncodedWriter {
        EncodedWriter
    }

    fn decoder(&mut self) -> Self::Decoder {
        ProtoDecoder::default()
    }
}

/// Writes messages that are protobuf bytes already.
#[derive(Debug)]
pub struct EncodedWriter;

impl Encoder for EncodedWriter {
    type Item = Bytes;
    type Error = Status;

    fn encode(&mut self, message: Bytes, dst: &mut EncodeBuf<'_>) -> Result<(), Status> {
        dst.put_slice(&message);
        Ok(())
    }

    fn buffer_settings(&self) -> BufferSettings {
        buffers()
    }
}
