//! `switchboard`: the server binary. Parses arguments and config, builds, runs, shuts down.

use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::Context;
use clap::{Parser, Subcommand};
use switchboard_server::ids::SystemClock;
use switchboard_server::{Config, Controller, dev};
use tokio::net::TcpListener;

#[derive(Parser)]
#[command(
    name = "switchboard",
    version,
    about = "Switchboard realtime chat backend"
)]
struct Args {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the controller (the Chat API) from a config file plus SWITCHBOARD_* variables.
    Controller {
        /// TOML config file.
        #[arg(long, short)]
        config: Option<PathBuf>,
    },
    /// Run everything on embedded defaults: no config needed.
    Dev {
        /// Where data and the dev signing secret live.
        #[arg(long, default_value = "switchboard-data")]
        data_dir: PathBuf,
        /// Controller address.
        #[arg(long)]
        controller_listen: Option<SocketAddr>,
    },
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "info,fjall=warn,lsm_tree=warn".into()),
        )
        .init();
    let (config, dev_mode) = match Args::parse().command {
        Command::Controller { config } => (Config::load(config.as_deref())?, false),
        Command::Dev {
            data_dir,
            controller_listen,
        } => {
            let mut config = dev::dev_config(Some(data_dir))?;
            if let Some(listen) = controller_listen {
                config.controller.listen = listen;
            }
            (config, true)
        }
    };
    let controller = Controller::build(&config, Box::new(SystemClock))?;
    let listener = TcpListener::bind(config.controller.listen)
        .await
        .with_context(|| format!("cannot listen on {}", config.controller.listen))?;
    let address = listener.local_addr()?;
    tracing::info!(%address, data_dir = %config.data_dir.display(), "controller listening");
    // A plain line for scripts and test harnesses that started us on port 0.
    println!("controller listening on {address}");
    if dev_mode {
        print_dev_hint(&config, address);
    }
    controller.serve(listener, shutdown_signal()).await?;
    Ok(())
}

fn print_dev_hint(config: &Config, address: SocketAddr) {
    let secret = config
        .auth
        .hs256_secret_file
        .as_ref()
        .map(|p| p.display().to_string());
    println!(
        "\nSwitchboard dev is running: Chat API on {address}, data in {data}.\n\
         Mint a token and try it:\n\
         \n  export SWITCHBOARD_TOKEN=$(sbctl token mint --user alice --org acme --secret-file {secret})\
         \n  sbctl --addr http://{address} team create \"General\"\n",
        data = config.data_dir.display(),
        secret = secret.unwrap_or_default(),
    );
}

/// Resolves on SIGINT (Ctrl-C) or SIGTERM.
async fn shutdown_signal() {
    let interrupt = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut terminate =
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
                .expect("cannot listen for SIGTERM");
        tokio::select! {
            _ = interrupt => {}
            _ = terminate.recv() => {}
        }
    }
    #[cfg(not(unix))]
    let _ = interrupt.await;
}
