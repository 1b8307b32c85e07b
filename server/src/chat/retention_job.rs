//! Applying a shorter retention policy to the messages sent before it, in the background
//! (see `jobs`). SetRetention starts the job when a policy gets shorter (or starts where
//! there was none): for the org's default, over every conversation of the org without a
//! policy of its own; for a conversation's, over that one. Step by step:
//!
//! 1. `conversations` (the org's job only): a page of the org's conversations, whose
//!    messages the next step goes through before this one lists the next page.
//! 2. `messages`: each conversation's messages, oldest first, a page at a time. A message
//!    the policy has expire sooner than it would have gets that expiry (`GRACE_MS` from
//!    now at the soonest, for one already past it), for the sweep to remove it then, as a
//!    change in the conversation's log delivered like an edit (`MessageEdited` with the
//!    new `expires_at_ms`), so that clients keeping it know when to drop it.
//!
//! Each step reads the policy as it is then, so a later change wins; a longer policy never
//! moves an expiry later. The job first waits out `RELOAD_AFTER`, so that every
//! controller sends with the new policy before it walks the messages.

use crate::auth::Caller;
use crate::error::{ChatError, ChatResult};
use crate::model::{ConversationId, Job, JobKind, JobState, RetentionPolicy};
use crate::store::{Direction, HistoryQuery};

use super::ChatService;
use super::jobs::subject_id;
use super::retention::{RELOAD_AFTER, RetentionChange};

/// Conversations listed, or messages looked at, per step.
const PAGE: usize = 200;
/// The job's `list_cursor` once every conversation it covers is listed.
const ALL_LISTED: u64 = u64::MAX;
/// The soonest a message expires, from when the job reaches it: late enough that every
/// controller's sweep, whose clock may be a little ahead, still looks where it is listed.
const GRACE_MS: i64 = 60_000;
/// How often the job looks at the clock while other controllers take up the new policy.
const SETTLE_LOOK: std::time::Duration = std::time::Duration::from_millis(250);

impl ChatService {
    /// SetRetention (see `Retention::set`), with the job that applies the change to the
    /// messages sent before it when it makes a policy shorter.
    pub async fn set_retention(
        &self,
        caller: &Caller,
        conversation: ConversationId,
        change: RetentionChange,
    ) -> ChatResult<(RetentionPolicy, Option<Job>)> {
        let before = self.store.get_retention(&caller.org).await?;
        let after = self.retention.set(caller, conversation, change).await?;
        let days = |policy: &RetentionPolicy| match conversation {
            0 => policy.org_days,
            id => policy.days_for(id),
        };
        let shorter = match (days(&before), days(&after)) {
            (_, None) => false,
            (None, Some(_)) => true,
            (Some(was), Some(now)) => now < was,
        };
        if !shorter {
            return Ok((after, None));
        }
        let (kind, subject) = match conversation {
            0 => (JobKind::OrgRetention, caller.org.clone()),
            id => (JobKind::ConversationRetention, id.to_string()),
        };
        let reason = format!("keep {} days", days(&after).unwrap_or_default());
        let job = self.jobs.start(caller, kind, &subject, &reason).await?;
        Ok((after, Some(job)))
    }

    /// One step of applying the policy, moving the job on.
    pub(super) async fn retention_step(&self, job: &mut Job) -> ChatResult<()> {
        match (job.kind, job.stage.as_str()) {
            (_, "") => {
                // Until then, a controller may still send with the policy it had.
                let settled = job.created_at_ms + RELOAD_AFTER.as_millis() as i64;
                while self.retention.ids.now_ms() < settled {
                    tokio::time::sleep(SETTLE_LOOK).await;
                }
                match job.kind {
                    JobKind::OrgRetention => job.enter("conversations"),
                    _ => {
                        job.conversations.insert(subject_id(job)?);
                        job.count("conversations", 1);
                        job.list_cursor = ALL_LISTED;
                        job.enter("messages");
                    }
                }
            }
            (JobKind::OrgRetention, "conversations") => self.list_org_conversations(job).await?,
            (_, "messages") => self.apply_to_messages(job).await?,
            (_, other) => return Err(ChatError::precondition(format!("unknown step `{other}`"))),
        }
        Ok(())
    }

    /// The next page of the org's conversations that follow its default, for the next step
    /// (so that the job holds a page of them at a time, however many the org has).
    async fn list_org_conversations(&self, job: &mut Job) -> ChatResult<()> {
        let page = self.store.list_org_conversations(&job.org, job.list_cursor, PAGE).await?;
        let own = self.store.get_retention(&job.org).await?.conversations;
        for &id in &page {
            if !own.contains_key(&id) {
                job.conversations.insert(id);
                job.count("conversations", 1);
            }
            job.list_cursor = id;
        }
        if page.len() < PAGE {
            job.list_cursor = ALL_LISTED;
        }
        job.enter("messages");
        Ok(())
    }

    /// A page of the first conversation's messages left (the cursor: the last one done);
    /// a conversation done leaves the job's list, and the job is done with the last.
    async fn apply_to_messages(&self, job: &mut Job) -> ChatResult<()> {
        let Some(&conversation) = job.conversations.first() else {
            if job.list_cursor == ALL_LISTED {
                job.enter("");
                job.state = JobState::Done;
            } else {
                job.enter("conversations");
            }
            return Ok(());
        };
        let policy = self.retention.policy(&job.org).await?;
        let after = (job.cursor > 0).then_some(job.cursor);
        let query =
            HistoryQuery { before: None, after, direction: Direction::OldestFirst, limit: PAGE };
        let page = self.store.list_messages(conversation, query).await?;
        let soonest = self.retention.ids.now_ms() + GRACE_MS;
        for message in &page {
            let sooner = policy.sooner_expiry(conversation, message.ts_ms, message.expires_at_ms);
            if let Some(expires_at_ms) = sooner {
                let past = expires_at_ms < soonest;
                let expires_at_ms = expires_at_ms.max(soonest);
                let scheduled =
                    self.store.schedule_expiry(&job.org, conversation, message.id, expires_at_ms);
                if let Some((message, entry)) = scheduled.await? {
                    // Delivered as an edit, so that clients keeping it learn its new time.
                    self.messages.events.message_changed(&job.org, &message, entry).await;
                    job.count(
                        if past { "messages past the policy" } else { "messages expiring sooner" },
                        1,
                    );
                }
            }
            job.cursor = message.id;
        }
        if page.len() < PAGE {
            job.conversations.remove(&conversation);
            job.cursor = 0;
        }
        Ok(())
    }
}
