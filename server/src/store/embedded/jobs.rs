//! Background jobs in the embedded engine: each org's keyed by org then id, with the lease
//! beside the job; the open ones keyed by id alone (their org as the value); finished
//! exports' archives by when they are removed, then id (their org as the value); duties'
//! leases by name.

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use super::{EmbeddedStore, Tables, decode, encode, get, keys};
use crate::model::{ArchiveExpiry, Job};
use crate::store::{JobStore, StoreResult};

/// A job as stored, with who holds its lease and until when.
#[derive(Serialize, Deserialize)]
struct LeasedJob {
    job: Job,
    lease_owner: String,
    lease_until_ms: i64,
}

/// Who holds a duty's lease, and until when.
#[derive(Serialize, Deserialize)]
struct DutyLease {
    owner: String,
    until_ms: i64,
}

impl Tables {
    fn leased_job(&self, org: &str, id: u64) -> StoreResult<Option<LeasedJob>> {
        let value = self.jobs.get(keys::org_entry(org, id))?;
        value.map(|value| decode("jobs", &value)).transpose()
    }
}

#[async_trait]
impl JobStore for EmbeddedStore {
    async fn create_job(&self, job: &Job) -> StoreResult<()> {
        let stored = LeasedJob { job: job.clone(), lease_owner: String::new(), lease_until_ms: 0 };
        self.write("create_job", |t, batch| {
            batch.insert(&t.jobs, keys::org_entry(&job.org, job.id), encode(&stored));
            batch.insert(&t.open_jobs, job.id.to_be_bytes(), job.org.as_bytes());
            Ok(())
        })
        .await
    }

    async fn get_job(&self, org: &str, id: u64) -> StoreResult<Option<Job>> {
        self.read("get_job", |t| Ok(t.leased_job(org, id)?.map(|leased| leased.job)))
    }

    async fn list_jobs(
        &self,
        org: &str,
        before: Option<u64>,
        limit: usize,
    ) -> StoreResult<Vec<Job>> {
        self.read("list_jobs", |t| {
            let low = keys::org_entry(org, 0);
            let high = keys::org_entry(org, before.unwrap_or(u64::MAX));
            let mut jobs = Vec::new();
            for row in t.jobs.range(low..high).rev().take(limit) {
                let (_, value) = row.into_inner()?;
                jobs.push(decode::<LeasedJob>("jobs", &value)?.job);
            }
            Ok(jobs)
        })
    }

    async fn open_jobs(&self, limit: usize) -> StoreResult<Vec<(String, u64)>> {
        self.read("open_jobs", |t| {
            let mut open = Vec::new();
            for row in t.open_jobs.iter().take(limit) {
                let (id, org) = row.into_inner()?;
                open.push((String::from_utf8_lossy(&org).into_owned(), keys::last_id(&id)));
            }
            Ok(open)
        })
    }

    async fn lease_job(
        &self,
        org: &str,
        id: u64,
        owner: &str,
        now_ms: i64,
        until_ms: i64,
    ) -> StoreResult<bool> {
        self.write("lease_job", |t, batch| {
            let Some(mut leased) = t.leased_job(org, id)? else { return Ok(false) };
            if leased.lease_owner != owner && leased.lease_until_ms >= now_ms {
                return Ok(false);
            }
            leased.lease_owner = owner.to_string();
            leased.lease_until_ms = until_ms;
            batch.insert(&t.jobs, keys::org_entry(org, id), encode(&leased));
            Ok(true)
        })
        .await
    }

    async fn lease_duty(
        &self,
        name: &str,
        owner: &str,
        now_ms: i64,
        until_ms: i64,
    ) -> StoreResult<bool> {
        self.write("lease_duty", |t, batch| {
            let held: Option<DutyLease> = get("duty_leases", &t.duty_leases, name.as_bytes())?;
            if held.is_some_and(|held| held.owner != owner && held.until_ms >= now_ms) {
                return Ok(false);
            }
            let lease = DutyLease { owner: owner.to_string(), until_ms };
            batch.insert(&t.duty_leases, name, encode(&lease));
            Ok(true)
        })
        .await
    }

    async fn save_job(&self, job: &Job, owner: &str) -> StoreResult<bool> {
        self.write("save_job", |t, batch| {
            let Some(mut leased) = t.leased_job(&job.org, job.id)? else { return Ok(false) };
            if leased.lease_owner != owner {
                return Ok(false);
            }
            leased.job = job.clone();
            batch.insert(&t.jobs, keys::org_entry(&job.org, job.id), encode(&leased));
            if job.state.is_finished() {
                batch.remove(&t.open_jobs, job.id.to_be_bytes());
            }
            Ok(true)
        })
        .await
    }

    async fn put_archive_expiry(&self, expiry: &ArchiveExpiry) -> StoreResult<()> {
        let key = keys::archive_expiry(expiry.expires_at_ms, expiry.job_id);
        self.write("put_archive_expiry", |t, batch| {
            batch.insert(&t.archive_expiries, key, expiry.org.as_bytes());
            Ok(())
        })
        .await
    }

    async fn due_archive_expiries(
        &self,
        now_ms: i64,
        limit: usize,
    ) -> StoreResult<Vec<ArchiveExpiry>> {
        self.read("due_archive_expiries", |t| {
            let end = keys::archive_expiry(now_ms.saturating_add(1), 0);
            let mut due = Vec::new();
            for row in t.archive_expiries.range(..&end[..]).take(limit) {
                let (key, org) = row.into_inner()?;
                let (expires_at_ms, job_id) = keys::parse_archive_expiry(&key);
                let org = String::from_utf8_lossy(&org).into_owned();
                due.push(ArchiveExpiry { expires_at_ms, org, job_id });
            }
            Ok(due)
        })
    }

    async fn remove_archive_expiry(&self, expiry: &ArchiveExpiry) -> StoreResult<()> {
        let key = keys::archive_expiry(expiry.expires_at_ms, expiry.job_id);
        self.write("remove_archive_expiry", |t, batch| {
            batch.remove(&t.archive_expiries, key);
            Ok(())
        })
        .await
    }
}
