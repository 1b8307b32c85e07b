//! Bans in the ScyllaDB engine: `bans`, one partition per conversation.

use async_trait::async_trait;

use super::ScyllaStore;
use super::rows::to_i64;
use super::statements::Statement;
use crate::model::{Ban, ConversationId};
use crate::store::{ModerationStore, StoreResult};

/// A `bans` row: user, by, at, reason.
type BanRow = (String, String, i64, Option<String>);

fn ban(id: ConversationId) -> impl Fn(BanRow) -> Ban {
    move |(user, by, at_ms, reason)| Ban {
        conversation_id: id,
        user,
        by,
        at_ms,
        reason: reason.unwrap_or_default(),
    }
}

#[async_trait]
impl ModerationStore for ScyllaStore {
    async fn put_ban(&self, b: &Ban) -> StoreResult<()> {
        let row = (to_i64(b.conversation_id), &b.user, &b.by, b.at_ms, &b.reason);
        self.run(Statement::BanPut, row).await?;
        Ok(())
    }

    async fn get_ban(&self, id: ConversationId, user: &str) -> StoreResult<Option<Ban>> {
        let rows: Vec<BanRow> = self.rows(Statement::BanGet, (to_i64(id), user)).await?;
        Ok(rows.into_iter().next().map(ban(id)))
    }

    async fn remove_ban(&self, id: ConversationId, user: &str) -> StoreResult<bool> {
        if self.get_ban(id, user).await?.is_none() {
            return Ok(false);
        }
        self.run(Statement::BanDelete, (to_i64(id), user)).await?;
        Ok(true)
    }

    async fn list_bans(
        &self,
        id: ConversationId,
        after: &str,
        limit: usize,
    ) -> StoreResult<Vec<Ban>> {
        let rows: Vec<BanRow> =
            self.rows(Statement::BanList, (to_i64(id), after, limit as i32)).await?;
        Ok(rows.into_iter().map(ban(id)).collect())
    }
}
