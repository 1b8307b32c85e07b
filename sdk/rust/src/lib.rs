//! Switchboard's Rust client: a typed wrapper over the generated `switchboard.v1` stubs that
//! attaches the bearer token to every call, plus token minting for dev setups and tests.

mod client;
pub mod token;

pub use client::{Client, SdkError, code_name};
pub use switchboard_proto::tonic::{Code, Status};
pub use switchboard_proto::v1 as proto;
