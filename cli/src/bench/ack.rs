//! `ack`: send→ack latency and sends per second, every send written durably (the store's
//! group commit shares one fsync among the sends that arrive together). No live
//! subscribers, so only the send path is measured: one team conversation, or with
//! `--direct-messages` each sender's DM with someone offline (a notification per send).

use std::time::Duration;

use serde_json::json;
use switchboard_sdk::proto as pb;

use super::cpu::CpuPerOperation;
use super::latency::Latency;
use super::pace::{self, Paced, Schedule};
use super::report::{Curve, Report, per_sec};
use super::target::Target;

#[derive(clap::Args)]
pub(crate) struct AckArgs {
    /// Concurrent senders, each its own user and connection.
    #[arg(long, default_value_t = 64)]
    senders: usize,
    /// The paced phase's target: sends per second across all senders.
    #[arg(long, default_value_t = 10_000.0)]
    rate: f64,
    /// Each sender writes in a direct message to a user who never connects, so every send
    /// also stores a notification (instead of in a team conversation, where none does).
    #[arg(long)]
    direct_messages: bool,
}

pub(crate) async fn run(
    target: &Target,
    args: &AckArgs,
    duration: Duration,
) -> anyhow::Result<Report> {
    let users: Vec<String> = (0..args.senders).map(|i| format!("ack-sender-{i}")).collect();
    let owner = target.client("ack-owner").await?;
    let team = owner
        .create_team(pb::CreateTeamRequest {
            name: "bench ack".into(),
            members: users.clone(),
            ..Default::default()
        })
        .await?
        .id;
    let mut senders = Vec::new();
    for user in &users {
        let client = target.client(user).await?;
        let conversation = match args.direct_messages {
            true => client.open_direct(&format!("ack-offline-{user}")).await?.id,
            false => team,
        };
        senders.push((client, conversation));
    }
    let send = move |worker: usize, _counted_from| {
        let (client, conversation) = senders[worker].clone();
        async move {
            client.send_text(conversation, "ack bench").await?;
            Ok(())
        }
    };
    // Runs a phase and what it cost the servers per send.
    let measured = |schedule: Schedule| {
        let send = send.clone();
        async move {
            let before = target.server_cpu();
            let result = pace::run(&schedule, send).await;
            let cpu = before.per_operation(&target.server_cpu(), result.sent);
            (result, cpu)
        }
    };
    let mut phases: Vec<(String, Paced, CpuPerOperation)> = Vec::new();
    eprintln!("ack: flat out with {} senders for {duration:?}", args.senders);
    let (result, cpu) = measured(Schedule { rate: None, duration, workers: args.senders }).await;
    phases.push(("flat out".into(), result, cpu));
    eprintln!("ack: paced at {}/s for {duration:?}", args.rate);
    let paced = Schedule { rate: Some(args.rate), duration, workers: args.senders };
    let (result, cpu) = measured(paced).await;
    phases.push((format!("target {}", per_sec(args.rate)), result, cpu));

    let mut rows = Vec::new();
    let mut phase_json = Vec::new();
    for (name, result, cpu) in &phases {
        let mut row = vec![name.clone(), per_sec(result.per_sec()), result.failed.to_string()];
        row.extend(result.latency.cells());
        row.extend(cpu.cells());
        rows.push(row);
        phase_json.push(json!({
            "phase": name,
            "sends_per_sec": result.per_sec(),
            "sent": result.sent,
            "failed": result.failed,
            "latency": result.latency.json(),
            "cpu_per_send": cpu.json(),
        }));
    }
    let points = phases.iter().map(|(_, r, _)| (r.per_sec(), r.latency.ms(0.99))).collect();
    Ok(Report {
        title: format!(
            "ack: {} senders, durable writes, {}, {duration:?} per phase",
            args.senders,
            match args.direct_messages {
                true => "each in a DM to someone offline",
                false => "in a team",
            }
        ),
        header: [&["PHASE", "SENDS", "FAILED"][..], &Latency::HEADER, &CpuPerOperation::HEADER]
            .concat(),
        rows,
        notes: vec![
            "latency: from when each send was due (or, when its sender was idle, from when \
             its timer woke it) to its ack"
                .into(),
            "relay and controller CPU: each process's CPU time during the phase, per send".into(),
        ],
        json: json!({
            "scenario": "ack",
            "senders": args.senders,
            "direct_messages": args.direct_messages,
            "phases": phase_json,
        }),
        curves: vec![Curve { name: "send→ack p99".into(), points }],
        throughput: "sends per second",
    })
}
