//! The binaries as an operator uses them: `switchboard` start-up checks, gRPC health, and
//! `sbctl` driving the Chat API.

use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;
use switchboard_tests::{TEST_SECRET, TestController, workspace_binary};

/// Environment variables for one run.
type Env<'a> = &'a [(&'a str, &'a str)];

fn switchboard(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut command = Command::new(workspace_binary("switchboard"));
    command.args(args).env_remove("RUST_LOG");
    for (key, value) in env {
        command.env(key, value);
    }
    command.output().expect("run switchboard")
}

/// Like [`switchboard`], for a run that should stop on its own: one still running after
/// 20 s is killed (its output then shows it started).
fn stopping(args: &[&str], env: Env<'_>) -> Output {
    let mut command = Command::new(workspace_binary("switchboard"));
    command.args(args).env_remove("RUST_LOG").envs(env.iter().copied());
    let mut child =
        command.stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().expect("run switchboard");
    let deadline = Instant::now() + Duration::from_secs(20);
    while child.try_wait().expect("wait").is_none() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = child.kill();
    child.wait_with_output().expect("its output")
}

#[test]
fn bad_configuration_stops_start_up_with_a_message_naming_the_key() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("switchboard.toml");
    // (config file, environment, the key the error must name)
    let cases: [(&str, Env<'_>, &str); 4] = [
        ("node_id = 5000\n[auth]\nhs256_secret_file = \"s\"\n", &[], "node_id"),
        ("[controller]\nlisten = \"nowhere\"\n", &[], "listen"),
        ("[auth]\nleeway_secs = 30\n", &[], "auth"),
        (
            "[auth]\nhs256_secret_file = \"s\"\n",
            &[("SWITCHBOARD_LIMITS__MAX_MESSAGE_BYTES", "0")],
            "max_message_bytes",
        ),
    ];
    for (toml, env, key) in cases {
        std::fs::write(&config, toml).unwrap();
        let output = switchboard(&["controller", "--config", config.to_str().unwrap()], env);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(!output.status.success(), "{toml} should not start");
        assert!(stderr.contains(key), "error names `{key}`: {stderr}");
        assert!(!String::from_utf8_lossy(&output.stdout).contains("listening"), "no port bound");
    }
    let output = switchboard(&["controller", "--config", "/does/not/exist.toml"], &[]);
    assert!(String::from_utf8_lossy(&output.stderr).contains("does not exist"));
}

/// `[relay]` reaches the relay of `switchboard relay` (from the file) and of `switchboard
/// dev` (from `SWITCHBOARD_RELAY__*`): a value out of range stops either, naming it.
#[test]
fn the_relay_section_reaches_the_relay_of_every_command_that_runs_one() {
    let dir = tempfile::tempdir().unwrap();
    let secret = dir.path().join("secret");
    std::fs::write(&secret, TEST_SECRET).unwrap();
    let secret = secret.to_str().unwrap();
    let config = dir.path().join("switchboard.toml");
    let toml = format!(
        "[auth]\nhs256_secret_file = \"{secret}\"\n[cluster]\nsecret_file = \"{secret}\"\n\
         [relay]\nclient_queue = 1\n"
    );
    std::fs::write(&config, toml).unwrap();
    let relay = stopping(&["relay", "--config", config.to_str().unwrap()], &[]);
    let data = dir.path().join("dev");
    let ports = ["--controller-listen", "127.0.0.1:0", "--relay-listen", "127.0.0.1:0"];
    let mut dev_args = vec!["dev", "--data-dir", data.to_str().unwrap(), "--http-listen"];
    dev_args.extend(["127.0.0.1:0"].iter().chain(&ports));
    let dev = stopping(&dev_args, &[("SWITCHBOARD_RELAY__CLIENT_QUEUE", "1")]);
    for (command, output) in [("relay", relay), ("dev", dev)] {
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(!output.status.success(), "{command} should not start");
        assert!(stderr.contains("client_queue"), "{command}: the error names it: {stderr}");
    }
}

#[tokio::test]
async fn grpc_health_reports_the_chat_service_serving() {
    use tonic_health::pb::{
        HealthCheckRequest, health_check_response::ServingStatus, health_client::HealthClient,
    };
    let server = TestController::start().await;
    let channel =
        tonic::transport::Endpoint::from_shared(server.url()).unwrap().connect().await.unwrap();
    let mut health = HealthClient::new(channel);
    for service in ["", "switchboard.v1.Chat"] {
        let response = health
            .check(HealthCheckRequest { service: service.into() })
            .await
            .unwrap()
            .into_inner();
        assert_eq!(response.status(), ServingStatus::Serving, "service {service:?}");
    }
}

/// Runs sbctl against `server`.
async fn sbctl(server: &TestController, token: &str, args: &[&str]) -> Result<String, String> {
    switchboard_tests::sbctl(&server.url(), token, args).await
}

fn json(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"))
}

#[tokio::test]
async fn sbctl_mints_tokens_and_drives_a_conversation() {
    let server = TestController::start().await;
    let dir = tempfile::tempdir().unwrap();
    let secret = dir.path().join("secret");
    std::fs::write(&secret, TEST_SECRET).unwrap();
    let mut tokens = Vec::new();
    for user in ["alice", "bob"] {
        let secret = secret.to_str().unwrap();
        let args = ["token", "mint", "--user", user, "--org", "acme", "--secret-file", secret];
        tokens.push(sbctl(&server, "", &args).await.unwrap().trim().to_string());
    }
    let (alice, bob) = (tokens[0].clone(), tokens[1].clone());

    let team = json(
        &sbctl(
            &server,
            &alice,
            &["--json", "team", "create", "Ops", "--tag", "oncall", "--member", "bob"],
        )
        .await
        .unwrap(),
    );
    assert_eq!(team["name"], "Ops");
    assert_eq!(team["my_role"], "owner");
    let id = team["id"].as_str().unwrap().to_string();

    let sent = json(
        &sbctl(&server, &bob, &["--json", "send", &id, "deploy done", "--client-msg-id", "d1"])
            .await
            .unwrap(),
    );
    let retry = json(
        &sbctl(&server, &bob, &["--json", "send", &id, "deploy done", "--client-msg-id", "d1"])
            .await
            .unwrap(),
    );
    assert_eq!(retry["duplicate"], true);
    assert_eq!(retry["message"]["id"], sent["message"]["id"]);
    let message_id = sent["message"]["id"].as_str().unwrap().to_string();
    let reply = ["send", &id, "thanks", "--reply-to", &message_id, "--also-in-conversation"];
    sbctl(&server, &alice, &reply).await.unwrap();
    sbctl(&server, &alice, &["send", &id, "psst", "--to", "bob"]).await.unwrap();
    let hidden = ["send", &id, "in the thread only", "--reply-to", &message_id];
    sbctl(&server, &alice, &hidden).await.unwrap();

    let history =
        json(&sbctl(&server, &bob, &["--json", "history", &id, "--limit", "10"]).await.unwrap());
    let texts: Vec<&str> = history["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["data"].as_str().unwrap())
        .collect();
    assert_eq!(texts, ["psst", "thanks", "deploy done"]);
    let thread = sbctl(&server, &bob, &["replies", &id, &message_id]).await.unwrap();
    assert!(thread.contains("in the thread only") && thread.contains("thanks"), "{thread}");
    let table = sbctl(&server, &bob, &["history", &id]).await.unwrap();
    assert!(table.contains("deploy done") && table.contains("FROM"), "a table for people: {table}");

    sbctl(&server, &alice, &["member", "promote", &id, "bob"]).await.unwrap();
    let error = sbctl(&server, &alice, &["team", "leave", &id]).await.unwrap_err();
    assert!(error.contains("FAILED_PRECONDITION"), "names the code: {error}");
    sbctl(&server, &alice, &["team", "transfer", &id, "bob"]).await.unwrap();
    sbctl(&server, &alice, &["team", "leave", &id]).await.unwrap();
    let shown = json(&sbctl(&server, &bob, &["--json", "team", "show", &id]).await.unwrap());
    assert_eq!(shown["owner"], "bob");
    assert_eq!(shown["members"].as_array().unwrap().len(), 1);

    let dm = json(&sbctl(&server, &alice, &["--json", "dm", "open", "bob"]).await.unwrap());
    assert_eq!(dm["kind"], "direct");
    let error = sbctl(&server, "not-a-token", &["team", "list"]).await.unwrap_err();
    assert!(error.contains("UNAUTHENTICATED"), "{error}");
    let completions = sbctl(&server, "", &["completions", "bash"]).await.unwrap();
    assert!(completions.contains("sbctl"));
}
