//! Moderation: the bans, timeouts and reports of each conversation, and each org's
//! filters and suspended users.

use async_trait::async_trait;

use super::StoreResult;
use crate::model::{Ban, ConversationId, Filter, Report, Suspension, Timeout};

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

    /// Times a user out (`Some`) or lifts their timeout (`None`): kept by conversation and
    /// user, so that it outlasts leaving and joining again, and copied onto their member
    /// row if they are a member (which the send path reads); whether they are one.
    async fn set_timeout(
        &self,
        id: ConversationId,
        user: &str,
        timeout: Option<&Timeout>,
    ) -> StoreResult<bool>;

    /// A user's timeout in a conversation, run out or not (an engine may forget those that
    /// ran out).
    async fn get_timeout(&self, id: ConversationId, user: &str) -> StoreResult<Option<Timeout>>;

    /// Writes a filter.
    async fn put_filter(&self, filter: &Filter) -> StoreResult<()>;

    /// Removes a filter; whether there was one.
    async fn remove_filter(&self, org: &str, id: u64) -> StoreResult<bool>;

    /// An org's filters, oldest first, at most `limit`.
    async fn list_filters(&self, org: &str, limit: usize) -> StoreResult<Vec<Filter>>;

    /// Writes a suspension (replacing one of the same user).
    async fn put_suspension(&self, suspension: &Suspension) -> StoreResult<()>;

    /// Lifts a suspension; whether there was one.
    async fn remove_suspension(&self, org: &str, user: &str) -> StoreResult<bool>;

    /// An org's suspended users by user id, after `after` (exclusive; "" from the first).
    async fn list_suspensions(
        &self,
        org: &str,
        after: &str,
        limit: usize,
    ) -> StoreResult<Vec<Suspension>>;

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
