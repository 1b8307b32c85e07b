//! Users' profiles, one per (org, user), and the org's directory: each profile's entries by
//! term (see `Profile::directory_terms`), kept with the profile.

use async_trait::async_trait;

use super::StoreResult;
use crate::model::{DirectoryEntry, Profile};

#[async_trait]
pub trait ProfileStore: Send + Sync {
    /// The user's profile in `org`, if they have one.
    async fn get_profile(&self, org: &str, user: &str) -> StoreResult<Option<Profile>>;

    /// Writes the whole profile (its org and user say whose), replacing what was there, and
    /// its directory entries in place of the previous ones. Two writes of one profile at
    /// once may leave an entry of the one that lost behind: readers check entries against
    /// the profile.
    async fn put_profile(&self, profile: &Profile) -> StoreResult<()>;

    /// Removes one directory entry (a reader found it no longer matches its profile).
    async fn remove_directory_entry(&self, org: &str, term: &str, user: &str) -> StoreResult<()>;

    /// The directory entries of `org` whose term starts with `prefix` (not empty), in
    /// (term, user) order, after `after` when given, at most `limit`.
    async fn scan_directory(
        &self,
        org: &str,
        prefix: &str,
        after: Option<(&str, &str)>,
        limit: usize,
    ) -> StoreResult<Vec<DirectoryEntry>>;
}
