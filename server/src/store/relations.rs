//! What a user keeps of other users of their org: their contacts, and whom they block. One
//! list per (org, user) and kind, ordered by the other user's id. A block is also kept the
//! other way round (`Relation::BlockedBy`), written and removed with it.

use async_trait::async_trait;

use super::StoreResult;
use crate::model::Relation;

#[async_trait]
pub trait RelationStore: Send + Sync {
    /// Adds `other` to `user`'s list of `kind` (at `at_ms`); false if already there. A
    /// block puts `user` on `other`'s `BlockedBy` as well; `BlockedBy` itself is not added
    /// to directly.
    async fn add_relation(
        &self,
        kind: Relation,
        org: &str,
        user: &str,
        other: &str,
        at_ms: i64,
    ) -> StoreResult<bool>;

    /// Takes `other` off `user`'s list of `kind` (a block off `other`'s `BlockedBy` too);
    /// false if not there.
    async fn remove_relation(
        &self,
        kind: Relation,
        org: &str,
        user: &str,
        other: &str,
    ) -> StoreResult<bool>;

    /// When `other` was put on `user`'s list of `kind`, if they are on it.
    async fn get_relation(
        &self,
        kind: Relation,
        org: &str,
        user: &str,
        other: &str,
    ) -> StoreResult<Option<i64>>;

    /// `user`'s list of `kind` after the user id `after` ("" from the start), by user id,
    /// at most `limit`: each other user with when they were added.
    async fn list_relations(
        &self,
        kind: Relation,
        org: &str,
        user: &str,
        after: &str,
        limit: usize,
    ) -> StoreResult<Vec<(String, i64)>>;
}
