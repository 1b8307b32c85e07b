//! The controller server: builds the Chat service over its Store and serves it with gRPC
//! health checking and reflection until told to shut down.

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use switchboard_proto::discovery::discovery;
use switchboard_proto::encoded::EncodedStreaming;
use switchboard_proto::v1::admin_server::AdminServer;
use switchboard_proto::v1::chat_server::ChatServer;
use switchboard_proto::v1::files_server::FilesServer;
use switchboard_proto::v1::people_server::PeopleServer;
use tokio::net::TcpListener;
use tokio::sync::mpsc;
use tonic::server::NamedService;
use tonic::transport::Server;

mod loops;
mod parts;

use self::loops::{
    count_online, expire_typing, forward_resyncs, maintain, presence_heartbeat, probe_store,
    publish_presence, sweep_expired, sweep_uploads,
};
use self::parts::{Pushing, blobs, push};
use crate::auth::connections::{
    ConnectionLimits, GuardedListener, KEEPALIVE_INTERVAL, KEEPALIVE_TIMEOUT,
};
use crate::auth::{ServiceCredential, TokenVerifier};
use crate::background::Background;
use crate::bus::{
    Bus, Delivery, InProcessBus, LocalBoard, NatsBoard, NatsBus, PresenceBoard, Resync,
};
use crate::chat::{ChatService, FileStorage, Limits, PUSHES_IN_FLIGHT, Parts, PushRetries};
use crate::config::Config;
use crate::error::ConfigError;
use crate::grpc::{AdminApi, ChatApi, FanoutApi, FilesApi, PeopleApi, RemoteIndexer, SearchRoute};
use crate::http::{HttpPort, Readiness};
use crate::ids::{Clock, IdGenerator};
use crate::metrics::ControllerMetrics;
use crate::push::{Source, WebhookSender, consume};
use crate::realtime::{Events, FanoutHub, TypingTracker};
use crate::report::NodeReporter;
use crate::search::{FeedIndexer, SearchIndex, Searcher, open_message_stream};
use crate::startup::{StartError, open_store};
use crate::store::Store;

/// Bus deliveries waiting for the hub; publishers wait when it is full.
const HUB_INBOX: usize = 65_536;
/// Tokens whose callers the controller remembers, so that a client's calls after its first
/// skip the signature check (each entry is a few hundred bytes).
const VERIFIED_TOKENS_REMEMBERED: usize = 50_000;

/// A controller ready to serve: config checked, keys loaded, store open.
pub struct Controller {
    /// The domain services behind the Chat API.
    chat: Arc<ChatService>,
    /// For housekeeping, the readiness probe and the flush at shutdown.
    store: Arc<dyn Store>,
    /// Verifies every call's token.
    verifier: Arc<TokenVerifier>,
    /// Relay streams and their topics.
    hub: Arc<FanoutHub>,
    /// Figures and connections for `sbctl admin`.
    reporter: Arc<NodeReporter>,
    /// For readiness: is the bus reachable.
    bus: Arc<dyn Bus>,
    metrics: Arc<ControllerMetrics>,
    /// Kept current by a probe while serving.
    store_reachable: Arc<AtomicBool>,
    /// The bus deliveries the hub dispatches; taken when serving starts.
    inbox: mpsc::Receiver<Delivery>,
    /// What the bus may have lost: its outages, once it is back, and other controllers
    /// that may not have published what they committed. None for the in-process bus.
    resyncs: Option<mpsc::Receiver<Resync>>,
    /// The other controllers, told when this one's link to NATS comes back.
    peers: Option<Arc<NatsBoard>>,
    /// What relays must present to attach.
    credential: Option<ServiceCredential>,
    /// How long shutdown waits for in-flight calls.
    drain_timeout: Duration,
    /// How often this controller's presence records are refreshed.
    heartbeat_every: Duration,
    /// Largest request the Chat service decodes.
    max_request_bytes: usize,
    /// Chat calls in progress before new ones are shed.
    max_in_flight: usize,
    /// Longest a unary call may run.
    request_timeout: Duration,
    /// Who may keep a connection open, and for how long.
    connections: ConnectionLimits,
    /// How often unfinished uploads past their deadline are removed.
    upload_sweep_every: Duration,
    /// TLS for the listener (and client certificates required, with a client CA).
    tls: Option<tonic::transport::ServerTlsConfig>,
    /// Keeps the search index up to date while serving; None where search is off.
    indexer: Option<FeedIndexer>,
    /// Where Search goes: this node's index, the cluster's indexer, or nowhere.
    search: SearchRoute,
    /// Pushes notifications to the webhook while serving; None without one.
    webhook: Option<WebhookSender>,
    /// Where the device push takes notifications from; None without a device sender.
    device_pushes: Option<Source>,
}

impl Controller {
    /// Loads keys, opens the embedded store in `config.data_dir`, connects the bus.
    pub async fn build(config: &Config, clock: Box<dyn Clock>) -> Result<Self, StartError> {
        config.validate()?;
        Controller::build_with_store(config, clock, open_store(config).await?).await
    }

    /// Like [`Controller::build`], over a given store (several controllers may share one).
    pub async fn build_with_store(
        config: &Config,
        clock: Box<dyn Clock>,
        store: Arc<dyn Store>,
    ) -> Result<Self, StartError> {
        config.validate()?;
        crate::tls::install_crypto_provider();
        let limits = Limits {
            max_message_bytes: config.limits.max_message_bytes,
            send_rate_per_sec: config.limits.send_rate_per_sec,
            send_burst: config.limits.send_burst,
            write_rate_per_sec: config.limits.write_rate_per_sec,
            write_burst: config.limits.write_burst,
        };
        let (deliveries, inbox) = mpsc::channel(HUB_INBOX);
        let (mut resyncs, mut peers) = (None, None);
        let (bus, board, nats): (Arc<dyn Bus>, Arc<dyn PresenceBoard>, _) =
            if config.nats.urls.is_empty() {
                let bus = Arc::new(InProcessBus::new(deliveries));
                (bus, Arc::new(LocalBoard::default()), None)
            } else {
                let (resync_tx, resync_rx) = mpsc::channel(16);
                resyncs = Some(resync_rx);
                let nats = NatsBus::connect(&config.nats, deliveries, resync_tx.clone()).await?;
                let ttl = Duration::from_secs(config.nats.presence_ttl_secs);
                let board =
                    Arc::new(NatsBoard::open(nats.client(), config.node_id, ttl, resync_tx).await?);
                peers = Some(board.clone());
                let client = nats.client();
                (Arc::new(nats), board, Some(client))
            };
        let clock: Arc<dyn Clock> = Arc::from(clock);
        let typing_ttl = Duration::from_millis(config.realtime.typing_ttl_ms);
        let typing = TypingTracker::new(typing_ttl, clock.clone());
        // Tokens expire by the controller's clock, the one its ids come from.
        let now_secs = {
            let clock = clock.clone();
            Arc::new(move || (clock.now_ms() / 1000).max(0) as u64)
        };
        let verifier =
            config.verifier()?.remembering(VERIFIED_TOKENS_REMEMBERED).with_clock(now_secs);
        let ids = IdGenerator::new(config.node_id, Box::new(clock.clone()));
        let metrics = Arc::new(ControllerMetrics::default());
        let events = Events::new(bus.clone(), metrics.clone());
        let files = FileStorage { blobs: blobs(config)?, config: config.files.clone() };
        let Pushing { push, webhook, devices: device_pushes, senders } =
            push(config, nats.as_ref(), &metrics).await?;
        let push_retries = PushRetries {
            max_attempts: config.notifications.push_max_attempts,
            first_retry: Duration::from_millis(config.notifications.push_first_retry_ms),
        };
        let mut search = SearchRoute::Off;
        let mut indexer = None;
        if let Some(url) = &config.search.indexer_url {
            // Events are kept for the indexer from now on, even before it first starts.
            open_message_stream(nats.clone().expect("validated: NATS is configured")).await?;
            let credential = config.service_credential()?.ok_or_else(|| ConfigError::Invalid {
                key: "cluster.secret_file",
                reason: "forwarding Search to an indexer needs the service credential".into(),
            })?;
            let remote = RemoteIndexer::new(url, &credential, config.tls.client()?)
                .map_err(|reason| ConfigError::Invalid { key: "search.indexer_url", reason })?;
            search = SearchRoute::Remote(remote);
        } else if config.search.enabled {
            let index = Arc::new(SearchIndex::open(&config.search.index_dir(&config.data_dir))?);
            indexer = Some(FeedIndexer::new(index.clone(), store.clone(), clock)?);
            search = SearchRoute::Local(Searcher::new(store.clone(), index));
        }
        let chat = ChatService::build(Parts {
            store: store.clone(),
            ids,
            limits,
            events,
            typing,
            board,
            metrics: metrics.clone(),
            files,
            push,
            senders,
            push_retries,
        });
        let hub = Arc::new(FanoutHub::new(bus.clone(), store.clone(), metrics.clone()));
        Ok(Controller {
            chat: Arc::new(chat),
            store,
            verifier: Arc::new(verifier),
            reporter: Arc::new(NodeReporter::new(
                config.node_id,
                hub.clone(),
                bus.clone(),
                metrics.clone(),
                nats,
            )),
            hub,
            bus,
            metrics,
            store_reachable: Arc::new(AtomicBool::new(true)),
            inbox,
            resyncs,
            peers,
            credential: config.service_credential()?,
            drain_timeout: Duration::from_secs(config.controller.drain_timeout_secs),
            heartbeat_every: Duration::from_secs(config.nats.presence_ttl_secs) / 3,
            max_request_bytes: config.limits.max_request_bytes,
            max_in_flight: config.limits.max_concurrent_requests,
            request_timeout: Duration::from_millis(config.limits.request_timeout_ms),
            connections: config.connections,
            upload_sweep_every: Duration::from_secs(config.files.upload_ttl_secs.min(60)),
            tls: config.tls.server(true)?,
            indexer,
            search,
            webhook,
            device_pushes,
        })
    }

    /// Puts the controller's metrics (`switchboard_*`), readiness checks (the store
    /// answers, the bus is connected) and routes (the local blob engine's presigned URLs)
    /// on the HTTP port.
    pub fn expose(&self, port: &mut HttpPort) {
        self.metrics.register(port.registry());
        self.store.meter().register(port.registry());
        let store = self.store_reachable.clone();
        let bus = self.bus.clone();
        let checks: [Readiness; 2] = [
            ("store", Box::new(move || store.load(Ordering::Relaxed))),
            ("bus", Box::new(move || bus.is_connected())),
        ];
        port.ready(checks);
        if let Some(routes) = self.chat.attachments.blob_routes() {
            port.route(routes);
        }
    }

    /// Serves on `listener` until `shutdown` resolves, then lets in-flight calls finish
    /// (up to the drain timeout) and flushes the store.
    pub async fn serve(
        self,
        listener: TcpListener,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> Result<(), StartError> {
        let served = [
            <ChatServer<ChatApi> as NamedService>::NAME,
            <EncodedStreaming<FanoutApi> as NamedService>::NAME,
            <AdminServer<AdminApi> as NamedService>::NAME,
            <FilesServer<FilesApi> as NamedService>::NAME,
            <PeopleServer<PeopleApi> as NamedService>::NAME,
        ];
        let (health, reflection, reflection_v1alpha) = discovery(&served).await?;
        let (chat, verifier) = (self.chat.clone(), self.verifier.clone());
        let api = ChatApi::new(chat, verifier, self.max_in_flight, self.search);
        let fanout = FanoutApi::new(self.chat.clone(), self.hub.clone(), self.credential);
        let admin = AdminApi::new(self.reporter.clone(), self.verifier.clone(), self.chat.clone());
        let files = FilesApi::new(api.clone());
        let people = PeopleApi::new(api.clone());
        if let Ok(address) = listener.local_addr() {
            self.reporter.set_address(address.to_string());
        }
        let mut background = Background::default();
        background.spawn("peer queries", self.reporter.clone().answer_queries());
        background.spawn("maintenance", maintain(self.chat.clone(), self.store.clone()));
        background.spawn("event dispatch", self.hub.clone().run(self.inbox));
        if let Some(resyncs) = self.resyncs {
            let resyncs = forward_resyncs(self.hub.clone(), resyncs, self.peers, self.metrics);
            background.spawn("bus resyncs", resyncs);
        }
        background.spawn("typing expiry", expire_typing(self.chat.clone()));
        // Dropped mid-step at shutdown: the job goes on from its last saved step.
        let chat = self.chat.clone();
        background.spawn("jobs", async move { chat.work_jobs().await });
        background.spawn("upload sweep", sweep_uploads(self.chat.clone(), self.upload_sweep_every));
        background.spawn("retention sweep", sweep_expired(self.chat.clone()));
        let heartbeat = presence_heartbeat(self.chat.clone(), self.heartbeat_every);
        background.spawn("presence heartbeat", heartbeat);
        background.spawn("presence changes", publish_presence(self.chat.clone()));
        background.spawn("online counts", count_online(self.chat.clone(), self.hub.clone()));
        background
            .spawn("store probe", probe_store(self.store.clone(), self.store_reachable.clone()));
        if let Some(indexer) = self.indexer {
            background.spawn_draining("search indexing", |stop| indexer.run(stop));
        }
        if let Some(webhook) = self.webhook {
            background.spawn_draining("webhook delivery", |stop| webhook.run(stop));
        }
        if let Some(source) = self.device_pushes {
            let device_push = self.chat.device_push.clone();
            background.spawn_draining("device push", move |stop| {
                consume(source, PUSHES_IN_FLIGHT, stop, move |pushed| {
                    let device_push = device_push.clone();
                    async move { device_push.deliver(&pushed).await }
                })
            });
        }
        let (draining_tx, draining) = tokio::sync::oneshot::channel::<()>();
        let mut builder = Server::builder();
        if let Some(tls) = self.tls {
            builder = builder.tls_config(tls)?;
        }
        let server = builder
            .layer(switchboard_telemetry::GrpcTraceLayer)
            .layer(crate::auth::deadline::DeadlineLayer::new(self.request_timeout))
            .http2_keepalive_interval(Some(KEEPALIVE_INTERVAL))
            .http2_keepalive_timeout(Some(KEEPALIVE_TIMEOUT))
            .add_service(health)
            .add_service(reflection)
            .add_service(reflection_v1alpha)
            .add_service(ChatServer::new(api).max_decoding_message_size(self.max_request_bytes))
            .add_service(EncodedStreaming::new(fanout))
            .add_service(AdminServer::new(admin))
            .add_service(FilesServer::new(files))
            .add_service(
                PeopleServer::new(people).max_decoding_message_size(self.max_request_bytes),
            )
            .serve_with_incoming_shutdown(
                GuardedListener::new(listener, self.connections).into_stream(),
                async move {
                    shutdown.await;
                    tracing::info!("shutting down: finishing in-flight calls");
                    let _ = draining_tx.send(());
                },
            );
        let drain_timeout = self.drain_timeout;
        let result = tokio::select! {
            result = server => result.map_err(StartError::from),
            () = async {
                let _ = draining.await;
                tokio::time::sleep(drain_timeout).await;
            } => {
                tracing::warn!(?drain_timeout, "drain deadline passed; abandoning in-flight calls");
                Ok(())
            }
            () = background.watch() => unreachable!("watching background work never ends"),
        };
        background.shutdown(drain_timeout).await;
        self.store.flush().await?;
        tracing::info!("store flushed; controller stopped");
        result
    }
}
