//! Attachments: uploads started, checked and recorded; sent in messages (at most once);
//! downloaded by members who may see them; deleted with their message. Avatars are uploads
//! in no conversation, which anyone of the org may download once complete. The bytes move
//! between clients and the blob store over presigned URLs and never through here.

use std::sync::Arc;
use std::time::Duration;

use super::{Audit, as_member, policy, sniff};
use crate::access;
use crate::auth::{Caller, Scope};
use crate::blobs::{BlobError, Blobs, FilesConfig};
use crate::error::{ChatError, ChatResult};
use crate::ids::IdGenerator;
use crate::model::{
    Attachment, AttachmentId, AttachmentState, AuditAction, Conversation, ConversationId, Member,
    Message, MessageId, MessageType, UploadPurpose,
};
use crate::store::{AttachmentClaim, Store};
use crate::validate::{self, Violations};

/// Expired uploads removed per sweep.
const SWEEP_BATCH: usize = 200;

/// What an avatar may be: images every browser shows, none that can carry script.
const AVATAR_TYPES: [&str; 4] = ["image/png", "image/jpeg", "image/gif", "image/webp"];
/// Largest avatar, in bytes.
const AVATAR_MAX_BYTES: u64 = 5 * 1024 * 1024;

/// Default and largest page of ListConversationFiles and ListMyUploads.
const FILES_PAGE: (usize, usize) = (50, 200);
/// Files one listing call looks through, at most, for a page.
const FILES_SCAN: usize = 1_000;

/// Where attachment bytes live and the rules uploads follow.
pub struct FileStorage {
    pub blobs: Arc<dyn Blobs>,
    pub config: FilesConfig,
}

/// What CreateUpload hands back: where to PUT which bytes.
#[derive(Debug, Clone)]
pub struct Upload {
    pub attachment: Attachment,
    pub parts: Vec<UploadPart>,
    /// Headers every PUT carries.
    pub headers: Vec<(String, String)>,
}

/// One presigned PUT of `length` bytes from `offset`; part 0 is a whole-object PUT.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UploadPart {
    pub number: u32,
    pub url: String,
    pub offset: u64,
    pub length: u64,
}

/// A presigned GET.
#[derive(Debug, Clone)]
pub struct Download {
    pub url: String,
    pub expires_at_ms: i64,
    pub attachment: Attachment,
}

/// Attachments: uploads, downloads, and their bytes in the blob store.
pub struct Attachments {
    pub(super) store: Arc<dyn Store>,
    pub(super) ids: Arc<IdGenerator>,
    pub(super) files: FileStorage,
    pub(super) audit: Arc<Audit>,
}

impl Attachments {
    /// Routes the blob engine serves on the HTTP port (the local engine's URLs).
    pub fn blob_routes(&self) -> Option<axum::Router> {
        self.files.blobs.routes()
    }

    /// CreateUpload: a pending attachment in a conversation the caller may post to, or a
    /// pending avatar of theirs.
    pub async fn create_upload(
        &self,
        caller: &Caller,
        purpose: UploadPurpose,
        conversation_id: u64,
        filename: String,
        content_type: &str,
        size: u64,
    ) -> ChatResult<Upload> {
        let rules = &self.files.config;
        let mut violations = Violations::new();
        let max_bytes = match purpose {
            UploadPurpose::Message => {
                policy::scope(caller, Scope::Files)?;
                violations.check("channel_id", validate::check_id(conversation_id));
                rules.max_bytes
            }
            UploadPurpose::Avatar => {
                policy::scope(caller, Scope::UploadAvatar)?;
                if conversation_id != 0 {
                    let why = "an avatar belongs to no conversation: leave it 0";
                    violations.check("channel_id", Err(why.into()));
                }
                AVATAR_MAX_BYTES
            }
        };
        violations.check("filename", validate::check_filename(&filename));
        let content_type = match validate::check_content_type(content_type) {
            Ok(normalized) => {
                if let Some(why) = self.type_refused(purpose, &normalized) {
                    violations.check("content_type", Err(why));
                }
                normalized
            }
            Err(why) => {
                violations.check("content_type", Err(why));
                String::new()
            }
        };
        if size == 0 || size > max_bytes {
            let why = format!("must be 1 to {max_bytes} bytes, got {size}");
            violations.check("size", Err(why));
        }
        violations.finish()?;
        if purpose == UploadPurpose::Message {
            let (conversation, me) = as_member(&*self.store, caller, conversation_id).await?;
            policy::writable(&conversation)?;
            policy::may_post(&conversation, &me)?;
            policy::not_timed_out(&me, self.ids.now_ms())?;
        }

        let id = self.ids.next_id();
        let now = self.ids.now_ms();
        let ttl = Duration::from_secs(rules.upload_ttl_secs);
        let mut attachment = Attachment {
            id,
            org: caller.org.clone(),
            channel_id: conversation_id,
            uploader: caller.user.clone(),
            filename,
            content_type: content_type.clone(),
            size,
            dimensions: None,
            state: AttachmentState::Pending,
            multipart: None,
            created_at_ms: now,
            expires_at_ms: now + ttl.as_millis() as i64,
            message_id: None,
        };
        let key = attachment.upload_key();
        let blobs = &self.files.blobs;
        let parts = if size > rules.multipart_threshold_bytes {
            let upload = blobs.start_multipart(&key, &content_type).await?;
            let mut parts = Vec::new();
            for (index, offset) in (0..size).step_by(rules.part_bytes as usize).enumerate() {
                let number = index as u32 + 1;
                let length = rules.part_bytes.min(size - offset);
                let url = blobs.presign_part(&key, &upload, number, length, ttl).await?;
                parts.push(UploadPart { number, url, offset, length });
            }
            attachment.multipart = Some(upload);
            parts
        } else {
            let url = blobs.presign_put(&key, &content_type, size, ttl).await?;
            vec![UploadPart { number: 0, url, offset: 0, length: size }]
        };
        self.store.put_attachment(&attachment).await?;
        let headers = vec![("content-type".to_string(), content_type)];
        Ok(Upload { attachment, parts, headers })
    }

    /// Why uploads for `purpose` may not be of `content_type`, if they may not.
    fn type_refused(&self, purpose: UploadPurpose, content_type: &str) -> Option<String> {
        match purpose {
            UploadPurpose::Message => (!self.files.config.allows(content_type))
                .then(|| format!("{content_type} is not allowed here")),
            UploadPurpose::Avatar => (!AVATAR_TYPES.contains(&content_type)).then(|| {
                format!("an avatar is a PNG, JPEG, GIF or WebP image, not {content_type}")
            }),
        }
    }

    /// CompleteUpload: moves what arrived where no upload URL reaches (so nothing can change
    /// it after the check), checks it (size, then content against the declared type) and
    /// makes the attachment sendable. A mismatch deletes the bytes and voids the upload.
    pub async fn complete_upload(
        &self,
        caller: &Caller,
        id: AttachmentId,
    ) -> ChatResult<Attachment> {
        Violations::new().check("attachment_id", validate::check_id(id)).finish()?;
        let mut attachment = self.attachment_of_org(caller, id).await?;
        match attachment.purpose() {
            UploadPurpose::Message => drop(self.in_conversation(caller, &attachment).await?),
            UploadPurpose::Avatar => policy::scope(caller, Scope::UploadAvatar)?,
        }
        if attachment.uploader != caller.user {
            return Err(ChatError::denied("only the uploader may complete an upload"));
        }
        match attachment.state {
            AttachmentState::Complete => return Ok(attachment),
            AttachmentState::Deleted => {
                return Err(ChatError::precondition("the upload was deleted"));
            }
            AttachmentState::Expired => return Err(ChatError::precondition("the upload expired")),
            AttachmentState::Pending if self.ids.now_ms() > attachment.expires_at_ms => {
                return Err(ChatError::precondition("the upload expired"));
            }
            AttachmentState::Pending => {}
        }
        let (uploaded, key) = (attachment.upload_key(), attachment.blob_key());
        let blobs = &self.files.blobs;
        if let Some(upload) = &attachment.multipart {
            let parts = attachment.size.div_ceil(self.files.config.part_bytes) as u32;
            match blobs.complete_multipart(&uploaded, upload, parts).await {
                Err(BlobError::Incomplete { found, expected }) => {
                    return Err(ChatError::precondition(format!(
                        "the upload is incomplete: {found} of {expected} parts arrived"
                    )));
                }
                other => other?,
            }
            attachment.multipart = None;
        }
        // Sealed only once something arrived: completing too early leaves the URLs open.
        if blobs.size(&uploaded).await?.is_some() {
            blobs.seal(&uploaded, &key).await?;
        }
        let Some(stored) = blobs.size(&key).await? else {
            return Err(ChatError::precondition("nothing was uploaded yet"));
        };
        if stored != attachment.size {
            let why = format!("declared {} bytes, but {stored} arrived", attachment.size);
            return Err(self.void_upload(attachment, "size", why).await);
        }
        let first = blobs.first_bytes(&key, sniff::SNIFF_BYTES).await?;
        if let Err(why) = sniff::check(&attachment.content_type, &first) {
            return Err(self.void_upload(attachment, "content_type", why).await);
        }
        attachment.dimensions = sniff::dimensions(&attachment.content_type, &first);
        attachment.state = AttachmentState::Complete;
        self.store.put_attachment(&attachment).await?;
        Ok(attachment)
    }

    /// Deletes the bytes of a failed upload, marks it deleted, and returns the error to
    /// answer with.
    async fn void_upload(&self, mut attachment: Attachment, field: &str, why: String) -> ChatError {
        if let Err(error) = self.files.blobs.delete(&attachment.blob_key()).await {
            return error.into();
        }
        attachment.state = AttachmentState::Deleted;
        if let Err(error) = self.store.put_attachment(&attachment).await {
            return error.into();
        }
        ChatError::invalid(field, format!("{why}; the upload was discarded"))
    }

    /// GetAttachment.
    pub async fn attachment(&self, caller: &Caller, id: AttachmentId) -> ChatResult<Attachment> {
        Violations::new().check("attachment_id", validate::check_id(id)).finish()?;
        self.readable(caller, id).await
    }

    /// GetDownloadUrl: a short-lived GET of a complete attachment.
    pub async fn download_url(&self, caller: &Caller, id: AttachmentId) -> ChatResult<Download> {
        Violations::new().check("attachment_id", validate::check_id(id)).finish()?;
        let attachment = self.readable(caller, id).await?;
        if attachment.state != AttachmentState::Complete {
            return Err(ChatError::precondition(format!("attachment {id} is not available")));
        }
        let ttl = Duration::from_secs(self.files.config.download_ttl_secs);
        let url = self
            .files
            .blobs
            .presign_get(
                &attachment.blob_key(),
                &attachment.filename,
                &attachment.content_type,
                ttl,
            )
            .await?;
        let expires_at_ms = self.ids.now_ms() + ttl.as_millis() as i64;
        Ok(Download { url, expires_at_ms, attachment })
    }

    /// ListConversationFiles: the files sent in a conversation's messages that the caller
    /// may see (of one message type when `kind` is given), newest first, before `before`;
    /// and where the next page starts (0 after the last). A page may be short and still have
    /// a next one: a call looks through a bounded number of files.
    pub async fn conversation_files(
        &self,
        caller: &Caller,
        conversation_id: ConversationId,
        kind: Option<MessageType>,
        before: AttachmentId,
        limit: u32,
    ) -> ChatResult<(Vec<Attachment>, AttachmentId)> {
        policy::scope(caller, Scope::Files)?;
        let limit = validate::page_size(limit, FILES_PAGE.0, FILES_PAGE.1)?;
        Violations::new().check("channel_id", validate::check_id(conversation_id)).finish()?;
        as_member(&*self.store, caller, conversation_id).await?;
        let store = &*self.store;
        let page = |before, count| store.list_conversation_files(conversation_id, before, count);
        self.files_page(page, before, limit, |attachment| async move {
            if attachment.state != AttachmentState::Complete
                || kind.is_some_and(|kind| attachment.message_type() != kind)
            {
                return Ok(None);
            }
            let Some(message) = attachment.message_id else { return Ok(None) };
            let visible = store
                .get_message(conversation_id, message)
                .await?
                .is_some_and(|m| !m.deleted && m.visible_to(&caller.user));
            Ok(visible.then_some(attachment))
        })
        .await
    }

    /// ListMyUploads: the caller's uploads in every conversation, and their avatars, newest
    /// first, before `before` (deleted and expired ones left out); and where the next page
    /// starts (0 after the last).
    pub async fn my_uploads(
        &self,
        caller: &Caller,
        before: AttachmentId,
        limit: u32,
    ) -> ChatResult<(Vec<Attachment>, AttachmentId)> {
        policy::scope(caller, Scope::Files)?;
        let limit = validate::page_size(limit, FILES_PAGE.0, FILES_PAGE.1)?;
        let (org, user) = (&caller.org, &caller.user);
        let page = |before, count| self.store.list_user_uploads(org, user, before, count);
        self.files_page(page, before, limit, |attachment| async move {
            let gone =
                matches!(attachment.state, AttachmentState::Deleted | AttachmentState::Expired);
            Ok((!gone).then_some(attachment))
        })
        .await
    }

    /// Up to `limit` attachments that `keep` keeps, from the ids `page` lists newest first
    /// before `before` (0: from the newest), looking through at most `FILES_SCAN` ids; and
    /// where the next page starts (0 after the last).
    async fn files_page<P, Kf>(
        &self,
        page: impl Fn(Option<AttachmentId>, usize) -> P,
        before: AttachmentId,
        limit: usize,
        keep: impl Fn(Attachment) -> Kf,
    ) -> ChatResult<(Vec<Attachment>, AttachmentId)>
    where
        P: std::future::Future<Output = crate::store::StoreResult<Vec<AttachmentId>>>,
        Kf: std::future::Future<Output = ChatResult<Option<Attachment>>>,
    {
        let mut kept = Vec::new();
        let mut cursor = (before != 0).then_some(before);
        let mut scanned = 0;
        while scanned < FILES_SCAN {
            let ids = page(cursor, limit.min(FILES_SCAN - scanned)).await?;
            let exhausted = ids.len() < limit.min(FILES_SCAN - scanned);
            for id in ids {
                scanned += 1;
                cursor = Some(id);
                let Some(attachment) = self.store.get_attachment(id).await? else { continue };
                if let Some(attachment) = keep(attachment).await? {
                    kept.push(attachment);
                    if kept.len() == limit {
                        return Ok((kept, id));
                    }
                }
            }
            if exhausted {
                return Ok((kept, 0));
            }
        }
        Ok((kept, cursor.unwrap_or(0)))
    }

    /// An attachment of the caller's org; NOT_FOUND for any other, as for an unknown id.
    pub(super) async fn attachment_of_org(
        &self,
        caller: &Caller,
        id: AttachmentId,
    ) -> ChatResult<Attachment> {
        match self.store.get_attachment(id).await? {
            Some(attachment) if attachment.org == caller.org => Ok(attachment),
            _ => Err(ChatError::not_found(format!("attachment {id} not found"))),
        }
    }

    /// An attachment the caller may read: one in a conversation where
    /// [`Self::in_conversation`] lets them; an avatar, for anyone of the org with
    /// `user.profile.view` once complete, and for its uploader before. NOT_FOUND otherwise.
    async fn readable(&self, caller: &Caller, id: AttachmentId) -> ChatResult<Attachment> {
        let attachment = self.attachment_of_org(caller, id).await?;
        match attachment.purpose() {
            UploadPurpose::Message => drop(self.in_conversation(caller, &attachment).await?),
            UploadPurpose::Avatar => {
                policy::scope(caller, Scope::ProfileView)?;
                let complete = attachment.state == AttachmentState::Complete;
                if !complete && attachment.uploader != caller.user {
                    return Err(ChatError::not_found(format!("attachment {id} not found")));
                }
            }
        }
        Ok(attachment)
    }

    /// The conversation of a message's attachment and the caller's membership, if they
    /// may see it (scope `chat.files`): a member of its conversation and, once it is sent,
    /// able to see its message. NOT_FOUND otherwise (PERMISSION_DENIED for non-members of a
    /// conversation of their org).
    pub(super) async fn in_conversation(
        &self,
        caller: &Caller,
        attachment: &Attachment,
    ) -> ChatResult<(Conversation, Member)> {
        policy::scope(caller, Scope::Files)?;
        let (conversation, me) = as_member(&*self.store, caller, attachment.channel_id).await?;
        if let Some(message) = attachment.message_id
            && access::visible_message(&*self.store, &caller.user, attachment.channel_id, message)
                .await
                .is_err()
        {
            return Err(ChatError::not_found(format!("attachment {} not found", attachment.id)));
        }
        Ok((conversation, me))
    }

    /// The avatar `user`'s profile may be given: a complete avatar upload of theirs.
    pub(super) async fn avatar_for(
        &self,
        caller: &Caller,
        user: &str,
        id: AttachmentId,
    ) -> ChatResult<()> {
        let attachment = self.attachment_of_org(caller, id).await?;
        if attachment.purpose() != UploadPurpose::Avatar {
            let why = format!("attachment {id} is a message's file, not an avatar upload");
            return Err(ChatError::invalid("profile.avatar_id", why));
        }
        if attachment.uploader != user {
            let why = format!("attachment {id} was uploaded by someone else than {user}");
            return Err(ChatError::invalid("profile.avatar_id", why));
        }
        if attachment.state != AttachmentState::Complete {
            return Err(ChatError::precondition(format!(
                "attachment {id} is not complete (CompleteUpload it first)"
            )));
        }
        Ok(())
    }

    /// DeleteAttachment of an avatar: its uploader, or an org admin (audited); not while it
    /// is their profile's picture (clearing it there deletes it).
    pub(super) async fn delete_avatar(
        &self,
        caller: &Caller,
        attachment: Attachment,
    ) -> ChatResult<Attachment> {
        let own = attachment.uploader == caller.user;
        if own {
            policy::scope(caller, Scope::UploadAvatar)?;
        } else if !caller.scopes.contains(Scope::Admin) {
            return Err(ChatError::denied(
                "only its uploader or an org admin (scope chat.admin) may delete an avatar",
            ));
        }
        let profile = self.store.get_profile(&attachment.org, &attachment.uploader).await?;
        if profile.is_some_and(|profile| profile.avatar_id == attachment.id) {
            return Err(ChatError::precondition(format!(
                "attachment {} is {}'s avatar: clear it with UpdateProfile, which deletes it",
                attachment.id, attachment.uploader
            )));
        }
        self.discard_attachment(attachment.id).await?;
        if !own {
            let detail = format!("avatar by {}", attachment.uploader);
            let target = attachment.id.to_string();
            let (action, author) = (AuditAction::AttachmentDeleted, Some(&*attachment.uploader));
            self.audit.record_naming(caller, action, 0, &target, detail, author).await;
        }
        self.attachment_of_org(caller, attachment.id).await
    }

    /// The attachment a new message names, checked: the caller's own complete upload in
    /// this conversation, of a type the message kind carries.
    pub(super) async fn attachment_to_send(
        &self,
        caller: &Caller,
        conversation: &Conversation,
        kind: MessageType,
        id: AttachmentId,
    ) -> ChatResult<Attachment> {
        let attachment = self.attachment_of_org(caller, id).await?;
        if attachment.purpose() == UploadPurpose::Avatar {
            let why = format!("attachment {id} is an avatar, not a file to send");
            return Err(ChatError::invalid("data", why));
        }
        if attachment.channel_id != conversation.id {
            return Err(ChatError::invalid(
                "data",
                format!("attachment {id} belongs to another conversation"),
            ));
        }
        if attachment.uploader != caller.user {
            return Err(ChatError::denied("only the uploader may send an attachment"));
        }
        if attachment.state != AttachmentState::Complete {
            return Err(ChatError::precondition(format!(
                "attachment {id} is not complete (CompleteUpload it first)"
            )));
        }
        if !attachment.fits(kind) {
            return Err(ChatError::invalid(
                "type",
                format!("a {kind:?} message cannot carry a {} attachment", attachment.content_type),
            ));
        }
        Ok(attachment)
    }

    /// Ties the attachment to message `id`. An attachment is sent once: if another message
    /// has it, a retry of that same send gets that message back (Err(Some(original))).
    pub(super) async fn claim_for(
        &self,
        attachment: &Attachment,
        id: MessageId,
        sender: &str,
        client_msg_id: Option<&str>,
    ) -> ChatResult<Result<(), Message>> {
        match self.store.claim_attachment(attachment.id, id).await? {
            AttachmentClaim::Claimed => Ok(Ok(())),
            AttachmentClaim::Missing => {
                Err(ChatError::not_found(format!("attachment {} not found", attachment.id)))
            }
            AttachmentClaim::Taken(other) => {
                let original = self.store.get_message(attachment.channel_id, other).await?;
                match original {
                    Some(original)
                        if original.from == sender
                            && client_msg_id.is_some()
                            && original.client_msg_id.as_deref() == client_msg_id =>
                    {
                        Ok(Err(original))
                    }
                    _ => Err(ChatError::precondition(format!(
                        "attachment {} was already sent in message {other}",
                        attachment.id
                    ))),
                }
            }
        }
    }

    /// Deletes an attachment's bytes (and any unfinished multipart upload) and marks it
    /// deleted. The record stays, for audit.
    pub(super) async fn discard_attachment(&self, id: AttachmentId) -> ChatResult<()> {
        let Some(mut attachment) = self.store.get_attachment(id).await? else {
            return Ok(());
        };
        self.remove_bytes(&attachment).await?;
        attachment.state = AttachmentState::Deleted;
        self.store.put_attachment(&attachment).await?;
        Ok(())
    }

    /// Erasure: deletes an attachment's bytes and forgets its file name. The record stays
    /// (id, type, size), so that what names it still resolves. Whether there was one.
    pub(super) async fn erase_attachment(&self, id: AttachmentId) -> ChatResult<bool> {
        let Some(mut attachment) = self.store.get_attachment(id).await? else {
            return Ok(false);
        };
        self.remove_bytes(&attachment).await?;
        attachment.state = AttachmentState::Deleted;
        attachment.filename.clear();
        self.store.put_attachment(&attachment).await?;
        Ok(true)
    }

    async fn remove_bytes(&self, attachment: &Attachment) -> ChatResult<()> {
        let uploaded = attachment.upload_key();
        if let Some(upload) = &attachment.multipart {
            self.files.blobs.abort_multipart(&uploaded, upload).await?;
        }
        self.files.blobs.delete(&uploaded).await?;
        self.files.blobs.delete(&attachment.blob_key()).await?;
        Ok(())
    }

    /// Removes uploads that were not completed before their deadline; returns how many.
    pub async fn sweep_expired_uploads(&self) -> ChatResult<usize> {
        let expired = self.store.expired_uploads(self.ids.now_ms(), SWEEP_BATCH).await?;
        for mut attachment in expired.iter().cloned() {
            self.remove_bytes(&attachment).await?;
            attachment.state = AttachmentState::Expired;
            self.store.put_attachment(&attachment).await?;
        }
        Ok(expired.len())
    }
}
