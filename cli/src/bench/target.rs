//! The Switchboard a benchmark drives: one already running (--addr, with its HS256 secret
//! to mint the simulated users' tokens), or one started for the run (--spawn: a controller
//! and a relay as separate processes, so the relay's memory can be measured alone).

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use anyhow::{Context, bail};
use switchboard_sdk::token::{ALL_SCOPES, SigningKey, TokenSpec, mint};
use switchboard_sdk::{Client, Realtime, RealtimeEvent, RealtimeOptions};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

use super::BenchArgs;
use super::cpu::ServerCpu;
use super::store_reads::StoreReads;

pub(crate) struct Target {
    /// Client-facing address.
    pub(crate) relay: String,
    /// Signs the simulated users' tokens.
    key: SigningKey,
    /// To read the relay's memory and CPU.
    pub(crate) relay_pid: Option<u32>,
    /// To read the controller's CPU.
    controller_pid: Option<u32>,
    /// The controller's HTTP port (metrics), when started for the run.
    controller_http: Option<String>,
    /// The relay started for the run, and how to start it again.
    relay_process: Option<RelayProcess>,
    /// Processes started for the run (killed when dropped).
    _children: Vec<Child>,
    /// Their data, removed when dropped.
    _dir: Option<tempfile::TempDir>,
}

impl Target {
    pub(crate) async fn open(address: &str, args: &BenchArgs) -> anyhow::Result<Target> {
        Target::open_with(address, args, &[]).await
    }

    /// [`Target::open`], a spawned controller also given `env` (its config).
    pub(crate) async fn open_with(
        address: &str,
        args: &BenchArgs,
        env: &[(String, String)],
    ) -> anyhow::Result<Target> {
        if args.spawn {
            return Target::spawn(args.spawn_nats, env).await;
        }
        let path = args.secret_file.as_deref().context(
            "name the target's HS256 secret with --secret-file (e.g. switchboard-data/dev-secret), \
             or start one with --spawn",
        )?;
        Ok(Target {
            relay: address.to_string(),
            key: read_key(path)?,
            relay_pid: args.relay_pid,
            controller_pid: args.controller_pid,
            controller_http: None,
            relay_process: None,
            _children: Vec::new(),
            _dir: None,
        })
    }

    async fn spawn(with_nats: bool, env: &[(String, String)]) -> anyhow::Result<Target> {
        let dir = tempfile::tempdir()?;
        let secret = dir.path().join("secret");
        let cluster = dir.path().join("cluster-secret");
        std::fs::write(&secret, random_secret())?;
        std::fs::write(&cluster, random_secret())?;
        let mut children = Vec::new();
        let mut controller = switchboard("controller")?;
        controller
            .env("SWITCHBOARD_DATA_DIR", dir.path().join("data"))
            .env("SWITCHBOARD_CONTROLLER__LISTEN", "127.0.0.1:0")
            .env("SWITCHBOARD_HTTP__LISTEN", "127.0.0.1:0")
            .env("SWITCHBOARD_AUTH__HS256_SECRET_FILE", &secret)
            .env("SWITCHBOARD_CLUSTER__SECRET_FILE", &cluster)
            // The load comes from few users: their per-user send rate must not cap it.
            .env("SWITCHBOARD_LIMITS__SEND_RATE_PER_SEC", "1000000000")
            .env("SWITCHBOARD_LIMITS__SEND_BURST", "1000000000")
            .env("SWITCHBOARD_LIMITS__WRITE_RATE_PER_SEC", "1000000000")
            .env("SWITCHBOARD_LIMITS__WRITE_BURST", "1000000000")
            .env("SWITCHBOARD_LIMITS__MAX_CONCURRENT_REQUESTS", "100000")
            .envs(env.iter().map(|(key, value)| (key, value)));
        if with_nats {
            let (nats, url) = super::nats::start_server().await?;
            children.push(nats);
            controller.env("SWITCHBOARD_NATS__URLS", format!("[\"{url}\"]"));
        }
        let started = start(controller, "controller listening on ").await?;
        let controller_pid = started.child.id();
        let (controller_address, controller_http) = (started.address, started.http);
        children.push(started.child);
        let recipe = RelayRecipe {
            controller: format!("http://{controller_address}"),
            secret: secret.clone(),
            cluster,
        };
        let relay = recipe.start("127.0.0.1:0").await?;
        eprintln!("spawned: controller on {controller_address}, relay on {}", relay.address);
        let target = Target {
            relay: format!("http://{}", relay.address),
            key: read_key(&secret)?,
            relay_pid: relay.child.id(),
            controller_pid,
            controller_http,
            relay_process: Some(RelayProcess { child: relay.child, recipe }),
            _children: children,
            _dir: Some(dir),
        };
        target.wait_until_linked().await?;
        Ok(target)
    }

    /// Waits until the relay's stream to the controller is up (it accepts clients before).
    async fn wait_until_linked(&self) -> anyhow::Result<()> {
        let admin = self.client("bench-admin").await?;
        let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
        while !admin.relay_status().await.is_ok_and(|status| status.upstream_connected) {
            anyhow::ensure!(
                tokio::time::Instant::now() < deadline,
                "the relay did not reach the controller within 30 s"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        Ok(())
    }

    /// A token for a simulated user of org `bench` (every scope: some scenarios read
    /// cluster figures).
    pub(crate) fn token(&self, user: &str) -> String {
        mint(&TokenSpec::new(user, "bench").scopes(&ALL_SCOPES), &self.key).expect("mint a token")
    }

    /// A client for `user` on its own connection to the relay.
    pub(crate) async fn client(&self, user: &str) -> anyhow::Result<Client> {
        Client::connect(self.relay.clone(), self.token(user))
            .await
            .with_context(|| format!("cannot reach the relay at {}", self.relay))
    }

    /// One connection to the relay that many simulated users' calls share ([`Self::client_on`]).
    pub(crate) async fn connection(&self) -> anyhow::Result<tonic::transport::Channel> {
        let endpoint = tonic::transport::Endpoint::from_shared(self.relay.clone())?;
        endpoint
            .connect()
            .await
            .with_context(|| format!("cannot reach the relay at {}", self.relay))
    }

    /// A client for `user` over a shared `connection`.
    pub(crate) fn client_on(&self, connection: &tonic::transport::Channel, user: &str) -> Client {
        Client::from_channel(connection.clone(), self.token(user))
    }

    /// The servers' CPU time so far, where their processes are known.
    pub(crate) fn server_cpu(&self) -> ServerCpu {
        ServerCpu::read(self.relay_pid, self.controller_pid)
    }

    /// Stops the relay started for the run (its clients lose their streams).
    pub(crate) async fn stop_relay(&mut self) -> anyhow::Result<()> {
        let process = self.relay_process.as_mut().context("stopping the relay needs --spawn")?;
        process.child.kill().await?;
        Ok(())
    }

    /// Starts the relay stopped by [`Target::stop_relay`] again, on the same address, and
    /// waits until it is linked to the controller.
    pub(crate) async fn start_relay(&mut self) -> anyhow::Result<()> {
        let process = self.relay_process.as_mut().context("starting the relay needs --spawn")?;
        let address = self.relay.trim_start_matches("http://").to_string();
        let relay = process.recipe.start(&address).await?;
        self.relay_pid = relay.child.id();
        process.child = relay.child;
        self.wait_until_linked().await
    }

    /// A client for `user` straight to the controller (a run started with --spawn), for
    /// calls while the relay is down.
    pub(crate) async fn controller_client(&self, user: &str) -> anyhow::Result<Client> {
        let process = self.relay_process.as_ref().context("needs --spawn")?;
        Client::connect(process.recipe.controller.clone(), self.token(user)).await.with_context(
            || format!("cannot reach the controller at {}", process.recipe.controller),
        )
    }

    /// The controller's store reads so far, by operation, when it was started for the run.
    pub(crate) async fn store_reads(&self) -> anyhow::Result<Option<StoreReads>> {
        let Some(address) = &self.controller_http else { return Ok(None) };
        let reads = StoreReads::parse(&http_get(address, "/metrics").await?);
        anyhow::ensure!(reads.total() > 0, "the controller's metrics have no store read count");
        Ok(Some(reads))
    }

    /// The relay's resident memory in KiB, when its process is known.
    pub(crate) fn relay_rss_kib(&self) -> Option<u64> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.relay_pid?)).ok()?;
        let line = status.lines().find(|line| line.starts_with("VmRSS:"))?;
        line.split_whitespace().nth(1)?.parse().ok()
    }
}

fn read_key(path: &Path) -> anyhow::Result<SigningKey> {
    let secret = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read the secret file {}", path.display()))?;
    Ok(SigningKey::Hs256(secret.trim().as_bytes().to_vec()))
}

fn random_secret() -> String {
    (0..48).map(|_| char::from(b'a' + rand::random_range(0..26u8))).collect()
}

/// `switchboard <role>` from next to this sbctl, or `$SB_SERVER_BIN` (not a `SWITCHBOARD_`
/// name: the spawned servers would read that as config and refuse to start).
fn switchboard(role: &str) -> anyhow::Result<Command> {
    let binary = match std::env::var_os("SB_SERVER_BIN") {
        Some(path) => PathBuf::from(path),
        None => std::env::current_exe()?.with_file_name("switchboard"),
    };
    if !binary.exists() {
        bail!(
            "{} not found: build it (cargo build --release --bins) or set SB_SERVER_BIN",
            binary.display()
        );
    }
    // Warnings only, unless `$SB_SERVER_LOG` asks for more (RUST_LOG syntax).
    let log = std::env::var("SB_SERVER_LOG").unwrap_or_else(|_| "warn".into());
    let mut command = Command::new(binary);
    command.arg(role).env("RUST_LOG", log).kill_on_drop(true);
    Ok(command)
}

/// How the relay of a spawned run is started (again, for a restart).
struct RelayRecipe {
    controller: String,
    secret: PathBuf,
    cluster: PathBuf,
}

struct RelayProcess {
    child: Child,
    recipe: RelayRecipe,
}

impl RelayRecipe {
    async fn start(&self, listen: &str) -> anyhow::Result<Started> {
        let mut relay = switchboard("relay")?;
        relay
            .args(["--listen", listen, "--controller", &self.controller])
            .env("SWITCHBOARD_HTTP__LISTEN", "127.0.0.1:0")
            .env("SWITCHBOARD_AUTH__HS256_SECRET_FILE", &self.secret)
            .env("SWITCHBOARD_CLUSTER__SECRET_FILE", &self.cluster)
            // Every simulated client comes from this one address.
            .env("SWITCHBOARD_RELAY__CONNECT_RATE_PER_IP", "1000000000")
            .env("SWITCHBOARD_RELAY__CONNECT_BURST_PER_IP", "1000000000")
            .env("SWITCHBOARD_CONNECTIONS__MAX_PER_IP", "0");
        start(relay, "relay listening on ").await
    }
}

/// A server process started for the run.
struct Started {
    child: Child,
    /// What it printed after the prefix it was waited for.
    address: String,
    /// Its HTTP port, if it said so first.
    http: Option<String>,
}

/// Starts `command` and waits until it prints `<prefix><address>` (noting its HTTP port
/// if it prints that before).
async fn start(mut command: Command, prefix: &str) -> anyhow::Result<Started> {
    let mut child = command.stdout(Stdio::piped()).stderr(Stdio::inherit()).spawn()?;
    let mut lines = BufReader::new(child.stdout.take().context("stdout")?).lines();
    let (address, http) = tokio::time::timeout(Duration::from_secs(30), async {
        let mut http = None;
        while let Some(line) = lines.next_line().await? {
            if let Some(address) = line.strip_prefix("http listening on ") {
                http = Some(address.to_string());
            }
            if let Some(address) = line.strip_prefix(prefix) {
                return Ok((address.to_string(), http));
            }
        }
        bail!("exited before listening")
    })
    .await
    .context("did not start within 30 s")??;
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
    Ok(Started { child, address, http })
}

/// The body of a plain HTTP/1.1 GET of `path` at `address` (the servers' HTTP port).
async fn http_get(address: &str, path: &str) -> anyhow::Result<String> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::TcpStream::connect(address).await?;
    let request = format!("GET {path} HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await?;
    let mut response = String::new();
    stream.read_to_string(&mut response).await?;
    let (head, body) = response.split_once("\r\n\r\n").context("an HTTP answer")?;
    anyhow::ensure!(
        head.starts_with("HTTP/1.1 200"),
        "GET {path}: {}",
        head.lines().next().unwrap_or("")
    );
    Ok(body.to_string())
}

/// A client stream, once it has gone live (an error if the relay refuses it).
pub(crate) async fn live(options: RealtimeOptions) -> anyhow::Result<Realtime> {
    let mut stream = Realtime::connect(options);
    loop {
        match stream.next().await {
            Some(RealtimeEvent::Live(_)) => return Ok(stream),
            Some(RealtimeEvent::Disconnected { code, message }) => {
                anyhow::bail!("a stream was refused: {code:?} {message}")
            }
            Some(_) => {}
            None => anyhow::bail!("a stream closed before going live"),
        }
    }
}
