//! `history`: how long a 50-message page takes over a conversation with many messages, for
//! the newest page and for a deep one near the beginning.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use indicatif::{ProgressBar, ProgressStyle};
use serde_json::json;
use switchboard_sdk::proto as pb;

use super::latency::Latency;
use super::report::{Report, per_sec};
use super::target::Target;

#[derive(clap::Args)]
pub(crate) struct HistoryArgs {
    /// Messages written into the conversation first.
    #[arg(long, default_value_t = 1_000_000)]
    messages: u64,
    /// Page requests timed per kind of page.
    #[arg(long, default_value_t = 1_000)]
    requests: usize,
    /// Concurrent writers while filling the conversation.
    #[arg(long, default_value_t = 64)]
    writers: usize,
}

const PAGE: u32 = 50;

pub(crate) async fn run(target: &Target, args: &HistoryArgs) -> anyhow::Result<Report> {
    let reader = target.client("history-reader").await?;
    let team = reader
        .create_team(pb::CreateTeamRequest { name: "bench history".into(), ..Default::default() })
        .await?
        .id;
    let fill_rate = fill(&reader, team, args).await?;

    // The 100th oldest message: a page before it lies at the very start of the conversation.
    let oldest = reader
        .history(pb::ListHistoryRequest { channel_id: team, after: 1, limit: 100, before: 0 })
        .await?;
    let deep_before = oldest.messages.first().map(|m| m.id).unwrap_or(0);
    let pages = [("newest page", 0), ("deep page (100th oldest)", deep_before)];
    let mut rows = Vec::new();
    let mut results = Vec::new();
    for (name, before) in pages {
        let mut latency = Latency::new();
        for _ in 0..args.requests {
            let request =
                pb::ListHistoryRequest { channel_id: team, before, after: 0, limit: PAGE };
            let start = Instant::now();
            let page = reader.history(request).await?;
            latency.record(start.elapsed());
            anyhow::ensure!(
                page.messages.len() == PAGE as usize || args.messages < 150,
                "short page"
            );
        }
        let mut row = vec![name.to_string(), args.requests.to_string()];
        row.extend(latency.cells());
        rows.push(row);
        results.push(json!({ "page": name, "latency": latency.json() }));
    }
    Ok(Report {
        title: format!(
            "history: {PAGE}-message pages over {} messages (filled at {})",
            args.messages,
            per_sec(fill_rate)
        ),
        header: [&["PAGE", "REQUESTS"][..], &Latency::HEADER].concat(),
        rows,
        notes: vec!["one reader, requests one after another, through the relay".into()],
        json: json!({
            "scenario": "history",
            "messages": args.messages,
            "fill_per_sec": fill_rate,
            "pages": results,
        }),
        curves: Vec::new(),
        throughput: "",
    })
}

/// Writes `args.messages` messages with concurrent writers; returns messages per second.
async fn fill(
    client: &switchboard_sdk::Client,
    team: u64,
    args: &HistoryArgs,
) -> anyhow::Result<f64> {
    let progress = ProgressBar::new(args.messages).with_style(
        ProgressStyle::with_template(
            "filling {bar:40} {human_pos}/{human_len} messages, {per_sec}, eta {eta}",
        )
        .expect("template"),
    );
    let next = Arc::new(AtomicU64::new(0));
    let start = Instant::now();
    let writers: Vec<_> = (0..args.writers)
        .map(|_| {
            let (client, next, progress, total) =
                (client.clone(), next.clone(), progress.clone(), args.messages);
            tokio::spawn(async move {
                while next.fetch_add(1, Ordering::Relaxed) < total {
                    client.send_text(team, "a message of ordinary length for history").await?;
                    progress.inc(1);
                }
                anyhow::Ok(())
            })
        })
        .collect();
    for writer in writers {
        writer.await??;
    }
    progress.finish_and_clear();
    Ok(args.messages as f64 / start.elapsed().as_secs_f64().max(1e-9))
}
