//! What a scenario's simulated clients report to it as they go (live, a message received,
//! a failure to connect), and waiting, with a spinner, until enough have.

use indicatif::{ProgressBar, ProgressStyle};
use switchboard_sdk::RealtimeEvent;
use tokio::sync::{OwnedSemaphorePermit, mpsc};

/// Why a client's task reports in.
pub(crate) enum Milestone {
    /// It went live (once per connection).
    Live,
    /// It received a message it was waiting for, for the first time.
    Received,
    /// It could not connect.
    Failed(String),
}

/// What the clients reported so far, of every kind.
#[derive(Default)]
pub(crate) struct Counts {
    /// Times a client went live (once per connection).
    pub(crate) live: usize,
    /// Messages received for the first time.
    pub(crate) received: usize,
}

/// Counts reports into `counts` until `done` holds, with a spinner saying how far.
pub(crate) async fn wait_for(
    reports: &mut mpsc::Receiver<Milestone>,
    counts: &mut Counts,
    what: &str,
    done: impl Fn(&Counts) -> bool,
) -> anyhow::Result<()> {
    let progress = ProgressBar::new_spinner()
        .with_style(ProgressStyle::with_template(&format!("{what}: {{msg}}")).expect("template"));
    while !done(counts) {
        match reports.recv().await {
            Some(Milestone::Failed(error)) => anyhow::bail!("a client failed: {error}"),
            Some(Milestone::Live) => counts.live += 1,
            Some(Milestone::Received) => counts.received += 1,
            None => anyhow::bail!("clients ended before: {what}"),
        }
        progress.set_message(format!("{} live, {} messages", counts.live, counts.received));
    }
    progress.finish_and_clear();
    Ok(())
}

/// A simulated client's first connection: it holds a permit of the scenario's gate (so that
/// only so many connect at once) until its stream goes live.
pub(crate) struct Connecting {
    permit: Option<OwnedSemaphorePermit>,
    live: bool,
}

impl Connecting {
    pub(crate) fn new(permit: OwnedSemaphorePermit) -> Self {
        Connecting { permit: Some(permit), live: false }
    }

    pub(crate) fn is_live(&self) -> bool {
        self.live
    }

    /// Reports the stream going live the first time (letting the permit go), or failing
    /// before it did; true if `event` was one of those.
    pub(crate) async fn saw(
        &mut self,
        event: &RealtimeEvent,
        to: &mpsc::Sender<Milestone>,
    ) -> bool {
        match event {
            RealtimeEvent::Live(_) if !self.live => {
                self.live = true;
                self.permit = None;
                let _ = to.send(Milestone::Live).await;
                true
            }
            RealtimeEvent::Disconnected { code, message } if !self.live => {
                let _ = to.send(Milestone::Failed(format!("{code:?} {message}"))).await;
                true
            }
            _ => false,
        }
    }
}
