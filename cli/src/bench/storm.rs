//! `storm`: K clients, each following F of C conversations (`only`), are live on one relay
//! and have received a message in each of their conversations; the relay is stopped, one
//! more message goes to every conversation, and the relay starts again on the same
//! address. Every client reconnects and resumes at once. Reports how long until all were
//! live again and had what they missed (each message once), and how many store reads the
//! storm cost the controller per conversation (#22's targets: within 10 s, at most 2).

use std::collections::HashSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressStyle};
use serde_json::json;
use switchboard_sdk::proto::{self as pb, event::Kind};
use switchboard_sdk::{Realtime, RealtimeEvent, RealtimeOptions};
use tokio::sync::{Semaphore, mpsc};
use tokio_util::sync::CancellationToken as Stop;

use super::milestones::{Counts, Milestone, wait_for};
use super::report::{Report, per_sec};
use super::store_reads::StoreReads;
use super::target::Target;

#[derive(clap::Args)]
pub(crate) struct StormArgs {
    /// Client streams, each its own user and connection.
    #[arg(long, default_value_t = 5_000)]
    clients: usize,
    /// Conversations in all.
    #[arg(long, default_value_t = 1_000)]
    conversations: usize,
    /// Conversations each client follows.
    #[arg(long, default_value_t = 10)]
    follows: usize,
    /// Connects in flight at once (the first time; the storm has no limit).
    #[arg(long, default_value_t = 256)]
    concurrency: usize,
}

/// #22's targets for the storm.
const TARGET_SECS: f64 = 10.0;
const TARGET_READS_PER_CONVERSATION: f64 = 2.0;

/// The store operations that read conversations' logs: a resume's replay, and where a
/// subscription starts.
const LOG_READS: [&str; 3] = ["list_log", "get_message", "log_head"];

/// What the clients saw, counted as it arrives.
#[derive(Default)]
struct Tally {
    /// Messages received that a client had received before.
    duplicates: AtomicU64,
    /// Why streams that had been live ended or could not reconnect, with how often.
    disconnects: std::sync::Mutex<std::collections::BTreeMap<String, u64>>,
}

pub(crate) async fn run(target: &mut Target, args: &StormArgs) -> anyhow::Result<Report> {
    anyhow::ensure!(
        args.follows <= args.conversations && args.conversations > 0,
        "--follows must be at most --conversations"
    );
    let owner = target.client("storm-owner").await?;
    let conversations = create_conversations(&owner, args).await?;
    let tally = Arc::new(Tally::default());
    let stop = Stop::new();
    let (milestones, mut reports) = mpsc::channel(args.clients.max(1));
    let gate = Arc::new(Semaphore::new(args.concurrency.max(1)));
    let mut tasks = Vec::with_capacity(args.clients);
    for client in 0..args.clients {
        let mut options = RealtimeOptions::new(target.relay.clone(), target.token(&user(client)));
        options.only = followed(client, args).map(|c| conversations[c]).collect();
        options.max_backoff = Duration::from_secs(1);
        let (tally, stop, gate) = (tally.clone(), stop.clone(), gate.clone());
        tasks.push(tokio::spawn(follow(options, tally, stop, gate, milestones.clone())));
    }
    drop(milestones);
    let (clients, deliveries) = (args.clients, args.clients * args.follows);
    let mut counts = Counts::default();
    wait_for(&mut reports, &mut counts, "connecting", |c| c.live >= clients).await?;
    send_to_all(&owner, &conversations, "before").await?;
    wait_for(&mut reports, &mut counts, "first messages", |c| c.received >= deliveries).await?;

    eprintln!("storm: stopping the relay; one more message to every conversation");
    target.stop_relay().await?;
    let reads_before_sends = target.store_reads().await?;
    // The relay is down: these go straight to the controller.
    let direct = target.controller_client("storm-owner").await?;
    send_to_all(&direct, &conversations, "while away").await?;
    let reads_before = target.store_reads().await?;
    let restarted = Instant::now();
    target.start_relay().await?;
    // Counted from when the relay listens: retries refused while it was still starting are
    // the outage, not the storm.
    let ends_before = tally.disconnects.lock().expect("tally lock poisoned").clone();
    // Every client goes live a second time, and receives a second message per conversation.
    wait_for(&mut reports, &mut counts, "resuming", |c| c.live >= 2 * clients).await?;
    let all_live = restarted.elapsed();
    let caught_up = |c: &Counts| c.received >= 2 * deliveries;
    wait_for(&mut reports, &mut counts, "missed messages", caught_up).await?;
    let all_caught_up = restarted.elapsed();
    let reads_after = target.store_reads().await?;
    stop.cancel();
    for task in tasks {
        task.await?;
    }
    let figures = Figures {
        clients: args.clients,
        conversations: args.conversations,
        follows: args.follows,
        all_live,
        all_caught_up,
        duplicates: tally.duplicates.load(Ordering::Relaxed),
        storm_disconnects: {
            let ends = tally.disconnects.lock().expect("tally lock poisoned");
            let grown = ends.iter().map(|(reason, count)| {
                (reason.clone(), count - ends_before.get(reason).copied().unwrap_or(0))
            });
            grown.filter(|(_, count)| *count > 0).collect()
        },
        sends_reads: reads_before
            .as_ref()
            .zip(reads_before_sends)
            .map(|(after, before)| after.since(&before)),
        storm_reads: reads_after.zip(reads_before).map(|(after, before)| after.since(&before)),
    };
    Ok(figures.report())
}

fn user(client: usize) -> String {
    format!("storm-{client}")
}

/// The conversations (by index) client `client` follows: `follows` consecutive ones.
fn followed(client: usize, args: &StormArgs) -> impl Iterator<Item = usize> + use<> {
    let (first, count, all) = (client * args.follows, args.follows, args.conversations);
    (0..count).map(move |k| (first + k) % all)
}

async fn create_conversations(
    owner: &switchboard_sdk::Client,
    args: &StormArgs,
) -> anyhow::Result<Vec<u64>> {
    let mut members = vec![Vec::new(); args.conversations];
    for client in 0..args.clients {
        for conversation in followed(client, args) {
            members[conversation].push(user(client));
        }
    }
    let progress = ProgressBar::new(args.conversations as u64).with_style(
        ProgressStyle::with_template("creating {bar:40} {human_pos}/{human_len}")
            .expect("template"),
    );
    let mut ids = Vec::with_capacity(args.conversations);
    for (i, members) in members.into_iter().enumerate() {
        let request = pb::CreateTeamRequest { name: format!("storm {i}"), ..Default::default() };
        let id = owner.create_team(request).await?.id;
        for chunk in members.chunks(1000) {
            let chunk: Vec<&str> = chunk.iter().map(String::as_str).collect();
            owner.add_members(id, &chunk).await?;
        }
        ids.push(id);
        progress.inc(1);
    }
    progress.finish_and_clear();
    Ok(ids)
}

async fn send_to_all(
    owner: &switchboard_sdk::Client,
    conversations: &[u64],
    what: &str,
) -> anyhow::Result<()> {
    for conversation in conversations {
        owner.send_text(*conversation, &format!("storm: {what}")).await?;
    }
    Ok(())
}

/// One client's stream: connects (holding a permit of `gate` until first live), then
/// reports every time it goes live and every message it receives for the first time.
async fn follow(
    options: RealtimeOptions,
    tally: Arc<Tally>,
    stop: Stop,
    gate: Arc<Semaphore>,
    milestones: mpsc::Sender<Milestone>,
) {
    let mut permit = Some(gate.acquire_owned().await.expect("semaphore"));
    let mut stream = Realtime::connect(options);
    let (mut ever_live, mut seen) = (false, HashSet::new());
    loop {
        let event = tokio::select! {
            () = stop.cancelled() => break,
            event = stream.next() => event,
        };
        match event {
            Some(RealtimeEvent::Live(_)) => {
                ever_live = true;
                permit = None;
                let _ = milestones.send(Milestone::Live).await;
            }
            Some(RealtimeEvent::Event(pb::Event {
                kind: Some(Kind::MessageCreated(created)),
                ..
            })) => {
                let id = created.message.map_or(0, |m| m.id);
                if seen.insert(id) {
                    let _ = milestones.send(Milestone::Received).await;
                } else {
                    tally.duplicates.fetch_add(1, Ordering::Relaxed);
                }
            }
            Some(RealtimeEvent::Disconnected { code, message }) if !ever_live => {
                let _ = milestones.send(Milestone::Failed(format!("{code:?} {message}"))).await;
            }
            Some(RealtimeEvent::Disconnected { code, message }) => {
                let reason = format!("{code:?}: {}", message.chars().take(80).collect::<String>());
                let mut disconnects = tally.disconnects.lock().expect("tally lock poisoned");
                *disconnects.entry(reason).or_default() += 1;
            }
            Some(_) => {}
            None => break,
        }
    }
    drop(permit);
}

/// The run's figures, as its report.
struct Figures {
    clients: usize,
    conversations: usize,
    follows: usize,
    /// From the relay's start until every client was live again.
    all_live: Duration,
    /// From the relay's start until every client had every message it missed.
    all_caught_up: Duration,
    duplicates: u64,
    /// Why clients' streams ended, or their reconnects failed, after the relay started
    /// again: each costs a client another resume.
    storm_disconnects: std::collections::BTreeMap<String, u64>,
    /// Store reads the sends while the relay was down cost (not part of the storm).
    sends_reads: Option<StoreReads>,
    /// Store reads from the relay's start until every client had caught up.
    storm_reads: Option<StoreReads>,
}

impl Figures {
    fn report(&self) -> Report {
        let storm_reads = self.storm_reads.as_ref().map(StoreReads::total);
        let log_reads = self.storm_reads.as_ref().map(|reads| reads.of(&LOG_READS));
        let per_conversation =
            log_reads.map(|reads| reads as f64 / self.conversations.max(1) as f64);
        let client_reads = storm_reads.zip(log_reads).map(|(all, log)| all - log);
        let per_client = client_reads.map(|reads| reads as f64 / self.clients.max(1) as f64);
        let reads = |value: Option<&StoreReads>| {
            value.map_or("- (needs --spawn)".into(), |v| v.total().to_string())
        };
        let met = |ok: bool| if ok { "met" } else { "not met" };
        let caught_up = self.all_caught_up.as_secs_f64();
        let mut rows = vec![
            vec!["clients".into(), self.clients.to_string()],
            vec![
                "conversations (followed by each client)".into(),
                format!("{} ({})", self.conversations, self.follows),
            ],
            vec!["relay start to all live again".into(), secs(self.all_live)],
            vec!["relay start to all caught up".into(), secs(self.all_caught_up)],
            vec![
                "resumes per second".into(),
                per_sec(self.clients as f64 / self.all_live.as_secs_f64().max(1e-9)),
            ],
            vec!["messages received twice".into(), self.duplicates.to_string()],
            vec![
                "streams ended or refused during the storm".into(),
                self.storm_disconnects.values().sum::<u64>().to_string(),
            ],
            vec!["store reads during the storm".into(), reads(self.storm_reads.as_ref())],
            vec![
                "  of conversations' logs, per conversation".into(),
                per_conversation.map_or("-".into(), |v| format!("{v:.1}")),
            ],
            vec![
                "  of the clients' memberships, per client".into(),
                per_client.map_or("-".into(), |v| format!("{v:.1}")),
            ],
        ];
        for (operation, count) in self.storm_reads.iter().flat_map(|reads| reads.top(6)) {
            rows.push(vec![format!("  {operation}"), count.to_string()]);
        }
        rows.extend([
            vec!["store reads of the sends while away".into(), reads(self.sends_reads.as_ref())],
            vec![
                format!("target: all caught up within {TARGET_SECS} s"),
                met(caught_up <= TARGET_SECS).into(),
            ],
            vec![
                format!(
                    "target: at most {TARGET_READS_PER_CONVERSATION} log reads per conversation"
                ),
                per_conversation.map_or("-", |v| met(v <= TARGET_READS_PER_CONVERSATION)).into(),
            ],
        ]);
        let mut notes = vec![
            "each client resumes every conversation it follows from its position; store \
             reads are the controller's own count (switchboard_store_read_seconds_count), \
             the most frequent operations listed under them; reads of conversations' logs \
             (what resumes replay, where subscriptions start) are counted per conversation, \
             the rest (each client's conversations and status) per client"
                .to_string(),
        ];
        for (reason, count) in &self.storm_disconnects {
            notes.push(format!("streams ended during the storm, {count}×: {reason}"));
        }
        Report {
            title: format!(
                "storm: the relay restarts under {} clients, each following {} of {} conversations",
                self.clients, self.follows, self.conversations
            ),
            header: vec!["FIGURE", "VALUE"],
            rows,
            notes,
            json: json!({
                "scenario": "storm",
                "clients": self.clients,
                "conversations": self.conversations,
                "follows": self.follows,
                "all_live_secs": self.all_live.as_secs_f64(),
                "all_caught_up_secs": caught_up,
                "duplicates": self.duplicates,
                "storm_disconnects": self.storm_disconnects,
                "storm_store_reads": storm_reads,
                "storm_store_reads_by_operation": self.storm_reads.as_ref().map(StoreReads::to_json),
                "log_reads_per_conversation": per_conversation,
                "other_reads_per_client": per_client,
                "sends_store_reads": self.sends_reads.as_ref().map(StoreReads::total),
            }),
            curves: Vec::new(),
            throughput: "",
        }
    }
}

fn secs(duration: Duration) -> String {
    format!("{:.2} s", duration.as_secs_f64())
}
