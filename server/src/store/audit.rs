//! The audit log, per org and day, newest first; and per user, the entries naming them.

use async_trait::async_trait;

use super::StoreResult;
use crate::model::AuditEntry;

#[async_trait]
pub trait AuditStore: Send + Sync {
    /// Appends an entry to the audit log, listed under each of the users it `names` (the
    /// actor, and whoever it acted on) too.
    async fn append_audit(&self, entry: &AuditEntry, names: &[&str]) -> StoreResult<()>;

    /// Writes an entry again, changed (its org, time and id say which).
    async fn rewrite_audit(&self, entry: &AuditEntry) -> StoreResult<()>;

    /// Up to `limit` of the entries listed under `user`, newest first.
    async fn list_user_audit(
        &self,
        org: &str,
        user: &str,
        limit: usize,
    ) -> StoreResult<Vec<AuditEntry>>;

    /// Takes the entries `ids` off `user`'s list (the entries stay).
    async fn forget_user_audit(&self, org: &str, user: &str, ids: &[u64]) -> StoreResult<()>;

    /// Up to `limit` entries of one org's day, newest first, with ids below `before`.
    async fn list_audit(
        &self,
        org: &str,
        day: u32,
        before: u64,
        limit: usize,
    ) -> StoreResult<Vec<AuditEntry>>;
}
