//! ScyllaDB for tests: when `SCYLLA_URI` (`host:port`) names a node, each call makes a
//! fresh, migrated keyspace there. ScyllaDB cannot run on the CI machines, so without
//! `SCYLLA_URI` the ScyllaDB runs of the suites are skipped with a printed notice.

use std::sync::Arc;

use switchboard_server::store::Store;
use switchboard_server::store::scylla::ScyllaConfig;
use switchboard_server::store::scylla::{ScyllaStore, migrate};

/// A store on a fresh keyspace, or None (with a notice) when `SCYLLA_URI` is not set.
pub async fn fresh_keyspace() -> Option<Arc<dyn Store>> {
    let Ok(node) = std::env::var("SCYLLA_URI") else {
        eprintln!("SCYLLA_URI is not set: the ScyllaDB engine is not tested in this run");
        return None;
    };
    let config = ScyllaConfig {
        nodes: vec![node],
        keyspace: format!("sb_test_{}", crate::unique("ks").replace('-', "_"))
            + &std::process::id().to_string(),
        replication_strategy: "SimpleStrategy".into(),
        replication_factor: 1,
        read_consistency: "ONE".into(),
        write_consistency: "ONE".into(),
        ..ScyllaConfig::default()
    };
    migrate(&config).await.expect("migrate the test keyspace");
    Some(Arc::new(ScyllaStore::connect(&config).await.expect("connect to ScyllaDB")))
}
