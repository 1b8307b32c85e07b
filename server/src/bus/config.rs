//! `[nats]`: how a node reaches NATS, and how long controllers wait to hear from each other.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

/// NATS connects controllers (and the search indexer) into a cluster; without `urls`, a
/// controller runs alone on its in-process bus.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct NatsConfig {
    /// NATS server URLs (several for a NATS cluster), e.g. `nats://127.0.0.1:4222`.
    pub urls: Vec<String>,
    /// A file holding a NATS auth token.
    pub token_file: Option<PathBuf>,
    /// A NATS `.creds` file (JWT + NKey).
    pub credentials_file: Option<PathBuf>,
    /// CA certificate (PEM) to verify the NATS servers with.
    pub ca_file: Option<PathBuf>,
    /// Refuse plain-text connections to NATS.
    pub tls_required: bool,
    /// How long a controller's presence records last without a heartbeat.
    pub presence_ttl_secs: u64,
}

impl Default for NatsConfig {
    fn default() -> Self {
        NatsConfig {
            urls: Vec::new(),
            token_file: None,
            credentials_file: None,
            ca_file: None,
            tls_required: false,
            presence_ttl_secs: 30,
        }
    }
}
