//! Who is calling: bearer JWTs verified against configured keys, the scopes they carry, and
//! the shared service credential relays present to controllers. Every node (controller and
//! relay) verifies tokens itself with this crate.

pub mod connections;
pub mod deadline;
pub mod rate;
mod scope;
mod service;
mod verifier;

pub use scope::{Scope, Scopes};
pub use service::ServiceCredential;
pub use verifier::{KeySource, Now, TokenVerifier, VerifierError};

use serde::{Deserialize, Serialize};
use switchboard_proto::status;
use tonic::metadata::MetadataMap;

/// A user as every part of the system tells users apart: user ids are unique only inside
/// their org. Serialized as `[org, user]`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(from = "(String, String)", into = "(String, String)")]
pub struct OrgUser {
    pub org: String,
    pub user: String,
}

impl OrgUser {
    pub fn new(org: impl Into<String>, user: impl Into<String>) -> Self {
        OrgUser { org: org.into(), user: user.into() }
    }
}

impl From<(String, String)> for OrgUser {
    fn from((org, user): (String, String)) -> Self {
        OrgUser { org, user }
    }
}

impl From<OrgUser> for (String, String) {
    fn from(key: OrgUser) -> Self {
        (key.org, key.user)
    }
}

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
    /// Who the caller is, as the rest of the system keys users.
    pub fn org_user(&self) -> OrgUser {
        OrgUser::new(&self.org, &self.user)
    }

    /// Fails with PERMISSION_DENIED unless the token carries `scope`.
    pub fn require(&self, scope: Scope) -> Result<(), tonic::Status> {
        if self.scopes.contains(scope) {
            Ok(())
        } else {
            Err(status::denied(format!("this call needs the `{}` scope", scope.as_str())))
        }
    }
}

/// The latest `exp` accepted: 9999-12-31T23:59:59Z. Later ones are no time a deadline can
/// be computed from.
const LATEST_EXP: u64 = 253_402_300_799;

/// The claims Switchboard reads from a token.
#[derive(Debug, Clone, serde::Deserialize)]
pub(crate) struct Claims {
    sub: String,
    org: String,
    #[serde(default)]
    scope: String,
    exp: u64,
    #[serde(default)]
    nbf: Option<u64>,
    #[serde(default)]
    name: Option<String>,
}

impl Claims {
    /// The caller, if the claims hold at `now` (Unix seconds), give or take `leeway`.
    fn valid_at(self, now: u64, leeway: u64) -> Result<Caller, VerifierError> {
        if self.exp.saturating_add(leeway) < now {
            return Err(VerifierError::Expired);
        }
        if self.nbf.is_some_and(|nbf| nbf > now.saturating_add(leeway)) {
            return Err(VerifierError::NotYetValid);
        }
        self.into_caller()
    }

    fn into_caller(self) -> Result<Caller, VerifierError> {
        check_user_id(&self.sub).map_err(|why| VerifierError::BadClaims(format!("sub {why}")))?;
        check_user_id(&self.org).map_err(|why| VerifierError::BadClaims(format!("org {why}")))?;
        if self.exp > LATEST_EXP {
            return Err(VerifierError::BadClaims("`exp` is past the year 9999".into()));
        }
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
pub fn bearer_token(metadata: &MetadataMap) -> Result<&str, tonic::Status> {
    let missing = || status::unauthenticated("missing `authorization: Bearer <token>`");
    let value = metadata.get("authorization").ok_or_else(missing)?;
    let value = value.to_str().map_err(|_| missing())?;
    match value.split_once(' ') {
        Some((scheme, token)) if scheme.eq_ignore_ascii_case("bearer") && !token.is_empty() => {
            Ok(token.trim())
        }
        _ => Err(missing()),
    }
}

/// User and org ids: 1 to 128 characters of letters, digits and `._@:+-`.
pub fn check_user_id(id: &str) -> Result<(), String> {
    if id.is_empty() {
        return Err("must not be empty".into());
    }
    if id.chars().count() > MAX_USER_ID_CHARS {
        return Err(format!("must be at most {MAX_USER_ID_CHARS} characters"));
    }
    if !id.chars().all(|c| c.is_ascii_alphanumeric() || "._@:+-".contains(c)) {
        return Err("may only contain letters, digits and . _ @ : + -".into());
    }
    Ok(())
}

/// Longest user id (and org id) accepted.
pub const MAX_USER_ID_CHARS: usize = 128;

/// Verifies the request's bearer token: the caller, or UNAUTHENTICATED saying why.
pub fn authenticate(
    verifier: &TokenVerifier,
    metadata: &MetadataMap,
) -> Result<Caller, tonic::Status> {
    let token = bearer_token(metadata)?;
    verifier.verify(token).map_err(|e| status::unauthenticated(e.to_string()))
}
