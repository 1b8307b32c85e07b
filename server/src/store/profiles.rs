//! Users' profiles, one per (org, user), and the org's directory: each profile's entries by
//! term (see `Profile::directory_terms`), kept with the profile.

use async_trait::async_trait;

use super::StoreResult;
use crate::model::{DirectoryEntry, Profile, ProfileField};

#[async_trait]
pub trait ProfileStore: Send + Sync {
    /// The user's profile in `org`, if they have one.
    async fn get_profile(&self, org: &str, user: &str) -> StoreResult<Option<Profile>>;

    /// Creates the profile (its org and user say whose) with its directory entries, unless
    /// the user has one already; whether it did.
    async fn create_profile(&self, profile: &Profile) -> StoreResult<bool>;

    /// Sets the `fields` of the user's profile (an empty one if they have none) to their
    /// values in `changes`, each on its own so that concurrent changes of other fields
    /// stay, and when it changed; returns the profile as it is now. Its directory entries
    /// follow. Two changes of one profile at once may leave an entry of the one that lost
    /// behind: readers check entries against the profile.
    async fn update_profile(
        &self,
        org: &str,
        user: &str,
        changes: &Profile,
        fields: &[ProfileField],
        updated_at_ms: i64,
    ) -> StoreResult<Profile>;

    /// Removes the user's profile and its directory entries; whether there was one.
    async fn remove_profile(&self, org: &str, user: &str) -> StoreResult<bool>;

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
