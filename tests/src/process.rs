//! A real `switchboard controller` process, for what only a process can show: a kill -9.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Mutex;
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
        let secret = dir.join("test-secret");
        std::fs::write(&secret, TEST_SECRET).expect("write secret");
        let mut child = Command::new(workspace_binary("switchboard-server", "switchboard"))
            .arg("controller")
            .env("SWITCHBOARD_DATA_DIR", dir.join("data"))
            .env("SWITCHBOARD_CONTROLLER__LISTEN", "127.0.0.1:0")
            .env("SWITCHBOARD_AUTH__HS256_SECRET_FILE", &secret)
            .env("RUST_LOG", "warn")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("spawn switchboard");
        let stdout = child.stdout.take().expect("stdout");
        let deadline = Instant::now() + Duration::from_secs(30);
        let mut url = None;
        for line in BufReader::new(stdout).lines() {
            let line = line.expect("read stdout");
            if let Some(address) = line.strip_prefix("controller listening on ") {
                url = Some(format!("http://{address}"));
                break;
            }
            assert!(Instant::now() < deadline, "controller did not start in time");
        }
        let url = url.expect("controller exited before listening");
        ControllerProcess { child, url }
    }

    /// SIGKILL: no shutdown, no flush.
    pub fn kill(mut self) {
        self.child.kill().expect("kill");
        self.child.wait().expect("wait");
    }
}

impl Drop for ControllerProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A binary of this workspace (built once per test process, so it is never stale), from
/// next to the test executables.
pub fn workspace_binary(package: &str, bin: &str) -> PathBuf {
    static BUILT: Mutex<Vec<String>> = Mutex::new(Vec::new());
    let mut built = BUILT.lock().unwrap_or_else(|e| e.into_inner());
    if !built.iter().any(|b| b == bin) {
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let status = Command::new(cargo)
            .args(["build", "--quiet", "-p", package, "--bin", bin])
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .status()
            .expect("run cargo build");
        assert!(status.success(), "cargo build of {bin} failed");
        built.push(bin.to_string());
    }
    // tests run from target/<profile>/deps; binaries live in target/<profile>.
    let exe = std::env::current_exe().expect("current exe");
    exe.parent().and_then(Path::parent).expect("target layout").join(bin)
}
