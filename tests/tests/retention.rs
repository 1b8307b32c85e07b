//! Retention: an org admin sets how long the org keeps messages, for the org and per
//! conversation. Each message sent carries its expiry; once the controller's clock (a test
//! clock here, moved a day on) passes it, the sweep removes the message with everything
//! kept of it. Every expiring message below holds the word "zebra", so "gone" is checked
//! by looking for it in each answer; what must stay holds "giraffe".

use std::time::Duration;

use switchboard_sdk::token::{ALL_SCOPES, TokenSpec, USER_SCOPES};
use switchboard_tests::{
    Code, TestClock, TestController, create_team, eventually, expect_code, proto, sbctl,
};

const GONE: &str = "zebra";
const DAY_MS: i64 = 24 * 60 * 60 * 1000;

fn clean<T: std::fmt::Debug>(path: &str, answer: T) {
    let shown = format!("{answer:?}");
    assert!(!shown.contains(GONE), "{path} still shows expired content: {shown}");
}

fn history(channel_id: u64) -> proto::ListHistoryRequest {
    proto::ListHistoryRequest { channel_id, limit: 100, ..Default::default() }
}

#[tokio::test]
async fn expired_messages_leave_every_read_path_and_kept_ones_stay() {
    let clock = TestClock::default();
    let server = TestController::builder().clock(clock.clone()).start().await;
    // Tokens that outlast the day the clock moves on.
    let client = |user: &str, scopes: &[&str]| {
        let spec = TokenSpec::new(user, "acme").scopes(scopes).ttl(Duration::from_secs(3 * 86_400));
        server.client_with_token(server.token_for(&spec))
    };
    let (alice, bob) = (client("alice", &USER_SCOPES).await, client("bob", &USER_SCOPES).await);
    let admin = client("root", &ALL_SCOPES).await;
    let team = create_team(&alice, &["bob"]).await;
    let forever = create_team(&alice, &["bob"]).await;

    // Kept forever until a policy says otherwise; a policy applies to what is sent after.
    let before = alice.send_text(team, "giraffe, sent before the policy").await.unwrap();
    assert_eq!(before.expires_at_ms, 0);
    let policy = admin.set_retention(0, 1).await.unwrap();
    assert_eq!((policy.keep_days, policy.conversations.len()), (1, 0));
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

    // A day and a minute later, by the controller's clock.
    clock.set(plan.ts_ms + DAY_MS + 60_000);
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
    let shown = format!("{:?}", alice.history(history(team)).await.unwrap());
    assert!(shown.contains("giraffe, sent before the policy"), "{shown}");
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
    let team_arg = team.to_string();
    let args = ["admin", "retention", "set", "forever", "--conversation", team_arg.as_str()];
    sbctl(&server.url(), &token, &args).await.unwrap();
    let shown = sbctl(&server.url(), &token, &["admin", "retention"]).await.unwrap();
    assert!(shown.contains("30 days") && shown.contains(&team_arg), "{shown}");
    assert!(shown.contains("forever"), "{shown}");
}
