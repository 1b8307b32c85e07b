//! `directory`: how long a directory search (People.SearchUsers) takes over an org of many
//! users, for broad and narrow queries (#23: fast on 100,000 users, p99 reported).
//!
//! Each user sets their own profile: a display name of two made-up words (from syllables,
//! so names share prefixes the way real ones do) and one of a few titles.

use std::time::Instant;

use futures_util::StreamExt;
use indicatif::{ProgressBar, ProgressStyle};
use serde_json::json;
use switchboard_sdk::proto as pb;

use super::latency::Latency;
use super::report::{Report, per_sec};
use super::target::Target;

#[derive(clap::Args)]
pub(crate) struct DirectoryArgs {
    /// Users given a profile first.
    #[arg(long, default_value_t = 100_000)]
    users: usize,
    /// Searches timed per kind of query.
    #[arg(long, default_value_t = 1_000)]
    searches: usize,
    /// Concurrent writers while filling the directory.
    #[arg(long, default_value_t = 64)]
    writers: usize,
}

/// Results asked for per search, as a people picker would.
const PAGE: u32 = 20;

const SYLLABLES: [&str; 24] = [
    "ka", "lo", "mi", "ra", "ven", "tor", "sel", "an", "dri", "bel", "no", "sa", "quin", "ro",
    "ta", "lis", "mar", "che", "vo", "den", "ha", "ju", "pe", "wyn",
];
const TITLES: [&str; 8] = [
    "Engineer",
    "Product manager",
    "Designer",
    "Sales lead",
    "Support agent",
    "Data analyst",
    "Recruiter",
    "Site reliability engineer",
];

/// A made-up word from `seed`: two or three syllables, capitalised.
fn word(seed: usize) -> String {
    let count = 2 + seed % 2;
    let mut word = String::new();
    let mut rest = seed;
    for _ in 0..count {
        word.push_str(SYLLABLES[rest % SYLLABLES.len()]);
        rest /= SYLLABLES.len();
    }
    let mut chars = word.chars();
    chars.next().map(|first| first.to_uppercase().chain(chars).collect()).unwrap_or_default()
}

/// User `i`: their id, display name and title.
fn person(i: usize) -> (String, String, String) {
    let (first, last) = (word(i % 997), word(7 + i / 997 * 13));
    let user = format!("{}.{}{i}", first.to_lowercase(), last.to_lowercase());
    (user, format!("{first} {last}"), TITLES[i % TITLES.len()].to_string())
}

pub(crate) async fn run(target: &Target, args: &DirectoryArgs) -> anyhow::Result<Report> {
    let fill_rate = fill(target, args).await?;
    let searcher = target.client("directory-searcher").await?;
    // Each kind of query, made from user `i`.
    type Query = fn(usize) -> String;
    let kinds: [(&str, Query); 5] = [
        ("first name, 2 letters", |i| person(i).1.to_lowercase()[..2].to_string()),
        ("first name, 4 letters", |i| person(i).1.to_lowercase()[..4].to_string()),
        ("last name, whole", |i| person(i).1.split(' ').nth(1).unwrap_or_default().to_string()),
        ("first name and last name's start", |i| {
            let name = person(i).1;
            let (first, last) = name.split_once(' ').unwrap_or_default();
            format!("{first} {}", &last[..2])
        }),
        ("title word", |i| person(i).2.split(' ').next().unwrap_or_default().to_string()),
    ];
    let mut rows = Vec::new();
    let mut results = Vec::new();
    for (name, query_of) in kinds {
        let mut latency = Latency::new();
        let mut found = 0;
        for search in 0..args.searches {
            let query = query_of(search * 7919 % args.users.max(1));
            let start = Instant::now();
            let page = searcher.search_users(&query, PAGE, "").await?;
            latency.record(start.elapsed());
            anyhow::ensure!(!page.users.is_empty(), "`{query}` found nobody");
            found += page.users.len();
        }
        let mean = found as f64 / args.searches.max(1) as f64;
        let mut row = vec![name.to_string(), args.searches.to_string(), format!("{mean:.1}")];
        row.extend(latency.cells());
        rows.push(row);
        results.push(json!({ "query": name, "mean_results": mean, "latency": latency.json() }));
    }
    Ok(Report {
        title: format!(
            "directory: searches over {} users (filled at {})",
            args.users,
            per_sec(fill_rate)
        ),
        header: [&["QUERY", "SEARCHES", "RESULTS"][..], &Latency::HEADER].concat(),
        rows,
        notes: vec![format!(
            "one searcher, searches one after another through the relay, {PAGE} results asked \
             for; RESULTS is the mean page size"
        )],
        json: json!({
            "scenario": "directory",
            "users": args.users,
            "fill_per_sec": fill_rate,
            "queries": results,
        }),
        curves: Vec::new(),
        throughput: "",
    })
}

/// Every user sets their own profile, `args.writers` at once over one connection; returns
/// profiles per second.
async fn fill(target: &Target, args: &DirectoryArgs) -> anyhow::Result<f64> {
    let progress = ProgressBar::new(args.users as u64).with_style(
        ProgressStyle::with_template(
            "filling {bar:40} {human_pos}/{human_len} profiles, {per_sec}, eta {eta}",
        )
        .expect("template"),
    );
    let connection = target.connection().await?;
    let start = Instant::now();
    let writes = futures_util::stream::iter(0..args.users).map(|i| {
        let (user, name, title) = person(i);
        let client = target.client_on(&connection, &user);
        let progress = progress.clone();
        async move {
            let changes = pb::Profile { display_name: name, title, ..Default::default() };
            client.update_profile("", changes, &["display_name", "title"]).await?;
            progress.inc(1);
            anyhow::Ok(())
        }
    });
    let mut writes = writes.buffer_unordered(args.writers);
    while let Some(written) = writes.next().await {
        written?;
    }
    progress.finish_and_clear();
    Ok(args.users as f64 / start.elapsed().as_secs_f64().max(1e-9))
}
