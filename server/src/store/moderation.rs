//! Moderation: the bans and the reports of each conversation.

use async_trait::async_trait;

use super::StoreResult;
use crate::model::{Ban, ConversationId, Report};

#[async_trait]
pub trait ModerationStore: Send + Sync {
    /// Writes a ban (replacing one of the same user).
    async fn put_ban(&self, ban: &Ban) -> StoreResult<()>;

    async fn get_ban(&self, id: ConversationId, user: &str) -> StoreResult<Option<Ban>>;

    /// Removes a ban; whether there was one.
    async fn remove_ban(&self, id: ConversationId, user: &str) -> StoreResult<bool>;

    /// A conversation's bans by user id, after `after` (exclusive; "" from the first).
    async fn list_bans(
        &self,
        id: ConversationId,
        after: &str,
        limit: usize,
    ) -> StoreResult<Vec<Ban>>;

    /// Writes a report (a new one, or one handled).
    async fn put_report(&self, report: &Report) -> StoreResult<()>;

    async fn get_report(&self, id: ConversationId, report: u64) -> StoreResult<Option<Report>>;

    /// A conversation's reports with ids below `before`, newest first.
    async fn list_reports(
        &self,
        id: ConversationId,
        before: u64,
        limit: usize,
    ) -> StoreResult<Vec<Report>>;
}
