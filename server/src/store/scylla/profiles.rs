//! Users' profiles in the ScyllaDB engine: one row per (org, user), written whole, with
//! the directory's entries in one logged batch. The directory is partitioned by org and
//! the term's first character, clustered by (term, user): a search is a range of one
//! partition.

use std::collections::HashMap;

use async_trait::async_trait;
use scylla::DeserializeRow;
use scylla::serialize::row::SerializeRow;
use scylla::statement::batch::BatchType;

use super::ScyllaStore;
use super::statements::Statement;
use crate::model::{DirectoryEntry, Profile};
use crate::store::{ProfileStore, StoreResult};

#[async_trait]
impl ProfileStore for ScyllaStore {
    async fn get_profile(&self, org: &str, user: &str) -> StoreResult<Option<Profile>> {
        let rows: Vec<ProfileRow> = self.rows(Statement::ProfileGet, (org, user)).await?;
        Ok(rows.into_iter().next().map(ProfileRow::into_domain))
    }

    async fn put_profile(&self, p: &Profile) -> StoreResult<()> {
        let before = self.get_profile(&p.org, &p.user).await?;
        let fields: HashMap<String, String> = p.custom_fields.clone().into_iter().collect();
        let profile = (
            p.org.clone(),
            p.user.clone(),
            p.display_name.clone(),
            p.title.clone(),
            p.bio.clone(),
            p.time_zone.clone(),
            fields,
            p.email.clone(),
            p.phone.clone(),
            p.updated_at_ms,
        );
        let mut statements = vec![Statement::ProfilePut];
        let mut values: Vec<Box<dyn SerializeRow + Send + Sync>> = vec![Box::new(profile)];
        let entries = DirectoryEntry::all_of(p);
        let gone = before.iter().flat_map(Profile::directory_terms);
        for term in gone.filter(|term| !entries.iter().any(|entry| &entry.term == term)) {
            statements.push(Statement::DirectoryDelete);
            values.push(Box::new((p.org.clone(), bucket(&term), term, p.user.clone())));
        }
        for e in entries {
            statements.push(Statement::DirectoryInsert);
            let row = (p.org.clone(), bucket(&e.term), e.term, e.user, e.display_name, e.title);
            values.push(Box::new(row));
        }
        self.batch(BatchType::Logged, &statements, values).await
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
        let cap = i32::try_from(limit).unwrap_or(i32::MAX);
        let values = (org, bucket(prefix), term, user, cap);
        let rows: Vec<DirectoryRow> = self.rows(Statement::DirectoryScan, values).await?;
        let within = rows.into_iter().take_while(|row| row.term.starts_with(prefix));
        Ok(within.map(DirectoryRow::into_domain).collect())
    }
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
