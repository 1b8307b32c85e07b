//! Background jobs an org admin (or, for their own export, a user) starts and follows:
//! erasing a user, exporting a user's data or a conversation, applying a shorter retention
//! policy to the messages already there. A job
//! is worked through in small steps by whichever controller holds its lease, saving where it
//! is after each step, so that a controller that stops leaves it to another.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use super::ConversationId;

/// What a job does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum JobKind {
    /// Erases a user of the org (the subject): see `chat::erasure`.
    EraseUser,
    /// Exports a user's data (the subject), for them or an org admin: see `chat::export`.
    ExportUser,
    /// Exports a conversation (the subject, its id), for an org admin.
    ExportConversation,
    /// Applies the org's (the subject's) shorter default retention to the messages sent
    /// before it: see `chat::retention_job`.
    OrgRetention,
    /// Applies a conversation's (the subject, its id) shorter retention to its earlier
    /// messages.
    ConversationRetention,
}

impl JobKind {
    pub fn name(self) -> &'static str {
        match self {
            JobKind::EraseUser => "erase_user",
            JobKind::ExportUser => "export_user",
            JobKind::ExportConversation => "export_conversation",
            JobKind::OrgRetention => "org_retention",
            JobKind::ConversationRetention => "conversation_retention",
        }
    }
}

/// Where a job is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum JobState {
    /// Waiting for a controller to take it.
    Queued,
    Running,
    Done,
    /// Stopped by an error it cannot get past (the job's `error` says which).
    Failed,
}

impl JobState {
    pub fn is_finished(self) -> bool {
        matches!(self, JobState::Done | JobState::Failed)
    }
}

/// One job, as stored: what it is, how far it got, and what it did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Job {
    /// Snowflake id: orders an org's jobs in time.
    pub id: u64,
    pub org: String,
    pub kind: JobKind,
    /// Whom or what it concerns: a user id for an erasure.
    pub subject: String,
    pub requested_by: String,
    /// Why, as the admin said.
    pub reason: String,
    pub created_at_ms: i64,
    pub state: JobState,
    /// The step it is on (e.g. `messages`), empty before the first.
    pub stage: String,
    /// Where in that step it is: the last item done (a message id, say), 0 before any.
    pub cursor: u64,
    /// Where in a step that walks names (members) it is: the last one done.
    #[serde(default)]
    pub name_cursor: String,
    /// What it did so far, by kind of thing (`messages`, `attachments`, ...).
    pub counts: BTreeMap<String, u64>,
    /// Where a step that lists things a page at a time, going through each page before the
    /// next (an org's conversations), got to: the last one listed.
    #[serde(default)]
    pub list_cursor: u64,
    /// The conversations it came across, for steps that go through them after.
    pub conversations: BTreeSet<ConversationId>,
    /// An export's parts written so far, in order: each one's path in the archive.
    #[serde(default)]
    pub parts: Vec<String>,
    pub updated_at_ms: i64,
    pub finished_at_ms: i64,
    /// Why it failed.
    pub error: String,
    /// A finished export: when its archive is removed (0 for other jobs).
    #[serde(default)]
    pub archive_expires_at_ms: i64,
}

/// A finished export's archive, listed to be removed once `expires_at_ms` has passed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArchiveExpiry {
    pub expires_at_ms: i64,
    pub org: String,
    /// The export job.
    pub job_id: u64,
}

impl Job {
    /// A queued job, before its first step.
    pub fn new(
        id: u64,
        org: &str,
        kind: JobKind,
        subject: &str,
        requested_by: &str,
        reason: &str,
        now_ms: i64,
    ) -> Job {
        Job {
            id,
            org: org.to_string(),
            kind,
            subject: subject.to_string(),
            requested_by: requested_by.to_string(),
            reason: reason.to_string(),
            created_at_ms: now_ms,
            state: JobState::Queued,
            stage: String::new(),
            cursor: 0,
            name_cursor: String::new(),
            list_cursor: 0,
            counts: BTreeMap::new(),
            conversations: BTreeSet::new(),
            parts: Vec::new(),
            updated_at_ms: now_ms,
            finished_at_ms: 0,
            error: String::new(),
            archive_expires_at_ms: 0,
        }
    }

    /// Adds `n` to what the job did of `what`.
    pub fn count(&mut self, what: &str, n: u64) {
        if n > 0 {
            *self.counts.entry(what.to_string()).or_default() += n;
        }
    }

    /// Moves the job on to `stage`, from its start.
    pub fn enter(&mut self, stage: &str) {
        self.stage = stage.to_string();
        self.cursor = 0;
    }
}
