//! `[scylla]`: where the ScyllaDB engine connects, and how it writes and reads.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use super::schema::Replication;

/// The ScyllaDB engine's settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ScyllaConfig {
    /// Contact points, `host:port`.
    pub nodes: Vec<String>,
    pub keyspace: String,
    /// `SimpleStrategy` or `NetworkTopologyStrategy` (with `datacenter`).
    pub replication_strategy: String,
    pub replication_factor: u32,
    /// The datacenter for NetworkTopologyStrategy.
    pub datacenter: String,
    pub read_consistency: String,
    pub write_consistency: String,
    pub username: Option<String>,
    /// A file holding the password (kept out of the config file and the logs).
    pub password_file: Option<PathBuf>,
    /// CA certificate (PEM) for TLS to the nodes.
    pub tls_ca_file: Option<PathBuf>,
}

impl Default for ScyllaConfig {
    fn default() -> Self {
        ScyllaConfig {
            nodes: vec!["127.0.0.1:9042".into()],
            keyspace: "switchboard".into(),
            replication_strategy: "NetworkTopologyStrategy".into(),
            replication_factor: 3,
            datacenter: "datacenter1".into(),
            read_consistency: "LOCAL_QUORUM".into(),
            write_consistency: "LOCAL_QUORUM".into(),
            username: None,
            password_file: None,
            tls_ca_file: None,
        }
    }
}

impl ScyllaConfig {
    pub fn replication(&self) -> Replication {
        if self.replication_strategy == "SimpleStrategy" {
            Replication::Simple { factor: self.replication_factor }
        } else {
            Replication::NetworkTopology {
                datacenters: vec![(self.datacenter.clone(), self.replication_factor)],
            }
        }
    }
}
