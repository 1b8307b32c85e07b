//! `switchboard.v1.Files` over tonic: every call shares the Chat service's admission limit;
//! the domain checks the scope by the file (`chat.files` for a message's, the
//! `user.profile.*` scopes for an avatar).

use switchboard_proto::v1::{self as pb, files_server::Files};
use tonic::Request;

use super::api::{ChatApi, Reply, reply};
use crate::convert;

/// The Files service as served over gRPC.
#[derive(Clone)]
pub struct FilesApi {
    /// Authentication, admission and the domain service, shared with Chat.
    api: ChatApi,
}

impl FilesApi {
    pub fn new(api: ChatApi) -> Self {
        FilesApi { api }
    }
}

#[tonic::async_trait]
impl Files for FilesApi {
    async fn create_upload(
        &self,
        request: Request<pb::CreateUploadRequest>,
    ) -> Reply<pb::CreateUploadResponse> {
        let (caller, _admitted) = self.api.any_writer(&request).await?;
        let r = request.into_inner();
        let upload = self
            .api
            .chat
            .attachments
            .create_upload(
                &caller,
                convert::upload_purpose(r.purpose),
                r.channel_id,
                r.filename,
                &r.content_type,
                r.size,
            )
            .await?;
        let expires_at_ms = upload.attachment.expires_at_ms;
        reply(pb::CreateUploadResponse {
            attachment: Some(convert::attachment(upload.attachment)),
            parts: upload
                .parts
                .into_iter()
                .map(|p| pb::UploadPart {
                    part_number: p.number,
                    url: p.url,
                    offset: p.offset,
                    length: p.length,
                })
                .collect(),
            headers: upload.headers.into_iter().collect(),
            expires_at_ms,
        })
    }

    async fn complete_upload(
        &self,
        request: Request<pb::CompleteUploadRequest>,
    ) -> Reply<pb::Attachment> {
        let (caller, _admitted) = self.api.any_writer(&request).await?;
        let id = request.into_inner().attachment_id;
        reply(convert::attachment(self.api.chat.attachments.complete_upload(&caller, id).await?))
    }

    async fn get_attachment(
        &self,
        request: Request<pb::GetAttachmentRequest>,
    ) -> Reply<pb::Attachment> {
        let (caller, _admitted) = self.api.anyone(&request).await?;
        let id = request.into_inner().attachment_id;
        reply(convert::attachment(self.api.chat.attachments.attachment(&caller, id).await?))
    }

    async fn get_download_url(
        &self,
        request: Request<pb::GetDownloadUrlRequest>,
    ) -> Reply<pb::GetDownloadUrlResponse> {
        let (caller, _admitted) = self.api.anyone(&request).await?;
        let id = request.into_inner().attachment_id;
        let download = self.api.chat.attachments.download_url(&caller, id).await?;
        reply(pb::GetDownloadUrlResponse {
            url: download.url,
            expires_at_ms: download.expires_at_ms,
            attachment: Some(convert::attachment(download.attachment)),
        })
    }

    async fn list_conversation_files(
        &self,
        request: Request<pb::ListConversationFilesRequest>,
    ) -> Reply<pb::ListFilesResponse> {
        let (caller, _admitted) = self.api.anyone(&request).await?;
        let r = request.into_inner();
        let kind = convert::file_kind(&r.kind)?;
        let (attachments, next_before_id) = self
            .api
            .chat
            .attachments
            .conversation_files(&caller, r.channel_id, kind, r.before_id, r.limit)
            .await?;
        let attachments = attachments.into_iter().map(convert::attachment).collect();
        reply(pb::ListFilesResponse { attachments, next_before_id })
    }

    async fn list_my_uploads(
        &self,
        request: Request<pb::ListMyUploadsRequest>,
    ) -> Reply<pb::ListFilesResponse> {
        let (caller, _admitted) = self.api.anyone(&request).await?;
        let r = request.into_inner();
        let (attachments, next_before_id) =
            self.api.chat.attachments.my_uploads(&caller, r.before_id, r.limit).await?;
        let attachments = attachments.into_iter().map(convert::attachment).collect();
        reply(pb::ListFilesResponse { attachments, next_before_id })
    }

    async fn delete_attachment(
        &self,
        request: Request<pb::DeleteAttachmentRequest>,
    ) -> Reply<pb::Attachment> {
        let (caller, _admitted) = self.api.any_writer(&request).await?;
        let id = request.into_inner().attachment_id;
        reply(convert::attachment(self.api.chat.messages.delete_attachment(&caller, id).await?))
    }
}
