//! The audit log in the ScyllaDB engine.

use async_trait::async_trait;
use scylla::DeserializeRow;

use super::ScyllaStore;
use super::rows::{corrupt, row_limit, to_i64};
use super::statements::Statement;
use crate::model::{AuditAction, AuditEntry, audit_day};
use crate::store::{AuditStore, StoreResult};

#[async_trait]
impl AuditStore for ScyllaStore {
    /// The entry after its listings under users: an entry is never there unlisted.
    async fn append_audit(&self, entry: &AuditEntry, names: &[&str]) -> StoreResult<()> {
        let (org, id, day) = (entry.org.as_str(), to_i64(entry.id), audit_day(entry.at_ms) as i32);
        for user in names {
            self.run(Statement::UserAuditInsert, (org, *user, id, day)).await?;
        }
        self.rewrite_audit(entry).await
    }

    async fn rewrite_audit(&self, entry: &AuditEntry) -> StoreResult<()> {
        self.run(Statement::AuditInsert, AuditRow::values(entry)).await.map(|_| ())
    }

    async fn list_user_audit(
        &self,
        org: &str,
        user: &str,
        limit: usize,
    ) -> StoreResult<Vec<AuditEntry>> {
        let listed: Vec<(i64, i32)> =
            self.rows(Statement::UserAuditList, (org, user, row_limit(limit))).await?;
        let mut entries = Vec::new();
        for (id, day) in listed {
            let rows: Vec<AuditRow> = self.rows(Statement::AuditGet, (org, day, id)).await?;
            for row in rows {
                entries.push(row.into_domain()?);
            }
        }
        Ok(entries)
    }

    async fn forget_user_audit(&self, org: &str, user: &str, ids: &[u64]) -> StoreResult<()> {
        for id in ids {
            self.run(Statement::UserAuditDelete, (org, user, to_i64(*id))).await?;
        }
        Ok(())
    }

    async fn list_audit(
        &self,
        org: &str,
        day: u32,
        before: u64,
        limit: usize,
    ) -> StoreResult<Vec<AuditEntry>> {
        let key = (org, day as i32, to_i64(before), row_limit(limit));
        let rows: Vec<AuditRow> = self.rows(Statement::AuditList, key).await?;
        rows.into_iter().map(AuditRow::into_domain).collect()
    }
}

#[derive(DeserializeRow)]
pub(super) struct AuditRow {
    id: i64,
    org: String,
    at_ms: i64,
    actor: String,
    action: String,
    conversation_id: i64,
    target: String,
    detail: Option<String>,
}

#[allow(clippy::type_complexity)]
impl AuditRow {
    pub(super) fn values(
        e: &AuditEntry,
    ) -> (String, i32, i64, i64, String, &'static str, i64, String, String) {
        (
            e.org.clone(),
            audit_day(e.at_ms) as i32,
            to_i64(e.id),
            e.at_ms,
            e.actor.clone(),
            e.action.name(),
            to_i64(e.conversation_id),
            e.target.clone(),
            e.detail.clone(),
        )
    }

    pub(super) fn into_domain(self) -> StoreResult<AuditEntry> {
        let action = AuditAction::from_name(&self.action)
            .ok_or_else(|| corrupt("audit", format!("unknown action `{}`", self.action)))?;
        Ok(AuditEntry {
            id: self.id as u64,
            org: self.org,
            at_ms: self.at_ms,
            actor: self.actor,
            action,
            conversation_id: self.conversation_id as u64,
            target: self.target,
            detail: self.detail.unwrap_or_default(),
        })
    }
}
