//! The audit log, per org and day, newest first.

use async_trait::async_trait;

use super::StoreResult;
use crate::model::AuditEntry;

#[async_trait]
pub trait AuditStore: Send + Sync {
    /// Appends an entry to the audit log.
    async fn append_audit(&self, entry: &AuditEntry) -> StoreResult<()>;

    /// Up to `limit` entries of one org's day, newest first, with ids below `before`.
    async fn list_audit(
        &self,
        org: &str,
        day: u32,
        before: u64,
        limit: usize,
    ) -> StoreResult<Vec<AuditEntry>>;
}
