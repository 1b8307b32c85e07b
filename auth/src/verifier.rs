//! Verifies bearer JWTs: HS256 with a shared secret (dev), or RS256/ES256/EdDSA (and their
//! siblings) with public keys from PEM files or a JWKS file (production).
//!
//! Each key accepts only the algorithms configured for it, so `alg: none` and algorithm
//! confusion (an HS256 token "signed" with an RSA public key) are rejected before any
//! signature check.
//!
//! A verifier that sees the same tokens call after call (the controller's) can remember the
//! callers of tokens it verified, until they expire: a signature check (HMAC, or a far
//! costlier RSA/ECDSA one) per call is then one per token.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use quick_cache::sync::Cache;

use super::{Caller, Claims};

/// Where a verifying key comes from (config `auth.*`).
#[derive(Debug, Clone)]
pub enum KeySource {
    /// A shared secret's bytes, for HS256.
    Hs256Secret(Vec<u8>),
    /// A PEM public key file and the one algorithm it verifies.
    PublicKeyPem { algorithm: Algorithm, path: PathBuf },
    /// A JWKS file; each key's `alg` (required) decides what it verifies.
    Jwks(PathBuf),
}

/// Why a token was refused, or a key could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum VerifierError {
    #[error("cannot read key file {path}: {source}")]
    KeyFile { path: PathBuf, source: std::io::Error },
    #[error("key {path} is not usable: {reason}")]
    BadKey { path: PathBuf, reason: String },
    #[error("token has expired")]
    Expired,
    #[error("token is not valid yet (`nbf` is in the future)")]
    NotYetValid,
    #[error("token signature is invalid")]
    BadSignature,
    #[error("token algorithm `{0}` is not accepted")]
    AlgorithmNotAccepted(String),
    #[error("token is malformed (or declares an unsupported algorithm)")]
    Malformed,
    #[error("token claims are invalid: {0}")]
    BadClaims(String),
}

/// One key and the algorithm it verifies.
struct VerifyingKey {
    /// `kid` from the JWKS, matched against the token header's `kid` when both are set.
    kid: Option<String>,
    algorithm: Algorithm,
    key: DecodingKey,
}

/// Unix seconds now, by whichever clock the verifier tests `exp` and `nbf` against.
pub type Now = Arc<dyn Fn() -> u64 + Send + Sync>;

fn system_now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

/// Checks tokens against every configured key.
pub struct TokenVerifier {
    /// All keys from every configured source.
    keys: Vec<VerifyingKey>,
    /// Allowed clock skew for `exp`, in seconds.
    leeway_secs: u64,
    /// Callers of tokens verified before, by token, when remembering.
    verified: Option<Cache<String, Caller>>,
    /// The time `exp` and `nbf` are tested against (the system clock unless a node gives
    /// its own).
    now: Now,
}

impl TokenVerifier {
    /// Loads every key; fails on the first unreadable or malformed one.
    pub fn new(sources: &[KeySource], leeway_secs: u64) -> Result<Self, VerifierError> {
        let mut keys = Vec::new();
        for source in sources {
            match source {
                KeySource::Hs256Secret(secret) => keys.push(VerifyingKey {
                    kid: None,
                    algorithm: Algorithm::HS256,
                    key: DecodingKey::from_secret(secret),
                }),
                KeySource::PublicKeyPem { algorithm, path } => {
                    let pem = read(path)?;
                    let key = pem_key(*algorithm, &pem)
                        .map_err(|reason| VerifierError::BadKey { path: path.clone(), reason })?;
                    keys.push(VerifyingKey { kid: None, algorithm: *algorithm, key });
                }
                KeySource::Jwks(path) => keys.extend(jwks_keys(path)?),
            }
        }
        Ok(TokenVerifier { keys, leeway_secs, verified: None, now: Arc::new(system_now) })
    }

    /// Remembers the callers of up to `tokens` verified tokens (when full, the cache drops
    /// the ones least likely to be used again), each until its token expires.
    pub fn remembering(mut self, tokens: usize) -> Self {
        self.verified = Some(Cache::new(tokens));
        self
    }

    /// Tests `exp` and `nbf` against `now` instead of the system clock (a node's clock,
    /// which its tests can move).
    pub fn with_clock(mut self, now: Now) -> Self {
        self.now = now;
        self
    }

    /// The caller a token identifies, if a configured key verifies it and it has not expired.
    pub fn verify(&self, token: &str) -> Result<Caller, VerifierError> {
        let now = (self.now)();
        let Some(verified) = &self.verified else { return self.check(token, now) };
        match verified.get(token) {
            // The same test of `exp` as the check's.
            Some(caller) if now <= caller.expires_at.saturating_add(self.leeway_secs) => Ok(caller),
            _ => {
                let caller = self.check(token, now)?;
                verified.insert(token.to_string(), caller.clone());
                Ok(caller)
            }
        }
    }

    /// Checks a token's signature, and its claims at `now` (Unix seconds).
    fn check(&self, token: &str, now: u64) -> Result<Caller, VerifierError> {
        let header = jsonwebtoken::decode_header(token).map_err(|_| VerifierError::Malformed)?;
        let candidates: Vec<&VerifyingKey> = self
            .keys
            .iter()
            .filter(|k| k.algorithm == header.alg)
            .filter(|k| match (&k.kid, &header.kid) {
                (Some(key_kid), Some(token_kid)) => key_kid == token_kid,
                _ => true,
            })
            .collect();
        if candidates.is_empty() {
            return Err(VerifierError::AlgorithmNotAccepted(format!("{:?}", header.alg)));
        }
        let mut last_error = VerifierError::BadSignature;
        for key in candidates {
            let mut validation = Validation::new(key.algorithm);
            validation.set_required_spec_claims(&["exp", "sub"]);
            // `exp` and `nbf` are tested below, against the verifier's clock.
            validation.validate_exp = false;
            validation.validate_nbf = false;
            match jsonwebtoken::decode::<Claims>(token, &key.key, &validation) {
                Ok(data) => return data.claims.valid_at(now, self.leeway_secs),
                Err(error) => last_error = classify(error.kind()),
            }
        }
        Err(last_error)
    }
}

fn classify(kind: &ErrorKind) -> VerifierError {
    match kind {
        ErrorKind::ExpiredSignature => VerifierError::Expired,
        ErrorKind::ImmatureSignature => VerifierError::NotYetValid,
        ErrorKind::InvalidSignature => VerifierError::BadSignature,
        ErrorKind::InvalidAlgorithm => VerifierError::AlgorithmNotAccepted("declared".into()),
        ErrorKind::MissingRequiredClaim(claim) => {
            VerifierError::BadClaims(format!("missing `{claim}`"))
        }
        ErrorKind::Json(error) => {
            // serde names the claim ("missing field `org`", "invalid type: string, expected
            // u64"); an invalid value it quotes is cut short.
            let why: String = error.to_string().chars().take(120).collect();
            VerifierError::BadClaims(format!(
                "{why} (expected: `sub` and `org` strings, `exp` a number of seconds since \
                 1970, optional `scope` a space-separated string and `name` a string)"
            ))
        }
        _ => VerifierError::Malformed,
    }
}

fn read(path: &PathBuf) -> Result<Vec<u8>, VerifierError> {
    std::fs::read(path).map_err(|source| VerifierError::KeyFile { path: path.clone(), source })
}

fn pem_key(algorithm: Algorithm, pem: &[u8]) -> Result<DecodingKey, String> {
    use Algorithm::*;
    let key = match algorithm {
        RS256 | RS384 | RS512 | PS256 | PS384 | PS512 => DecodingKey::from_rsa_pem(pem),
        ES256 | ES384 => DecodingKey::from_ec_pem(pem),
        EdDSA => DecodingKey::from_ed_pem(pem),
        _ => return Err(format!("{algorithm:?} is not a public-key algorithm")),
    };
    key.map_err(|e| e.to_string())
}

fn jwks_keys(path: &PathBuf) -> Result<Vec<VerifyingKey>, VerifierError> {
    let bad = |reason: String| VerifierError::BadKey { path: path.clone(), reason };
    let set: JwkSet = serde_json::from_slice(&read(path)?).map_err(|e| bad(e.to_string()))?;
    let mut keys = Vec::new();
    for jwk in &set.keys {
        let algorithm = jwk
            .common
            .key_algorithm
            .and_then(|alg| alg.to_string().parse::<Algorithm>().ok())
            .ok_or_else(|| bad("every JWKS key needs a signing `alg`".into()))?;
        if matches!(algorithm, Algorithm::HS256 | Algorithm::HS384 | Algorithm::HS512) {
            return Err(bad("JWKS keys must be public keys, not HMAC secrets".into()));
        }
        let key = DecodingKey::from_jwk(jwk).map_err(|e| bad(e.to_string()))?;
        keys.push(VerifyingKey { kid: jwk.common.key_id.clone(), algorithm, key });
    }
    Ok(keys)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const SECRET: &[u8] = b"a-test-secret-that-is-long-enough-for-hs256";

    fn verifier() -> TokenVerifier {
        TokenVerifier::new(&[KeySource::Hs256Secret(SECRET.to_vec())], 30).unwrap()
    }

    fn signed(claims: &serde_json::Value) -> String {
        let key = jsonwebtoken::EncodingKey::from_secret(SECRET);
        jsonwebtoken::encode(&jsonwebtoken::Header::default(), claims, &key).unwrap()
    }

    /// A JSON value of any shape, for claims.
    fn any_json() -> impl Strategy<Value = serde_json::Value> {
        let leaf = prop_oneof![
            Just(serde_json::Value::Null),
            any::<bool>().prop_map(serde_json::Value::from),
            any::<u64>().prop_map(serde_json::Value::from),
            any::<i64>().prop_map(serde_json::Value::from),
            any::<f64>().prop_map(serde_json::Value::from),
            ".{0,200}".prop_map(serde_json::Value::from),
        ];
        leaf.prop_recursive(3, 16, 4, |inner| {
            prop::collection::vec(inner, 0..4).prop_map(serde_json::Value::from)
        })
    }

    proptest! {
        // Fuzzing, bounded: no token, however odd, panics the verifier; garbage is refused.
        #![proptest_config(ProptestConfig::with_cases(1_000))]
        #[test]
        fn any_string_is_refused_without_panicking(token in ".{0,600}") {
            prop_assert!(verifier().verify(&token).is_err());
        }

        #[test]
        fn any_signed_claims_are_checked_without_panicking(
            sub in any_json(), org in any_json(), scope in any_json(), exp in any_json(),
            nbf in any_json(), name in any_json(),
        ) {
            let claims = serde_json::json!({
                "sub": sub, "org": org, "scope": scope, "exp": exp, "nbf": nbf, "name": name
            });
            if let Ok(caller) = verifier().verify(&signed(&claims)) {
                prop_assert!(caller.expires_at <= 253_402_300_799);
                prop_assert!(super::super::check_user_id(&caller.user).is_ok());
            }
        }
    }

    #[test]
    fn exp_past_year_9999_and_future_nbf_are_refused() {
        let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs();
        for exp in [u64::MAX, 253_402_300_800] {
            let claims = serde_json::json!({"sub": "a", "org": "o", "exp": exp});
            assert!(matches!(
                verifier().verify(&signed(&claims)),
                Err(VerifierError::BadClaims(_))
            ));
        }
        let claims =
            serde_json::json!({"sub": "a", "org": "o", "exp": now + 600, "nbf": now + 300});
        assert!(matches!(verifier().verify(&signed(&claims)), Err(VerifierError::NotYetValid)));
    }
}
