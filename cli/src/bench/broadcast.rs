//! `broadcast`: a broadcast CHANNEL of M members, C of them connected (each its own user,
//! stream and connection, following all their conversations); its owner posts one message.
//! Reports how long until the last connected member had it, with the spread, and what
//! setting it up cost (#22: 100,000 members, 10,000 connected).

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::json;
use switchboard_sdk::proto::{self as pb, event::Kind};
use switchboard_sdk::{Realtime, RealtimeEvent, RealtimeOptions};
use tokio::sync::{Semaphore, mpsc, watch};
use tokio_util::sync::CancellationToken as Stop;

use super::latency::Latency;
use super::milestones::{Connecting, Counts, Milestone, wait_for};
use super::report::{Report, per_sec};
use super::target::Target;

#[derive(clap::Args)]
pub(crate) struct BroadcastArgs {
    /// Members of the channel.
    #[arg(long, default_value_t = 100_000)]
    members: usize,
    /// Of them, connected when the message goes out.
    #[arg(long, default_value_t = 10_000)]
    connected: usize,
    /// Connects in flight at once.
    #[arg(long, default_value_t = 256)]
    concurrency: usize,
}

/// The text of the one message.
const TEXT: &str = "bench broadcast: to everyone";

/// Most users one AddMembers call takes.
const ADD_BATCH: usize = 1_000;

pub(crate) async fn run(target: &Target, args: &BroadcastArgs) -> anyhow::Result<Report> {
    anyhow::ensure!(args.connected <= args.members, "--connected must be at most --members");
    let started = Instant::now();
    let (channel, owner) = create_channel(target, args.members).await?;
    let setup_time = started.elapsed();
    let before = target.relay_rss_kib();

    let stop = Stop::new();
    let (milestones, mut reports) = mpsc::channel(args.connected.max(1));
    let gate = Arc::new(Semaphore::new(args.concurrency.max(1)));
    let (sent_tx, sent) = watch::channel(None::<Instant>);
    let latency = Arc::new(Mutex::new(Latency::new()));
    let connecting = Instant::now();
    let mut tasks = Vec::with_capacity(args.connected);
    for i in 0..args.connected {
        let options = RealtimeOptions::new(target.relay.clone(), target.token(&member(i)));
        let (stop, gate, sent, latency) =
            (stop.clone(), gate.clone(), sent.clone(), latency.clone());
        tasks.push(tokio::spawn(follow(options, stop, gate, sent, latency, milestones.clone())));
    }
    drop(milestones);
    let (connected, mut counts) = (args.connected, Counts::default());
    wait_for(&mut reports, &mut counts, "connecting", |c| c.live >= connected).await?;
    let connect_time = connecting.elapsed();
    let with_streams = target.relay_rss_kib();

    let sending = Instant::now();
    sent_tx.send_replace(Some(sending));
    owner.send_text(channel, TEXT).await?;
    let ack_time = sending.elapsed();
    wait_for(&mut reports, &mut counts, "delivering", |c| c.received >= connected).await?;
    let last_delivery = sending.elapsed();
    stop.cancel();
    for task in tasks {
        task.await?;
    }
    let latency = latency.lock().expect("latency lock poisoned").clone();
    let figures = Figures {
        members: args.members,
        connected: args.connected,
        setup_time,
        connect_time,
        ack_time,
        last_delivery,
        latency,
        rss: (before, with_streams),
    };
    Ok(figures.report())
}

fn member(i: usize) -> String {
    format!("broadcast-{i}")
}

/// A public CHANNEL with `members` members besides its owner, added a batch at a time.
async fn create_channel(
    target: &Target,
    members: usize,
) -> anyhow::Result<(u64, switchboard_sdk::Client)> {
    let owner = target.client("broadcast-owner").await?;
    let request = pb::CreateChannelRequest { name: "bench broadcast".into(), ..Default::default() };
    let channel = owner.create_channel(request).await?.id;
    let users: Vec<String> = (0..members).map(member).collect();
    let progress = indicatif::ProgressBar::new(members as u64).with_style(
        indicatif::ProgressStyle::with_template("adding members: {pos}/{len} {bar:30}")
            .expect("template"),
    );
    for chunk in users.chunks(ADD_BATCH) {
        let chunk: Vec<&str> = chunk.iter().map(String::as_str).collect();
        owner.add_members(channel, &chunk).await?;
        progress.inc(chunk.len() as u64);
    }
    progress.finish_and_clear();
    Ok((channel, owner))
}

/// One member's stream: connects (holding a permit of `gate` until live), then records how
/// long after the send the message reached it.
async fn follow(
    options: RealtimeOptions,
    stop: Stop,
    gate: Arc<Semaphore>,
    sent: watch::Receiver<Option<Instant>>,
    latency: Arc<Mutex<Latency>>,
    milestones: mpsc::Sender<Milestone>,
) {
    let mut connecting = Connecting::new(gate.acquire_owned().await.expect("semaphore"));
    let mut stream = Realtime::connect(options);
    loop {
        let event = tokio::select! {
            () = stop.cancelled() => break,
            event = stream.next() => event,
        };
        let Some(event) = event else { break };
        if connecting.saw(&event, &milestones).await {
            continue;
        }
        if let RealtimeEvent::Event(pb::Event { kind: Some(Kind::MessageCreated(created)), .. }) =
            event
            && created.message.as_ref().is_some_and(|m| m.data == TEXT)
        {
            if let Some(sent_at) = *sent.borrow() {
                latency.lock().expect("latency lock poisoned").record(sent_at.elapsed());
            }
            let _ = milestones.send(Milestone::Received).await;
        }
    }
}

/// The run's figures, as its report.
struct Figures {
    members: usize,
    connected: usize,
    /// Creating the channel and adding its members.
    setup_time: Duration,
    connect_time: Duration,
    /// From the send until its acknowledgement (durable).
    ack_time: Duration,
    /// From the send until the last connected member had it.
    last_delivery: Duration,
    latency: Latency,
    /// The relay's resident memory before the members connected, and with them connected.
    rss: (Option<u64>, Option<u64>),
}

impl Figures {
    fn report(&self) -> Report {
        let kib = |value: Option<u64>| value.map_or("-".into(), |v| format!("{v} KiB"));
        let ms = |value: f64| format!("{value:.1} ms");
        let rows = vec![
            vec!["channel members".into(), self.members.to_string()],
            vec!["connected members".into(), self.connected.to_string()],
            vec!["creating the channel and adding everyone".into(), secs(self.setup_time)],
            vec!["time until all connected were live".into(), secs(self.connect_time)],
            vec![
                "connect rate".into(),
                per_sec(self.connected as f64 / self.connect_time.as_secs_f64().max(1e-9)),
            ],
            vec!["send to ack".into(), ms(self.ack_time.as_secs_f64() * 1000.0)],
            vec!["deliveries".into(), self.latency.count().to_string()],
            vec!["send to first delivery".into(), ms(self.latency.ms(0.0))],
            vec!["send to delivery, p50".into(), ms(self.latency.ms(0.5))],
            vec!["send to delivery, p99".into(), ms(self.latency.ms(0.99))],
            vec!["send to the last delivery".into(), ms(self.last_delivery.as_secs_f64() * 1000.0)],
            vec!["relay RSS before".into(), kib(self.rss.0)],
            vec!["relay RSS with the members connected".into(), kib(self.rss.1)],
        ];
        Report {
            title: format!(
                "broadcast: one message to a channel of {} members, {} of them connected",
                self.members, self.connected
            ),
            header: vec!["FIGURE", "VALUE"],
            rows,
            notes: vec![
                "each connected member follows all its conversations; latencies are from the \
                 send to each member's receipt, on this machine's clock"
                    .into(),
            ],
            json: json!({
                "scenario": "broadcast",
                "members": self.members,
                "connected": self.connected,
                "setup_secs": self.setup_time.as_secs_f64(),
                "connect_secs": self.connect_time.as_secs_f64(),
                "ack_ms": self.ack_time.as_secs_f64() * 1000.0,
                "deliveries": self.latency.count(),
                "latency": self.latency.json(),
                "last_delivery_ms": self.last_delivery.as_secs_f64() * 1000.0,
                "relay_rss_before_kib": self.rss.0,
                "relay_rss_connected_kib": self.rss.1,
            }),
            curves: Vec::new(),
            throughput: "",
        }
    }
}

fn secs(duration: Duration) -> String {
    format!("{:.2} s", duration.as_secs_f64())
}
