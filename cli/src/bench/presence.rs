//! `presence`: N members of one team connect at once, each its own user, stream and
//! connection, following all their conversations as an app does. Counts the presence
//! events the members receive until all are live and a marker message sent after that has
//! reached every one of them, and then for `--duration` more; reports them per member
//! (#22's target: at most 10 per member) with the relay's memory.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use serde_json::json;
use switchboard_sdk::proto::{self as pb, event::Kind};
use switchboard_sdk::{Realtime, RealtimeEvent, RealtimeOptions};
use tokio::sync::{Semaphore, mpsc};
use tokio_util::sync::CancellationToken as Stop;

use super::milestones::{Counts, Milestone, wait_for};
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
}

/// The text of the message that marks the end of the connect storm.
const MARKER: &str = "bench presence: everyone is live";

/// Presence deliveries per member that #22 asks for at most.
const TARGET_PER_MEMBER: f64 = 10.0;

/// What the members saw, counted as it arrives.
#[derive(Default)]
struct Tally {
    /// Presence events received before the member received the marker.
    before_marker: AtomicU64,
    /// Presence events received after it (during the window).
    after_marker: AtomicU64,
    /// Streams that broke after going live.
    cut: AtomicU64,
}

pub(crate) async fn run(
    target: &Target,
    args: &PresenceArgs,
    window: Duration,
) -> anyhow::Result<Report> {
    let team = create_team(target, args.members).await?;
    let before = target.relay_rss_kib();
    let tally = Arc::new(Tally::default());
    let stop = Stop::new();
    let (milestones, mut reports) = mpsc::channel(args.members.max(1));
    let gate = Arc::new(Semaphore::new(args.concurrency.max(1)));
    let start = Instant::now();
    let mut tasks = Vec::with_capacity(args.members);
    for i in 0..args.members {
        let options = RealtimeOptions::new(target.relay.clone(), target.token(&member(i)));
        let (tally, stop, gate) = (tally.clone(), stop.clone(), gate.clone());
        tasks.push(tokio::spawn(follow(options, tally, stop, gate, milestones.clone())));
    }
    drop(milestones);
    let (members, mut counts) = (args.members, Counts::default());
    wait_for(&mut reports, &mut counts, "connecting", |c| c.live >= members).await?;
    let connect_time = start.elapsed();
    let owner = target.client("presence-owner").await?;
    let marked_at = Instant::now();
    owner.send_text(team, MARKER).await?;
    wait_for(&mut reports, &mut counts, "marker", |c| c.received >= members).await?;
    let marker_time = marked_at.elapsed();
    eprintln!("presence: counting what still arrives for {window:?}");
    tokio::time::sleep(window).await;
    let after = target.relay_rss_kib();
    stop.cancel();
    for task in tasks {
        task.await?;
    }
    let figures = Figures {
        members: args.members,
        connect_time,
        marker_time,
        window,
        before_marker: tally.before_marker.load(Ordering::Relaxed),
        after_marker: tally.after_marker.load(Ordering::Relaxed),
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
/// presence events it receives, before and after the marker, until `stop`.
async fn follow(
    options: RealtimeOptions,
    tally: Arc<Tally>,
    stop: Stop,
    gate: Arc<Semaphore>,
    milestones: mpsc::Sender<Milestone>,
) {
    let mut permit = Some(gate.acquire_owned().await.expect("semaphore"));
    let mut stream = Realtime::connect(options);
    let (mut live, mut marked) = (false, false);
    loop {
        let event = tokio::select! {
            () = stop.cancelled() => break,
            event = stream.next() => event,
        };
        match event {
            Some(RealtimeEvent::Live(_)) if !live => {
                live = true;
                permit = None;
                let _ = milestones.send(Milestone::Live).await;
            }
            Some(RealtimeEvent::Event(pb::Event { kind: Some(Kind::Presence(_)), .. })) => {
                let count = if marked { &tally.after_marker } else { &tally.before_marker };
                count.fetch_add(1, Ordering::Relaxed);
            }
            Some(RealtimeEvent::Event(pb::Event {
                kind: Some(Kind::MessageCreated(created)),
                ..
            })) if created.message.as_ref().is_some_and(|m| m.data == MARKER) => {
                marked = true;
                let _ = milestones.send(Milestone::Received).await;
            }
            Some(RealtimeEvent::Disconnected { code, message }) if !live => {
                let _ = milestones.send(Milestone::Failed(format!("{code:?} {message}"))).await;
            }
            Some(RealtimeEvent::Disconnected { .. }) => {
                tally.cut.fetch_add(1, Ordering::Relaxed);
            }
            Some(_) => {}
            None => break,
        }
    }
    drop(permit);
}

/// The run's figures, as its report.
struct Figures {
    members: usize,
    connect_time: Duration,
    marker_time: Duration,
    window: Duration,
    before_marker: u64,
    after_marker: u64,
    cut: u64,
    /// The relay's resident memory before the members connected and at the end.
    rss: (Option<u64>, Option<u64>),
}

impl Figures {
    fn report(&self) -> Report {
        let members = self.members.max(1) as f64;
        let total = self.before_marker + self.after_marker;
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
            vec!["marker: sent to received by all".into(), secs(self.marker_time)],
            vec!["presence deliveries before the marker".into(), self.before_marker.to_string()],
            vec![
                format!("presence deliveries in the {:?} after", self.window),
                self.after_marker.to_string(),
            ],
            vec!["presence deliveries per member".into(), format!("{per_member:.1}")],
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
                "presence: {} members of one team connect at once, each following all",
                self.members
            ),
            header: vec!["FIGURE", "VALUE"],
            rows,
            notes: vec![
                "every member counts the presence events it receives; a member's own arrival \
                 reaches the others, so presence that fans out to everyone costs about N² \
                 deliveries"
                    .into(),
            ],
            json: json!({
                "scenario": "presence",
                "members": self.members,
                "connect_secs": self.connect_time.as_secs_f64(),
                "marker_secs": self.marker_time.as_secs_f64(),
                "window_secs": self.window.as_secs_f64(),
                "presence_before_marker": self.before_marker,
                "presence_after_marker": self.after_marker,
                "presence_deliveries": total,
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
