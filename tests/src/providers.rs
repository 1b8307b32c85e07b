//! Local push providers for tests: FCM (with its OAuth2 token endpoint), APNs (HTTP/2
//! only) and a Web Push service, on one port. Each checks what the real one checks (the
//! service account's signed assertion and the access token it bought; the provider
//! token's ES256 signature, key id and team; the VAPID signature and audience, and that
//! the payload decrypts with the subscription's keys) and answers as a test scripts it:
//! accepted, unregistered, throttled or unavailable with Retry-After.

use std::collections::{HashMap, HashSet, VecDeque};
use std::net::SocketAddr;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use aes_gcm::aead::{Aead, KeyInit};
use aes_gcm::{Aes128Gcm, Nonce};
use axum::Form;
use axum::extract::{Path as UrlPath, Request, State};
use axum::http::{HeaderMap, StatusCode, Version};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hkdf::Hkdf;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use p256::SecretKey;
use p256::elliptic_curve::sec1::ToEncodedPoint;
use p256::pkcs8::{EncodePrivateKey, EncodePublicKey, LineEnding};
use serde::Deserialize;
use sha2::Sha256;
use tokio::sync::Notify;

/// The fixture keys: the FCM service account's (RSA) and the APNs signing key (P-256).
const FCM_KEY: &str = include_str!("../fixtures/rsa-private.pem");
const FCM_PUBLIC: &str = include_str!("../fixtures/rsa-public.pem");
const APNS_KEY: &str = include_str!("../fixtures/ec-private.pem");
const APNS_PUBLIC: &str = include_str!("../fixtures/ec-public.pem");
pub const APNS_KEY_ID: &str = "TESTKEY123";
pub const APNS_TEAM_ID: &str = "TESTTEAM12";
const FCM_EMAIL: &str = "push@switchboard-test.iam.gserviceaccount.com";
pub const FCM_PROJECT: &str = "switchboard-test";

/// How a provider answers one request for a device.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Answer {
    Accept,
    /// FCM 404 UNREGISTERED, APNs 410 Unregistered, Web Push 410 Gone.
    Unregistered,
    /// 429 with Retry-After (seconds).
    Throttle(u32),
    /// 503 with Retry-After (seconds).
    Unavailable(u32),
    /// The credentials expired: FCM 401 (the access token), APNs 403
    /// ExpiredProviderToken. (Web Push has none that expire: 403, not retried.)
    Expired,
}

/// One push a provider took (whatever it answered).
#[derive(Debug, Clone)]
pub struct Delivery {
    /// `fcm`, `apns` or `web_push`.
    pub platform: &'static str,
    /// The FCM or APNs token, or the Web Push subscription's id.
    pub device: String,
    pub title: String,
    pub body: String,
    pub badge: u64,
    pub collapse_key: String,
    /// The notification's fields (`conversation_id`, `reason`, ...).
    pub data: serde_json::Value,
    pub answered: Answer,
    pub at: Instant,
}

/// A browser's push subscription: what it registers, and the keys it decrypts with.
pub struct Subscription {
    pub id: String,
    pub endpoint: String,
    secret: SecretKey,
    auth: [u8; 16],
}

impl Subscription {
    /// `keys.p256dh` (base64url).
    pub fn p256dh(&self) -> String {
        URL_SAFE_NO_PAD.encode(self.secret.public_key().to_encoded_point(false).as_bytes())
    }

    /// `keys.auth` (base64url).
    pub fn auth(&self) -> String {
        URL_SAFE_NO_PAD.encode(self.auth)
    }
}

#[derive(Default)]
struct Provider {
    /// Access tokens the FCM token endpoint sold that are still good.
    access_tokens: Mutex<HashSet<String>>,
    /// How many it sold.
    tokens_sold: Mutex<usize>,
    /// The subscriptions' decryption keys, by id.
    subscriptions: Mutex<HashMap<String, (SecretKey, [u8; 16])>>,
    /// The VAPID public key pushes must be signed with (base64url).
    vapid_public: Mutex<String>,
    /// Scripted answers per device, first to last; then Accept.
    script: Mutex<HashMap<String, VecDeque<Answer>>>,
    deliveries: Mutex<Vec<Delivery>>,
    /// Requests refused for not being what the provider accepts, and why.
    rejected: Mutex<Vec<String>>,
    arrived: Notify,
    /// Its own origin (`http://127.0.0.1:<port>`): the token URI and VAPID audience.
    origin: Mutex<String>,
}

pub struct PushProviders {
    pub address: SocketAddr,
    provider: Arc<Provider>,
    server: tokio::task::JoinHandle<()>,
}

impl PushProviders {
    pub async fn start() -> PushProviders {
        let provider = Arc::new(Provider::default());
        let app = axum::Router::new()
            .route("/fcm/token", post(fcm_token))
            .route("/fcm/v1/projects/{project}/{call}", post(fcm_send))
            .route("/apns/3/device/{token}", post(apns_send))
            .route("/webpush/{id}", post(web_push))
            .with_state(provider.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let address = listener.local_addr().expect("address");
        *provider.origin.lock().unwrap() = format!("http://{address}");
        let server = tokio::spawn(async move {
            axum::serve(listener, app).await.expect("the push providers serve");
        });
        PushProviders { address, provider, server }
    }

    fn origin(&self) -> String {
        format!("http://{}", self.address)
    }

    /// Writes the credentials the senders need into `dir` and configures them, all three
    /// pointed here.
    pub fn configure(&self, dir: &Path, config: &mut switchboard_server::config::Config) {
        use switchboard_server::push::{ApnsConfig, FcmConfig, WebPushConfig};
        let account = serde_json::json!({
            "type": "service_account",
            "project_id": FCM_PROJECT,
            "client_email": FCM_EMAIL,
            "private_key": FCM_KEY,
            "token_uri": format!("{}/fcm/token", self.origin()),
        });
        let account_file = dir.join("fcm-service-account.json");
        std::fs::write(&account_file, account.to_string()).expect("write the account");
        let apns_file = dir.join("apns.p8");
        std::fs::write(&apns_file, APNS_KEY).expect("write the APNs key");
        let vapid = random_key();
        let vapid_file = dir.join("vapid.pem");
        let pem = vapid.to_pkcs8_pem(LineEnding::LF).expect("PEM");
        std::fs::write(&vapid_file, pem.as_bytes()).expect("write the VAPID key");
        *self.provider.vapid_public.lock().unwrap() =
            URL_SAFE_NO_PAD.encode(vapid.public_key().to_encoded_point(false).as_bytes());
        let n = &mut config.notifications;
        n.fcm = Some(FcmConfig {
            service_account_file: account_file,
            endpoint: format!("{}/fcm", self.origin()),
        });
        n.apns = Some(ApnsConfig {
            key_file: apns_file,
            key_id: APNS_KEY_ID.into(),
            team_id: APNS_TEAM_ID.into(),
            endpoint: format!("{}/apns", self.origin()),
        });
        n.web_push = Some(WebPushConfig {
            vapid_key_file: vapid_file,
            subject: "mailto:ops@switchboard.test".into(),
            allow_loopback_endpoints: true,
        });
        n.push_first_retry_ms = 50;
    }

    /// The VAPID public key pushes are to be signed with.
    pub fn vapid_public_key(&self) -> String {
        self.provider.vapid_public.lock().unwrap().clone()
    }

    /// A new browser subscription at this Web Push service.
    pub fn subscribe(&self) -> Subscription {
        let secret = random_key();
        let auth: [u8; 16] = rand::random();
        let id = format!("sub{}", rand::random::<u32>());
        self.provider.subscriptions.lock().unwrap().insert(id.clone(), (secret.clone(), auth));
        Subscription { endpoint: format!("{}/webpush/{id}", self.origin()), id, secret, auth }
    }

    /// The next answers for a device (a token, or a subscription's id).
    pub fn script(&self, device: &str, answers: &[Answer]) {
        let mut script = self.provider.script.lock().unwrap();
        script.entry(device.to_string()).or_default().extend(answers);
    }

    pub fn deliveries(&self) -> Vec<Delivery> {
        self.provider.deliveries.lock().unwrap().clone()
    }

    /// Requests refused as malformed or badly signed (none, when the senders are right).
    pub fn rejected(&self) -> Vec<String> {
        self.provider.rejected.lock().unwrap().clone()
    }

    /// How many access tokens the FCM token endpoint sold.
    pub fn access_tokens_sold(&self) -> usize {
        *self.provider.tokens_sold.lock().unwrap()
    }

    /// Waits until `count` pushes were accepted in all, and returns every delivery.
    pub async fn accepted(&self, count: usize) -> Vec<Delivery> {
        let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(15);
        loop {
            let arrived = self.provider.arrived.notified();
            let deliveries = self.deliveries();
            if deliveries.iter().filter(|d| d.answered == Answer::Accept).count() >= count {
                return deliveries;
            }
            if tokio::time::timeout_at(deadline, arrived).await.is_err() {
                let rejected = self.rejected();
                panic!(
                    "{count} accepted pushes never came; got {deliveries:#?}, rejected {rejected:?}"
                );
            }
        }
    }
}

impl Drop for PushProviders {
    fn drop(&mut self) {
        self.server.abort();
    }
}

fn random_key() -> SecretKey {
    loop {
        if let Ok(key) = SecretKey::from_bytes(&rand::random::<[u8; 32]>().into()) {
            return key;
        }
    }
}

impl Provider {
    fn reject(&self, why: String) -> Response {
        self.rejected.lock().unwrap().push(why.clone());
        (StatusCode::BAD_REQUEST, why).into_response()
    }

    /// Records a push and answers it as scripted.
    fn answer(&self, mut delivery: Delivery) -> Answer {
        let next =
            self.script.lock().unwrap().get_mut(&delivery.device).and_then(|q| q.pop_front());
        delivery.answered = next.unwrap_or(Answer::Accept);
        let answered = delivery.answered;
        self.deliveries.lock().unwrap().push(delivery);
        self.arrived.notify_waiters();
        answered
    }
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> &'a str {
    headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or_default()
}

/// 200 with a JSON body.
fn json(body: serde_json::Value) -> Response {
    ([("content-type", "application/json")], body.to_string()).into_response()
}

/// A status with Retry-After and a body.
fn later(status: StatusCode, seconds: u32, body: String) -> Response {
    (status, [("retry-after", seconds.to_string())], body).into_response()
}

#[derive(Deserialize)]
struct TokenForm {
    grant_type: String,
    assertion: String,
}

#[derive(Deserialize)]
struct Assertion {
    iss: String,
    scope: String,
}

/// Google's token endpoint: a service account's RS256 assertion buys an access token.
async fn fcm_token(State(p): State<Arc<Provider>>, Form(form): Form<TokenForm>) -> Response {
    if form.grant_type != "urn:ietf:params:oauth:grant-type:jwt-bearer" {
        return p.reject(format!("grant_type {}", form.grant_type));
    }
    let mut validation = Validation::new(Algorithm::RS256);
    let token_uri = format!("{}/fcm/token", p.origin.lock().unwrap());
    validation.set_audience(&[token_uri]);
    let key = DecodingKey::from_rsa_pem(FCM_PUBLIC.as_bytes()).expect("the fixture key");
    let claims = match jsonwebtoken::decode::<Assertion>(&form.assertion, &key, &validation) {
        Ok(data) => data.claims,
        Err(error) => return p.reject(format!("assertion: {error}")),
    };
    if claims.iss != FCM_EMAIL || !claims.scope.contains("firebase.messaging") {
        return p.reject(format!("assertion claims: {} {}", claims.iss, claims.scope));
    }
    let token = format!("ya29.{}", rand::random::<u64>());
    p.access_tokens.lock().unwrap().insert(token.clone());
    *p.tokens_sold.lock().unwrap() += 1;
    let body =
        serde_json::json!({"access_token": token, "expires_in": 3599, "token_type": "Bearer"});
    json(body)
}

/// FCM's HTTP v1 `messages:send`.
async fn fcm_send(
    State(p): State<Arc<Provider>>,
    UrlPath((project, call)): UrlPath<(String, String)>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    if project != FCM_PROJECT || call != "messages:send" {
        return p.reject(format!("FCM path {project}/{call}"));
    }
    let bearer = header(&headers, "authorization").strip_prefix("Bearer ").unwrap_or_default();
    if !p.access_tokens.lock().unwrap().contains(bearer) {
        return (StatusCode::UNAUTHORIZED, "UNAUTHENTICATED").into_response();
    }
    let Ok(request) = serde_json::from_slice::<serde_json::Value>(&body) else {
        return p.reject("FCM body is not JSON".into());
    };
    let m = &request["message"];
    let text = |v: &serde_json::Value| v.as_str().unwrap_or_default().to_string();
    let delivery = Delivery {
        platform: "fcm",
        device: text(&m["token"]),
        title: text(&m["notification"]["title"]),
        body: text(&m["notification"]["body"]),
        badge: m["android"]["notification"]["notification_count"].as_u64().unwrap_or(0),
        collapse_key: text(&m["android"]["collapse_key"]),
        data: m["data"].clone(),
        answered: Answer::Accept,
        at: Instant::now(),
    };
    let error = |code: u16, status: &str, error_code: &str| {
        serde_json::json!({"error": {"code": code, "status": status, "message": "scripted",
            "details": [{"@type": "type.googleapis.com/google.firebase.fcm.v1.FcmError", "errorCode": error_code}]}})
        .to_string()
    };
    match p.answer(delivery) {
        Answer::Accept => json(serde_json::json!({"name": "projects/x/messages/1"})),
        Answer::Unregistered => {
            (StatusCode::NOT_FOUND, error(404, "NOT_FOUND", "UNREGISTERED")).into_response()
        }
        Answer::Throttle(s) => later(
            StatusCode::TOO_MANY_REQUESTS,
            s,
            error(429, "RESOURCE_EXHAUSTED", "QUOTA_EXCEEDED"),
        ),
        Answer::Unavailable(s) => {
            later(StatusCode::SERVICE_UNAVAILABLE, s, error(503, "UNAVAILABLE", "UNAVAILABLE"))
        }
        Answer::Expired => {
            // The token is no longer good: it must be bought again.
            p.access_tokens.lock().unwrap().remove(bearer);
            (StatusCode::UNAUTHORIZED, error(401, "UNAUTHENTICATED", "THIRD_PARTY_AUTH_ERROR"))
                .into_response()
        }
    }
}

#[derive(Deserialize)]
struct ProviderToken {
    iss: String,
    iat: i64,
}

/// APNs' `POST /3/device/<token>`, over HTTP/2 only.
async fn apns_send(
    State(p): State<Arc<Provider>>,
    UrlPath(token): UrlPath<String>,
    request: Request,
) -> Response {
    if request.version() != Version::HTTP_2 {
        return p.reject(format!("APNs over {:?}", request.version()));
    }
    let headers = request.headers().clone();
    let jwt = header(&headers, "authorization").strip_prefix("bearer ").unwrap_or_default();
    let key = DecodingKey::from_ec_pem(APNS_PUBLIC.as_bytes()).expect("the fixture key");
    let mut validation = Validation::new(Algorithm::ES256);
    validation.required_spec_claims.clear();
    validation.validate_exp = false;
    let decoded = match jsonwebtoken::decode::<ProviderToken>(jwt, &key, &validation) {
        Ok(decoded) => decoded,
        Err(error) => {
            let body = serde_json::json!({"reason": "InvalidProviderToken"}).to_string();
            p.rejected.lock().unwrap().push(format!("APNs provider token: {error}"));
            return (StatusCode::FORBIDDEN, body).into_response();
        }
    };
    let age = switchboard_proto::ids::now_ms() / 1000 - decoded.claims.iat;
    if decoded.header.kid.as_deref() != Some(APNS_KEY_ID)
        || decoded.claims.iss != APNS_TEAM_ID
        || !(0..3600).contains(&age)
    {
        return p.reject(format!(
            "APNs provider token {:?} {}",
            decoded.header.kid, decoded.claims.iss
        ));
    }
    if header(&headers, "apns-topic").is_empty() || header(&headers, "apns-push-type") != "alert" {
        return p.reject("APNs topic or push type missing".into());
    }
    let body = axum::body::to_bytes(request.into_body(), 1 << 20).await.unwrap_or_default();
    if body.len() > 4096 {
        return (StatusCode::PAYLOAD_TOO_LARGE, r#"{"reason":"PayloadTooLarge"}"#).into_response();
    }
    let Ok(payload) = serde_json::from_slice::<serde_json::Value>(&body) else {
        return p.reject("APNs body is not JSON".into());
    };
    let text = |v: &serde_json::Value| v.as_str().unwrap_or_default().to_string();
    let delivery = Delivery {
        platform: "apns",
        device: token,
        title: text(&payload["aps"]["alert"]["title"]),
        body: text(&payload["aps"]["alert"]["body"]),
        badge: payload["aps"]["badge"].as_u64().unwrap_or(0),
        collapse_key: header(&headers, "apns-collapse-id").to_string(),
        data: payload["switchboard"].clone(),
        answered: Answer::Accept,
        at: Instant::now(),
    };
    let reason = |reason: &str| serde_json::json!({ "reason": reason }).to_string();
    match p.answer(delivery) {
        Answer::Accept => StatusCode::OK.into_response(),
        Answer::Unregistered => (StatusCode::GONE, reason("Unregistered")).into_response(),
        Answer::Throttle(s) => later(StatusCode::TOO_MANY_REQUESTS, s, reason("TooManyRequests")),
        Answer::Unavailable(s) => {
            later(StatusCode::SERVICE_UNAVAILABLE, s, reason("ServiceUnavailable"))
        }
        Answer::Expired => (StatusCode::FORBIDDEN, reason("ExpiredProviderToken")).into_response(),
    }
}

#[derive(Deserialize)]
struct VapidClaims {
    sub: String,
}

/// A Web Push service's push endpoint (RFC 8030) for one subscription.
async fn web_push(
    State(p): State<Arc<Provider>>,
    UrlPath(id): UrlPath<String>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    // VAPID (RFC 8292): `vapid t=<JWT>, k=<public key>`, signed for this origin.
    let authorization = header(&headers, "authorization");
    let Some((t, k)) =
        authorization.strip_prefix("vapid t=").and_then(|rest| rest.split_once(", k="))
    else {
        return p.reject(format!("Web Push authorization {authorization:?}"));
    };
    if k != *p.vapid_public.lock().unwrap() {
        return p.reject("VAPID key is not the server's".into());
    }
    let public =
        URL_SAFE_NO_PAD.decode(k).ok().and_then(|k| p256::PublicKey::from_sec1_bytes(&k).ok());
    let Some(public) = public else { return p.reject("VAPID k is not a P-256 key".into()) };
    let pem = public.to_public_key_pem(LineEnding::LF).expect("PEM");
    let key = DecodingKey::from_ec_pem(pem.as_bytes()).expect("a P-256 key");
    let mut validation = Validation::new(Algorithm::ES256);
    validation.set_audience(&[p.origin.lock().unwrap().clone()]);
    let claims = match jsonwebtoken::decode::<VapidClaims>(t, &key, &validation) {
        Ok(data) => data.claims,
        Err(error) => return p.reject(format!("VAPID: {error}")),
    };
    if !claims.sub.starts_with("mailto:") && !claims.sub.starts_with("https://") {
        return p.reject(format!("VAPID sub {}", claims.sub));
    }
    if header(&headers, "content-encoding") != "aes128gcm" || header(&headers, "ttl").is_empty() {
        return p.reject("Web Push needs aes128gcm and a TTL".into());
    }
    let keys = p.subscriptions.lock().unwrap().get(&id).cloned();
    let Some((secret, auth)) = keys else {
        return (StatusCode::GONE, "no such subscription").into_response();
    };
    let Some(plaintext) = decrypt(&body, &secret, &auth) else {
        return p.reject("the payload does not decrypt with the subscription's keys".into());
    };
    let Ok(alert) = serde_json::from_slice::<serde_json::Value>(&plaintext) else {
        return p.reject("the decrypted payload is not JSON".into());
    };
    let text = |v: &serde_json::Value| v.as_str().unwrap_or_default().to_string();
    let delivery = Delivery {
        platform: "web_push",
        device: id,
        title: text(&alert["title"]),
        body: text(&alert["body"]),
        badge: alert["badge"].as_u64().unwrap_or(0),
        collapse_key: header(&headers, "topic").to_string(),
        data: alert,
        answered: Answer::Accept,
        at: Instant::now(),
    };
    match p.answer(delivery) {
        Answer::Accept => StatusCode::CREATED.into_response(),
        Answer::Unregistered => (StatusCode::GONE, "subscription expired").into_response(),
        Answer::Throttle(s) => later(StatusCode::TOO_MANY_REQUESTS, s, "slow down".into()),
        Answer::Unavailable(s) => later(StatusCode::SERVICE_UNAVAILABLE, s, "unavailable".into()),
        Answer::Expired => (StatusCode::FORBIDDEN, "VAPID refused").into_response(),
    }
}

/// A browser's side of RFC 8291: the payload, decrypted with the subscription's keys.
fn decrypt(body: &[u8], secret: &SecretKey, auth: &[u8; 16]) -> Option<Vec<u8>> {
    let salt = body.get(..16)?;
    let key_length = *body.get(20)? as usize;
    let sender = p256::PublicKey::from_sec1_bytes(body.get(21..21 + key_length)?).ok()?;
    let ciphertext = body.get(21 + key_length..)?;
    let shared = p256::ecdh::diffie_hellman(secret.to_nonzero_scalar(), sender.as_affine());
    let mut info = b"WebPush: info\0".to_vec();
    info.extend_from_slice(secret.public_key().to_encoded_point(false).as_bytes());
    info.extend_from_slice(sender.to_encoded_point(false).as_bytes());
    let mut ikm = [0u8; 32];
    Hkdf::<Sha256>::new(Some(auth), shared.raw_secret_bytes()).expand(&info, &mut ikm).ok()?;
    let prk = Hkdf::<Sha256>::new(Some(salt), &ikm);
    let (mut key, mut nonce) = ([0u8; 16], [0u8; 12]);
    prk.expand(b"Content-Encoding: aes128gcm\0", &mut key).ok()?;
    prk.expand(b"Content-Encoding: nonce\0", &mut nonce).ok()?;
    let cipher = Aes128Gcm::new_from_slice(&key).ok()?;
    let mut record = cipher.decrypt(&Nonce::from(nonce), ciphertext).ok()?;
    // Padding, then the last record's delimiter (2).
    while record.last() == Some(&0) {
        record.pop();
    }
    (record.pop()? == 2).then_some(record)
}
