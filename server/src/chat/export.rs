//! Exports (docs/operations.md, "Export"): a user exports their own data (or an org admin a
//! user's), an org admin exports a conversation, as a tar archive of JSON files and JSON
//! lines plus the files, built in the background (see `jobs`):
//!
//! - a user: `profile.json`, `conversations.jsonl` (their memberships), `messages/*.jsonl`
//!   (every message they sent, newest first), `files.jsonl` and `files/` (what they
//!   uploaded);
//! - a conversation: `conversation.json`, `members.jsonl`, `messages/*.jsonl` (oldest
//!   first), `files.jsonl` and `files/`;
//! - both: `manifest.json` (what, whose, when, and the counts).
//!
//! Each step writes one part to the blob store (`exports/<job>/part-<n>`), so that another
//! controller can go on from the last saved step; the last step joins the parts and the
//! files into `exports/<job>/archive`, which the job's download URL points at until the
//! sweep removes it, `files.export_ttl_secs` (a week) later.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::Serialize;
use tokio::io::AsyncWriteExt;

use super::ChatService;
use super::jobs::subject_id;
use crate::auth::Caller;
use crate::error::{ChatError, ChatResult};
use crate::model::{
    ArchiveExpiry, Attachment, AttachmentState, ConversationId, Job, JobKind, JobState, Kind,
    Message,
};
use crate::store::{Direction, HistoryQuery};
use crate::validate::{self, Violations};

/// Messages per part (one step).
const MESSAGES_PER_PART: usize = 500;
/// Memberships, members and files per part.
const ROWS_PER_PART: usize = 200;
/// How long a download URL lasts.
const DOWNLOAD_FOR: Duration = Duration::from_secs(3600);
/// Archives removed per sweep, at most (the rest wait for the next).
const ARCHIVES_PER_SWEEP: usize = 100;
/// The archive's format, as `manifest.json` names it.
const FORMAT: &str = "switchboard-export/1";

/// A message as an export writes it.
#[derive(Serialize)]
struct ExportedMessage<'a> {
    id: u64,
    conversation_id: ConversationId,
    from: &'a str,
    /// The recipient of a private message.
    to: Option<&'a str>,
    kind: &'static str,
    text: &'a str,
    sent_at_ms: i64,
    edited_at_ms: Option<i64>,
    /// The thread it replies in.
    parent_id: Option<u64>,
    deleted: bool,
    custom_fields: &'a BTreeMap<String, String>,
    attachment_id: Option<u64>,
}

impl<'a> ExportedMessage<'a> {
    fn of(m: &'a Message) -> Self {
        ExportedMessage {
            id: m.id,
            conversation_id: m.channel_id,
            from: &m.from,
            to: m.to.as_deref(),
            kind: m.kind.name(),
            text: &m.data,
            sent_at_ms: m.ts_ms,
            edited_at_ms: m.edited_at_ms,
            parent_id: m.parent_id,
            deleted: m.deleted,
            custom_fields: &m.custom_fields,
            attachment_id: m.attachment.as_ref().map(|a| a.id),
        }
    }
}

/// A file as `files.jsonl` lists it; `path` is where its bytes are in the archive (None
/// when there are none: deleted, or never uploaded).
#[derive(Serialize, serde::Deserialize)]
struct ExportedFile {
    id: u64,
    conversation_id: ConversationId,
    uploader: String,
    filename: String,
    content_type: String,
    size: u64,
    uploaded_at_ms: i64,
    message_id: Option<u64>,
    path: Option<String>,
}

impl ExportedFile {
    fn of(a: &Attachment) -> Self {
        let path = (a.state == AttachmentState::Complete)
            .then(|| format!("files/{}-{}", a.id, safe_name(&a.filename)));
        ExportedFile {
            id: a.id,
            conversation_id: a.channel_id,
            uploader: a.uploader.clone(),
            filename: a.filename.clone(),
            content_type: a.content_type.clone(),
            size: a.size,
            uploaded_at_ms: a.created_at_ms,
            message_id: a.message_id,
            path,
        }
    }
}

impl ChatService {
    /// ExportMyData (`user` is the caller) and Admin.ExportUser (the caller holds
    /// `chat.admin`): starts exporting a user's data. Asking again while one runs answers
    /// with it.
    pub async fn export_user(&self, caller: &Caller, user: &str) -> ChatResult<Job> {
        Violations::new().check("user_id", validate::check_user_id(user)).finish()?;
        if let Some(running) = self.jobs.open_of(&caller.org, JobKind::ExportUser, user).await? {
            return Ok(running);
        }
        self.jobs.start(caller, JobKind::ExportUser, user, "").await
    }

    /// Admin.ExportConversation: starts exporting a conversation of the caller's org (the
    /// caller holds `chat.admin`).
    pub async fn export_conversation(
        &self,
        caller: &Caller,
        id: ConversationId,
    ) -> ChatResult<Job> {
        Violations::new().check("conversation_id", validate::check_id(id)).finish()?;
        match self.store.get_conversation(id).await? {
            Some(conversation) if conversation.org == caller.org => {}
            _ => return Err(ChatError::not_found(format!("no conversation {id}"))),
        }
        let subject = id.to_string();
        let kind = JobKind::ExportConversation;
        if let Some(running) = self.jobs.open_of(&caller.org, kind, &subject).await? {
            return Ok(running);
        }
        self.jobs.start(caller, kind, &subject, "").await
    }

    /// GetMyExport: one of the caller's own exports.
    pub async fn my_export(&self, caller: &Caller, id: u64) -> ChatResult<Job> {
        match self.store.get_job(&caller.org, id).await? {
            Some(job)
                if job.kind == JobKind::ExportUser
                    && job.subject == caller.user
                    && job.requested_by == caller.user =>
            {
                Ok(job)
            }
            _ => Err(ChatError::not_found(format!("no export {id} of yours"))),
        }
    }

    /// Where a finished export downloads from (for an hour); None for other jobs, and for
    /// an export whose archive is gone (its time passed, or an erasure removed it).
    pub async fn download_url(&self, job: &Job) -> ChatResult<Option<String>> {
        if !self.has_archive(job).await? {
            return Ok(None);
        }
        let blobs = &self.attachments.files.blobs;
        let name = format!("switchboard-export-{}.tar", job.id);
        Ok(Some(
            blobs
                .presign_get(&archive_key(job.id), &name, "application/x-tar", DOWNLOAD_FOR)
                .await?,
        ))
    }

    /// Deletes a finished export's archive; whether there was one.
    pub(super) async fn remove_export(&self, export: &Job) -> ChatResult<bool> {
        if !self.has_archive(export).await? {
            return Ok(false);
        }
        self.attachments.files.blobs.delete(&archive_key(export.id)).await?;
        Ok(true)
    }

    /// Whether `job` is a finished export whose archive is still there, and its time has
    /// not passed (the sweep may not have removed it yet).
    async fn has_archive(&self, job: &Job) -> ChatResult<bool> {
        let exported = matches!(job.kind, JobKind::ExportUser | JobKind::ExportConversation);
        let expired =
            job.archive_expires_at_ms != 0 && job.archive_expires_at_ms <= self.jobs.ids.now_ms();
        if !exported || job.state != JobState::Done || expired {
            return Ok(false);
        }
        Ok(self.attachments.files.blobs.size(&archive_key(job.id)).await?.is_some())
    }

    /// Removes the archives of exports whose time has passed (at most
    /// `ARCHIVES_PER_SWEEP`); how many. Sweeps of several controllers may meet on one:
    /// removing it twice is harmless.
    pub async fn sweep_expired_archives(&self) -> ChatResult<usize> {
        let now = self.jobs.ids.now_ms();
        let due = self.store.due_archive_expiries(now, ARCHIVES_PER_SWEEP).await?;
        for expiry in &due {
            self.attachments.files.blobs.delete(&archive_key(expiry.job_id)).await?;
            self.store.remove_archive_expiry(expiry).await?;
        }
        Ok(due.len())
    }

    /// One step of an export, moving the job on.
    pub(super) async fn export_step(&self, job: &mut Job) -> ChatResult<()> {
        match (job.kind, job.stage.as_str()) {
            (_, "") => job.enter("start"),
            (JobKind::ExportUser, "start") => {
                let profile = self.store.get_profile(&job.org, &job.subject).await?;
                self.write_part(job, "profile.json", json(&profile)).await?;
                job.enter("conversations");
            }
            (JobKind::ExportUser, "conversations") => self.export_memberships(job).await?,
            (JobKind::ExportConversation, "start") => {
                let conversation = self.store.get_conversation(subject_id(job)?).await?;
                self.write_part(job, "conversation.json", json(&conversation)).await?;
                job.enter("members");
            }
            (JobKind::ExportConversation, "members") => self.export_members(job).await?,
            (_, "messages") => self.export_messages(job).await?,
            (_, "files") => self.export_files(job).await?,
            (_, "archive") => {
                self.archive(job).await?;
                let kept_ms = self.attachments.files.config.export_ttl_secs as i64 * 1000;
                let expires_at_ms = self.jobs.ids.now_ms() + kept_ms;
                let org = job.org.clone();
                let listed = ArchiveExpiry { expires_at_ms, org, job_id: job.id };
                self.store.put_archive_expiry(&listed).await?;
                job.archive_expires_at_ms = expires_at_ms;
                job.enter("");
                job.state = JobState::Done;
            }
            (_, other) => return Err(ChatError::precondition(format!("unknown step `{other}`"))),
        }
        Ok(())
    }

    async fn export_memberships(&self, job: &mut Job) -> ChatResult<()> {
        let page = self
            .store
            .list_user_conversations(&job.org, &job.subject, job.cursor, ROWS_PER_PART)
            .await?;
        let mut lines = Vec::new();
        for &id in &page {
            let (Some(conversation), member) = (
                self.store.get_conversation(id).await?,
                self.store.get_member(id, &job.subject).await?,
            ) else {
                continue;
            };
            let row = serde_json::json!({
                "id": conversation.id,
                "kind": kind_name(conversation.kind),
                "name": conversation.name,
                "role": member.as_ref().map(|m| m.role.name()),
                "joined_at_ms": member.as_ref().map(|m| m.joined_at_ms),
            });
            lines.push(row.to_string());
            job.cursor = id;
        }
        job.count("conversations", lines.len() as u64);
        if !lines.is_empty() {
            self.write_part(job, "conversations.jsonl", jsonl(lines)).await?;
        }
        if page.len() < ROWS_PER_PART {
            job.enter("messages");
        }
        Ok(())
    }

    async fn export_members(&self, job: &mut Job) -> ChatResult<()> {
        let after = job.name_cursor.clone();
        let page = self.store.list_members(subject_id(job)?, &after, ROWS_PER_PART).await?;
        let lines: Vec<String> = page
            .iter()
            .map(|m| {
                let role = m.role.name();
                serde_json::json!({ "user_id": m.user_id, "role": role, "joined_at_ms": m.joined_at_ms })
                    .to_string()
            })
            .collect();
        job.count("members", lines.len() as u64);
        if let Some(last) = page.last() {
            job.name_cursor.clone_from(&last.user_id);
            self.write_part(job, "members.jsonl", jsonl(lines)).await?;
        }
        if page.len() < ROWS_PER_PART {
            job.name_cursor.clear();
            job.enter("messages");
        }
        Ok(())
    }

    async fn export_messages(&self, job: &mut Job) -> ChatResult<()> {
        // A part of messages, and whether there may be more after it.
        let (messages, more) = match job.kind {
            JobKind::ExportConversation => {
                let after = (job.cursor > 0).then_some(job.cursor);
                let query = HistoryQuery {
                    before: None,
                    after,
                    direction: Direction::OldestFirst,
                    limit: MESSAGES_PER_PART,
                };
                let messages = self.store.list_messages(subject_id(job)?, query).await?;
                if let Some(last) = messages.last() {
                    job.cursor = last.id;
                }
                let more = messages.len() == MESSAGES_PER_PART;
                (messages, more)
            }
            _ => {
                let before = (job.cursor > 0).then_some(job.cursor);
                let sent = self
                    .store
                    .list_user_messages(&job.org, &job.subject, before, MESSAGES_PER_PART)
                    .await?;
                let mut messages = Vec::with_capacity(sent.len());
                for (conversation, id) in &sent {
                    if let Some(message) = self.store.get_message(*conversation, *id).await? {
                        messages.push(message);
                    }
                    job.cursor = *id;
                }
                (messages, sent.len() == MESSAGES_PER_PART)
            }
        };
        if !messages.is_empty() {
            let lines = messages.iter().map(|m| json(&ExportedMessage::of(m))).collect();
            let written = job.parts.iter().filter(|path| path.starts_with("messages/")).count();
            let name = format!("messages/{:06}.jsonl", written + 1);
            self.write_part(job, &name, jsonl(lines)).await?;
            job.count("messages", messages.len() as u64);
        }
        if !more {
            job.enter("files");
        }
        Ok(())
    }

    async fn export_files(&self, job: &mut Job) -> ChatResult<()> {
        let before = (job.cursor > 0).then_some(job.cursor);
        let ids = match job.kind {
            JobKind::ExportConversation => {
                let id = subject_id(job)?;
                self.store.list_conversation_files(id, before, ROWS_PER_PART).await?
            }
            _ => {
                self.store.list_user_uploads(&job.org, &job.subject, before, ROWS_PER_PART).await?
            }
        };
        let mut lines = Vec::new();
        for &id in &ids {
            if let Some(attachment) = self.store.get_attachment(id).await? {
                lines.push(json(&ExportedFile::of(&attachment)));
            }
            job.cursor = id;
        }
        if !lines.is_empty() {
            job.count("files", lines.len() as u64);
            self.write_part(job, "files.jsonl", jsonl(lines)).await?;
        }
        if ids.len() < ROWS_PER_PART {
            job.enter("archive");
        }
        Ok(())
    }

    /// Stores one part of the export and lists it in the job (saved with the step).
    async fn write_part(&self, job: &mut Job, path: &str, bytes: Vec<u8>) -> ChatResult<()> {
        let key = part_key(job, job.parts.len());
        self.attachments.files.blobs.put(&key, "application/json", bytes).await?;
        job.parts.push(path.to_string());
        Ok(())
    }

    /// Joins the parts (each of the same path after the other), the manifest and the files'
    /// bytes into the archive, stores it, and removes the parts. Holds one path's parts in
    /// memory at a time (and `files.jsonl`'s, to copy the files it lists). Renews the
    /// job's lease as it goes: an archive of many files takes a while.
    async fn archive(&self, job: &mut Job) -> ChatResult<()> {
        let blobs = &self.attachments.files.blobs;
        if blobs.size(&archive_key(job.id)).await?.is_some() {
            // Made already by a try whose end was not saved: only the parts are left over.
            return self.remove_parts(job).await;
        }
        let temp = tempfile::NamedTempFile::new().map_err(io)?;
        let mut out = tokio::fs::File::create(temp.path()).await.map_err(io)?;
        // Every list and count the kind has, even empty.
        let (lists, counted): (&[&str], [&str; 3]) = match job.kind {
            JobKind::ExportConversation => {
                (&["members.jsonl", "files.jsonl"], ["members", "messages", "files"])
            }
            _ => (&["conversations.jsonl", "files.jsonl"], ["conversations", "messages", "files"]),
        };
        let mut counts: BTreeMap<&str, u64> = counted.iter().map(|what| (*what, 0)).collect();
        counts.extend(job.counts.iter().map(|(what, n)| (what.as_str(), *n)));
        let mut parts_of: BTreeMap<&str, Vec<usize>> =
            lists.iter().map(|list| (*list, Vec::new())).collect();
        for (n, path) in job.parts.iter().enumerate() {
            parts_of.entry(path.as_str()).or_default().push(n);
        }
        let manifest = serde_json::json!({
            "format": FORMAT,
            "kind": job.kind.name(),
            "subject": job.subject,
            "org": job.org,
            "requested_by": job.requested_by,
            "created_at_ms": job.created_at_ms,
            "counts": counts,
        });
        append(&mut out, "manifest.json", &json(&manifest)).await?;
        let mut listed = Vec::new();
        for (path, parts) in &parts_of {
            let mut bytes = Vec::new();
            for n in parts {
                bytes.extend(blobs.get(&part_key(job, *n)).await?.unwrap_or_default());
            }
            append(&mut out, path, &bytes).await?;
            if *path == "files.jsonl" {
                listed = bytes;
            }
        }
        let mut copied = 0;
        for line in listed.split(|b| *b == b'\n').filter(|line| !line.is_empty()) {
            let file: ExportedFile = serde_json::from_slice(line).map_err(|e| {
                ChatError::precondition(format!("an export part does not read back: {e}"))
            })?;
            let Some(path) = file.path else { continue };
            if let Some(bytes) = blobs.get(&format!("attachments/{}", file.id)).await? {
                append(&mut out, &path, &bytes).await?;
                copied += 1;
            }
            if !self.jobs.lease(&job.org, job.id).await? {
                return Err(ChatError::precondition("another controller holds the job now"));
            }
        }
        out.write_all(&[0; 1024]).await.map_err(io)?;
        out.flush().await.map_err(io)?;
        blobs.put_file(&archive_key(job.id), "application/x-tar", temp.path()).await?;
        job.count("files copied", copied);
        self.remove_parts(job).await
    }

    async fn remove_parts(&self, job: &Job) -> ChatResult<()> {
        for n in 0..job.parts.len() {
            self.attachments.files.blobs.delete(&part_key(job, n)).await?;
        }
        Ok(())
    }
}

/// A conversation kind as the export documents it: a group is a `team`.
fn kind_name(kind: Kind) -> &'static str {
    match kind {
        Kind::Group => "team",
        other => other.name(),
    }
}

/// Where part `n` of an export is kept until the archive is made.
fn part_key(job: &Job, n: usize) -> String {
    format!("exports/{}/part-{n:06}", job.id)
}

/// Where an export's archive is kept.
fn archive_key(job_id: u64) -> String {
    format!("exports/{job_id}/archive")
}

fn json<T: Serialize>(value: &T) -> Vec<u8> {
    serde_json::to_vec(value).expect("export records serialize")
}

/// Lines, each ending with a newline.
fn jsonl(lines: Vec<impl AsRef<[u8]>>) -> Vec<u8> {
    let mut out = Vec::new();
    for line in lines {
        out.extend_from_slice(line.as_ref());
        out.push(b'\n');
    }
    out
}

/// A file name safe as the last part of a path in the archive.
fn safe_name(name: &str) -> String {
    let safe: String = name
        .chars()
        .map(|c| if c.is_alphanumeric() || "._- ".contains(c) { c } else { '_' })
        .take(100)
        .collect();
    if safe.trim_matches('.').is_empty() { "file".into() } else { safe }
}

/// Appends one file to a tar archive being written: its header, its bytes, padding.
async fn append(out: &mut tokio::fs::File, path: &str, bytes: &[u8]) -> ChatResult<()> {
    let mut header = tar::Header::new_gnu();
    header.set_path(path).map_err(io)?;
    header.set_size(bytes.len() as u64);
    header.set_mode(0o644);
    header.set_mtime(0);
    header.set_entry_type(tar::EntryType::Regular);
    header.set_cksum();
    out.write_all(header.as_bytes()).await.map_err(io)?;
    out.write_all(bytes).await.map_err(io)?;
    let padding = (512 - bytes.len() % 512) % 512;
    out.write_all(&vec![0; padding]).await.map_err(io)?;
    Ok(())
}

fn io(error: std::io::Error) -> ChatError {
    ChatError::Backend { what: "the export's archive", error: error.to_string() }
}
