//! Configuration: a TOML file, overridden by `SWITCHBOARD_*` environment variables (nested
//! keys joined with `__`, e.g. `SWITCHBOARD_CONTROLLER__LISTEN=0.0.0.0:7401`), validated
//! completely before any port is bound.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use jsonwebtoken::Algorithm;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::auth::connections::ConnectionLimits;
use crate::auth::{KeySource, ServiceCredential, TokenVerifier, VerifierError};
use crate::blobs::FilesConfig;
use crate::bus::NatsConfig;
use crate::error::ConfigError;
use crate::ids::MAX_NODE_ID;
use crate::push::NotificationsConfig;
use crate::store::scylla::ScyllaConfig;
use crate::tls::TlsConfig;
use switchboard_telemetry::TracingConfig;

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

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AuthConfig {
    /// A file holding the HS256 shared secret (dev and small setups).
    pub hs256_secret_file: Option<PathBuf>,
    /// Public keys in PEM files, each with the one algorithm it verifies.
    pub public_keys: Vec<PublicKeyConfig>,
    /// A JWKS file of public keys (each key must name its `alg`).
    pub jwks_file: Option<PathBuf>,
    /// Clock skew tolerated on `exp`, in seconds.
    pub leeway_secs: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PublicKeyConfig {
    /// RS256, RS384, RS512, PS256, PS384, PS512, ES256, ES384 or EdDSA.
    pub alg: String,
    pub pem_file: PathBuf,
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

impl Default for ControllerConfig {
    fn default() -> Self {
        ControllerConfig {
            listen: "127.0.0.1:7401".parse().expect("valid"),
            drain_timeout_secs: 10,
        }
    }
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

/// Why the token verifier could not be built.
#[derive(Debug, thiserror::Error)]
pub enum ControllerKeysError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error("auth keys: {0}")]
    Keys(#[from] VerifierError),
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

    /// The key sources `auth` describes, with the HS256 secret read from its file.
    pub fn key_sources(&self) -> Result<Vec<KeySource>, ConfigError> {
        let mut sources = Vec::new();
        if let Some(path) = &self.auth.hs256_secret_file {
            sources.push(KeySource::Hs256Secret(read_secret("auth.hs256_secret_file", path)?));
        }
        for key in &self.auth.public_keys {
            sources.push(KeySource::PublicKeyPem {
                algorithm: parse_algorithm(&key.alg)?,
                path: key.pem_file.clone(),
            });
        }
        if let Some(path) = &self.auth.jwks_file {
            sources.push(KeySource::Jwks(path.clone()));
        }
        Ok(sources)
    }

    /// The token verifier `auth` describes.
    pub fn verifier(&self) -> Result<TokenVerifier, ControllerKeysError> {
        let sources = self.key_sources()?;
        Ok(TokenVerifier::new(&sources, self.auth.leeway_secs)?)
    }

    /// The relays' service credential, if configured.
    pub fn service_credential(&self) -> Result<Option<ServiceCredential>, ConfigError> {
        let Some(path) = &self.cluster.secret_file else { return Ok(None) };
        Ok(Some(ServiceCredential::new(read_secret("cluster.secret_file", path)?)))
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

pub fn read_secret(key: &'static str, path: &Path) -> Result<Vec<u8>, ConfigError> {
    let bytes = std::fs::read(path)
        .map_err(|source| ConfigError::SecretFile { path: path.to_path_buf(), source })?;
    let secret = bytes.trim_ascii().to_vec();
    if secret.len() < 32 {
        return Err(invalid(key, "the secret must be at least 32 bytes".into()));
    }
    Ok(secret)
}

fn parse_algorithm(name: &str) -> Result<Algorithm, ConfigError> {
    match name.parse::<Algorithm>() {
        Ok(Algorithm::HS256 | Algorithm::HS384 | Algorithm::HS512) | Err(_) => Err(invalid(
            "auth.public_keys.alg",
            format!("`{name}` is not a public-key algorithm (RS256, ES256, EdDSA, ...)"),
        )),
        Ok(algorithm) => Ok(algorithm),
    }
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
