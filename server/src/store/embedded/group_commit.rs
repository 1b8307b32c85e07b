//! Group commit: every writer waits for an fsync that covers its write, and writers that
//! arrive while a sync is running share the next one, so N concurrent sends cost about one
//! fsync, not N.

use std::sync::atomic::{AtomicU64, Ordering};

use fjall::{Database, PersistMode};
use tokio::sync::Mutex;

use crate::store::{StoreError, StoreResult};

pub(super) struct GroupCommit {
    /// The database whose journal is synced.
    db: Database,
    /// Count of committed (not necessarily synced) write batches; a batch's ticket.
    written: AtomicU64,
    /// The highest ticket known to be on disk; held while a sync runs, so later writers
    /// queue behind it and find their ticket covered when it finishes.
    synced: Mutex<u64>,
    /// How many fsyncs ran: with group commit, fewer than writes under concurrency.
    syncs: AtomicU64,
}

impl GroupCommit {
    pub(super) fn new(db: Database) -> Self {
        GroupCommit {
            db,
            written: AtomicU64::new(0),
            synced: Mutex::new(0),
            syncs: AtomicU64::new(0),
        }
    }

    /// Call right after committing a batch; returns the ticket to wait for.
    pub(super) fn committed(&self) -> u64 {
        self.written.fetch_add(1, Ordering::SeqCst) + 1
    }

    /// The ticket of the newest committed batch, for a writer that read but wrote nothing.
    pub(super) fn current(&self) -> u64 {
        self.written.load(Ordering::SeqCst)
    }

    /// Returns once the batch holding `ticket` is on disk.
    pub(super) async fn durable(&self, ticket: u64) -> StoreResult<()> {
        let mut synced = self.synced.lock().await;
        if *synced >= ticket {
            return Ok(());
        }
        // Everything committed up to now rides on this sync.
        let target = self.written.load(Ordering::SeqCst);
        self.sync().await?;
        *synced = target;
        Ok(())
    }

    pub(super) async fn sync(&self) -> StoreResult<()> {
        let db = self.db.clone();
        tokio::task::spawn_blocking(move || db.persist(PersistMode::SyncAll))
            .await
            .map_err(|e| StoreError::Task(e.to_string()))??;
        self.syncs.fetch_add(1, Ordering::Relaxed);
        Ok(())
    }

    /// Number of fsyncs so far.
    pub(super) fn sync_count(&self) -> u64 {
        self.syncs.load(Ordering::Relaxed)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;

    fn open() -> (tempfile::TempDir, GroupCommit) {
        let dir = tempfile::tempdir().unwrap();
        let db = Database::builder(dir.path()).open().unwrap();
        (dir, GroupCommit::new(db))
    }

    #[tokio::test]
    async fn a_lone_writer_waits_for_its_own_sync() {
        let (_dir, commits) = open();
        for expected in 1..=3 {
            let ticket = commits.committed();
            commits.durable(ticket).await.unwrap();
            assert_eq!(commits.sync_count(), expected);
        }
        // nothing new committed: no new sync needed
        commits.durable(commits.current()).await.unwrap();
        assert_eq!(commits.sync_count(), 3);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn concurrent_writers_share_syncs() {
        let (_dir, commits) = open();
        let commits = Arc::new(commits);
        let writers: Vec<_> = (0..64)
            .map(|_| {
                let commits = commits.clone();
                tokio::spawn(async move {
                    let ticket = commits.committed();
                    commits.durable(ticket).await.unwrap();
                    // the sync that covered this ticket started after it was committed
                    assert!(*commits.synced.lock().await >= ticket);
                })
            })
            .collect();
        for writer in writers {
            writer.await.unwrap();
        }
        let syncs = commits.sync_count();
        assert!((1..64).contains(&syncs), "64 writers took {syncs} fsyncs");
    }
}
