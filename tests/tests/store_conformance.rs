//! The Store conformance suite, instantiated for every engine. The embedded engine always
//! runs; the ScyllaDB engine runs when `SCYLLA_URI` names a node and is skipped with a
//! printed notice otherwise (ScyllaDB cannot run on the CI machines).

use std::sync::Arc;

use switchboard_server::ids::Clock as _;
use switchboard_server::store::Store;
use switchboard_server::store::embedded::EmbeddedStore;
use switchboard_tests::conformance::{Engine, ORG};
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

/// The embedded engine prunes the change feed itself (ScyllaDB's table has a TTL): a week
/// on, a change is gone, and newer ones stay.
#[tokio::test]
async fn embedded_housekeeping_prunes_changes_older_than_a_week() {
    use switchboard_server::ids::first_id_at;
    use switchboard_server::model::{Message, change_hour};
    let Some(engine) = embedded().await else { return };
    let now = switchboard_server::ids::SystemClock.now_ms();
    let message = |ms: i64| Message {
        ts_ms: ms,
        ..switchboard_tests::conformance::message(7, first_id_at(ms), "a", None)
    };
    let (old, recent) = (message(now - 8 * 86_400_000), message(now - 60_000));
    engine.store.insert_message(ORG, &old, &[]).await.unwrap();
    engine.store.insert_message(ORG, &recent, &[]).await.unwrap();
    engine.store.maintain().await.unwrap();
    let changes = |ms: i64| engine.store.list_message_changes(change_hour(ms), None, 10);
    assert!(changes(old.ts_ms).await.unwrap().is_empty(), "pruned");
    assert_eq!(changes(recent.ts_ms).await.unwrap().len(), 1, "kept");
}
