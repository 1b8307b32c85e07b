//! `[notifications]`: the webhook, the device senders (`[notifications.fcm]`,
//! `[notifications.apns]`, `[notifications.web_push]`) and how deliveries are retried.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use super::apns::ApnsSender;
use super::fcm::FcmSender;
use super::sender::Senders;
use super::web_push::{Vapid, WebPushSender};
use crate::error::ConfigError;

/// `[notifications]`: where notifications are pushed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct NotificationsConfig {
    /// The webhook notifications are POSTed to; none: no webhook.
    pub webhook_url: Option<String>,
    /// The HMAC-SHA256 key the webhook's signature is made with (at least 32 bytes).
    pub webhook_secret_file: Option<PathBuf>,
    /// Attempts per notification before it is given up.
    pub webhook_max_attempts: u32,
    /// Wait before the first retry; doubled after each failure (up to a minute).
    pub webhook_first_retry_ms: u64,
    /// Attempts per device before a push to it is given up.
    pub push_max_attempts: u32,
    /// Wait before a device's first retry (unless the provider says how long, with
    /// Retry-After); doubled after each failure (up to a minute).
    pub push_first_retry_ms: u64,
    /// Pushes to Android (and iOS through Firebase) devices.
    pub fcm: Option<FcmConfig>,
    /// Pushes to Apple devices.
    pub apns: Option<ApnsConfig>,
    /// Pushes to browsers.
    pub web_push: Option<WebPushConfig>,
}

impl Default for NotificationsConfig {
    fn default() -> Self {
        NotificationsConfig {
            webhook_url: None,
            webhook_secret_file: None,
            webhook_max_attempts: 8,
            webhook_first_retry_ms: 500,
            push_max_attempts: 5,
            push_first_retry_ms: 1_000,
            fcm: None,
            apns: None,
            web_push: None,
        }
    }
}

/// `[notifications.fcm]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FcmConfig {
    /// The Firebase project's service account key (JSON, from the Firebase console).
    pub service_account_file: PathBuf,
    /// FCM's base URL.
    #[serde(default = "fcm_endpoint")]
    pub endpoint: String,
}

fn fcm_endpoint() -> String {
    "https://fcm.googleapis.com".into()
}

/// `[notifications.apns]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApnsConfig {
    /// The token signing key (`AuthKey_<key id>.p8`, from the Apple developer account).
    pub key_file: PathBuf,
    /// The key's id (10 characters).
    pub key_id: String,
    /// The developer team's id (10 characters).
    pub team_id: String,
    /// APNs' base URL: `https://api.sandbox.push.apple.com` for development builds.
    #[serde(default = "apns_endpoint")]
    pub endpoint: String,
}

fn apns_endpoint() -> String {
    "https://api.push.apple.com".into()
}

/// `[notifications.web_push]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WebPushConfig {
    /// The VAPID key: a P-256 private key in PEM (`openssl ecparam -name prime256v1
    /// -genkey -noout -out vapid.pem`).
    pub vapid_key_file: PathBuf,
    /// How push services reach the operator: a `mailto:` or `https:` URL.
    pub subject: String,
    /// Take subscriptions whose endpoint is on this machine over plain http (a local push
    /// service, for tests). Off: anyone could make the server POST to its own ports.
    #[serde(default)]
    pub allow_loopback_endpoints: bool,
}

fn url(value: &str) -> bool {
    value.starts_with("http://") || value.starts_with("https://")
}

impl NotificationsConfig {
    pub fn validate(&self) -> Result<(), String> {
        if !(1..=100).contains(&self.push_max_attempts) {
            return Err("push_max_attempts must be 1 to 100".into());
        }
        if let Some(fcm) = &self.fcm
            && !url(&fcm.endpoint)
        {
            return Err(format!("fcm.endpoint must be an http(s) URL, got {:?}", fcm.endpoint));
        }
        if let Some(apns) = &self.apns {
            if !url(&apns.endpoint) {
                return Err(format!(
                    "apns.endpoint must be an http(s) URL, got {:?}",
                    apns.endpoint
                ));
            }
            if apns.key_id.is_empty() || apns.team_id.is_empty() {
                return Err("apns needs key_id and team_id".into());
            }
        }
        if let Some(web) = &self.web_push
            && !(web.subject.starts_with("mailto:") || web.subject.starts_with("https://"))
        {
            return Err("web_push.subject must be a mailto: or https:// URL".into());
        }
        let Some(url) = &self.webhook_url else {
            return Ok(());
        };
        if !(url.starts_with("http://") || url.starts_with("https://")) {
            return Err(format!("webhook_url must be an http:// or https:// URL, got {url:?}"));
        }
        if self.webhook_secret_file.is_none() {
            return Err("webhook_url needs webhook_secret_file (the signing key)".into());
        }
        if !(1..=100).contains(&self.webhook_max_attempts) {
            return Err("webhook_max_attempts must be 1 to 100".into());
        }
        Ok(())
    }

    /// The device senders configured, their keys read.
    pub fn senders(&self) -> Result<Senders, ConfigError> {
        let mut senders = Senders::default();
        if let Some(fcm) = &self.fcm {
            let key = "notifications.fcm.service_account_file";
            let account = read(key, &fcm.service_account_file)?;
            let sender = FcmSender::new(&account, &fcm.endpoint).map_err(|r| invalid(key, r))?;
            senders.fcm = Some(Arc::new(sender));
        }
        if let Some(apns) = &self.apns {
            let key = "notifications.apns.key_file";
            let p8 = read(key, &apns.key_file)?;
            let sender = ApnsSender::new(&p8, &apns.key_id, &apns.team_id, &apns.endpoint)
                .map_err(|r| invalid(key, r))?;
            senders.apns = Some(Arc::new(sender));
        }
        if let Some(web) = &self.web_push {
            let key = "notifications.web_push.vapid_key_file";
            let pem = read(key, &web.vapid_key_file)?;
            let vapid = Vapid::from_pem(&pem, &web.subject).map_err(|r| invalid(key, r))?;
            senders.web_push_public_key = Some(vapid.public_key().to_string());
            senders.loopback_endpoints = web.allow_loopback_endpoints;
            senders.web_push = Some(Arc::new(WebPushSender::new(vapid)));
        }
        Ok(senders)
    }
}

fn invalid(key: &'static str, reason: String) -> ConfigError {
    ConfigError::Invalid { key, reason }
}

fn read(key: &'static str, path: &Path) -> Result<String, ConfigError> {
    let text = std::fs::read_to_string(path)
        .map_err(|source| ConfigError::SecretFile { path: path.to_path_buf(), source })?;
    if text.trim().is_empty() {
        return Err(invalid(key, format!("{} is empty", path.display())));
    }
    Ok(text)
}
