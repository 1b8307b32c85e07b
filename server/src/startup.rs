//! What every kind of node (a controller, the search indexer) starts with: the store its
//! config names, and the error it fails to start (or stops) with.

use std::sync::Arc;

use crate::blobs::BlobError;
use crate::bus::BusError;
use crate::config::{Config, ControllerKeysError, StoreEngine};
use crate::error::ConfigError;
use crate::search::SearchError;
use crate::store::embedded::EmbeddedStore;
use crate::store::scylla::ScyllaStore;
use crate::store::{Store, StoreError};

/// Why a node (a controller, the search indexer) could not start or stopped with an error.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error(transparent)]
    Keys(#[from] ControllerKeysError),
    #[error("store: {0}")]
    Store(#[from] StoreError),
    #[error("bus: {0}")]
    Bus(#[from] BusError),
    #[error("files: {0}")]
    Blobs(#[from] BlobError),
    #[error(transparent)]
    Search(#[from] SearchError),
    #[error("gRPC server: {0}")]
    Transport(#[from] tonic::transport::Error),
    #[error("gRPC reflection: {0}")]
    Reflection(#[from] switchboard_proto::discovery::Error),
}

/// The store `config` names: the embedded one in `data_dir`, or ScyllaDB.
pub async fn open_store(config: &Config) -> Result<Arc<dyn Store>, StartError> {
    Ok(match config.store {
        StoreEngine::Embedded => Arc::new(EmbeddedStore::open(&config.data_dir)?),
        StoreEngine::Scylla => Arc::new(ScyllaStore::connect(&config.scylla).await?),
    })
}
