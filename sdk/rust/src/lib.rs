//! Switchboard's Rust client: a typed wrapper over the generated `switchboard.v1` stubs that
//! attaches the bearer token to every call ([`Client`]), a live connection that reconnects
//! and resumes by itself ([`Realtime`]), and token minting for dev setups and tests.

mod client;
mod files;
mod people;
pub mod realtime;
pub mod token;

pub use client::{Client, SdkError, code_name};
pub use realtime::{Realtime, RealtimeEvent, RealtimeOptions};
pub use switchboard_proto::tonic::{Code, Status};
pub use switchboard_proto::v1 as proto;
