//! Users' profiles in the embedded engine: one row per (org, user).

use async_trait::async_trait;

use super::{EmbeddedStore, decode, encode, keys};
use crate::model::Profile;
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
            let key = keys::user_prefix(&profile.org, &profile.user);
            batch.insert(&t.profiles, key, encode(profile));
            Ok(())
        })
        .await
    }
}
