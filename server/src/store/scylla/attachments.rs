//! Attachments, the pending uploads index (sharded by id), and the indexes of conversations'
//! files and users' uploads in the ScyllaDB engine.

use async_trait::async_trait;
use scylla::DeserializeRow;
use scylla::statement::batch::BatchType;
use scylla::value::MaybeUnset;

use super::rows::{before_or_end, row_limit, state, state_name, to_i64, unset_if_none};
use super::schema::PENDING_SHARDS;
use super::statements::Statement;
use super::{ScyllaStore, rows};
use crate::model::{Attachment, AttachmentId, AttachmentState, ConversationId, MessageId};
use crate::store::{AttachmentClaim, AttachmentStore, StoreResult};

#[async_trait]
impl AttachmentStore for ScyllaStore {
    async fn put_attachment(&self, a: &Attachment) -> StoreResult<()> {
        let pending = (pending_shard(a.id), a.expires_at_ms, to_i64(a.id));
        let index = match a.state {
            AttachmentState::Pending => Statement::PendingInsert,
            _ => Statement::PendingDelete,
        };
        let statements = [Statement::AttachmentInsert, index, Statement::UploadInsert];
        let upload = (a.org.clone(), a.uploader.clone(), to_i64(a.id));
        self.batch(BatchType::Logged, &statements, (AttachmentRow::values(a), pending, upload))
            .await
    }

    async fn get_attachment(&self, id: AttachmentId) -> StoreResult<Option<Attachment>> {
        let rows: Vec<AttachmentRow> = self.rows(Statement::AttachmentGet, (to_i64(id),)).await?;
        rows.into_iter().next().map(AttachmentRow::into_domain).transpose()
    }

    async fn claim_attachment(
        &self,
        id: AttachmentId,
        message: MessageId,
    ) -> StoreResult<AttachmentClaim> {
        let Some(attachment) = self.get_attachment(id).await? else {
            return Ok(AttachmentClaim::Missing);
        };
        let (claimed, current) =
            self.lwt(Statement::AttachmentClaim, (to_i64(message), to_i64(id))).await?;
        if claimed {
            let file = (to_i64(attachment.channel_id), to_i64(id));
            self.run(Statement::FileInsert, file).await?;
            return Ok(AttachmentClaim::Claimed);
        }
        Ok(AttachmentClaim::Taken(rows::id_column(&current, "message_id")?))
    }

    async fn list_conversation_files(
        &self,
        conversation: ConversationId,
        before: Option<AttachmentId>,
        limit: usize,
    ) -> StoreResult<Vec<AttachmentId>> {
        let before = before_or_end(before);
        let cap = row_limit(limit);
        let rows: Vec<(i64,)> =
            self.rows(Statement::FileRange, (to_i64(conversation), before, cap)).await?;
        Ok(rows.into_iter().map(|(id,)| id as u64).collect())
    }

    async fn list_user_uploads(
        &self,
        org: &str,
        user: &str,
        before: Option<AttachmentId>,
        limit: usize,
    ) -> StoreResult<Vec<AttachmentId>> {
        let before = before_or_end(before);
        let cap = row_limit(limit);
        let rows: Vec<(i64,)> = self.rows(Statement::UploadRange, (org, user, before, cap)).await?;
        Ok(rows.into_iter().map(|(id,)| id as u64).collect())
    }

    async fn expired_uploads(&self, now_ms: i64, limit: usize) -> StoreResult<Vec<Attachment>> {
        let mut expired = Vec::new();
        for shard in 0..PENDING_SHARDS {
            let left = limit.saturating_sub(expired.len());
            if left == 0 {
                break;
            }
            let ids: Vec<(i64,)> =
                self.rows(Statement::PendingList, (shard, now_ms, left as i32)).await?;
            for (id,) in ids {
                if let Some(attachment) = self.get_attachment(id as u64).await? {
                    expired.push(attachment);
                }
            }
        }
        Ok(expired)
    }
}

pub(super) fn pending_shard(id: AttachmentId) -> i32 {
    (id % PENDING_SHARDS as u64) as i32
}

#[derive(DeserializeRow)]
pub(super) struct AttachmentRow {
    id: i64,
    org: String,
    channel_id: i64,
    uploader: String,
    filename: String,
    content_type: String,
    size: i64,
    width: Option<i32>,
    height: Option<i32>,
    state: String,
    multipart: Option<String>,
    created_at_ms: i64,
    expires_at_ms: i64,
    message_id: Option<i64>,
}

pub(super) type AttachmentValues = (
    i64,
    String,
    i64,
    String,
    String,
    String,
    i64,
    MaybeUnset<i32>,
    MaybeUnset<i32>,
    &'static str,
    MaybeUnset<String>,
    i64,
    i64,
    MaybeUnset<i64>,
);

impl AttachmentRow {
    pub(super) fn values(a: &Attachment) -> AttachmentValues {
        (
            to_i64(a.id),
            a.org.clone(),
            to_i64(a.channel_id),
            a.uploader.clone(),
            a.filename.clone(),
            a.content_type.clone(),
            a.size.min(i64::MAX as u64) as i64,
            unset_if_none(a.dimensions.map(|(w, _)| w as i32)),
            unset_if_none(a.dimensions.map(|(_, h)| h as i32)),
            state_name(a.state),
            unset_if_none(a.multipart.clone()),
            a.created_at_ms,
            a.expires_at_ms,
            unset_if_none(a.message_id.map(to_i64)),
        )
    }

    pub(super) fn into_domain(self) -> StoreResult<Attachment> {
        Ok(Attachment {
            id: self.id as u64,
            org: self.org,
            channel_id: self.channel_id as u64,
            uploader: self.uploader,
            filename: self.filename,
            content_type: self.content_type,
            size: self.size.max(0) as u64,
            dimensions: self.width.zip(self.height).map(|(w, h)| (w as u32, h as u32)),
            state: state(&self.state)?,
            multipart: self.multipart,
            created_at_ms: self.created_at_ms,
            expires_at_ms: self.expires_at_ms,
            message_id: self.message_id.map(|id| id as u64),
        })
    }
}
