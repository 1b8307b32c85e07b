//! Members: who is in a conversation with which role, and each user's conversations.

use async_trait::async_trait;

use super::StoreResult;
use crate::model::{Conversation, ConversationId, LogEntry, Member, Role};

/// The outcome of a compare-and-set on a member's role.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RoleChange {
    Changed,
    /// The member's role was not the expected one (someone else changed it first).
    Conflict,
    NotAMember,
}

#[async_trait]
pub trait MemberStore: Send + Sync {
    async fn get_member(&self, id: ConversationId, user: &str) -> StoreResult<Option<Member>>;

    /// Members ordered by user id, starting after `after`.
    async fn list_members(
        &self,
        id: ConversationId,
        after: &str,
        limit: usize,
    ) -> StoreResult<Vec<Member>>;

    /// Adds members who are not in yet; returns those it added.
    async fn add_members(&self, id: ConversationId, members: &[Member])
    -> StoreResult<Vec<Member>>;

    /// Removes a member (`by` themselves, or an admin) and appends the removal to the
    /// conversation's log; its entry, or None if they were not a member.
    async fn remove_member(
        &self,
        id: ConversationId,
        user: &str,
        by: &str,
    ) -> StoreResult<Option<LogEntry>>;

    /// Sets a member's role to `new` only if it is `expected` now.
    async fn change_role(
        &self,
        id: ConversationId,
        user: &str,
        expected: Role,
        new: Role,
    ) -> StoreResult<RoleChange>;

    /// Makes `to` the owner and `from` an admin, only if `from` is still the owner and `to`
    /// still a member. Returns the updated conversation, or None if either condition failed.
    async fn transfer_ownership(
        &self,
        id: ConversationId,
        from: &str,
        to: &str,
    ) -> StoreResult<Option<Conversation>>;

    /// Mutes or unmutes the conversation for one member; false if they are not a member.
    async fn set_muted(&self, id: ConversationId, user: &str, muted: bool) -> StoreResult<bool>;

    /// Slow mode's compare-and-set: a plain member's last post becomes `now_ms` if it is
    /// still `seen_ms` (0: never); whether it did (false: someone posted first, or they
    /// are no longer a plain member).
    async fn claim_post(
        &self,
        id: ConversationId,
        user: &str,
        seen_ms: i64,
        now_ms: i64,
    ) -> StoreResult<bool>;

    /// Ids of a user's conversations in one org, ascending, after `after`.
    async fn list_user_conversations(
        &self,
        org: &str,
        user: &str,
        after: ConversationId,
        limit: usize,
    ) -> StoreResult<Vec<ConversationId>>;
}

/// Conversations read per Store call by [`user_conversations`].
const USER_CONVERSATIONS_PAGE: usize = 1_000;

/// Every conversation `user` of `org` is a member of, read a page at a time (presence
/// goes to all of them; a search covers all of them; a hub refills their joins).
pub async fn user_conversations(
    store: &dyn MemberStore,
    org: &str,
    user: &str,
) -> StoreResult<Vec<ConversationId>> {
    let mut all = Vec::new();
    loop {
        let after = all.last().copied().unwrap_or(0);
        let page = store.list_user_conversations(org, user, after, USER_CONVERSATIONS_PAGE).await?;
        let last_page = page.len() < USER_CONVERSATIONS_PAGE;
        all.extend(page);
        if last_page {
            return Ok(all);
        }
    }
}
