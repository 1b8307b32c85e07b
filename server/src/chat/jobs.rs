//! Background jobs: an org admin starts one (an erasure, see `erasure`; an export,
//! `export`; a shorter retention, `retention_job`), then follows it
//! with GetJob and ListJobs. Every controller works on the open jobs of every org: one at a
//! time holds a job's lease, renewed with each step it saves, so that a controller that
//! stops leaves its job to another once the lease runs out.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Notify;

use crate::auth::Caller;
use crate::error::{ChatError, ChatResult};
use crate::ids::IdGenerator;
use crate::model::{ConversationId, Job, JobKind, JobState};
use crate::store::Store;
use crate::validate;

/// How long a lease lasts without a step saved: a controller that stopped holds its job
/// this long.
pub(super) const LEASE: Duration = Duration::from_secs(60);
/// Default and largest page of ListJobs.
const JOBS_PAGE: (usize, usize) = (50, 200);
/// Open jobs looked at per look.
const OPEN_LOOKED_AT: usize = 100;

pub struct Jobs {
    pub(super) store: Arc<dyn Store>,
    pub(super) ids: Arc<IdGenerator>,
    /// This controller's name as a lease holder (unique per process).
    pub(super) owner: String,
    /// Woken when a job is started here, so that it starts at once.
    pub(super) started: Notify,
}

impl Jobs {
    /// Stores a new job of the caller's org, and wakes this controller's worker.
    pub(super) async fn start(
        &self,
        caller: &Caller,
        kind: JobKind,
        subject: &str,
        reason: &str,
    ) -> ChatResult<Job> {
        let id = self.ids.next_id();
        let now = crate::ids::timestamp_ms(id);
        let job = Job::new(id, &caller.org, kind, subject, &caller.user, reason, now);
        self.store.create_job(&job).await?;
        self.started.notify_one();
        Ok(job)
    }

    /// GetJob: one of the caller's org's jobs (the caller holds `chat.admin`).
    pub async fn get(&self, caller: &Caller, id: u64) -> ChatResult<Job> {
        self.store
            .get_job(&caller.org, id)
            .await?
            .ok_or_else(|| ChatError::not_found(format!("no job {id} in this organization")))
    }

    /// ListJobs: the caller's org's jobs, newest first, and the cursor of the next page
    /// (None on the last).
    pub async fn list(
        &self,
        caller: &Caller,
        before: Option<u64>,
        limit: u32,
    ) -> ChatResult<(Vec<Job>, Option<u64>)> {
        let limit = validate::page_size(limit, JOBS_PAGE.0, JOBS_PAGE.1)?;
        let jobs = self.store.list_jobs(&caller.org, before, limit).await?;
        let next = jobs.last().filter(|_| jobs.len() == limit).map(|job| job.id);
        Ok((jobs, next))
    }

    /// The org's unfinished job of `kind` about `subject`, if there is one.
    pub(super) async fn open_of(
        &self,
        org: &str,
        kind: JobKind,
        subject: &str,
    ) -> ChatResult<Option<Job>> {
        for (job_org, id) in self.store.open_jobs(OPEN_LOOKED_AT).await? {
            if job_org != org {
                continue;
            }
            if let Some(job) = self.store.get_job(org, id).await?
                && job.kind == kind
                && job.subject == subject
                && !job.state.is_finished()
            {
                return Ok(Some(job));
            }
        }
        Ok(None)
    }

    /// An open job this controller now holds the lease of, oldest first; None when every
    /// one is held elsewhere (or there are none).
    pub(super) async fn lease_next(&self) -> ChatResult<Option<Job>> {
        for (org, id) in self.store.open_jobs(OPEN_LOOKED_AT).await? {
            if self.lease(&org, id).await?
                && let Some(job) = self.store.get_job(&org, id).await?
            {
                return Ok(Some(job));
            }
        }
        Ok(None)
    }

    /// Takes or renews the lease of job `id` of `org`; whether this controller holds it.
    pub(super) async fn lease(&self, org: &str, id: u64) -> ChatResult<bool> {
        let now = self.ids.now_ms();
        let until = now + LEASE.as_millis() as i64;
        Ok(self.store.lease_job(org, id, &self.owner, now, until).await?)
    }

    /// Saves how far the job got, if this controller still holds it; whether it did.
    pub(super) async fn save(&self, job: &mut Job) -> ChatResult<bool> {
        job.updated_at_ms = self.ids.now_ms();
        if job.state.is_finished() {
            job.finished_at_ms = job.updated_at_ms;
        }
        Ok(self.store.save_job(job, &self.owner).await?)
    }

    /// Takes or renews the lease of duty `name` (see `store::JobStore::lease_duty`) for
    /// `lease`; whether this controller holds it. A controller that stops leaves the duty
    /// to another once the lease runs out.
    pub async fn hold_duty(&self, name: &str, lease: Duration) -> ChatResult<bool> {
        let now = self.ids.now_ms();
        let until = now + lease.as_millis() as i64;
        Ok(self.store.lease_duty(name, &self.owner, now, until).await?)
    }

    /// Waits until a job is started here, or `poll` passes (jobs started on other
    /// controllers, and leases running out, are found by looking again).
    pub(super) async fn wait_for_work(&self, poll: Duration) {
        let _ = tokio::time::timeout(poll, self.started.notified()).await;
    }
}

/// The conversation a job about one conversation is about (its subject).
pub(super) fn subject_id(job: &Job) -> ChatResult<ConversationId> {
    job.subject.parse().map_err(|_| ChatError::precondition("the job's subject is not an id"))
}

/// How often a controller looks for open jobs it was not woken for.
const LOOK_EVERY: Duration = Duration::from_secs(5);
/// Failed steps in a row after which a job is given up (failed).
const MAX_FAILURES: u32 = 10;
/// The wait after a failed step, times the failures in a row.
const BACKOFF: Duration = Duration::from_secs(1);

impl super::ChatService {
    /// The controller's job worker: takes open jobs one at a time and works each through
    /// to its end, or until another controller holds it. Never returns.
    pub async fn work_jobs(&self) {
        loop {
            self.jobs.wait_for_work(LOOK_EVERY).await;
            loop {
                match self.jobs.lease_next().await {
                    Ok(Some(job)) => self.run_job(job).await,
                    Ok(None) => break,
                    Err(error) => {
                        tracing::warn!(%error, "could not look for open jobs");
                        break;
                    }
                }
            }
        }
    }

    /// Steps through a job, saving after each step; a step that fails is tried again
    /// (after a growing wait) up to `MAX_FAILURES` times in a row.
    async fn run_job(&self, mut job: Job) {
        tracing::info!(job = job.id, kind = job.kind.name(), "working on a job");
        job.state = JobState::Running;
        let mut failures = 0;
        loop {
            let step = match job.kind {
                JobKind::EraseUser => self.erase_step(&mut job).await,
                JobKind::ExportUser | JobKind::ExportConversation => {
                    self.export_step(&mut job).await
                }
                JobKind::OrgRetention | JobKind::ConversationRetention => {
                    self.retention_step(&mut job).await
                }
            };
            match step {
                Ok(()) => failures = 0,
                Err(error) => {
                    failures += 1;
                    tracing::warn!(job = job.id, %error, failures, "a job's step failed");
                    job.error = error.to_string();
                    if failures >= MAX_FAILURES {
                        job.state = JobState::Failed;
                    } else {
                        tokio::time::sleep(BACKOFF * failures).await;
                    }
                }
            }
            let held = match self.jobs.lease(&job.org, job.id).await {
                Ok(true) => self.jobs.save(&mut job).await,
                other => other,
            };
            match held {
                Ok(true) if job.state.is_finished() => {
                    tracing::info!(job = job.id, state = ?job.state, "job finished");
                    return;
                }
                Ok(true) => {}
                Ok(false) => {
                    tracing::warn!(job = job.id, "another controller holds the job now");
                    return;
                }
                Err(error) => {
                    // Left to the lease: the next look (here or elsewhere) takes it up
                    // again from the last step saved.
                    tracing::warn!(job = job.id, %error, "could not save a job's progress");
                    return;
                }
            }
        }
    }
}
