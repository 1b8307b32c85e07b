//! The HTTP port (`http.listen`, 7402 by default): `/metrics` (Prometheus text),
//! `/healthz` (the process answers) and `/readyz` (every component it runs can do its
//! job: the store and bus of a controller, the controller link of a relay). A controller on
//! the local blob engine also serves its presigned URLs here (`/blobs/...`).

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::get;
use prometheus_client::registry::Registry;
use tokio::net::TcpListener;

use crate::auth::connections::{ConnectionLimits, GuardedListener, GuardedStream};

/// A named readiness check.
pub type Readiness = (&'static str, Box<dyn Fn() -> bool + Send + Sync>);

struct HttpState {
    registry: Registry,
    ready: Vec<Readiness>,
}

/// What a process serves on its HTTP port, gathered from every node it runs (a controller,
/// a relay, or both in `switchboard dev`), then served with [`HttpPort::serve`].
#[derive(Default)]
pub struct HttpPort {
    registry: Registry,
    ready: Vec<Readiness>,
    routes: Option<Router>,
}

impl HttpPort {
    /// Where a node registers its metrics.
    pub fn registry(&mut self) -> &mut Registry {
        &mut self.registry
    }

    /// Adds checks `/readyz` runs.
    pub fn ready(&mut self, checks: impl IntoIterator<Item = Readiness>) {
        self.ready.extend(checks);
    }

    /// Adds routes (the local blob engine's URLs).
    pub fn route(&mut self, routes: Router) {
        self.routes = Some(match self.routes.take() {
            Some(existing) => existing.merge(routes),
            None => routes,
        });
    }

    /// Serves until `shutdown` resolves, admitting connections by `limits`.
    pub async fn serve(
        self,
        listener: TcpListener,
        limits: ConnectionLimits,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        serve(listener, limits, self.registry, self.ready, self.routes, shutdown).await
    }
}

/// Serves until `shutdown` resolves, admitting connections by `limits`; `routes` are merged
/// in.
async fn serve(
    listener: TcpListener,
    limits: ConnectionLimits,
    registry: Registry,
    ready: Vec<Readiness>,
    routes: Option<Router>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let state = Arc::new(HttpState { registry, ready });
    let mut app = Router::new()
        .route("/metrics", get(metrics))
        .route("/healthz", get(|| async { "ok\n" }))
        .route("/readyz", get(readyz))
        .with_state(state);
    if let Some(routes) = routes {
        app = app.merge(routes);
    }
    let listener = HttpListener(GuardedListener::new(listener, limits));
    // Routes that answer by who calls (the dev sign-in) read the peer's address.
    let app = app.into_make_service_with_connect_info::<Peer>();
    axum::serve(listener, app).with_graceful_shutdown(shutdown).await
}

/// Who is calling, for routes that answer by it (`ConnectInfo<Peer>`).
#[derive(Debug, Clone, Copy)]
pub struct Peer(pub SocketAddr);

impl axum::extract::connect_info::Connected<axum::serve::IncomingStream<'_, HttpListener>>
    for Peer
{
    fn connect_info(stream: axum::serve::IncomingStream<'_, HttpListener>) -> Self {
        Peer(*stream.remote_addr())
    }
}

/// The port's listener as axum takes one.
struct HttpListener(GuardedListener);

impl axum::serve::Listener for HttpListener {
    type Io = GuardedStream;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (GuardedStream, SocketAddr) {
        self.0.accept().await
    }

    fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.0.local_addr()
    }
}

async fn metrics(State(state): State<Arc<HttpState>>) -> impl IntoResponse {
    let mut text = String::new();
    if prometheus_client::encoding::text::encode(&mut text, &state.registry).is_err() {
        return (StatusCode::INTERNAL_SERVER_ERROR, "cannot encode metrics\n".to_string())
            .into_response();
    }
    let content_type = "application/openmetrics-text; version=1.0.0; charset=utf-8";
    ([(header::CONTENT_TYPE, content_type)], text).into_response()
}

async fn readyz(State(state): State<Arc<HttpState>>) -> impl IntoResponse {
    let failing: Vec<&str> =
        state.ready.iter().filter(|(_, check)| !check()).map(|(name, _)| *name).collect();
    if failing.is_empty() {
        (StatusCode::OK, "ready\n".to_string())
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, format!("not ready: {}\n", failing.join(", ")))
    }
}
