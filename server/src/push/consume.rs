//! Taking pushed notifications from where they wait (the in-process queue, or a durable
//! consumer on the stream) and handling a few at a time, each acknowledged once handled.

use std::future::Future;
use std::sync::Arc;

use tokio::sync::{Semaphore, mpsc};
use tokio_util::sync::CancellationToken;

use super::Pushed;
use super::jetstream::{Done, StreamConsumer};

/// Where a consumer takes notifications from.
pub enum Source {
    /// This controller's own, in-process.
    Queue(mpsc::Receiver<Pushed>),
    /// A durable consumer on the JetStream stream, shared by every controller.
    Stream(Box<StreamConsumer>),
}

impl Source {
    async fn next(&mut self) -> Option<(Pushed, Done)> {
        match self {
            Source::Queue(queue) => queue.recv().await.map(|p| (p, Done::Nothing)),
            Source::Stream(consumer) => consumer.next().await,
        }
    }
}

/// Hands each notification from `source` to `handle`, up to `in_flight` at once, until
/// `shutdown`. Notifications still being handled then are abandoned: from the stream they
/// are delivered again (unacknowledged), in-process they are lost (the records stay in the
/// Store).
pub async fn consume<F, Fut>(
    mut source: Source,
    in_flight: usize,
    shutdown: CancellationToken,
    handle: F,
) where
    F: Fn(Pushed) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    let slots = Arc::new(Semaphore::new(in_flight));
    loop {
        let next = tokio::select! {
            _ = shutdown.cancelled() => return,
            next = source.next() => next,
        };
        let Some((pushed, done)) = next else { return };
        let Ok(slot) = slots.clone().acquire_owned().await else { return };
        let handled = handle(pushed);
        let stop = shutdown.clone();
        tokio::spawn(async move {
            tokio::select! {
                _ = stop.cancelled() => {}
                () = async {
                    handled.await;
                    done.finished().await;
                } => {}
            }
            drop(slot);
        });
    }
}
