//! Switchboard's protocol v1 (`switchboard.v1`): the types and gRPC stubs generated from
//! `proto/switchboard/v1/*.proto`, plus the `tonic` and `prost` versions they were built with,
//! so that every crate uses the same ones.

pub use {prost, tonic};

pub mod codec;
pub mod discovery;
pub mod encoded;
pub mod events;
pub mod ids;
pub mod status;
pub mod topic;

/// Everything in the `switchboard.v1` package.
pub mod v1 {
    #![allow(missing_docs, unreachable_pub, clippy::all)]
    tonic::include_proto!("switchboard.v1");
}

/// The encoded file descriptor set of every `switchboard.v1` file, for gRPC reflection.
pub const FILE_DESCRIPTOR_SET: &[u8] =
    tonic::include_file_descriptor_set!("switchboard_descriptor");
