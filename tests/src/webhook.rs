//! A webhook endpoint for tests: records every POST it gets, and answers 503 to the first
//! few so that retries can be seen.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use tokio::sync::Notify;

/// One request the endpoint got.
#[derive(Debug, Clone)]
pub struct WebhookCall {
    pub headers: HeaderMap,
    pub body: Bytes,
    /// What the endpoint answered.
    pub status: StatusCode,
}

struct Endpoint {
    /// Requests still to refuse.
    failures_left: Mutex<usize>,
    calls: Mutex<Vec<WebhookCall>>,
    arrived: Notify,
}

pub struct WebhookReceiver {
    pub address: SocketAddr,
    endpoint: Arc<Endpoint>,
    server: tokio::task::JoinHandle<()>,
}

impl WebhookReceiver {
    /// Listens on 127.0.0.1; answers 503 to the first `failures` requests, 200 after.
    pub async fn start(failures: usize) -> WebhookReceiver {
        let endpoint = Arc::new(Endpoint {
            failures_left: Mutex::new(failures),
            calls: Mutex::new(Vec::new()),
            arrived: Notify::new(),
        });
        let app = axum::Router::new().route("/hook", post(receive)).with_state(endpoint.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let address = listener.local_addr().expect("address");
        let server = tokio::spawn(async move {
            axum::serve(listener, app).await.expect("webhook endpoint serves");
        });
        WebhookReceiver { address, endpoint, server }
    }

    pub fn url(&self) -> String {
        format!("http://{}/hook", self.address)
    }

    /// Every request so far.
    pub fn calls(&self) -> Vec<WebhookCall> {
        self.endpoint.calls.lock().expect("calls").clone()
    }

    /// Waits (up to 10 s) until `count` requests were answered 200; returns every call.
    pub async fn accepted(&self, count: usize) -> Vec<WebhookCall> {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        loop {
            let arrived = self.endpoint.arrived.notified();
            let calls = self.calls();
            if calls.iter().filter(|c| c.status == StatusCode::OK).count() >= count {
                return calls;
            }
            if tokio::time::timeout_at(deadline, arrived).await.is_err() {
                panic!("{count} accepted webhook calls never came; got {calls:#?}");
            }
        }
    }
}

impl Drop for WebhookReceiver {
    fn drop(&mut self) {
        self.server.abort();
    }
}

async fn receive(
    State(endpoint): State<Arc<Endpoint>>,
    headers: HeaderMap,
    body: Bytes,
) -> StatusCode {
    let status = {
        let mut left = endpoint.failures_left.lock().expect("failures");
        if *left > 0 {
            *left -= 1;
            StatusCode::SERVICE_UNAVAILABLE
        } else {
            StatusCode::OK
        }
    };
    endpoint.calls.lock().expect("calls").push(WebhookCall { headers, body, status });
    endpoint.arrived.notify_waiters();
    status
}
