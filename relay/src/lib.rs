//! The Switchboard relay: the thin client-facing node. It holds client streams
//! (`switchboard.v1.Realtime`), keeps per channel the set of local subscribers, holds one
//! Fanout stream to a controller subscribed to exactly the channels those subscribers use,
//! and forwards the unary Chat API to the controller so clients need one address. It
//! stores nothing.

mod admin;
pub mod config;
mod connect;
mod dispatch;
mod forward;
mod frames;
mod link;
mod presence;
mod recent;
mod replay;
mod report;
mod session;
mod state;
mod stats;
mod subscribe;
mod subscribers;
mod upstream;
mod watch;
mod watchers;
mod web;

use std::collections::HashMap;
use std::future::Future;
use std::sync::atomic::AtomicU64;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use switchboard_auth::connections::{GuardedListener, KEEPALIVE_INTERVAL, KEEPALIVE_TIMEOUT};
use switchboard_auth::{ServiceCredential, TokenVerifier};
use switchboard_proto::discovery::discovery;
use switchboard_proto::encoded::EncodedStreaming;
use switchboard_proto::status;
use switchboard_proto::v1::{
    realtime_web_server::RealtimeWebServer, relay_admin_server::RelayAdminServer,
};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tonic::server::NamedService;
use tonic::transport::Server;

pub use config::RelayConfig;

use crate::admin::RelayAdminApi;
use crate::connect::{RealtimeApi, RealtimeService};
use crate::forward::Forward;
use crate::presence::LocalPresence;
use crate::state::RelayState;
use crate::stats::Stats;
use crate::subscribers::ChannelSubscribers;
use crate::upstream::Upstream;
use crate::watchers::PresenceWatchers;
use crate::web::RealtimeWebApi;

#[derive(Debug, thiserror::Error)]
pub enum RelayError {
    #[error("{0}")]
    Config(String),
    #[error("gRPC server: {0}")]
    Transport(#[from] tonic::transport::Error),
    #[error("gRPC reflection: {0}")]
    Reflection(#[from] switchboard_proto::discovery::Error),
}

/// TLS for a relay: towards its clients, and towards its controllers.
#[derive(Default, Clone)]
pub struct RelayTls {
    /// Serve clients over TLS.
    pub serve: Option<tonic::transport::ServerTlsConfig>,
    /// Verify (and, for mutual TLS, present a certificate to) `https://` controllers.
    pub upstream: Option<tonic::transport::ClientTlsConfig>,
}

/// A relay ready to serve.
pub struct Relay {
    state: Arc<RelayState>,
    /// Server TLS for the client-facing listener.
    tls: Option<tonic::transport::ServerTlsConfig>,
}

impl Relay {
    pub fn new(
        config: RelayConfig,
        verifier: Arc<TokenVerifier>,
        credential: ServiceCredential,
        tls: RelayTls,
    ) -> Result<Relay, RelayError> {
        config.validate().map_err(RelayError::Config)?;
        let upstream = Upstream::new(&config.controllers, credential, tls.upstream)
            .map_err(RelayError::Config)?;
        let upstream = Arc::new(upstream);
        let debounce = Duration::from_millis(config.presence_debounce_ms);
        let stats: Arc<Stats> = Arc::default();
        let state = RelayState {
            verifier,
            subscribers: ChannelSubscribers::new(upstream.clone(), stats.clone()),
            presence: Arc::new(LocalPresence::new(upstream.clone(), debounce)),
            watchers: PresenceWatchers::default(),
            upstream,
            stats,
            sessions: Mutex::new(HashMap::new()),
            pending_resync: Mutex::new(None),
            next_session: AtomicU64::new(1),
            started: std::time::Instant::now(),
            address: std::sync::OnceLock::new(),
            connect_rate: switchboard_auth::rate::KeyedRate::new(
                config.connect_rate_per_ip,
                config.connect_burst_per_ip,
            ),
            config,
        };
        Ok(Relay { state: Arc::new(state), tls: tls.serve })
    }

    /// Registers the relay's metrics (`switchboard_relay_*`).
    pub fn register_metrics(&self, registry: &mut prometheus_client::registry::Registry) {
        self.state.stats.register(registry);
    }

    /// Ready when the relay's stream to a controller is up.
    pub fn readiness(&self) -> impl Fn() -> bool + Send + Sync + 'static {
        let state = self.state.clone();
        move || state.stats.upstream_connected.get() == 1
    }

    /// Serves clients on `listener` until `shutdown` resolves; then ends every stream
    /// (clients reconnect elsewhere and resume) and stops.
    pub async fn serve(
        self,
        listener: TcpListener,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> Result<(), RelayError> {
        let state = self.state;
        if let Ok(address) = listener.local_addr() {
            let _ = state.address.set(address.to_string());
        }
        let stop = CancellationToken::new();
        let (link_events, inbox) = tokio::sync::mpsc::channel(link::LINK_EVENTS);
        let restating = state.clone();
        let link = tokio::spawn(state.upstream.clone().run(
            link_events,
            move || restating.restatement(),
            stop.clone(),
        ));
        let core = tokio::spawn(state.clone().follow_link(inbox));
        let forget = state.clone();
        let idle_rates = tokio::spawn(async move {
            let mut every = tokio::time::interval(Duration::from_secs(60));
            loop {
                every.tick().await;
                forget.connect_rate.forget_idle();
            }
        });
        let served = [
            <EncodedStreaming<RealtimeService> as NamedService>::NAME,
            <RealtimeWebServer<RealtimeWebApi> as NamedService>::NAME,
            <RelayAdminServer<RelayAdminApi> as NamedService>::NAME,
            <Forward<forward::Chat> as NamedService>::NAME,
            <Forward<forward::Files> as NamedService>::NAME,
            <Forward<forward::People> as NamedService>::NAME,
            <Forward<forward::Admin> as NamedService>::NAME,
        ];
        let (health, reflection, reflection_v1alpha) = discovery(&served).await?;

        let sessions = state.clone();
        let mut builder = Server::builder();
        if let Some(tls) = self.tls {
            builder = builder.tls_config(tls)?;
        }
        // Browsers speak gRPC-Web over HTTP/1.1 on the same port: CORS answers their
        // preflights, then their calls are translated to plain gRPC for every service.
        let result = builder
            .accept_http1(true)
            .layer(web::cors(&state.config.web_allowed_origins))
            .layer(tonic_web::GrpcWebLayer::new())
            .layer(switchboard_telemetry::GrpcTraceLayer)
            .layer(switchboard_auth::deadline::DeadlineLayer::new(Duration::from_millis(
                state.config.request_timeout_ms,
            )))
            .http2_keepalive_interval(Some(KEEPALIVE_INTERVAL))
            .http2_keepalive_timeout(Some(KEEPALIVE_TIMEOUT))
            .add_service(health)
            .add_service(reflection)
            .add_service(reflection_v1alpha)
            .add_service(
                EncodedStreaming::new(RealtimeService(Arc::new(RealtimeApi {
                    state: state.clone(),
                })))
                .max_decoding_message_size(state.config.max_frame_bytes),
            )
            .add_service(RealtimeWebServer::new(RealtimeWebApi::new(state.clone())))
            .add_service(RelayAdminServer::new(RelayAdminApi { state: state.clone() }))
            .add_service(Forward::<forward::Chat>::new(state.upstream.clone()))
            .add_service(Forward::<forward::Files>::new(state.upstream.clone()))
            .add_service(Forward::<forward::People>::new(state.upstream.clone()))
            .add_service(Forward::<forward::Admin>::new(state.upstream.clone()))
            .serve_with_incoming_shutdown(
                GuardedListener::new(listener, state.config.connections).into_stream(),
                async move {
                    shutdown.await;
                    tracing::info!("relay shutting down: ending client streams");
                    stop.cancel();
                    let open: Vec<_> = sessions
                        .sessions
                        .lock()
                        .expect("sessions lock poisoned")
                        .values()
                        .cloned()
                        .collect();
                    for session in open {
                        session.end(status::unavailable("the relay is shutting down; reconnect"));
                    }
                },
            )
            .await;
        link.abort();
        core.abort();
        idle_rates.abort();
        result.map_err(RelayError::from)
    }
}
