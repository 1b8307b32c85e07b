//! An in-process controller on an ephemeral port.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use switchboard_sdk::Client;
use switchboard_sdk::token::{SigningKey, TokenSpec, mint};
use switchboard_server::config::PublicKeyConfig;
use switchboard_server::http::HttpPort;
use switchboard_server::store::Store;
use switchboard_server::store::embedded::EmbeddedStore;
use switchboard_server::{Config, Controller};
use tempfile::TempDir;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::TestClock;

/// The HS256 secret every test controller accepts.
pub const TEST_SECRET: &str = "test-secret-that-is-long-enough-for-hs256!";
/// The service credential test relays and controllers share.
pub(crate) const TEST_CLUSTER_SECRET: &str = "test-cluster-secret-for-relays-and-controllers";
/// The key test controllers sign webhook calls with.
pub const TEST_WEBHOOK_SECRET: &str = "test-webhook-secret-that-is-32-bytes-or-more";

/// Options for a test controller; `TestController::builder()` starts one.
pub struct ControllerBuilder {
    config: Config,
    data_dir: Option<Arc<TempDir>>,
    clock: TestClock,
    /// A store shared with other controllers, instead of one of its own.
    store: Option<Arc<dyn Store>>,
}

impl ControllerBuilder {
    /// Sets anything else of the controller's config (limits, timeouts, `[connections]`).
    pub fn configure(mut self, change: impl FnOnce(&mut Config)) -> Self {
        change(&mut self.config);
        self
    }
    /// Reuse a data directory (to restart on the same data).
    pub fn data_dir(mut self, dir: Arc<TempDir>) -> Self {
        self.data_dir = Some(dir);
        self
    }

    pub fn clock(mut self, clock: TestClock) -> Self {
        self.clock = clock;
        self
    }

    /// Serve gRPC over TLS as `[tls]` says.
    pub fn tls(mut self, tls: switchboard_server::tls::TlsConfig) -> Self {
        self.config.tls = tls;
        self
    }

    /// Use the NATS bus.
    pub fn nats(mut self, url: String) -> Self {
        self.config.nats.urls = vec![url];
        self
    }

    /// Share this store (e.g. [`TestController::shared_store`]) with other controllers.
    pub fn store(mut self, store: Arc<dyn Store>) -> Self {
        self.store = Some(store);
        self
    }

    pub fn node_id(mut self, id: u16) -> Self {
        self.config.node_id = id;
        self
    }

    /// Attachments: engine and upload rules.
    pub fn files(mut self, files: switchboard_server::blobs::FilesConfig) -> Self {
        self.config.files = files;
        self
    }

    /// Push notifications to this webhook (signed with [`TEST_WEBHOOK_SECRET`]), retrying
    /// after `first_retry_ms`.
    pub fn webhook(mut self, url: String, first_retry_ms: u64) -> Self {
        self.config.notifications.webhook_url = Some(url);
        self.config.notifications.webhook_secret_file = Some(PathBuf::from("set-at-start"));
        self.config.notifications.webhook_first_retry_ms = first_retry_ms;
        self
    }

    /// Forward Search to this search indexer (needs [`Self::nats`]).
    pub fn indexer(mut self, url: String) -> Self {
        self.config.search.indexer_url = Some(url);
        self
    }

    /// Index messages and serve Search (on by default).
    pub fn search(mut self, enabled: bool) -> Self {
        self.config.search.enabled = enabled;
        self
    }

    /// Also accept tokens signed by this PEM public key with `alg`.
    pub fn public_key(mut self, alg: &str, pem_file: PathBuf) -> Self {
        self.config.auth.public_keys.push(PublicKeyConfig { alg: alg.into(), pem_file });
        self
    }

    /// Also accept tokens verified by this JWKS file.
    pub fn jwks(mut self, file: PathBuf) -> Self {
        self.config.auth.jwks_file = Some(file);
        self
    }

    /// Accept no HS256 tokens at all (public keys only).
    pub fn without_secret(mut self) -> Self {
        self.config.auth.hs256_secret_file = None;
        self
    }

    pub async fn start(self) -> TestController {
        let data_dir = match self.data_dir {
            Some(dir) => dir,
            None => Arc::new(tempfile::tempdir().expect("temp dir")),
        };
        let mut config = self.config;
        config.data_dir = data_dir.path().join("data");
        if config.auth.hs256_secret_file.is_some() {
            config.auth.hs256_secret_file =
                Some(write(data_dir.path(), "test-secret", TEST_SECRET));
        }
        config.cluster.secret_file =
            Some(write(data_dir.path(), "cluster-secret", TEST_CLUSTER_SECRET));
        if config.notifications.webhook_url.is_some() {
            config.notifications.webhook_secret_file =
                Some(write(data_dir.path(), "webhook-secret", TEST_WEBHOOK_SECRET));
        }
        // Its own runtime, so that a crash can take every task and socket down at once.
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("controller runtime");
        let (clock, store, built) = (self.clock.clone(), self.store.clone(), config.clone());
        let shutdown = CancellationToken::new();
        let stop = shutdown.clone();
        let (bound, addresses) = tokio::sync::oneshot::channel();
        let task = runtime.spawn(async move {
            let clock = Box::new(clock);
            // Bound first, so that local blob URLs name the real port.
            let http = TcpListener::bind("127.0.0.1:0").await.expect("bind http");
            let http_address = http.local_addr().expect("address");
            let mut built = built;
            built.http.listen = http_address;
            let controller = match store {
                Some(store) => Controller::build_with_store(&built, clock, store).await,
                None => Controller::build(&built, clock).await,
            }
            .expect("controller builds");
            let mut port = HttpPort::default();
            controller.expose(&mut port);
            let http_stop = stop.clone();
            let limits = built.connections;
            tokio::spawn(port.serve(http, limits, async move { http_stop.cancelled().await }));
            let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
            let _ = bound.send((listener.local_addr().expect("address"), http_address));
            controller.serve(listener, async move { stop.cancelled().await }).await
        });
        let (address, http_address) = addresses.await.expect("controller started");
        TestController {
            address,
            http_address,
            data_dir,
            shutdown,
            task: Some(task),
            runtime: Some(runtime),
            clock: self.clock,
            config,
            store: self.store,
        }
    }
}

/// Writes a secret file into `dir`; its path.
pub(crate) fn write(dir: &Path, name: &str, secret: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, secret).expect("write secret");
    path
}

/// A running controller; stops when dropped.
pub struct TestController {
    pub address: SocketAddr,
    /// The HTTP port: /metrics, /healthz, /readyz.
    pub http_address: SocketAddr,
    /// Kept alive as long as any controller (or restart) uses it.
    pub data_dir: Arc<TempDir>,
    shutdown: CancellationToken,
    task: Option<JoinHandle<Result<(), switchboard_server::StartError>>>,
    /// The runtime everything of this controller runs on.
    runtime: Option<tokio::runtime::Runtime>,
    /// The clock its ids come from.
    pub clock: TestClock,
    /// The configuration it runs with.
    pub config: Config,
    /// The shared store it was given, if any.
    store: Option<Arc<dyn Store>>,
}

impl TestController {
    pub fn builder() -> ControllerBuilder {
        let mut config = Config::default();
        config.auth.hs256_secret_file = Some(PathBuf::from("set-at-start"));
        // Tests send fast from one user; the limit tests set their own.
        config.limits.send_rate_per_sec = 1_000_000;
        config.limits.send_burst = 1_000_000;
        config.limits.write_rate_per_sec = 1_000_000;
        config.limits.write_burst = 1_000_000;
        ControllerBuilder { config, data_dir: None, clock: TestClock::default(), store: None }
    }

    /// A controller with defaults.
    pub async fn start() -> TestController {
        TestController::builder().start().await
    }

    pub fn url(&self) -> String {
        let scheme = if self.config.tls.cert_file.is_some() { "https" } else { "http" };
        format!("{scheme}://{}", self.address)
    }

    /// A token for `user` in `org` with every scope, `chat.admin` included.
    pub fn admin_token(&self, user: &str, org: &str) -> String {
        let scopes = switchboard_sdk::token::ALL_SCOPES;
        self.token_for(&TokenSpec::new(user, org).scopes(&scopes))
    }

    /// A token for `user` in `org` with the ordinary user scopes.
    pub fn token(&self, user: &str, org: &str) -> String {
        self.token_for(&TokenSpec::new(user, org))
    }

    pub fn token_for(&self, spec: &TokenSpec) -> String {
        mint(spec, &SigningKey::Hs256(TEST_SECRET.as_bytes().to_vec())).expect("mint")
    }

    /// A client for `user` in `org` with the ordinary user scopes.
    pub async fn client(&self, user: &str, org: &str) -> Client {
        self.client_with_token(self.token(user, org)).await
    }

    /// A team named "Team" in org acme, owned by `owner` with `members`: the owner's client
    /// and the team's id.
    pub async fn team_of(&self, owner: &str, members: &[&str]) -> (Client, u64) {
        let client = self.client(owner, "acme").await;
        let team = crate::create_team(&client, members).await;
        (client, team)
    }

    pub async fn client_with_token(&self, token: String) -> Client {
        Client::connect(self.url(), token).await.expect("connect")
    }

    /// Graceful stop: in-flight calls finish and the store is flushed.
    pub async fn stop(mut self) -> Arc<TempDir> {
        self.shutdown.cancel();
        if let Some(task) = self.task.take() {
            task.await.expect("controller task").expect("controller stops cleanly");
        }
        self.data_dir.clone()
    }

    /// A store several controllers can share: a fresh keyspace on the ScyllaDB node at
    /// `SCYLLA_URI` when that is set, else an embedded store shared in this process.
    pub async fn shared_store(dir: &TempDir) -> Arc<dyn Store> {
        match crate::scylla::fresh_keyspace().await {
            Some(store) => store,
            None => Arc::new(EmbeddedStore::open(&dir.path().join("shared")).expect("open store")),
        }
    }

    /// Dies on the spot: every task and connection of the controller is dropped, no drain.
    pub fn crash(mut self) {
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }

    /// Stops and starts again on the same data, clock and config (on a new port).
    pub async fn restart(self) -> TestController {
        let clock = self.clock.clone();
        let config = self.config.clone();
        let store = self.store.clone();
        let dir = self.stop().await;
        ControllerBuilder { config, data_dir: Some(dir), clock, store }.start().await
    }
}

impl Drop for TestController {
    fn drop(&mut self) {
        self.shutdown.cancel();
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }
}
