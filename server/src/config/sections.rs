//! The controller's own sections of the config: `[controller]`, `[limits]`, `[cluster]`,
//! `[realtime]`, `[http]`, `[search]`, and which store engine runs.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// Full-text search: an index of message text kept by this controller, or by the
/// cluster's search indexer (`switchboard indexer`) that controllers forward Search to.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SearchConfig {
    /// Whether this controller keeps its own index and serves Search from it (when off and
    /// no `indexer_url`, Search answers UNAVAILABLE).
    pub enabled: bool,
    /// Where the index lives (this controller's, or the indexer's); default
    /// `<data_dir>/search`.
    pub index_dir: Option<PathBuf>,
    /// The search indexer controllers forward Search to, e.g. `http://indexer:7403`; set,
    /// it replaces this controller's own index.
    pub indexer_url: Option<String>,
    /// Where `switchboard indexer` serves.
    pub indexer_listen: SocketAddr,
}

impl Default for SearchConfig {
    fn default() -> Self {
        SearchConfig {
            enabled: true,
            index_dir: None,
            indexer_url: None,
            indexer_listen: "127.0.0.1:7403".parse().expect("valid"),
        }
    }
}

impl SearchConfig {
    /// Where the index lives, under `data_dir` unless `index_dir` says otherwise.
    pub fn index_dir(&self, data_dir: &Path) -> PathBuf {
        self.index_dir.clone().unwrap_or_else(|| data_dir.join("search"))
    }
}

/// The HTTP port: metrics, health, readiness.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct HttpConfig {
    pub listen: SocketAddr,
}

impl Default for HttpConfig {
    fn default() -> Self {
        HttpConfig { listen: "127.0.0.1:7402".parse().expect("valid") }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum StoreEngine {
    #[default]
    Embedded,
    Scylla,
}

/// What controllers and relays share.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ClusterConfig {
    /// A file holding the service credential relays present to controllers (at least 32
    /// bytes). Without it, no relay can attach.
    pub secret_file: Option<PathBuf>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RealtimeConfig {
    /// How long a typing indicator lasts without a refresh, in milliseconds.
    pub typing_ttl_ms: u64,
}

impl Default for RealtimeConfig {
    fn default() -> Self {
        RealtimeConfig { typing_ttl_ms: 6000 }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ControllerConfig {
    /// gRPC address of the Chat service.
    pub listen: SocketAddr,
    /// How long shutdown waits for in-flight calls before giving up on them.
    pub drain_timeout_secs: u64,
}

impl Default for ControllerConfig {
    fn default() -> Self {
        ControllerConfig {
            listen: "127.0.0.1:7401".parse().expect("valid"),
            drain_timeout_secs: 10,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LimitsConfig {
    /// Largest TEXT message in bytes.
    pub max_message_bytes: usize,
    /// Sends per second per user, on average.
    pub send_rate_per_sec: u32,
    /// Sends a user may make at once before the rate applies.
    pub send_burst: u32,
    /// Every other write per second per user, on average: edits, deletes, typing, reads,
    /// team and channel changes, membership changes, uploads.
    pub write_rate_per_sec: u32,
    /// Other writes a user may make at once before the rate applies.
    pub write_burst: u32,
    /// Largest gRPC request the controller decodes, in bytes.
    pub max_request_bytes: usize,
    /// Chat calls a controller works on at once; more are shed with UNAVAILABLE.
    pub max_concurrent_requests: usize,
    /// How long a unary call may take before it fails with DEADLINE_EXCEEDED (a client's
    /// shorter `grpc-timeout` wins). Streams are not cut: it bounds only their opening.
    pub request_timeout_ms: u64,
}

impl Default for LimitsConfig {
    fn default() -> Self {
        LimitsConfig {
            max_message_bytes: 16 * 1024,
            send_rate_per_sec: 20,
            send_burst: 40,
            write_rate_per_sec: 20,
            write_burst: 60,
            max_request_bytes: 1024 * 1024,
            max_concurrent_requests: 4096,
            request_timeout_ms: 10_000,
        }
    }
}
