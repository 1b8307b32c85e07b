//! Attachments, end to end, against both blob engines: the local directory (served by the
//! controller's HTTP port) and a real Garage node over S3. Every scenario runs on both.

use std::time::Duration;

use switchboard_sdk::token::TokenSpec;
use switchboard_server::blobs::{BlobEngine, FilesConfig};
use switchboard_tests::{
    Client, Code, DevProcess, GarageServer, Realtime, RealtimeOptions, TestController, TestRelay,
    eventually, expect_code, live, outcome, proto, sbctl,
};

const MIB: usize = 1024 * 1024;

#[derive(Clone, Copy, Debug)]
enum Engine {
    Local,
    Garage,
}

/// A controller on one engine, with small limits so that multipart starts at 6 MiB.
struct Files {
    server: TestController,
    /// Kept running as long as the controller uses it.
    _garage: Option<GarageServer>,
}

impl Files {
    async fn start(engine: Engine) -> Files {
        Files::start_with(engine, |_| {}).await
    }

    async fn start_with(engine: Engine, adjust: impl FnOnce(&mut FilesConfig)) -> Files {
        let mut config = FilesConfig {
            max_bytes: 20 * MIB as u64,
            part_bytes: 5 * MIB as u64,
            multipart_threshold_bytes: 6 * MIB as u64,
            ..FilesConfig::default()
        };
        let garage = match engine {
            Engine::Local => None,
            Engine::Garage => {
                let garage = tokio::task::spawn_blocking(GarageServer::start).await.unwrap();
                config.engine = BlobEngine::S3;
                config.s3 = garage.s3_config();
                Some(garage)
            }
        };
        adjust(&mut config);
        let server = TestController::builder().files(config).start().await;
        Files { server, _garage: garage }
    }
}

/// `len` bytes that start like a PNG of 3 × 2 pixels and go on with a pattern that never
/// repeats at part boundaries.
fn png(len: usize) -> Vec<u8> {
    let mut bytes = vec![
        0x89, b'P', b'N', b'G', 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13, b'I', b'H', b'D', b'R', 0, 0,
        0, 3, 0, 0, 0, 2, 8, 6, 0, 0, 0,
    ];
    let mut state = 0x2545_f491_u32;
    while bytes.len() < len {
        state ^= state << 13;
        state ^= state >> 17;
        state ^= state << 5;
        bytes.extend_from_slice(&state.to_le_bytes());
    }
    bytes.truncate(len);
    bytes
}

async fn download(
    client: &Client,
    attachment: u64,
) -> Result<Vec<u8>, switchboard_tests::SdkError> {
    let mut bytes = Vec::new();
    client.download(attachment, &mut bytes, |_| {}).await?;
    Ok(bytes)
}

/// The status of a plain GET, as a browser following the URL would get it.
async fn http_get(url: &str) -> u16 {
    reqwest::get(url).await.expect("GET").status().as_u16()
}

/// PUTs `body` to a presigned URL; the HTTP status.
async fn put(url: &str, content_type: &str, body: Vec<u8>) -> u16 {
    let client = reqwest::Client::new();
    let response = client.put(url).header("content-type", content_type).body(body).send().await;
    response.expect("PUT").status().as_u16()
}

/// Uploads `data` part by part without completing; the attachment id.
async fn upload_only(
    client: &Client,
    channel: u64,
    name: &str,
    content_type: &str,
    data: &[u8],
) -> u64 {
    let upload = client
        .create_upload(upload_of(channel, name, content_type, data.len() as u64))
        .await
        .unwrap();
    for part in &upload.parts {
        let bytes = data[part.offset as usize..(part.offset + part.length) as usize].to_vec();
        assert_eq!(put(&part.url, content_type, bytes).await, 200);
    }
    upload.attachment.unwrap().id
}

async fn round_trip(engine: Engine) {
    let files = Files::start(engine).await;
    let (alice, team) = files.server.team_of("alice", &["bob"]).await;
    let data = png(3 * MIB + 123);
    let sent_bytes = std::sync::Mutex::new(0);
    let attachment = alice
        .upload_bytes(team, "photo.png", "image/png", &data, |sent| {
            *sent_bytes.lock().unwrap() = sent
        })
        .await
        .unwrap();
    assert_eq!(*sent_bytes.lock().unwrap(), data.len() as u64, "progress reached the end");
    assert_eq!(attachment.state, proto::AttachmentState::Complete as i32);
    assert_eq!((attachment.size, attachment.width, attachment.height), (data.len() as u64, 3, 2));

    // bob is connected through a relay: the live event carries the attachment's metadata.
    let relay = TestRelay::start(&files.server).await;
    let bob_token = files.server.token("bob", "acme");
    let mut bob_live = Realtime::connect(RealtimeOptions::new(relay.url(), bob_token));
    live::live(&mut bob_live).await;
    let message = alice.send_attachment(team, &attachment, Some("our trip")).await.unwrap();
    assert_eq!(message.r#type, proto::MessageType::Image as i32);
    assert_eq!(message.custom_fields["caption"], "our trip");
    let id = attachment.id.to_string();
    let (arrived, _) = live::until(&mut bob_live, "the image message", |event| {
        live::created(event).filter(|m| m.data == id).cloned()
    })
    .await;
    let meta = arrived.attachment.expect("the live event carries the attachment");
    assert_eq!((meta.filename.as_str(), meta.width, meta.height), ("photo.png", 3, 2));

    let bob = files.server.client("bob", "acme").await;
    let history = bob
        .history(proto::ListHistoryRequest { channel_id: team, limit: 10, ..Default::default() })
        .await
        .unwrap();
    let seen = history.messages[0].attachment.clone().expect("the message carries its attachment");
    assert_eq!(seen.filename, "photo.png");
    assert_eq!(seen.content_type, "image/png");
    assert_eq!(seen.message_id, message.id);
    let downloaded = download(&bob, seen.id).await.unwrap();
    assert!(downloaded == data, "the download differs from the upload");
}

async fn multipart_above_the_threshold(engine: Engine) {
    let files = Files::start(engine).await;
    let (alice, team) = files.server.team_of("alice", &[]).await;
    let data = png(12 * MIB + 5);
    let upload = alice
        .create_upload(proto::CreateUploadRequest {
            channel_id: team,
            filename: "big.png".into(),
            content_type: "image/png".into(),
            size: data.len() as u64,
            ..Default::default()
        })
        .await
        .unwrap();
    let lengths: Vec<u64> = upload.parts.iter().map(|p| p.length).collect();
    assert_eq!(lengths, vec![5 * MIB as u64, 5 * MIB as u64, 2 * MIB as u64 + 5]);
    let id = upload.attachment.unwrap().id;
    // Completing before every part arrived is refused, and changes nothing.
    assert_eq!(put(&upload.parts[0].url, "image/png", data[..5 * MIB].to_vec()).await, 200);
    let error = expect_code(alice.complete_upload(id).await, Code::FailedPrecondition);
    assert!(error.contains("1 of 3 parts"), "{error}");

    let attachment = alice.upload_bytes(team, "big.png", "image/png", &data, |_| {}).await.unwrap();
    assert_eq!(attachment.size, data.len() as u64);
    assert!(download(&alice, attachment.id).await.unwrap() == data);
}

async fn a_wrong_declared_type_is_rejected_and_discarded(engine: Engine) {
    let files = Files::start(engine).await;
    let (alice, team) = files.server.team_of("alice", &[]).await;
    let pdf = b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\ntrailer\n%%EOF\n".repeat(100);
    let id = upload_only(&alice, team, "cat.png", "image/png", &pdf).await;
    let error = expect_code(alice.complete_upload(id).await, Code::InvalidArgument);
    assert!(error.contains("application/pdf"), "{error}");
    // The rejected upload is gone for good.
    let attachment = alice.get_attachment(id).await.unwrap();
    assert_eq!(attachment.state, proto::AttachmentState::Deleted as i32);
    expect_code(alice.download_url(id).await, Code::FailedPrecondition);
    expect_code(alice.complete_upload(id).await, Code::FailedPrecondition);
    // Text declared as an image is refused too; a PDF declared as a PDF is fine.
    expect_code(
        alice.upload_bytes(team, "a.png", "image/png", b"plain text", |_| {}).await,
        Code::InvalidArgument,
    );
    alice.upload_bytes(team, "doc.pdf", "application/pdf", &pdf, |_| {}).await.unwrap();
}

fn upload_of(
    channel_id: u64,
    filename: &str,
    content_type: &str,
    size: u64,
) -> proto::CreateUploadRequest {
    proto::CreateUploadRequest {
        channel_id,
        filename: filename.into(),
        content_type: content_type.into(),
        size,
        ..Default::default()
    }
}

async fn over_size_and_disallowed_types_are_rejected(engine: Engine) {
    let files = Files::start(engine).await;
    let (alice, team) = files.server.team_of("alice", &[]).await;
    let too_big =
        alice.create_upload(upload_of(team, "a.bin", "image/png", 20 * MIB as u64 + 1)).await;
    assert!(expect_code(too_big, Code::InvalidArgument).contains("size"));
    let exe = alice.create_upload(upload_of(team, "a.exe", "application/x-msdownload", 10)).await;
    assert!(expect_code(exe, Code::InvalidArgument).contains("not allowed"));
    expect_code(
        alice.create_upload(upload_of(team, "../a.png", "image/png", 10)).await,
        Code::InvalidArgument,
    );

    // Declared small, uploaded bigger, or as another type: the store refuses the PUT at
    // once, and nothing is there to complete.
    let upload = alice.create_upload(upload_of(team, "a.png", "image/png", 100)).await.unwrap();
    let url = &upload.parts[0].url;
    assert!(matches!(put(url, "image/png", png(5000)).await, 400 | 403));
    assert!(matches!(put(url, "image/png", png(99)).await, 400 | 403));
    assert!(matches!(put(url, "application/x-msdownload", png(100)).await, 400 | 403));
    let id = upload.attachment.unwrap().id;
    let error = expect_code(alice.complete_upload(id).await, Code::FailedPrecondition);
    assert!(error.contains("nothing was uploaded"), "{error}");
    // The declared length and type go through.
    assert_eq!(put(url, "image/png", png(100)).await, 200);
    alice.complete_upload(id).await.unwrap();
}

/// `len` bytes of a Windows executable's header.
fn executable(len: usize) -> Vec<u8> {
    let mut bytes = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff".to_vec();
    bytes.resize(len, 0x90);
    bytes
}

async fn checked_bytes_cannot_be_replaced_later(engine: Engine) {
    let files = Files::start(engine).await;
    let (alice, team) = files.server.team_of("alice", &["bob"]).await;
    let bob = files.server.client("bob", "acme").await;
    let data = png(4000);
    let upload = alice.create_upload(upload_of(team, "a.png", "image/png", 4000)).await.unwrap();
    let url = upload.parts[0].url.clone();
    assert_eq!(put(&url, "image/png", data.clone()).await, 200);
    let id = upload.attachment.unwrap().id;
    let attachment = alice.complete_upload(id).await.unwrap();
    let closed = |status: u16| match engine {
        // The local engine refuses the URL outright.
        Engine::Local => assert_eq!(status, 410),
        // S3 cannot revoke a presigned URL: the PUT lands where nothing reads.
        Engine::Garage => assert!(matches!(status, 200 | 403), "{status}"),
    };

    // After completion, after sending: the bytes others download are the ones checked.
    closed(put(&url, "image/png", executable(4000)).await);
    assert!(download(&bob, id).await.unwrap() == data, "the checked bytes were replaced");
    alice.send_attachment(team, &attachment, None).await.unwrap();
    closed(put(&url, "image/png", executable(4000)).await);
    assert!(download(&bob, id).await.unwrap() == data, "the sent bytes were replaced");
    // Completing again checks nothing new and changes nothing.
    alice.complete_upload(id).await.unwrap();
    assert!(download(&bob, id).await.unwrap() == data);

    // After a delete, nothing comes back at an old download URL.
    let old_download = alice.download_url(id).await.unwrap().url;
    alice.delete_attachment(id).await.unwrap();
    closed(put(&url, "image/png", executable(4000)).await);
    assert_eq!(http_get(&old_download).await, 404);
    expect_code(alice.download_url(id).await, Code::FailedPrecondition);
}

async fn active_types_download_instead_of_running(engine: Engine) {
    let files = Files::start(engine).await;
    let (alice, team) = files.server.team_of("alice", &[]).await;
    let svg = br#"<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>"#;
    let attachment = alice.upload_bytes(team, "x.svg", "image/svg+xml", svg, |_| {}).await.unwrap();
    let url = alice.download_url(attachment.id).await.unwrap().url;
    let response = reqwest::get(&url).await.unwrap();
    assert_eq!(response.status(), 200);
    let header = |name: &str| {
        response.headers().get(name).map(|v| v.to_str().unwrap().to_string()).unwrap_or_default()
    };
    assert!(header("content-disposition").starts_with("attachment"), "{:?}", response.headers());
    if let Engine::Local = engine {
        assert_eq!(header("x-content-type-options"), "nosniff");
        assert!(header("content-security-policy").contains("sandbox"));
    }
}

async fn non_members_cannot_upload_download_or_attach(engine: Engine) {
    let files = Files::start(engine).await;
    let (alice, team) = files.server.team_of("alice", &[]).await;
    let attachment =
        alice.upload_bytes(team, "a.png", "image/png", &png(1000), |_| {}).await.unwrap();
    let mallory = files.server.client("mallory", "acme").await;
    let upload = mallory.create_upload(upload_of(team, "m.png", "image/png", 10)).await;
    expect_code(upload, Code::PermissionDenied);
    expect_code(mallory.download_url(attachment.id).await, Code::PermissionDenied);
    expect_code(mallory.get_attachment(attachment.id).await, Code::PermissionDenied);
    // Her own conversation cannot carry alice's attachment either.
    let own = mallory.open_self().await.unwrap();
    let sent = mallory.send_attachment(own.id, &attachment, None).await;
    assert!(matches!(outcome(sent), Code::InvalidArgument | Code::PermissionDenied));
    expect_code(mallory.send_attachment(team, &attachment, None).await, Code::PermissionDenied);
    // A member who did not upload it cannot send it as theirs.
    alice.add_members(team, &["bob"]).await.unwrap();
    let bob = files.server.client("bob", "acme").await;
    expect_code(bob.send_attachment(team, &attachment, None).await, Code::PermissionDenied);
    // And a token without chat.files cannot use Files at all.
    let no_files = files
        .server
        .token_for(&TokenSpec::new("alice", "acme").scopes(&["chat.read", "chat.write"]));
    let limited = files.server.client_with_token(no_files).await;
    expect_code(limited.download_url(attachment.id).await, Code::PermissionDenied);
}

async fn another_orgs_attachment_does_not_exist(engine: Engine) {
    let files = Files::start(engine).await;
    let (alice, team) = files.server.team_of("alice", &[]).await;
    let attachment =
        alice.upload_bytes(team, "a.png", "image/png", &png(1000), |_| {}).await.unwrap();
    let eve = files.server.client("alice", "other-org").await;
    let eves = eve.open_self().await.unwrap();
    expect_code(eve.send_attachment(eves.id, &attachment, None).await, Code::NotFound);
    expect_code(eve.download_url(attachment.id).await, Code::NotFound);
    expect_code(eve.delete_attachment(attachment.id).await, Code::NotFound);
}

async fn an_attachment_stays_in_its_conversation(engine: Engine) {
    let files = Files::start(engine).await;
    let (alice, team) = files.server.team_of("alice", &["bob"]).await;
    let other = alice.open_self().await.unwrap();
    let attachment =
        alice.upload_bytes(team, "a.png", "image/png", &png(1000), |_| {}).await.unwrap();
    let error = expect_code(
        alice.send_attachment(other.id, &attachment, None).await,
        Code::InvalidArgument,
    );
    assert!(error.contains("another conversation"), "{error}");
    // Wrong message type for the content.
    let as_audio = alice
        .send(proto::SendMessageRequest {
            channel_id: team,
            r#type: proto::MessageType::Audio as i32,
            data: attachment.id.to_string(),
            ..Default::default()
        })
        .await;
    expect_code(as_audio, Code::InvalidArgument);
    // Sent once; a second message cannot carry it, a retry of the first gets the first.
    let send = |key: &str| proto::SendMessageRequest {
        channel_id: team,
        r#type: proto::MessageType::Image as i32,
        data: attachment.id.to_string(),
        client_msg_id: key.into(),
        ..Default::default()
    };
    let first = alice.send(send("k1")).await.unwrap();
    let retry = alice.send(send("k1")).await.unwrap();
    assert!(retry.duplicate);
    assert_eq!(retry.message, first.message);
    expect_code(alice.send(send("k2")).await, Code::FailedPrecondition);
}

async fn expired_download_urls_are_refused(engine: Engine) {
    // Three seconds, not one: S3 counts from the signing time truncated to the second, so a
    // one-second URL signed late in a second may be refused before the first GET arrives.
    let files = Files::start_with(engine, |c| c.download_ttl_secs = 3).await;
    let (alice, team) = files.server.team_of("alice", &[]).await;
    let attachment =
        alice.upload_bytes(team, "a.png", "image/png", &png(1000), |_| {}).await.unwrap();
    let url = alice.download_url(attachment.id).await.unwrap();
    assert_eq!(http_get(&url.url).await, 200);
    // Wait out the expiry the answer names (no engine's expiry falls later than it).
    let left_ms = url.expires_at_ms - switchboard_proto::ids::now_ms();
    tokio::time::sleep(Duration::from_millis(left_ms.max(0) as u64 + 100)).await;
    // Refused as a client error (403 from the local engine and S3, 400 from Garage).
    let expired = http_get(&url.url).await;
    assert!(matches!(expired, 400 | 403), "an expired URL answered {expired}");
    // A tampered URL is refused as well.
    let fresh = alice.download_url(attachment.id).await.unwrap().url;
    let tampered = fresh.replacen("attachments/", "attachments/1", 1);
    assert_ne!(http_get(&tampered).await, 200);
}

async fn deleting_removes_the_bytes_with_the_message(engine: Engine) {
    let files = Files::start(engine).await;
    let (alice, team) = files.server.team_of("alice", &["bob"]).await;
    let data = png(1000);
    let first = alice.upload_bytes(team, "a.png", "image/png", &data, |_| {}).await.unwrap();
    let message = alice.send_attachment(team, &first, None).await.unwrap();
    let url = alice.download_url(first.id).await.unwrap().url;
    // bob, a plain member, may not delete alice's attachment.
    let bob = files.server.client("bob", "acme").await;
    expect_code(bob.delete_attachment(first.id).await, Code::PermissionDenied);
    let deleted = alice.delete_message(team, message.id).await.unwrap();
    assert!(deleted.deleted && deleted.attachment.is_none());
    assert_ne!(http_get(&url).await, 200, "the bytes went with the message");
    let record = alice.get_attachment(first.id).await.unwrap();
    assert_eq!(record.state, proto::AttachmentState::Deleted as i32, "the record stays, for audit");
    expect_code(alice.download_url(first.id).await, Code::FailedPrecondition);

    // An unsent attachment deleted by its uploader.
    let second = alice.upload_bytes(team, "b.png", "image/png", &data, |_| {}).await.unwrap();
    let gone = alice.delete_attachment(second.id).await.unwrap();
    assert_eq!(gone.state, proto::AttachmentState::Deleted as i32);
    expect_code(alice.send_attachment(team, &second, None).await, Code::FailedPrecondition);
}

async fn unfinished_uploads_expire_and_are_cleaned_up(engine: Engine) {
    let files = Files::start_with(engine, |c| c.upload_ttl_secs = 1).await;
    let (alice, team) = files.server.team_of("alice", &[]).await;
    let upload = alice.create_upload(upload_of(team, "a.png", "image/png", 1000)).await.unwrap();
    let id = upload.attachment.unwrap().id;
    eventually("the upload expiring", Duration::from_secs(20), || async {
        let state = alice.get_attachment(id).await.unwrap().state;
        (state == proto::AttachmentState::Expired as i32).then_some(())
    })
    .await;
    expect_code(alice.complete_upload(id).await, Code::FailedPrecondition);
    assert_ne!(put(&upload.parts[0].url, "image/png", png(1000)).await, 200);
}

#[tokio::test]
async fn sbctl_uploads_and_downloads_against_switchboard_dev() {
    let dir = tempfile::tempdir().unwrap();
    let dev = DevProcess::start(dir.path());
    let secret = dev.secret_file.to_str().unwrap();
    let mint = ["token", "mint", "--user", "alice", "--org", "acme", "--secret-file", secret];
    let token = sbctl(&dev.url, "", &mint).await.unwrap().trim().to_string();
    let team: serde_json::Value = serde_json::from_str(
        &sbctl(&dev.url, &token, &["--json", "team", "create", "Files"]).await.unwrap(),
    )
    .unwrap();
    let team = team["id"].as_str().unwrap().to_string();

    let original = dir.path().join("report.pdf");
    let mut pdf = b"%PDF-1.7\n".to_vec();
    pdf.extend(png(3 * MIB).into_iter().skip(8));
    std::fs::write(&original, &pdf).unwrap();
    let upload =
        ["--json", "upload", original.to_str().unwrap(), "--channel", &team, "--text", "Q3"];
    let uploaded: serde_json::Value =
        serde_json::from_str(&sbctl(&dev.url, &token, &upload).await.unwrap()).unwrap();
    assert_eq!(uploaded["attachment"]["content_type"], "application/pdf", "guessed from the name");
    assert_eq!(uploaded["message"]["type"], "file");
    assert_eq!(uploaded["message"]["custom_fields"]["caption"], "Q3");
    let id = uploaded["attachment"]["id"].as_str().unwrap();

    let copy = dir.path().join("copy.pdf");
    let copy_path = copy.to_str().unwrap();
    let said = sbctl(&dev.url, &token, &["download", id, "-o", copy_path]).await.unwrap();
    assert!(said.contains("downloaded report.pdf"), "{said}");
    assert!(std::fs::read(&copy).unwrap() == pdf, "the download differs from the upload");
    let again = sbctl(&dev.url, &token, &["download", id, "-o", copy_path]).await.unwrap_err();
    assert!(again.contains("--force"), "an existing file is not overwritten: {again}");
    let missing = sbctl(&dev.url, &token, &["upload", "/nonexistent", "--channel", &team]).await;
    assert!(missing.unwrap_err().contains("/nonexistent"));
}

/// An avatar upload of `len` bytes that is not made anyone's avatar; its id.
async fn avatar_upload(client: &Client, content_type: &str, data: &[u8]) -> u64 {
    let request = proto::CreateUploadRequest {
        purpose: proto::UploadPurpose::Avatar as i32,
        ..upload_of(0, "me.png", content_type, data.len() as u64)
    };
    let upload = client.create_upload(request).await.unwrap();
    assert_eq!(put(&upload.parts[0].url, content_type, data.to_vec()).await, 200);
    let id = upload.attachment.unwrap().id;
    client.complete_upload(id).await.unwrap();
    id
}

async fn an_avatar_is_seen_across_the_org_and_replaced_pictures_are_deleted(engine: Engine) {
    let files = Files::start(engine).await;
    let alice = files.server.client("alice", "acme").await;
    let bob = files.server.client("bob", "acme").await;
    let first = png(2000);
    let profile = alice.set_avatar("me.png", "image/png", &first).await.unwrap();
    let avatar = profile.avatar_id;
    assert_ne!(avatar, 0);
    // bob shares no conversation with alice, and sees her picture all the same.
    assert_eq!(bob.get_profile("alice").await.unwrap().avatar_id, avatar);
    let record = bob.get_attachment(avatar).await.unwrap();
    assert_eq!(record.purpose, proto::UploadPurpose::Avatar as i32);
    assert_eq!((record.channel_id, record.width, record.height), (0, 3, 2));
    assert!(download(&bob, avatar).await.unwrap() == first);
    // A direct conversation shows the other party's picture.
    let dm = bob.open_direct("alice").await.unwrap();
    assert_eq!(dm.peer.as_ref().map(|p| p.avatar_id), Some(avatar));
    // Another org has no such file, and no such user.
    let eve = files.server.client("eve", "globex").await;
    expect_code(eve.download_url(avatar).await, Code::NotFound);
    expect_code(eve.get_attachment(avatar).await, Code::NotFound);
    assert_eq!(eve.get_profile("alice").await.unwrap().avatar_id, 0);

    // A new picture replaces the old, whose bytes are deleted.
    let old_url = bob.download_url(avatar).await.unwrap().url;
    let second = png(3000);
    let replaced = alice.set_avatar("new.png", "image/png", &second).await.unwrap();
    assert_ne!(replaced.avatar_id, avatar);
    assert!(download(&bob, replaced.avatar_id).await.unwrap() == second);
    assert_ne!(http_get(&old_url).await, 200, "the old picture's bytes are gone");
    let old = alice.get_attachment(avatar).await.unwrap();
    assert_eq!(old.state, proto::AttachmentState::Deleted as i32);
    expect_code(bob.download_url(avatar).await, Code::NotFound);

    // Clearing it deletes it as well.
    let new_url = bob.download_url(replaced.avatar_id).await.unwrap().url;
    assert_eq!(alice.clear_avatar("").await.unwrap().avatar_id, 0);
    assert_eq!(bob.get_profile("alice").await.unwrap().avatar_id, 0);
    assert_ne!(http_get(&new_url).await, 200);
}

async fn avatars_follow_their_own_rules(engine: Engine) {
    let files = Files::start(engine).await;
    let (alice, team) = files.server.team_of("alice", &["bob"]).await;
    let bob = files.server.client("bob", "acme").await;
    let avatar_request = |channel_id, content_type: &str, size| proto::CreateUploadRequest {
        purpose: proto::UploadPurpose::Avatar as i32,
        ..upload_of(channel_id, "me.img", content_type, size)
    };
    // Only pictures a browser shows safely, small, and in no conversation.
    for (channel, content_type, size, field) in [
        (0, "image/svg+xml", 100, "content_type"),
        (0, "text/html", 100, "content_type"),
        (0, "application/pdf", 100, "content_type"),
        (0, "image/png", 5 * MIB as u64 + 1, "size"),
        (team, "image/png", 100, "channel_id"),
    ] {
        let refused = alice.create_upload(avatar_request(channel, content_type, size)).await;
        let error = expect_code(refused, Code::InvalidArgument);
        assert!(error.contains(field), "{content_type} {size}: {error}");
    }
    // The bytes must be what the type says.
    let pdf = b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\n".repeat(10);
    let request = avatar_request(0, "image/png", pdf.len() as u64);
    let upload = alice.create_upload(request).await.unwrap();
    assert_eq!(put(&upload.parts[0].url, "image/png", pdf).await, 200);
    let pending = upload.attachment.unwrap().id;
    expect_code(alice.complete_upload(pending).await, Code::InvalidArgument);

    // Not anyone's until complete; then only its uploader's, and never a message's file.
    let request = avatar_request(0, "image/png", 1000);
    let pending = alice.create_upload(request).await.unwrap().attachment.unwrap().id;
    expect_code(bob.get_attachment(pending).await, Code::NotFound);
    let set = |id| proto::Profile { avatar_id: id, ..Default::default() };
    let early = alice.update_profile("", set(pending), &["avatar"]).await;
    expect_code(early, Code::FailedPrecondition);
    let alices = avatar_upload(&alice, "image/png", &png(1000)).await;
    let error =
        expect_code(bob.update_profile("", set(alices), &["avatar"]).await, Code::InvalidArgument);
    assert!(error.contains("profile.avatar_id"), "{error}");
    let sent = alice.upload_bytes(team, "a.png", "image/png", &png(1000), |_| {}).await.unwrap();
    expect_code(alice.update_profile("", set(sent.id), &["avatar"]).await, Code::InvalidArgument);
    let as_message = alice
        .send(proto::SendMessageRequest {
            channel_id: team,
            r#type: proto::MessageType::Image as i32,
            data: alices.to_string(),
            ..Default::default()
        })
        .await;
    expect_code(as_message, Code::InvalidArgument);

    // Deleting: not someone's current picture; others' only by an org admin, audited.
    alice.update_profile("", set(alices), &["avatar"]).await.unwrap();
    let error = expect_code(alice.delete_attachment(alices).await, Code::FailedPrecondition);
    assert!(error.contains("UpdateProfile"), "{error}");
    let spare = avatar_upload(&alice, "image/webp", &webp()).await;
    expect_code(bob.delete_attachment(spare).await, Code::PermissionDenied);
    let admin = files.server.client_with_token(files.server.admin_token("root", "acme")).await;
    let deleted = admin.delete_attachment(spare).await.unwrap();
    assert_eq!(deleted.state, proto::AttachmentState::Deleted as i32);
    assert_eq!(admin.clear_avatar("alice").await.unwrap().avatar_id, 0);
    expect_code(bob.download_url(alices).await, Code::NotFound);
    let log = admin.list_audit(proto::ListAuditRequest::default()).await.unwrap();
    let actions: Vec<(&str, &str)> =
        log.entries.iter().map(|e| (e.action.as_str(), e.target.as_str())).collect();
    assert!(actions.contains(&("attachment.deleted", spare.to_string().as_str())), "{actions:?}");
    assert!(actions.contains(&("profile.updated", "alice")), "{actions:?}");

    // Uploading an avatar takes user.profile.upload_avatar, and no chat.files.
    let only_people = TokenSpec::new("carol", "acme").scopes(&[
        "user.profile.view",
        "user.profile.edit",
        "user.profile.upload_avatar",
    ]);
    let carol = files.server.client_with_token(files.server.token_for(&only_people)).await;
    let profile = carol.set_avatar("c.png", "image/png", &png(500)).await.unwrap();
    assert!(download(&carol, profile.avatar_id).await.unwrap() == png(500));
    expect_code(
        carol.create_upload(upload_of(team, "x.png", "image/png", 10)).await,
        Code::PermissionDenied,
    );
    let no_avatars = TokenSpec::new("dave", "acme").scopes(&["chat.files", "user.profile.edit"]);
    let dave = files.server.client_with_token(files.server.token_for(&no_avatars)).await;
    let refused = dave.set_avatar("d.png", "image/png", &png(500)).await;
    let error = expect_code(refused, Code::PermissionDenied);
    assert!(error.contains("user.profile.upload_avatar"), "{error}");
}

/// The smallest WebP header `infer` recognises, padded.
fn webp() -> Vec<u8> {
    let mut bytes = b"RIFF\x24\0\0\0WEBPVP8 ".to_vec();
    bytes.resize(64, 0);
    bytes
}

#[tokio::test]
async fn a_conversations_files_and_my_uploads_are_listed_newest_first() {
    let files = Files::start(Engine::Local).await;
    let (alice, team) = files.server.team_of("alice", &["bob", "carol"]).await;
    let bob = files.server.client("bob", "acme").await;
    let carol = files.server.client("carol", "acme").await;
    let pdf = b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\n".repeat(10);
    let photo = alice.upload_bytes(team, "a.png", "image/png", &png(500), |_| {}).await.unwrap();
    alice.send_attachment(team, &photo, None).await.unwrap();
    let doc = alice.upload_bytes(team, "b.pdf", "application/pdf", &pdf, |_| {}).await.unwrap();
    let doc_message = alice.send_attachment(team, &doc, None).await.unwrap();
    let unsent = alice.upload_bytes(team, "c.png", "image/png", &png(300), |_| {}).await.unwrap();
    let private = bob.upload_bytes(team, "d.png", "image/png", &png(400), |_| {}).await.unwrap();
    bob.send(proto::SendMessageRequest {
        channel_id: team,
        to: "alice".into(),
        r#type: proto::MessageType::Image as i32,
        data: private.id.to_string(),
        ..Default::default()
    })
    .await
    .unwrap();

    let ids = |page: proto::ListFilesResponse| -> Vec<u64> {
        page.attachments.iter().map(|a| a.id).collect()
    };
    // What each member may see: never an unsent upload, a private message's only to its parties.
    let all = |client: &Client| {
        let client = client.clone();
        async move { client.list_conversation_files(team, "", 0, 0).await.unwrap() }
    };
    assert_eq!(ids(all(&carol).await), [doc.id, photo.id]);
    assert_eq!(ids(all(&alice).await), [private.id, doc.id, photo.id]);
    let images = carol.list_conversation_files(team, "image", 0, 0).await.unwrap();
    assert_eq!(ids(images), [photo.id]);
    let others = carol.list_conversation_files(team, "file", 0, 0).await.unwrap();
    assert_eq!(ids(others), [doc.id]);
    // Paged.
    let first = alice.list_conversation_files(team, "", 0, 2).await.unwrap();
    assert_eq!(first.next_before_id, doc.id);
    let rest = alice.list_conversation_files(team, "", first.next_before_id, 2).await.unwrap();
    assert_eq!((ids(rest.clone()), rest.next_before_id), (vec![photo.id], 0));

    // A delete takes a file off the list (its message with it).
    alice.delete_message(team, doc_message.id).await.unwrap();
    assert_eq!(ids(all(&carol).await), [photo.id]);

    // Each uploader's own, newest first, in every conversation; deleted ones left out.
    let notes = alice.open_self().await.unwrap();
    let mine = alice.upload_bytes(notes.id, "e.png", "image/png", &png(200), |_| {}).await.unwrap();
    let uploads = alice.list_my_uploads(0, 0).await.unwrap();
    assert_eq!(ids(uploads), [mine.id, unsent.id, photo.id]);
    assert_eq!(ids(bob.list_my_uploads(0, 0).await.unwrap()), [private.id]);

    // Members only, orgs apart, kinds checked.
    let dave = files.server.client("dave", "acme").await;
    expect_code(dave.list_conversation_files(team, "", 0, 0).await, Code::PermissionDenied);
    let eve = files.server.client("eve", "globex").await;
    expect_code(eve.list_conversation_files(team, "", 0, 0).await, Code::NotFound);
    assert!(eve.list_my_uploads(0, 0).await.unwrap().attachments.is_empty());
    let kind = expect_code(
        carol.list_conversation_files(team, "pictures", 0, 0).await,
        Code::InvalidArgument,
    );
    assert!(kind.contains("pictures"), "{kind}");
}

/// Each scenario as a test per engine.
macro_rules! on_both_engines {
    ($($scenario:ident),* $(,)?) => {
        mod local {
            $(#[tokio::test(flavor = "multi_thread")]
            async fn $scenario() {
                super::$scenario(super::Engine::Local).await
            })*
        }
        mod garage {
            $(#[tokio::test(flavor = "multi_thread")]
            async fn $scenario() {
                super::$scenario(super::Engine::Garage).await
            })*
        }
    };
}

on_both_engines!(
    round_trip,
    multipart_above_the_threshold,
    a_wrong_declared_type_is_rejected_and_discarded,
    over_size_and_disallowed_types_are_rejected,
    checked_bytes_cannot_be_replaced_later,
    active_types_download_instead_of_running,
    non_members_cannot_upload_download_or_attach,
    another_orgs_attachment_does_not_exist,
    an_attachment_stays_in_its_conversation,
    expired_download_urls_are_refused,
    deleting_removes_the_bytes_with_the_message,
    unfinished_uploads_expire_and_are_cleaned_up,
    an_avatar_is_seen_across_the_org_and_replaced_pictures_are_deleted,
    avatars_follow_their_own_rules,
);
