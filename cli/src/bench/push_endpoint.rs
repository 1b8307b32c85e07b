//! The push providers `sbctl bench push` sends to: one local port that answers like FCM
//! (its OAuth2 token endpoint too), APNs (HTTP/2) and a Web Push service, accepting every
//! push and counting them per platform. Unlike the test suite's providers it checks no
//! signature: it measures the senders, not itself.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::post;

/// Bench-only keys (the test suite's fixtures, which protect nothing): the FCM service
/// account's RSA key, and the P-256 key APNs tokens and VAPID are signed with.
const RSA_KEY: &str = include_str!("../../../tests/fixtures/rsa-private.pem");
const EC_KEY: &str = include_str!("../../../tests/fixtures/ec-private.pem");
/// A browser's subscription keys (RFC 8291's example).
pub(crate) const P256DH: &str =
    "BCVxsr7N_eNgVRqvHtD0zTZsEc6-VV-JvLexhqUzORcxaOzi6-AYWXvTBHm4bjyPjs7Vd8pZGH6SRpkNtoIAiw4";
pub(crate) const AUTH: &str = "BTBZMqHH6r4Tts7J_aSIgg";

/// Pushes accepted, per platform.
#[derive(Default)]
pub(crate) struct Accepted {
    pub(crate) fcm: AtomicU64,
    pub(crate) apns: AtomicU64,
    pub(crate) web_push: AtomicU64,
}

impl Accepted {
    pub(crate) fn total(&self) -> u64 {
        self.fcm.load(Ordering::Relaxed)
            + self.apns.load(Ordering::Relaxed)
            + self.web_push.load(Ordering::Relaxed)
    }
}

pub(crate) struct PushEndpoint {
    pub(crate) address: SocketAddr,
    pub(crate) accepted: Arc<Accepted>,
    server: tokio::task::JoinHandle<()>,
}

impl PushEndpoint {
    pub(crate) async fn start() -> anyhow::Result<PushEndpoint> {
        let accepted = Arc::new(Accepted::default());
        let app = axum::Router::new()
            .route("/fcm/token", post(token))
            .route("/fcm/v1/projects/{project}/{call}", post(fcm))
            .route("/apns/3/device/{token}", post(apns))
            .route("/webpush/{id}", post(web_push))
            .with_state(accepted.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let address = listener.local_addr()?;
        let server = tokio::spawn(async move {
            if let Err(error) = axum::serve(listener, app).await {
                eprintln!("the bench's push endpoint stopped: {error}");
            }
        });
        Ok(PushEndpoint { address, accepted, server })
    }

    /// The controller's config for sending every platform here (as environment
    /// variables), its keys written into `dir`.
    pub(crate) fn config(&self, dir: &Path) -> anyhow::Result<Vec<(String, String)>> {
        let origin = format!("http://{}", self.address);
        let account = serde_json::json!({
            "project_id": "bench",
            "client_email": "bench@bench.iam.gserviceaccount.com",
            "private_key": RSA_KEY,
            "token_uri": format!("{origin}/fcm/token"),
        });
        let (account_file, key_file) = (dir.join("fcm.json"), dir.join("ec.pem"));
        std::fs::write(&account_file, account.to_string())?;
        std::fs::write(&key_file, EC_KEY)?;
        let path = |p: &Path| p.display().to_string();
        let n = "SWITCHBOARD_NOTIFICATIONS__";
        Ok([
            ("FCM__SERVICE_ACCOUNT_FILE", path(&account_file)),
            ("FCM__ENDPOINT", format!("{origin}/fcm")),
            ("APNS__KEY_FILE", path(&key_file)),
            ("APNS__KEY_ID", "BENCHKEY01".into()),
            ("APNS__TEAM_ID", "BENCHTEAM1".into()),
            ("APNS__ENDPOINT", format!("{origin}/apns")),
            ("WEB_PUSH__VAPID_KEY_FILE", path(&key_file)),
            ("WEB_PUSH__SUBJECT", "mailto:bench@example.com".into()),
            ("WEB_PUSH__ALLOW_LOOPBACK_ENDPOINTS", "true".into()),
        ]
        .into_iter()
        .map(|(key, value)| (format!("{n}{key}"), value))
        .collect())
    }

    /// The Web Push endpoint of subscription `id`.
    pub(crate) fn web_push_endpoint(&self, id: usize) -> String {
        format!("http://{}/webpush/{id}", self.address)
    }
}

impl Drop for PushEndpoint {
    fn drop(&mut self) {
        self.server.abort();
    }
}

// Each handler takes the body: an HTTP/2 stream answered before its body is read is reset,
// and hyper ends a connection with too many such resets.

async fn token(_body: Bytes) -> impl IntoResponse {
    let body = r#"{"access_token":"bench","expires_in":3600,"token_type":"Bearer"}"#;
    ([("content-type", "application/json")], body)
}

async fn fcm(State(accepted): State<Arc<Accepted>>, _body: Bytes) -> impl IntoResponse {
    accepted.fcm.fetch_add(1, Ordering::Relaxed);
    ([("content-type", "application/json")], r#"{"name":"projects/bench/messages/1"}"#)
}

async fn apns(State(accepted): State<Arc<Accepted>>, _body: Bytes) -> StatusCode {
    accepted.apns.fetch_add(1, Ordering::Relaxed);
    StatusCode::OK
}

async fn web_push(State(accepted): State<Arc<Accepted>>, _body: Bytes) -> StatusCode {
    accepted.web_push.fetch_add(1, Ordering::Relaxed);
    StatusCode::CREATED
}
