//! Sending, private `to`, replies, edits, deletes, idempotent retries, history paging.

use std::collections::HashSet;

use switchboard_server::ids::{BUCKET_MS, EPOCH_MS, bucket_of};
use switchboard_tests::{Client, Code, TestClock, TestController, expect_code, proto, sbctl};

async fn page(
    client: &Client,
    channel: u64,
    before: u64,
    after: u64,
    limit: u32,
) -> proto::ListHistoryResponse {
    client
        .history(proto::ListHistoryRequest { channel_id: channel, before, after, limit })
        .await
        .unwrap()
}

#[tokio::test]
async fn a_sent_message_comes_back_with_server_fields() {
    let server = TestController::start().await;
    let (alice, team) = server.team_of("alice", &["bob"]).await;
    let sent = alice
        .send(proto::SendMessageRequest {
            channel_id: team,
            data: "hello".into(),
            custom_fields: [("lang".to_string(), "en".to_string())].into(),
            client_msg_id: "m-1".into(),
            ..Default::default()
        })
        .await
        .unwrap();
    let message = sent.message.unwrap();
    assert!(!sent.duplicate);
    assert!(message.id > 0);
    assert_eq!(message.from, "alice");
    assert_eq!(message.to, "*");
    assert_eq!(message.r#type, proto::MessageType::Text as i32);
    assert!(message.ts_ms > EPOCH_MS);
    let bob = server.client("bob", "acme").await;
    let history = page(&bob, team, 0, 0, 10).await;
    assert_eq!(history.messages, vec![message]);
}

#[tokio::test]
async fn a_private_message_is_seen_only_by_its_two_parties() {
    let server = TestController::start().await;
    let (alice, team) = server.team_of("alice", &["bob", "carol"]).await;
    alice.send_text(team, "for everyone").await.unwrap();
    let private = alice.send_private(team, "bob", "for bob").await.unwrap();
    let texts = |page: proto::ListHistoryResponse| {
        page.messages.into_iter().map(|m| m.data).collect::<Vec<_>>()
    };
    let bob = server.client("bob", "acme").await;
    let carol = server.client("carol", "acme").await;
    assert_eq!(texts(page(&alice, team, 0, 0, 10).await), ["for bob", "for everyone"]);
    assert_eq!(texts(page(&bob, team, 0, 0, 10).await), ["for bob", "for everyone"]);
    assert_eq!(texts(page(&carol, team, 0, 0, 10).await), ["for everyone"]);
    // carol cannot reply to, edit or delete what she cannot see
    let reply = carol
        .send(proto::SendMessageRequest {
            channel_id: team,
            data: "re".into(),
            parent_id: private.id,
            ..Default::default()
        })
        .await;
    expect_code(reply, Code::InvalidArgument);
    expect_code(carol.delete_message(team, private.id).await, Code::NotFound);
    // `to` must name a member
    let stranger = alice
        .send(proto::SendMessageRequest {
            channel_id: team,
            to: "zed".into(),
            data: "x".into(),
            ..Default::default()
        })
        .await;
    assert!(expect_code(stranger, Code::InvalidArgument).contains("to:"));
}

#[tokio::test]
async fn replies_edits_and_deletes() {
    let server = TestController::start().await;
    let (alice, team) = server.team_of("alice", &["bob"]).await;
    let bob = server.client("bob", "acme").await;
    let original = bob.send_text(team, "first").await.unwrap();
    let reply = alice
        .send(proto::SendMessageRequest {
            channel_id: team,
            data: "re: first".into(),
            parent_id: original.id,
            ..Default::default()
        })
        .await
        .unwrap()
        .message
        .unwrap();
    assert_eq!(reply.parent_id, original.id);
    let bad_parent = alice
        .send(proto::SendMessageRequest {
            channel_id: team,
            data: "re".into(),
            parent_id: 12345,
            ..Default::default()
        })
        .await;
    expect_code(bad_parent, Code::InvalidArgument);

    let edited = bob.edit_message(team, original.id, "first (fixed)").await.unwrap();
    assert_eq!(edited.data, "first (fixed)");
    assert!(edited.edited_at_ms >= original.ts_ms);
    expect_code(alice.edit_message(team, original.id, "hijack").await, Code::PermissionDenied);

    let deleted = bob.delete_message(team, original.id).await.unwrap();
    assert!(deleted.deleted);
    assert!(deleted.data.is_empty());
    assert_eq!(
        bob.delete_message(team, original.id).await.unwrap(),
        deleted,
        "deleting twice is a no-op"
    );
    expect_code(bob.edit_message(team, original.id, "back").await, Code::FailedPrecondition);
    let history = page(&alice, team, 0, 0, 10).await;
    assert_eq!(history.messages, [deleted], "the tombstone, without its thread-only reply");
    expect_code(alice.delete_message(team, 999).await, Code::NotFound);
}

#[tokio::test]
async fn edits_keep_earlier_versions_for_those_who_may_see_the_message() {
    let server = TestController::start().await;
    let (alice, team) = server.team_of("alice", &["bob", "carol"]).await;
    let bob = server.client("bob", "acme").await;
    let carol = server.client("carol", "acme").await;
    let sent = bob.send_text(team, "helo").await.unwrap();
    let versions = |client: &Client, id, before, limit| {
        let client = client.clone();
        async move { client.list_message_versions(team, id, before, limit).await }
    };
    assert!(versions(&alice, sent.id, 0, 0).await.unwrap().versions.is_empty());
    let first = bob.edit_message(team, sent.id, "hello").await.unwrap();
    let second = bob.edit_message(team, sent.id, "hello, all").await.unwrap();

    // Any member sees each earlier text, newest first, with when it was written and replaced.
    let page = versions(&alice, sent.id, 0, 0).await.unwrap();
    let seen: Vec<(&str, i64, i64)> = page
        .versions
        .iter()
        .map(|v| (v.data.as_str(), v.written_at_ms, v.replaced_at_ms))
        .collect();
    assert_eq!(
        seen,
        [
            ("hello", first.edited_at_ms, second.edited_at_ms),
            ("helo", sent.ts_ms, first.edited_at_ms)
        ]
    );
    assert!(!page.has_more);
    assert!(page.versions[0].seq > page.versions[1].seq, "named by the edit that replaced it");
    let one = versions(&carol, sent.id, 0, 1).await.unwrap();
    assert!(one.has_more);
    let rest = versions(&carol, sent.id, one.versions[0].seq, 1).await.unwrap();
    assert_eq!((rest.versions[0].data.as_str(), rest.has_more), ("helo", false));
    let limit = expect_code(versions(&alice, sent.id, 0, 101).await, Code::InvalidArgument);
    assert!(limit.contains("limit"), "{limit}");

    // A private message's versions are its parties' only; other conversations', their members'.
    let private = alice.send_private(team, "bob", "psst").await.unwrap();
    alice.edit_message(team, private.id, "psst!").await.unwrap();
    assert_eq!(versions(&bob, private.id, 0, 0).await.unwrap().versions[0].data, "psst");
    expect_code(versions(&carol, private.id, 0, 0).await, Code::NotFound);
    let outsider = server.client("dave", "acme").await;
    expect_code(versions(&outsider, sent.id, 0, 0).await, Code::PermissionDenied);
    let elsewhere = server.client("alice", "globex").await;
    expect_code(versions(&elsewhere, sent.id, 0, 0).await, Code::NotFound);

    // sbctl shows them too.
    let args = ["--json", "versions", &team.to_string(), &sent.id.to_string()].map(String::from);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let shown = sbctl(&server.url(), &server.token("carol", "acme"), &args).await.unwrap();
    let shown: serde_json::Value = serde_json::from_str(&shown).unwrap();
    assert_eq!(shown["versions"][1]["data"], "helo");

    // A delete takes the earlier texts with it.
    alice.delete_message(team, sent.id).await.unwrap();
    assert!(versions(&bob, sent.id, 0, 0).await.unwrap().versions.is_empty());
}

#[tokio::test]
async fn retried_sends_return_the_original() {
    let server = TestController::start().await;
    let (alice, team) = server.team_of("alice", &["bob"]).await;
    let request = proto::SendMessageRequest {
        channel_id: team,
        data: "pay 10 EUR".into(),
        client_msg_id: "payment-42".into(),
        ..Default::default()
    };
    let first = alice.send(request.clone()).await.unwrap();
    let retries: Vec<_> = {
        let mut handles = Vec::new();
        for _ in 0..5 {
            let (alice, request) = (alice.clone(), request.clone());
            handles.push(tokio::spawn(async move { alice.send(request).await.unwrap() }));
        }
        let mut out = Vec::new();
        for handle in handles {
            out.push(handle.await.unwrap());
        }
        out
    };
    for retry in &retries {
        assert!(retry.duplicate);
        assert_eq!(retry.message, first.message);
    }
    // the key is per sender: bob may use the same one
    let bob = server.client("bob", "acme").await;
    let bobs = bob
        .send(proto::SendMessageRequest { data: "mine".into(), ..request.clone() })
        .await
        .unwrap();
    assert!(!bobs.duplicate);
    let history = page(&alice, team, 0, 0, 50).await;
    assert_eq!(history.messages.len(), 2, "one message per sender, never duplicates");
    // and a controller restart does not forget it
    let server = server.restart().await;
    let alice = server.client("alice", "acme").await;
    let after_restart = alice.send(request).await.unwrap();
    assert!(after_restart.duplicate);
    assert_eq!(after_restart.message, first.message);
}

#[tokio::test]
async fn history_pages_across_buckets_without_gaps_or_duplicates() {
    let clock = TestClock::default();
    // 5 messages in each of 4 buckets, with an empty bucket in between. Ids never go back
    // in time, so the clock starts in the past before anything is created.
    let start = EPOCH_MS + 40 * BUCKET_MS + 123;
    clock.set(start - 60_000);
    let server = TestController::builder().clock(clock.clone()).start().await;
    let (alice, team) = server.team_of("alice", &["bob"]).await;
    let bob = server.client("bob", "acme").await;
    let mut sent = Vec::new();
    for bucket in [0, 1, 3, 4] {
        clock.set(start + bucket * BUCKET_MS);
        for i in 0..5 {
            clock.advance(1_000);
            let sender = if i % 2 == 0 { &alice } else { &bob };
            sent.push(sender.send_text(team, &format!("b{bucket}-m{i}")).await.unwrap().id);
        }
    }
    clock.release();
    let buckets: HashSet<u32> = sent.iter().map(|id| bucket_of(*id)).collect();
    assert_eq!(buckets.len(), 4, "messages really live in four buckets");

    // Newest first, pages of 3, following `before`.
    let mut seen = Vec::new();
    let mut before = 0;
    loop {
        let page = page(&bob, team, before, 0, 3).await;
        seen.extend(page.messages.iter().map(|m| m.id));
        if !page.has_more {
            break;
        }
        before = page.messages.last().unwrap().id;
    }
    let mut newest_first = sent.clone();
    newest_first.reverse();
    assert_eq!(seen, newest_first);

    // Forward from the oldest, following `after`: each page is the next messages in order.
    let mut forward = vec![sent[0]];
    let mut after = sent[0];
    loop {
        let page = page(&bob, team, 0, after, 4).await;
        let mut ids: Vec<u64> = page.messages.iter().map(|m| m.id).collect();
        ids.reverse();
        forward.extend(&ids);
        if !page.has_more {
            break;
        }
        after = *ids.last().unwrap();
    }
    assert_eq!(forward, sent);

    // A window between two ids.
    let window = page(&bob, team, sent[12], sent[7], 200).await;
    let ids: Vec<u64> = window.messages.iter().map(|m| m.id).collect();
    assert_eq!(ids, (8..12).rev().map(|i| sent[i]).collect::<Vec<_>>());
    assert!(!window.has_more);
}

#[tokio::test]
async fn history_skips_private_messages_without_short_pages() {
    let server = TestController::start().await;
    let (alice, team) = server.team_of("alice", &["bob", "carol"]).await;
    let mut public = Vec::new();
    for i in 0..6 {
        public.push(alice.send_text(team, &format!("public {i}")).await.unwrap().id);
        for _ in 0..3 {
            alice
                .send(proto::SendMessageRequest {
                    channel_id: team,
                    to: "bob".into(),
                    data: "private".into(),
                    ..Default::default()
                })
                .await
                .unwrap();
        }
    }
    let carol = server.client("carol", "acme").await;
    let first = page(&carol, team, 0, 0, 4).await;
    assert_eq!(first.messages.len(), 4, "a full page despite the private messages");
    assert!(first.has_more);
    let second = page(&carol, team, first.messages[3].id, 0, 4).await;
    assert_eq!(second.messages.len(), 2);
    assert!(!second.has_more);
    let all: Vec<u64> = first.messages.iter().chain(&second.messages).map(|m| m.id).collect();
    public.reverse();
    assert_eq!(all, public);
}
