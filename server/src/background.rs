//! The controller's background work, supervised in one place: every long-running loop is
//! registered by name; one that ends on its own (none should) is reported as an error; on
//! shutdown all stop together, those with work to finish (the indexer's last commit, the
//! webhook's delivery in flight) told to and given until one deadline, the rest dropped.

use std::future::Future;
use std::time::Duration;

use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

/// Every background loop of a controller.
pub struct Background {
    /// The loops, each yielding its name when it ends.
    tasks: JoinSet<&'static str>,
    /// Cancelled at shutdown: loops that finish their work watch it; the others are
    /// dropped when it fires.
    stop: CancellationToken,
}

impl Default for Background {
    fn default() -> Self {
        Background { tasks: JoinSet::new(), stop: CancellationToken::new() }
    }
}

impl Background {
    /// Runs `work` until shutdown, when it is dropped wherever it is.
    pub fn spawn(&mut self, name: &'static str, work: impl Future<Output = ()> + Send + 'static) {
        let stop = self.stop.clone();
        self.tasks.spawn(async move {
            tokio::select! {
                () = stop.cancelled() => {}
                () = work => {}
            }
            name
        });
    }

    /// Runs `work`, which gets the shutdown token and finishes what it is doing once it
    /// fires (up to the deadline given to [`Background::shutdown`]).
    pub fn spawn_draining<F>(
        &mut self,
        name: &'static str,
        work: impl FnOnce(CancellationToken) -> F,
    ) where
        F: Future<Output = ()> + Send + 'static,
    {
        let work = work(self.stop.clone());
        self.tasks.spawn(async move {
            work.await;
            name
        });
    }

    /// Reports each loop that ends before shutdown; never returns (await it beside the
    /// server).
    pub async fn watch(&mut self) {
        loop {
            match self.tasks.join_next().await {
                Some(Ok(name)) => tracing::error!(work = name, "background work ended on its own"),
                Some(Err(error)) if error.is_panic() => {
                    tracing::error!(%error, "background work panicked");
                }
                Some(Err(_)) => {}
                None => std::future::pending::<()>().await,
            }
        }
    }

    /// Stops every loop: tells them, waits up to `deadline` for those finishing their
    /// work, then drops what is left with a warning.
    pub async fn shutdown(mut self, deadline: Duration) {
        self.stop.cancel();
        let finished = tokio::time::timeout(deadline, async {
            while self.tasks.join_next().await.is_some() {}
        })
        .await;
        if finished.is_err() {
            tracing::warn!(
                ?deadline,
                left = self.tasks.len(),
                "background work did not stop in time; dropped"
            );
            self.tasks.abort_all();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};

    #[tokio::test]
    async fn shutdown_drops_loops_and_lets_draining_work_finish() {
        let mut background = Background::default();
        background.spawn("forever", std::future::pending());
        let finished = Arc::new(AtomicBool::new(false));
        let done = finished.clone();
        background.spawn_draining("draining", |stop| async move {
            stop.cancelled().await;
            tokio::task::yield_now().await; // the last of its work
            done.store(true, Ordering::SeqCst);
        });
        background.shutdown(Duration::from_secs(5)).await;
        assert!(finished.load(Ordering::SeqCst), "the draining work was not let finish");
    }

    #[tokio::test]
    async fn work_that_outlives_the_deadline_is_dropped() {
        let mut background = Background::default();
        background.spawn_draining("stuck", |_stop| std::future::pending());
        // Returns (after the deadline) instead of waiting forever.
        background.shutdown(Duration::from_millis(50)).await;
    }
}
