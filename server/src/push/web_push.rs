//! The Web Push sender (RFC 8030): the alert encrypted for the browser's subscription
//! (RFC 8291), POSTed to the subscription's endpoint with a VAPID signature (RFC 8292).

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use p256::SecretKey;
use p256::elliptic_curve::sec1::ToEncodedPoint;
use p256::pkcs8::{DecodePrivateKey, EncodePrivateKey};
use serde::Serialize;

use super::ece;
use super::sender::{Alert, DeviceSender, Outcome, client, refusal};
use crate::model::{Device, DeviceAddress};

/// How long the push service keeps an alert for a browser that is offline.
const TTL_SECS: u32 = 24 * 60 * 60;
/// How long a VAPID signature is valid (RFC 8292 allows up to 24 hours).
const VAPID_VALID_SECS: i64 = 12 * 60 * 60;
/// How long a signature is used before a new one is made.
const VAPID_REUSE: Duration = Duration::from_secs(6 * 60 * 60);

/// The application server's VAPID key pair and contact.
pub(super) struct Vapid {
    signing: EncodingKey,
    /// The uncompressed public key, base64url: what browsers subscribe with.
    public_key: String,
    /// `mailto:` or `https:`: how the push service reaches the operator.
    subject: String,
}

impl Vapid {
    /// From a P-256 private key in PEM (PKCS#8, or SEC1 `EC PRIVATE KEY`).
    pub(super) fn from_pem(pem: &str, subject: &str) -> Result<Vapid, String> {
        let key = SecretKey::from_pkcs8_pem(pem)
            .or_else(|_| SecretKey::from_sec1_pem(pem))
            .map_err(|_| "not a P-256 private key in PEM".to_string())?;
        Ok(Vapid::from_key(&key, subject))
    }

    fn from_key(key: &SecretKey, subject: &str) -> Vapid {
        let der = key.to_pkcs8_der().expect("a P-256 key encodes");
        let public = key.public_key().to_encoded_point(false);
        Vapid {
            signing: EncodingKey::from_ec_der(der.as_bytes()),
            public_key: URL_SAFE_NO_PAD.encode(public.as_bytes()),
            subject: subject.to_string(),
        }
    }

    pub(super) fn public_key(&self) -> &str {
        &self.public_key
    }
}

#[derive(Serialize)]
struct VapidClaims<'a> {
    aud: &'a str,
    exp: i64,
    sub: &'a str,
}

pub(super) struct WebPushSender {
    vapid: Vapid,
    client: reqwest::Client,
    /// Signatures made, per push service origin, and when each was made.
    signatures: Mutex<HashMap<String, (String, Instant)>>,
}

impl WebPushSender {
    pub(super) fn new(vapid: Vapid) -> WebPushSender {
        WebPushSender { vapid, client: client(false, ""), signatures: Mutex::default() }
    }

    /// The `Authorization` header for a push service: `vapid t=<JWT>, k=<public key>`.
    fn authorization(&self, endpoint: &str) -> Result<String, String> {
        let audience = origin(endpoint).ok_or("the endpoint is not a URL")?;
        let mut signatures = self.signatures.lock().expect("signatures lock poisoned");
        if let Some((token, made)) = signatures.get(audience)
            && made.elapsed() < VAPID_REUSE
        {
            return Ok(format!("vapid t={token}, k={}", self.vapid.public_key));
        }
        let claims = VapidClaims {
            aud: audience,
            exp: switchboard_proto::ids::now_ms() / 1000 + VAPID_VALID_SECS,
            sub: &self.vapid.subject,
        };
        let token =
            jsonwebtoken::encode(&Header::new(Algorithm::ES256), &claims, &self.vapid.signing)
                .map_err(|e| format!("VAPID signature: {e}"))?;
        signatures.insert(audience.to_string(), (token.clone(), Instant::now()));
        Ok(format!("vapid t={token}, k={}", self.vapid.public_key))
    }
}

/// A new VAPID key: a P-256 private key in PEM (PKCS#8).
pub fn new_vapid_key_pem() -> String {
    let key = ece::random_key();
    key.to_pkcs8_pem(p256::pkcs8::LineEnding::LF).expect("a P-256 key encodes").to_string()
}

/// `https://host[:port]` of a URL.
fn origin(url: &str) -> Option<&str> {
    let (_, rest) = url.split_once("://")?;
    let host_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    Some(&url[..url.len() - rest.len() + host_end])
}

#[async_trait]
impl DeviceSender for WebPushSender {
    async fn send(&self, device: &Device, alert: &Alert) -> Outcome {
        let DeviceAddress::WebPush { endpoint, p256dh, auth } = &device.address else {
            return Outcome::Failed("not a Web Push subscription".into());
        };
        let keys = (URL_SAFE_NO_PAD.decode(p256dh), URL_SAFE_NO_PAD.decode(auth));
        let (Ok(p256dh), Ok(auth)) = keys else {
            return Outcome::Unregistered("the subscription's keys are not base64url".into());
        };
        let payload = serde_json::to_vec(alert).expect("an alert serializes");
        let body = match ece::encrypt(&payload, &p256dh, &auth) {
            Ok(body) => body,
            Err(reason) => return Outcome::Unregistered(reason),
        };
        let authorization = match self.authorization(endpoint) {
            Ok(authorization) => authorization,
            Err(reason) => return Outcome::Failed(reason),
        };
        let answer = self
            .client
            .post(endpoint)
            .header("authorization", authorization)
            .header("content-encoding", "aes128gcm")
            .header("content-type", "application/octet-stream")
            .header("ttl", TTL_SECS.to_string())
            .header("urgency", "high")
            .header("topic", alert.collapse_key())
            .body(body)
            .send()
            .await;
        let refused = match refusal("the push service", answer).await {
            Ok(None) => return Outcome::Delivered,
            Ok(Some(refused)) => refused,
            Err(outcome) => return outcome,
        };
        // Only the status: the endpoint is the user's to choose, so what answers it is
        // not theirs to read (TestPush shows the reason).
        let status = refused.status;
        let reason = format!("push service answered {status}");
        match status.as_u16() {
            404 | 410 => Outcome::Unregistered(reason),
            429 | 500..=599 => Outcome::later(&refused.headers, reason),
            _ => Outcome::Failed(reason),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_audience_is_the_endpoints_origin() {
        assert_eq!(
            origin("https://fcm.googleapis.com/fcm/send/abc"),
            Some("https://fcm.googleapis.com")
        );
        assert_eq!(origin("http://127.0.0.1:9/push/1?x"), Some("http://127.0.0.1:9"));
        assert_eq!(origin("https://push.example"), Some("https://push.example"));
        assert_eq!(origin("no scheme"), None);
    }

    #[test]
    fn signatures_are_reused_per_origin() {
        let vapid = Vapid::from_key(&ece::random_key(), "mailto:ops@example.com");
        let public = vapid.public_key().to_string();
        assert_eq!(URL_SAFE_NO_PAD.decode(&public).expect("base64url").len(), 65);
        let sender = WebPushSender::new(vapid);
        let one = sender.authorization("https://a.example/1").expect("signs");
        assert_eq!(sender.authorization("https://a.example/2").expect("signs"), one);
        assert_ne!(sender.authorization("https://b.example/1").expect("signs"), one);
        assert!(one.ends_with(&format!(", k={public}")));
    }
}
