//! The APNs sender: Apple's provider API over HTTP/2, authorized by a provider token (an
//! ES256 JWT made with the team's `.p8` key), made again every 50 minutes (Apple refuses
//! one older than an hour, and one made more often than every 20 minutes).

use std::sync::Mutex;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::sender::{Alert, DeviceSender, Outcome, client, refusal};
use crate::model::{Device, DeviceAddress};

/// How long one provider token is used.
const TOKEN_REUSE: Duration = Duration::from_secs(50 * 60);
/// How long APNs keeps an alert for a device that is off.
const EXPIRATION_SECS: i64 = 24 * 60 * 60;

/// The team's signing key and where to send.
pub(super) struct ApnsSender {
    key: EncodingKey,
    key_id: String,
    team_id: String,
    /// `https://api.push.apple.com`, the sandbox, or a local test server.
    endpoint: String,
    client: reqwest::Client,
    /// The provider token and when it was made.
    token: Mutex<Option<(String, Instant)>>,
}

#[derive(Serialize)]
struct ProviderClaims<'a> {
    iss: &'a str,
    iat: i64,
}

#[derive(Deserialize, Default)]
struct ErrorBody {
    #[serde(default)]
    reason: String,
}

impl ApnsSender {
    /// For the `.p8` key (PKCS#8 PEM) with its key id, of team `team_id`.
    pub(super) fn new(
        p8: &str,
        key_id: &str,
        team_id: &str,
        endpoint: &str,
    ) -> Result<ApnsSender, String> {
        let key = EncodingKey::from_ec_pem(p8.as_bytes())
            .map_err(|_| "not an ES256 (P-256) private key in PEM".to_string())?;
        Ok(ApnsSender {
            key,
            key_id: key_id.to_string(),
            team_id: team_id.to_string(),
            endpoint: endpoint.trim_end_matches('/').to_string(),
            client: client(true, endpoint),
            token: Mutex::default(),
        })
    }

    fn provider_token(&self) -> Result<String, Outcome> {
        let mut token = self.token.lock().expect("token lock poisoned");
        if let Some((token, made)) = token.as_ref()
            && made.elapsed() < TOKEN_REUSE
        {
            return Ok(token.clone());
        }
        let mut header = Header::new(Algorithm::ES256);
        header.kid = Some(self.key_id.clone());
        let claims =
            ProviderClaims { iss: &self.team_id, iat: switchboard_proto::ids::now_ms() / 1000 };
        let made = jsonwebtoken::encode(&header, &claims, &self.key)
            .map_err(|e| Outcome::Failed(format!("APNs provider token: {e}")))?;
        *token = Some((made.clone(), Instant::now()));
        Ok(made)
    }
}

#[async_trait]
impl DeviceSender for ApnsSender {
    async fn send(&self, device: &Device, alert: &Alert) -> Outcome {
        let DeviceAddress::Token(token) = &device.address else {
            return Outcome::Failed("not an APNs token".into());
        };
        let provider = match self.provider_token() {
            Ok(provider) => provider,
            Err(outcome) => return outcome,
        };
        let collapse = alert.collapse_key();
        let payload = json!({
            "aps": {
                "alert": { "title": alert.title, "body": alert.body },
                "badge": alert.badge,
                "sound": "default",
                "thread-id": collapse,
            },
            "switchboard": alert.data(),
        });
        let expiration = switchboard_proto::ids::now_ms() / 1000 + EXPIRATION_SECS;
        let answer = self
            .client
            .post(format!("{}/3/device/{token}", self.endpoint))
            .header("authorization", format!("bearer {provider}"))
            .header("apns-topic", &device.app_id)
            .header("apns-push-type", "alert")
            .header("apns-priority", "10")
            .header("apns-expiration", expiration.to_string())
            .header("apns-collapse-id", collapse)
            .header("content-type", "application/json")
            .body(serde_json::to_vec(&payload).expect("serializes"))
            .send()
            .await;
        let refused = match refusal("APNs", answer).await {
            Ok(None) => return Outcome::Delivered,
            Ok(Some(refused)) => refused,
            Err(outcome) => return outcome,
        };
        let (status, headers) = (refused.status, &refused.headers);
        let error: ErrorBody = serde_json::from_slice(&refused.body).unwrap_or_default();
        let reason = format!("APNs answered {status} {}", error.reason);
        match (status.as_u16(), error.reason.as_str()) {
            (410, _) | (400, "BadDeviceToken" | "DeviceTokenNotForTopic") => {
                Outcome::Unregistered(reason)
            }
            (403, "ExpiredProviderToken" | "InvalidProviderToken") => {
                // Make a new provider token for the next attempt.
                *self.token.lock().expect("token lock poisoned") = None;
                Outcome::Retry { after: None, reason }
            }
            (429 | 500..=599, _) => Outcome::later(headers, reason),
            _ => Outcome::Failed(reason),
        }
    }
}
