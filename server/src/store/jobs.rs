//! Background jobs, per org newest first, and the unfinished ones of every org (few at a
//! time) for the controllers to find and lease; finished exports' archives by when they
//! are removed; the leases of duties one controller does at a time.

use async_trait::async_trait;

use super::StoreResult;
use crate::model::{ArchiveExpiry, Job};

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

    /// Gives `owner` the lease of duty `name` (work that one controller of a cluster does
    /// at a time, such as a sweep) until `until_ms`, if nobody held it, it ran out before
    /// `now_ms`, or it is `owner`'s already (a compare-and-set); whether `owner` holds it
    /// now.
    async fn lease_duty(
        &self,
        name: &str,
        owner: &str,
        now_ms: i64,
        until_ms: i64,
    ) -> StoreResult<bool>;

    /// Saves the job if `owner` holds its lease (a compare-and-set); a finished job leaves
    /// the open ones. Whether it was saved.
    async fn save_job(&self, job: &Job, owner: &str) -> StoreResult<bool>;

    /// Lists a finished export's archive among those to remove once their time has passed.
    async fn put_archive_expiry(&self, expiry: &ArchiveExpiry) -> StoreResult<()>;

    /// Up to `limit` of the archives listed whose time is at or before `now_ms`, soonest
    /// first.
    async fn due_archive_expiries(
        &self,
        now_ms: i64,
        limit: usize,
    ) -> StoreResult<Vec<ArchiveExpiry>>;

    /// Takes an archive off the list (once it is removed).
    async fn remove_archive_expiry(&self, expiry: &ArchiveExpiry) -> StoreResult<()>;
}
