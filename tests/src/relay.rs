//! An in-process relay on an ephemeral port, attached to a test controller.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use switchboard_relay::{Relay, RelayConfig, RelayTls};
use switchboard_sdk::{Client, Realtime, RealtimeOptions, proto};
use switchboard_server::auth::ServiceCredential;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::TestController;
use crate::controller::TEST_CLUSTER_SECRET;

/// Options for a test relay; `TestRelay::builder(&controller)` starts one.
pub struct RelayBuilder<'a> {
    controller: &'a TestController,
    config: RelayConfig,
    tls: RelayTls,
}

impl RelayBuilder<'_> {
    /// Sets anything else of the relay's config (queues, limits, timeouts, origins).
    pub fn configure(mut self, change: impl FnOnce(&mut RelayConfig)) -> Self {
        change(&mut self.config);
        self
    }

    /// Controllers to use instead of the one the builder started from, in order.
    pub fn controllers(mut self, urls: Vec<String>) -> Self {
        self.config.controllers = urls;
        self
    }

    pub fn tls(mut self, tls: RelayTls) -> Self {
        self.tls = tls;
        self
    }

    /// Starts the relay and waits until its stream to a controller is up.
    pub async fn start(self) -> TestRelay {
        let controller = self.controller;
        let relay = self.start_unlinked().await;
        relay.wait_connected(controller).await;
        relay
    }

    /// Starts the relay without waiting for a controller (for one that never answers).
    pub async fn start_unlinked(self) -> TestRelay {
        switchboard_server::tls::install_crypto_provider();
        let mut config = self.config;
        if config.controllers.is_empty() {
            config.controllers = vec![self.controller.url()];
        }
        let verifier = Arc::new(self.controller.config.verifier().expect("verifier"));
        let credential = ServiceCredential::new(TEST_CLUSTER_SECRET.as_bytes().to_vec());
        let relay = Relay::new(config, verifier, credential, self.tls).expect("relay builds");
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let address = listener.local_addr().expect("address");
        let shutdown = CancellationToken::new();
        let stop = shutdown.clone();
        let task = tokio::spawn(async move {
            relay
                .serve(listener, async move { stop.cancelled().await })
                .await
                .expect("relay serves");
        });
        TestRelay { address, shutdown, task: Some(task) }
    }
}

/// A running relay; stops when dropped.
pub struct TestRelay {
    pub address: SocketAddr,
    shutdown: CancellationToken,
    task: Option<JoinHandle<()>>,
}

impl TestRelay {
    pub fn builder(controller: &TestController) -> RelayBuilder<'_> {
        let config = RelayConfig {
            controllers: Vec::new(),
            max_streams_per_user: 1000,
            connect_rate_per_ip: 1_000_000,
            connect_burst_per_ip: 1_000_000,
            token_grace_secs: 0,
            presence_debounce_ms: 300,
            ..RelayConfig::default()
        };
        RelayBuilder { controller, config, tls: RelayTls::default() }
    }

    pub async fn start(controller: &TestController) -> TestRelay {
        TestRelay::builder(controller).start().await
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.address)
    }

    /// A Chat client through this relay.
    pub async fn client(&self, token: String) -> Client {
        Client::connect(self.url(), token).await.expect("connect to relay")
    }

    /// A live connection through this relay, to all the user's conversations.
    pub fn realtime(&self, token: String) -> Realtime {
        Realtime::connect(RealtimeOptions::new(self.url(), token))
    }

    /// Waits (polling, with a deadline) until the relay's controller link is up.
    async fn wait_connected(&self, controller: &TestController) {
        let admin = self.client(controller.admin_token("harness", "harness")).await;
        self.wait_status(&admin, |status| status.upstream_connected).await;
    }

    /// Polls the relay's status until `ready` holds; panics after 10 s with the last status.
    pub async fn wait_status(
        &self,
        admin: &Client,
        ready: impl Fn(&proto::RelayStatusResponse) -> bool,
    ) -> proto::RelayStatusResponse {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let status = admin.relay_status().await.expect("relay status");
            if ready(&status) {
                return status;
            }
            assert!(Instant::now() < deadline, "relay status never got there: {status:?}");
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    /// Graceful stop: every client stream ends with UNAVAILABLE.
    pub async fn stop(mut self) {
        self.shutdown.cancel();
        if let Some(task) = self.task.take() {
            task.await.expect("relay task");
        }
    }
}

impl Drop for TestRelay {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}
