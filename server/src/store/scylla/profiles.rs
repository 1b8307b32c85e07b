//! Users' profiles in the ScyllaDB engine: one row per (org, user), created with a
//! lightweight transaction and changed column by column (one partition's batch), so that
//! concurrent changes of other fields stay; the directory's entries follow in a logged
//! batch. The directory is partitioned by org and the term's first character, clustered by
//! (term, user): a search is a range of one partition.

use std::collections::HashMap;

use async_trait::async_trait;
use scylla::DeserializeRow;
use scylla::serialize::row::SerializeRow;
use scylla::statement::batch::BatchType;

use super::ScyllaStore;
use super::rows::row_limit;
use super::statements::Statement;
use crate::model::{DirectoryEntry, Profile, ProfileField};
use crate::store::{ProfileStore, StoreResult};

#[async_trait]
impl ProfileStore for ScyllaStore {
    async fn get_profile(&self, org: &str, user: &str) -> StoreResult<Option<Profile>> {
        let rows: Vec<ProfileRow> = self.rows(Statement::ProfileGet, (org, user)).await?;
        Ok(rows.into_iter().next().map(ProfileRow::into_domain))
    }

    async fn create_profile(&self, p: &Profile) -> StoreResult<bool> {
        let fields: HashMap<String, String> = p.custom_fields.clone().into_iter().collect();
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
            p.avatar_id as i64,
        );
        let (created, _) = self.lwt(Statement::ProfileCreate, values).await?;
        if created {
            self.index(None, p).await?;
        }
        Ok(created)
    }

    async fn update_profile(
        &self,
        org: &str,
        user: &str,
        changes: &Profile,
        fields: &[ProfileField],
        updated_at_ms: i64,
    ) -> StoreResult<Profile> {
        let before = self.get_profile(org, user).await?;
        let key = (org.to_string(), user.to_string());
        let mut statements = vec![Statement::ProfileSetUpdatedAt];
        let mut values: Vec<Box<dyn SerializeRow + Send + Sync>> =
            vec![Box::new((updated_at_ms, &key.0, &key.1))];
        for field in fields {
            let (statement, value): (Statement, Box<dyn SerializeRow + Send + Sync>) = match field {
                ProfileField::DisplayName => {
                    (Statement::ProfileSetDisplayName, set(&changes.display_name, &key))
                }
                ProfileField::Title => (Statement::ProfileSetTitle, set(&changes.title, &key)),
                ProfileField::Bio => (Statement::ProfileSetBio, set(&changes.bio, &key)),
                ProfileField::TimeZone => {
                    (Statement::ProfileSetTimeZone, set(&changes.time_zone, &key))
                }
                ProfileField::Email => (Statement::ProfileSetEmail, set(&changes.email, &key)),
                ProfileField::Phone => (Statement::ProfileSetPhone, set(&changes.phone, &key)),
                ProfileField::Avatar => (
                    Statement::ProfileSetAvatar,
                    Box::new((changes.avatar_id as i64, key.0.clone(), key.1.clone())),
                ),
                ProfileField::CustomFields => {
                    let map: HashMap<String, String> =
                        changes.custom_fields.clone().into_iter().collect();
                    (
                        Statement::ProfileSetCustomFields,
                        Box::new((map, key.0.clone(), key.1.clone())),
                    )
                }
            };
            statements.push(statement);
            values.push(value);
        }
        // One partition's statements: applied together, in isolation.
        self.batch(BatchType::Unlogged, &statements, values).await?;
        let after = self.get_profile(org, user).await?.unwrap_or_else(|| Profile {
            org: org.into(),
            user: user.into(),
            ..Profile::default()
        });
        self.index(before.as_ref(), &after).await?;
        Ok(after)
    }

    /// The directory entries first: a removal that fails there is retried whole.
    async fn remove_profile(&self, org: &str, user: &str) -> StoreResult<bool> {
        let Some(profile) = self.get_profile(org, user).await? else { return Ok(false) };
        for term in profile.directory_terms() {
            self.remove_directory_entry(org, &term, user).await?;
        }
        self.run(Statement::ProfileDelete, (org, user)).await?;
        Ok(true)
    }

    async fn remove_directory_entry(&self, org: &str, term: &str, user: &str) -> StoreResult<()> {
        self.run(Statement::DirectoryDelete, (org, bucket(term), term, user)).await?;
        Ok(())
    }

    async fn scan_directory(
        &self,
        org: &str,
        prefix: &str,
        after: Option<(&str, &str)>,
        limit: usize,
    ) -> StoreResult<Vec<DirectoryEntry>> {
        let (term, user) = after.unwrap_or((prefix, ""));
        let cap = row_limit(limit);
        let values = (org, bucket(prefix), term, user, cap);
        let rows: Vec<DirectoryRow> = self.rows(Statement::DirectoryScan, values).await?;
        let within = rows.into_iter().take_while(|row| row.term.starts_with(prefix));
        Ok(within.map(DirectoryRow::into_domain).collect())
    }
}

impl ScyllaStore {
    /// Writes `profile`'s directory entries, removing `before`'s that it no longer has.
    async fn index(&self, before: Option<&Profile>, profile: &Profile) -> StoreResult<()> {
        let (org, user) = (&profile.org, &profile.user);
        let entries = DirectoryEntry::all_of(profile);
        let mut statements = Vec::new();
        let mut values: Vec<Box<dyn SerializeRow + Send + Sync>> = Vec::new();
        let gone = before.into_iter().flat_map(Profile::directory_terms);
        for term in gone.filter(|term| !entries.iter().any(|entry| &entry.term == term)) {
            statements.push(Statement::DirectoryDelete);
            values.push(Box::new((org.clone(), bucket(&term), term, user.clone())));
        }
        for e in entries {
            statements.push(Statement::DirectoryInsert);
            values.push(Box::new((
                org.clone(),
                bucket(&e.term),
                e.term,
                e.user,
                e.display_name,
                e.title,
            )));
        }
        if statements.is_empty() {
            return Ok(());
        }
        self.batch(BatchType::Logged, &statements, values).await
    }
}

/// The values of a `ProfileSet…` statement.
fn set(value: &str, (org, user): &(String, String)) -> Box<dyn SerializeRow + Send + Sync> {
    Box::new((value.to_string(), org.clone(), user.clone()))
}

/// A term's partition within its org: its first character.
fn bucket(term: &str) -> String {
    term.chars().next().map(String::from).unwrap_or_default()
}

#[derive(DeserializeRow)]
struct DirectoryRow {
    term: String,
    user_id: String,
    display_name: Option<String>,
    title: Option<String>,
}

impl DirectoryRow {
    fn into_domain(self) -> DirectoryEntry {
        DirectoryEntry {
            term: self.term,
            user: self.user_id,
            display_name: self.display_name.unwrap_or_default(),
            title: self.title.unwrap_or_default(),
        }
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
    avatar_id: Option<i64>,
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
            avatar_id: self.avatar_id.unwrap_or(0) as u64,
        }
    }
}
