//! `[auth]` and `[cluster]` secrets: the keys tokens are verified with, and the service
//! credential relays present.

use std::path::{Path, PathBuf};

use jsonwebtoken::Algorithm;
use serde::{Deserialize, Serialize};

use super::{Config, invalid};
use crate::auth::{KeySource, ServiceCredential, TokenVerifier, VerifierError};
use crate::error::ConfigError;

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AuthConfig {
    /// A file holding the HS256 shared secret (dev and small setups).
    pub hs256_secret_file: Option<PathBuf>,
    /// Public keys in PEM files, each with the one algorithm it verifies.
    pub public_keys: Vec<PublicKeyConfig>,
    /// A JWKS file of public keys (each key must name its `alg`).
    pub jwks_file: Option<PathBuf>,
    /// Clock skew tolerated on `exp`, in seconds.
    pub leeway_secs: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PublicKeyConfig {
    /// RS256, RS384, RS512, PS256, PS384, PS512, ES256, ES384 or EdDSA.
    pub alg: String,
    pub pem_file: PathBuf,
}

/// Why the token verifier could not be built.
#[derive(Debug, thiserror::Error)]
pub enum ControllerKeysError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error("auth keys: {0}")]
    Keys(#[from] VerifierError),
}

impl Config {
    /// The key sources `auth` describes, with the HS256 secret read from its file.
    pub fn key_sources(&self) -> Result<Vec<KeySource>, ConfigError> {
        let mut sources = Vec::new();
        if let Some(path) = &self.auth.hs256_secret_file {
            sources.push(KeySource::Hs256Secret(read_secret("auth.hs256_secret_file", path)?));
        }
        for key in &self.auth.public_keys {
            sources.push(KeySource::PublicKeyPem {
                algorithm: parse_algorithm(&key.alg)?,
                path: key.pem_file.clone(),
            });
        }
        if let Some(path) = &self.auth.jwks_file {
            sources.push(KeySource::Jwks(path.clone()));
        }
        Ok(sources)
    }

    /// The token verifier `auth` describes.
    pub fn verifier(&self) -> Result<TokenVerifier, ControllerKeysError> {
        let sources = self.key_sources()?;
        Ok(TokenVerifier::new(&sources, self.auth.leeway_secs)?)
    }

    /// The relays' service credential, if configured.
    pub fn service_credential(&self) -> Result<Option<ServiceCredential>, ConfigError> {
        let Some(path) = &self.cluster.secret_file else { return Ok(None) };
        Ok(Some(ServiceCredential::new(read_secret("cluster.secret_file", path)?)))
    }
}

pub fn read_secret(key: &'static str, path: &Path) -> Result<Vec<u8>, ConfigError> {
    let bytes = std::fs::read(path)
        .map_err(|source| ConfigError::SecretFile { path: path.to_path_buf(), source })?;
    let secret = bytes.trim_ascii().to_vec();
    if secret.len() < 32 {
        return Err(invalid(key, "the secret must be at least 32 bytes".into()));
    }
    Ok(secret)
}

pub(super) fn parse_algorithm(name: &str) -> Result<Algorithm, ConfigError> {
    match name.parse::<Algorithm>() {
        Ok(Algorithm::HS256 | Algorithm::HS384 | Algorithm::HS512) | Err(_) => Err(invalid(
            "auth.public_keys.alg",
            format!("`{name}` is not a public-key algorithm (RS256, ES256, EdDSA, ...)"),
        )),
        Ok(algorithm) => Ok(algorithm),
    }
}
