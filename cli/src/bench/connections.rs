//! `connections`: K idle client streams on one relay, each its own connection and user.
//! Reports the connect rate and the relay's resident memory per connection.

use std::sync::Arc;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressStyle};
use serde_json::json;
use switchboard_sdk::RealtimeOptions;
use tokio::sync::Semaphore;

use super::report::{Report, per_sec};
use super::target::Target;

#[derive(clap::Args)]
pub(crate) struct ConnectionsArgs {
    /// Client streams to open.
    #[arg(long, default_value_t = 10_000)]
    clients: usize,
    /// Connects in flight at once.
    #[arg(long, default_value_t = 256)]
    concurrency: usize,
}

pub(crate) async fn run(target: &Target, args: &ConnectionsArgs) -> anyhow::Result<Report> {
    let before = target.relay_rss_kib();
    let progress = ProgressBar::new(args.clients as u64).with_style(
        ProgressStyle::with_template("connecting {bar:40} {human_pos}/{human_len}, {per_sec}")
            .expect("template"),
    );
    let gate = Arc::new(Semaphore::new(args.concurrency.max(1)));
    let start = Instant::now();
    let tasks: Vec<_> = (0..args.clients)
        .map(|i| {
            let options =
                RealtimeOptions::new(target.relay.clone(), target.token(&format!("idle-{i}")));
            let (gate, progress) = (gate.clone(), progress.clone());
            tokio::spawn(async move {
                let _permit = gate.acquire_owned().await.expect("semaphore");
                let stream = super::target::live(options).await;
                progress.inc(1);
                stream
            })
        })
        .collect();
    let mut streams = Vec::with_capacity(args.clients);
    for task in tasks {
        streams.push(task.await??);
    }
    let connect_time = start.elapsed();
    progress.finish_and_clear();
    // Let the relay finish what connecting set off (presence reports, subscriptions).
    tokio::time::sleep(Duration::from_secs(1)).await;
    let after = target.relay_rss_kib();
    let per_connection = match (before, after) {
        (Some(before), Some(after)) => {
            Some(after.saturating_sub(before) as f64 / args.clients.max(1) as f64)
        }
        _ => None,
    };
    let rate = args.clients as f64 / connect_time.as_secs_f64().max(1e-9);
    let kib = |value: Option<u64>| value.map_or("-".into(), |v| format!("{v} KiB"));
    let rows = vec![
        vec!["client streams".into(), args.clients.to_string()],
        vec!["connect time".into(), format!("{:.2} s", connect_time.as_secs_f64())],
        vec!["connect rate".into(), per_sec(rate)],
        vec!["relay RSS before".into(), kib(before)],
        vec!["relay RSS with the streams open".into(), kib(after)],
        vec![
            "relay memory per connection".into(),
            per_connection
                .map_or("- (needs --spawn or --relay-pid)".into(), |v| format!("{v:.1} KiB")),
        ],
    ];
    drop(streams);
    Ok(Report {
        title: format!("connections: {} idle streams on one relay", args.clients),
        header: vec!["FIGURE", "VALUE"],
        rows,
        notes: Vec::new(),
        json: json!({
            "scenario": "connections",
            "clients": args.clients,
            "connect_secs": connect_time.as_secs_f64(),
            "connects_per_sec": rate,
            "relay_rss_before_kib": before,
            "relay_rss_after_kib": after,
            "relay_kib_per_connection": per_connection,
        }),
        curves: Vec::new(),
        throughput: "",
    })
}
