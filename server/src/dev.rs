//! `switchboard dev`: everything on embedded defaults, with a signing secret created in the
//! data directory on first run so that `sbctl token mint` can sign tokens for it, and a
//! VAPID key so that browsers can subscribe to Web Push.

use std::io::Write;
use std::path::{Path, PathBuf};

use rand::Rng;

use crate::config::Config;
use crate::error::ConfigError;
use crate::push::{WebPushConfig, new_vapid_key_pem};

/// Name of the dev signing secret inside the data directory.
pub const DEV_SECRET_FILE: &str = "dev-secret";
/// Name of the dev service credential (relay ↔ controller) inside the data directory.
pub const CLUSTER_SECRET_FILE: &str = "cluster-secret";

/// Name of the dev VAPID key (Web Push) inside the data directory.
pub const DEV_VAPID_KEY_FILE: &str = "vapid.pem";

/// A secret file's path in `data_dir`, created (random, 0600) if it does not exist yet.
pub fn ensure_secret(data_dir: &Path, name: &str) -> std::io::Result<PathBuf> {
    ensure_private_file(data_dir, name, || {
        rand::rng().sample_iter(rand::distr::Alphanumeric).take(48).map(char::from).collect()
    })
}

/// A private file's path in `data_dir`, created (0600) with `contents` if it does not
/// exist yet.
fn ensure_private_file(
    data_dir: &Path,
    name: &str,
    contents: impl FnOnce() -> String,
) -> std::io::Result<PathBuf> {
    std::fs::create_dir_all(data_dir)?;
    let path = data_dir.join(name);
    if path.exists() {
        return Ok(path);
    }
    let secret = contents();
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(&path)?;
    writeln!(file, "{}", secret.trim_end())?;
    file.sync_all()?;
    Ok(path)
}

/// The dev configuration: defaults and env overrides, with the dev secrets for auth and
/// for the relay, and Web Push on (with a dev VAPID key) unless configured otherwise.
pub fn dev_config(data_dir: PathBuf) -> Result<Config, ConfigError> {
    // Env overrides apply too, so that SWITCHBOARD_DATA_DIR works in dev as well.
    let mut config = Config::read(None)?;
    config.data_dir = data_dir;
    let created = |name: &str, e: std::io::Error| ConfigError::Invalid {
        key: "data_dir",
        reason: format!("cannot create {name} in {}: {e}", config.data_dir.display()),
    };
    let secret = |name: &str| ensure_secret(&config.data_dir, name).map_err(|e| created(name, e));
    config.auth.hs256_secret_file = Some(secret(DEV_SECRET_FILE)?);
    config.cluster.secret_file = Some(secret(CLUSTER_SECRET_FILE)?);
    if config.notifications.web_push.is_none() {
        let key = ensure_private_file(&config.data_dir, DEV_VAPID_KEY_FILE, new_vapid_key_pem)
            .map_err(|e| created(DEV_VAPID_KEY_FILE, e))?;
        config.notifications.web_push = Some(WebPushConfig {
            vapid_key_file: key,
            subject: "mailto:dev@localhost".into(),
            allow_loopback_endpoints: false,
        });
    }
    config.validate()?;
    Ok(config)
}
