//! Users' profiles in the embedded engine: one row per (org, user), and the directory's
//! entries keyed by (org, term, user), replaced with the profile in one batch.

use std::ops::Bound;

use async_trait::async_trait;

use super::{EmbeddedStore, decode, encode, keys};
use crate::model::{DirectoryEntry, Profile};
use crate::store::{ProfileStore, StoreResult};

#[async_trait]
impl ProfileStore for EmbeddedStore {
    async fn get_profile(&self, org: &str, user: &str) -> StoreResult<Option<Profile>> {
        self.read("get_profile", |t| {
            let value = t.profiles.get(keys::user_prefix(org, user))?;
            value.map(|value| decode("profiles", &value)).transpose()
        })
    }

    async fn put_profile(&self, profile: &Profile) -> StoreResult<()> {
        self.write("put_profile", |t, batch| {
            let (org, user) = (&profile.org, &profile.user);
            let key = keys::user_prefix(org, user);
            if let Some(value) = t.profiles.get(&key)? {
                let before: Profile = decode("profiles", &value)?;
                for term in before.directory_terms() {
                    batch.remove(&t.directory, keys::directory(org, &term, user));
                }
            }
            for entry in DirectoryEntry::all_of(profile) {
                batch.insert(&t.directory, keys::directory(org, &entry.term, user), encode(&entry));
            }
            batch.insert(&t.profiles, key, encode(profile));
            Ok(())
        })
        .await
    }

    async fn remove_directory_entry(&self, org: &str, term: &str, user: &str) -> StoreResult<()> {
        self.write("remove_directory_entry", |t, batch| {
            batch.remove(&t.directory, keys::directory(org, term, user));
            Ok(())
        })
        .await
    }

    async fn scan_directory(
        &self,
        org: &str,
        prefix: &str,
        after: Option<(&str, &str)>,
        limit: usize,
    ) -> StoreResult<Vec<DirectoryEntry>> {
        self.read("scan_directory", |t| {
            let within = keys::directory_prefix(org, prefix);
            let start = match after {
                Some((term, user)) => Bound::Excluded(keys::directory(org, term, user)),
                None => Bound::Included(within.clone()),
            };
            let mut entries = Vec::new();
            for item in t.directory.range((start, Bound::Unbounded)) {
                let (key, value) = item.into_inner()?;
                if !key.starts_with(&within) || entries.len() == limit {
                    break;
                }
                entries.push(decode("directory", &value)?);
            }
            Ok(entries)
        })
    }
}
