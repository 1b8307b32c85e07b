//! A real Garage node (S3-compatible; `cargo install garage` into the tool prefix by
//! `scripts/setup`) on loopback ports: a single-node layout, one key and one bucket, set
//! up with the `garage` CLI as an operator would.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use switchboard_server::blobs::S3Config;
use tempfile::TempDir;

/// The access key the node is given (Garage key ids are `GK` and 24 hex digits).
const KEY_ID: &str = "GK0123456789abcdef01234567";
const SECRET_KEY: &str = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
const BUCKET: &str = "switchboard-test";

pub struct GarageServer {
    child: Child,
    /// The S3 API, e.g. `http://127.0.0.1:39000`.
    pub endpoint: String,
    /// Config, metadata, data and the secret key file.
    dir: TempDir,
}

impl GarageServer {
    /// Starts a node and waits until its bucket is ready. Garage needs its ports in its
    /// config, so they are picked free beforehand; if another process takes one in between,
    /// the node cannot start and is started again on other ports.
    pub fn start() -> GarageServer {
        let mut last_error = String::new();
        for _ in 0..3 {
            match GarageServer::try_start() {
                Ok(garage) => return garage,
                Err(error) => last_error = error,
            }
        }
        panic!("garage did not start: {last_error}");
    }

    fn try_start() -> Result<GarageServer, String> {
        let dir = tempfile::tempdir().expect("temp dir");
        let [rpc, s3] = free_ports();
        let config = dir.path().join("garage.toml");
        let root = dir.path().display();
        std::fs::write(
            &config,
            format!(
                "metadata_dir = \"{root}/meta\"\n\
                 data_dir = \"{root}/data\"\n\
                 db_engine = \"sqlite\"\n\
                 replication_factor = 1\n\
                 rpc_bind_addr = \"127.0.0.1:{rpc}\"\n\
                 rpc_public_addr = \"127.0.0.1:{rpc}\"\n\
                 rpc_secret = \"{SECRET_KEY}\"\n\
                 [s3_api]\n\
                 s3_region = \"garage\"\n\
                 api_bind_addr = \"127.0.0.1:{s3}\"\n"
            ),
        )
        .expect("write garage.toml");
        let child = Command::new(binary())
            .arg("-c")
            .arg(&config)
            .arg("server")
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(dir.path().join("garage.log")).expect("log file"))
            .spawn()
            .expect("start garage");
        let garage = GarageServer { child, endpoint: format!("http://127.0.0.1:{s3}"), dir };
        garage.set_up(&config)?;
        Ok(garage)
    }

    /// Layout, key, bucket: the node answers the CLI once its RPC port is up.
    fn set_up(&self, config: &std::path::Path) -> Result<(), String> {
        let cli = |args: &[&str]| -> Result<String, String> {
            let output = Command::new(binary())
                .arg("-c")
                .arg(config)
                .args(args)
                .output()
                .expect("run garage");
            let text = String::from_utf8_lossy(&output.stdout).into_owned();
            if output.status.success() {
                Ok(text)
            } else {
                Err(format!("{text}{}", String::from_utf8_lossy(&output.stderr)))
            }
        };
        let deadline = Instant::now() + Duration::from_secs(30);
        let node = loop {
            match cli(&["node", "id", "-q"]) {
                Ok(id) => break id.trim().split('@').next().expect("node id").to_string(),
                Err(error) if Instant::now() > deadline => {
                    return Err(format!("garage did not come up: {error}\n{}", self.log()));
                }
                Err(_) => std::thread::sleep(Duration::from_millis(100)),
            }
        };
        let steps: [&[&str]; 5] = [
            &["layout", "assign", "-z", "dc1", "-c", "1G", &node],
            &["layout", "apply", "--version", "1"],
            &["key", "import", "--yes", "-n", "switchboard", KEY_ID, SECRET_KEY],
            &["bucket", "create", BUCKET],
            &["bucket", "allow", "--read", "--write", "--owner", BUCKET, "--key", KEY_ID],
        ];
        for step in steps {
            if let Err(error) = cli(step) {
                return Err(format!("garage {}: {error}\n{}", step.join(" "), self.log()));
            }
        }
        std::fs::write(self.dir.path().join("secret-key"), SECRET_KEY).expect("write secret");
        Ok(())
    }

    /// Settings for Switchboard's S3 engine pointed at this node.
    pub fn s3_config(&self) -> S3Config {
        S3Config {
            endpoint: Some(self.endpoint.clone()),
            region: "garage".into(),
            bucket: BUCKET.into(),
            path_style: true,
            access_key_id: Some(KEY_ID.into()),
            secret_access_key_file: Some(self.dir.path().join("secret-key")),
            ca_file: None,
        }
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("garage.log")).unwrap_or_default()
    }
}

impl Drop for GarageServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn binary() -> PathBuf {
    crate::tools::tool("garage", "GARAGE_BIN")
}

/// Loopback ports nobody listens on right now, distinct: all are held open until all are
/// picked (Garage needs its ports in its config).
fn free_ports<const N: usize>() -> [u16; N] {
    let listeners: Vec<std::net::TcpListener> =
        (0..N).map(|_| std::net::TcpListener::bind("127.0.0.1:0").expect("bind")).collect();
    std::array::from_fn(|i| listeners[i].local_addr().expect("address").port())
}
