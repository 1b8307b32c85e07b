//! What every device sender speaks: one alert to one device, and what became of it. FCM,
//! APNs and Web Push each implement [`DeviceSender`]; [`Senders`] holds those configured.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use async_trait::async_trait;
use reqwest::header::{HeaderMap, RETRY_AFTER};
use serde::Serialize;

use crate::model::{Device, Platform};

/// Longest a provider's Retry-After is honoured: a longer one is cut to this.
const LONGEST_RETRY_AFTER: Duration = Duration::from_secs(300);
/// Longest an attempt may take.
pub(super) const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(10);

/// One notification as a device shows it. Ids are strings: they exceed 2^53.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Alert {
    pub notification_id: String,
    pub conversation_id: String,
    pub message_id: String,
    /// The sender's user id.
    pub from: String,
    /// `mention`, `direct`, `thread_reply`, ... (as in the webhook payload), or `test`.
    pub reason: String,
    /// Who it is from, by name.
    pub title: String,
    /// The message's preview.
    pub body: String,
    /// The user's unread notifications, this one included: the app icon's badge.
    pub badge: u32,
}

impl Alert {
    /// Alerts of one conversation replace each other on the device: the FCM collapse key
    /// and tag, the APNs collapse id and thread, the Web Push topic.
    pub fn collapse_key(&self) -> String {
        format!("c{}", self.conversation_id)
    }

    /// The alert's fields as strings (FCM `data`, the APNs payload's `switchboard`).
    pub(super) fn data(&self) -> serde_json::Map<String, serde_json::Value> {
        let mut data = serde_json::Map::new();
        for (key, value) in [
            ("notification_id", &self.notification_id),
            ("conversation_id", &self.conversation_id),
            ("message_id", &self.message_id),
            ("from", &self.from),
            ("reason", &self.reason),
        ] {
            data.insert(key.into(), value.clone().into());
        }
        data.insert("badge".into(), self.badge.to_string().into());
        data
    }
}

/// What became of one attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Delivered,
    /// The provider says the device is gone or its token invalid: it is removed.
    Unregistered(String),
    /// Worth trying again: after `after` when the provider said (Retry-After).
    Retry {
        after: Option<Duration>,
        reason: String,
    },
    /// Refused for good (a bad request, bad credentials): not tried again.
    Failed(String),
}

impl Outcome {
    /// The metric label of the outcome.
    pub fn name(&self) -> &'static str {
        match self {
            Outcome::Delivered => "delivered",
            Outcome::Unregistered(_) => "unregistered",
            Outcome::Retry { .. } => "retry",
            Outcome::Failed(_) => "failed",
        }
    }

    /// Why it was not delivered; empty when it was.
    pub fn reason(&self) -> &str {
        match self {
            Outcome::Delivered => "",
            Outcome::Unregistered(reason) | Outcome::Failed(reason) => reason,
            Outcome::Retry { reason, .. } => reason,
        }
    }

    /// A transport failure (no answer): worth trying again.
    pub(super) fn unreachable(provider: &str, error: &reqwest::Error) -> Outcome {
        let reason = format!("{provider} unreachable: {}", without_url(error));
        Outcome::Retry { after: None, reason }
    }

    /// "Try later": 429 or a server error, with the answer's Retry-After.
    pub(super) fn later(headers: &HeaderMap, reason: String) -> Outcome {
        Outcome::Retry { after: retry_after(headers), reason }
    }
}

/// A provider's answer other than 2xx.
pub(super) struct Refusal {
    pub(super) status: reqwest::StatusCode,
    pub(super) headers: HeaderMap,
    pub(super) body: bytes::Bytes,
}

impl Refusal {
    /// The first line of the body, at most 200 characters, for logs.
    pub(super) fn first_line(&self) -> String {
        let text = String::from_utf8_lossy(&self.body);
        text.lines().next().unwrap_or_default().chars().take(200).collect()
    }
}

/// What became of a request to `provider`: Ok(None) when it was accepted (2xx), Ok(the
/// refusal) when not, Err when there was no answer (an outcome worth retrying).
pub(super) async fn refusal(
    provider: &str,
    sent: Result<reqwest::Response, reqwest::Error>,
) -> Result<Option<Refusal>, Outcome> {
    let response = sent.map_err(|error| Outcome::unreachable(provider, &error))?;
    let status = response.status();
    if status.is_success() {
        return Ok(None);
    }
    let headers = response.headers().clone();
    let body = response.bytes().await.unwrap_or_default();
    Ok(Some(Refusal { status, headers, body }))
}

/// A reqwest error and its causes, without its URL: Web Push URLs and FCM tokens are
/// secrets.
fn without_url(error: &reqwest::Error) -> String {
    let kind = if error.is_timeout() {
        "timed out"
    } else if error.is_connect() {
        "could not connect"
    } else {
        "request failed"
    };
    let mut text = kind.to_string();
    let mut cause = std::error::Error::source(error);
    while let Some(error) = cause {
        text.push_str(&format!(": {error}"));
        cause = error.source();
    }
    text
}

/// The wait a Retry-After header asks for (seconds or an HTTP date), at most
/// [`LONGEST_RETRY_AFTER`].
fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let value = headers.get(RETRY_AFTER)?.to_str().ok()?.trim();
    let wait = match value.parse::<u64>() {
        Ok(seconds) => Duration::from_secs(seconds),
        Err(_) => {
            let at = httpdate(value)?;
            at.duration_since(SystemTime::now()).unwrap_or_default()
        }
    };
    Some(wait.min(LONGEST_RETRY_AFTER))
}

/// An IMF-fixdate (`Sun, 06 Nov 1994 08:49:37 GMT`), the form Retry-After dates take.
fn httpdate(value: &str) -> Option<SystemTime> {
    let at = chrono::DateTime::parse_from_rfc2822(value).ok()?;
    let ms = u64::try_from(at.timestamp_millis()).ok()?;
    Some(SystemTime::UNIX_EPOCH + Duration::from_millis(ms))
}

/// Sends alerts to the devices of one platform.
#[async_trait]
pub trait DeviceSender: Send + Sync {
    /// One attempt to alert one device.
    async fn send(&self, device: &Device, alert: &Alert) -> Outcome;
}

/// The senders configured; a platform without one is not pushed to.
#[derive(Clone, Default)]
pub struct Senders {
    pub fcm: Option<Arc<dyn DeviceSender>>,
    pub apns: Option<Arc<dyn DeviceSender>>,
    pub web_push: Option<Arc<dyn DeviceSender>>,
    /// The VAPID public key browsers subscribe with (base64url), when Web Push is on.
    pub web_push_public_key: Option<String>,
    /// Whether Web Push subscriptions may name a push service on this machine over http.
    pub loopback_endpoints: bool,
}

impl Senders {
    pub fn for_platform(&self, platform: Platform) -> Option<&Arc<dyn DeviceSender>> {
        match platform {
            Platform::Fcm => self.fcm.as_ref(),
            Platform::Apns => self.apns.as_ref(),
            Platform::WebPush => self.web_push.as_ref(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.fcm.is_none() && self.apns.is_none() && self.web_push.is_none()
    }
}

/// An HTTP client for a provider: `http2` to speak HTTP/2 only (APNs; over plain HTTP,
/// for local test servers, with prior knowledge).
pub(super) fn client(http2: bool, endpoint: &str) -> reqwest::Client {
    let mut builder = reqwest::Client::builder().timeout(ATTEMPT_TIMEOUT);
    if http2 && endpoint.starts_with("http://") {
        builder = builder.http2_prior_knowledge();
    }
    builder.build().expect("an HTTP client with rustls builds")
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    #[test]
    fn retry_after_takes_seconds_or_a_date_and_is_bounded() {
        let mut headers = HeaderMap::new();
        assert_eq!(retry_after(&headers), None);
        headers.insert(RETRY_AFTER, HeaderValue::from_static("7"));
        assert_eq!(retry_after(&headers), Some(Duration::from_secs(7)));
        headers.insert(RETRY_AFTER, HeaderValue::from_static("86400"));
        assert_eq!(retry_after(&headers), Some(LONGEST_RETRY_AFTER));
        headers.insert(RETRY_AFTER, HeaderValue::from_static("Sun, 06 Nov 1994 08:49:37 GMT"));
        assert_eq!(retry_after(&headers), Some(Duration::ZERO), "a date past is now");
    }
}
