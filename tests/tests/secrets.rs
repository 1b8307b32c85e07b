//! Secrets never reach the logs: a full scenario against the real binary at debug level,
//! then its whole output is searched for every secret it was given or handed out.

use std::process::{Command, Stdio};
use std::time::Duration;

use switchboard_sdk::token::{SigningKey, TokenSpec, mint};
use switchboard_tests::live;
use switchboard_tests::{Client, NatsServer, Realtime, RealtimeOptions, proto, workspace_binary};
use tokio::io::{AsyncBufReadExt, BufReader};

#[tokio::test]
async fn a_debug_log_of_a_whole_scenario_holds_no_secret() {
    let nats_token = "nats-token-3f9c1d7e2b8a4c6f";
    let nats = NatsServer::start_with_token(nats_token);
    let dir = tempfile::tempdir().unwrap();
    let token_file = dir.path().join("nats-token");
    std::fs::write(&token_file, nats_token).unwrap();

    let mut child = tokio::process::Command::from({
        let mut command = Command::new(workspace_binary("switchboard"));
        command
            .args(["dev", "--data-dir"])
            .arg(dir.path().join("data"))
            .args(["--controller-listen", "127.0.0.1:0", "--relay-listen", "127.0.0.1:0"])
            .env("RUST_LOG", "debug")
            .env("SWITCHBOARD_HTTP__LISTEN", "127.0.0.1:0")
            .env("SWITCHBOARD_NATS__URLS", format!("[\"{}\"]", nats.url()))
            .env("SWITCHBOARD_NATS__TOKEN_FILE", &token_file)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        command
    })
    .spawn()
    .unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap()).lines();
    let stderr = BufReader::new(child.stderr.take().unwrap());
    let log = tokio::spawn(async move {
        let mut lines = stderr.lines();
        let mut all = String::new();
        while let Ok(Some(line)) = lines.next_line().await {
            all.push_str(&line);
            all.push('\n');
        }
        all
    });
    let mut printed = String::new();
    let relay = loop {
        let line = stdout.next_line().await.unwrap().expect("dev exited early");
        printed.push_str(&line);
        printed.push('\n');
        if let Some(address) = line.strip_prefix("relay listening on ") {
            break format!("http://{address}");
        }
    };

    // The scenario: tokens, a team, messages, a live stream, typing, a read receipt.
    let secret = std::fs::read_to_string(dir.path().join("data/dev-secret")).unwrap();
    let cluster_secret = std::fs::read_to_string(dir.path().join("data/cluster-secret")).unwrap();
    let key = SigningKey::Hs256(secret.trim().as_bytes().to_vec());
    let alice_token = mint(&TokenSpec::new("alice", "acme"), &key).unwrap();
    let bob_token = mint(&TokenSpec::new("bob", "acme"), &key).unwrap();
    let alice = Client::connect(relay.clone(), alice_token.clone()).await.unwrap();
    let team = alice
        .create_team(proto::CreateTeamRequest {
            name: "Secrets".into(),
            members: vec!["bob".into()],
            ..Default::default()
        })
        .await
        .unwrap()
        .id;
    let mut bob = Realtime::connect(RealtimeOptions::new(relay.clone(), bob_token.clone()));
    live::live(&mut bob).await;
    alice.set_typing(team, true).await.unwrap();
    let sent = alice.send_text(team, "the log must not show tokens").await.unwrap();
    live::message(&mut bob, "the log must not show tokens").await;
    bob.mark_read(team, sent.id).await.unwrap();
    let bad = Client::connect(relay.clone(), format!("{alice_token}x")).await.unwrap();
    assert!(bad.open_self().await.is_err(), "a tampered token is refused (and must not be logged)");
    drop(bob);

    nix_term(&child);
    tokio::time::timeout(Duration::from_secs(20), child.wait()).await.unwrap().unwrap();
    let log = log.await.unwrap();
    assert!(log.contains("DEBUG"), "the scenario really ran at debug level");
    assert!(log.lines().count() > 50, "and said plenty: {} lines", log.lines().count());
    let everything = format!("{printed}{log}");
    for (what, value) in [
        ("alice's token", alice_token.as_str()),
        ("bob's token", bob_token.as_str()),
        ("a token's signature", alice_token.rsplit('.').next().unwrap()),
        ("the signing secret", secret.trim()),
        ("the cluster secret", cluster_secret.trim()),
        ("the NATS token", nats_token),
    ] {
        assert!(!everything.contains(value), "{what} appears in the output");
    }
}

/// SIGTERM, so the process shuts down and flushes its logs.
fn nix_term(child: &tokio::process::Child) {
    let pid = child.id().expect("running");
    Command::new("kill").args(["-TERM", &pid.to_string()]).status().unwrap();
}
