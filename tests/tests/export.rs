//! Export: a user exports their own data (or an org admin a user's), an org admin exports a
//! conversation, as a tar archive made in the background and downloaded from the job's
//! URL, on the local blob store and on S3 (Garage). What is in the archive is what the
//! docs say: a manifest, JSON and JSON lines, and the files' bytes.

use std::collections::BTreeMap;
use std::io::Read as _;
use std::time::Duration;

use serde_json::Value;
use switchboard_sdk::Client;
use switchboard_sdk::token::TokenSpec;
use switchboard_server::blobs::s3::S3Blobs;
use switchboard_server::blobs::{BlobEngine, Blobs as _, FilesConfig};
use switchboard_server::ids::{Clock as _, SystemClock};
use switchboard_tests::{
    Code, GarageServer, TestClock, TestController, eventually, expect_code, proto, sbctl,
};

/// Follows a job to its end: as its admin, or (`mine`) as the user whose export it is.
async fn finished(client: &Client, id: u64, mine: bool) -> proto::Job {
    eventually("the export to finish", Duration::from_secs(30), || async {
        let job = match mine {
            true => client.get_my_export(id).await.unwrap(),
            false => client.get_job(id).await.unwrap(),
        };
        if !job.error.is_empty() {
            eprintln!("the export met an error: {}", job.error);
        }
        matches!(job.state(), proto::JobState::Done | proto::JobState::Failed).then_some(job)
    })
    .await
}

/// The archive's files: path to bytes.
async fn archive(job: &proto::Job) -> BTreeMap<String, Vec<u8>> {
    assert_eq!(job.state(), proto::JobState::Done, "{job:?}");
    assert!(!job.download_url.is_empty(), "{job:?}");
    let bytes = reqwest::get(&job.download_url).await.unwrap().bytes().await.unwrap();
    let mut files = BTreeMap::new();
    let mut tar = tar::Archive::new(&bytes[..]);
    for entry in tar.entries().unwrap() {
        let mut entry = entry.unwrap();
        let path = entry.path().unwrap().to_string_lossy().into_owned();
        let mut content = Vec::new();
        entry.read_to_end(&mut content).unwrap();
        files.insert(path, content);
    }
    files
}

/// The JSON lines of every file whose path starts with `prefix`, in path order.
fn lines(files: &BTreeMap<String, Vec<u8>>, prefix: &str) -> Vec<Value> {
    files
        .iter()
        .filter(|(path, _)| path.starts_with(prefix))
        .flat_map(|(_, bytes)| {
            String::from_utf8(bytes.clone()).unwrap().lines().map(String::from).collect::<Vec<_>>()
        })
        .map(|line| serde_json::from_str(&line).unwrap())
        .collect()
}

fn texts(messages: &[Value]) -> Vec<&str> {
    messages.iter().map(|m| m["text"].as_str().unwrap()).collect()
}

async fn exports_hold_what_the_docs_say(engine: BlobEngine) {
    let garage = match engine {
        BlobEngine::S3 => Some(tokio::task::spawn_blocking(GarageServer::start).await.unwrap()),
        _ => None,
    };
    let mut files = FilesConfig::default();
    if let Some(garage) = &garage {
        files.engine = BlobEngine::S3;
        files.s3 = garage.s3_config();
    }
    let server = TestController::builder().files(files).start().await;
    let (alice, team) = server.team_of("alice", &["bob"]).await;
    let (bob, carol) = (server.client("bob", "acme").await, server.client("carol", "acme").await);
    let admin = server.client_with_token(server.admin_token("root", "acme")).await;
    alice.send_text(team, "welcome, bob").await.unwrap();
    let first = bob.send_text(team, "first draft").await.unwrap();
    bob.edit_message(team, first.id, "first, edited").await.unwrap();
    bob.send_text(team, "second").await.unwrap();
    let dm = bob.open_direct("carol").await.unwrap().id;
    bob.send_text(dm, "hi carol").await.unwrap();
    let notes = bob.upload_bytes(team, "notes.txt", "text/plain", b"bob's notes", |_| {}).await;
    let notes = notes.unwrap();
    bob.send_attachment(team, &notes, None).await.unwrap();

    // bob exports his own data, and only he (or an org admin) reads that job.
    let job = bob.export_my_data().await.unwrap();
    assert_eq!((job.kind(), job.subject.as_str()), (proto::JobKind::ExportUser, "bob"));
    expect_code(carol.get_my_export(job.id).await, Code::NotFound);
    let job = finished(&bob, job.id, true).await;
    let mine = archive(&job).await;
    let manifest: Value = serde_json::from_slice(&mine["manifest.json"]).unwrap();
    assert_eq!(manifest["format"], "switchboard-export/1");
    assert_eq!(
        (manifest["kind"].as_str(), manifest["subject"].as_str()),
        (Some("export_user"), Some("bob"))
    );
    assert_eq!(manifest["counts"]["messages"], 4);
    let profile: Value = serde_json::from_slice(&mine["profile.json"]).unwrap();
    assert!(profile.is_object() || profile.is_null(), "{profile}");
    let conversations = lines(&mine, "conversations.jsonl");
    let ids: Vec<u64> = conversations.iter().map(|c| c["id"].as_u64().unwrap()).collect();
    assert!(ids.contains(&team) && ids.contains(&dm), "{conversations:?}");
    let sent = lines(&mine, "messages/");
    assert_eq!(sent[0]["attachment_id"], notes.id, "the file's message, newest");
    assert_eq!(texts(&sent[1..]), ["hi carol", "second", "first, edited"], "newest first");
    assert!(sent.iter().all(|m| m["from"] == "bob"));
    let listed = lines(&mine, "files.jsonl");
    assert_eq!(listed.len(), 1, "{listed:?}");
    let path = listed[0]["path"].as_str().unwrap();
    assert_eq!(path, format!("files/{}-notes.txt", notes.id));
    assert_eq!(mine[path], b"bob's notes");
    let as_admin = admin.get_job(job.id).await.unwrap();
    assert!(!as_admin.download_url.is_empty());
    assert!(mine.contains_key("messages/000001.jsonl"), "numbered from 1: {:?}", mine.keys());

    // Someone who sent and uploaded nothing gets every list the docs name, empty.
    let job = carol.export_my_data().await.unwrap();
    let hers = archive(&finished(&carol, job.id, true).await).await;
    let paths: Vec<&str> = hers.keys().map(String::as_str).collect();
    assert_eq!(paths, ["conversations.jsonl", "files.jsonl", "manifest.json", "profile.json"]);
    assert!(hers["files.jsonl"].is_empty());
    let manifest: Value = serde_json::from_slice(&hers["manifest.json"]).unwrap();
    let counts = &manifest["counts"];
    assert_eq!(
        (&counts["conversations"], &counts["messages"], &counts["files"]),
        (&1.into(), &0.into(), &0.into())
    );

    // An org admin exports the conversation: everyone's messages, oldest first.
    expect_code(alice.export_conversation(team).await, Code::PermissionDenied);
    let elsewhere = server.client_with_token(server.admin_token("root", "globex")).await;
    expect_code(elsewhere.export_conversation(team).await, Code::NotFound);
    let job = admin.export_conversation(team).await.unwrap();
    let whole = archive(&finished(&admin, job.id, false).await).await;
    let conversation: Value = serde_json::from_slice(&whole["conversation.json"]).unwrap();
    assert_eq!(conversation["id"], team);
    let members: Vec<String> = lines(&whole, "members.jsonl")
        .iter()
        .map(|m| m["user_id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(members, ["alice", "bob"]);
    let messages = lines(&whole, "messages/");
    assert_eq!(texts(&messages[..3]), ["welcome, bob", "first, edited", "second"], "oldest first");
    assert_eq!(messages[3]["attachment_id"], notes.id);
    assert_eq!(whole[path], b"bob's notes");
}

#[tokio::test]
async fn exports_hold_what_the_docs_say_on_the_local_store() {
    exports_hold_what_the_docs_say(BlobEngine::Local).await;
}

#[tokio::test]
async fn exports_hold_what_the_docs_say_on_s3() {
    exports_hold_what_the_docs_say(BlobEngine::S3).await;
}

#[tokio::test]
async fn sbctl_exports_and_downloads_the_archive() {
    let server = TestController::start().await;
    let (_alice, team) = server.team_of("alice", &[]).await;
    let alice = server.client("alice", "acme").await;
    alice.send_text(team, "keep this").await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("mine.tar");
    let token = server.token("alice", "acme");
    let shown =
        sbctl(&server.url(), &token, &["export", "-o", out.to_str().unwrap()]).await.unwrap();
    assert!(shown.contains("done"), "{shown}");
    let mut names = Vec::new();
    let file = std::fs::File::open(&out).unwrap();
    for entry in tar::Archive::new(file).entries().unwrap() {
        names.push(entry.unwrap().path().unwrap().to_string_lossy().into_owned());
    }
    assert!(
        names.contains(&"manifest.json".to_string())
            && names.iter().any(|n| n.starts_with("messages/")),
        "{names:?}"
    );
    let shown = sbctl(&server.url(), &token, &["--json", "export", "--wait"]).await.unwrap();
    let job: Value = serde_json::from_str(&shown).unwrap();
    let (finished, kept) = (&job[0]["finished_at_ms"], &job[0]["archive_expires_at_ms"]);
    let kept_for = kept.as_i64().zip(finished.as_i64()).map(|(kept, made)| kept - made);
    let week = 7 * 24 * 60 * 60 * 1000;
    assert!(kept_for.is_some_and(|ms| (week - 60_000..=week).contains(&ms)), "a week: {job}");
}

/// An archive is kept a week after it is made: then the job offers no download, and the
/// sweep removes its bytes.
#[tokio::test]
async fn an_archive_is_removed_once_its_time_is_over() {
    const TWO_DAYS_MS: i64 = 2 * 24 * 60 * 60 * 1000;
    let clock = TestClock::default();
    clock.set(SystemClock.now_ms());
    let server = TestController::builder()
        .clock(clock.clone())
        .configure(|config| config.files.export_ttl_secs = TWO_DAYS_MS as u64 / 1000)
        .start()
        .await;
    let spec = TokenSpec::new("bob", "acme").ttl(Duration::from_secs(8 * 86_400));
    let bob = server.client_with_token(server.token_for(&spec)).await;
    let notes = bob.open_self().await.unwrap().id;
    bob.send_text(notes, "kept two days in the archive").await.unwrap();
    let job = bob.export_my_data().await.unwrap();
    let job = finished(&bob, job.id, true).await;
    assert_eq!(job.archive_expires_at_ms, job.finished_at_ms + TWO_DAYS_MS, "{job:?}");
    let bytes =
        server.data_dir.path().join(format!("data/blobs/objects/exports/{}/archive", job.id));
    assert!(bytes.exists(), "the archive is stored at {}", bytes.display());

    clock.set(job.archive_expires_at_ms - 1);
    assert!(!bob.get_my_export(job.id).await.unwrap().download_url.is_empty(), "still there");
    clock.set(job.archive_expires_at_ms);
    let gone = bob.get_my_export(job.id).await.unwrap();
    assert_eq!((gone.state(), gone.download_url.as_str()), (proto::JobState::Done, ""));
    eventually("the sweep to remove the archive", Duration::from_secs(30), || async {
        (!bytes.exists()).then_some(())
    })
    .await;
}

/// An archive larger than a part goes to S3 as a multipart upload (one PUT takes at most
/// 5 GB), and downloads whole.
#[tokio::test]
async fn a_large_archive_goes_to_s3_in_parts_and_downloads_whole() {
    let garage = tokio::task::spawn_blocking(GarageServer::start).await.unwrap();
    let blobs = S3Blobs::new(&garage.s3_config()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("archive");
    let bytes: Vec<u8> = (0..40 * 1024 * 1024 + 5).map(|i: u32| (i % 251) as u8).collect();
    std::fs::write(&path, &bytes).unwrap();
    let key = "exports/1/archive";
    blobs.put_file(key, "application/x-tar", &path).await.unwrap();

    let url = blobs.presign_get(key, "export.tar", "application/x-tar", Duration::from_secs(60));
    let response = reqwest::get(url.await.unwrap()).await.unwrap();
    let etag = response.headers()["etag"].to_str().unwrap().to_string();
    assert!(etag.trim_matches('"').ends_with("-3"), "uploaded in three parts: {etag}");
    let downloaded = response.bytes().await.unwrap();
    assert!(downloaded.len() == bytes.len() && downloaded == bytes, "the whole file, as written");
}
