//! Users' statuses in the embedded engine: one row per (org, user).

use async_trait::async_trait;

use super::{EmbeddedStore, decode, encode, keys};
use crate::model::{Availability, UserStatus};
use crate::store::{StatusStore, StoreResult};

impl EmbeddedStore {
    /// Reads the user's status, changes it, and writes it back, in one batch.
    async fn change_status(
        &self,
        operation: &'static str,
        org: &str,
        user: &str,
        change: impl FnOnce(&mut UserStatus),
    ) -> StoreResult<()> {
        self.write(operation, |t, batch| {
            let key = keys::user_prefix(org, user);
            let mut status = match t.user_status.get(&key)? {
                Some(value) => decode("user_status", &value)?,
                None => UserStatus::default(),
            };
            change(&mut status);
            batch.insert(&t.user_status, key, encode(&status));
            Ok(())
        })
        .await
    }
}

#[async_trait]
impl StatusStore for EmbeddedStore {
    async fn get_status(&self, org: &str, user: &str) -> StoreResult<Option<UserStatus>> {
        self.read("get_status", |t| {
            let value = t.user_status.get(keys::user_prefix(org, user))?;
            value.map(|value| decode("user_status", &value)).transpose()
        })
    }

    async fn set_status(
        &self,
        org: &str,
        user: &str,
        availability: Availability,
        text: &str,
    ) -> StoreResult<()> {
        self.change_status("set_status", org, user, |status| {
            status.availability = availability;
            status.text = text.to_string();
        })
        .await
    }

    async fn set_last_seen(&self, org: &str, user: &str, at_ms: i64) -> StoreResult<()> {
        self.change_status("set_last_seen", org, user, |status| status.last_seen_ms = at_ms).await
    }
}
