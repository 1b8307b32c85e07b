//! Read markers, and the private messages each member has not read yet.

use async_trait::async_trait;

use super::StoreResult;
use crate::model::{ConversationId, MessageId, ReadMarker};

#[async_trait]
pub trait ReadStore: Send + Sync {
    /// Moves a user's read marker forward to `marker` (by its place in the log; never
    /// back) and forgets the private messages to them up to it; returns the marker as it
    /// is now.
    async fn advance_read_marker(
        &self,
        conversation: ConversationId,
        user: &str,
        marker: ReadMarker,
    ) -> StoreResult<ReadMarker>;

    /// Every read marker of a conversation: user id and the message they read up to.
    async fn list_read_markers(
        &self,
        conversation: ConversationId,
    ) -> StoreResult<Vec<(String, MessageId)>>;

    /// A user's read marker in a conversation, if they have one.
    async fn get_read_marker(
        &self,
        conversation: ConversationId,
        user: &str,
    ) -> StoreResult<Option<ReadMarker>>;

    /// How many private messages to `user` after log position `after` they have not read
    /// (their marker has not passed), counted up to `limit`.
    async fn count_private_unread(
        &self,
        conversation: ConversationId,
        user: &str,
        after: u64,
        limit: usize,
    ) -> StoreResult<usize>;
}
