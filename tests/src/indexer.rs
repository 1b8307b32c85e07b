//! An in-process search indexer (`switchboard indexer`) on an ephemeral port, over a
//! store shared with test controllers.

use std::net::SocketAddr;
use std::sync::Arc;

use switchboard_server::Config;
use switchboard_server::indexer::IndexerNode;
use switchboard_server::search::{IndexQuery, PageStart, SearchOrder};
use switchboard_server::store::Store;
use tempfile::TempDir;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::controller::{TEST_CLUSTER_SECRET, TEST_SECRET, write};

pub struct TestIndexer {
    pub address: SocketAddr,
    /// Holds the index (under `indexer/search`); kept for a restart.
    pub dir: Arc<TempDir>,
    shutdown: CancellationToken,
    task: Option<JoinHandle<Result<(), switchboard_server::StartError>>>,
}

impl TestIndexer {
    /// Starts an indexer reading the message stream at `nats_url`, its index in `dir`.
    pub async fn start(nats_url: &str, store: Arc<dyn Store>, dir: Arc<TempDir>) -> TestIndexer {
        let address = "127.0.0.1:0".parse().expect("address");
        TestIndexer::start_at(address, nats_url, store, dir).await
    }

    /// Starts one on `address` (a stopped indexer's, to come back where controllers
    /// expect it).
    pub async fn start_at(
        address: SocketAddr,
        nats_url: &str,
        store: Arc<dyn Store>,
        dir: Arc<TempDir>,
    ) -> TestIndexer {
        let mut config = Config::default();
        config.nats.urls = vec![nats_url.to_string()];
        config.data_dir = dir.path().join("indexer");
        // The cluster's one config file has [auth] too; the indexer checks only the
        // service credential.
        config.auth.hs256_secret_file =
            Some(write(dir.path(), "indexer-token-secret", TEST_SECRET));
        config.cluster.secret_file =
            Some(write(dir.path(), "indexer-cluster-secret", TEST_CLUSTER_SECRET));
        let indexer = IndexerNode::build_with_store(&config, store).await.expect("indexer builds");
        let listener = TcpListener::bind(address).await.expect("bind");
        let address = listener.local_addr().expect("address");
        let shutdown = CancellationToken::new();
        let stop = shutdown.clone();
        let task = tokio::spawn(indexer.serve(listener, async move { stop.cancelled().await }));
        TestIndexer { address, dir, shutdown, task: Some(task) }
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.address)
    }

    /// Stops it (what it took but did not commit is offered again next time).
    pub async fn stop(mut self) -> Arc<TempDir> {
        self.shutdown.cancel();
        if let Some(task) = self.task.take() {
            task.await.expect("indexer task").expect("indexer stops cleanly");
        }
        self.dir.clone()
    }
}

impl Drop for TestIndexer {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}

/// A search of an index itself (not through a controller) for `text`, by `user` of org
/// `acme` in `conversations`: the first 10 hits, newest first.
pub fn index_query(text: &str, user: &str, conversations: Vec<u64>) -> IndexQuery {
    IndexQuery {
        text: text.into(),
        org: "acme".into(),
        user: user.into(),
        conversations,
        from: None,
        after_ms: None,
        before_ms: None,
        order: SearchOrder::NewestFirst,
        start: PageStart::First,
        limit: 10,
    }
}
