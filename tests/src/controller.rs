//! An in-process controller on an ephemeral port.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use switchboard_sdk::Client;
use switchboard_sdk::token::{SigningKey, TokenSpec, mint};
use switchboard_server::config::PublicKeyConfig;
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

/// Options for a test controller; `TestController::builder()` starts one.
pub struct ControllerBuilder {
    config: Config,
    data_dir: Option<Arc<TempDir>>,
    clock: TestClock,
}

impl ControllerBuilder {
    /// Reuse a data directory (to restart on the same data).
    pub fn data_dir(mut self, dir: Arc<TempDir>) -> Self {
        self.data_dir = Some(dir);
        self
    }

    pub fn clock(mut self, clock: TestClock) -> Self {
        self.clock = clock;
        self
    }

    pub fn max_message_bytes(mut self, bytes: usize) -> Self {
        self.config.limits.max_message_bytes = bytes;
        self
    }

    pub fn typing_ttl_ms(mut self, ms: u64) -> Self {
        self.config.realtime.typing_ttl_ms = ms;
        self
    }

    pub fn leeway_secs(mut self, secs: u64) -> Self {
        self.config.auth.leeway_secs = secs;
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
        let controller =
            Controller::build(&config, Box::new(self.clock.clone())).expect("controller builds");
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let address = listener.local_addr().expect("address");
        let shutdown = CancellationToken::new();
        let stop = shutdown.clone();
        let task = tokio::spawn(async move {
            controller.serve(listener, async move { stop.cancelled().await }).await
        });
        TestController { address, data_dir, shutdown, task: Some(task), clock: self.clock, config }
    }
}

fn write(dir: &Path, name: &str, secret: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, secret).expect("write secret");
    path
}

/// A running controller; stops when dropped.
pub struct TestController {
    pub address: SocketAddr,
    /// Kept alive as long as any controller (or restart) uses it.
    pub data_dir: Arc<TempDir>,
    shutdown: CancellationToken,
    task: Option<JoinHandle<Result<(), switchboard_server::ControllerError>>>,
    /// The clock its ids come from.
    pub clock: TestClock,
    /// The configuration it runs with.
    pub config: Config,
}

impl TestController {
    pub fn builder() -> ControllerBuilder {
        let mut config = Config::default();
        config.auth.hs256_secret_file = Some(PathBuf::from("set-at-start"));
        ControllerBuilder { config, data_dir: None, clock: TestClock::default() }
    }

    /// A controller with defaults.
    pub async fn start() -> TestController {
        TestController::builder().start().await
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.address)
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

    /// Stops and starts again on the same data, clock and config (on a new port).
    pub async fn restart(self) -> TestController {
        let clock = self.clock.clone();
        let config = self.config.clone();
        let dir = self.stop().await;
        ControllerBuilder { config, data_dir: Some(dir), clock }.start().await
    }
}

impl Drop for TestController {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}
