//! Contacts and blocks in the embedded engine: a keyspace each (and one for blocks the
//! other way round, written in the same batch), keyed by (org, user, other), the value when
//! they were added.

use std::ops::Bound;

use async_trait::async_trait;
use fjall::Keyspace;

use super::{EmbeddedStore, Tables, decode, encode, keys};
use crate::model::Relation;
use crate::store::{RelationStore, StoreResult};

/// The keyspace of a kind of list, and its name.
fn table(t: &Tables, kind: Relation) -> (&Keyspace, &'static str) {
    match kind {
        Relation::Contact => (&t.contacts, "contacts"),
        Relation::Block => (&t.blocks, "blocks"),
        Relation::BlockedBy => (&t.blocked_by, "blocked_by"),
    }
}

#[async_trait]
impl RelationStore for EmbeddedStore {
    async fn add_relation(
        &self,
        kind: Relation,
        org: &str,
        user: &str,
        other: &str,
        at_ms: i64,
    ) -> StoreResult<bool> {
        if kind == Relation::BlockedBy {
            return Ok(false); // written with the block
        }
        self.write("add_relation", |t, batch| {
            let (keyspace, _) = table(t, kind);
            let key = keys::relation(org, user, other);
            if keyspace.get(&key)?.is_some() {
                return Ok(false);
            }
            batch.insert(keyspace, key, encode(&at_ms));
            if kind == Relation::Block {
                batch.insert(&t.blocked_by, keys::relation(org, other, user), encode(&at_ms));
            }
            Ok(true)
        })
        .await
    }

    async fn remove_relation(
        &self,
        kind: Relation,
        org: &str,
        user: &str,
        other: &str,
    ) -> StoreResult<bool> {
        if kind == Relation::BlockedBy {
            return Ok(false); // written with the block
        }
        self.write("remove_relation", |t, batch| {
            let (keyspace, _) = table(t, kind);
            let key = keys::relation(org, user, other);
            if keyspace.get(&key)?.is_none() {
                return Ok(false);
            }
            batch.remove(keyspace, key);
            if kind == Relation::Block {
                batch.remove(&t.blocked_by, keys::relation(org, other, user));
            }
            Ok(true)
        })
        .await
    }

    async fn get_relation(
        &self,
        kind: Relation,
        org: &str,
        user: &str,
        other: &str,
    ) -> StoreResult<Option<i64>> {
        self.read("get_relation", |t| {
            let (keyspace, name) = table(t, kind);
            let value = keyspace.get(keys::relation(org, user, other))?;
            value.map(|value| decode(name, &value)).transpose()
        })
    }

    async fn list_relations(
        &self,
        kind: Relation,
        org: &str,
        user: &str,
        after: &str,
        limit: usize,
    ) -> StoreResult<Vec<(String, i64)>> {
        self.read("list_relations", |t| {
            let (keyspace, name) = table(t, kind);
            let prefix = keys::user_prefix(org, user);
            let start = match after {
                "" => Bound::Included(prefix.clone()),
                after => Bound::Excluded(keys::relation(org, user, after)),
            };
            let mut others = Vec::new();
            for item in keyspace.range((start, Bound::Unbounded)) {
                let (key, value) = item.into_inner()?;
                if !key.starts_with(&prefix) || others.len() == limit {
                    break;
                }
                let other = keys::relation_other(&key[prefix.len()..]);
                others.push((other, decode(name, &value)?));
            }
            Ok(others)
        })
    }
}
