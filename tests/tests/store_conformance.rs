//! The Store conformance suite, instantiated for every engine. The embedded engine always
//! runs; the ScyllaDB engine runs when `SCYLLA_URI` names a node and is skipped with a
//! printed notice otherwise (ScyllaDB cannot run on the CI machines).

use std::sync::Arc;

use switchboard_server::store::Store;
use switchboard_server::store::embedded::EmbeddedStore;
use switchboard_tests::conformance::Engine;
use switchboard_tests::store_conformance_suite;

/// A fresh embedded store in a temporary directory.
async fn embedded() -> Option<Engine> {
    let dir = tempfile::tempdir().expect("temp dir");
    let store: Arc<dyn Store> = Arc::new(EmbeddedStore::open(dir.path()).expect("open store"));
    Some(Engine { store, keep: Box::new(dir) })
}

/// A fresh keyspace on the node at `SCYLLA_URI`; None (skipped, with a notice) without it.
async fn scylla() -> Option<Engine> {
    let store = switchboard_tests::scylla::fresh_keyspace().await?;
    Some(Engine { store, keep: Box::new(()) })
}

store_conformance_suite!(embedded_engine, crate::embedded);
store_conformance_suite!(scylla_engine, crate::scylla);
