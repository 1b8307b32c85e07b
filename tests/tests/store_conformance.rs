//! The Store conformance suite, instantiated for every engine. The embedded engine always
//! runs; further engines (ScyllaDB) are instantiated here too and skip with a notice when
//! their server is not configured.

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

store_conformance_suite!(embedded_engine, crate::embedded);
