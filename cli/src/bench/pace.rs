//! Sending on a schedule: `workers` tasks share a target rate (or go flat out), and each
//! send's latency counts from when it was due, not from when a busy worker got to it.

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
    /// Due → acknowledged.
    pub(crate) latency: Latency,
}

impl Paced {
    pub(crate) fn per_sec(&self) -> f64 {
        self.sent as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }
}

/// Runs `send(worker, due)` on the schedule.
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
                    tokio::time::sleep_until(due).await;
                    match send(worker, due).await {
                        Ok(()) => {
                            sent += 1;
                            latency.record(due.elapsed());
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
