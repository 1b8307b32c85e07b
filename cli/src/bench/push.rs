//! `push`: notifications per second through the device senders. A team of U members, none
//! connected, each with an FCM phone, an iPhone and a browser; its owner sends M `@all`
//! messages, each a notification per member and a push per device. The senders go to a
//! local endpoint answering like FCM, APNs and a Web Push service (`push_endpoint`), so
//! the figure is the controller's: store reads, JWT and OAuth tokens, Web Push
//! encryption, HTTP/2 and HTTP/1 requests.

use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use anyhow::Context;
use serde_json::json;
use switchboard_sdk::proto as pb;

use super::BenchArgs;
use super::push_endpoint::{AUTH, P256DH, PushEndpoint};
use super::report::{Report, per_sec};
use super::target::Target;

#[derive(clap::Args)]
pub(crate) struct PushArgs {
    /// Members of the team (each with three devices).
    #[arg(long, default_value_t = 200)]
    members: usize,
    /// `@all` messages the owner sends.
    #[arg(long, default_value_t = 20)]
    messages: usize,
}

/// Most users one AddMembers call takes.
const ADD_BATCH: usize = 1_000;
/// How long the pushes may take after the last send.
const DRAIN: Duration = Duration::from_secs(120);

fn member(i: usize) -> String {
    format!("push-member-{i}")
}

pub(crate) async fn run(
    address: &str,
    bench: &BenchArgs,
    args: &PushArgs,
) -> anyhow::Result<Report> {
    anyhow::ensure!(
        bench.spawn,
        "bench push needs --spawn (the controller must send to the bench's endpoint)"
    );
    let endpoint = PushEndpoint::start().await?;
    let keys = tempfile::tempdir()?;
    let target = Target::open_with(address, bench, &endpoint.config(keys.path())?).await?;
    let owner = target.client("push-owner").await?;
    let request = pb::CreateTeamRequest { name: "bench push".into(), ..Default::default() };
    let team = owner.create_team(request).await?.id;
    let users: Vec<String> = (0..args.members).map(member).collect();
    for chunk in users.chunks(ADD_BATCH) {
        let chunk: Vec<&str> = chunk.iter().map(String::as_str).collect();
        owner.add_members(team, &chunk).await?;
    }
    let progress = indicatif::ProgressBar::new(args.members as u64).with_style(
        indicatif::ProgressStyle::with_template("registering devices: {pos}/{len} {bar:30}")
            .expect("template"),
    );
    let connection = target.connection().await?;
    for (i, user) in users.iter().enumerate() {
        register_devices(&target.client_on(&connection, user), &endpoint, i).await?;
        progress.inc(1);
    }
    progress.finish_and_clear();

    let expected = (args.members * args.messages * 3) as u64;
    let progress = indicatif::ProgressBar::new(expected).with_style(
        indicatif::ProgressStyle::with_template("pushes accepted: {pos}/{len} {bar:30} {per_sec}")
            .expect("template"),
    );
    let before = target.server_cpu();
    let started = Instant::now();
    for n in 0..args.messages {
        owner.send_text(team, &format!("@all bench push {n}")).await?;
    }
    let sent = started.elapsed();
    let deadline = Instant::now() + DRAIN;
    while endpoint.accepted.total() < expected {
        anyhow::ensure!(
            Instant::now() < deadline,
            "only {} of {expected} pushes arrived within {DRAIN:?} of the last send",
            endpoint.accepted.total()
        );
        progress.set_position(endpoint.accepted.total());
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let elapsed = started.elapsed();
    progress.finish_and_clear();
    let notifications = (args.members * args.messages) as u64;
    let cpu = before.per_operation(&target.server_cpu(), notifications);
    let seconds = elapsed.as_secs_f64();
    let accepted = &endpoint.accepted;
    let count = |c: &std::sync::atomic::AtomicU64| c.load(Ordering::Relaxed);
    let rows = vec![vec![
        notifications.to_string(),
        expected.to_string(),
        format!("{:.2} s", seconds),
        per_sec(notifications as f64 / seconds),
        per_sec(expected as f64 / seconds),
        cpu.controller_us().map_or("-".into(), |us| format!("{us:.0} µs")),
    ]];
    Ok(Report {
        title: format!(
            "push: {} members × 3 devices, {} @all messages, senders to a local endpoint",
            args.members, args.messages
        ),
        header: vec![
            "NOTIFICATIONS",
            "PUSHES",
            "SEND→LAST PUSH",
            "NOTIFICATIONS/S",
            "PUSHES/S",
            "CONTROLLER CPU / NOTIFICATION",
        ],
        rows,
        notes: vec![format!(
            "the {} sends took {:.2} s; pushes per platform: fcm {}, apns {}, web push {}",
            args.messages,
            sent.as_secs_f64(),
            count(&accepted.fcm),
            count(&accepted.apns),
            count(&accepted.web_push),
        )],
        json: json!({
            "members": args.members,
            "messages": args.messages,
            "notifications": notifications,
            "pushes": expected,
            "seconds": seconds,
            "notifications_per_sec": notifications as f64 / seconds,
            "pushes_per_sec": expected as f64 / seconds,
            "sends_seconds": sent.as_secs_f64(),
            "accepted": {
                "fcm": count(&accepted.fcm),
                "apns": count(&accepted.apns),
                "web_push": count(&accepted.web_push),
            },
            "cpu": cpu.json(),
        }),
        curves: Vec::new(),
        throughput: "notifications per second",
    })
}

/// An FCM phone, an iPhone and a browser for member `i`.
async fn register_devices(
    client: &switchboard_sdk::Client,
    endpoint: &PushEndpoint,
    i: usize,
) -> anyhow::Result<()> {
    let token = |platform: pb::DevicePlatform, token: String| pb::Device {
        platform: platform as i32,
        token,
        app_id: "com.example.bench".into(),
        ..Default::default()
    };
    client.register_device(token(pb::DevicePlatform::Fcm, format!("bench-fcm-{i:08}"))).await?;
    client.register_device(token(pb::DevicePlatform::Apns, format!("{i:064x}"))).await?;
    let browser = pb::Device {
        platform: pb::DevicePlatform::WebPush as i32,
        web_push: Some(pb::WebPushSubscription {
            endpoint: endpoint.web_push_endpoint(i),
            p256dh: P256DH.into(),
            auth: AUTH.into(),
        }),
        ..Default::default()
    };
    client.register_device(browser).await.context("register a browser")?;
    Ok(())
}
