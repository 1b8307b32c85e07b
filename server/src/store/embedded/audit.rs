//! The audit log in the embedded engine.

use async_trait::async_trait;

use super::{EmbeddedStore, decode, encode, get, keys};
use crate::model::{AuditEntry, audit_day};
use crate::store::{AuditStore, StoreResult};

#[async_trait]
impl AuditStore for EmbeddedStore {
    async fn append_audit(&self, entry: &AuditEntry, names: &[&str]) -> StoreResult<()> {
        let key = keys::audit(&entry.org, audit_day(entry.at_ms), entry.id);
        self.write("append_audit", |t, batch| {
            batch.insert(&t.audit, key.clone(), encode(entry));
            for user in names {
                let listed = keys::user_entry(&entry.org, user, entry.id);
                batch.insert(&t.user_audit, listed, &key[..]);
            }
            Ok(())
        })
        .await
    }

    async fn rewrite_audit(&self, entry: &AuditEntry) -> StoreResult<()> {
        let key = keys::audit(&entry.org, audit_day(entry.at_ms), entry.id);
        self.write("rewrite_audit", |t, batch| {
            batch.insert(&t.audit, key.clone(), encode(entry));
            Ok(())
        })
        .await
    }

    async fn list_user_audit(
        &self,
        org: &str,
        user: &str,
        limit: usize,
    ) -> StoreResult<Vec<AuditEntry>> {
        self.read("list_user_audit", |t| {
            let mut entries = Vec::new();
            for row in t.user_audit.prefix(keys::user_prefix(org, user)).rev().take(limit) {
                let (_, key) = row.into_inner()?;
                if let Some(entry) = get("audit", &t.audit, &key)? {
                    entries.push(entry);
                }
            }
            Ok(entries)
        })
    }

    async fn forget_user_audit(&self, org: &str, user: &str, ids: &[u64]) -> StoreResult<()> {
        self.write("forget_user_audit", |t, batch| {
            for id in ids {
                batch.remove(&t.user_audit, keys::user_entry(org, user, *id));
            }
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
