//! A real `nats-server` (the official build, installed by `scripts/setup`) on a random
//! loopback port, which a test can kill and restart on the same port.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use tempfile::TempDir;

pub struct NatsServer {
    child: Option<Child>,
    pub port: u16,
    /// Token clients must present, if any.
    token: Option<String>,
    /// JetStream storage.
    dir: TempDir,
}

impl NatsServer {
    /// Starts nats-server with JetStream on a free port.
    pub fn start() -> NatsServer {
        let dir = tempfile::tempdir().expect("temp dir");
        let (child, port) = spawn(None, &dir, None);
        NatsServer { child: Some(child), port, token: None, dir }
    }

    /// Like [`NatsServer::start`], requiring clients to present `token`.
    pub fn start_with_token(token: &str) -> NatsServer {
        let dir = tempfile::tempdir().expect("temp dir");
        let (child, port) = spawn(None, &dir, Some(token));
        NatsServer { child: Some(child), port, token: Some(token.to_string()), dir }
    }

    pub fn url(&self) -> String {
        format!("nats://127.0.0.1:{}", self.port)
    }

    /// SIGKILL: connections drop without a goodbye.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            child.kill().expect("kill nats-server");
            child.wait().expect("wait for nats-server");
        }
    }

    /// Starts it again on the same port.
    pub fn restart(&mut self) {
        self.kill();
        let (child, _) = spawn(Some(self.port), &self.dir, self.token.as_deref());
        self.child = Some(child);
    }
}

impl Drop for NatsServer {
    fn drop(&mut self) {
        self.kill();
    }
}

fn binary() -> std::path::PathBuf {
    crate::tools::tool("nats-server", "NATS_SERVER_BIN")
}

/// Runs nats-server and waits until it says which port it listens on.
fn spawn(port: Option<u16>, dir: &TempDir, token: Option<&str>) -> (Child, u16) {
    let port_arg = port.map_or("-1".to_string(), |p| p.to_string());
    let mut command = Command::new(binary());
    command.args(["-a", "127.0.0.1", "-p", &port_arg, "-js", "-sd"]).arg(dir.path());
    if let Some(token) = token {
        command.args(["--auth", token]);
    }
    let mut child =
        command.stdout(Stdio::null()).stderr(Stdio::piped()).spawn().expect("start nats-server");
    let stderr = child.stderr.take().expect("stderr");
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut lines = BufReader::new(stderr).lines();
    let port = loop {
        let line = lines.next().expect("nats-server exited before listening").expect("read");
        if let Some((_, address)) = line.split_once("Listening for client connections on ") {
            let port =
                address.rsplit(':').next().expect("port").trim().parse().expect("port number");
            break port;
        }
        assert!(Instant::now() < deadline, "nats-server did not start in time");
    };
    // Keep draining its log so it never blocks on a full pipe.
    std::thread::spawn(move || for _ in lines {});
    (child, port)
}
