//! `fanout`: one conversation, N subscribers (each its own stream and connection), P
//! publishers. First a search for the highest rate the subscribers keep up with (see
//! `search`); then paced at 25, 50, 75 and 100 % of it, timing every delivery from when its
//! message was due (see `pace`). Then the same fan-out over raw NATS core pub/sub, for the
//! ratio.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::Context as _;
use indicatif::{ProgressBar, ProgressStyle};
use switchboard_sdk::proto::{self as pb, event::Kind};
use switchboard_sdk::{Realtime, RealtimeEvent, RealtimeOptions};
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken as Stop;

mod light;
mod report;

use self::report::report;
use super::cpu::CpuPerOperation;
use super::latency::Latency;
use super::pace::{self, Schedule};
use super::report::{Report, per_sec};
use super::search::highest_passing;
use super::target::Target;

#[derive(clap::Args)]
pub(crate) struct FanoutArgs {
    /// Subscribers, each its own user, stream and connection.
    #[arg(long, default_value_t = 1_000)]
    subscribers: usize,
    /// Publishers, each its own user and connection (enough to offer the rates tried:
    /// each waits for its acks).
    #[arg(long, default_value_t = 16)]
    publishers: usize,
    /// Messages per second taken as 100 % for the paced phases (default: the highest rate
    /// the subscribers kept up with).
    #[arg(long)]
    rate: Option<f64>,
    /// The first rate tried when searching for the highest sustained one (messages/s).
    #[arg(long, default_value_t = 20.0)]
    start_rate: f64,
    /// Message payload in bytes.
    #[arg(long, default_value_t = 64)]
    payload: usize,
    /// NATS server for the raw comparison (default: start one).
    #[arg(long)]
    nats_url: Option<String>,
    /// Skip the raw NATS comparison.
    #[arg(long)]
    no_nats: bool,
    /// Subscribers that decode only the message text (see `light`), so the load generator
    /// takes less of the machine than the SDK's full clients do.
    #[arg(long)]
    light: bool,
}

/// Phase 0 is the search for the highest sustained rate; then 25/50/75/100 % of it.
const SHARES: [f64; 5] = [1.0, 0.25, 0.5, 0.75, 1.0];
const SEARCH: usize = 0;
/// Each phase's latencies are recorded into this many histograms (subscriber i into shard
/// i mod SHARDS) and merged at the end: one shared histogram was the load generator's most
/// contended lock.
const SHARDS: usize = 16;

/// Counters the subscribers share, per phase.
struct Tally {
    delivered: [AtomicU64; SHARES.len()],
    /// Nanoseconds since the run's epoch of the phase's latest delivery.
    last_delivery: [AtomicU64; SHARES.len()],
    /// Anything but the benchmark's messages (presence, typing...), to see setup settle.
    other_events: AtomicU64,
    /// Streams the relay cut off as too slow (or that broke otherwise) after going live.
    cut: AtomicU64,
    /// Every subscriber's deliveries, per phase, in [`SHARDS`] histograms (a histogram is
    /// over 100 KiB; one per subscriber and phase took 700 MiB).
    latencies: [[Mutex<Latency>; SHARDS]; SHARES.len()],
}

/// What the phases share.
struct Bench<'a> {
    target: &'a Target,
    args: &'a FanoutArgs,
    team: u64,
    epoch: Instant,
    tally: Arc<Tally>,
    publishers: Vec<switchboard_sdk::Client>,
}

impl Bench<'_> {
    /// Publishes at `rate` for `duration`, waits for the deliveries, and counts them.
    async fn phase(&self, phase: usize, label: String, rate: f64, duration: Duration) -> Phase {
        let tally = &self.tally;
        tally.delivered[phase].store(0, Ordering::Relaxed);
        let cut_before = tally.cut.load(Ordering::Relaxed);
        let start_nanos = self.epoch.elapsed().as_nanos() as u64;
        let send = {
            let (publishers, pad) = (self.publishers.clone(), "x".repeat(self.args.payload));
            let (team, epoch) = (self.team, self.epoch);
            move |worker: usize, counted_from: tokio::time::Instant| {
                let client = publishers[worker].clone();
                let from = counted_from.into_std().duration_since(epoch).as_nanos();
                // `<phase> <nanos the latency counts from> xxx…`, padded to the payload size.
                let mut data = format!("{phase} {from} ");
                data.push_str(&pad[..pad.len().saturating_sub(data.len())]);
                async move {
                    client.send_text(team, &data).await?;
                    Ok(())
                }
            }
        };
        let schedule = Schedule { rate: Some(rate), duration, workers: self.args.publishers };
        let cpu_before = self.target.server_cpu();
        let sent = pace::run(&schedule, send).await;
        let expected = sent.sent * self.args.subscribers as u64;
        drain(tally, phase, expected).await;
        let window = tally.last_delivery[phase].load(Ordering::Relaxed).saturating_sub(start_nanos);
        let delivered = tally.delivered[phase].load(Ordering::Relaxed);
        Phase {
            cpu: cpu_before.per_operation(&self.target.server_cpu(), delivered),
            label,
            rate,
            sent: sent.per_sec(),
            expected,
            delivered,
            deliveries_per_sec: delivered as f64 / (window as f64 / 1e9).max(1e-9),
            cut: tally.cut.load(Ordering::Relaxed) - cut_before,
        }
    }
}

pub(crate) async fn run(
    target: &Target,
    args: &FanoutArgs,
    duration: Duration,
) -> anyhow::Result<Report> {
    let team = create_team(target, args).await?;
    let epoch = Instant::now();
    let tally = Arc::new(Tally {
        delivered: Default::default(),
        last_delivery: Default::default(),
        other_events: AtomicU64::new(0),
        cut: AtomicU64::new(0),
        latencies: std::array::from_fn(|_| std::array::from_fn(|_| Mutex::new(Latency::new()))),
    });
    let stop = Stop::default();
    let subscribers = connect_subscribers(target, args, team, epoch, &tally, &stop).await?;
    settle(&tally).await;

    let mut publishers = Vec::new();
    for i in 0..args.publishers {
        publishers.push(target.client(&format!("fanout-pub-{i}")).await?);
    }
    let bench = Bench { target, args, team, epoch, tally: tally.clone(), publishers };

    // The highest rate the subscribers keep up with for a whole phase.
    let step = duration.max(Duration::from_millis(300));
    let bench = &bench;
    let best = highest_passing(args.start_rate, |rate| async move {
        eprintln!("fanout: trying {} for {step:?}", per_sec(rate));
        let phase = bench.phase(SEARCH, "highest sustained".into(), rate, step).await;
        Ok(phase.kept_up(args.subscribers).then_some(phase))
    })
    .await?;
    let search = best.map(|(_, phase)| phase).with_context(|| {
        format!(
            "subscribers did not keep up even at {}, a 64th of --start-rate",
            per_sec(args.start_rate / 64.0)
        )
    })?;
    let full = args.rate.unwrap_or(search.rate);
    let mut phases = vec![search];
    for (phase, share) in SHARES.iter().enumerate().skip(1) {
        let label = format!("{:.0} %", share * 100.0);
        eprintln!("fanout: {label} ({}) for {duration:?}", per_sec(share * full));
        phases.push(bench.phase(phase, label, share * full, duration).await);
    }
    stop.cancel();
    for subscriber in subscribers {
        subscriber.await?;
    }
    let latencies = tally.latencies.each_ref().map(|shards| {
        let mut all = Latency::new();
        shards.iter().for_each(|shard| all.merge(&shard.lock().expect("lock")));
        all
    });
    let nats = if args.no_nats { None } else { Some(raw_nats(args, step).await?) };
    Ok(report(args, duration, &phases, &latencies, nats))
}

struct Phase {
    label: String,
    /// Messages per second offered.
    rate: f64,
    /// Messages per second the publishers got acknowledged.
    sent: f64,
    /// Sent × subscribers.
    expected: u64,
    delivered: u64,
    deliveries_per_sec: f64,
    /// Subscribers cut off during the phase.
    cut: u64,
    /// The servers' CPU per delivery.
    cpu: CpuPerOperation,
}

impl Phase {
    /// The publishers held the rate and every subscriber got every message, at the pace
    /// they were sent, without anyone being cut off.
    fn kept_up(&self, subscribers: usize) -> bool {
        self.cut == 0
            && self.sent >= 0.95 * self.rate
            && self.delivered == self.expected
            && self.deliveries_per_sec >= 0.9 * self.rate * subscribers as f64
    }
}

async fn create_team(target: &Target, args: &FanoutArgs) -> anyhow::Result<u64> {
    let owner = target.client("fanout-owner").await?;
    let members: Vec<String> = (0..args.subscribers)
        .map(|i| format!("fanout-sub-{i}"))
        .chain((0..args.publishers).map(|i| format!("fanout-pub-{i}")))
        .collect();
    let team = owner
        .create_team(pb::CreateTeamRequest { name: "bench fanout".into(), ..Default::default() })
        .await?
        .id;
    for chunk in members.chunks(1000) {
        let chunk: Vec<&str> = chunk.iter().map(String::as_str).collect();
        owner.add_members(team, &chunk).await?;
    }
    Ok(team)
}

/// Opens every subscriber's stream and waits until all are live. Each subscriber's task
/// records into `tally` until `stop` fires.
async fn connect_subscribers(
    target: &Target,
    args: &FanoutArgs,
    team: u64,
    epoch: Instant,
    tally: &Arc<Tally>,
    stop: &Stop,
) -> anyhow::Result<Vec<tokio::task::JoinHandle<()>>> {
    let progress = ProgressBar::new(args.subscribers as u64).with_style(
        ProgressStyle::with_template("subscribing {bar:40} {human_pos}/{human_len}")
            .expect("template"),
    );
    let gate = Arc::new(Semaphore::new(256));
    let (ready, mut readiness) = tokio::sync::mpsc::channel(args.subscribers.max(1));
    let mut tasks = Vec::with_capacity(args.subscribers);
    for i in 0..args.subscribers {
        let user = format!("fanout-sub-{i}");
        let (tally, stop, gate, ready) = (tally.clone(), stop.clone(), gate.clone(), ready.clone());
        let subscriber = Subscriber { shard: i % SHARDS, epoch, tally, stop, gate, ready };
        tasks.push(if args.light {
            let (relay, token) = (target.relay.clone(), target.token(&user));
            tokio::spawn(subscriber.light(relay, token, team))
        } else {
            let mut options = RealtimeOptions::new(target.relay.clone(), target.token(&user));
            options.only = vec![team];
            tokio::spawn(subscriber.full(options))
        });
    }
    for _ in 0..args.subscribers {
        match readiness.recv().await {
            Some(Ok(())) => progress.inc(1),
            Some(Err(error)) => anyhow::bail!("a subscriber could not connect: {error}"),
            None => anyhow::bail!("subscribers ended before going live"),
        }
    }
    progress.finish_and_clear();
    Ok(tasks)
}

/// One subscriber's task: what it records into, and how it reports going live.
struct Subscriber {
    shard: usize,
    epoch: Instant,
    tally: Arc<Tally>,
    stop: Stop,
    /// At most 256 connects in flight: a permit is held while connecting.
    gate: Arc<Semaphore>,
    ready: tokio::sync::mpsc::Sender<Result<(), String>>,
}

impl Subscriber {
    /// An SDK client, as an app runs it, recording until `stop`.
    async fn full(self, options: RealtimeOptions) {
        let Subscriber { shard, epoch, tally, stop, gate, ready } = self;
        let mut permit = Some(gate.acquire_owned().await.expect("semaphore"));
        let mut stream = Realtime::connect(options);
        let mut live = false;
        loop {
            let event = tokio::select! {
                () = stop.cancelled() => break,
                event = stream.next() => event,
            };
            match event {
                Some(RealtimeEvent::Live(_)) if !live => {
                    live = true;
                    permit = None;
                    let _ = ready.send(Ok(())).await;
                }
                Some(RealtimeEvent::Event(pb::Event {
                    kind: Some(Kind::MessageCreated(created)),
                    ..
                })) => {
                    let message = created.message.unwrap_or_default();
                    record(&message.data, epoch, &tally, shard);
                }
                Some(RealtimeEvent::Disconnected { code, message }) if !live => {
                    let _ = ready.send(Err(format!("{code:?} {message}"))).await;
                }
                Some(RealtimeEvent::Disconnected { .. }) => {
                    tally.cut.fetch_add(1, Ordering::Relaxed);
                }
                Some(_) => {
                    tally.other_events.fetch_add(1, Ordering::Relaxed);
                }
                None => break,
            }
        }
        drop(permit);
    }

    /// A [`light`] stream, recording until `stop`; it does not reconnect (a break counts
    /// as cut off).
    async fn light(self, relay: String, token: String, team: u64) {
        let Subscriber { shard, epoch, tally, stop, gate, ready } = self;
        let mut permit = Some(gate.acquire_owned().await.expect("semaphore"));
        let mut stream = match light::subscribe(&relay, &token, team).await {
            Ok(stream) => stream,
            Err(status) => {
                let _ = ready.send(Err(format!("{:?} {}", status.code(), status.message()))).await;
                return;
            }
        };
        let mut live = false;
        loop {
            let frame = tokio::select! {
                () = stop.cancelled() => break,
                frame = stream.message() => frame,
            };
            match frame {
                Ok(Some(frame)) => match frame.text() {
                    Some(text) => record(text, epoch, &tally, shard),
                    None if frame.live.is_some() && !live => {
                        live = true;
                        permit = None;
                        let _ = ready.send(Ok(())).await;
                    }
                    None => _ = tally.other_events.fetch_add(1, Ordering::Relaxed),
                },
                Ok(None) | Err(_) if !live => {
                    let _ = ready.send(Err("the stream ended before going live".into())).await;
                    break;
                }
                Ok(None) | Err(_) => {
                    tally.cut.fetch_add(1, Ordering::Relaxed);
                    break;
                }
            }
        }
        drop(permit);
    }
}

fn record(data: &str, epoch: Instant, tally: &Tally, shard: usize) {
    let mut fields = data.split(' ');
    let (Some(Ok(phase)), Some(Ok(from))) =
        (fields.next().map(str::parse::<usize>), fields.next().map(str::parse::<u64>))
    else {
        return;
    };
    let Some(latency) = tally.latencies.get(phase) else { return };
    let now = epoch.elapsed().as_nanos() as u64;
    latency[shard].lock().expect("lock").record(Duration::from_nanos(now.saturating_sub(from)));
    tally.delivered[phase].fetch_add(1, Ordering::Relaxed);
    tally.last_delivery[phase].fetch_max(now, Ordering::Relaxed);
}

/// Waits until connecting has stopped producing events (presence of N users arriving).
async fn settle(tally: &Tally) {
    let mut seen = u64::MAX;
    let deadline = Instant::now() + Duration::from_secs(60);
    while Instant::now() < deadline {
        let now = tally.other_events.load(Ordering::Relaxed);
        if now == seen {
            return;
        }
        seen = now;
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

/// Waits until the phase's messages have all arrived, or none has for two seconds.
async fn drain(tally: &Tally, phase: usize, expected: u64) {
    let (mut seen, mut still_since) = (0, Instant::now());
    loop {
        let now = tally.delivered[phase].load(Ordering::Relaxed);
        if now >= expected || still_since.elapsed() > Duration::from_secs(2) {
            return;
        }
        if now != seen {
            (seen, still_since) = (now, Instant::now());
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn raw_nats(args: &FanoutArgs, step: Duration) -> anyhow::Result<super::nats::NatsFanout> {
    let (server, url) = match &args.nats_url {
        Some(url) => (None, url.clone()),
        None => {
            let (server, url) = super::nats::start_server().await?;
            (Some(server), url)
        }
    };
    eprintln!("fanout: raw NATS, 1 publisher, {} subscribers, same search", args.subscribers);
    let server_pid = server.as_ref().and_then(|server| server.id());
    super::nats::fanout(&url, server_pid, args.subscribers, args.payload, args.start_rate, step)
        .await
}
