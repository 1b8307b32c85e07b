//! Users' profiles in the embedded engine: one row per (org, user), and the directory's
//! entries keyed by (org, term, user), replaced with the profile in one batch. Writes
//! read the profile under the engine's write lock, so changes of one profile never race.

use std::ops::Bound;

use async_trait::async_trait;

use fjall::OwnedWriteBatch;

use super::{EmbeddedStore, Tables, decode, encode, keys};
use crate::model::{DirectoryEntry, Profile, ProfileField};
use crate::store::{ProfileStore, StoreResult};

/// Writes `profile`, with its directory entries in place of `before`'s.
fn write_profile(
    t: &Tables,
    batch: &mut OwnedWriteBatch,
    before: Option<&Profile>,
    profile: &Profile,
) {
    let (org, user) = (&profile.org, &profile.user);
    for term in before.iter().flat_map(|before| before.directory_terms()) {
        batch.remove(&t.directory, keys::directory(org, &term, user));
    }
    for entry in DirectoryEntry::all_of(profile) {
        batch.insert(&t.directory, keys::directory(org, &entry.term, user), encode(&entry));
    }
    batch.insert(&t.profiles, keys::user_prefix(org, user), encode(profile));
}

#[async_trait]
impl ProfileStore for EmbeddedStore {
    async fn get_profile(&self, org: &str, user: &str) -> StoreResult<Option<Profile>> {
        self.read("get_profile", |t| {
            let value = t.profiles.get(keys::user_prefix(org, user))?;
            value.map(|value| decode("profiles", &value)).transpose()
        })
    }

    async fn create_profile(&self, profile: &Profile) -> StoreResult<bool> {
        self.write("create_profile", |t, batch| {
            let key = keys::user_prefix(&profile.org, &profile.user);
            if t.profiles.get(&key)?.is_some() {
                return Ok(false);
            }
            write_profile(t, batch, None, profile);
            Ok(true)
        })
        .await
    }

    async fn remove_profile(&self, org: &str, user: &str) -> StoreResult<bool> {
        self.write("remove_profile", |t, batch| {
            let key = keys::user_prefix(org, user);
            let Some(value) = t.profiles.get(&key)? else { return Ok(false) };
            let profile: Profile = decode("profiles", &value)?;
            for term in profile.directory_terms() {
                batch.remove(&t.directory, keys::directory(org, &term, user));
            }
            batch.remove(&t.profiles, key);
            Ok(true)
        })
        .await
    }

    async fn update_profile(
        &self,
        org: &str,
        user: &str,
        changes: &Profile,
        fields: &[ProfileField],
        updated_at_ms: i64,
    ) -> StoreResult<Profile> {
        self.write("update_profile", |t, batch| {
            let before: Option<Profile> = match t.profiles.get(keys::user_prefix(org, user))? {
                Some(value) => Some(decode("profiles", &value)?),
                None => None,
            };
            let mut profile = before.clone().unwrap_or_else(|| Profile {
                org: org.into(),
                user: user.into(),
                ..Profile::default()
            });
            fields.iter().for_each(|field| field.copy(changes, &mut profile));
            profile.updated_at_ms = updated_at_ms;
            write_profile(t, batch, before.as_ref(), &profile);
            Ok(profile)
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
