//! The service credential: a shared secret that relays present to controllers (in
//! `authorization: Bearer <secret>`) to open the internal Fanout stream. Users' tokens never
//! open it, and the secret never appears in errors or logs.

use subtle::ConstantTimeEq;
use switchboard_proto::status;
use tonic::Status;
use tonic::metadata::MetadataMap;

use crate::bearer_token;

/// The cluster's shared relay secret.
#[derive(Clone)]
pub struct ServiceCredential {
    /// The secret's bytes.
    secret: Vec<u8>,
}

impl ServiceCredential {
    pub fn new(secret: Vec<u8>) -> Self {
        ServiceCredential { secret }
    }

    /// The value to send as the bearer token.
    pub fn bearer(&self) -> String {
        String::from_utf8_lossy(&self.secret).into_owned()
    }

    /// Accepts the request only if it carries this secret (compared in constant time).
    pub fn check(&self, metadata: &MetadataMap) -> Result<(), Status> {
        let presented = bearer_token(metadata)?;
        if bool::from(presented.as_bytes().ct_eq(&self.secret)) {
            Ok(())
        } else {
            Err(status::unauthenticated("the service credential is not valid"))
        }
    }
}

impl std::fmt::Debug for ServiceCredential {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ServiceCredential(<redacted>)")
    }
}
