//! The gRPC face of the controller: authentication per call, proto ↔ domain conversion,
//! and the tonic service implementations.

mod chat;
mod convert;

pub use chat::ChatApi;
