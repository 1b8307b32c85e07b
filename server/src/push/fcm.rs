//! The FCM sender: Firebase Cloud Messaging's HTTP v1 API, authorized by an OAuth2 access
//! token that a service account's key buys (a signed JWT exchanged at its `token_uri`),
//! kept until shortly before it expires.

use std::time::{Duration, Instant};

use async_trait::async_trait;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde::{Deserialize, Serialize};
use serde_json::json;
use tokio::sync::Mutex;

use super::sender::{Alert, DeviceSender, Outcome, client, refusal};
use crate::model::{Device, DeviceAddress};

/// What FCM sends need access to.
const SCOPE: &str = "https://www.googleapis.com/auth/firebase.messaging";
/// An access token is bought again this long before it expires.
const REFRESH_BEFORE: Duration = Duration::from_secs(300);

/// The fields of a Google service account key file (JSON) that FCM needs.
#[derive(Debug, Clone, Deserialize)]
pub(super) struct ServiceAccount {
    project_id: String,
    client_email: String,
    /// PEM, PKCS#8 RSA.
    private_key: String,
    /// Where access tokens are bought (Google's, or a local test server's).
    token_uri: String,
}

#[derive(Serialize)]
struct Assertion<'a> {
    iss: &'a str,
    scope: &'a str,
    aud: &'a str,
    iat: i64,
    exp: i64,
}

#[derive(Deserialize)]
struct AccessToken {
    access_token: String,
    expires_in: u64,
}

pub(super) struct FcmSender {
    account: ServiceAccount,
    key: EncodingKey,
    /// `<endpoint>/v1/projects/<project>/messages:send`.
    send_url: String,
    client: reqwest::Client,
    /// The access token and when it is to be bought again; one purchase at a time.
    token: Mutex<Option<(String, Instant)>>,
}

impl FcmSender {
    /// For a service account key file's JSON; `endpoint` is FCM's base URL.
    pub(super) fn new(account_json: &str, endpoint: &str) -> Result<FcmSender, String> {
        let account: ServiceAccount = serde_json::from_str(account_json)
            .map_err(|e| format!("not a service account key file: {e}"))?;
        let key = EncodingKey::from_rsa_pem(account.private_key.as_bytes())
            .map_err(|_| "private_key is not an RSA key in PEM".to_string())?;
        let send_url = format!(
            "{}/v1/projects/{}/messages:send",
            endpoint.trim_end_matches('/'),
            account.project_id
        );
        Ok(FcmSender {
            account,
            key,
            send_url,
            client: client(false, endpoint),
            token: Mutex::default(),
        })
    }

    /// The access token, bought when there is none or it is about to expire.
    async fn access_token(&self) -> Result<String, Outcome> {
        let mut token = self.token.lock().await;
        if let Some((token, renew_at)) = token.as_ref()
            && Instant::now() < *renew_at
        {
            return Ok(token.clone());
        }
        let now = switchboard_proto::ids::now_ms() / 1000;
        let assertion = Assertion {
            iss: &self.account.client_email,
            scope: SCOPE,
            aud: &self.account.token_uri,
            iat: now,
            exp: now + 3600,
        };
        let jwt = jsonwebtoken::encode(&Header::new(Algorithm::RS256), &assertion, &self.key)
            .map_err(|e| Outcome::Failed(format!("service account signature: {e}")))?;
        let form =
            [("grant_type", "urn:ietf:params:oauth:grant-type:jwt-bearer"), ("assertion", &jwt)];
        let sent = self.client.post(&self.account.token_uri).form(&form).send().await;
        let response = sent.map_err(|e| Outcome::unreachable("the OAuth token endpoint", &e))?;
        let status = response.status();
        if !status.is_success() {
            let refused = refusal("the OAuth token endpoint", Ok(response)).await?;
            let refused = refused.expect("not a success");
            let reason =
                format!("the OAuth token endpoint answered {status}: {}", refused.first_line());
            return Err(match status.is_server_error() || status.as_u16() == 429 {
                true => Outcome::later(&refused.headers, reason),
                false => Outcome::Failed(reason),
            });
        }
        let body = response.bytes().await.unwrap_or_default();
        let bought: AccessToken = serde_json::from_slice(&body)
            .map_err(|e| Outcome::Failed(format!("the OAuth token endpoint's answer: {e}")))?;
        let lasts = Duration::from_secs(bought.expires_in).saturating_sub(REFRESH_BEFORE);
        *token = Some((bought.access_token.clone(), Instant::now() + lasts));
        Ok(bought.access_token)
    }

    /// The HTTP v1 message for one alert.
    fn message(token: &str, alert: &Alert) -> serde_json::Value {
        let collapse = alert.collapse_key();
        json!({ "message": {
            "token": token,
            "notification": { "title": alert.title, "body": alert.body },
            "data": alert.data(),
            "android": {
                "collapse_key": collapse,
                "priority": "HIGH",
                "notification": { "tag": collapse, "notification_count": alert.badge },
            },
            "apns": {
                "headers": { "apns-collapse-id": collapse },
                "payload": { "aps": { "badge": alert.badge, "thread-id": collapse } },
            },
        }})
    }
}

/// FCM's error body: `{"error": {"status", "message", "details": [{"errorCode"}]}}`.
#[derive(Deserialize, Default)]
struct ErrorBody {
    #[serde(default)]
    error: ErrorDetail,
}

#[derive(Deserialize, Default)]
struct ErrorDetail {
    #[serde(default)]
    status: String,
    #[serde(default)]
    message: String,
    #[serde(default)]
    details: Vec<serde_json::Value>,
}

impl ErrorDetail {
    /// The FCM error code (`UNREGISTERED`, `INVALID_ARGUMENT`, ...), else the status.
    fn code(&self) -> String {
        let code = self.details.iter().find_map(|d| d.get("errorCode")?.as_str());
        code.unwrap_or(&self.status).to_string()
    }
}

#[async_trait]
impl DeviceSender for FcmSender {
    async fn send(&self, device: &Device, alert: &Alert) -> Outcome {
        let DeviceAddress::Token(token) = &device.address else {
            return Outcome::Failed("not an FCM token".into());
        };
        let access = match self.access_token().await {
            Ok(access) => access,
            Err(outcome) => return outcome,
        };
        let body = serde_json::to_vec(&FcmSender::message(token, alert)).expect("serializes");
        let answer = self
            .client
            .post(&self.send_url)
            .bearer_auth(access)
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await;
        let refused = match refusal("FCM", answer).await {
            Ok(None) => return Outcome::Delivered,
            Ok(Some(refused)) => refused,
            Err(outcome) => return outcome,
        };
        let (status, headers) = (refused.status, &refused.headers);
        let error: ErrorBody = serde_json::from_slice(&refused.body).unwrap_or_default();
        let code = error.error.code();
        let message: String = error.error.message.chars().take(200).collect();
        let reason = format!("FCM answered {status} {code}: {message}");
        // An invalid token is INVALID_ARGUMENT naming the registration token; other
        // INVALID_ARGUMENTs are about the message, and say nothing of the device.
        let bad_token =
            code == "INVALID_ARGUMENT" && error.error.message.contains("registration token");
        match status.as_u16() {
            404 => Outcome::Unregistered(reason),
            _ if code == "UNREGISTERED" || bad_token => Outcome::Unregistered(reason),
            401 => {
                // The access token was refused: buy another for the next attempt.
                *self.token.lock().await = None;
                Outcome::Retry { after: None, reason }
            }
            429 | 500..=599 => Outcome::later(headers, reason),
            _ => Outcome::Failed(reason),
        }
    }
}
