//! Connections are admitted, not just accepted: at most so many per client address, a
//! deadline for the first bytes, idle connections closed, and a process out of file
//! descriptors waits for some to close instead of spinning, then serves again.

use std::time::Duration;

use switchboard_sdk::token::{SigningKey, TokenSpec, mint};
use switchboard_server::auth::connections::ConnectionLimits;
use switchboard_tests::{ControllerProcess, TEST_SECRET, TestController, TestRelay, eventually};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// How long the server may take to close a connection it should close.
const CLOSE_DEADLINE: Duration = Duration::from_secs(10);

/// Waits until the server closes `stream` (EOF or a reset); panics if it stays open.
async fn closed_by_server(stream: &mut TcpStream, what: &str) {
    let mut buf = [0u8; 4096];
    let deadline = tokio::time::Instant::now() + CLOSE_DEADLINE;
    loop {
        match tokio::time::timeout_at(deadline, stream.read(&mut buf)).await {
            Ok(Ok(0) | Err(_)) => return,
            Ok(Ok(_)) => continue,
            Err(_) => panic!("{what}: the server kept the connection open"),
        }
    }
}

fn limits(max_per_ip: usize, handshake_ms: u64, idle_secs: u64) -> ConnectionLimits {
    ConnectionLimits {
        max_per_ip,
        handshake_timeout_ms: handshake_ms,
        idle_timeout_secs: idle_secs,
    }
}

#[tokio::test]
async fn an_address_gets_only_so_many_connections_and_more_once_some_close() {
    let server = TestController::start().await;
    let relay = TestRelay::builder(&server)
        .configure(|c| c.connections = limits(4, 60_000, 300))
        .start()
        .await;
    // The harness's own status polling may hold one; fill the rest with silent sockets.
    let mut held = Vec::new();
    for _ in 0..4 {
        held.push(TcpStream::connect(relay.address).await.unwrap());
    }
    let mut over = TcpStream::connect(relay.address).await.unwrap();
    closed_by_server(&mut over, "a connection over the limit").await;
    drop(held);
    // Room again: a real client gets through (retried while the closes land).
    let token = server.token("a", "acme");
    eventually("a client getting through", CLOSE_DEADLINE, || serves(relay.url(), &token)).await;
}

#[tokio::test]
async fn a_connection_that_sends_nothing_is_closed_after_the_handshake_timeout() {
    let server =
        TestController::builder().configure(|c| c.connections = limits(0, 300, 300)).start().await;
    let relay = TestRelay::builder(&server)
        .configure(|c| c.connections = limits(0, 300, 300))
        .start()
        .await;
    for address in [relay.address, server.address, server.http_address] {
        let mut silent = TcpStream::connect(address).await.unwrap();
        closed_by_server(&mut silent, &format!("a silent connection to {address}")).await;
    }
}

#[tokio::test]
async fn an_idle_connection_is_closed() {
    let server =
        TestController::builder().configure(|c| c.connections = limits(0, 10_000, 1)).start().await;
    let mut http = TcpStream::connect(server.http_address).await.unwrap();
    http.write_all(b"GET /healthz HTTP/1.1\r\nhost: x\r\n\r\n").await.unwrap();
    let mut answer = vec![0u8; 1024];
    let n = http.read(&mut answer).await.unwrap();
    assert!(String::from_utf8_lossy(&answer[..n]).starts_with("HTTP/1.1 200"));
    // Kept alive by HTTP/1.1, then nothing more: closed once idle.
    closed_by_server(&mut http, "an idle keep-alive connection").await;
}

/// CPU time (user + system) a process has used, in clock ticks.
fn cpu_ticks(pid: u32) -> u64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    let after_name = &stat[stat.rfind(')').unwrap() + 2..];
    let fields: Vec<&str> = after_name.split(' ').collect();
    fields[11].parse::<u64>().unwrap() + fields[12].parse::<u64>().unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn out_of_file_descriptors_the_server_waits_then_serves_again() {
    let dir = tempfile::tempdir().unwrap();
    let controller = tokio::task::spawn_blocking({
        let dir = dir.path().to_path_buf();
        move || {
            ControllerProcess::start_with_env(&dir, &[("SWITCHBOARD_CONNECTIONS__MAX_PER_IP", "0")])
        }
    })
    .await
    .unwrap();
    let pid = controller.pid();
    let open = std::fs::read_dir(format!("/proc/{pid}/fd")).unwrap().count();
    let limit = open + 16;
    let status = std::process::Command::new("prlimit")
        .args(["--pid", &pid.to_string(), &format!("--nofile={limit}:{limit}")])
        .status()
        .unwrap();
    assert!(status.success(), "prlimit failed");
    let address = controller.url.trim_start_matches("http://").to_string();

    // More connections than the process has descriptors left.
    let mut held = Vec::new();
    for _ in 0..64 {
        held.push(TcpStream::connect(&address).await.unwrap());
    }
    // Saturated, it must wait rather than spin (the old accept loop burned most of a core).
    let before = cpu_ticks(pid);
    tokio::time::sleep(Duration::from_secs(2)).await;
    let spent = cpu_ticks(pid) - before;
    assert!(spent < 50, "{spent} ticks of CPU in 2 s while out of descriptors");

    drop(held);
    let key = SigningKey::Hs256(TEST_SECRET.as_bytes().to_vec());
    let token = mint(&TokenSpec::new("a", "acme"), &key).unwrap();
    let within = Duration::from_secs(20);
    eventually("serving again", within, || serves(controller.url.clone(), &token)).await;
}

/// Some(()) once a client at `url` is answered.
async fn serves(url: String, token: &str) -> Option<()> {
    let client = switchboard_sdk::Client::connect(url, token.to_string()).await.ok()?;
    client.list_conversations(0, 1).await.ok().map(drop)
}
