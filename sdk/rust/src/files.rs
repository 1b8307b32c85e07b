//! Attachments: the Files calls, and helpers that move the bytes over the presigned URLs
//! the controller hands out (one PUT, or one per part), reporting progress as they go.

use std::path::Path;

use futures_util::StreamExt;
use switchboard_proto::v1 as pb;
use tokio::io::{AsyncReadExt, AsyncSeekExt, AsyncWrite, AsyncWriteExt};

use crate::client::{Client, Result, SdkError};

impl Client {
    pub async fn create_upload(
        &self,
        request: pb::CreateUploadRequest,
    ) -> Result<pb::CreateUploadResponse> {
        Ok(self.files.clone().create_upload(request).await?.into_inner())
    }

    pub async fn complete_upload(&self, attachment_id: u64) -> Result<pb::Attachment> {
        let request = pb::CompleteUploadRequest { attachment_id };
        Ok(self.files.clone().complete_upload(request).await?.into_inner())
    }

    pub async fn get_attachment(&self, attachment_id: u64) -> Result<pb::Attachment> {
        let request = pb::GetAttachmentRequest { attachment_id };
        Ok(self.files.clone().get_attachment(request).await?.into_inner())
    }

    pub async fn download_url(&self, attachment_id: u64) -> Result<pb::GetDownloadUrlResponse> {
        let request = pb::GetDownloadUrlRequest { attachment_id };
        Ok(self.files.clone().get_download_url(request).await?.into_inner())
    }

    pub async fn delete_attachment(&self, attachment_id: u64) -> Result<pb::Attachment> {
        let request = pb::DeleteAttachmentRequest { attachment_id };
        Ok(self.files.clone().delete_attachment(request).await?.into_inner())
    }

    /// A page of a conversation's files, newest first: of one `kind` ("image", "video",
    /// "audio", "file"; "" for all), before attachment `before` (0 first).
    pub async fn list_conversation_files(
        &self,
        channel_id: u64,
        kind: &str,
        before_id: u64,
        limit: u32,
    ) -> Result<pb::ListFilesResponse> {
        let request =
            pb::ListConversationFilesRequest { channel_id, kind: kind.into(), before_id, limit };
        Ok(self.files.clone().list_conversation_files(request).await?.into_inner())
    }

    /// A page of the caller's uploads, newest first, before attachment `before` (0 first).
    pub async fn list_my_uploads(
        &self,
        before_id: u64,
        limit: u32,
    ) -> Result<pb::ListFilesResponse> {
        let request = pb::ListMyUploadsRequest { before_id, limit };
        Ok(self.files.clone().list_my_uploads(request).await?.into_inner())
    }

    /// Uploads a file to a conversation and completes it; `progress` gets the bytes sent
    /// so far. The attachment can then be sent with [`Client::send_attachment`].
    pub async fn upload_file(
        &self,
        channel_id: u64,
        path: &Path,
        content_type: &str,
        progress: impl Fn(u64),
    ) -> Result<pb::Attachment> {
        let file = tokio::fs::File::open(path).await.map_err(|e| io_error(path, e))?;
        let size = file.metadata().await.map_err(|e| io_error(path, e))?.len();
        let filename = path.file_name().map_or("file".into(), |n| n.to_string_lossy().into());
        let request = pb::CreateUploadRequest {
            channel_id,
            filename,
            content_type: content_type.into(),
            size,
            ..Default::default()
        };
        self.upload(request, Source::File(path, file), progress).await
    }

    /// Like [`Client::upload_file`], from memory.
    pub async fn upload_bytes(
        &self,
        channel_id: u64,
        filename: &str,
        content_type: &str,
        data: &[u8],
        progress: impl Fn(u64),
    ) -> Result<pb::Attachment> {
        let request = pb::CreateUploadRequest {
            channel_id,
            filename: filename.into(),
            content_type: content_type.into(),
            size: data.len() as u64,
            ..Default::default()
        };
        self.upload(request, Source::Memory(data), progress).await
    }

    /// Uploads a picture (PNG, JPEG, GIF or WebP, at most 5 MiB) and makes it the caller's
    /// avatar; the one it replaces is deleted. Returns the profile as it is now.
    pub async fn set_avatar(
        &self,
        filename: &str,
        content_type: &str,
        data: &[u8],
    ) -> Result<pb::Profile> {
        let request = pb::CreateUploadRequest {
            channel_id: 0,
            filename: filename.into(),
            content_type: content_type.into(),
            size: data.len() as u64,
            purpose: pb::UploadPurpose::Avatar as i32,
        };
        let attachment = self.upload(request, Source::Memory(data), |_| {}).await?;
        let profile = pb::Profile { avatar_id: attachment.id, ..Default::default() };
        self.update_profile("", profile, &["avatar"]).await
    }

    /// Removes `user`'s avatar (`""`: the caller's; someone else's needs `chat.admin`) and
    /// deletes its picture.
    pub async fn clear_avatar(&self, user: &str) -> Result<pb::Profile> {
        self.update_profile(user, pb::Profile::default(), &["avatar"]).await
    }

    /// Creates the upload, PUTs every part from `source`, and completes it.
    async fn upload(
        &self,
        request: pb::CreateUploadRequest,
        mut source: Source<'_>,
        progress: impl Fn(u64),
    ) -> Result<pb::Attachment> {
        let upload = self.create_upload(request).await?;
        let mut sent = 0;
        for part in &upload.parts {
            let bytes = source.part(part).await?;
            self.put_part(part, &upload.headers, bytes, &mut sent, &progress).await?;
        }
        let attachment = upload.attachment.ok_or(SdkError::MissingField("attachment"))?;
        self.complete_upload(attachment.id).await
    }

    /// PUTs one part's bytes to its URL.
    async fn put_part(
        &self,
        part: &pb::UploadPart,
        headers: &std::collections::HashMap<String, String>,
        bytes: Vec<u8>,
        sent: &mut u64,
        progress: &impl Fn(u64),
    ) -> Result<()> {
        let length = bytes.len();
        let mut request = self.http.put(&part.url).header("content-length", length);
        for (name, value) in headers {
            request = request.header(name, value);
        }
        let response = request.body(bytes).send().await.map_err(http_failed)?;
        check(response).await?;
        *sent += length as u64;
        progress(*sent);
        Ok(())
    }

    /// Sends a message carrying an uploaded attachment (its type picks the message type:
    /// image, video, audio or file), with an optional caption in `custom_fields["caption"]`.
    pub async fn send_attachment(
        &self,
        channel_id: u64,
        attachment: &pb::Attachment,
        caption: Option<&str>,
    ) -> Result<pb::Message> {
        let kind = match attachment.content_type.split('/').next() {
            Some("image") => pb::MessageType::Image,
            Some("video") => pb::MessageType::Video,
            Some("audio") => pb::MessageType::Audio,
            _ => pb::MessageType::File,
        };
        let mut request = pb::SendMessageRequest {
            channel_id,
            r#type: kind as i32,
            data: attachment.id.to_string(),
            ..Default::default()
        };
        if let Some(caption) = caption {
            request.custom_fields.insert("caption".into(), caption.into());
        }
        self.send(request).await?.message.ok_or(SdkError::MissingField("message"))
    }

    /// Downloads an attachment into `out`; `progress` gets the bytes received so far.
    pub async fn download(
        &self,
        attachment_id: u64,
        out: &mut (impl AsyncWrite + Unpin),
        progress: impl Fn(u64),
    ) -> Result<pb::Attachment> {
        let download = self.download_url(attachment_id).await?;
        self.fetch(&download.url, out, progress).await?;
        download.attachment.ok_or(SdkError::MissingField("attachment"))
    }

    /// Downloads what a download URL (an attachment's, an export's) serves into `out`;
    /// `progress` gets the bytes received so far. Returns how many there were.
    pub async fn fetch(
        &self,
        url: &str,
        out: &mut (impl AsyncWrite + Unpin),
        progress: impl Fn(u64),
    ) -> Result<u64> {
        let response = self.http.get(url).send().await.map_err(http_failed)?;
        let mut body = check(response).await?.bytes_stream();
        let mut received = 0;
        while let Some(chunk) = body.next().await {
            let chunk = chunk.map_err(http_failed)?;
            out.write_all(&chunk).await.map_err(|e| SdkError::Io(e.to_string()))?;
            received += chunk.len() as u64;
            progress(received);
        }
        out.flush().await.map_err(|e| SdkError::Io(e.to_string()))?;
        Ok(received)
    }
}

/// Where an upload's bytes come from.
enum Source<'a> {
    File(&'a Path, tokio::fs::File),
    Memory(&'a [u8]),
}

impl Source<'_> {
    /// The bytes of one part.
    async fn part(&mut self, part: &pb::UploadPart) -> Result<Vec<u8>> {
        let (start, end) = (part.offset as usize, (part.offset + part.length) as usize);
        match self {
            Source::File(path, file) => {
                let mut bytes = vec![0; end - start];
                let io = |e| io_error(path, e);
                file.seek(std::io::SeekFrom::Start(part.offset)).await.map_err(io)?;
                file.read_exact(&mut bytes).await.map_err(io)?;
                Ok(bytes)
            }
            Source::Memory(data) => data
                .get(start..end)
                .map(<[u8]>::to_vec)
                .ok_or(SdkError::MissingField("part within the data")),
        }
    }
}

fn io_error(path: &Path, error: std::io::Error) -> SdkError {
    SdkError::Io(format!("{}: {error}", path.display()))
}

fn http_failed(error: reqwest::Error) -> SdkError {
    SdkError::Http(error.to_string())
}

/// The response, if it succeeded; its status and body as the error otherwise.
async fn check(response: reqwest::Response) -> Result<reqwest::Response> {
    let status = response.status();
    if status.is_success() {
        return Ok(response);
    }
    let body = response.text().await.unwrap_or_default();
    Err(SdkError::Http(format!("{status}: {}", body.trim())))
}
