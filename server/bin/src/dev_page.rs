//! What `switchboard dev` serves on its HTTP port besides metrics and health: the demo
//! web app at `/` (once built), and a development-only sign-in, so that trying Switchboard
//! in a browser needs no token minted by hand:
//!
//! - `GET /dev/config`: `{"relay": "http://127.0.0.1:7400"}`, where the page connects;
//! - `POST /dev/token` with `{"user": "alice", "org": "acme"}`: `{"token": "..."}`, a
//!   one-hour token with the ordinary user scopes, signed with the dev secret.
//!
//! Both answer loopback callers only (403 otherwise), and exist only under `switchboard
//! dev`: a controller or relay in production never serves them.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::{ConnectInfo, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use switchboard_sdk::token::{SigningKey, TokenSpec, mint};
use switchboard_server::auth::check_user_id;
use switchboard_server::http::Peer;
use tower_http::services::ServeDir;

/// How long a dev sign-in's token lasts.
const TOKEN_TTL: Duration = Duration::from_secs(3600);

struct DevSignIn {
    secret: Vec<u8>,
    relay: String,
}

#[derive(Serialize)]
struct DevConfig {
    relay: String,
}

#[derive(Deserialize)]
struct TokenRequest {
    user: String,
    org: String,
}

#[derive(Serialize)]
struct TokenAnswer {
    token: String,
}

/// The dev routes: sign-in with `secret` for a page that connects to `relay`, and the
/// built demo from `demo` at `/`, read from disk as asked for (so a build made while the
/// server runs is served; until then `/` says how to build it).
pub(crate) fn routes(secret: Vec<u8>, relay: String, demo: PathBuf) -> Router {
    let state = Arc::new(DevSignIn { secret, relay });
    let missing = {
        let demo = demo.clone();
        get(move || async move { missing(&demo) })
    };
    Router::new()
        .route("/dev/config", get(config))
        .route("/dev/token", post(token))
        .with_state(state)
        .fallback_service(ServeDir::new(demo).not_found_service(missing))
}

async fn config(
    ConnectInfo(Peer(peer)): ConnectInfo<Peer>,
    State(state): State<Arc<DevSignIn>>,
) -> Response {
    match loopback(peer) {
        Ok(()) => Json(DevConfig { relay: state.relay.clone() }).into_response(),
        Err(refused) => refused.into_response(),
    }
}

async fn token(
    ConnectInfo(Peer(peer)): ConnectInfo<Peer>,
    State(state): State<Arc<DevSignIn>>,
    Json(request): Json<TokenRequest>,
) -> Response {
    if let Err(refused) = loopback(peer) {
        return refused.into_response();
    }
    for (field, id) in [("user", &request.user), ("org", &request.org)] {
        if let Err(why) = check_user_id(id) {
            return (StatusCode::BAD_REQUEST, format!("{field} {why}\n")).into_response();
        }
    }
    let spec = TokenSpec { ttl: TOKEN_TTL, ..TokenSpec::new(&request.user, &request.org) };
    match mint(&spec, &SigningKey::Hs256(state.secret.clone())) {
        Ok(token) => Json(TokenAnswer { token }).into_response(),
        Err(error) => (StatusCode::INTERNAL_SERVER_ERROR, format!("{error}\n")).into_response(),
    }
}

/// Only the machine `switchboard dev` runs on signs in through it.
fn loopback(peer: SocketAddr) -> Result<(), (StatusCode, &'static str)> {
    match peer.ip().to_canonical().is_loopback() {
        true => Ok(()),
        false => Err((StatusCode::FORBIDDEN, "the dev sign-in answers this machine only\n")),
    }
}

/// What a path not in the demo answers: 404, or while the demo is not built, how to
/// build it.
fn missing(demo: &std::path::Path) -> Response {
    if demo.join("index.html").is_file() {
        return (StatusCode::NOT_FOUND, "not found\n").into_response();
    }
    let page = Html(format!(
        "<!doctype html><title>Switchboard dev</title><h1>Switchboard dev is running</h1>\
         <p>The demo page is not built yet ({}). Build it, then reload:</p>\
         <pre>cd sdk/web &amp;&amp; npm ci &amp;&amp; npm run demo:build</pre>",
        demo.display()
    ));
    (StatusCode::NOT_FOUND, page).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_loopback_callers_sign_in() {
        for peer in ["127.0.0.1:5000", "[::1]:5000", "[::ffff:127.0.0.1]:5000"] {
            assert!(loopback(peer.parse().unwrap()).is_ok(), "{peer}");
        }
        for peer in ["10.0.0.7:5000", "192.168.1.2:5000", "[2001:db8::1]:5000"] {
            assert_eq!(loopback(peer.parse().unwrap()).unwrap_err().0, StatusCode::FORBIDDEN);
        }
    }
}
