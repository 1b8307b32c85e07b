//! TLS for the gRPC listeners (rustls, via tonic), from `[tls]`: a certificate and key for
//! serving; optionally a client CA the controller requires relays' certificates to chain to
//! (mutual TLS); and the CA relays verify controllers with. Certificates are read at
//! start-up: replacing them takes a restart.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use tonic::transport::{Certificate, ClientTlsConfig, Identity, ServerTlsConfig};

use crate::error::ConfigError;

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TlsConfig {
    /// Certificate chain (PEM) served on the gRPC ports; with `key_file`, turns TLS on.
    /// Relays also present it to controllers that require client certificates.
    pub cert_file: Option<PathBuf>,
    pub key_file: Option<PathBuf>,
    /// Controllers: accept only clients whose certificate chains to this CA (mutual TLS;
    /// meant for relay-facing controllers).
    pub client_ca_file: Option<PathBuf>,
    /// Relays: the CA controllers' certificates chain to (for `https://` controllers).
    pub ca_file: Option<PathBuf>,
}

/// Makes ring the process's TLS crypto provider. The dependency graph enables more than
/// one, so rustls cannot choose by itself; safe to call any number of times.
pub fn install_crypto_provider() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

fn read(key: &'static str, path: &Path) -> Result<Vec<u8>, ConfigError> {
    std::fs::read(path).map_err(|e| ConfigError::Invalid {
        key,
        reason: format!("cannot read {}: {e}", path.display()),
    })
}

impl TlsConfig {
    fn identity(&self) -> Result<Option<Identity>, ConfigError> {
        match (&self.cert_file, &self.key_file) {
            (Some(cert), Some(key)) => Ok(Some(Identity::from_pem(
                read("tls.cert_file", cert)?,
                read("tls.key_file", key)?,
            ))),
            (None, None) => Ok(None),
            _ => Err(ConfigError::Invalid {
                key: "tls",
                reason: "cert_file and key_file go together".into(),
            }),
        }
    }

    /// Server TLS for a listener; `require_client_certs` applies `client_ca_file` (the
    /// controller's listener; relays serve end users and never ask for certificates).
    pub fn server(
        &self,
        require_client_certs: bool,
    ) -> Result<Option<ServerTlsConfig>, ConfigError> {
        let Some(identity) = self.identity()? else { return Ok(None) };
        let mut tls = ServerTlsConfig::new().identity(identity);
        if require_client_certs && let Some(ca) = &self.client_ca_file {
            tls = tls.client_ca_root(Certificate::from_pem(read("tls.client_ca_file", ca)?));
        }
        Ok(Some(tls))
    }

    /// Client TLS for a relay's connections to controllers: their CA, and this node's
    /// certificate for controllers that require one.
    pub fn client(&self) -> Result<Option<ClientTlsConfig>, ConfigError> {
        let Some(ca) = &self.ca_file else { return Ok(None) };
        let mut tls =
            ClientTlsConfig::new().ca_certificate(Certificate::from_pem(read("tls.ca_file", ca)?));
        if let Some(identity) = self.identity()? {
            tls = tls.identity(identity);
        }
        Ok(Some(tls))
    }

    /// Checks the files can be read and go together.
    pub fn validate(&self) -> Result<(), ConfigError> {
        self.server(true)?;
        self.client()?;
        Ok(())
    }
}
