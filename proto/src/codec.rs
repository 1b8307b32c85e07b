//! The protobuf codec every generated client and server uses: prost's, except that a request
//! that cannot be decoded (say, a `string` field holding invalid UTF-8) is the sender's
//! mistake and answers INVALID_ARGUMENT naming the field, where prost would say INTERNAL;
//! and that each stream's encode and decode buffers start small (see [`buffers`]).

use std::marker::PhantomData;

use tonic::codec::{BufferSettings, Codec, DecodeBuf, Decoder};
use tonic::{Code, Status};
use tonic_prost::{ProstDecoder, ProstEncoder};

/// `tonic_prost::ProstCodec` with decode failures reported as INVALID_ARGUMENT.
#[derive(Debug, Clone, Copy, Default)]
pub struct ProtoCodec<T, U> {
    _types: PhantomData<(T, U)>,
}

impl<T, U> ProtoCodec<T, U> {
    /// The codec for any pair of message types (`Default` needs them to be `Default`).
    pub fn new() -> Self {
        ProtoCodec { _types: PhantomData }
    }
}

impl<T, U> Codec for ProtoCodec<T, U>
where
    T: prost::Message + Send + 'static,
    U: prost::Message + Default + Send + 'static,
{
    type Encode = T;
    type Decode = U;
    type Encoder = ProstEncoder<T>;
    type Decoder = ProtoDecoder<U>;

    fn encoder(&mut self) -> Self::Encoder {
        ProstEncoder::new(buffers())
    }

    fn decoder(&mut self) -> Self::Decoder {
        ProtoDecoder::default()
    }
}

/// Every call and stream holds an encode and a decode buffer for its whole life; tonic's
/// default of 8 KiB each is most of an idle client stream's memory on a relay. Buffers
/// still grow to fit larger messages; the yield threshold is tonic's default.
pub fn buffers() -> BufferSettings {
    BufferSettings::new(1024, 32 * 1024)
}

/// Decodes like prost's decoder and turns its INTERNAL parse errors into INVALID_ARGUMENT.
#[derive(Debug)]
pub struct ProtoDecoder<U> {
    /// The prost decoder that does the work.
    inner: ProstDecoder<U>,
}

impl<U> Default for ProtoDecoder<U> {
    fn default() -> Self {
        ProtoDecoder { inner: ProstDecoder::default() }
    }
}

impl<U: prost::Message + Default + Send + 'static> Decoder for ProtoDecoder<U> {
    type Item = U;
    type Error = Status;

    fn decode(&mut self, buf: &mut DecodeBuf<'_>) -> Result<Option<U>, Status> {
        self.inner.decode(buf).map_err(|status| match status.code() {
            Code::Internal => Status::invalid_argument(format!(
                "the message is not valid protobuf: {}",
                status.message()
            )),
            _ => status,
        })
    }

    fn buffer_settings(&self) -> BufferSettings {
        buffers()
    }
}
