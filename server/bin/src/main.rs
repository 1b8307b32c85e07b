//! `switchboard`: the server binary. Parses arguments and config, builds, runs, shuts down.
// The argument docs are `--help` text, where `[auth]` names a config section, not a link.
#![allow(rustdoc::broken_intra_doc_links)]

mod dev_page;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context;
use clap::{Parser, Subcommand};
use switchboard_relay::{Relay, RelayConfig, RelayTls};
use switchboard_server::error::ConfigError;
use switchboard_server::http::{HttpPort, Readiness};
use switchboard_server::ids::SystemClock;
use switchboard_server::indexer::IndexerNode;
use switchboard_server::store::scylla::{migrate, schema};
use switchboard_server::{Config, Controller, dev};
use switchboard_telemetry as telemetry;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

#[derive(Parser)]
#[command(name = "switchboard", version, about = "Switchboard realtime chat backend")]
struct Args {
    /// Log format on stderr: human-readable text, or one JSON object per line.
    #[arg(long, global = true, value_enum, default_value_t = LogFormat::Human)]
    log_format: LogFormat,
    #[command(subcommand)]
    command: Command,
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum LogFormat {
    Human,
    Json,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the controller (Chat API, Fanout for relays) from a config file plus
    /// SWITCHBOARD_* variables.
    Controller {
        /// TOML config file.
        #[arg(long, short)]
        config: Option<PathBuf>,
    },
    /// Serve a relay: client streams, subscribed at a controller.
    Relay {
        /// TOML config file (its [auth], [cluster] and [relay] sections apply).
        #[arg(long, short)]
        config: Option<PathBuf>,
        /// Controller address, e.g. http://127.0.0.1:7401; repeat for failover (overrides
        /// relay.controllers).
        #[arg(long = "controller")]
        controllers: Vec<String>,
        /// Client-facing address (overrides relay.listen).
        #[arg(long)]
        listen: Option<SocketAddr>,
    },
    /// Serve the cluster's search indexer: indexes the message stream on NATS (JetStream)
    /// and answers the searches controllers forward (search.indexer_url).
    Indexer {
        /// TOML config file (its [store], [scylla], [nats], [cluster] and [search] apply).
        #[arg(long, short)]
        config: Option<PathBuf>,
        /// Address to serve on (overrides search.indexer_listen).
        #[arg(long)]
        listen: Option<SocketAddr>,
    },
    /// Create or upgrade the ScyllaDB keyspace and tables (idempotent; run before the
    /// controllers of a cluster start).
    Migrate {
        /// TOML config file (its [scylla] section applies).
        #[arg(long, short)]
        config: Option<PathBuf>,
        /// Print the full schema as CQL instead of applying it.
        #[arg(long)]
        print: bool,
    },
    /// Run a controller and a relay in one process on embedded defaults: no config needed.
    Dev {
        /// Where data and the dev secrets live.
        #[arg(long, default_value = "switchboard-data")]
        data_dir: PathBuf,
        /// Controller address.
        #[arg(long, default_value = "127.0.0.1:7401")]
        controller_listen: SocketAddr,
        /// Relay (client-facing) address.
        #[arg(long, default_value = "127.0.0.1:7400")]
        relay_listen: SocketAddr,
        /// HTTP address: health, readiness, metrics, the local engine's file URLs, the dev
        /// sign-in and the demo page [default: `http.listen`, 127.0.0.1:7402].
        #[arg(long)]
        http_listen: Option<SocketAddr>,
        /// The built demo web app, served at `/` on the HTTP address.
        #[arg(long, default_value = "sdk/web/examples/chat/dist")]
        demo: PathBuf,
    },
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let log_format = match args.log_format {
        LogFormat::Human => telemetry::LogFormat::Human,
        LogFormat::Json => telemetry::LogFormat::Json,
    };
    switchboard_server::tls::install_crypto_provider();
    let shutdown = CancellationToken::new();
    tokio::spawn(signal_shutdown(shutdown.clone()));
    let mut port = HttpPort::default();
    match args.command {
        Command::Controller { config } => {
            let config = Config::load(config.as_deref())?;
            let mut config = config;
            let _telemetry =
                telemetry::init(log_format, &config.tracing, "switchboard-controller")?;
            // Bound first, so that local blob URLs name the real port.
            let http_listener = bind(config.http.listen).await?;
            config.http.listen = http_listener.local_addr()?;
            let controller = build_controller(&config, &mut port).await?;
            let http = serve_http(http_listener, &config, port, &shutdown)?;
            let listener = bind(config.controller.listen).await?;
            let result = run_controller(controller, listener, &config, shutdown).await;
            let _ = http.await;
            result
        }
        Command::Relay { config: file, controllers, listen } => {
            let config = Config::load(file.as_deref())?;
            let mut relay_config: RelayConfig = Config::section(file.as_deref(), "relay")?;
            if !controllers.is_empty() {
                relay_config.controllers = controllers;
            }
            if let Some(listen) = listen {
                relay_config.listen = listen;
            }
            let _telemetry = telemetry::init(log_format, &config.tracing, "switchboard-relay")?;
            let relay = build_relay(&config, relay_config.clone(), &mut port)?;
            let http_listener = bind(config.http.listen).await?;
            let http = serve_http(http_listener, &config, port, &shutdown)?;
            let listener = bind(relay_config.listen).await?;
            let result = run_relay(relay, listener, &relay_config, shutdown).await;
            let _ = http.await;
            result
        }
        Command::Indexer { config, listen } => {
            let mut config = Config::read(config.as_deref())?;
            if let Some(listen) = listen {
                config.search.indexer_listen = listen;
            }
            config.validate()?;
            let _telemetry = telemetry::init(log_format, &config.tracing, "switchboard-indexer")?;
            let indexer = IndexerNode::build(&config).await?;
            let http_listener = bind(config.http.listen).await?;
            let http = serve_http(http_listener, &config, port, &shutdown)?;
            let listener = bind(config.search.indexer_listen).await?;
            let address = listener.local_addr()?;
            tracing::info!(%address, "indexer listening");
            println!("indexer listening on {address}");
            let result = indexer.serve(listener, async move { shutdown.cancelled().await }).await;
            let _ = http.await;
            Ok(result?)
        }
        Command::Migrate { config, print } => {
            let config = Config::read(config.as_deref())?;
            let _telemetry = telemetry::init(log_format, &config.tracing, "switchboard-migrate")?;
            let scylla = &config.scylla;
            if print {
                print!("{}", schema::script(&scylla.keyspace, &scylla.replication()));
                return Ok(());
            }
            let applied = migrate(scylla).await?;
            if applied.is_empty() {
                println!("keyspace {} is up to date", scylla.keyspace);
            } else {
                println!("keyspace {}: applied schema versions {applied:?}", scylla.keyspace);
            }
            Ok(())
        }
        Command::Dev { data_dir, controller_listen, relay_listen, http_listen, demo } => {
            let mut config = dev::dev_config(data_dir)?;
            if let Some(http_listen) = http_listen {
                config.http.listen = http_listen;
            }
            let _telemetry = telemetry::init(log_format, &config.tracing, "switchboard-dev")?;
            // Bound first, so the relay is pointed at the real port (even for port 0).
            let controller_listener = bind(controller_listen).await?;
            let relay_listener = bind(relay_listen).await?;
            let http_listener = bind(config.http.listen).await?;
            config.http.listen = http_listener.local_addr()?;
            config.controller.listen = controller_listener.local_addr()?;
            // [relay] from SWITCHBOARD_RELAY__* variables, in front of this controller; the
            // demo page on the HTTP port is an origin it allows.
            let mut relay_config = RelayConfig {
                listen: relay_listener.local_addr()?,
                controllers: vec![format!("http://{}", config.controller.listen)],
                ..Config::section(None, "relay")?
            };
            relay_config.web_allowed_origins.extend(page_origins(config.http.listen));
            let secret = dev_secret(&config)?;
            let relay_url = format!("http://{}", relay_config.listen);
            port.route(dev_page::routes(secret, relay_url, demo));
            let controller = build_controller(&config, &mut port).await?;
            let relay = build_relay(&config, relay_config.clone(), &mut port)?;
            let http = serve_http(http_listener, &config, port, &shutdown)?;
            let controller =
                run_controller(controller, controller_listener, &config, shutdown.clone());
            let relay = async {
                let result =
                    run_relay(relay, relay_listener, &relay_config, shutdown.clone()).await;
                shutdown.cancel(); // one half stopping stops the other
                result
            };
            print_dev_hint(&config, relay_config.listen);
            let (controller, relay) = tokio::join!(controller, relay);
            let _ = http.await;
            controller.and(relay)
        }
    }
}

/// The origins of the demo page `switchboard dev` serves on its HTTP port.
fn page_origins(http: SocketAddr) -> Vec<String> {
    let mut origins = vec![format!("http://{http}")];
    if http.ip().is_loopback() {
        origins.push(format!("http://localhost:{}", http.port()));
    }
    origins
}

/// The dev signing secret, for the dev sign-in.
fn dev_secret(config: &Config) -> anyhow::Result<Vec<u8>> {
    let path = config.auth.hs256_secret_file.as_ref().context("dev runs with a secret file")?;
    let secret = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    Ok(secret.trim_ascii().to_vec())
}

async fn build_controller(config: &Config, port: &mut HttpPort) -> anyhow::Result<Controller> {
    let controller = Controller::build(config, Box::new(SystemClock)).await?;
    controller.expose(port);
    Ok(controller)
}

/// A relay: `relay_config` (checked here) and what it shares with the controllers from
/// `config` (tokens, the service credential, TLS, connection limits).
fn build_relay(
    config: &Config,
    relay_config: RelayConfig,
    port: &mut HttpPort,
) -> anyhow::Result<Relay> {
    let credential = config
        .service_credential()?
        .context("a relay needs cluster.secret_file (the secret it shares with controllers)")?;
    let verifier = Arc::new(config.verifier()?);
    let tls = RelayTls { serve: config.tls.server(false)?, upstream: config.tls.client()? };
    relay_config.validate().map_err(|reason| ConfigError::Invalid { key: "relay", reason })?;
    let relay_config = RelayConfig { connections: config.connections, ..relay_config };
    let relay = Relay::new(relay_config, verifier, credential, tls)?;
    relay.register_metrics(port.registry());
    let link: Readiness = ("controller link", Box::new(relay.readiness()));
    port.ready([link]);
    Ok(relay)
}

/// Starts the HTTP port (metrics, health, readiness, and routes such as local blob URLs)
/// in the background.
fn serve_http(
    listener: TcpListener,
    config: &Config,
    port: HttpPort,
    shutdown: &CancellationToken,
) -> anyhow::Result<tokio::task::JoinHandle<std::io::Result<()>>> {
    let address = listener.local_addr()?;
    tracing::info!(%address, "metrics and health on HTTP");
    // A plain line for scripts and harnesses that started us on port 0 (`sbctl bench`
    // reads the controller's metrics there).
    println!("http listening on {address}");
    let shutdown = shutdown.clone();
    let stop = async move { shutdown.cancelled().await };
    Ok(tokio::spawn(port.serve(listener, config.connections, stop)))
}

async fn run_controller(
    controller: Controller,
    listener: TcpListener,
    config: &Config,
    shutdown: CancellationToken,
) -> anyhow::Result<()> {
    let address = listener.local_addr()?;
    tracing::info!(%address, data_dir = %config.data_dir.display(), "controller listening");
    // A plain line for scripts and test harnesses that started us on port 0.
    println!("controller listening on {address}");
    controller.serve(listener, async move { shutdown.cancelled().await }).await?;
    Ok(())
}

async fn run_relay(
    relay: Relay,
    listener: TcpListener,
    config: &RelayConfig,
    shutdown: CancellationToken,
) -> anyhow::Result<()> {
    let address = listener.local_addr()?;
    tracing::info!(%address, controllers = ?config.controllers, "relay listening");
    println!("relay listening on {address}");
    relay.serve(listener, async move { shutdown.cancelled().await }).await?;
    Ok(())
}

async fn bind(address: SocketAddr) -> anyhow::Result<TcpListener> {
    TcpListener::bind(address).await.with_context(|| format!("cannot listen on {address}"))
}

fn print_dev_hint(config: &Config, relay: SocketAddr) {
    let secret = config.auth.hs256_secret_file.as_ref().map(|p| p.display().to_string());
    println!(
        "\nSwitchboard dev: clients connect to the relay on {relay} (controller on {controller}), \
         data in {data}.\nIn a browser: http://{http}/ (sign in with any user name).\n\
         Or mint a token and try it:\n\
         \n  export SWITCHBOARD_TOKEN=$(sbctl token mint --user alice --org acme --secret-file {secret})\
         \n  sbctl team create \"General\" --member bob\
         \n  sbctl tail <conversation id>      # live events; in another terminal:\
         \n  sbctl send <conversation id> \"hello\"\n",
        relay = relay,
        controller = config.controller.listen,
        data = config.data_dir.display(),
        http = config.http.listen,
        secret = secret.unwrap_or_default(),
    );
}

/// Cancels `shutdown` on SIGINT (Ctrl-C) or SIGTERM.
async fn signal_shutdown(shutdown: CancellationToken) {
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
    shutdown.cancel();
}
