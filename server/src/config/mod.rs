//! Configuration: a TOML file, overridden by `SWITCHBOARD_*` environment variables (nested
//! keys joined with `__`, e.g. `SWITCHBOARD_CONTROLLER__LISTEN=0.0.0.0:7401`), validated
//! completely before any port is bound.

mod keys;
mod sections;

use std::path::{Path, PathBuf};

use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use switchboard_telemetry::TracingConfig;

use self::keys::parse_algorithm;
pub use self::keys::{AuthConfig, ControllerKeysError, PublicKeyConfig, read_secret};
pub use self::sections::{
    ClusterConfig, ControllerConfig, HttpConfig, LimitsConfig, RealtimeConfig, SearchConfig,
    StoreEngine,
};
use crate::auth::connections::ConnectionLimits;
use crate::blobs::FilesConfig;
use crate::bus::NatsConfig;
use crate::error::ConfigError;
use crate::ids::MAX_NODE_ID;
use crate::push::NotificationsConfig;
use crate::store::scylla::ScyllaConfig;
use crate::tls::TlsConfig;

/// Everything the controller reads at start-up.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// This controller's id in snowflakes, unique in the cluster (0 to 1023).
    pub node_id: u16,
    /// Where the embedded store keeps its files.
    pub data_dir: PathBuf,
    pub controller: ControllerConfig,
    pub auth: AuthConfig,
    pub limits: LimitsConfig,
    pub cluster: ClusterConfig,
    pub realtime: RealtimeConfig,
    /// `[relay]`, which the relay reads into its own type ([`Config::section`]), so that
    /// one file configures every kind of node.
    #[serde(skip_serializing)]
    pub relay: serde::de::IgnoredAny,
    /// The bus between controllers: NATS when `nats.urls` is set, in-process otherwise.
    pub nats: NatsConfig,
    /// Where data lives: `embedded` (one node, `data_dir`) or `scylla` (a cluster).
    pub store: StoreEngine,
    pub scylla: ScyllaConfig,
    pub http: HttpConfig,
    pub tls: TlsConfig,
    /// Log level and OpenTelemetry export.
    pub tracing: TracingConfig,
    /// Attachments: the blob engine and upload rules.
    pub files: FilesConfig,
    /// Full-text search of messages.
    pub search: SearchConfig,
    /// Push delivery of notifications (the webhook).
    pub notifications: NotificationsConfig,
    /// Admission of connections on every port: per address, first bytes, idleness.
    pub connections: ConnectionLimits,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            node_id: 0,
            data_dir: PathBuf::from("switchboard-data"),
            controller: ControllerConfig::default(),
            auth: AuthConfig { leeway_secs: 30, ..AuthConfig::default() },
            limits: LimitsConfig::default(),
            cluster: ClusterConfig::default(),
            realtime: RealtimeConfig::default(),
            relay: serde::de::IgnoredAny,
            nats: NatsConfig::default(),
            store: StoreEngine::Embedded,
            scylla: ScyllaConfig::default(),
            http: HttpConfig::default(),
            tls: TlsConfig::default(),
            tracing: TracingConfig::default(),
            files: FilesConfig::default(),
            search: SearchConfig::default(),
            notifications: NotificationsConfig::default(),
            connections: ConnectionLimits::default(),
        }
    }
}

impl Config {
    /// Defaults, then the TOML file (if any), then `SWITCHBOARD_*` variables; validated.
    pub fn load(file: Option<&Path>) -> Result<Config, ConfigError> {
        let config = Config::read(file)?;
        config.validate()?;
        Ok(config)
    }

    /// Like [`Config::load`], without validation (for callers that fill in more first).
    pub fn read(file: Option<&Path>) -> Result<Config, ConfigError> {
        Figment::from(Serialized::defaults(Config::default()))
            .merge(sources(file)?)
            .extract()
            .map_err(|e| ConfigError::Parse(e.to_string()))
    }

    /// A section of the same file and variables that another part of the binary reads
    /// into a type of its own (the relay's `[relay]`), on that type's defaults. Unchecked,
    /// like [`Config::read`].
    pub fn section<T>(file: Option<&Path>, key: &str) -> Result<T, ConfigError>
    where
        T: Serialize + DeserializeOwned + Default,
    {
        Figment::from(Serialized::default(key, T::default()))
            .merge(sources(file)?)
            .extract_inner(key)
            .map_err(|e| ConfigError::Parse(e.to_string()))
    }

    /// Checks every value that can be checked without binding or opening anything.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.node_id > MAX_NODE_ID {
            return Err(invalid("node_id", format!("must be 0 to {MAX_NODE_ID}")));
        }
        if !(1..=1024 * 1024).contains(&self.limits.max_message_bytes) {
            return Err(invalid("limits.max_message_bytes", "must be 1 to 1048576".into()));
        }
        if !(100..=60_000).contains(&self.realtime.typing_ttl_ms) {
            return Err(invalid("realtime.typing_ttl_ms", "must be 100 to 60000".into()));
        }
        self.connections.validate().map_err(|reason| invalid("connections", reason))?;
        self.tracing.validate().map_err(|error| invalid("tracing", error.to_string()))?;
        self.files.validate().map_err(|reason| invalid("files", reason))?;
        self.notifications.validate().map_err(|reason| invalid("notifications", reason))?;
        if self.search.indexer_url.is_some() && self.nats.urls.is_empty() {
            return Err(invalid(
                "search.indexer_url",
                "a search indexer reads the message stream on NATS: set nats.urls".into(),
            ));
        }
        let keyspace = &self.scylla.keyspace;
        if keyspace.is_empty()
            || keyspace.len() > 48
            || !keyspace.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        {
            return Err(invalid("scylla.keyspace", "1 to 48 letters, digits or _".into()));
        }
        if !["SimpleStrategy", "NetworkTopologyStrategy"]
            .contains(&self.scylla.replication_strategy.as_str())
        {
            return Err(invalid(
                "scylla.replication_strategy",
                "SimpleStrategy or NetworkTopologyStrategy".into(),
            ));
        }
        if self.store == StoreEngine::Scylla && self.scylla.nodes.is_empty() {
            return Err(invalid("scylla.nodes", "name at least one node".into()));
        }
        if !(3..=3600).contains(&self.nats.presence_ttl_secs) {
            return Err(invalid("nats.presence_ttl_secs", "must be 3 to 3600".into()));
        }
        for url in &self.nats.urls {
            if !["nats://", "tls://", "ws://", "wss://"].iter().any(|s| url.starts_with(s)) {
                return Err(invalid(
                    "nats.urls",
                    format!("`{url}` is not a nats:// or tls:// URL"),
                ));
            }
        }
        if self.limits.send_rate_per_sec == 0 || self.limits.send_burst == 0 {
            return Err(invalid(
                "limits.send_rate_per_sec",
                "rate and burst must be at least 1".into(),
            ));
        }
        if self.limits.write_rate_per_sec == 0 || self.limits.write_burst == 0 {
            return Err(invalid(
                "limits.write_rate_per_sec",
                "rate and burst must be at least 1".into(),
            ));
        }
        if !(100..=600_000).contains(&self.limits.request_timeout_ms) {
            return Err(invalid("limits.request_timeout_ms", "must be 100 to 600000".into()));
        }
        if self.limits.max_concurrent_requests == 0 {
            return Err(invalid("limits.max_concurrent_requests", "must be at least 1".into()));
        }
        if !(64 * 1024..=64 * 1024 * 1024).contains(&self.limits.max_request_bytes) {
            return Err(invalid("limits.max_request_bytes", "must be 64 KiB to 64 MiB".into()));
        }
        if self.auth.leeway_secs > 600 {
            return Err(invalid("auth.leeway_secs", "must be at most 600".into()));
        }
        let auth = &self.auth;
        if auth.hs256_secret_file.is_none()
            && auth.public_keys.is_empty()
            && auth.jwks_file.is_none()
        {
            return Err(invalid(
                "auth",
                "configure at least one of hs256_secret_file, public_keys, jwks_file".into(),
            ));
        }
        for key in &auth.public_keys {
            parse_algorithm(&key.alg)?;
        }
        Ok(())
    }
}

/// The content of the secret file config `key` names: its bytes with surrounding
/// whitespace trimmed. Secrets shorter than 32 bytes are refused, naming `key`.
/// Where settings come from, later ones overriding: the TOML file (if any), then
/// `SWITCHBOARD_*` variables (`__` between section and key).
fn sources(file: Option<&Path>) -> Result<Figment, ConfigError> {
    let mut figment = Figment::new();
    if let Some(file) = file {
        if !file.exists() {
            return Err(ConfigError::Parse(format!("file {} does not exist", file.display())));
        }
        figment = figment.merge(Toml::file(file));
    }
    Ok(figment.merge(Env::prefixed("SWITCHBOARD_").split("__")))
}

fn invalid(key: &'static str, reason: String) -> ConfigError {
    ConfigError::Invalid { key, reason }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_short_secret_is_blamed_on_the_key_that_names_it() {
        let dir = tempfile::tempdir().unwrap();
        let short = dir.path().join("short");
        std::fs::write(&short, "too short\n").unwrap();
        let mut config = Config::default();
        config.cluster.secret_file = Some(short.clone());
        let error = config.service_credential().expect_err("refused").to_string();
        assert!(error.contains("cluster.secret_file"), "{error}");
        let error = read_secret("notifications.webhook_secret_file", &short).unwrap_err();
        assert!(error.to_string().contains("notifications.webhook_secret_file"), "{error}");
    }

    /// What another part of the binary reads from its own section.
    #[derive(Debug, Default, PartialEq, Serialize, Deserialize)]
    #[serde(default, deny_unknown_fields)]
    struct Other {
        listen: String,
        queue: u32,
    }

    #[test]
    fn another_section_is_read_into_its_own_type_and_passed_over_by_config() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("switchboard.toml");
        std::fs::write(&file, "node_id = 3\n[relay]\nlisten = \"0.0.0.0:1\"\n").unwrap();
        assert_eq!(Config::read(Some(&file)).unwrap().node_id, 3);
        let other: Other = Config::section(Some(&file), "relay").unwrap();
        assert_eq!(other, Other { listen: "0.0.0.0:1".into(), queue: 0 });

        std::fs::write(&file, "[relay]\nlisen = \"0.0.0.0:1\"\n").unwrap();
        assert!(Config::read(Some(&file)).is_ok(), "the section is not the controller's");
        let typo = Config::section::<Other>(Some(&file), "relay").unwrap_err();
        assert!(typo.to_string().contains("lisen"), "{typo}");
    }
}
