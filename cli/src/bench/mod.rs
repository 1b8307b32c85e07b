//! `sbctl bench`: load scenarios driven through real client connections (each simulated
//! client its own connection, as a real app would be), printed as a table or JSON.
//!
//! Every figure comes from what clients observed: send→ack and send→receive times are
//! measured from when a message was *due* to be sent whenever its sender was behind (so a
//! stalled sender cannot hide latency: no coordinated omission; see `pace`), deliveries
//! are counted at the subscribers.

mod ack;
mod broadcast;
mod channels;
mod connections;
mod cpu;
mod directory;
mod fanout;
mod history;
mod latency;
mod milestones;
mod nats;
mod pace;
mod plot;
mod presence;
mod push;
mod push_endpoint;
mod report;
mod search;
mod store_reads;
mod storm;
mod target;

use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Subcommand};

use target::Target;

#[derive(Args)]
pub(crate) struct BenchArgs {
    #[command(subcommand)]
    scenario: Scenario,
    /// Start Switchboard for the run (a controller and a relay as separate processes, on the
    /// embedded store, in a temporary directory) instead of using --addr.
    #[arg(long, global = true)]
    spawn: bool,
    /// With --spawn: controllers talk over a NATS server started for the run (the cluster
    /// bus) rather than in process.
    #[arg(long, global = true)]
    spawn_nats: bool,
    /// HS256 secret file for minting the simulated users' tokens (the dev secret of the
    /// target); not needed with --spawn.
    #[arg(long, global = true, env = "SWITCHBOARD_SECRET_FILE")]
    secret_file: Option<PathBuf>,
    /// The relay's process id, to measure its memory and CPU (known with --spawn).
    #[arg(long, global = true)]
    relay_pid: Option<u32>,
    /// The controller's process id, to measure its CPU (known with --spawn).
    #[arg(long, global = true)]
    controller_pid: Option<u32>,
    /// How long each measured phase lasts.
    #[arg(long, global = true, default_value = "5s", value_parser = humantime::parse_duration)]
    duration: Duration,
    /// Draw latency against throughput into this PNG (fanout and ack).
    #[arg(long, global = true)]
    plot: Option<PathBuf>,
}

#[derive(Subcommand)]
enum Scenario {
    /// One conversation, N subscribers, P publishers: deliveries/s and send→receive
    /// latency at 25/50/75/100 % of the highest sustained rate; then the same fan-out over
    /// raw NATS core pub/sub.
    Fanout(fanout::FanoutArgs),
    /// Many conversations, traffic on a few: what relays and controllers carry.
    Channels(channels::ChannelsArgs),
    /// Send→ack latency and sends/s with durable writes.
    Ack(ack::AckArgs),
    /// Latency of a 50-message history page, newest and deep, over a long conversation.
    History(history::HistoryArgs),
    /// K idle client streams on one relay: memory per connection and connect rate.
    Connections(connections::ConnectionsArgs),
    /// N members of one team connect at once: the presence deliveries it costs.
    Presence(presence::PresenceArgs),
    /// The relay restarts under K clients: how fast they all resume, and the store reads.
    Storm(storm::StormArgs),
    /// One message to a broadcast channel of M members, C connected: time to the last one.
    Broadcast(broadcast::BroadcastArgs),
    /// Directory searches over an org of N users with profiles: latency per kind of query.
    Directory(directory::DirectoryArgs),
    /// Notifications per second through the device senders (FCM, APNs, Web Push) to a
    /// local endpoint (needs --spawn).
    Push(push::PushArgs),
}

pub(crate) async fn run(address: &str, json: bool, args: BenchArgs) -> anyhow::Result<()> {
    if let Scenario::Push(scenario) = &args.scenario {
        // Its controller is configured for the scenario's endpoint: it opens its target.
        let report = push::run(address, &args, scenario).await?;
        report.print(json);
        return Ok(());
    }
    let mut target = Target::open(address, &args).await?;
    let report = match args.scenario {
        Scenario::Fanout(scenario) => fanout::run(&target, &scenario, args.duration).await?,
        Scenario::Channels(scenario) => channels::run(&target, &scenario).await?,
        Scenario::Ack(scenario) => ack::run(&target, &scenario, args.duration).await?,
        Scenario::History(scenario) => history::run(&target, &scenario).await?,
        Scenario::Connections(scenario) => connections::run(&target, &scenario).await?,
        Scenario::Presence(scenario) => presence::run(&target, &scenario, args.duration).await?,
        Scenario::Storm(scenario) => storm::run(&mut target, &scenario).await?,
        Scenario::Broadcast(scenario) => broadcast::run(&target, &scenario).await?,
        Scenario::Directory(scenario) => directory::run(&target, &scenario).await?,
        Scenario::Push(_) => unreachable!("run above"),
    };
    if let Some(path) = &args.plot {
        plot::draw(path, &report)?;
        eprintln!("plot written to {}", path.display());
    }
    report.print(json);
    Ok(())
}
