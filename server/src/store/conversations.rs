//! Conversations: their metadata, each org's list of them, and the one DM per pair and
//! one SELF per user.

use async_trait::async_trait;

use super::StoreResult;
use crate::model::{Conversation, ConversationId, Member};

#[async_trait]
pub trait ConversationStore: Send + Sync {
    /// Writes a new conversation and its first members (their user index rows included).
    async fn create_conversation(
        &self,
        conversation: &Conversation,
        members: &[Member],
    ) -> StoreResult<()>;

    async fn get_conversation(&self, id: ConversationId) -> StoreResult<Option<Conversation>>;

    /// Up to `limit` ids of `org`'s conversations after `after`, in id order (every kind,
    /// archived ones too): what walks an org's conversations (retention) reads.
    async fn list_org_conversations(
        &self,
        org: &str,
        after: ConversationId,
        limit: usize,
    ) -> StoreResult<Vec<ConversationId>>;

    /// Replaces a conversation's metadata (name, icon, tags, restricted, archived, custom
    /// fields). `member_count`, `owner` and `external_key` are left as stored.
    async fn update_conversation(&self, conversation: &Conversation) -> StoreResult<Conversation>;

    /// The DIRECT conversation of the two members' pair, created from `conversation` if the
    /// pair has none yet. Race-free: concurrent callers all get the same conversation.
    async fn get_or_create_direct(
        &self,
        conversation: &Conversation,
        members: &[Member; 2],
    ) -> StoreResult<Conversation>;

    /// The conversation of `org` linked to the business object `key` (see
    /// [`Conversation::external_key`]), if any.
    async fn linked_conversation(
        &self,
        org: &str,
        key: &str,
    ) -> StoreResult<Option<ConversationId>>;

    /// The conversation linked to `conversation.external_key` in its org, created from
    /// `conversation` with `members` if the key has none yet. Race-free: concurrent callers
    /// all get the same conversation.
    async fn get_or_create_linked(
        &self,
        conversation: &Conversation,
        members: &[Member],
    ) -> StoreResult<Conversation>;

    /// The SELF conversation of `owner`, created from `conversation` if it has none yet.
    async fn get_or_create_self(
        &self,
        conversation: &Conversation,
        owner: &Member,
    ) -> StoreResult<Conversation>;
}
