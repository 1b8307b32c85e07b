//! Sending on a schedule: `workers` tasks share a target rate (or go flat out). A send's
//! latency counts from when it was due if its worker was still busy with the one before
//! (so a slow server cannot hide its queueing: no coordinated omission), and from when the
//! worker's timer woke it otherwise: tokio's timer rounds sleeps up to the next
//! millisecond, so counting from the due time would add up to a millisecond of the load
//! generator's own lateness to every paced send.

use std::future::Future;
use std::time::Duration;

use tokio::time::Instant;

use super::latency::Latency;

pub(crate) struct Schedule {
    /// Sends per second across all workers; None for as fast as acks come back.
    pub(crate) rate: Option<f64>,
    pub(crate) duration: Duration,
    pub(crate) workers: usize,
}

pub(crate) struct Paced {
    pub(crate) sent: u64,
    pub(crate) failed: u64,
    /// From the first send being due to the last ack.
    pub(crate) elapsed: Duration,
    /// Counted from (see above) → acknowledged.
    pub(crate) latency: Latency,
}

impl Paced {
    pub(crate) fn per_sec(&self) -> f64 {
        self.sent as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }
}

/// Runs `send(worker, counted_from)` on the schedule; the send's latency counts from
/// `counted_from` (see above).
pub(crate) async fn run<F, Fut>(schedule: &Schedule, send: F) -> Paced
where
    F: Fn(usize, Instant) -> Fut + Clone + Send + 'static,
    Fut: Future<Output = anyhow::Result<()>> + Send,
{
    let start = Instant::now();
    let end = start + schedule.duration;
    let (rate, workers) = (schedule.rate, schedule.workers.max(1));
    let tasks: Vec<_> = (0..workers)
        .map(|worker| {
            let send = send.clone();
            tokio::spawn(async move {
                let (mut sent, mut failed, mut latency) = (0u64, 0u64, Latency::new());
                let mut free_since = start;
                for turn in 0u64.. {
                    let due = match rate {
                        Some(rate) => {
                            let nth = (turn * workers as u64 + worker as u64) as f64;
                            start + Duration::from_secs_f64(nth / rate)
                        }
                        None => Instant::now(),
                    };
                    if due >= end {
                        break;
                    }
                    let counted_from = if free_since > due {
                        due
                    } else {
                        tokio::time::sleep_until(due).await;
                        Instant::now()
                    };
                    let result = send(worker, counted_from).await;
                    free_since = Instant::now();
                    match result {
                        Ok(()) => {
                            sent += 1;
                            latency.record(free_since - counted_from);
                        }
                        Err(_) => failed += 1,
                    }
                }
                (sent, failed, latency)
            })
        })
        .collect();
    let mut total = Paced { sent: 0, failed: 0, elapsed: Duration::ZERO, latency: Latency::new() };
    for task in tasks {
        let (sent, failed, latency) = task.await.expect("sender task");
        total.sent += sent;
        total.failed += failed;
        total.latency.merge(&latency);
    }
    total.elapsed = start.elapsed();
    total
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_worker_behind_schedule_counts_from_when_the_send_was_due() {
        // One worker, a send due every 10 ms, each taking 25 ms: the tenth is due at 90 ms
        // but can only start at 225 ms, so it is acknowledged at least 160 ms after it was due.
        let schedule =
            Schedule { rate: Some(100.0), duration: Duration::from_millis(100), workers: 1 };
        let paced = run(&schedule, |_, _| async {
            tokio::time::sleep(Duration::from_millis(25)).await;
            Ok(())
        })
        .await;
        assert_eq!(paced.sent, 10);
        assert!(paced.latency.max_ms() >= 160.0, "max {} ms", paced.latency.max_ms());
        assert!(paced.latency.ms(0.0) >= 25.0, "min {} ms", paced.latency.ms(0.0));
    }
}
