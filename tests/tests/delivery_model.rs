//! The delivery contract, checked against a model (issue #20): schedules generated from a
//! seed drive concurrent senders on two controllers (shared store, real NATS), edits,
//! deletes and private messages, while followers on two of three relays disconnect and
//! resume as the protocol says (passing back the positions their SDK gave the app): two
//! with the Rust SDK, one with the web SDK (under Node, through a balancer in front of the
//! relays, as a browser reaches them, which moves it to the third when its relay dies), a
//! relay is killed (its followers move to the third), NATS restarts, one controller
//! crashes (its relay moves to the other; its senders retry there with the same
//! `client_msg_id`), and a follower is removed from a team and later added back through
//! that controller, often as it crashes (what it committed and never published must reach
//! the follower's open stream all the same). At the
//! end each follower's view, built only from what its SDK handed the app, must equal the
//! store's history of its conversations: every message exactly once, the latest edit,
//! deletes applied, private messages only at their parties; and nothing said in a team
//! while the follower was out of it reached them then. (Of a team it left, a follower
//! must have everything said since it was added back; what it had before is its own.)
//!
//! `SB_SEEDS=1,2,3` replays those seeds (the schedule, not the threads' interleaving);
//! `SB_SEED_COUNT=N` runs N seeds from 1 (the test command runs 8; a soak of more than
//! about 100 outlasts nextest's limit of 120 s a test, so run it with `cargo test -p
//! switchboard-tests --test delivery_model`);
//! `SB_MODEL_SENDS_ONLY=1` leaves out edits and deletes. A failing seed prints itself, and
//! what the failing follower's app was handed.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use switchboard_sdk::proto::event::Kind;
use switchboard_tests::random::Random;
use switchboard_tests::web_follower::WebFollower;
use switchboard_tests::{
    Client, Code, NatsServer, Proxy, Realtime, RealtimeEvent, RealtimeOptions, TestController,
    TestRelay, eventually, proto,
};
use tokio::sync::mpsc;

const SENDERS: [&str; 4] = ["s1", "s2", "s3", "s4"];
const FOLLOWERS: [&str; 3] = ["f1", "f2", "f3"];
/// The follower that uses the web SDK.
const WEB_FOLLOWER: &str = "f3";
const ROUNDS: usize = 12;

/// Seeds the test command runs; `SB_SEED_COUNT` runs more.
const SEEDS: u64 = 8;

/// What a follower's app was handed, per message id: its text now, whether deleted, and
/// how many times it was handed over as new.
#[derive(Default)]
struct View {
    messages: BTreeMap<u64, Seen>,
    /// Whether a connection has been live yet.
    live: bool,
    /// Everything handed over, briefly, in order: printed when the view is wrong.
    trace: Vec<String>,
}

#[derive(Debug, Clone, Default, PartialEq)]
struct Seen {
    channel: u64,
    text: String,
    deleted: bool,
    created: u32,
    /// The positions of its events, in the order handed over (to say what went wrong).
    positions: Vec<u64>,
}

impl View {
    /// Prints what the app was handed, to say how the view went wrong.
    fn print_trace(&self, user: &str) {
        eprintln!("what {user}'s app was handed:");
        self.trace.iter().for_each(|line| eprintln!("  {line}"));
    }

    fn apply(&mut self, event: &RealtimeEvent) {
        self.live |= matches!(event, RealtimeEvent::Live(_));
        self.trace.push(briefly(event));
        let RealtimeEvent::Event(event) = event else { return };
        let (message, created) = match &event.kind {
            Some(Kind::MessageCreated(m)) => (m.message.as_ref(), true),
            Some(Kind::MessageEdited(m)) => (m.message.as_ref(), false),
            Some(Kind::MessageDeleted(m)) => (m.message.as_ref(), false),
            _ => return,
        };
        let Some(message) = message else { return };
        let seen = self.messages.entry(message.id).or_default();
        seen.channel = message.channel_id;
        seen.created += u32::from(created);
        seen.positions.push(event.seq);
        // A replayed or late copy of an older state must not undo a newer one.
        if !seen.deleted {
            seen.text = message.data.clone();
            seen.deleted = message.deleted;
        }
    }
}

/// An event as the trace shows it: conversation, position, kind and message id.
fn briefly(event: &RealtimeEvent) -> String {
    let RealtimeEvent::Event(event) = event else { return format!("{event:?}") };
    let (kind, message) = match &event.kind {
        Some(Kind::MessageCreated(m)) => ("created", m.message.as_ref()),
        Some(Kind::MessageEdited(m)) => ("edited", m.message.as_ref()),
        Some(Kind::MessageDeleted(m)) => ("deleted", m.message.as_ref()),
        _ => ("other", None),
    };
    let id = message.map_or(0, |m| m.id);
    format!("{} @{} {kind} {id}", event.conversation_id, event.seq)
}

enum Command {
    Disconnect,
    Reconnect,
}

/// One follower: its connection (when connected), its view, its positions between
/// connections.
async fn follow(
    relays: Vec<String>,
    token: String,
    view: Arc<Mutex<View>>,
    mut commands: mpsc::Receiver<Command>,
) {
    let connect = |positions: HashMap<u64, u64>| {
        let mut options = RealtimeOptions::new(relays[0].clone(), token.clone());
        options.addresses = relays.clone();
        options.positions = positions;
        options.min_backoff = Duration::from_millis(10);
        Realtime::connect(options)
    };
    let mut live = Some(connect(HashMap::new()));
    let mut positions = HashMap::new();
    loop {
        tokio::select! {
            command = commands.recv() => match command {
                Some(Command::Disconnect) => {
                    if let Some(live) = live.take() {
                        positions = live.positions();
                    }
                }
                Some(Command::Reconnect) => {
                    if live.is_none() {
                        live = Some(connect(positions.clone()));
                    }
                }
                None => return,
            },
            event = async { live.as_mut().expect("connected").next().await }, if live.is_some() => {
                match event {
                    Some(event) => view.lock().unwrap().apply(&event),
                    None => live = None,
                }
            }
        }
    }
}

/// One follower through the web SDK: the same commands, and what its app was handed.
async fn follow_web(
    mut web: WebFollower,
    view: Arc<Mutex<View>>,
    mut commands: mpsc::Receiver<Command>,
) {
    loop {
        tokio::select! {
            command = commands.recv() => match command {
                Some(Command::Disconnect) => web.command("disconnect").await,
                Some(Command::Reconnect) => web.command("reconnect").await,
                None => return,
            },
            event = web.next() => match event {
                Some(event) => view.lock().unwrap().apply(&event),
                None => return,
            }
        }
    }
}

/// The teams (of the two) a follower is in: the second has all but f2.
fn teams_of(user: &str) -> &'static [usize] {
    if user == "f2" { &[0] } else { &[0, 1] }
}

/// Every message of `channel` as `viewer` sees it in history.
async fn history(viewer: &Client, channel: u64) -> BTreeMap<u64, (String, bool)> {
    let mut all = BTreeMap::new();
    let mut before = 0;
    loop {
        let request =
            proto::ListHistoryRequest { channel_id: channel, before, limit: 200, after: 0 };
        let page = viewer.history(request).await.expect("history");
        for message in &page.messages {
            all.insert(message.id, (message.data.clone(), message.deleted));
        }
        match page.messages.last() {
            Some(last) if page.has_more => before = last.id,
            _ => return all,
        }
    }
}

/// A relay on `controllers[first]` that fails over to the other one.
async fn relay_on(controllers: &[TestController; 2], first: usize) -> TestRelay {
    let urls = vec![controllers[first].url(), controllers[1 - first].url()];
    TestRelay::builder(&controllers[first]).controllers(urls).start().await
}

/// Runs one schedule; what broke the contract, if anything, and how many messages and
/// changes it checked.
async fn run(seed: u64) -> Result<usize, String> {
    let mut random = Random::new(seed);
    let mut nats = NatsServer::start();
    let dir = tempfile::tempdir().unwrap();
    let store = TestController::shared_store(&dir).await;
    // The first controller stays up; the second crashes mid-schedule. Each notices the
    // other gone within 3 s.
    let quick = |config: &mut switchboard_server::Config| config.nats.presence_ttl_secs = 3;
    let controller = |id| TestController::builder().nats(nats.url()).node_id(id).configure(quick);
    let controllers = [
        controller(1).store(store.clone()).start().await,
        controller(2).store(store).start().await,
    ];
    // Each relay fails over to the other controller; the third is where followers go when
    // theirs is killed.
    let mut relays = [Some(relay_on(&controllers, 0).await), Some(relay_on(&controllers, 1).await)];
    let spare = relay_on(&controllers, 0).await;
    // The rounds in which a relay is killed, NATS restarts, and the second controller
    // crashes.
    let (relay_kill, nats_restart) = (random.below(ROUNDS), random.below(ROUNDS));
    // The rounds in which the first follower is removed from the second team, and added
    // back: at least one round out between them, and rounds after.
    let leave = 1 + random.below(ROUNDS - 5);
    let rejoin = leave + 2 + random.below(ROUNDS - 4 - leave);
    let churned = "f1";
    // Two times in three, the second controller crashes as it makes one of these changes.
    let controller_kill = [leave, rejoin, random.below(ROUNDS)][random.below(3)];
    let mut senders = Vec::new();
    // Every sender also has a client on the first controller, for when the second is gone.
    let mut fallbacks = Vec::new();
    for (i, user) in SENDERS.iter().enumerate() {
        senders.push(controllers[i % 2].client(user, "acme").await);
        fallbacks.push(controllers[0].client(user, "acme").await);
    }
    let [first, second] = controllers;
    let mut second = Some(second);
    let controllers = [&first];
    let members: Vec<&str> = SENDERS[1..].iter().chain(&FOLLOWERS).copied().collect();
    let everyone = switchboard_tests::create_team(&senders[0], &members).await;
    let without_f2 =
        switchboard_tests::create_team(&senders[1], &["s1", "s3", "s4", "f1", "f3"]).await;
    let teams = [everyone, without_f2];

    // The web follower reaches the second relay through a balancer, which sends it to the
    // spare if that relay dies.
    let balancer = Proxy::start(&relays[1].as_ref().unwrap().url()).await;
    let mut followers = Vec::new();
    for (i, user) in FOLLOWERS.iter().enumerate() {
        let view = Arc::new(Mutex::new(View::default()));
        let (commands, inbox) = mpsc::channel(8);
        let token = controllers[0].token(user, "acme");
        if *user == WEB_FOLLOWER {
            let Some(web) = WebFollower::start(&balancer.url(), &token) else { continue };
            tokio::spawn(follow_web(web, view.clone(), inbox));
        } else {
            let addresses = vec![relays[i].as_ref().unwrap().url(), spare.url()];
            tokio::spawn(follow(addresses, token, view.clone(), inbox));
        }
        followers.push((*user, view, commands));
    }

    // The start the protocol covers: every follower live, with a position in each of its
    // conversations (a first message seen there).
    eventually("every follower going live", Duration::from_secs(20), || async {
        followers.iter().all(|(_, view, _)| view.lock().unwrap().live).then_some(())
    })
    .await;
    let mut starts = Vec::new();
    for team in teams {
        starts.push(senders[0].send_text(team, "the start").await.unwrap().id);
    }
    for (user, view, _) in &followers {
        wait_for(view, teams_of(user).iter().map(|&i| starts[i]), user, "the start marker").await?;
    }

    let mut sent: Vec<(usize, u64, u64)> = Vec::new(); // (sender, channel, id)
    // Said in the second team while the churned follower was out, and since it is back.
    let (mut said_while_out, mut said_since_back) = (HashSet::new(), HashSet::new());
    for round in 0..ROUNDS {
        let out = (leave + 1..rejoin).contains(&round);
        // Out, or maybe: the rounds that take it out and back in are concurrent with it.
        let maybe_out = (leave..=rejoin).contains(&round);
        // Concurrent sends from senders on both controllers, some private.
        let mut sends = Vec::new();
        for i in 0..4 + random.below(6) {
            let sender = random.below(SENDERS.len());
            let channel = teams[random.below(2)];
            let to = if random.chance(20) {
                FOLLOWERS[random.below(FOLLOWERS.len())].to_string()
            } else {
                String::new()
            };
            let not_a_member = (channel == without_f2 && to == "f2")
                || (channel == without_f2 && to == churned && maybe_out);
            let to = if not_a_member { String::new() } else { to };
            let request = proto::SendMessageRequest {
                channel_id: channel,
                data: format!("r{round} m{i} from {}", SENDERS[sender]),
                to,
                client_msg_id: format!("r{round} m{i}"),
                ..Default::default()
            };
            let (client, fallback) = (senders[sender].clone(), fallbacks[sender].clone());
            sends.push(async move {
                // A send its controller did not answer is retried on the first one with the
                // same key: it is stored once either way.
                let sent = match client.send(request.clone()).await {
                    Err(_) => fallback.send(request).await,
                    sent => sent,
                };
                (sender, channel, sent)
            });
        }
        let (fault_delay, victim) = (random.next_u64() % 5, random.below(2));
        if round == rejoin {
            leaked(&followers[0].1, &said_while_out, churned)?;
        }
        // The second team's owner takes the churned follower out, or back in, mid-batch,
        // through the second controller while it is up.
        let change_delay = Duration::from_millis(random.next_u64() % 5);
        let owner = [second.as_ref().map(|_| senders[1].clone()), Some(fallbacks[1].clone())];
        let membership = async {
            tokio::time::sleep(change_delay).await;
            let change = if round == leave {
                Some(Change::Remove)
            } else {
                (round == rejoin).then_some(Change::Add)
            };
            let Some(change) = change else { return Ok(()) };
            eprintln!("seed {seed}, round {round}: {churned} {change:?} the second team");
            change_membership(&owner, change, without_f2, churned).await
        };
        // A follower drops out or comes back, mid-batch.
        let toggle = async {
            let (_, _, commands) = &followers[random.below(followers.len())];
            let command = if random.chance(50) { Command::Disconnect } else { Command::Reconnect };
            tokio::time::sleep(Duration::from_millis(random.next_u64() % 5)).await;
            let _ = commands.send(command).await;
        };
        // Now and then, mid-batch: a relay dies, or NATS restarts.
        let fault = async {
            tokio::time::sleep(Duration::from_millis(fault_delay)).await;
            if round == relay_kill
                && let Some(relay) = relays[victim].take()
            {
                eprintln!("seed {seed}, round {round}: relay {victim} stopped");
                if victim == 1 {
                    balancer.point_to(&spare.url());
                }
                relay.stop().await;
            }
            if round == nats_restart {
                eprintln!("seed {seed}, round {round}: NATS restarted");
                nats.restart();
            }
            if controller_kill == round
                && let Some(second) = second.take()
            {
                eprintln!("seed {seed}, round {round}: the second controller crashed");
                second.crash();
            }
        };
        let (results, (), (), changed) =
            tokio::join!(futures_util::future::join_all(sends), toggle, fault, membership);
        changed?;
        for (sender, channel, result) in results {
            let message = result.map_err(|e| format!("a send failed: {e}"))?.message.unwrap();
            sent.push((sender, channel, message.id));
            if channel == without_f2 && out {
                said_while_out.insert(message.id);
            } else if channel == without_f2 && round > rejoin {
                said_since_back.insert(message.id);
            }
        }
        // An edit and a delete of earlier messages, by their authors (SB_MODEL_SENDS_ONLY=1
        // leaves them out, to look at ordering alone).
        let changes = std::env::var("SB_MODEL_SENDS_ONLY").is_err();
        for delete in [false, true].into_iter().filter(|_| changes) {
            let (sender, channel, id) = sent[random.below(sent.len())];
            let client = if second.is_some() { &senders[sender] } else { &fallbacks[sender] };
            let changed = if delete {
                client.delete_message(channel, id).await.map(drop)
            } else {
                client.edit_message(channel, id, &format!("edited in r{round}")).await.map(drop)
            };
            // Editing a message deleted earlier is refused; the schedule goes on.
            let _ = changed;
        }
    }

    // Everyone back; a last message in each conversation marks the end.
    for (_, _, commands) in &followers {
        let _ = commands.send(Command::Reconnect).await;
    }
    let mut markers = Vec::new();
    for team in teams {
        markers.push(senders[0].send_text(team, "the end").await.unwrap().id);
    }
    said_since_back.insert(markers[1]);
    let mut checked = 0;
    for (user, view, _) in &followers {
        let mine = teams_of(user);
        let waited = wait_for(view, mine.iter().map(|&i| markers[i]), user, "the end marker").await;
        if waited.is_err() {
            view.lock().unwrap().print_trace(user);
            let admin =
                controllers[0].client_with_token(controllers[0].admin_token("ops", "acme")).await;
            eprintln!("cluster: {:#?}", admin.admin_stats().await);
        }
        waited?;
        let viewer = controllers[0].client(user, "acme").await;
        for &i in mine {
            let expected = history(&viewer, teams[i]).await;
            let view = view.lock().unwrap();
            let required = |id: &u64| {
                teams[i] != without_f2 || *user != churned || said_since_back.contains(id)
            };
            checked += check(user, &view, teams[i], &expected, required)
                .inspect_err(|_| view.print_trace(user))?;
        }
    }
    Ok(checked)
}

#[derive(Debug, Clone, Copy)]
enum Change {
    Remove,
    Add,
}

/// Removes `user` from `team`, or adds them back, through the first of `owners` that
/// answers (each the team's owner on one controller). Either is safe to repeat: an addition
/// of a member adds nothing; a removal that took effect before its controller crashed
/// leaves them not a member (NOT_FOUND).
async fn change_membership(
    owners: &[Option<Client>],
    change: Change,
    team: u64,
    user: &str,
) -> Result<(), String> {
    let mut failure = String::from("no owner");
    for owner in owners.iter().flatten() {
        let result = match change {
            Change::Remove => owner.remove_member(team, user).await,
            Change::Add => owner.add_members(team, &[user]).await.map(drop),
        };
        match result {
            Ok(()) => return Ok(()),
            Err(status) if matches!(change, Change::Remove) && status.code() == Code::NotFound => {
                return Ok(());
            }
            Err(status) => failure = format!("{change:?}: {status}"),
        }
    }
    Err(failure)
}

/// Fails if the churned follower got anything said while it was out of the team.
fn leaked(view: &Mutex<View>, said_while_out: &HashSet<u64>, churned: &str) -> Result<(), String> {
    let view = view.lock().unwrap();
    let Some(id) = view.messages.keys().copied().find(|id| said_while_out.contains(id)) else {
        return Ok(());
    };
    view.print_trace(churned);
    Err(format!("{churned} got message {id}, said while it was out of the team"))
}

/// Checks a follower's view of one conversation against its history; how many messages
/// it checked. The view must have each `required` message of history as history has it;
/// anything else it has must be in history, once.
fn check(
    user: &str,
    view: &View,
    channel: u64,
    expected: &BTreeMap<u64, (String, bool)>,
    required: impl Fn(&u64) -> bool,
) -> Result<usize, String> {
    let got: BTreeMap<u64, &Seen> = view
        .messages
        .iter()
        .filter(|(_, s)| s.channel == channel)
        .map(|(id, s)| (*id, s))
        .collect();
    for (id, (text, deleted)) in expected {
        match got.get(id) {
            Some(seen) if !required(id) && seen.created > 1 => {
                return Err(format!("{user} got message {id} {} times", seen.created));
            }
            _ if !required(id) => {}
            None if *deleted => {} // sent and deleted while away: nothing to show
            None => return Err(format!("{user} never got message {id} ({text:?})")),
            Some(seen) if seen.created > 1 => {
                return Err(format!(
                    "{user} got message {id} {} times (event positions {:?})",
                    seen.created, seen.positions
                ));
            }
            Some(seen) if seen.deleted != *deleted => {
                return Err(format!(
                    "{user} shows {id} deleted={}, history {deleted}",
                    seen.deleted
                ));
            }
            Some(seen) if !deleted && seen.text != *text => {
                return Err(format!("{user} shows {id} as {:?}, history {text:?}", seen.text));
            }
            Some(_) => {}
        }
    }
    if let Some(extra) = got.keys().find(|id| !expected.contains_key(id)) {
        return Err(format!("{user} got message {extra}, which history does not show them"));
    }
    Ok(expected.keys().filter(|id| required(id)).count())
}

/// Waits until `view` holds every one of `ids`.
async fn wait_for(
    view: &Mutex<View>,
    ids: impl Iterator<Item = u64> + Clone,
    user: &str,
    what: &str,
) -> Result<(), String> {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    while !ids.clone().all(|id| view.lock().unwrap().messages.contains_key(&id)) {
        if tokio::time::Instant::now() > deadline {
            return Err(format!("{user} never got {what}"));
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    Ok(())
}

fn seeds() -> Vec<u64> {
    if let Ok(list) = std::env::var("SB_SEEDS") {
        return list.split(',').filter_map(|s| s.trim().parse().ok()).collect();
    }
    let count = std::env::var("SB_SEED_COUNT").ok().and_then(|n| n.parse().ok()).unwrap_or(SEEDS);
    (1..=count).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn every_follower_sees_exactly_the_history_of_its_conversations() {
    // `SB_LOG=info` (a tracing filter) shows what the controllers and relays log.
    if let Ok(filter) = std::env::var("SB_LOG") {
        let filter = tracing_subscriber::EnvFilter::new(filter);
        let _ = tracing_subscriber::fmt().with_env_filter(filter).with_test_writer().try_init();
    }
    let (mut runs, mut checked) = (0, 0);
    for seed in seeds() {
        match run(seed).await {
            Ok(count) => (runs, checked) = (runs + 1, checked + count),
            Err(why) => {
                panic!("seed {seed} broke the contract (SB_SEEDS={seed} replays it): {why}")
            }
        }
    }
    println!("{runs} seeds, {checked} messages checked");
}
