//! What an attacker tried, held: oversized inputs cannot break the relay's link for other
//! users, errors never echo more than a short quote of an input, admin views stay inside
//! the caller's org, and odd tokens are refused rather than crashing a session.

use switchboard_tests::live;
use switchboard_tests::{Code, SdkError, TestController, TestRelay, proto};
use tonic_types::StatusExt;

/// Longest error message a status may carry (`MAX_ERROR_CHARS`, plus the ellipsis).
const MAX_MESSAGE_BYTES: usize = 4 * 513;

/// The status of a failed call, its message and field violations checked to be short.
#[track_caller]
fn short_refusal<T: std::fmt::Debug>(result: Result<T, SdkError>) -> tonic::Status {
    let status = match result {
        Err(SdkError::Status(status)) => status,
        other => panic!("expected a refusal, got {other:?}"),
    };
    assert!(
        status.message().len() <= MAX_MESSAGE_BYTES,
        "a {}-byte error message: {:.200}",
        status.message().len(),
        status.message()
    );
    if let Some(bad_request) = status.get_error_details().bad_request() {
        for violation in &bad_request.field_violations {
            assert!(violation.description.len() <= MAX_MESSAGE_BYTES, "{violation:?}");
        }
    }
    status
}

#[tokio::test]
async fn oversized_inputs_get_short_errors_and_never_break_the_relays_link() {
    let server = TestController::start().await;
    let relay = TestRelay::start(&server).await;
    let alice = relay.client(server.token("alice", "acme")).await;
    let admin = relay.client(server.admin_token("root", "acme")).await;
    let team = switchboard_tests::create_team(&alice, &["bob"]).await;
    // Someone of another org, live and calling throughout.
    let eve = relay.client(server.token("eve", "other")).await;
    let eve_team = switchboard_tests::create_team(&eve, &["frank"]).await;
    let mut frank = relay.realtime(server.token("frank", "other"));
    live::live(&mut frank).await;
    let before = admin.relay_status().await.unwrap();

    let huge = "k".repeat(20_000);
    for round in 0..16 {
        let send = proto::SendMessageRequest {
            channel_id: team,
            data: "hi".into(),
            custom_fields: [(huge.clone(), "v".into())].into(),
            ..Default::default()
        };
        let status = short_refusal(alice.send(send).await);
        assert_eq!(status.code(), Code::InvalidArgument, "{}", status.message());
        let add = alice.add_members(team, &[huge.as_str()]).await;
        assert_eq!(short_refusal(add).code(), Code::InvalidArgument);
        let create = alice
            .create_team(proto::CreateTeamRequest {
                name: "T".into(),
                members: vec![huge.clone()],
                ..Default::default()
            })
            .await;
        assert_eq!(short_refusal(create).code(), Code::InvalidArgument);
        let upload = alice
            .create_upload(proto::CreateUploadRequest {
                channel_id: team,
                filename: "a.png".into(),
                content_type: format!("image/{huge}"),
                size: 10,
                ..Default::default()
            })
            .await;
        assert_eq!(short_refusal(upload).code(), Code::InvalidArgument);
        let audit = admin
            .list_audit(proto::ListAuditRequest { action: huge.clone(), ..Default::default() })
            .await;
        assert_eq!(short_refusal(audit).code(), Code::InvalidArgument);
        // Another org's calls through the same relay go on working.
        eve.send_text(eve_team, &format!("still here {round}")).await.expect("eve's send");
    }

    let (marker, _) = live::message(&mut frank, "still here 15").await;
    assert_eq!(marker.channel_id, eve_team);
    let after = admin.relay_status().await.unwrap();
    assert!(after.upstream_connected);
    assert_eq!(after.resyncs, before.resyncs, "the relay's controller link broke");
}

#[tokio::test]
async fn a_quoted_input_is_escaped_and_cut_with_its_length() {
    let server = TestController::start().await;
    let alice = server.client("alice", "acme").await;
    let team = switchboard_tests::create_team(&alice, &[]).await;
    let key = format!("{}{}", "\u{1b}[31m", "x".repeat(5_000));
    let send = proto::SendMessageRequest {
        channel_id: team,
        data: "hi".into(),
        custom_fields: [(key, "v".into())].into(),
        ..Default::default()
    };
    let status = short_refusal(alice.send(send).await);
    assert!(!status.message().contains('\u{1b}'), "{}", status.message());
    assert!(status.message().contains("(5005 bytes)"), "{}", status.message());
}

#[tokio::test]
async fn relay_status_shows_an_admin_only_their_own_orgs_conversations() {
    let server = TestController::start().await;
    let relay = TestRelay::start(&server).await;
    let alice = relay.client(server.token("alice", "acme")).await;
    let acme_team = switchboard_tests::create_team(&alice, &[]).await;
    let eve = relay.client(server.token("eve", "other")).await;
    let other_team = switchboard_tests::create_team(&eve, &[]).await;
    let mut a = relay.realtime(server.token("alice", "acme"));
    let mut e = relay.realtime(server.token("eve", "other"));
    live::live(&mut a).await;
    live::live(&mut e).await;

    let acme_admin = relay.client(server.admin_token("root", "acme")).await;
    let other_admin = relay.client(server.admin_token("root", "other")).await;
    let acme = relay.wait_status(&acme_admin, |s| !s.upstream_channels.is_empty()).await;
    assert_eq!(acme.upstream_channels, vec![acme_team]);
    assert_eq!(acme.upstream_users, 1);
    let other = other_admin.relay_status().await.unwrap();
    assert_eq!(other.upstream_channels, vec![other_team]);
    assert_eq!(other.upstream_users, 1);
}

/// A token with these claims, signed with the test secret.
fn signed(claims: serde_json::Value) -> String {
    let key = jsonwebtoken::EncodingKey::from_secret(switchboard_tests::TEST_SECRET.as_bytes());
    jsonwebtoken::encode(&jsonwebtoken::Header::default(), &claims, &key).unwrap()
}

fn unix_now() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs()
}

#[tokio::test]
async fn a_token_expiring_at_the_end_of_time_is_refused_and_leaves_no_session_behind() {
    let server = TestController::start().await;
    let relay = TestRelay::start(&server).await;
    let admin = relay.client(server.admin_token("root", "acme")).await;
    for exp in [u64::MAX, u64::MAX - 1_000, 1 << 60] {
        let token = signed(serde_json::json!({
            "sub": "mallory", "org": "acme", "scope": "chat.read chat.write", "exp": exp
        }));
        let client = relay.client(token.clone()).await;
        let message = switchboard_tests::expect_code(
            client.list_conversations(0, 10).await,
            Code::Unauthenticated,
        );
        assert!(message.contains("exp"), "{message}");
        let mut stream = relay.realtime(token);
        let (refused, why) = live::disconnected(&mut stream).await;
        assert_eq!(refused, Code::Unauthenticated, "{why}");
    }
    let status = admin.relay_status().await.unwrap();
    assert_eq!(status.sessions, 0, "a refused stream left a session open");
    let presence = admin.presence(&["mallory"]).await.unwrap();
    assert!(presence.iter().all(|p| !p.online), "{presence:?}");
}

#[tokio::test]
async fn a_token_not_valid_yet_is_refused() {
    let server = TestController::start().await;
    let token = signed(serde_json::json!({
        "sub": "alice", "org": "acme", "scope": "chat.read",
        "nbf": unix_now() + 3_600, "exp": unix_now() + 7_200
    }));
    let client = server.client_with_token(token).await;
    let message = switchboard_tests::expect_code(
        client.list_conversations(0, 10).await,
        Code::Unauthenticated,
    );
    assert!(message.contains("nbf"), "{message}");
}

#[tokio::test]
async fn a_claim_of_the_wrong_type_is_named_in_the_refusal() {
    let server = TestController::start().await;
    let token = signed(serde_json::json!({
        "sub": "alice", "org": "acme", "scope": ["chat.read"], "exp": unix_now() + 600
    }));
    let client = server.client_with_token(token).await;
    let message = switchboard_tests::expect_code(
        client.list_conversations(0, 10).await,
        Code::Unauthenticated,
    );
    assert!(message.contains("scope") && message.contains("space-separated"), "{message}");
}

#[tokio::test]
async fn a_refresh_token_without_the_read_scope_does_not_keep_a_stream() {
    let server = TestController::start().await;
    let relay = TestRelay::start(&server).await;
    let mut live = relay.realtime(server.token("alice", "acme"));
    live::live(&mut live).await;
    let files_only = server.token_for(
        &switchboard_sdk::token::TokenSpec::new("alice", "acme").scopes(&["chat.files"]),
    );
    live.set_token(files_only).await.unwrap();
    let (code, _) = live::until(&mut live, "an error frame", |event| match event {
        switchboard_tests::RealtimeEvent::Error(error) => Some(error.code),
        _ => None,
    })
    .await;
    assert_eq!(code, Code::PermissionDenied as i32);
}

#[tokio::test]
async fn validation_is_the_same_everywhere() {
    let server = TestController::start().await;
    let alice = server.client("alice", "acme").await;
    let bob = server.client("bob", "acme").await;
    let team = switchboard_tests::create_team(&alice, &["bob"]).await;
    let invalid = |result: Result<_, SdkError>| switchboard_tests::outcome::<()>(result);

    // Control characters in custom fields, keys and values alike.
    for (key, value) in [("bad\u{0}key", "v"), ("key", "bad\u{7}value")] {
        let send = proto::SendMessageRequest {
            channel_id: team,
            data: "hi".into(),
            custom_fields: [(key.to_string(), value.to_string())].into(),
            ..Default::default()
        };
        assert_eq!(invalid(alice.send(send).await.map(drop)), Code::InvalidArgument, "{key:?}");
    }
    // An out-of-range enum is refused, not read as the default.
    let search = proto::SearchRequest { query: "hi".into(), order: 99, ..Default::default() };
    assert_eq!(invalid(alice.search(search).await.map(drop)), Code::InvalidArgument);
    // Id 0 is no id.
    assert_eq!(invalid(alice.get_conversation(0).await.map(drop)), Code::InvalidArgument);
    assert_eq!(invalid(alice.join_channel(0).await.map(drop)), Code::InvalidArgument);
    // Transferring to oneself: a plain member may not transfer at all; an unknown team is
    // unknown.
    assert_eq!(
        invalid(bob.transfer_ownership(team, "bob").await.map(drop)),
        Code::PermissionDenied
    );
    assert_eq!(
        invalid(alice.transfer_ownership(team + 1_000_000, "alice").await.map(drop)),
        Code::NotFound
    );
    assert_eq!(
        invalid(alice.transfer_ownership(team, "alice").await.map(drop)),
        Code::InvalidArgument
    );
}

/// Whether a refusal is RESOURCE_EXHAUSTED with a `RetryInfo` saying when to retry.
fn is_rate_limited(error: &SdkError) -> bool {
    match error {
        SdkError::Status(status) => {
            status.code() == Code::ResourceExhausted
                && status.get_error_details().retry_info().is_some()
        }
        _ => false,
    }
}

#[tokio::test]
async fn every_kind_of_write_is_rate_limited_not_only_sends() {
    let server = TestController::builder()
        .configure(|c| (c.limits.write_rate_per_sec, c.limits.write_burst) = (5, 10))
        .start()
        .await;
    let alice = server.client("alice", "acme").await;
    let team = switchboard_tests::create_team(&alice, &["bob"]).await;
    let message = alice.send_text(team, "typo").await.unwrap();

    let mut refused = 0;
    for _ in 0..40 {
        match alice.edit_message(team, message.id, "fixed").await {
            Ok(_) => {}
            Err(error) if is_rate_limited(&error) => refused += 1,
            Err(error) => panic!("{error}"),
        }
    }
    assert!(refused >= 20, "only {refused} of 40 quick edits were refused");
    // The budget is the user's, across kinds of writes: typing is refused now too.
    let typing = alice.set_typing(team, true).await.unwrap_err();
    assert!(is_rate_limited(&typing), "{typing}");
    // Another user's budget is their own.
    let bob = server.client("bob", "acme").await;
    bob.set_typing(team, true).await.expect("bob's first write");
}

#[tokio::test]
async fn a_hello_naming_too_many_conversations_is_refused_at_once() {
    let server = TestController::start().await;
    let relay = TestRelay::start(&server).await;
    let mut options =
        switchboard_tests::RealtimeOptions::new(relay.url(), server.token("alice", "acme"));
    options.only = (1..=20_000).collect();
    let mut stream = switchboard_tests::Realtime::connect(options);
    let (code, why) = live::disconnected(&mut stream).await;
    assert_eq!(code, Code::InvalidArgument, "{why}");
    assert!(why.contains("at most 1000"), "{why}");
}

#[tokio::test]
async fn a_hello_naming_conversations_the_user_is_not_in_follows_the_rest() {
    let server = TestController::start().await;
    let relay = TestRelay::start(&server).await;
    let alice = server.client("alice", "acme").await;
    let mine = switchboard_tests::create_team(&alice, &[]).await;
    let carol = server.client("carol", "acme").await;
    let not_mine = switchboard_tests::create_team(&carol, &[]).await;
    let mut options =
        switchboard_tests::RealtimeOptions::new(relay.url(), server.token("alice", "acme"));
    options.only = vec![not_mine, mine, 999];
    let mut stream = switchboard_tests::Realtime::connect(options);
    let welcome = live::welcome(&mut stream).await;
    assert_eq!(welcome.channel_ids, vec![mine]);
    let (done, before) = live::next_live(&mut stream).await;
    assert_eq!(done.channel_ids, vec![mine]);
    assert_eq!(live::error_codes(&before), vec![Code::PermissionDenied as i32; 2]);
}

#[tokio::test]
async fn a_hello_naming_many_conversations_is_checked_against_one_listing() {
    let server = TestController::start().await;
    let relay = TestRelay::start(&server).await;
    let alice = server.client("alice", "acme").await;
    let carol = server.client("carol", "acme").await;
    let mut mine = Vec::new();
    let mut only = Vec::new();
    for i in 0..12 {
        // Every third conversation is alice's; the rest are carol's or do not exist.
        let id = match i % 3 {
            0 => {
                let id = switchboard_tests::create_team(&alice, &[]).await;
                mine.push(id);
                id
            }
            1 => switchboard_tests::create_team(&carol, &[]).await,
            _ => 1_000 + i,
        };
        only.push(id);
    }
    let token = server.token("alice", "acme");
    let mut options = switchboard_tests::RealtimeOptions::new(relay.url(), token);
    options.only = only;
    let mut stream = switchboard_tests::Realtime::connect(options);
    let mut welcomed = live::welcome(&mut stream).await.channel_ids;
    welcomed.sort_unstable();
    mine.sort_unstable();
    assert_eq!(welcomed, mine);
    let (_, before) = live::next_live(&mut stream).await;
    assert_eq!(live::error_codes(&before), vec![Code::PermissionDenied as i32; 8]);
}
