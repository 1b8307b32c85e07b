//! Keeps the index in step with the Store by following its change feed, off the send path:
//! a send is acknowledged once durable and found by searches a moment later.
//!
//! Each round reads the changes from the *settled* time on. A change's time is taken before
//! its write lands, so a change may show up in the feed a little after later ones; changes
//! older than [`SETTLE`] are taken to have all landed. Changes newer than that are read
//! again next round, and the ones already applied are skipped. The settled time is the
//! checkpoint saved with each commit: after a restart the indexer starts there, so what was
//! sent while it was down is read back from the Store.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use tokio_util::sync::CancellationToken;

use super::applier::Applier;
use super::{SearchError, SearchIndex};
use crate::ids::Clock;
use crate::model::{MessageChange, change_hour};
use crate::store::Store;
use crate::store::embedded::CHANGE_TTL_MS;

/// How long after its time a change is sure to be in the feed.
const SETTLE: Duration = Duration::from_secs(3);
/// How often the feed is read.
const ROUND: Duration = Duration::from_millis(500);
/// How stale the saved checkpoint may get while nothing changes.
const CHECKPOINT_EVERY_MS: i64 = 60_000;
/// Changes read per Store call.
const PAGE: usize = 1_000;

/// Keeps a controller's own search index (where the cluster has no search indexer) up to
/// date from the Store's change feed; its state between rounds.
pub struct FeedIndexer {
    applier: Applier,
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    /// Every change before this time is in the index.
    settled_ms: i64,
    /// Changes at or after `settled_ms` that are in the index already.
    applied: HashSet<MessageChange>,
    /// The checkpoint of the last commit.
    committed_ms: i64,
}

impl FeedIndexer {
    /// Resumes from the index's checkpoint; a new index starts with the oldest changes the
    /// feed still holds.
    pub fn new(
        index: Arc<SearchIndex>,
        store: Arc<dyn Store>,
        clock: Arc<dyn Clock>,
    ) -> Result<FeedIndexer, SearchError> {
        let settled_ms = match index.checkpoint()? {
            Some(payload) => payload
                .parse()
                .map_err(|_| SearchError::Index(format!("unreadable checkpoint `{payload}`")))?,
            None => clock.now_ms() - CHANGE_TTL_MS,
        };
        Ok(FeedIndexer {
            applier: Applier::new(index, store.clone()),
            store,
            clock,
            settled_ms,
            applied: HashSet::new(),
            committed_ms: settled_ms,
        })
    }

    /// Rounds until `shutdown`; a failed round is logged and retried on the next.
    pub async fn run(mut self, shutdown: CancellationToken) {
        let mut rounds = tokio::time::interval(ROUND);
        rounds.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = shutdown.cancelled() => break,
                _ = rounds.tick() => {}
            }
            if let Err(error) = self.round().await {
                tracing::warn!(%error, "search indexing round failed; retrying");
            }
        }
        if let Err(error) = self.round().await {
            tracing::warn!(%error, "last search indexing round failed");
        }
    }

    /// Applies every change from the settled time up to now and commits.
    pub async fn round(&mut self) -> Result<(), SearchError> {
        let now = self.clock.now_ms();
        let settled_now = self.settled_ms.max(now - SETTLE.as_millis() as i64);
        // Just before the first change at `settled_ms`: the feed lists strictly after it.
        let mut after = Some(MessageChange {
            at_ms: self.settled_ms - 1,
            channel_id: u64::MAX,
            message_id: u64::MAX,
        });
        for hour in change_hour(self.settled_ms)..=change_hour(now) {
            loop {
                let changes = self.store.list_message_changes(hour, after, PAGE).await?;
                for change in &changes {
                    if !self.applied.contains(change) {
                        self.applier.apply(change.channel_id, change.message_id).await?;
                        // Older ones will not be read again.
                        if change.at_ms >= settled_now {
                            self.applied.insert(*change);
                        }
                    }
                }
                match changes.last() {
                    Some(last) if changes.len() == PAGE => after = Some(*last),
                    _ => break,
                }
            }
            after = None;
        }
        if self.applier.dirty || settled_now - self.committed_ms >= CHECKPOINT_EVERY_MS {
            self.applier.commit(settled_now.to_string()).await?;
            self.committed_ms = settled_now;
        }
        self.settled_ms = settled_now;
        self.applied.retain(|change| change.at_ms >= settled_now);
        Ok(())
    }
}
