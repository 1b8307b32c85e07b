//! Attachments: their metadata, the message that carries each, the uploads still pending,
//! and the indexes that list a conversation's files and a user's uploads.

use async_trait::async_trait;

use super::StoreResult;
use crate::model::{Attachment, AttachmentId, ConversationId, MessageId};

/// The outcome of claiming an attachment for a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AttachmentClaim {
    /// The attachment now belongs to the message.
    Claimed,
    /// Another message (this one) carries it already.
    Taken(MessageId),
    Missing,
}

#[async_trait]
pub trait AttachmentStore: Send + Sync {
    /// Writes an attachment, new or changed. An attachment is listed among the pending
    /// uploads exactly while its state is Pending, and among its uploader's uploads from
    /// the first write.
    async fn put_attachment(&self, attachment: &Attachment) -> StoreResult<()>;

    async fn get_attachment(&self, id: AttachmentId) -> StoreResult<Option<Attachment>>;

    /// Records that `message` carries the attachment, only if no message does yet; from then
    /// on it is listed among its conversation's files.
    async fn claim_attachment(
        &self,
        id: AttachmentId,
        message: MessageId,
    ) -> StoreResult<AttachmentClaim>;

    /// Up to `limit` ids of the files sent in a conversation, newest first, those before
    /// `before` when given.
    async fn list_conversation_files(
        &self,
        conversation: ConversationId,
        before: Option<AttachmentId>,
        limit: usize,
    ) -> StoreResult<Vec<AttachmentId>>;

    /// Up to `limit` ids of a user's uploads in `org`, newest first, those before `before`
    /// when given.
    async fn list_user_uploads(
        &self,
        org: &str,
        user: &str,
        before: Option<AttachmentId>,
        limit: usize,
    ) -> StoreResult<Vec<AttachmentId>>;

    /// Up to `limit` pending uploads whose deadline passed before `now_ms`.
    async fn expired_uploads(&self, now_ms: i64, limit: usize) -> StoreResult<Vec<Attachment>>;
}
