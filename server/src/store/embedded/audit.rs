//! The audit log in the embedded engine.

use async_trait::async_trait;

use super::{EmbeddedStore, decode, encode, keys};
use crate::model::{AuditEntry, audit_day};
use crate::store::{AuditStore, StoreResult};

#[async_trait]
impl AuditStore for EmbeddedStore {
    async fn append_audit(&self, entry: &AuditEntry) -> StoreResult<()> {
        let key = keys::audit(&entry.org, audit_day(entry.at_ms), entry.id);
        self.write("append_audit", |t, batch| {
            batch.insert(&t.audit, key.clone(), encode(entry));
            Ok(())
        })
        .await
    }

    async fn list_audit(
        &self,
        org: &str,
        day: u32,
        before: u64,
        limit: usize,
    ) -> StoreResult<Vec<AuditEntry>> {
        self.read("list_audit", |t| {
            let range = keys::audit(org, day, 0)..keys::audit(org, day, before);
            let mut entries = Vec::new();
            for item in t.audit.range(range).rev().take(limit) {
                let (_, value) = item.into_inner()?;
                entries.push(decode("audit", &value)?);
            }
            Ok(entries)
        })
    }
}
