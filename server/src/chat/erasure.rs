//! Erasing a user (EraseUser): an org admin erases a suspended user of their org, in the
//! background (see `jobs`), step by step, from when the suspension has reached every
//! controller (at most 15 s after it):
//!
//! 1. `messages`: every message they sent (`user_messages`) becomes a tombstone, delivered
//!    live like a delete: its text, fields, earlier texts, notifications, pin and reaction
//!    counts go, its attachment's bytes with it, and the search index follows. Messages they
//!    had deleted are scrubbed again, for what an older delete left.
//! 2. `uploads`: every file they uploaded loses its bytes and its name.
//! 3. `exports`: the archives of their own exports, and of exports of the conversations
//!    they wrote in, are deleted (those jobs no longer offer a download).
//! 4. `reports`: in the conversations of those messages, reports of their messages lose the
//!    text kept, and reports they made lose their reason; both name the pseudonym.
//! 5. `profile`: their profile and directory entries, status text, devices, contacts and
//!    blocks are removed.
//! 6. `audit`: the audit entries naming them name the pseudonym (`erased-<job id>`) instead;
//!    entries they made lose their detail (what they wrote).
//!
//! The job counts what each step removed: the report kept of the erasure, also audited as
//! `user.erased`. Memberships stay (teams keep their owner, direct conversations their
//! pair), as does the suspension: the user id stays known, its content does not.

use crate::auth::Caller;
use crate::error::{ChatError, ChatResult};
use crate::model::{AuditAction, AuditEntry, Availability, Job, JobKind, JobState, Relation};
use crate::validate::{self, Violations};

use super::ChatService;

/// Items (messages, uploads, audit entries) erased per step.
const PAGE: usize = 100;
/// Longest reason, in characters.
const MAX_REASON_CHARS: usize = 500;

impl ChatService {
    /// EraseUser: an org admin (the caller holds `chat.admin`) starts erasing a user of
    /// their org, who must be suspended first (so that nothing new of theirs arrives
    /// meanwhile). Asking again while it runs returns the same job.
    pub async fn erase_user(&self, caller: &Caller, user: &str, reason: &str) -> ChatResult<Job> {
        Violations::new()
            .check("user_id", validate::check_user_id(user))
            .check("reason", validate::check_line(reason, MAX_REASON_CHARS))
            .finish()?;
        if user == caller.user {
            return Err(ChatError::invalid("user_id", "you cannot erase yourself"));
        }
        if !self.suspensions.is_suspended(&caller.org, user).await? {
            return Err(ChatError::precondition(format!(
                "suspend {user} first (SuspendUser): erasure needs them to stop writing"
            )));
        }
        if let Some(running) = self.jobs.open_of(&caller.org, JobKind::EraseUser, user).await? {
            return Ok(running);
        }
        self.jobs.start(caller, JobKind::EraseUser, user, reason).await
    }

    /// One step of erasing the job's subject, moving the job on.
    pub(super) async fn erase_step(&self, job: &mut Job) -> ChatResult<()> {
        match job.stage.as_str() {
            "" => {
                // Nothing of theirs may arrive once the messages are walked: wait until the
                // suspension has reached every controller.
                if let Some(left) = self.suspensions.settling(&job.org, &job.subject).await? {
                    tokio::time::sleep(left).await;
                }
                job.enter("messages");
            }
            "messages" => self.erase_messages(job).await?,
            "uploads" => self.erase_uploads(job).await?,
            "exports" => self.erase_exports(job).await?,
            "reports" => self.erase_from_reports(job).await?,
            "profile" => {
                self.erase_profile(job).await?;
                job.enter("audit");
            }
            "audit" => self.erase_from_audit(job).await?,
            other => return Err(ChatError::precondition(format!("unknown step `{other}`"))),
        }
        Ok(())
    }

    async fn erase_messages(&self, job: &mut Job) -> ChatResult<()> {
        let (org, user) = (&job.org, &job.subject);
        let before = (job.cursor > 0).then_some(job.cursor);
        let page = self.store.list_user_messages(org, user, before, PAGE).await?;
        for &(conversation, id) in &page {
            if let Some(message) = self.store.get_message(conversation, id).await? {
                let what = if message.deleted { "deleted messages" } else { "messages" };
                self.messages.tombstone(&job.org, message, &job.requested_by).await?;
                job.count(what, 1);
            }
            job.conversations.insert(conversation);
            job.cursor = id;
        }
        if page.len() < PAGE {
            job.enter("uploads");
        }
        Ok(())
    }

    async fn erase_uploads(&self, job: &mut Job) -> ChatResult<()> {
        let before = (job.cursor > 0).then_some(job.cursor);
        let page = self.store.list_user_uploads(&job.org, &job.subject, before, PAGE).await?;
        for &id in &page {
            if self.attachments.erase_attachment(id).await? {
                job.count("attachments", 1);
            }
            job.cursor = id;
        }
        if page.len() < PAGE {
            job.enter("exports");
        }
        Ok(())
    }

    /// The org's export archives that hold the user's content lose it: their own exports,
    /// and those of the conversations they wrote in (newest first, a page of jobs a step).
    async fn erase_exports(&self, job: &mut Job) -> ChatResult<()> {
        let before = (job.cursor > 0).then_some(job.cursor);
        let page = self.store.list_jobs(&job.org, before, PAGE).await?;
        for export in &page {
            let holds_theirs = match export.kind {
                JobKind::ExportUser => export.subject == job.subject,
                JobKind::ExportConversation => {
                    export.subject.parse().is_ok_and(|id| job.conversations.contains(&id))
                }
                _ => false,
            };
            if holds_theirs && self.remove_export(export).await? {
                job.count("export archives", 1);
            }
            job.cursor = export.id;
        }
        if page.len() < PAGE {
            job.enter("reports");
        }
        Ok(())
    }

    /// One conversation's reports per step.
    async fn erase_from_reports(&self, job: &mut Job) -> ChatResult<()> {
        let next = job.conversations.range(job.cursor.saturating_add(1)..).next().copied();
        let Some(conversation) = next else {
            job.enter("profile");
            return Ok(());
        };
        let (user, pseudonym) = (job.subject.clone(), pseudonym(job));
        let mut before = u64::MAX;
        loop {
            let page = self.store.list_reports(conversation, before, PAGE).await?;
            for report in &page {
                before = report.id;
                let (authored, reported) = (report.author == user, report.reporter == user);
                if !authored && !reported {
                    continue;
                }
                let mut scrubbed = report.clone();
                if authored {
                    scrubbed.author.clone_from(&pseudonym);
                    scrubbed.text.clear();
                }
                if reported {
                    scrubbed.reporter.clone_from(&pseudonym);
                    scrubbed.reason.clear();
                }
                self.store.put_report(&scrubbed).await?;
                job.count("reports", 1);
            }
            if page.len() < PAGE {
                break;
            }
        }
        job.cursor = conversation;
        Ok(())
    }

    async fn erase_profile(&self, job: &mut Job) -> ChatResult<()> {
        let (org, user) = (&*job.org.clone(), &*job.subject.clone());
        if self.store.remove_profile(org, user).await? {
            job.count("profile", 1);
        }
        if self.store.get_status(org, user).await?.is_some() {
            self.store.set_status(org, user, Availability::Available, "").await?;
        }
        let devices = self.store.list_devices(org, user).await?;
        for device in &devices {
            self.store.remove_device(org, user, device.id).await?;
        }
        job.count("devices", devices.len() as u64);
        for (kind, what) in [(Relation::Contact, "contacts"), (Relation::Block, "blocks")] {
            loop {
                let page = self.store.list_relations(kind, org, user, "", PAGE).await?;
                for (other, _) in &page {
                    self.store.remove_relation(kind, org, user, other).await?;
                }
                job.count(what, page.len() as u64);
                if page.len() < PAGE {
                    break;
                }
            }
        }
        Ok(())
    }

    /// Renames the user in the entries listed under them, and takes them off the list;
    /// the last step ends the job.
    async fn erase_from_audit(&self, job: &mut Job) -> ChatResult<()> {
        let (org, user, pseudonym) = (job.org.clone(), job.subject.clone(), pseudonym(job));
        let page = self.store.list_user_audit(&org, &user, PAGE).await?;
        for entry in &page {
            self.store.rewrite_audit(&pseudonymized(entry.clone(), &user, &pseudonym)).await?;
        }
        let ids: Vec<u64> = page.iter().map(|entry| entry.id).collect();
        self.store.forget_user_audit(&org, &user, &ids).await?;
        job.count("audit entries", ids.len() as u64);
        if page.len() < PAGE {
            job.enter("");
            job.state = JobState::Done;
            let done = AuditEntry {
                target: pseudonym,
                detail: report(job),
                ..self.audit.entry(&org, &job.requested_by, AuditAction::UserErased)
            };
            self.audit.append(&done, &[&job.requested_by]).await;
        }
        Ok(())
    }
}

/// What an erased user's id becomes where it is kept (reports, the audit log).
fn pseudonym(job: &Job) -> String {
    format!("erased-{}", job.id)
}

/// What the erasure removed, in one line: `messages 12, attachments 2, ...`.
fn report(job: &Job) -> String {
    let counts: Vec<String> = job.counts.iter().map(|(what, n)| format!("{what} {n}")).collect();
    if counts.is_empty() { "nothing to remove".into() } else { counts.join(", ") }
}

/// An audit entry with `user` replaced by `pseudonym`: as actor (then without its detail,
/// which they wrote), as target, and as a word of the detail.
fn pseudonymized(mut entry: AuditEntry, user: &str, pseudonym: &str) -> AuditEntry {
    if entry.actor == user {
        entry.actor = pseudonym.to_string();
        entry.detail.clear();
    }
    if entry.target == user {
        entry.target = pseudonym.to_string();
    }
    entry.detail = replace_user(&entry.detail, user, pseudonym);
    entry
}

/// `text` with each occurrence of user id `user` that stands alone (not inside a longer
/// id) replaced by `by`.
fn replace_user(text: &str, user: &str, by: &str) -> String {
    let in_id = |c: char| c.is_ascii_alphanumeric() || "._@:+-".contains(c);
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find(user) {
        out.push_str(&rest[..at]);
        let after = &rest[at + user.len()..];
        let alone = out.chars().last().is_none_or(|c| !in_id(c))
            && after.chars().next().is_none_or(|c| !in_id(c));
        out.push_str(if alone { by } else { user });
        rest = after;
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_user_id_is_replaced_only_where_it_stands_alone() {
        assert_eq!(replace_user("author bob", "bob", "erased-1"), "author erased-1");
        assert_eq!(replace_user("bob.png by bob", "bob", "x"), "bob.png by x");
        assert_eq!(replace_user("bobby and bob, bob", "bob", "x"), "bobby and x, x");
        assert_eq!(replace_user("bob", "bob", "x"), "x");
        assert_eq!(replace_user("alice", "bob", "x"), "alice");
    }
}
