//! Switchboard binaries as child processes, for what only a process can show: a kill -9.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use crate::controller::TEST_SECRET;

/// A controller running as a child process.
pub struct ControllerProcess {
    child: Child,
    pub url: String,
}

impl ControllerProcess {
    /// Starts `switchboard controller` on port 0 with data in `dir`, and waits until it
    /// prints the address it listens on.
    pub fn start(dir: &Path) -> ControllerProcess {
        ControllerProcess::start_with_env(dir, &[])
    }

    /// Like [`ControllerProcess::start`], with more environment (config overrides).
    pub fn start_with_env(dir: &Path, env: &[(&str, &str)]) -> ControllerProcess {
        let mut command = switchboard(dir);
        command
            .arg("controller")
            .env("SWITCHBOARD_DATA_DIR", dir.join("data"))
            .env("SWITCHBOARD_CONTROLLER__LISTEN", "127.0.0.1:0")
            .env("SWITCHBOARD_HTTP__LISTEN", "127.0.0.1:0")
            // Tests send fast from one user.
            .env("SWITCHBOARD_LIMITS__SEND_RATE_PER_SEC", "1000000")
            .env("SWITCHBOARD_LIMITS__SEND_BURST", "1000000")
            .env("SWITCHBOARD_LIMITS__WRITE_RATE_PER_SEC", "1000000")
            .env("SWITCHBOARD_LIMITS__WRITE_BURST", "1000000")
            .env("RUST_LOG", "warn")
            .envs(env.iter().copied());
        let (child, url) = run_until_listening(command, "controller listening on ");
        ControllerProcess { child, url }
    }

    /// SIGKILL: no shutdown, no flush.
    pub fn kill(mut self) {
        self.child.kill().expect("kill");
        self.child.wait().expect("wait");
    }

    /// Its process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }
}

impl Drop for ControllerProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A relay running as a child process, so that a test can kill -9 it.
pub struct RelayProcess {
    child: Child,
    pub url: String,
}

impl RelayProcess {
    /// Starts `switchboard relay` on port 0 in front of `controllers` (in order of
    /// preference), verifying tokens with the test secret.
    pub fn start(dir: &Path, controllers: &[String]) -> RelayProcess {
        RelayProcess::start_with_env(dir, controllers, &[])
    }

    /// Like [`RelayProcess::start`], with more environment (config overrides).
    pub fn start_with_env(
        dir: &Path,
        controllers: &[String],
        env: &[(&str, &str)],
    ) -> RelayProcess {
        let mut command = switchboard(dir);
        command
            .args(["relay", "--listen", "127.0.0.1:0"])
            .env("SWITCHBOARD_HTTP__LISTEN", "127.0.0.1:0")
            .env("SWITCHBOARD_RELAY__TOKEN_GRACE_SECS", "0")
            .env("SWITCHBOARD_RELAY__PRESENCE_DEBOUNCE_MS", "300")
            .env("SWITCHBOARD_RELAY__CONNECT_RATE_PER_IP", "1000000")
            .env("SWITCHBOARD_RELAY__CONNECT_BURST_PER_IP", "1000000")
            .env("RUST_LOG", "warn")
            .envs(env.iter().copied());
        for controller in controllers {
            command.args(["--controller", controller]);
        }
        let (child, url) = run_until_listening(command, "relay listening on ");
        RelayProcess { child, url }
    }

    /// SIGKILL: the relay's streams break without a goodbye.
    pub fn kill(mut self) {
        self.child.kill().expect("kill");
        self.child.wait().expect("wait");
    }
}

impl Drop for RelayProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `switchboard dev` as a user runs it (its own dev secret in `<dir>/data`), on port 0.
pub struct DevProcess {
    child: Child,
    /// The relay, where clients connect.
    pub url: String,
    /// The dev signing secret it created, for `sbctl token mint --secret-file`.
    pub secret_file: PathBuf,
}

impl DevProcess {
    pub fn start(dir: &Path) -> DevProcess {
        let data = dir.join("data");
        let mut command = Command::new(workspace_binary("switchboard"));
        command
            .arg("dev")
            .arg("--data-dir")
            .arg(&data)
            .args(["--controller-listen", "127.0.0.1:0", "--relay-listen", "127.0.0.1:0"])
            .args(["--http-listen", "127.0.0.1:0"])
            .env("RUST_LOG", "warn");
        let (child, url) = run_until_listening(command, "relay listening on ");
        DevProcess { child, url, secret_file: data.join(switchboard_server::dev::DEV_SECRET_FILE) }
    }
}

impl Drop for DevProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `switchboard`, verifying tokens with the test secret and relays with the test cluster
/// secret, both written into `dir`.
fn switchboard(dir: &Path) -> Command {
    std::fs::create_dir_all(dir).expect("process dir");
    let secret = dir.join("test-secret");
    std::fs::write(&secret, TEST_SECRET).expect("write secret");
    let cluster = dir.join("cluster-secret");
    std::fs::write(&cluster, crate::controller::TEST_CLUSTER_SECRET).expect("write secret");
    let mut command = Command::new(workspace_binary("switchboard"));
    command
        .env("SWITCHBOARD_AUTH__HS256_SECRET_FILE", secret)
        .env("SWITCHBOARD_CLUSTER__SECRET_FILE", cluster);
    command
}

/// Spawns `command` and waits until it prints `<prefix><address>`; returns its URL.
fn run_until_listening(mut command: Command, prefix: &str) -> (Child, String) {
    let mut child =
        command.stdout(Stdio::piped()).stderr(Stdio::inherit()).spawn().expect("spawn switchboard");
    let stdout = child.stdout.take().expect("stdout");
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut lines = BufReader::new(stdout).lines();
    let url = loop {
        let line = lines.next().expect("exited before listening").expect("read stdout");
        if let Some(address) = line.strip_prefix(prefix) {
            break format!("http://{address}");
        }
        assert!(Instant::now() < deadline, "did not start in time");
    };
    std::thread::spawn(move || for _ in lines {});
    (child, url)
}

/// Runs `sbctl` against `address`: its stdout, or its stderr if it failed. Runs on a
/// blocking thread so in-process servers keep serving meanwhile.
pub async fn sbctl(address: &str, token: &str, args: &[&str]) -> Result<String, String> {
    let mut command = Command::new(workspace_binary("sbctl"));
    command.args(args).env("SWITCHBOARD_ADDR", address).env("SWITCHBOARD_TOKEN", token);
    let output =
        tokio::task::spawn_blocking(move || command.output()).await.unwrap().expect("run sbctl");
    if output.status.success() {
        Ok(String::from_utf8(output.stdout).expect("UTF-8 output"))
    } else {
        Err(String::from_utf8(output.stderr).expect("UTF-8 output"))
    }
}

/// A binary of this workspace, from next to the test executables. All binaries are built
/// once per test process with the same command as `scripts/test` (`--workspace --bins`),
/// so the build is a no-op when they are current and never relinks them with other
/// features.
pub fn workspace_binary(bin: &str) -> PathBuf {
    static BUILT: OnceLock<()> = OnceLock::new();
    BUILT.get_or_init(|| {
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let mut build = Command::new(cargo);
        build
            .args(["build", "--quiet", "--workspace", "--bins"])
            .current_dir(env!("CARGO_MANIFEST_DIR"));
        // Variables cargo sets for this test process (CARGO_MANIFEST_DIR, CARGO_PKG_*, ...)
        // would reach build scripts that track them (ring does) and force rebuilds.
        for (key, _) in std::env::vars() {
            if key.starts_with("CARGO_PKG_")
                || [
                    "CARGO_MANIFEST_DIR",
                    "CARGO_MANIFEST_PATH",
                    "CARGO_CRATE_NAME",
                    "CARGO_PRIMARY_PACKAGE",
                    "CARGO_TARGET_TMPDIR",
                    "CARGO_BIN_NAME",
                ]
                .contains(&key.as_str())
            {
                build.env_remove(key);
            }
        }
        let status = build.status().expect("run cargo build");
        assert!(status.success(), "cargo build of the workspace binaries failed");
    });
    // tests run from target/<profile>/deps; binaries live in target/<profile>.
    let exe = std::env::current_exe().expect("current exe");
    exe.parent().and_then(Path::parent).expect("target layout").join(bin)
}
