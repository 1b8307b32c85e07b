//! Who is calling: bearer JWTs verified against configured keys, and the scopes they carry.

mod scope;
mod verifier;

pub use scope::{Scope, Scopes};
pub use verifier::{KeySource, TokenVerifier, VerifierError};

use tonic::metadata::MetadataMap;

use crate::error::ChatError;
use crate::validate::check_user_id;

/// The authenticated caller of one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    /// The `sub` claim: the user id.
    pub user: String,
    /// The `org` claim: every read and write is confined to this tenant.
    pub org: String,
    pub scopes: Scopes,
    /// Optional display name.
    pub name: Option<String>,
    /// `exp`, seconds since the Unix epoch.
    pub expires_at: u64,
}

impl Caller {
    /// Fails with PERMISSION_DENIED unless the token carries `scope`.
    pub fn require(&self, scope: Scope) -> Result<(), ChatError> {
        if self.scopes.contains(scope) {
            Ok(())
        } else {
            Err(ChatError::denied(format!(
                "this call needs the `{}` scope",
                scope.as_str()
            )))
        }
    }
}

/// The claims Switchboard reads from a token.
#[derive(Debug, Clone, serde::Deserialize)]
pub(crate) struct Claims {
    sub: String,
    org: String,
    #[serde(default)]
    scope: String,
    exp: u64,
    #[serde(default)]
    name: Option<String>,
}

impl Claims {
    fn into_caller(self) -> Result<Caller, VerifierError> {
        check_user_id(&self.sub).map_err(|why| VerifierError::BadClaims(format!("sub {why}")))?;
        check_user_id(&self.org).map_err(|why| VerifierError::BadClaims(format!("org {why}")))?;
        Ok(Caller {
            user: self.sub,
            org: self.org,
            scopes: Scopes::parse(&self.scope),
            name: self.name,
            expires_at: self.exp,
        })
    }
}

/// The bearer token of a request's `authorization` metadata.
pub fn bearer_token(metadata: &MetadataMap) -> Result<&str, ChatError> {
    let missing = || ChatError::Unauthenticated("missing `authorization: Bearer <token>`".into());
    let value = metadata.get("authorization").ok_or_else(missing)?;
    let value = value.to_str().map_err(|_| missing())?;
    match value.split_once(' ') {
        Some((scheme, token)) if scheme.eq_ignore_ascii_case("bearer") && !token.is_empty() => {
            Ok(token.trim())
        }
        _ => Err(missing()),
    }
}
