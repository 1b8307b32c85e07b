//! `presence`: N members of one team connect at once, each its own user, stream and
//! connection, following all their conversations as an app does and watching the presence
//! of the K members after it in the member list (the list it has on screen). Counts the
//! presence events the members receive until each has seen all it watches online, and then
//! for `--duration` more; reports them per member (#22's target: at most 10 per member)
//! with the relay's memory.

use std::collections::HashSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use serde_json::json;
use switchboard_sdk::proto::{self as pb, event::Kind};
use switchboard_sdk::{Realtime, RealtimeEvent, RealtimeOptions};
use tokio::sync::{Semaphore, mpsc};
use tokio_util::sync::CancellationToken as Stop;

use super::milestones::{Connecting, Counts, Milestone, wait_for};
use super::report::{Report, per_sec};
use super::target::Target;

#[derive(clap::Args)]
pub(crate) struct PresenceArgs {
    /// Members of the team, all connecting at once.
    #[arg(long, default_value_t = 1_000)]
    members: usize,
    /// Connects in flight at once.
    #[arg(long, default_value_t = 256)]
    concurrency: usize,
    /// Members whose presence each member watches (the next ones in the list).
    #[arg(long, default_value_t = 50)]
    watch: usize,
}

/// Presence deliveries per member that #22 asks for at most.
const TARGET_PER_MEMBER: f64 = 10.0;

/// What the members saw, counted as it arrives.
#[derive(Default)]
struct Tally {
    /// Presence events received until the member saw everyone it watches online.
    before_all_seen: AtomicU64,
    /// Presence events received after that (during the window).
    after_all_seen: AtomicU64,
    /// User states those events carried, in all.
    states: AtomicU64,
    /// Streams that broke after going live.
    cut: AtomicU64,
}

pub(crate) async fn run(
    target: &Target,
    args: &PresenceArgs,
    window: Duration,
) -> anyhow::Result<Report> {
    anyhow::ensure!(args.watch < args.members, "--watch must be less than --members");
    create_team(target, args.members).await?;
    let before = target.relay_rss_kib();
    let tally = Arc::new(Tally::default());
    let stop = Stop::new();
    let (milestones, mut reports) = mpsc::channel(args.members.max(1));
    let gate = Arc::new(Semaphore::new(args.concurrency.max(1)));
    let start = Instant::now();
    let mut tasks = Vec::with_capacity(args.members);
    for i in 0..args.members {
        let mut options = RealtimeOptions::new(target.relay.clone(), target.token(&member(i)));
        options.watch_presence = (1..=args.watch).map(|k| member((i + k) % args.members)).collect();
        let (tally, stop, gate) = (tally.clone(), stop.clone(), gate.clone());
        tasks.push(tokio::spawn(follow(options, tally, stop, gate, milestones.clone())));
    }
    drop(milestones);
    let (members, mut counts) = (args.members, Counts::default());
    wait_for(&mut reports, &mut counts, "connecting", |c| c.live >= members).await?;
    let connect_time = start.elapsed();
    wait_for(&mut reports, &mut counts, "presence", |c| c.received >= members).await?;
    let all_seen_time = start.elapsed();
    eprintln!("presence: counting what still arrives for {window:?}");
    tokio::time::sleep(window).await;
    let after = target.relay_rss_kib();
    stop.cancel();
    for task in tasks {
        task.await?;
    }
    let figures = Figures {
        members: args.members,
        watch: args.watch,
        connect_time,
        all_seen_time,
        window,
        before_all_seen: tally.before_all_seen.load(Ordering::Relaxed),
        after_all_seen: tally.after_all_seen.load(Ordering::Relaxed),
        states: tally.states.load(Ordering::Relaxed),
        cut: tally.cut.load(Ordering::Relaxed),
        rss: (before, after),
    };
    Ok(figures.report())
}

fn member(i: usize) -> String {
    format!("presence-{i}")
}

async fn create_team(target: &Target, members: usize) -> anyhow::Result<u64> {
    let owner = target.client("presence-owner").await?;
    let request = pb::CreateTeamRequest { name: "bench presence".into(), ..Default::default() };
    let team = owner.create_team(request).await?.id;
    let members: Vec<String> = (0..members).map(member).collect();
    for chunk in members.chunks(1000) {
        let chunk: Vec<&str> = chunk.iter().map(String::as_str).collect();
        owner.add_members(team, &chunk).await?;
    }
    Ok(team)
}

/// One member's stream: connects (holding a permit of `gate` until live), then counts the
/// presence events it receives, before and after it saw everyone it watches online, until
/// `stop`.
async fn follow(
    options: RealtimeOptions,
    tally: Arc<Tally>,
    stop: Stop,
    gate: Arc<Semaphore>,
    milestones: mpsc::Sender<Milestone>,
) {
    let mut connecting = Connecting::new(gate.acquire_owned().await.expect("semaphore"));
    let mut offline: HashSet<String> = options.watch_presence.iter().cloned().collect();
    let mut stream = Realtime::connect(options);
    let mut all_seen = offline.is_empty();
    if all_seen {
        let _ = milestones.send(Milestone::Received).await;
    }
    loop {
        let event = tokio::select! {
            () = stop.cancelled() => break,
            event = stream.next() => event,
        };
        let Some(event) = event else { break };
        if connecting.saw(&event, &milestones).await {
            continue;
        }
        match event {
            RealtimeEvent::Event(pb::Event {
                kind: Some(Kind::PresenceChanged(changed)), ..
            }) => {
                let count = if all_seen { &tally.after_all_seen } else { &tally.before_all_seen };
                count.fetch_add(1, Ordering::Relaxed);
                tally.states.fetch_add(changed.users.len() as u64, Ordering::Relaxed);
                for user in &changed.users {
                    match user.online {
                        true => offline.remove(&user.user_id),
                        false => offline.insert(user.user_id.clone()),
                    };
                }
                if !all_seen && offline.is_empty() {
                    all_seen = true;
                    let _ = milestones.send(Milestone::Received).await;
                }
            }
            RealtimeEvent::Disconnected { .. } if connecting.is_live() => {
                tally.cut.fetch_add(1, Ordering::Relaxed);
            }
            _ => {}
        }
    }
}

/// The run's figures, as its report.
struct Figures {
    members: usize,
    watch: usize,
    connect_time: Duration,
    /// From the start until every member had seen everyone it watches online.
    all_seen_time: Duration,
    window: Duration,
    before_all_seen: u64,
    after_all_seen: u64,
    states: u64,
    cut: u64,
    /// The relay's resident memory before the members connected and at the end.
    rss: (Option<u64>, Option<u64>),
}

impl Figures {
    fn report(&self) -> Report {
        let members = self.members.max(1) as f64;
        let total = self.before_all_seen + self.after_all_seen;
        let per_member = total as f64 / members;
        let per_connection = match self.rss {
            (Some(before), Some(after)) => Some(after.saturating_sub(before) as f64 / members),
            _ => None,
        };
        let kib = |value: Option<u64>| value.map_or("-".into(), |v| format!("{v} KiB"));
        let met = if per_member <= TARGET_PER_MEMBER { "met" } else { "not met" };
        let rows = vec![
            vec!["members connecting at once".into(), self.members.to_string()],
            vec!["time until all were live".into(), secs(self.connect_time)],
            vec![
                "connect rate".into(),
                per_sec(self.members as f64 / self.connect_time.as_secs_f64().max(1e-9)),
            ],
            vec!["members each watches".into(), self.watch.to_string()],
            vec!["time until all saw all they watch online".into(), secs(self.all_seen_time)],
            vec!["presence deliveries until then".into(), self.before_all_seen.to_string()],
            vec![
                format!("presence deliveries in the {:?} after", self.window),
                self.after_all_seen.to_string(),
            ],
            vec!["presence deliveries per member".into(), format!("{per_member:.1}")],
            vec![
                "user states they carried, per member".into(),
                format!("{:.1}", self.states as f64 / members),
            ],
            vec![format!("target: at most {TARGET_PER_MEMBER} per member"), met.into()],
            vec!["streams cut off".into(), self.cut.to_string()],
            vec!["relay RSS before".into(), kib(self.rss.0)],
            vec!["relay RSS with the members online".into(), kib(self.rss.1)],
            vec![
                "relay memory per member".into(),
                per_connection
                    .map_or("- (needs --spawn or --relay-pid)".into(), |v| format!("{v:.1} KiB")),
            ],
        ];
        Report {
            title: format!(
                "presence: {} members of one team connect at once, each following all and \
                 watching {}",
                self.members, self.watch
            ),
            header: vec!["FIGURE", "VALUE"],
            rows,
            notes: vec![
                "every member counts the presence events it receives: the state of those it \
                 watches when it starts watching, then their changes, batched per tick"
                    .into(),
            ],
            json: json!({
                "scenario": "presence",
                "members": self.members,
                "connect_secs": self.connect_time.as_secs_f64(),
                "watch": self.watch,
                "all_seen_secs": self.all_seen_time.as_secs_f64(),
                "window_secs": self.window.as_secs_f64(),
                "presence_until_all_seen": self.before_all_seen,
                "presence_after_all_seen": self.after_all_seen,
                "presence_deliveries": total,
                "presence_states": self.states,
                "presence_per_member": per_member,
                "target_per_member": TARGET_PER_MEMBER,
                "cut_off": self.cut,
                "relay_rss_before_kib": self.rss.0,
                "relay_rss_after_kib": self.rss.1,
                "relay_kib_per_member": per_connection,
            }),
            curves: Vec::new(),
            throughput: "",
        }
    }
}

fn secs(duration: Duration) -> String {
    format!("{:.2} s", duration.as_secs_f64())
}
