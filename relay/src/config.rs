//! The relay's configuration (the `[relay]` section of the config file).

use std::net::SocketAddr;

use serde::{Deserialize, Serialize};
use switchboard_auth::connections::ConnectionLimits;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RelayConfig {
    /// Client-facing address (gRPC).
    pub listen: SocketAddr,
    /// The controllers to subscribe at and forward calls to, e.g. `http://127.0.0.1:7401`.
    /// The relay uses one at a time and moves to the next when it goes away.
    pub controllers: Vec<String>,
    /// Frames queued per client stream; a client this far behind is disconnected (it
    /// resumes on reconnect), so that one slow client never slows the others.
    pub client_queue: usize,
    /// How long a stream may outlive its token's `exp` before it is ended.
    pub token_grace_secs: u64,
    /// How long a user's last stream must stay closed before they are reported offline, so
    /// that a quick reconnect does not flap.
    pub presence_debounce_ms: u64,
    /// Open streams allowed per user on this relay.
    pub max_streams_per_user: usize,
    /// New streams per second per client IP address, and the burst allowed.
    pub connect_rate_per_ip: u32,
    pub connect_burst_per_ip: u32,
    /// Largest client frame decoded, in bytes.
    pub max_frame_bytes: usize,
    /// How long a forwarded unary call may take before it fails with DEADLINE_EXCEEDED.
    /// Longer than the controller's own limit, so that its answer arrives first. Streams
    /// are not cut: it bounds only their opening.
    pub request_timeout_ms: u64,
    /// Origins whose web pages may call the relay over gRPC-Web (CORS), e.g.
    /// `https://chat.example.com`; `*` allows any origin (tokens are bearer headers, never
    /// cookies, so no credentials ride along).
    pub web_allowed_origins: Vec<String>,
    /// Admission of client connections (config `[connections]`, shared with the
    /// process's other ports).
    #[serde(skip)]
    pub connections: ConnectionLimits,
}

impl Default for RelayConfig {
    fn default() -> Self {
        RelayConfig {
            listen: "127.0.0.1:7400".parse().expect("valid"),
            controllers: vec!["http://127.0.0.1:7401".into()],
            client_queue: 1024,
            token_grace_secs: 30,
            presence_debounce_ms: 3000,
            max_streams_per_user: 16,
            connect_rate_per_ip: 20,
            connect_burst_per_ip: 50,
            max_frame_bytes: 256 * 1024,
            request_timeout_ms: 15_000,
            web_allowed_origins: vec![
                "http://localhost:5173".into(),
                "http://127.0.0.1:5173".into(),
            ],
            connections: ConnectionLimits::default(),
        }
    }
}

impl RelayConfig {
    /// Checks the values; the error names the key.
    pub fn validate(&self) -> Result<(), String> {
        if self.controllers.is_empty() {
            return Err("relay.controllers: name at least one controller".into());
        }
        for controller in &self.controllers {
            if !(controller.starts_with("http://") || controller.starts_with("https://")) {
                return Err(format!(
                    "relay.controllers: `{controller}` is not an http(s):// address"
                ));
            }
        }
        if !(16..=1_000_000).contains(&self.client_queue) {
            return Err("relay.client_queue: must be 16 to 1000000".into());
        }
        if self.token_grace_secs > 3600 {
            return Err("relay.token_grace_secs: must be at most 3600".into());
        }
        if self.max_streams_per_user == 0
            || self.connect_rate_per_ip == 0
            || self.connect_burst_per_ip == 0
        {
            return Err("relay.max_streams_per_user, connect_rate_per_ip and connect_burst_per_ip must be at least 1".into());
        }
        if !(16 * 1024..=16 * 1024 * 1024).contains(&self.max_frame_bytes) {
            return Err("relay.max_frame_bytes: must be 16 KiB to 16 MiB".into());
        }
        if !(100..=600_000).contains(&self.request_timeout_ms) {
            return Err("relay.request_timeout_ms: must be 100 to 600000".into());
        }
        for origin in &self.web_allowed_origins {
            let url_like = origin.starts_with("http://") || origin.starts_with("https://");
            if origin != "*" && (!url_like || origin.ends_with('/')) {
                return Err(format!(
                    "relay.web_allowed_origins: `{origin}` is not an origin like https://chat.example.com (or *)"
                ));
            }
        }
        if self.presence_debounce_ms > 60_000 {
            return Err("relay.presence_debounce_ms: must be at most 60000".into());
        }
        Ok(())
    }
}
