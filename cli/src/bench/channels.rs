//! `channels`: many conversations, traffic on a few. Shows from the nodes' own counters
//! that a relay subscribes only to the conversations its clients use, and that messages in
//! conversations with nobody connected never reach it.

use std::sync::Arc;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressStyle};
use serde_json::json;
use switchboard_sdk::proto as pb;
use switchboard_sdk::{Client, Realtime, RealtimeOptions};
use tokio::sync::Semaphore;

use super::report::Report;
use super::target::Target;

#[derive(clap::Args)]
pub(crate) struct ChannelsArgs {
    /// Conversations created.
    #[arg(long, default_value_t = 10_000)]
    conversations: usize,
    /// Members of each (besides the owner); every member is a distinct user.
    #[arg(long, default_value_t = 10)]
    members: usize,
    /// Conversations whose members all connect.
    #[arg(long, default_value_t = 100)]
    connected: usize,
    /// Conversations with traffic: this many with connected members, as many without.
    #[arg(long, default_value_t = 10)]
    active: usize,
    /// Messages sent to each active conversation.
    #[arg(long, default_value_t = 20)]
    messages: usize,
}

pub(crate) async fn run(target: &Target, args: &ChannelsArgs) -> anyhow::Result<Report> {
    anyhow::ensure!(
        args.connected >= args.active && args.conversations >= args.connected + args.active,
        "need conversations ≥ connected + active, and connected ≥ active"
    );
    let owner = target.client("channels-owner").await?;
    let conversations = create(&owner, args).await?;
    let streams = connect(target, args, &conversations).await?;
    let admin = target.client("channels-admin").await?;
    let before = wait_quiet(&admin).await?;

    // Traffic: the first `active` conversations have connected members; the last
    // `active` have none.
    let with_clients = &conversations[..args.active];
    let without = &conversations[conversations.len() - args.active..];
    for conversation in with_clients.iter().chain(without) {
        for i in 0..args.messages {
            owner.send_text(*conversation, &format!("message {i}")).await?;
        }
    }
    let after = wait_quiet(&admin).await?;
    drop(streams);

    let relay = |stats: &pb::AdminStatsResponse| stats.relays.first().cloned().unwrap_or_default();
    let bus_topics: u32 = after.controllers.iter().map(|c| c.bus_topics).sum();
    let (relay_before, relay_after) = (relay(&before), relay(&after));
    let sent = (args.active * args.messages) as u64;
    let received = relay_after.events_received - relay_before.events_received;
    let delivered = relay_after.deliveries - relay_before.deliveries;
    let clients = args.connected * args.members;
    let rows = vec![
        row("conversations", args.conversations, "-"),
        row("connected clients", clients, &format!("members of {} conversations", args.connected)),
        row(
            "relay: topics subscribed upstream",
            relay_after.upstream_topics,
            &format!("{} conversations + {clients} users' own topics", args.connected),
        ),
        row(
            "controller: topics subscribed on the bus",
            bus_topics,
            "the same topics, nothing more",
        ),
        row("messages to active conversations with clients", sent, "-"),
        row("messages to active conversations without clients", sent, "-"),
        row("relay: events received during the traffic", received, &format!("{sent} expected")),
        row(
            "relay: deliveries to clients during the traffic",
            delivered,
            &format!("{} expected", sent * args.members as u64),
        ),
    ];
    Ok(Report {
        title: format!(
            "channels: {} conversations × {} members, traffic on {} + {}",
            args.conversations, args.members, args.active, args.active
        ),
        header: vec!["FIGURE", "VALUE", "WHY"],
        rows,
        notes: Vec::new(),
        json: json!({
            "scenario": "channels",
            "conversations": args.conversations,
            "members": args.members,
            "connected_clients": clients,
            "relay_upstream_topics": relay_after.upstream_topics,
            "controller_bus_topics": bus_topics,
            "messages_with_clients": sent,
            "messages_without_clients": sent,
            "relay_events_received": received,
            "relay_deliveries": delivered,
        }),
        curves: Vec::new(),
        throughput: "",
    })
}

fn row(figure: &str, value: impl ToString, why: &str) -> Vec<String> {
    vec![figure.to_string(), value.to_string(), why.to_string()]
}

fn member(conversation: usize, k: usize) -> String {
    format!("channels-{conversation}-{k}")
}

async fn create(owner: &Client, args: &ChannelsArgs) -> anyhow::Result<Vec<u64>> {
    let progress = bar(args.conversations, "creating conversations");
    let gate = Arc::new(Semaphore::new(32));
    let tasks: Vec<_> = (0..args.conversations)
        .map(|i| {
            let (owner, gate, progress) = (owner.clone(), gate.clone(), progress.clone());
            let members = (0..args.members).map(|k| member(i, k)).collect();
            tokio::spawn(async move {
                let _permit = gate.acquire_owned().await.expect("semaphore");
                let request = pb::CreateTeamRequest {
                    name: format!("bench {i}"),
                    members,
                    ..Default::default()
                };
                let id = owner.create_team(request).await?.id;
                progress.inc(1);
                anyhow::Ok(id)
            })
        })
        .collect();
    let mut ids = Vec::with_capacity(args.conversations);
    for task in tasks {
        ids.push(task.await??);
    }
    progress.finish_and_clear();
    Ok(ids)
}

async fn connect(
    target: &Target,
    args: &ChannelsArgs,
    conversations: &[u64],
) -> anyhow::Result<Vec<Realtime>> {
    let total = args.connected * args.members;
    let progress = bar(total, "connecting members");
    let mut streams = Vec::with_capacity(total);
    for conversation in 0..args.connected.min(conversations.len()) {
        for k in 0..args.members {
            let options =
                RealtimeOptions::new(target.relay.clone(), target.token(&member(conversation, k)));
            streams.push(super::target::live(options).await?);
            progress.inc(1);
        }
    }
    progress.finish_and_clear();
    Ok(streams)
}

/// The cluster's figures once the relay's counters have stopped moving for half a second
/// (what was sent has been delivered).
async fn wait_quiet(admin: &Client) -> anyhow::Result<pb::AdminStatsResponse> {
    let moving = |stats: &pb::AdminStatsResponse| {
        stats.relays.iter().map(|r| (r.events_received, r.deliveries)).collect::<Vec<_>>()
    };
    let mut last = admin.admin_stats().await?;
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        tokio::time::sleep(Duration::from_millis(500)).await;
        let now = admin.admin_stats().await?;
        if moving(&now) == moving(&last) || Instant::now() > deadline {
            return Ok(now);
        }
        last = now;
    }
}

fn bar(length: usize, what: &str) -> ProgressBar {
    ProgressBar::new(length as u64).with_style(
        ProgressStyle::with_template(&format!("{what} {{bar:40}} {{human_pos}}/{{human_len}}"))
            .expect("template"),
    )
}
