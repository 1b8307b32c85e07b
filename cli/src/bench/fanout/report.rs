//! The fan-out run as a table, JSON and latency curves.

use std::time::Duration;

use serde_json::json;

use super::{FanoutArgs, Phase, SEARCH};
use crate::bench::cpu::{CpuPerOperation, micros};
use crate::bench::latency::Latency;
use crate::bench::nats::NatsFanout;
use crate::bench::report::{Curve, Report, per_sec};

pub(super) fn report(
    args: &FanoutArgs,
    duration: Duration,
    phases: &[Phase],
    latencies: &[Latency],
    nats: Option<NatsFanout>,
) -> Report {
    let header = [
        &["PHASE", "TARGET MSG", "SENT MSG", "DELIVERIES", "CUT OFF"][..],
        &Latency::HEADER,
        &CpuPerOperation::HEADER,
    ]
    .concat();
    let mut rows = Vec::new();
    let mut phase_json = Vec::new();
    for (index, (phase, latency)) in phases.iter().zip(latencies).enumerate() {
        let mut row = vec![
            phase.label.clone(),
            per_sec(phase.rate),
            per_sec(phase.sent),
            per_sec(phase.deliveries_per_sec),
            phase.cut.to_string(),
        ];
        if index == SEARCH {
            row.extend(vec!["-".to_string(); Latency::HEADER.len()]);
        } else {
            row.extend(latency.cells());
        }
        row.extend(phase.cpu.cells());
        rows.push(row);
        phase_json.push(json!({
            "phase": phase.label,
            "target_messages_per_sec": phase.rate,
            "cut_off": phase.cut,
            "sent_messages_per_sec": phase.sent,
            "delivered": phase.delivered,
            "deliveries_per_sec": phase.deliveries_per_sec,
            "latency": latency.json(),
            "cpu_per_delivery": phase.cpu.json(),
        }));
    }
    let flat = phases.first().map_or(0.0, |p| p.deliveries_per_sec);
    let mut notes = vec![
        "latency: from when each message was due (or, when its publisher was idle, \
             from when its timer woke it) to its arrival at a subscriber"
            .into(),
        "relay and controller CPU: each process's CPU time during the phase, per delivery".into(),
    ];
    let nats_json = nats.map(|nats| {
        let mut row = vec![
            "raw NATS, highest sustained".into(),
            per_sec(nats.rate),
            "-".into(),
            per_sec(nats.deliveries_per_sec),
        ];
        row.resize(header.len(), "-".into());
        rows.push(row);
        let ratio = flat / nats.deliveries_per_sec.max(1e-9);
        notes.push(format!(
            "Switchboard's highest sustained deliveries/s = {ratio:.2} × raw NATS's (same search)"
        ));
        let ours = phases.first().and_then(|p| p.cpu.total_us());
        if nats.server_cpu_us.is_some() && ours.is_some() {
            notes.push(format!(
                "server CPU per delivery at the highest sustained rate: nats-server {}, \
                 Switchboard's relay and controller {}",
                micros(nats.server_cpu_us),
                micros(ours)
            ));
        }
        json!({
            "messages_per_sec": nats.rate,
            "deliveries_per_sec": nats.deliveries_per_sec,
            "switchboard_ratio": ratio,
            "server_cpu_per_delivery_us": nats.server_cpu_us,
        })
    });
    let paced = || phases.iter().zip(latencies).skip(1);
    let curves = vec![
        Curve {
            name: "p50".into(),
            points: paced().map(|(p, l)| (p.deliveries_per_sec, l.ms(0.5))).collect(),
        },
        Curve {
            name: "p99".into(),
            points: paced().map(|(p, l)| (p.deliveries_per_sec, l.ms(0.99))).collect(),
        },
    ];
    Report {
        title: format!(
            "fanout: 1 conversation, {} {} subscribers, {} publishers, {} B payload, {duration:?} per phase",
            args.subscribers,
            if args.light { "light" } else { "SDK" },
            args.publishers,
            args.payload
        ),
        header,
        rows,
        notes,
        json: json!({
            "scenario": "fanout",
            "subscribers": args.subscribers,
            "light_subscribers": args.light,
            "publishers": args.publishers,
            "payload_bytes": args.payload,
            "phases": phase_json,
            "raw_nats": nats_json,
        }),
        curves,
        throughput: "deliveries per second",
    }
}
