//! Minting tokens in the shape Switchboard verifies: `sub`, `org`, space-separated `scope`,
//! `exp`, `iat`, optional `name`. For dev setups (`sbctl token mint`) and tests; production
//! tokens come from the identity provider.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde::Serialize;

/// Every scope Switchboard checks, for tokens that may do everything.
pub const ALL_SCOPES: [&str; 11] = [
    "chat.read",
    "chat.write",
    "chat.teams.manage",
    "chat.files",
    "chat.admin",
    "user.profile.view",
    "user.profile.edit",
    "user.profile.upload_avatar",
    "user.profile.search_users",
    "user.profile.view_any",
    "user.contacts.manage",
];

/// The scopes an ordinary chat user gets by default: everything but `chat.admin` and
/// `user.profile.view_any`.
pub const USER_SCOPES: [&str; 9] = [
    "chat.read",
    "chat.write",
    "chat.teams.manage",
    "chat.files",
    "user.profile.view",
    "user.profile.edit",
    "user.profile.upload_avatar",
    "user.profile.search_users",
    "user.contacts.manage",
];

/// What goes into a token.
#[derive(Debug, Clone)]
pub struct TokenSpec {
    pub user: String,
    pub org: String,
    pub scopes: Vec<String>,
    pub ttl: Duration,
    pub name: Option<String>,
}

impl TokenSpec {
    /// A one-hour token with the ordinary user scopes.
    pub fn new(user: &str, org: &str) -> TokenSpec {
        TokenSpec {
            user: user.into(),
            org: org.into(),
            scopes: USER_SCOPES.map(String::from).to_vec(),
            ttl: Duration::from_secs(3600),
            name: None,
        }
    }

    pub fn scopes(mut self, scopes: &[&str]) -> TokenSpec {
        self.scopes = scopes.iter().map(|s| s.to_string()).collect();
        self
    }

    pub fn ttl(mut self, ttl: Duration) -> TokenSpec {
        self.ttl = ttl;
        self
    }

    /// The `name` claim: the display name the user's profile starts with.
    pub fn name(mut self, name: &str) -> TokenSpec {
        self.name = Some(name.into());
        self
    }
}

/// The key a token is signed with.
#[derive(Clone)]
pub enum SigningKey {
    /// HS256 with a shared secret (what `switchboard dev` verifies with).
    Hs256(Vec<u8>),
    /// A PEM private key (RSA, EC or Ed25519) and the algorithm to sign with.
    Pem { algorithm: Algorithm, pem: Vec<u8> },
}

#[derive(Serialize)]
struct Claims<'a> {
    sub: &'a str,
    org: &'a str,
    scope: String,
    iat: u64,
    exp: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    name: Option<&'a str>,
}

/// Signs a token for `spec`.
pub fn mint(spec: &TokenSpec, key: &SigningKey) -> Result<String, jsonwebtoken::errors::Error> {
    let now = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
    mint_at(spec, key, now)
}

/// Signs a token as if it were `now` (seconds since the Unix epoch): for expired tokens.
pub fn mint_at(
    spec: &TokenSpec,
    key: &SigningKey,
    now: u64,
) -> Result<String, jsonwebtoken::errors::Error> {
    let claims = Claims {
        sub: &spec.user,
        org: &spec.org,
        scope: spec.scopes.join(" "),
        iat: now,
        exp: now + spec.ttl.as_secs(),
        name: spec.name.as_deref(),
    };
    let (algorithm, encoding_key) = match key {
        SigningKey::Hs256(secret) => (Algorithm::HS256, EncodingKey::from_secret(secret)),
        SigningKey::Pem { algorithm, pem } => {
            let key = match algorithm {
                Algorithm::ES256 | Algorithm::ES384 => EncodingKey::from_ec_pem(pem)?,
                Algorithm::EdDSA => EncodingKey::from_ed_pem(pem)?,
                _ => EncodingKey::from_rsa_pem(pem)?,
            };
            (*algorithm, key)
        }
    };
    jsonwebtoken::encode(&Header::new(algorithm), &claims, &encoding_key)
}
