//! `sbctl bench` end to end on small sizes: every scenario runs against a Switchboard it
//! spawns and reports what its clients saw. (The real measurements, at full size on
//! release builds, are in docs/benchmarks.md; no speed is asserted here.)

use std::process::Command;

use serde_json::Value;
use switchboard_tests::workspace_binary;

/// Runs `sbctl --json bench <args> --spawn` (phases of 300 ms unless `args` say) and parses
/// its report.
async fn bench(args: &[&str]) -> Value {
    let mut command = Command::new(workspace_binary("sbctl"));
    command.args(["--json", "bench"]).args(args).arg("--spawn");
    if !args.contains(&"--duration") {
        command.args(["--duration", "300ms"]);
    }
    let output =
        tokio::task::spawn_blocking(move || command.output()).await.unwrap().expect("run sbctl");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "sbctl bench {args:?} failed: {stderr}");
    serde_json::from_slice(&output.stdout).expect("a JSON report")
}

#[tokio::test]
async fn fanout_reports_every_phase_and_the_raw_nats_yardstick() {
    // A search step passes only if its last delivery arrives within about a ninth of the
    // step's length after the step ends: steps of 600 ms leave 67 ms for a loaded
    // machine's hiccups (300 ms steps once failed the raw NATS yardstick's first step in CI).
    let args = ["--subscribers", "20", "--publishers", "2", "--duration", "600ms"];
    let report = bench(&[&["fanout", "--start-rate", "100"][..], &args].concat()).await;
    let phases = report["phases"].as_array().unwrap();
    let labels: Vec<&str> = phases.iter().map(|p| p["phase"].as_str().unwrap()).collect();
    assert_eq!(labels, ["highest sustained", "25 %", "50 %", "75 %", "100 %"]);
    for phase in phases {
        let delivered = phase["delivered"].as_u64().unwrap();
        assert!(delivered > 0, "{phase}");
        assert_eq!(delivered % 20, 0, "every message reached all 20 subscribers: {phase}");
        assert_eq!(phase["cut_off"], 0, "{phase}");
    }
    for phase in &phases[1..] {
        assert_eq!(phase["latency"]["count"], phase["delivered"], "each delivery timed: {phase}");
    }
    // What each delivery cost the spawned servers (a tick of /proc's CPU clock is 10 ms, so
    // a short phase may read zero; the search's busiest step does not).
    for phase in phases {
        assert!(phase["cpu_per_delivery"]["relay_us"].as_f64().unwrap() >= 0.0, "{phase}");
        assert!(phase["cpu_per_delivery"]["controller_us"].as_f64().unwrap() >= 0.0, "{phase}");
    }
    assert!(phases[0]["cpu_per_delivery"]["relay_us"].as_f64().unwrap() > 0.0);
    assert!(report["raw_nats"]["deliveries_per_sec"].as_f64().unwrap() > 0.0);
    assert!(report["raw_nats"]["server_cpu_per_delivery_us"].as_f64().unwrap() >= 0.0);
}

#[tokio::test]
async fn fanout_with_light_subscribers_times_every_delivery() {
    let args = ["--light", "--subscribers", "20", "--publishers", "2", "--duration", "600ms"];
    let report =
        bench(&[&["fanout", "--start-rate", "100", "--no-nats"][..], &args].concat()).await;
    assert_eq!(report["light_subscribers"], true);
    let phases = report["phases"].as_array().unwrap();
    assert_eq!(phases.len(), 5);
    for phase in &phases[1..] {
        let delivered = phase["delivered"].as_u64().unwrap();
        assert!(delivered > 0 && delivered % 20 == 0, "all 20 got each message: {phase}");
        assert_eq!(phase["latency"]["count"], phase["delivered"], "each delivery timed: {phase}");
        assert_eq!(phase["cut_off"], 0, "{phase}");
    }
}

#[tokio::test]
async fn channels_shows_the_relay_carries_only_conversations_with_clients() {
    let report = bench(&[
        "channels",
        "--conversations",
        "30",
        "--members",
        "3",
        "--connected",
        "4",
        "--active",
        "2",
        "--messages",
        "5",
    ])
    .await;
    assert_eq!(report["relay_upstream_topics"], 4 + 4 * 3, "4 conversations + 12 users");
    assert_eq!(report["controller_bus_topics"], 16);
    assert_eq!(report["relay_events_received"], 10, "2 × 5 messages, none of the other 10");
    assert_eq!(report["relay_deliveries"], 30, "each to 3 members");
}

#[tokio::test]
async fn ack_history_and_connections_run_and_report() {
    let ack = bench(&["ack", "--senders", "4", "--rate", "200"]).await;
    let phases = ack["phases"].as_array().unwrap();
    assert_eq!(phases.len(), 2);
    assert!(phases.iter().all(|p| p["sent"].as_u64().unwrap() > 0 && p["failed"] == 0));
    let flat_out = &phases[0]["cpu_per_send"];
    assert!(flat_out["relay_us"].as_f64().unwrap() > 0.0, "{flat_out}");
    assert!(flat_out["controller_us"].as_f64().unwrap() > 0.0, "{flat_out}");
    let direct = bench(&["ack", "--senders", "2", "--rate", "100", "--direct-messages"]).await;
    assert_eq!(direct["direct_messages"], true);
    let phases = direct["phases"].as_array().unwrap();
    assert!(phases.iter().all(|p| p["sent"].as_u64().unwrap() > 0 && p["failed"] == 0));

    let history = bench(&["history", "--messages", "300", "--requests", "10"]).await;
    let pages = history["pages"].as_array().unwrap();
    assert_eq!(pages.len(), 2);
    assert!(pages.iter().all(|p| p["latency"]["count"] == 10));

    let connections = bench(&["connections", "--clients", "50"]).await;
    assert_eq!(connections["clients"], 50);
    assert!(connections["relay_rss_after_kib"].as_u64().unwrap() > 0);
    assert!(connections["relay_kib_per_connection"].as_f64().is_some());
}

#[tokio::test]
async fn presence_costs_each_member_what_it_watches_not_what_the_team_does() {
    // One at a time, 20 members each watching the next 5: each starts with one event
    // carrying the state of its 5, then hears at most each of them arrive (batched, maybe
    // fewer events). Presence that fanned out to the whole team would cost 20 × 19 / 2.
    let args = ["presence", "--members", "20", "--watch", "5", "--concurrency", "1"];
    let report = bench(&args).await;
    assert_eq!(report["members"], 20);
    let deliveries = report["presence_deliveries"].as_u64().unwrap();
    assert!((20..=20 * 6).contains(&deliveries), "{report}");
    let states = report["presence_states"].as_u64().unwrap();
    assert!((20 * 5..=20 * 10).contains(&states), "{report}");
    assert_eq!(report["cut_off"], 0);
    assert!(report["relay_kib_per_member"].as_f64().is_some());
}

#[tokio::test]
async fn storm_restarts_the_relay_and_every_client_resumes_with_each_message_once() {
    let args = ["storm", "--clients", "30", "--conversations", "12", "--follows", "3"];
    let report = bench(&args).await;
    assert_eq!(report["clients"], 30);
    assert_eq!(report["duplicates"], 0, "{report}");
    let live = report["all_live_secs"].as_f64().unwrap();
    assert!(live > 0.0 && live <= report["all_caught_up_secs"].as_f64().unwrap(), "{report}");
    // The controller's own count of the reads the resumes cost (the scenario reports it).
    assert!(report["storm_store_reads"].as_u64().unwrap() > 0, "{report}");
    // Each conversation's log is read to start the relay's subscription and once more for
    // every session resuming it (7.5 per conversation here), not once per session.
    let log_reads = report["log_reads_per_conversation"].as_f64().unwrap();
    assert!(log_reads > 0.0 && log_reads <= 6.0, "{report}");
    assert!(report["other_reads_per_client"].as_f64().unwrap() > 0.0, "{report}");
    // Streams that follow named conversations ignore joins: the controller lists no user's
    // conversations to pass them on.
    let by_operation = &report["storm_store_reads_by_operation"];
    assert!(by_operation["get_member"].as_u64().unwrap() > 0, "{report}");
    assert!(by_operation.get("list_user_conversations").is_none(), "{report}");
}

#[tokio::test]
async fn broadcast_reaches_every_connected_member_of_a_big_channel_once() {
    let args = ["broadcast", "--members", "2500", "--connected", "40"];
    let report = bench(&args).await;
    assert_eq!((report["members"].as_u64(), report["connected"].as_u64()), (Some(2500), Some(40)));
    assert_eq!(report["deliveries"], 40, "{report}");
    let last = report["last_delivery_ms"].as_f64().unwrap();
    let p99 = report["latency"]["p99_ms"].as_f64().unwrap();
    assert!(p99 > 0.0 && p99 <= last + 1.0, "{report}");
}

#[tokio::test]
async fn directory_times_each_kind_of_search_over_users_with_profiles() {
    let report = bench(&["directory", "--users", "400", "--searches", "20"]).await;
    assert_eq!(report["users"], 400);
    let queries = report["queries"].as_array().unwrap();
    assert_eq!(queries.len(), 5, "{report}");
    for query in queries {
        assert!(query["mean_results"].as_f64().unwrap() >= 1.0, "{query}");
        assert_eq!(query["latency"]["count"], 20, "{query}");
        assert!(query["latency"]["p99_ms"].as_f64().unwrap() > 0.0, "{query}");
    }
}

#[tokio::test]
async fn push_sends_every_notification_to_every_device_through_the_senders() {
    let report = bench(&["push", "--members", "30", "--messages", "4"]).await;
    assert_eq!(
        (report["notifications"].as_u64(), report["pushes"].as_u64()),
        (Some(120), Some(360))
    );
    for platform in ["fcm", "apns", "web_push"] {
        assert_eq!(report["accepted"][platform], 120, "{platform}: {report}");
    }
    assert!(report["notifications_per_sec"].as_f64().unwrap() > 0.0, "{report}");
}
