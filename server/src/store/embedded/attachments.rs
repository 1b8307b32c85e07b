//! Attachments, the pending uploads index, and the indexes of conversations' files and
//! users' uploads in the embedded engine.

use async_trait::async_trait;

use super::{EmbeddedStore, encode, get, keys};
use crate::model::{Attachment, AttachmentId, AttachmentState, ConversationId, MessageId};
use crate::store::{AttachmentClaim, AttachmentStore, StoreResult};

#[async_trait]
impl AttachmentStore for EmbeddedStore {
    async fn put_attachment(&self, attachment: &Attachment) -> StoreResult<()> {
        self.write("put_attachment", |t, batch| {
            batch.insert(&t.attachments, &attachment.id.to_be_bytes()[..], encode(attachment));
            let pending = keys::pending_upload(attachment.expires_at_ms, attachment.id);
            if attachment.state == AttachmentState::Pending {
                batch.insert(&t.pending_uploads, &pending[..], &[][..]);
            } else {
                batch.remove(&t.pending_uploads, &pending[..]);
            }
            let upload = keys::user_entry(&attachment.org, &attachment.uploader, attachment.id);
            batch.insert(&t.user_uploads, upload, &[][..]);
            Ok(())
        })
        .await
    }

    async fn get_attachment(&self, id: AttachmentId) -> StoreResult<Option<Attachment>> {
        self.read("get_attachment", |t| get("attachments", &t.attachments, &id.to_be_bytes()))
    }

    async fn claim_attachment(
        &self,
        id: AttachmentId,
        message: MessageId,
    ) -> StoreResult<AttachmentClaim> {
        self.write("claim_attachment", |t, batch| {
            let Some(mut attachment) =
                get::<Attachment>("attachments", &t.attachments, &id.to_be_bytes())?
            else {
                return Ok(AttachmentClaim::Missing);
            };
            if let Some(taken) = attachment.message_id {
                return Ok(AttachmentClaim::Taken(taken));
            }
            attachment.message_id = Some(message);
            batch.insert(&t.attachments, &id.to_be_bytes()[..], encode(&attachment));
            let file = keys::item(attachment.channel_id, id);
            batch.insert(&t.conversation_files, &file[..], &[][..]);
            Ok(AttachmentClaim::Claimed)
        })
        .await
    }

    async fn list_conversation_files(
        &self,
        conversation: ConversationId,
        before: Option<AttachmentId>,
        limit: usize,
    ) -> StoreResult<Vec<AttachmentId>> {
        self.read("list_conversation_files", |t| {
            let low = keys::item(conversation, 0);
            let high = keys::item(conversation, before.unwrap_or(u64::MAX));
            let mut ids = Vec::new();
            for row in t.conversation_files.range(&low[..]..&high[..]).rev().take(limit) {
                ids.push(keys::last_id(&row.key()?));
            }
            Ok(ids)
        })
    }

    async fn list_user_uploads(
        &self,
        org: &str,
        user: &str,
        before: Option<AttachmentId>,
        limit: usize,
    ) -> StoreResult<Vec<AttachmentId>> {
        self.read("list_user_uploads", |t| {
            let low = keys::user_entry(org, user, 0);
            let high = keys::user_entry(org, user, before.unwrap_or(u64::MAX));
            let mut ids = Vec::new();
            for row in t.user_uploads.range(&low[..]..&high[..]).rev().take(limit) {
                ids.push(keys::last_id(&row.key()?));
            }
            Ok(ids)
        })
    }

    async fn expired_uploads(&self, now_ms: i64, limit: usize) -> StoreResult<Vec<Attachment>> {
        self.read("expired_uploads", |t| {
            let end = keys::pending_upload(now_ms, 0);
            let mut expired = Vec::new();
            for item in t.pending_uploads.range(&[0u8; 16][..]..&end[..]).take(limit) {
                let id = keys::pending_upload_id(&item.key()?);
                if let Some(attachment) = get("attachments", &t.attachments, &id.to_be_bytes())? {
                    expired.push(attachment);
                }
            }
            Ok(expired)
        })
    }
}
