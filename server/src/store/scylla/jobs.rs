//! Background jobs in the ScyllaDB engine: `jobs` per org (the job as MessagePack, beside
//! its lease columns, which lightweight transactions compare), and `open_jobs` and
//! `archive_expiries` each in one partition (there are few at a time).

use async_trait::async_trait;

use super::ScyllaStore;
use super::rows::{before_or_end, corrupt, row_limit, to_i64};
use super::statements::Statement;
use crate::model::{ArchiveExpiry, Job};
use crate::store::{JobStore, StoreResult};

/// The one partition of `open_jobs`.
const OPEN_SHARD: i32 = 0;

fn body(job: &Job) -> Vec<u8> {
    rmp_serde::to_vec_named(job).expect("jobs serialize")
}

fn job_of(body: &[u8]) -> StoreResult<Job> {
    rmp_serde::from_slice(body).map_err(|e| corrupt("jobs", e.to_string()))
}

#[async_trait]
impl JobStore for ScyllaStore {
    async fn create_job(&self, job: &Job) -> StoreResult<()> {
        let (org, id) = (job.org.as_str(), to_i64(job.id));
        self.run(Statement::JobInsert, (org, id, body(job), "", 0_i64)).await?;
        self.run(Statement::OpenJobInsert, (OPEN_SHARD, id, org)).await?;
        Ok(())
    }

    async fn get_job(&self, org: &str, id: u64) -> StoreResult<Option<Job>> {
        let rows: Vec<(Vec<u8>,)> = self.rows(Statement::JobGet, (org, to_i64(id))).await?;
        rows.first().map(|(body,)| job_of(body)).transpose()
    }

    async fn list_jobs(
        &self,
        org: &str,
        before: Option<u64>,
        limit: usize,
    ) -> StoreResult<Vec<Job>> {
        let key = (org, before_or_end(before), row_limit(limit));
        let rows: Vec<(Vec<u8>,)> = self.rows(Statement::JobList, key).await?;
        rows.iter().map(|(body,)| job_of(body)).collect()
    }

    async fn open_jobs(&self, limit: usize) -> StoreResult<Vec<(String, u64)>> {
        let rows: Vec<(i64, String)> =
            self.rows(Statement::OpenJobList, (OPEN_SHARD, row_limit(limit))).await?;
        Ok(rows.into_iter().map(|(id, org)| (org, id as u64)).collect())
    }

    async fn lease_job(
        &self,
        org: &str,
        id: u64,
        owner: &str,
        now_ms: i64,
        until_ms: i64,
    ) -> StoreResult<bool> {
        let id = to_i64(id);
        let renew = (owner, until_ms, org, id, owner);
        if self.lwt(Statement::JobLeaseRenew, renew).await?.0 {
            return Ok(true);
        }
        let take = (owner, until_ms, org, id, now_ms);
        Ok(self.lwt(Statement::JobLeaseTake, take).await?.0)
    }

    async fn lease_duty(
        &self,
        name: &str,
        owner: &str,
        now_ms: i64,
        until_ms: i64,
    ) -> StoreResult<bool> {
        // Lightweight transactions take no OR: renew, else take one run out, else create.
        if self.lwt(Statement::DutyLeaseRenew, (owner, until_ms, name, owner)).await?.0 {
            return Ok(true);
        }
        if self.lwt(Statement::DutyLeaseTake, (owner, until_ms, name, now_ms)).await?.0 {
            return Ok(true);
        }
        Ok(self.lwt(Statement::DutyLeaseCreate, (name, owner, until_ms)).await?.0)
    }

    async fn save_job(&self, job: &Job, owner: &str) -> StoreResult<bool> {
        let (org, id) = (job.org.as_str(), to_i64(job.id));
        let (saved, _) = self.lwt(Statement::JobSave, (body(job), org, id, owner)).await?;
        if saved && job.state.is_finished() {
            self.run(Statement::OpenJobDelete, (OPEN_SHARD, id)).await?;
        }
        Ok(saved)
    }

    async fn put_archive_expiry(&self, expiry: &ArchiveExpiry) -> StoreResult<()> {
        let (at, id) = (expiry.expires_at_ms, to_i64(expiry.job_id));
        self.run(Statement::ArchiveExpiryInsert, (OPEN_SHARD, at, id, expiry.org.as_str())).await?;
        Ok(())
    }

    async fn due_archive_expiries(
        &self,
        now_ms: i64,
        limit: usize,
    ) -> StoreResult<Vec<ArchiveExpiry>> {
        let key = (OPEN_SHARD, now_ms, row_limit(limit));
        let rows: Vec<(i64, i64, String)> = self.rows(Statement::ArchiveExpiryDue, key).await?;
        let due = rows.into_iter().map(|(expires_at_ms, id, org)| ArchiveExpiry {
            expires_at_ms,
            org,
            job_id: id as u64,
        });
        Ok(due.collect())
    }

    async fn remove_archive_expiry(&self, expiry: &ArchiveExpiry) -> StoreResult<()> {
        let key = (OPEN_SHARD, expiry.expires_at_ms, to_i64(expiry.job_id));
        self.run(Statement::ArchiveExpiryDelete, key).await?;
        Ok(())
    }
}
