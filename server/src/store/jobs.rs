//! Background jobs, per org newest first, and the unfinished ones of every org (few at a
//! time) for the controllers to find and lease.

use async_trait::async_trait;

use super::StoreResult;
use crate::model::Job;

#[async_trait]
pub trait JobStore: Send + Sync {
    /// Stores a new job, listed among the open ones, with no lease.
    async fn create_job(&self, job: &Job) -> StoreResult<()>;

    async fn get_job(&self, org: &str, id: u64) -> StoreResult<Option<Job>>;

    /// Up to `limit` of an org's jobs, newest first, with ids below `before` when given.
    async fn list_jobs(
        &self,
        org: &str,
        before: Option<u64>,
        limit: usize,
    ) -> StoreResult<Vec<Job>>;

    /// Up to `limit` unfinished jobs of every org, oldest first: (org, id).
    async fn open_jobs(&self, limit: usize) -> StoreResult<Vec<(String, u64)>>;

    /// Gives `owner` the job's lease until `until_ms`, if the lease is `owner`'s already or
    /// ran out before `now_ms` (a compare-and-set); whether `owner` holds it now.
    async fn lease_job(
        &self,
        org: &str,
        id: u64,
        owner: &str,
        now_ms: i64,
        until_ms: i64,
    ) -> StoreResult<bool>;

    /// Saves the job if `owner` holds its lease (a compare-and-set); a finished job leaves
    /// the open ones. Whether it was saved.
    async fn save_job(&self, job: &Job, owner: &str) -> StoreResult<bool>;
}
