//! `switchboard indexer`: the cluster's search indexer. It keeps the message index from
//! the JetStream stream of message events (a durable consumer: what is published while
//! it is down is indexed when it is back) and answers the searches controllers forward,
//! checking membership in the shared Store.

use std::future::Future;
use std::sync::Arc;

use switchboard_proto::v1::indexer_server::IndexerServer;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tonic::transport::Server;

use crate::auth::connections::{
    ConnectionLimits, GuardedListener, KEEPALIVE_INTERVAL, KEEPALIVE_TIMEOUT,
};
use crate::bus::nats::connect_options;
use crate::config::Config;
use crate::error::ConfigError;
use crate::grpc::IndexerApi;
use crate::search::{SearchIndex, Searcher, StreamIndexer};
use crate::startup::{StartError, open_store};
use crate::store::Store;

/// An indexer ready to serve: store open, index open, consumer attached.
pub struct IndexerNode {
    /// Answers forwarded searches.
    api: IndexerApi,
    /// Applies the stream's events to the index while serving.
    indexing: StreamIndexer,
    tls: Option<tonic::transport::ServerTlsConfig>,
    /// Who may keep a connection open, and for how long.
    connections: ConnectionLimits,
}

impl IndexerNode {
    /// Opens the store `config` names (ScyllaDB in a cluster).
    pub async fn build(config: &Config) -> Result<IndexerNode, StartError> {
        IndexerNode::build_with_store(config, open_store(config).await?).await
    }

    /// Like [`IndexerNode::build`], over a given store.
    pub async fn build_with_store(
        config: &Config,
        store: Arc<dyn Store>,
    ) -> Result<IndexerNode, StartError> {
        config.validate()?;
        crate::tls::install_crypto_provider();
        if config.nats.urls.is_empty() {
            return Err(ConfigError::Invalid {
                key: "nats.urls",
                reason: "the indexer reads the message stream on NATS".into(),
            }
            .into());
        }
        let credential = config.service_credential()?.ok_or_else(|| ConfigError::Invalid {
            key: "cluster.secret_file",
            reason: "the indexer checks the controllers' service credential".into(),
        })?;
        let client = connect_options(&config.nats, "switchboard-indexer")
            .await?
            .connect(config.nats.urls.as_slice())
            .await
            .map_err(|e| {
                crate::bus::BusError::Unavailable(format!("cannot connect to NATS: {e}"))
            })?;
        let index = Arc::new(SearchIndex::open(&config.search.index_dir(&config.data_dir))?);
        let indexing = StreamIndexer::new(index.clone(), store.clone(), client).await?;
        let api = IndexerApi::new(Searcher::new(store, index), credential);
        let tls = config.tls.server(true)?;
        Ok(IndexerNode { api, indexing, tls, connections: config.connections })
    }

    /// Indexes and serves on `listener` until `shutdown` resolves.
    pub async fn serve(
        self,
        listener: TcpListener,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> Result<(), StartError> {
        let served = [<IndexerServer<IndexerApi> as tonic::server::NamedService>::NAME];
        let (health, reflection, reflection_v1alpha) =
            switchboard_proto::discovery::discovery(&served).await?;
        let stop = CancellationToken::new();
        let indexing = tokio::spawn(self.indexing.run(stop.clone()));
        let mut builder = Server::builder();
        if let Some(tls) = self.tls {
            builder = builder.tls_config(tls)?;
        }
        let result = builder
            .http2_keepalive_interval(Some(KEEPALIVE_INTERVAL))
            .http2_keepalive_timeout(Some(KEEPALIVE_TIMEOUT))
            .add_service(health)
            .add_service(reflection)
            .add_service(reflection_v1alpha)
            .add_service(IndexerServer::new(self.api))
            .serve_with_incoming_shutdown(
                GuardedListener::new(listener, self.connections).into_stream(),
                shutdown,
            )
            .await;
        stop.cancel();
        let _ = indexing.await;
        tracing::info!("indexer stopped");
        Ok(result?)
    }
}
