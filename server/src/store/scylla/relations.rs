//! Contacts and blocks in the ScyllaDB engine: a table each, partitioned by (org, user) and
//! clustered by the other user; adding and removing are lightweight transactions, so the
//! answer says whether it changed anything. A block's row the other way round
//! (`blocked_by`) is written once the block is in place (and removed once it is gone).

use async_trait::async_trait;
use scylla::DeserializeRow;

use super::ScyllaStore;
use super::rows::row_limit;
use super::statements::Statement;
use crate::model::Relation;
use crate::store::{RelationStore, StoreResult};

/// The add, remove, get and list statements of a kind of list.
fn statements(kind: Relation) -> [Statement; 4] {
    match kind {
        Relation::Contact => [
            Statement::ContactAdd,
            Statement::ContactRemove,
            Statement::ContactGet,
            Statement::ContactList,
        ],
        Relation::Block => {
            [Statement::BlockAdd, Statement::BlockRemove, Statement::BlockGet, Statement::BlockList]
        }
        Relation::BlockedBy => [
            Statement::BlockedByAdd,
            Statement::BlockedByRemove,
            Statement::BlockedByGet,
            Statement::BlockedByList,
        ],
    }
}

#[async_trait]
impl RelationStore for ScyllaStore {
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
        let [add, ..] = statements(kind);
        let added = self.lwt(add, (org, user, other, at_ms)).await?.0;
        if added && kind == Relation::Block {
            self.run(Statement::BlockedByAdd, (org, other, user, at_ms)).await?;
        }
        Ok(added)
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
        let [_, remove, ..] = statements(kind);
        let removed = self.lwt(remove, (org, user, other)).await?.0;
        if removed && kind == Relation::Block {
            self.run(Statement::BlockedByRemove, (org, other, user)).await?;
        }
        Ok(removed)
    }

    async fn get_relation(
        &self,
        kind: Relation,
        org: &str,
        user: &str,
        other: &str,
    ) -> StoreResult<Option<i64>> {
        let [_, _, get, _] = statements(kind);
        let rows: Vec<(Option<i64>,)> = self.rows(get, (org, user, other)).await?;
        Ok(rows.into_iter().next().map(|(at,)| at.unwrap_or(0)))
    }

    async fn list_relations(
        &self,
        kind: Relation,
        org: &str,
        user: &str,
        after: &str,
        limit: usize,
    ) -> StoreResult<Vec<(String, i64)>> {
        let [.., list] = statements(kind);
        let cap = row_limit(limit);
        let rows: Vec<RelationRow> = self.rows(list, (org, user, after, cap)).await?;
        Ok(rows.into_iter().map(|row| (row.other, row.added_at_ms.unwrap_or(0))).collect())
    }
}

#[derive(DeserializeRow)]
struct RelationRow {
    other: String,
    added_at_ms: Option<i64>,
}
