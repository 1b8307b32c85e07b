//! The gRPC face of the controller: authentication per call, proto ↔ domain conversion,
//! and the tonic service implementations.

mod chat;
mod fanout;

pub use chat::ChatApi;
pub use fanout::FanoutApi;
