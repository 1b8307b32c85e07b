//! Erasure: an org admin erases a suspended user in the background. Afterwards nothing the
//! user wrote or uploaded can be read back through any API (history, changes, earlier
//! texts, threads, pins, search, notifications, reports, files and their bytes, export
//! archives, profile, directory, status, devices, contacts, blocks), the audit log names a
//! pseudonym, and the job keeps the report of what was removed. Every piece of the user's content below holds
//! the word "zebra", so "read back" is checked by looking for it in each answer.

use std::time::Duration;

use switchboard_sdk::Client;
use switchboard_tests::{Code, TestController, eventually, expect_code, proto, sbctl};

/// What every piece of bob's content holds.
const MARK: &str = "zebra";

/// Fails if `answer` (any API's response, as debug text) holds the mark.
fn clean<T: std::fmt::Debug>(path: &str, answer: T) {
    let shown = format!("{answer:?}");
    assert!(!shown.contains(MARK), "{path} still shows erased content: {shown}");
}

/// Waits for the job (an erasure, or an export) to finish, and returns it.
async fn finished(admin: &Client, id: u64) -> proto::Job {
    eventually("the job to finish", Duration::from_secs(30), || async {
        let job = admin.get_job(id).await.unwrap();
        matches!(job.state(), proto::JobState::Done | proto::JobState::Failed).then_some(job)
    })
    .await
}

fn history(channel_id: u64) -> proto::ListHistoryRequest {
    proto::ListHistoryRequest { channel_id, limit: 100, ..Default::default() }
}

#[tokio::test]
async fn an_erased_users_content_cannot_be_read_back_through_any_api() {
    let server = TestController::start().await;
    let (alice, team) = server.team_of("alice", &["bob", "carol"]).await;
    let admin = server.client_with_token(server.admin_token("root", "acme")).await;
    let (bob, carol) = (server.client("bob", "acme").await, server.client("carol", "acme").await);

    // bob's content, everywhere it can be.
    let profile = proto::Profile {
        display_name: "Zebra Bob".into(),
        title: "Chief zebra".into(),
        ..Default::default()
    };
    bob.update_profile("", profile, &["display_name", "title"]).await.unwrap();
    bob.set_status(proto::Availability::Away, "zebra crossing").await.unwrap();
    let device = proto::Device {
        platform: proto::DevicePlatform::Fcm as i32,
        token: "zebra-device-token".into(),
        app_id: "com.example.chat".into(),
        ..Default::default()
    };
    bob.register_device(device).await.unwrap();
    bob.add_contact("carol").await.unwrap();
    bob.block("mallory").await.unwrap();
    let plan = bob.send_text(team, "@carol the zebra plan, draft").await.unwrap();
    bob.edit_message(team, plan.id, "@carol the zebra plan, final").await.unwrap();
    let root = alice.send_text(team, "what do we do?").await.unwrap();
    bob.reply(team, root.id, "zebra reply", false).await.unwrap();
    bob.send_private(team, "carol", "zebra whisper").await.unwrap();
    let dm = bob.open_direct("carol").await.unwrap().id;
    bob.send_text(dm, "zebra in private").await.unwrap();
    let file = bob.upload_bytes(team, "zebra-notes.txt", "text/plain", b"zebra", |_| {}).await;
    let file = file.unwrap();
    bob.send_attachment(team, &file, Some("zebra caption")).await.unwrap();
    let draft = bob.upload_bytes(team, "zebra-draft.txt", "text/plain", b"zebra!", |_| {}).await;
    let draft = draft.unwrap();
    let deleted = bob.send_text(team, "zebra, deleted by bob himself").await.unwrap();
    bob.delete_message(team, deleted.id).await.unwrap();
    alice.pin_message(team, plan.id, true).await.unwrap();
    carol.report_message(team, plan.id, "carol reports this").await.unwrap();
    bob.report_message(team, root.id, "zebra reason").await.unwrap();
    alice.timeout_member(team, "bob", 60, "").await.unwrap();
    let old_download = carol.download_url(file.id).await.unwrap().url;
    assert_eq!(reqwest::get(&old_download).await.unwrap().status(), 200);
    let before = carol.list_notifications(Default::default()).await.unwrap();
    assert!(format!("{before:?}").contains(MARK), "carol was notified: the check can fail");

    // Earlier exports of bob and of the team hold his content.
    let exports = [
        admin.export_user("bob").await.unwrap().id,
        admin.export_conversation(team).await.unwrap().id,
    ];
    let mut archives = Vec::new();
    for id in exports {
        let export = finished(&admin, id).await;
        let archive = reqwest::get(&export.download_url).await.unwrap();
        assert_eq!(archive.status(), 200);
        let bytes = archive.bytes().await.unwrap();
        assert!(bytes.windows(MARK.len()).any(|w| w == MARK.as_bytes()), "the check can fail");
        archives.push(export.download_url);
    }

    let search = || alice.search(proto::SearchRequest { query: MARK.into(), ..Default::default() });
    eventually("bob's messages in the search index", Duration::from_secs(10), || async {
        (!search().await.unwrap().hits.is_empty()).then_some(())
    })
    .await;

    // Erasure needs a suspension first.
    let refused = expect_code(admin.erase_user("bob", "asked").await, Code::FailedPrecondition);
    assert!(refused.contains("suspend bob first"), "{refused}");
    expect_code(alice.erase_user("bob", "").await, Code::PermissionDenied);
    admin.suspend_user("bob", "leaving").await.unwrap();
    let job = admin.erase_user("bob", "asked to be forgotten").await.unwrap();
    assert_eq!((job.subject.as_str(), job.requested_by.as_str()), ("bob", "root"));
    let job = finished(&admin, job.id).await;
    assert_eq!(job.state(), proto::JobState::Done, "{job:?}");
    let counts = |what: &str| job.counts.get(what).copied().unwrap_or(0);
    assert_eq!(counts("messages"), 5, "{job:?}");
    assert_eq!(counts("deleted messages"), 1, "{job:?}");
    assert_eq!(counts("attachments"), 2, "{job:?}");
    assert_eq!(counts("export archives"), 2, "{job:?}");
    assert_eq!((counts("profile"), counts("devices")), (1, 1), "{job:?}");
    assert_eq!((counts("contacts"), counts("blocks"), counts("reports")), (1, 1, 2), "{job:?}");
    assert!(counts("audit entries") >= 2, "{job:?}");

    // Messages, as each reader reads them.
    for (who, client) in [("alice", &alice), ("carol", &carol)] {
        clean(&format!("{who}'s history"), client.history(history(team)).await.unwrap());
        let changes = proto::ListChangesRequest { channel_id: team, ..Default::default() };
        clean(&format!("{who}'s changes"), client.changes(changes).await.unwrap());
    }
    let plan_now = alice.history(history(team)).await.unwrap().messages;
    let plan_now = plan_now.iter().find(|m| m.id == plan.id).unwrap();
    assert!(plan_now.deleted, "a tombstone stays in its place: {plan_now:?}");
    clean("carol's DM", carol.history(history(dm)).await.unwrap());
    clean("earlier texts", alice.list_message_versions(team, plan.id, 0, 100).await.unwrap());
    let replies =
        proto::ListRepliesRequest { channel_id: team, root_id: root.id, ..Default::default() };
    clean("thread replies", alice.replies(replies).await.unwrap());
    clean("the thread", alice.thread(team, root.id).await.unwrap());
    clean("threads", alice.threads(0, 100).await.unwrap());
    clean("pins", alice.list_pins(team).await.unwrap());
    clean("carol's notifications", carol.list_notifications(Default::default()).await.unwrap());
    let reports = proto::ListReportsRequest { conversation_id: team, ..Default::default() };
    let reports = alice.list_reports(reports).await.unwrap();
    clean("reports", &reports);
    assert!(reports.reports.iter().any(|r| r.author.starts_with("erased-")), "{reports:?}");
    eventually("the search index to drop bob's messages", Duration::from_secs(10), || async {
        search().await.unwrap().hits.is_empty().then_some(())
    })
    .await;

    // Files: the records keep no name, the bytes are gone from the blob store.
    clean("files", alice.list_conversation_files(team, "", 0, 100).await.unwrap());
    clean("an attachment", carol.get_attachment(file.id).await.unwrap());
    expect_code(carol.download_url(file.id).await, Code::FailedPrecondition);
    assert_eq!(reqwest::get(&old_download).await.unwrap().status(), 404);

    // Export archives: gone from the blob store, and no longer offered.
    for (id, url) in exports.iter().zip(&archives) {
        assert_eq!(admin.get_job(*id).await.unwrap().download_url, "", "export {id}");
        assert_eq!(reqwest::get(url).await.unwrap().status(), 404, "export {id}");
    }

    // People: profile, directory, status.
    clean("bob's profile", alice.get_profile("bob").await);
    clean("the directory", alice.search_users(MARK, 10, "").await.unwrap());
    clean("bob's presence", alice.presence(&["bob"]).await.unwrap());

    // The audit log names a pseudonym, and records the erasure.
    let audit = proto::ListAuditRequest { limit: 1000, ..Default::default() };
    let audit = admin.list_audit(audit).await.unwrap().entries;
    let naming_bob: Vec<_> =
        audit.iter().filter(|e| e.actor == "bob" || e.target == "bob").collect();
    assert!(naming_bob.is_empty(), "{naming_bob:?}");
    let pseudonym = format!("erased-{}", job.id);
    assert!(audit.iter().any(|e| e.action == "member.timed_out" && e.target == pseudonym));
    let erased = audit.iter().find(|e| e.action == "user.erased").expect("audited");
    assert_eq!((erased.actor.as_str(), erased.target.as_str()), ("root", pseudonym.as_str()));
    assert!(erased.detail.contains("messages 5"), "{erased:?}");

    // What only bob could read: let back in, he finds nothing of his.
    admin.unsuspend_user("bob").await.unwrap();
    assert!(bob.list_devices().await.unwrap().is_empty());
    assert!(bob.list_contacts("", 100).await.unwrap().people.is_empty());
    assert!(bob.list_blocked("", 100).await.unwrap().people.is_empty());
    clean("bob's uploads", bob.list_my_uploads(0, 100).await.unwrap());
    clean("bob's draft", bob.get_attachment(draft.id).await.unwrap());
    expect_code(bob.download_url(draft.id).await, Code::FailedPrecondition);
    clean("bob's own view of his profile", bob.get_profile("").await.unwrap());

    // The job is listed, and sbctl shows it.
    let (jobs, _) = admin.list_jobs(0, 10).await.unwrap();
    assert_eq!(jobs.iter().map(|j| j.id).collect::<Vec<_>>(), [job.id, exports[1], exports[0]]);
    let shown = sbctl(&server.url(), &server.admin_token("root", "acme"), &["admin", "jobs"])
        .await
        .unwrap();
    assert!(shown.contains(&job.id.to_string()) && shown.contains("messages 5"), "{shown}");
}

#[tokio::test]
async fn sbctl_erases_and_follows_the_job_to_its_end() {
    let server = TestController::start().await;
    let (alice, team) = server.team_of("alice", &["bob"]).await;
    let bob = server.client("bob", "acme").await;
    for n in 0..3 {
        bob.send_text(team, &format!("zebra {n}")).await.unwrap();
    }
    let token = server.admin_token("root", "acme");
    sbctl(&server.url(), &token, &["admin", "suspend", "bob"]).await.unwrap();
    let shown = sbctl(&server.url(), &token, &["admin", "erase", "bob", "--wait"]).await.unwrap();
    assert!(shown.contains("done") && shown.contains("messages 3"), "{shown}");
    clean("history", alice.history(history(team)).await.unwrap());
    let again = sbctl(&server.url(), &token, &["admin", "erase", "bob", "--reason", "again"])
        .await
        .unwrap();
    assert!(again.contains("queued") || again.contains("running") || again.contains("done"));
}

/// A suspension reaches calls on the other controllers within 10 s (each keeps its orgs'
/// suspended users that long); the erasure waits that out, so nothing bob still sends
/// through another controller meanwhile outlives it.
#[tokio::test]
async fn nothing_sent_through_another_controller_outlives_the_erasure_shared_store() {
    let dir = tempfile::tempdir().unwrap();
    let store = TestController::shared_store(&dir).await;
    let here = TestController::builder().store(store.clone()).node_id(1).start().await;
    let elsewhere = TestController::builder().store(store).node_id(2).start().await;
    let (alice, team) = here.team_of("alice", &["bob"]).await;
    let admin = here.client_with_token(here.admin_token("root", "acme")).await;
    let bob_elsewhere = elsewhere.client("bob", "acme").await;
    bob_elsewhere.send_text(team, "hello").await.unwrap(); // elsewhere knows acme's suspensions

    admin.suspend_user("bob", "leaving").await.unwrap();
    let job = admin.erase_user("bob", "asked to be forgotten").await.unwrap();
    let job = finished(&admin, job.id).await;
    assert_eq!(job.state(), proto::JobState::Done, "{job:?}");
    // Refused once the suspension has reached the other controller; if not, erased.
    let _ = bob_elsewhere.send_text(team, "zebra, sent late").await;
    clean("history", alice.history(history(team)).await.unwrap());
}
