//! Users' profiles in the ScyllaDB engine: one row per (org, user), written whole.

use std::collections::HashMap;

use async_trait::async_trait;
use scylla::DeserializeRow;

use super::ScyllaStore;
use super::statements::Statement;
use crate::model::Profile;
use crate::store::{ProfileStore, StoreResult};

#[async_trait]
impl ProfileStore for ScyllaStore {
    async fn get_profile(&self, org: &str, user: &str) -> StoreResult<Option<Profile>> {
        let rows: Vec<ProfileRow> = self.rows(Statement::ProfileGet, (org, user)).await?;
        Ok(rows.into_iter().next().map(ProfileRow::into_domain))
    }

    async fn put_profile(&self, p: &Profile) -> StoreResult<()> {
        let fields: HashMap<&str, &str> =
            p.custom_fields.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        let values = (
            &p.org,
            &p.user,
            &p.display_name,
            &p.title,
            &p.bio,
            &p.time_zone,
            fields,
            &p.email,
            &p.phone,
            p.updated_at_ms,
        );
        self.run(Statement::ProfilePut, values).await?;
        Ok(())
    }
}

#[derive(DeserializeRow)]
struct ProfileRow {
    org: String,
    user_id: String,
    display_name: Option<String>,
    title: Option<String>,
    bio: Option<String>,
    time_zone: Option<String>,
    custom_fields: Option<HashMap<String, String>>,
    email: Option<String>,
    phone: Option<String>,
    updated_at_ms: Option<i64>,
}

impl ProfileRow {
    fn into_domain(self) -> Profile {
        Profile {
            org: self.org,
            user: self.user_id,
            display_name: self.display_name.unwrap_or_default(),
            title: self.title.unwrap_or_default(),
            bio: self.bio.unwrap_or_default(),
            time_zone: self.time_zone.unwrap_or_default(),
            custom_fields: self.custom_fields.unwrap_or_default().into_iter().collect(),
            email: self.email.unwrap_or_default(),
            phone: self.phone.unwrap_or_default(),
            updated_at_ms: self.updated_at_ms.unwrap_or(0),
        }
    }
}
