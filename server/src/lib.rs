//! The Switchboard controller: validates, authorizes, assigns ids, persists messages, and
//! serves the `switchboard.v1.Chat` API over gRPC.
//!
//! Its modules stand in layers, drawn in docs/architecture.md ("Where things live in the
//! controller"): a module imports only from its own layer and those below.

pub mod access;
pub mod background;
pub mod blobs;
pub mod bus;
pub mod chat;
pub mod config;
pub mod controller;
pub mod convert;
pub mod dev;
pub mod error;
pub mod grpc;
pub mod http;
pub mod ids;
pub mod indexer;
pub mod metrics;
pub mod model;
pub mod push;
pub mod realtime;
pub mod report;
pub mod search;
pub mod startup;
pub mod store;
pub mod tls;
pub mod validate;

pub use switchboard_auth as auth;

pub use config::Config;
pub use controller::Controller;
pub use startup::StartError;
