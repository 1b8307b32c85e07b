//! Users' profiles, one per (org, user).

use async_trait::async_trait;

use super::StoreResult;
use crate::model::Profile;

#[async_trait]
pub trait ProfileStore: Send + Sync {
    /// The user's profile in `org`, if they have one.
    async fn get_profile(&self, org: &str, user: &str) -> StoreResult<Option<Profile>>;

    /// Writes the whole profile (its org and user say whose), replacing what was there.
    async fn put_profile(&self, profile: &Profile) -> StoreResult<()>;
}
