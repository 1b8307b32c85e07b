//! Raw NATS core pub/sub, the yardstick for `fanout`: one publisher, N subscribers each on
//! its own connection, the same payload size, and the same search for the highest rate at
//! which every subscriber gets every message at the pace it was published. Also starts a
//! `nats-server` for runs that need one.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::Context;
use futures_util::StreamExt;
use tokio::process::{Child, Command};

use super::cpu::{cpu_time, micros_per};
use super::search::highest_passing;

pub(crate) struct NatsFanout {
    /// Messages per second of the fastest step every subscriber kept up with.
    pub(crate) rate: f64,
    /// Deliveries per second at that step, from its first publish to its last delivery.
    pub(crate) deliveries_per_sec: f64,
    /// nats-server's CPU per delivery at that step, when its process is known.
    pub(crate) server_cpu_us: Option<f64>,
}

/// N subscribers on their own connections, counting what they receive.
struct Rig {
    subject: String,
    delivered: Arc<AtomicU64>,
    /// Nanoseconds since `epoch` of the latest delivery.
    last: Arc<AtomicU64>,
    epoch: Instant,
    readers: Vec<tokio::task::JoinHandle<()>>,
}

impl Drop for Rig {
    fn drop(&mut self) {
        for reader in &self.readers {
            reader.abort();
        }
    }
}

/// `server_pid`: the nats-server's process, to read its CPU (when this run started it).
pub(crate) async fn fanout(
    url: &str,
    server_pid: Option<u32>,
    subscribers: usize,
    payload: usize,
    start_rate: f64,
    step: Duration,
) -> anyhow::Result<NatsFanout> {
    let rig = Rig::connect(url, subscribers).await?;
    let publisher = async_nats::connect(url).await?;
    let body: bytes::Bytes = vec![b'x'; payload].into();
    let (rig, publisher, body) = (&rig, &publisher, &body);
    let best = highest_passing(start_rate, |rate| async move {
        let cpu_before = server_pid.and_then(cpu_time);
        let (published, delivered, per_sec) = rig.step(publisher, body, rate, step).await?;
        let cpu = micros_per(cpu_before, server_pid.and_then(cpu_time), delivered);
        let kept_up = delivered == published * subscribers as u64
            && per_sec >= 0.9 * rate * subscribers as f64;
        Ok(kept_up.then_some((per_sec, cpu)))
    })
    .await?;
    best.map(|(rate, (deliveries_per_sec, server_cpu_us))| NatsFanout {
        rate,
        deliveries_per_sec,
        server_cpu_us,
    })
    .context("raw NATS subscribers did not keep up even at a 64th of the start rate")
}

impl Rig {
    async fn connect(url: &str, subscribers: usize) -> anyhow::Result<Rig> {
        let subject = format!("sbbench.fanout.{}", rand::random::<u32>());
        let (delivered, last, epoch) =
            (Arc::new(AtomicU64::new(0)), Arc::new(AtomicU64::new(0)), Instant::now());
        let mut readers = Vec::with_capacity(subscribers);
        for _ in 0..subscribers {
            let client = async_nats::connect(url).await.context("cannot connect to NATS")?;
            let mut messages = client.subscribe(subject.clone()).await?;
            client.flush().await?;
            let (delivered, last) = (delivered.clone(), last.clone());
            readers.push(tokio::spawn(async move {
                let _client = client;
                while messages.next().await.is_some() {
                    delivered.fetch_add(1, Ordering::Relaxed);
                    last.fetch_max(epoch.elapsed().as_nanos() as u64, Ordering::Relaxed);
                }
            }));
        }
        Ok(Rig { subject, delivered, last, epoch, readers })
    }

    /// Publishes at `rate` for `duration` (in 1 ms batches), waits for the deliveries to
    /// stop; returns messages published, deliveries, and deliveries per second.
    async fn step(
        &self,
        publisher: &async_nats::Client,
        body: &bytes::Bytes,
        rate: f64,
        duration: Duration,
    ) -> anyhow::Result<(u64, u64, f64)> {
        self.delivered.store(0, Ordering::Relaxed);
        let start = Instant::now();
        let start_nanos = self.epoch.elapsed().as_nanos() as u64;
        let mut published = 0u64;
        let mut tick = tokio::time::interval(Duration::from_millis(1));
        while start.elapsed() < duration {
            tick.tick().await;
            let due = (start.elapsed().as_secs_f64() * rate) as u64;
            while published < due {
                publisher.publish(self.subject.clone(), body.clone()).await?;
                published += 1;
            }
        }
        publisher.flush().await?;
        let expected = published * self.readers.len() as u64;
        let (mut seen, mut still_since) = (0, Instant::now());
        loop {
            let now = self.delivered.load(Ordering::Relaxed);
            if now >= expected || still_since.elapsed() > Duration::from_secs(1) {
                break;
            }
            if now != seen {
                (seen, still_since) = (now, Instant::now());
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        let delivered = self.delivered.load(Ordering::Relaxed);
        let window = self.last.load(Ordering::Relaxed).saturating_sub(start_nanos);
        Ok((published, delivered, delivered as f64 / (window as f64 / 1e9).max(1e-9)))
    }
}

/// Starts `nats-server` on a free loopback port; returns it and its URL.
pub(crate) async fn start_server() -> anyhow::Result<(Child, String)> {
    let port = std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
    let binary = nats_server_binary()?;
    let child = Command::new(binary)
        .args(["-a", "127.0.0.1", "-p", &port.to_string()])
        .kill_on_drop(true)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()?;
    let url = format!("nats://127.0.0.1:{port}");
    let deadline = Instant::now() + Duration::from_secs(10);
    while tokio::net::TcpStream::connect(("127.0.0.1", port)).await.is_err() {
        anyhow::ensure!(Instant::now() < deadline, "nats-server did not start on port {port}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    Ok((child, url))
}

/// The nats-server `scripts/setup` installs, found the one way the tests find it:
/// `$NATS_SERVER_BIN`, else `$SB_TOOLS/bin/nats-server` (default prefix
/// `~/.cache/switchboard-tools`). Never `PATH`: a copy installed by hand there would make a
/// run pass here that fails on a fresh machine.
fn nats_server_binary() -> anyhow::Result<std::path::PathBuf> {
    use std::path::PathBuf;
    if let Some(path) = std::env::var_os("NATS_SERVER_BIN") {
        return Ok(PathBuf::from(path));
    }
    let prefix = match std::env::var_os("SB_TOOLS") {
        Some(prefix) => PathBuf::from(prefix),
        None => PathBuf::from(std::env::var_os("HOME").unwrap_or_default())
            .join(".cache/switchboard-tools"),
    };
    let path = prefix.join("bin/nats-server");
    anyhow::ensure!(
        path.exists(),
        "nats-server not found at {} (scripts/setup installs it there; NATS_SERVER_BIN names \
         another), or pass --nats-url",
        path.display()
    );
    Ok(path)
}
