//! Users' statuses: the availability and text they set, and when they were last seen.

use async_trait::async_trait;

use super::StoreResult;
use crate::model::{Availability, UserStatus};

#[async_trait]
pub trait StatusStore: Send + Sync {
    /// The user's status in `org`, if they ever set one or went offline.
    async fn get_status(&self, org: &str, user: &str) -> StoreResult<Option<UserStatus>>;

    /// Sets the availability and text the user chose (when they were last seen stays).
    async fn set_status(
        &self,
        org: &str,
        user: &str,
        availability: Availability,
        text: &str,
    ) -> StoreResult<()>;

    /// Records when the user was last seen (what they set stays).
    async fn set_last_seen(&self, org: &str, user: &str, at_ms: i64) -> StoreResult<()>;
}
