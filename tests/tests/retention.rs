//! Retention: an org admin sets how long the org keeps messages, for the org and per
//! conversation. Each message sent carries its expiry; once the controller's clock (a test
//! clock here, moved a day on) passes it, the sweep removes the message with everything
//! kept of it. A shorter policy reaches the messages sent before it, through a job. Every expiring message below holds the word "zebra", so "gone" is checked
//! by looking for it in each answer; what must stay holds "giraffe".

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use switchboard_sdk::RealtimeEvent;
use switchboard_sdk::token::{ALL_SCOPES, TokenSpec, USER_SCOPES};
use switchboard_server::ids::{Clock as _, SystemClock};
use switchboard_server::search::SearchIndex;
use switchboard_tests::indexer::{TestIndexer, index_query};
use switchboard_tests::{
    Code, NatsServer, TestClock, TestController, TestRelay, create_team, eventually, expect_code,
    live, proto, sbctl,
};

const GONE: &str = "zebra";
const DAY_MS: i64 = 24 * 60 * 60 * 1000;

fn clean<T: std::fmt::Debug>(path: &str, answer: T) {
    let shown = format!("{answer:?}");
    assert!(!shown.contains(GONE), "{path} still shows expired content: {shown}");
}

/// A token that outlasts the days the tests move the controller's clock on.
fn lasting_token(server: &TestController, user: &str, scopes: &[&str]) -> String {
    let spec = TokenSpec::new(user, "acme").scopes(scopes).ttl(Duration::from_secs(6 * 86_400));
    server.token_for(&spec)
}

fn history(channel_id: u64) -> proto::ListHistoryRequest {
    proto::ListHistoryRequest { channel_id, limit: 100, ..Default::default() }
}

#[tokio::test]
async fn expired_messages_leave_every_read_path_and_kept_ones_stay() {
    let clock = TestClock::default();
    let server = TestController::builder().clock(clock.clone()).start().await;
    let client = |user: &str, scopes: &[&str]| {
        server.client_with_token(lasting_token(&server, user, scopes))
    };
    let (alice, bob) = (client("alice", &USER_SCOPES).await, client("bob", &USER_SCOPES).await);
    let admin = client("root", &ALL_SCOPES).await;
    let team = create_team(&alice, &["bob"]).await;
    let forever = create_team(&alice, &["bob"]).await;

    // Kept forever until a policy says otherwise.
    let before = alice.send_text(team, "zebra, sent before the policy").await.unwrap();
    assert_eq!(before.expires_at_ms, 0);
    let policy = admin.set_retention(0, 1).await.unwrap();
    assert_eq!((policy.keep_days, policy.conversations.len()), (1, 0));
    let applying = policy.applying_job_id;
    let policy = admin.set_retention(forever, 0).await.unwrap();
    let own = proto::ConversationRetention { conversation_id: forever, keep_days: 0 };
    assert_eq!((policy.keep_days, policy.conversations), (1, vec![own]));

    let plan = alice.send_text(team, "@bob the zebra plan, draft").await.unwrap();
    assert_eq!(plan.expires_at_ms, plan.ts_ms + DAY_MS, "a day after it was sent");
    alice.edit_message(team, plan.id, "@bob the zebra plan, final").await.unwrap();
    bob.react(team, plan.id, "👍", true).await.unwrap();
    alice.pin_message(team, plan.id, true).await.unwrap();
    bob.reply(team, plan.id, "zebra reply", false).await.unwrap();
    let file = alice.upload_bytes(team, "zebra.txt", "text/plain", b"zebra", |_| {}).await;
    let file = file.unwrap();
    alice.send_attachment(team, &file, Some("zebra caption")).await.unwrap();
    let kept = alice.send_text(forever, "giraffe, kept forever").await.unwrap();
    assert_eq!(kept.expires_at_ms, 0, "the conversation's own policy wins");
    let bytes = server.data_dir.path().join(format!("data/blobs/objects/attachments/{}", file.id));
    assert!(bytes.exists(), "the attachment's bytes are stored at {}", bytes.display());
    let notified = bob.list_notifications(Default::default()).await.unwrap();
    assert!(format!("{notified:?}").contains(GONE), "bob was notified: the check can fail");
    let search = || alice.search(proto::SearchRequest { query: GONE.into(), ..Default::default() });
    eventually("the plan in the search index", Duration::from_secs(10), || async {
        (!search().await.unwrap().hits.is_empty()).then_some(())
    })
    .await;

    // A day and a minute later, by the controller's clock; the message sent before the
    // policy is past it by then, and goes a minute after the job reaches it.
    clock.set(plan.ts_ms + DAY_MS + 60_000);
    finished(&admin, applying).await;
    clock.advance(2 * 60_000);
    eventually("the sweep to remove the plan", Duration::from_secs(30), || async {
        let shown = format!("{:?}", alice.history(history(team)).await.unwrap());
        (!shown.contains(GONE)).then_some(())
    })
    .await;
    for (who, client) in [("alice", &alice), ("bob", &bob)] {
        let changes = proto::ListChangesRequest { channel_id: team, ..Default::default() };
        clean(&format!("{who}'s changes"), client.changes(changes).await.unwrap());
    }
    expect_code(alice.list_message_versions(team, plan.id, 0, 10).await, Code::NotFound);
    let replies =
        proto::ListRepliesRequest { channel_id: team, root_id: plan.id, ..Default::default() };
    clean("the thread's replies", alice.replies(replies).await);
    clean("the thread", alice.thread(team, plan.id).await);
    clean("threads", bob.threads(0, 100).await.unwrap());
    clean("pins", alice.list_pins(team).await.unwrap());
    clean("bob's notifications", bob.list_notifications(Default::default()).await.unwrap());
    clean("files", alice.list_conversation_files(team, "", 0, 100).await.unwrap());
    expect_code(alice.download_url(file.id).await, Code::NotFound);
    assert!(!bytes.exists(), "the attachment's bytes are gone from the blob store");
    eventually("the search index to drop the plan", Duration::from_secs(10), || async {
        search().await.unwrap().hits.is_empty().then_some(())
    })
    .await;

    // What the policies keep stays.
    let shown = format!("{:?}", alice.history(history(forever)).await.unwrap());
    assert!(shown.contains("giraffe, kept forever"), "{shown}");

    // The conversation follows the org again; the changes are audited.
    let policy = admin.follow_org_retention(forever).await.unwrap();
    assert!(policy.conversations.is_empty(), "{policy:?}");
    let followed = alice.send_text(forever, "zebra, under the org's policy").await.unwrap();
    assert_eq!(followed.expires_at_ms, followed.ts_ms + DAY_MS);
    let audit = proto::ListAuditRequest { limit: 100, ..Default::default() };
    let audit = admin.list_audit(audit).await.unwrap().entries;
    let changed: Vec<_> = audit.iter().filter(|e| e.action == "retention.changed").collect();
    let details: Vec<_> = changed.iter().map(|e| (e.target.as_str(), e.detail.as_str())).collect();
    let forever = forever.to_string();
    assert_eq!(
        details,
        [
            (forever.as_str(), "follow the org's policy"),
            (forever.as_str(), "keep forever"),
            ("acme", "keep 1 days"),
        ]
    );
}

#[tokio::test]
async fn retention_refuses_what_it_cannot_keep_and_callers_who_may_not_set_it() {
    let server = TestController::start().await;
    let (alice, team) = server.team_of("alice", &["bob"]).await;
    let admin = server.client_with_token(server.admin_token("root", "acme")).await;
    let elsewhere = server.client_with_token(server.admin_token("root", "other")).await;

    let refused = expect_code(admin.set_retention(0, 7301).await, Code::InvalidArgument);
    assert!(refused.contains("7300"), "{refused}");
    expect_code(admin.follow_org_retention(0).await, Code::InvalidArgument);
    expect_code(elsewhere.set_retention(team, 5).await, Code::NotFound);
    expect_code(alice.set_retention(team, 5).await, Code::PermissionDenied);
    expect_code(alice.get_retention().await, Code::PermissionDenied);
    assert_eq!(elsewhere.get_retention().await.unwrap(), Default::default(), "forever");

    // sbctl sets and shows it.
    let token = server.admin_token("root", "acme");
    let shown = sbctl(&server.url(), &token, &["admin", "retention", "set", "30"]).await.unwrap();
    assert!(shown.contains("30 days"), "{shown}");
    assert!(shown.contains("messages sent before: job "), "the job applying it: {shown}");
    let sent = alice.send_text(team, "kept a month").await.unwrap();
    let args = ["history", &team.to_string(), "--json"];
    let shown = sbctl(&server.url(), &server.token("alice", "acme"), &args).await.unwrap();
    assert!(shown.contains(&format!("\"expires_at_ms\": {}", sent.expires_at_ms)), "{shown}");
    let team_arg = team.to_string();
    let args = ["admin", "retention", "set", "forever", "--conversation", team_arg.as_str()];
    sbctl(&server.url(), &token, &args).await.unwrap();
    let shown = sbctl(&server.url(), &token, &["admin", "retention"]).await.unwrap();
    assert!(shown.contains("30 days") && shown.contains(&team_arg), "{shown}");
    assert!(shown.contains("forever"), "{shown}");
}

#[tokio::test]
async fn a_shorter_policy_reaches_the_messages_sent_before_it() {
    let clock = TestClock::default();
    let server = TestController::builder().clock(clock.clone()).start().await;
    let token = |user: &str, scopes: &[&str]| lasting_token(&server, user, scopes);
    let alice = server.client_with_token(token("alice", &USER_SCOPES)).await;
    let admin = server.client_with_token(token("root", &ALL_SCOPES)).await;
    let relay = TestRelay::start(&server).await;
    let (team, kept) = (create_team(&alice, &["bob"]).await, create_team(&alice, &["bob"]).await);
    admin.set_retention(kept, 0).await.unwrap();
    let start = SystemClock.now_ms();
    clock.set(start);
    let old = alice.send_text(team, "zebra, three days old").await.unwrap();
    let giraffe = alice.send_text(kept, "giraffe, kept forever").await.unwrap();
    clock.set(start + DAY_MS * 3 / 2);
    let recent = alice.send_text(team, "zebra, a day and a half old").await.unwrap();
    assert_eq!((old.expires_at_ms, recent.expires_at_ms), (0, 0), "kept forever when sent");
    clock.set(start + 3 * DAY_MS);

    // Two days for the org: the oldest is past it, the other goes a day and a half later.
    let changes = |after_seq| proto::ListChangesRequest { channel_id: team, after_seq, limit: 100 };
    let seen = alice.changes(changes(0)).await.unwrap().next_after;
    let mut follower = relay.realtime(token("alice", &USER_SCOPES));
    live::live(&mut follower).await;
    let policy = admin.set_retention(0, 2).await.unwrap();
    assert_ne!(policy.applying_job_id, 0, "a job applies it to what was sent before");
    clock.advance(60_000);
    let job = finished(&admin, policy.applying_job_id).await;
    assert_eq!(job.kind(), proto::JobKind::OrgRetention);
    let counts: BTreeMap<_, _> = job.counts.iter().map(|(what, n)| (what.as_str(), *n)).collect();
    let expected =
        [("conversations", 1), ("messages expiring sooner", 1), ("messages past the policy", 1)];
    assert_eq!(counts, expected.into(), "the conversation with its own policy is left alone");
    let soon = clock.now_ms() + 60_000;
    let edited: Vec<(u64, i64)> = alice
        .changes(changes(seen))
        .await
        .unwrap()
        .events
        .into_iter()
        .filter_map(|event| match event.kind {
            Some(proto::event::Kind::MessageEdited(e)) => {
                e.message.map(|m| (m.id, m.expires_at_ms))
            }
            _ => None,
        })
        .collect();
    assert_eq!(
        edited,
        [(old.id, soon), (recent.id, recent.ts_ms + 2 * DAY_MS)],
        "clients learn each new expiry as an edit; the one past the policy goes in a minute"
    );
    let (live_expiry, _) =
        live::until(&mut follower, "the new expiry, live", |event| match live::kind(event) {
            Some(proto::event::Kind::MessageEdited(e)) => {
                e.message.as_ref().filter(|m| m.id == old.id).map(|m| m.expires_at_ms)
            }
            _ => None,
        })
        .await;
    assert_eq!(live_expiry, soon, "delivered live too");
    clock.advance(2 * 60_000);
    eventually(
        "the sweep to remove the message past the policy",
        Duration::from_secs(30),
        || async {
            let shown = alice.history(history(team)).await.unwrap().messages;
            (shown.len() == 1).then_some(shown)
        },
    )
    .await;
    let shown = alice.history(history(team)).await.unwrap().messages;
    let texts: Vec<_> = shown.iter().map(|m| m.data.as_str()).collect();
    assert_eq!(texts, ["zebra, a day and a half old"]);
    let shown = alice.history(history(kept)).await.unwrap().messages;
    assert_eq!(shown.iter().map(|m| m.id).collect::<Vec<_>>(), [giraffe.id]);

    // A longer policy needs no job and moves nothing later; the sweep keeps the earlier time.
    let policy = admin.set_retention(0, 30).await.unwrap();
    assert_eq!(policy.applying_job_id, 0);
    clock.set(recent.ts_ms + 2 * DAY_MS + 60_000);
    eventually("the sweep to remove the rescheduled message", Duration::from_secs(30), || async {
        alice.history(history(team)).await.unwrap().messages.is_empty().then_some(())
    })
    .await;

    // A conversation's own shorter policy: a job for that conversation.
    let fresh = alice.send_text(kept, "zebra, under thirty days").await.unwrap();
    assert_eq!(fresh.expires_at_ms, 0, "the conversation keeps forever");
    let policy = admin.set_retention(kept, 1).await.unwrap();
    clock.advance(60_000);
    let job = finished(&admin, policy.applying_job_id).await;
    assert_eq!(
        (job.kind(), job.subject.clone()),
        (proto::JobKind::ConversationRetention, kept.to_string())
    );
    assert_eq!(job.counts.get("messages past the policy"), Some(&1), "giraffe is older than a day");
    assert_eq!(job.counts.get("messages expiring sooner"), Some(&1));
    let shown = alice.history(history(kept)).await.unwrap().messages;
    let expiries: Vec<_> = shown.iter().map(|m| (m.id, m.expires_at_ms)).collect();
    assert_eq!(expiries, [(fresh.id, fresh.ts_ms + DAY_MS), (giraffe.id, clock.now_ms() + 60_000)]);
}

/// Job `id`, once it is done.
async fn finished(admin: &switchboard_sdk::Client, id: u64) -> proto::Job {
    eventually("the job to finish", Duration::from_secs(30), || async {
        let job = admin.get_job(id).await.unwrap();
        assert_ne!(job.state(), proto::JobState::Failed, "{job:?}");
        (job.state() == proto::JobState::Done).then_some(job)
    })
    .await
}

#[tokio::test]
async fn an_org_policy_reaches_every_conversation_a_page_at_a_time() {
    let clock = TestClock::default();
    let server = TestController::builder().clock(clock.clone()).start().await;
    let alice = server.client("alice", "acme").await;
    let admin = server.client_with_token(server.admin_token("root", "acme")).await;
    // More conversations than the job lists at once (200).
    let mut teams = Vec::new();
    for _ in 0..205 {
        teams.push(create_team(&alice, &[]).await);
    }
    let (first, last) = (teams[0], teams[204]);
    let sent = [
        alice.send_text(first, "in the first").await.unwrap(),
        alice.send_text(last, "in the last").await.unwrap(),
    ];
    let policy = admin.set_retention(0, 30).await.unwrap();
    clock.set(SystemClock.now_ms() + 11_000); // past the wait for other controllers
    let job = finished(&admin, policy.applying_job_id).await;
    assert_eq!(job.counts.get("conversations"), Some(&205), "{job:?}");
    assert_eq!(job.counts.get("messages expiring sooner"), Some(&2), "{job:?}");
    for (team, message) in [(first, &sent[0]), (last, &sent[1])] {
        let shown = alice.history(history(team)).await.unwrap().messages;
        assert_eq!(shown[0].expires_at_ms, message.ts_ms + 30 * DAY_MS);
    }
}

/// The message ids of the expiries among `events`.
fn expired(events: &[RealtimeEvent]) -> Vec<u64> {
    let expiry = |event| match live::kind(event) {
        Some(proto::event::Kind::MessageExpired(e)) => e.message.as_ref().map(|m| m.id),
        _ => None,
    };
    events.iter().filter_map(expiry).collect()
}

/// In a cluster the search index lives in `switchboard indexer`, fed by the bus: an
/// expiry reaches it there, and the members' streams, as a `MessageExpired` event.
#[tokio::test]
async fn an_expiry_reaches_the_streams_and_the_clusters_search_index() {
    let clock = TestClock::default();
    let nats = NatsServer::start();
    let dir = Arc::new(tempfile::tempdir().unwrap());
    let store = TestController::shared_store(&dir).await;
    let indexer = TestIndexer::start(&nats.url(), store.clone(), dir.clone()).await;
    let server = TestController::builder()
        .clock(clock.clone())
        .nats(nats.url())
        .store(store.clone())
        .indexer(indexer.url())
        .start()
        .await;
    let token = |user: &str, scopes: &[&str]| lasting_token(&server, user, scopes);
    let alice = server.client_with_token(token("alice", &USER_SCOPES)).await;
    let admin = server.client_with_token(token("root", &ALL_SCOPES)).await;
    let relay = TestRelay::start(&server).await;
    let team = create_team(&alice, &["bob", "carol"]).await;
    admin.set_retention(team, 1).await.unwrap();
    let (mut bob, mut carol) =
        (relay.realtime(token("bob", &USER_SCOPES)), relay.realtime(token("carol", &USER_SCOPES)));
    live::live(&mut bob).await;
    live::live(&mut carol).await;
    let plan = alice.send_text(team, "zebra plan").await.unwrap();
    let secret = alice.send_private(team, "bob", "zebra secret").await.unwrap();
    let search = proto::SearchRequest { query: GONE.into(), ..Default::default() };
    eventually("both in the indexer's index", Duration::from_secs(10), || async {
        (alice.search(search.clone()).await.unwrap().hits.len() == 2).then_some(())
    })
    .await;

    clock.set(secret.expires_at_ms + 1);
    let (gone, _) = live::until(&mut bob, "bob's two expiries", |event| {
        let ids = expired(std::slice::from_ref(event));
        (ids.first() == Some(&secret.id)).then_some(event.clone())
    })
    .await;
    let RealtimeEvent::Event(proto::Event {
        kind: Some(proto::event::Kind::MessageExpired(proto::MessageExpired { message: Some(m) })),
        ..
    }) = gone
    else {
        unreachable!()
    };
    assert_eq!(
        (m.channel_id, m.from.as_str(), m.to.as_str(), m.data.as_str(), m.expires_at_ms),
        (team, "alice", "bob", "", secret.expires_at_ms),
        "names the message, without its content"
    );
    alice.send_text(team, "giraffe, after the sweep").await.unwrap();
    let (_, before) = live::message(&mut carol, "giraffe, after the sweep").await;
    assert_eq!(expired(&before), [plan.id], "a private message's expiry reaches its parties only");

    // The marker was indexed after the expiries (the stream keeps their order), so the
    // index on disk no longer holds what expired.
    eventually("the marker in the index", Duration::from_secs(10), || async {
        let query = proto::SearchRequest { query: "giraffe".into(), ..Default::default() };
        (!alice.search(query).await.unwrap().hits.is_empty()).then_some(())
    })
    .await;
    let dir = indexer.stop().await;
    let index = SearchIndex::open(&dir.path().join("indexer/search")).unwrap();
    let query = |text: &str| index_query(text, "bob", vec![team]);
    assert_eq!(index.search(&query("giraffe")).unwrap().0.len(), 1, "the check can fail");
    assert!(index.search(&query(GONE)).unwrap().0.is_empty(), "the index dropped both");
}

/// A controller on a test clock, and alice, bob and an org admin holding tokens that
/// outlast the days the tests move it on, with a team of alice's that bob is in.
struct Clocked {
    clock: TestClock,
    /// Where the clock is pinned when the test starts.
    start: i64,
    server: TestController,
    alice: switchboard_sdk::Client,
    bob: switchboard_sdk::Client,
    admin: switchboard_sdk::Client,
    team: u64,
}

async fn clocked() -> Clocked {
    let clock = TestClock::default();
    let start = SystemClock.now_ms();
    clock.set(start);
    let server = TestController::builder().clock(clock.clone()).start().await;
    let token = |user: &str, scopes: &[&str]| lasting_token(&server, user, scopes);
    let alice = server.client_with_token(token("alice", &USER_SCOPES)).await;
    let bob = server.client_with_token(token("bob", &USER_SCOPES)).await;
    let admin = server.client_with_token(token("root", &ALL_SCOPES)).await;
    let team = create_team(&alice, &["bob"]).await;
    Clocked { clock, start, server, alice, bob, admin, team }
}

/// A reader who was away longer than the policy keeps messages is not told of messages
/// that are gone: unread counts leave out what expired before it was read.
#[tokio::test]
async fn unread_counts_leave_out_what_expired_unread() {
    let Clocked { clock, start, server: _server, alice, bob, admin, team } = clocked().await;
    admin.set_retention(team, 1).await.unwrap();
    let unread = || async {
        let all = bob.all_conversations().await.unwrap();
        let team = all.iter().find(|c| c.id == team).expect("bob's team");
        (team.unread_count, team.mention_count)
    };
    alice.send_text(team, "zebra one").await.unwrap();
    alice.send_text(team, "@bob zebra two").await.unwrap();
    alice.send_private(team, "bob", "zebra, for bob").await.unwrap();
    assert_eq!(unread().await, (3, 1), "the check can fail");
    clock.set(start + DAY_MS / 2);
    let kept = alice.send_text(team, "giraffe, half a day later").await.unwrap();
    assert_eq!(unread().await, (4, 1));

    clock.set(start + DAY_MS + 60_000);
    eventually("the sweep to remove the first three", Duration::from_secs(30), || async {
        let shown = alice.history(history(team)).await.unwrap().messages;
        (shown.len() == 1).then_some(())
    })
    .await;
    assert_eq!(unread().await, (1, 0), "only giraffe is left to read");
    admin.set_retention(team, 30).await.unwrap();
    assert_eq!(unread().await, (1, 0), "a longer policy brings nothing back to read");
    admin.set_retention(team, 0).await.unwrap();
    assert_eq!(unread().await, (1, 0), "nor does keeping everything from now on");
    let later = alice.send_text(team, "giraffe again").await.unwrap();
    assert_eq!(unread().await, (2, 0));
    bob.mark_read(team, kept.id).await.unwrap();
    assert_eq!(unread().await, (1, 0), "a marker after the policy's start counts as before");
    bob.mark_read(team, later.id).await.unwrap();
    assert_eq!(unread().await, (0, 0));
}

/// A thread goes with its root: replies sent under a longer policy than the root's expire
/// when it does, rather than stay as replies to a message that is gone.
#[tokio::test]
async fn a_thread_goes_with_its_root() {
    let Clocked { clock, start, server: _server, alice, bob, admin, team } = clocked().await;
    admin.set_retention(team, 1).await.unwrap();
    let root = alice.send_text(team, "zebra root").await.unwrap();
    admin.set_retention(team, 30).await.unwrap();
    clock.set(start + DAY_MS / 2);
    let reply = bob.reply(team, root.id, "zebra reply", false).await.unwrap();
    assert_eq!(reply.expires_at_ms, reply.ts_ms + 30 * DAY_MS, "sent under the longer policy");
    let kept = alice.send_text(team, "giraffe, not in the thread").await.unwrap();

    clock.set(root.expires_at_ms + 1);
    let changes = proto::ListChangesRequest { channel_id: team, after_seq: 0, limit: 100 };
    eventually("the sweep to remove the thread", Duration::from_secs(30), || async {
        let shown = format!("{:?}", bob.changes(changes).await.unwrap());
        (!shown.contains(GONE)).then_some(())
    })
    .await;
    expect_code(bob.list_message_versions(team, reply.id, 0, 10).await, Code::NotFound);
    let shown = alice.history(history(team)).await.unwrap().messages;
    assert_eq!(shown.iter().map(|m| m.id).collect::<Vec<_>>(), [kept.id]);
}

/// A report keeps what it reports for the admins after a delete, but not past the
/// message's retention: then the report stays, without the text.
#[tokio::test]
async fn a_report_keeps_the_reported_text_until_the_message_expires() {
    let Clocked { clock, start: _, server: _server, alice, bob, admin, team } = clocked().await;
    admin.set_retention(team, 1).await.unwrap();
    let rude = bob.send_text(team, "zebra, rude").await.unwrap();
    let fine = bob.send_text(team, "giraffe, fine").await.unwrap();
    admin.set_retention(team, 30).await.unwrap();
    let kept = bob.send_text(team, "giraffe, kept longer").await.unwrap();
    for message in [&rude, &fine, &kept] {
        alice.report_message(team, message.id, "rude").await.unwrap();
    }
    bob.delete_message(team, rude.id).await.unwrap();
    let reports = || async {
        let request = proto::ListReportsRequest { conversation_id: team, ..Default::default() };
        let reports = alice.list_reports(request).await.unwrap().reports;
        reports.into_iter().map(|r| (r.message_id, r.text)).collect::<Vec<_>>()
    };
    let before =
        [(kept.id, kept.data.clone()), (fine.id, fine.data.clone()), (rude.id, rude.data.clone())];
    assert_eq!(reports().await, before, "kept after the delete");

    clock.set(rude.expires_at_ms + 1);
    eventually("the sweep to remove the first two", Duration::from_secs(30), || async {
        let shown = alice.history(history(team)).await.unwrap().messages;
        (shown.len() == 1).then_some(())
    })
    .await;
    let after = [(kept.id, kept.data.clone()), (fine.id, String::new()), (rude.id, String::new())];
    assert_eq!(reports().await, after);
}
