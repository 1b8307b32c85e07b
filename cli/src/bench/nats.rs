//! Raw NATS core pub/sub, the yardstick for `fanout`: one publisher, N subscribers each on
//! its own connection, the same payload size, flat out. Also starts a `nats-server` for
//! runs that need one.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::Context;
use futures_util::StreamExt;
use tokio::process::{Child, Command};

pub(crate) struct NatsFanout {
    pub(crate) published: u64,
    pub(crate) delivered: u64,
    /// Deliveries per second, from the first publish to the last delivery.
    pub(crate) deliveries_per_sec: f64,
}

const END: &[u8] = b"END";

pub(crate) async fn fanout(
    url: &str,
    subscribers: usize,
    payload: usize,
    duration: Duration,
) -> anyhow::Result<NatsFanout> {
    let subject = format!("sbbench.fanout.{}", rand::random::<u32>());
    let delivered = Arc::new(AtomicU64::new(0));
    let start_nanos = Arc::new(AtomicU64::new(0));
    let last_nanos = Arc::new(AtomicU64::new(0));
    let epoch = Instant::now();
    let mut readers = Vec::with_capacity(subscribers);
    for _ in 0..subscribers {
        let client = async_nats::connect(url).await.context("cannot connect to NATS")?;
        let mut messages = client.subscribe(subject.clone()).await?;
        client.flush().await?;
        let (delivered, last_nanos) = (delivered.clone(), last_nanos.clone());
        readers.push(tokio::spawn(async move {
            let _client = client;
            while let Some(message) = messages.next().await {
                if message.payload.as_ref() == END {
                    return;
                }
                delivered.fetch_add(1, Ordering::Relaxed);
                last_nanos.fetch_max(epoch.elapsed().as_nanos() as u64, Ordering::Relaxed);
            }
        }));
    }
    let publisher = async_nats::connect(url).await?;
    let body = bytes_of(payload);
    let start = Instant::now();
    start_nanos.store(epoch.elapsed().as_nanos() as u64, Ordering::Relaxed);
    let mut published = 0u64;
    while start.elapsed() < duration {
        for _ in 0..64 {
            publisher.publish(subject.clone(), body.clone()).await?;
        }
        published += 64;
    }
    publisher.publish(subject.clone(), END.into()).await?;
    publisher.flush().await?;
    for reader in readers {
        // A subscriber NATS cut off as slow never sees END: stop waiting for it.
        let _ = tokio::time::timeout(Duration::from_secs(10), reader).await;
    }
    let delivered = delivered.load(Ordering::Relaxed);
    let window = Duration::from_nanos(
        last_nanos.load(Ordering::Relaxed).saturating_sub(start_nanos.load(Ordering::Relaxed)),
    );
    Ok(NatsFanout {
        published,
        delivered,
        deliveries_per_sec: delivered as f64 / window.as_secs_f64().max(1e-9),
    })
}

fn bytes_of(size: usize) -> bytes::Bytes {
    vec![b'x'; size].into()
}

/// Starts `nats-server` on a free loopback port; returns it and its URL.
pub(crate) async fn start_server() -> anyhow::Result<(Child, String)> {
    let port = std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
    let binary = ["nats-server", "/usr/sbin/nats-server", "/usr/bin/nats-server"]
        .into_iter()
        .find(|candidate| std::process::Command::new(candidate).arg("--version").output().is_ok())
        .context("nats-server not found (scripts/setup installs it), or pass --nats-url")?;
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
