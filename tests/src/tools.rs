//! Where the tests find the servers `scripts/setup` installs (Garage, nats-server): the
//! binary an environment variable names, else the one in the project's tool prefix.

use std::path::PathBuf;

/// `$variable`, else `$SB_TOOLS/bin/<name>` (default prefix `~/.cache/switchboard-tools`).
pub(crate) fn tool(name: &str, variable: &str) -> PathBuf {
    if let Ok(path) = std::env::var(variable) {
        return PathBuf::from(path);
    }
    let prefix = match std::env::var("SB_TOOLS") {
        Ok(prefix) => PathBuf::from(prefix),
        Err(_) => PathBuf::from(std::env::var("HOME").unwrap_or_default())
            .join(".cache/switchboard-tools"),
    };
    let path = prefix.join("bin").join(name);
    if !path.exists() {
        panic!("{name} is not installed: run scripts/setup (it installs it into {prefix:?})");
    }
    path
}
