//! Moderation: a banned member is removed (seen live by the others and by them), cannot
//! join or be added again until unbanned; only admins ban, following who may remove whom;
//! bans are listed for admins, audited with their reason, and managed with sbctl. Members
//! report messages to the admins, who read them (after a delete too) and handle each once.

use switchboard_sdk::proto::event::Kind;
use switchboard_tests::live::{self, kind};
use switchboard_tests::{Code, TestClock, TestController, TestRelay, expect_code, proto, sbctl};
use tonic_types::StatusExt as _;

#[tokio::test]
async fn a_banned_member_is_removed_live_and_kept_out_until_unbanned() {
    let server = TestController::start().await;
    let relay = TestRelay::start(&server).await;
    let (alice, team) = server.team_of("alice", &["bob", "carol"]).await;
    let bob = server.client("bob", "acme").await;
    let mut carol_live = relay.realtime(server.token("carol", "acme"));
    live::live(&mut carol_live).await;
    let mut bob_live = relay.realtime(server.token("bob", "acme"));
    live::live(&mut bob_live).await;

    let ban = alice.ban_member(team, "bob", "spamming links").await.unwrap();
    assert_eq!((ban.user_id.as_str(), ban.banned_by.as_str()), ("bob", "alice"));
    assert_eq!(ban.reason, "spamming links");
    for (who, stream) in [("carol", &mut carol_live), ("bob", &mut bob_live)] {
        let (removed_by, _) =
            live::until(stream, &format!("{who} seeing bob removed"), |e| match kind(e) {
                Some(Kind::MemberLeft(l)) if l.user_id == "bob" => Some(l.removed_by.clone()),
                _ => None,
            })
            .await;
        assert_eq!(removed_by, "alice", "{who}");
    }
    expect_code(bob.send_text(team, "still here?").await, Code::PermissionDenied);
    let refused = expect_code(alice.add_members(team, &["bob"]).await, Code::FailedPrecondition);
    assert!(refused.contains("banned"), "{refused}");
    // Banned from a public channel: joining is refused; so is being added with others.
    let channel = alice
        .create_channel(proto::CreateChannelRequest {
            name: "Lobby".into(),
            visibility: proto::Visibility::Public as i32,
            ..Default::default()
        })
        .await
        .unwrap()
        .id;
    alice.ban_member(channel, "bob", "").await.unwrap();
    let denied = expect_code(bob.join_channel(channel).await, Code::PermissionDenied);
    assert!(denied.contains("banned"), "{denied}");
    expect_code(alice.add_members(channel, &["dan", "bob"]).await, Code::FailedPrecondition);
    let members = alice.list_members(channel, "", 100).await.unwrap().members;
    assert!(members.iter().all(|m| m.user_id != "dan"), "nothing added when one is banned");

    // Unbanned: not added back, but may be again.
    assert!(alice.unban_member(team, "bob").await.unwrap());
    assert!(!alice.unban_member(team, "bob").await.unwrap(), "no longer banned");
    let members = alice.list_members(team, "", 100).await.unwrap().members;
    assert!(members.iter().all(|m| m.user_id != "bob"), "unbanning adds nobody");
    alice.add_members(team, &["bob"]).await.unwrap();
    bob.send_text(team, "back").await.unwrap();
    bob.join_channel(channel).await.expect_err("still banned from the channel");
}

#[tokio::test]
async fn only_admins_ban_and_whom_follows_who_may_remove_whom() {
    let server = TestController::start().await;
    let (alice, team) = server.team_of("alice", &["bob", "carol", "dan"]).await;
    let bob = server.client("bob", "acme").await;
    let dan = server.client("dan", "acme").await;
    alice.promote_admin(team, "dan").await.unwrap();
    alice.promote_admin(team, "carol").await.unwrap();

    expect_code(bob.ban_member(team, "carol", "").await, Code::PermissionDenied);
    expect_code(bob.list_bans(team, "", 10).await, Code::PermissionDenied);
    expect_code(dan.ban_member(team, "alice", "").await, Code::PermissionDenied);
    expect_code(dan.ban_member(team, "carol", "").await, Code::PermissionDenied);
    expect_code(dan.ban_member(team, "dan", "").await, Code::InvalidArgument);
    expect_code(dan.ban_member(team, "bob", &"x".repeat(501)).await, Code::InvalidArgument);
    // An admin bans a member, and someone not (yet) a member; the owner bans an admin.
    dan.ban_member(team, "bob", "").await.unwrap();
    dan.ban_member(team, "eve", "known troll").await.unwrap();
    alice.ban_member(team, "carol", "").await.unwrap();
    let (bans, next) = dan.list_bans(team, "", 2).await.unwrap();
    let users: Vec<&str> = bans.iter().map(|b| b.user_id.as_str()).collect();
    assert_eq!((users, next.as_str()), (vec!["bob", "carol"], "carol"));
    let (rest, next) = dan.list_bans(team, &next, 2).await.unwrap();
    assert_eq!(
        (rest[0].user_id.as_str(), rest[0].reason.as_str(), next.as_str()),
        ("eve", "known troll", "")
    );
    let removed = expect_code(dan.remove_member(team, "carol").await, Code::NotFound);
    assert!(removed.contains("carol"), "{removed}");
}

#[tokio::test]
async fn bans_are_audited_and_managed_with_sbctl() {
    let server = TestController::start().await;
    let (alice, team) = server.team_of("alice", &["bob"]).await;
    let token = server.admin_token("alice", "acme");
    let id = team.to_string();
    let shown =
        sbctl(&server.url(), &token, &["member", "ban", &id, "bob", "--reason", "flooding"])
            .await
            .unwrap();
    assert!(shown.contains("bob") && shown.contains("flooding"), "{shown}");
    let listed = sbctl(&server.url(), &token, &["member", "bans", &id]).await.unwrap();
    assert!(listed.contains("bob") && listed.contains("alice"), "{listed}");
    let lifted = sbctl(&server.url(), &token, &["member", "unban", &id, "bob"]).await.unwrap();
    assert!(lifted.contains("unbanned bob"), "{lifted}");
    let admin = server.client_with_token(token).await;
    let log = admin.list_audit(proto::ListAuditRequest::default()).await.unwrap().entries;
    let trail: Vec<(&str, &str, &str)> = log
        .iter()
        .filter(|e| e.action.starts_with("member.") && e.action != "member.added")
        .map(|e| (e.action.as_str(), e.target.as_str(), e.detail.as_str()))
        .collect();
    assert_eq!(trail, [("member.unbanned", "bob", ""), ("member.banned", "bob", "flooding")]);
    assert!(alice.list_bans(team, "", 10).await.unwrap().0.is_empty());
}

#[tokio::test]
async fn a_reported_message_stays_readable_to_admins_after_its_delete_and_is_handled_once() {
    let server = TestController::start().await;
    let (alice, team) = server.team_of("alice", &["bob", "eve"]).await;
    let bob = server.client("bob", "acme").await;
    let eve = server.client("eve", "acme").await;
    let spam = eve.send_text(team, "buy cheap watches").await.unwrap();
    let own = bob.send_text(team, "mine").await.unwrap();

    expect_code(bob.report_message(team, own.id, "").await, Code::InvalidArgument);
    expect_code(bob.report_message(team, 12345, "").await, Code::NotFound);
    let report = bob.report_message(team, spam.id, "spam").await.unwrap();
    assert_eq!(report.state(), proto::ReportState::Open);
    assert_eq!((report.author.as_str(), report.text.as_str()), ("eve", "buy cheap watches"));
    eve.delete_message(team, spam.id).await.unwrap();
    expect_code(bob.report_message(team, spam.id, "again").await, Code::FailedPrecondition);

    // Members do not read reports; admins do, the message as it was.
    let all = || proto::ListReportsRequest { conversation_id: team, ..Default::default() };
    expect_code(bob.list_reports(all()).await, Code::PermissionDenied);
    let listed = alice.list_reports(all()).await.unwrap();
    assert_eq!(listed.reports.len(), 1);
    assert_eq!(listed.reports[0].text, "buy cheap watches", "kept after the delete");
    assert_eq!(listed.next_before, 0);

    expect_code(bob.resolve_report(team, report.id, false).await, Code::PermissionDenied);
    let resolved = alice.resolve_report(team, report.id, false).await.unwrap();
    assert_eq!(
        (resolved.state(), resolved.handled_by.as_str()),
        (proto::ReportState::Resolved, "alice")
    );
    let again =
        expect_code(alice.resolve_report(team, report.id, true).await, Code::FailedPrecondition);
    assert!(again.contains("resolved by alice"), "{again}");
    let open = proto::ListReportsRequest { open_only: true, ..all() };
    assert!(alice.list_reports(open).await.unwrap().reports.is_empty());

    // sbctl, as an admin works through them.
    let later = alice.send_text(team, "@eve please stop").await.unwrap();
    let token = server.token("eve", "acme");
    let filed = sbctl(
        &server.url(),
        &token,
        &["reports", "file", &team.to_string(), &later.id.to_string(), "--reason", "rude"],
    )
    .await
    .unwrap();
    assert!(filed.contains("rude") && filed.contains("open"), "{filed}");
    let admin = server.token("alice", "acme");
    let table = sbctl(&server.url(), &admin, &["reports", "list", &team.to_string(), "--open"])
        .await
        .unwrap();
    assert!(table.contains("rude") && !table.contains("watches"), "{table}");
}

#[tokio::test]
async fn a_timed_out_member_reads_but_neither_posts_reacts_nor_types_until_it_runs_out() {
    let clock = TestClock::default();
    let start = switchboard_proto::ids::now_us() as i64 / 1000;
    clock.set(start);
    let server = TestController::builder().clock(clock.clone()).start().await;
    let relay = TestRelay::start(&server).await;
    let (alice, team) = server.team_of("alice", &["bob", "carol"]).await;
    let bob = server.client("bob", "acme").await;
    let hello = alice.send_text(team, "hello").await.unwrap();
    let mut carol_live = relay.realtime(server.token("carol", "acme"));
    live::live(&mut carol_live).await;

    let member = alice.timeout_member(team, "bob", 600, "cool off").await.unwrap();
    assert_eq!(member.timed_out_until_ms, start + 600_000);
    assert_eq!(
        (member.timed_out_by.as_str(), member.timeout_reason.as_str()),
        ("alice", "cool off")
    );
    let (seen, _) = live::until(&mut carol_live, "carol seeing bob timed out", |e| match kind(e) {
        Some(Kind::MemberTimeoutChanged(c)) => c.member.clone(),
        _ => None,
    })
    .await;
    assert_eq!((seen.user_id.as_str(), seen.timed_out_until_ms), ("bob", start + 600_000));

    // Bob reads, and is told why he may not write, and until when.
    let refused = expect_code(bob.send_text(team, "but").await, Code::PermissionDenied);
    assert!(refused.contains("timed out") && refused.contains("cool off"), "{refused}");
    let until = chrono::DateTime::from_timestamp_millis(start + 600_000).unwrap();
    assert!(refused.contains(&until.format("%Y-%m-%dT%H:%M:%SZ").to_string()), "{refused}");
    expect_code(bob.react(team, hello.id, "👍", true).await, Code::PermissionDenied);
    expect_code(bob.set_typing(team, true).await, Code::PermissionDenied);
    let page = proto::ListHistoryRequest { channel_id: team, ..Default::default() };
    assert_eq!(bob.history(page).await.unwrap().messages.len(), 1, "still reads");
    let listed = alice.list_members(team, "", 100).await.unwrap().members;
    let bob_row = listed.iter().find(|m| m.user_id == "bob").unwrap();
    assert_eq!(bob_row.timed_out_until_ms, start + 600_000);

    // Leaving and joining again does not end it.
    bob.leave(team).await.unwrap();
    alice.add_members(team, &["bob"]).await.unwrap();
    expect_code(bob.send_text(team, "back?").await, Code::PermissionDenied);

    // It runs out on its own.
    clock.advance(600_001);
    bob.send_text(team, "sorry").await.unwrap();

    // Lifted early: audited both ways.
    alice.timeout_member(team, "bob", 60, "").await.unwrap();
    let lifted = alice.timeout_member(team, "bob", 0, "").await.unwrap();
    assert_eq!(lifted.timed_out_until_ms, 0);
    bob.react(team, hello.id, "👍", true).await.unwrap();
    let audit = server.client_with_token(server.admin_token("root", "acme")).await;
    let actions: Vec<String> = audit
        .list_audit(proto::ListAuditRequest { limit: 100, ..Default::default() })
        .await
        .unwrap()
        .entries
        .into_iter()
        .map(|e| e.action)
        .collect();
    assert!(actions.contains(&"member.timed_out".to_string()), "{actions:?}");
    assert!(actions.contains(&"member.timeout_lifted".to_string()), "{actions:?}");
}

#[tokio::test]
async fn only_admins_time_out_following_who_may_remove_whom() {
    let server = TestController::start().await;
    let (alice, team) = server.team_of("alice", &["bob", "carol", "dan"]).await;
    alice.promote_admin(team, "dan").await.unwrap();
    let bob = server.client("bob", "acme").await;
    let dan = server.client("dan", "acme").await;
    expect_code(bob.timeout_member(team, "carol", 60, "").await, Code::PermissionDenied);
    expect_code(dan.timeout_member(team, "alice", 60, "").await, Code::PermissionDenied);
    expect_code(dan.timeout_member(team, "dan", 60, "").await, Code::InvalidArgument);
    expect_code(dan.timeout_member(team, "zed", 60, "").await, Code::NotFound);
    let too_long = 28 * 24 * 3600 + 1;
    expect_code(dan.timeout_member(team, "bob", too_long, "").await, Code::InvalidArgument);
    dan.timeout_member(team, "bob", 60, "").await.unwrap();
    // The owner times out an admin, who then cannot post either.
    alice.timeout_member(team, "dan", 60, "").await.unwrap();
    expect_code(dan.send_text(team, "hm").await, Code::PermissionDenied);

    // sbctl: the member list says until when.
    let (token, id) = (server.token("alice", "acme"), team.to_string());
    let out = sbctl(
        &server.url(),
        &token,
        &["member", "timeout", &id, "carol", "10m", "--reason", "flood"],
    )
    .await
    .unwrap();
    assert!(out.contains("carol") && out.contains("flood"), "{out}");
    let members = sbctl(&server.url(), &token, &["member", "list", &id]).await.unwrap();
    assert!(members.contains("TIMED OUT UNTIL") && members.contains("(flood)"), "{members}");
}

#[tokio::test]
async fn slow_mode_spaces_a_members_posts_and_says_when_to_retry() {
    let clock = TestClock::default();
    let start = switchboard_proto::ids::now_us() as i64 / 1000;
    clock.set(start);
    let server = TestController::builder().clock(clock.clone()).start().await;
    let (alice, team) = server.team_of("alice", &["bob", "carol"]).await;
    let bob = server.client("bob", "acme").await;
    let carol = server.client("carol", "acme").await;
    let slow = |seconds| proto::UpdateTeamRequest {
        conversation_id: team,
        slow_mode_seconds: Some(seconds),
        ..Default::default()
    };
    let refused = expect_code(alice.update_team(slow(21_601)).await, Code::InvalidArgument);
    assert!(refused.contains("slow_mode_seconds"), "{refused}");
    expect_code(bob.update_team(slow(30)).await, Code::PermissionDenied);
    assert_eq!(alice.update_team(slow(30)).await.unwrap().slow_mode_seconds, 30);

    bob.send_text(team, "first").await.unwrap();
    clock.advance(10_000);
    let error = bob.send_text(team, "too soon").await.unwrap_err();
    let switchboard_tests::SdkError::Status(status) = error else { panic!("{error}") };
    assert_eq!(status.code(), Code::ResourceExhausted);
    assert!(status.message().contains("slow mode"), "{}", status.message());
    let wait = status.get_error_details().retry_info().and_then(|r| r.retry_delay);
    assert_eq!(wait, Some(std::time::Duration::from_secs(20)), "30 s after the first post");
    // Others have their own interval; admins are exempt.
    carol.send_text(team, "mine").await.unwrap();
    alice.send_text(team, "admin").await.unwrap();
    alice.send_text(team, "admin again").await.unwrap();
    clock.advance(20_000);
    bob.send_text(team, "second").await.unwrap();

    // Racing posts: exactly one of them goes through.
    clock.advance(30_000);
    let (a, b) = tokio::join!(bob.send_text(team, "race a"), bob.send_text(team, "race b"));
    assert_eq!([a.is_ok(), b.is_ok()].iter().filter(|ok| **ok).count(), 1, "{a:?} {b:?}");

    // Off again.
    alice.update_team(slow(0)).await.unwrap();
    bob.send_text(team, "free").await.unwrap();
    bob.send_text(team, "again").await.unwrap();
}

#[tokio::test]
async fn org_filters_refuse_or_flag_sends_and_edits() {
    let server = TestController::start().await;
    let (alice, team) = server.team_of("alice", &["bob"]).await;
    let bob = server.client("bob", "acme").await;
    let root = server.client_with_token(server.admin_token("root", "acme")).await;
    let (word, regex) = (proto::FilterKind::Word, proto::FilterKind::Regex);
    let (refuse, flag) = (proto::FilterAction::Refuse, proto::FilterAction::Flag);

    // Only org admins manage filters; bad patterns are refused saying why.
    expect_code(alice.create_filter(word, "darn", refuse).await, Code::PermissionDenied);
    let why =
        expect_code(root.create_filter(regex, "(unclosed", refuse).await, Code::InvalidArgument);
    assert!(why.contains("pattern") && why.contains("unclosed group"), "{why}");
    let why = expect_code(
        root.create_filter(regex, r"\w{1000}{1000}", refuse).await,
        Code::InvalidArgument,
    );
    assert!(why.contains("size limit"), "{why}");
    expect_code(root.create_filter(regex, r"(a)\1", refuse).await, Code::InvalidArgument);
    expect_code(root.create_filter(word, "  ", refuse).await, Code::InvalidArgument);

    let darn = root.create_filter(word, "darn", refuse).await.unwrap();
    let cheap = root.create_filter(regex, r"(?i)cheap\s+watch(es)?", flag).await.unwrap();
    // A catastrophic pattern is accepted and costs a linear scan.
    root.create_filter(regex, r"(a+)+$", flag).await.unwrap();
    assert_eq!(root.list_filters().await.unwrap().len(), 3);

    // Refused: the message is not stored, and the error quotes what matched.
    let refused = expect_code(bob.send_text(team, "Well DARN it").await, Code::InvalidArgument);
    assert!(refused.contains("\"DARN\" is not allowed"), "{refused}");
    bob.send_text(team, "darnedest").await.expect("a word matches whole");
    let sent = bob.send_text(team, "hello").await.unwrap();
    let edit = expect_code(bob.edit_message(team, sent.id, "darn").await, Code::InvalidArgument);
    assert!(edit.contains("not allowed"), "{edit}");
    let page = proto::ListHistoryRequest { channel_id: team, ..Default::default() };
    let texts: Vec<String> =
        bob.history(page).await.unwrap().messages.into_iter().map(|m| m.data).collect();
    assert_eq!(texts, ["hello", "darnedest"], "nothing refused was stored or edited");

    // Flagged: it goes through, and the admins get a report and the audit log an entry.
    let flagged = bob.send_text(team, "Cheap  Watches here").await.unwrap();
    bob.send_text(team, &format!("{}!", "a".repeat(10_000))).await.unwrap();
    let reports = alice
        .list_reports(proto::ListReportsRequest { conversation_id: team, ..Default::default() })
        .await
        .unwrap()
        .reports;
    let report = reports.iter().find(|r| r.message_id == flagged.id).expect("a report");
    assert_eq!((report.reporter.as_str(), report.author.as_str()), ("", "bob"));
    assert!(report.reason.contains("\"Cheap  Watches\""), "{}", report.reason);
    let audit = root
        .list_audit(proto::ListAuditRequest {
            action: "message.flagged".into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .entries;
    assert!(audit.iter().any(|e| e.target == flagged.id.to_string() && e.actor == "bob"));

    // Removed: applies at once on this controller.
    assert!(root.delete_filter(darn.id).await.unwrap());
    assert!(!root.delete_filter(darn.id).await.unwrap());
    bob.send_text(team, "darn").await.unwrap();
    // Another org's messages are not its filters' business.
    let other = server.client("zoe", "globex").await;
    let elsewhere = other
        .create_team(proto::CreateTeamRequest { name: "G".into(), ..Default::default() })
        .await
        .unwrap()
        .id;
    other.send_text(elsewhere, "cheap watches").await.unwrap();
    assert!(root.list_filters().await.unwrap().iter().all(|f| f.id != darn.id));

    // sbctl.
    let token = server.admin_token("root", "acme");
    let added = sbctl(&server.url(), &token, &["filters", "add", "heck"]).await.unwrap();
    assert!(added.contains("heck") && added.contains("refuse"), "{added}");
    let listed = sbctl(&server.url(), &token, &["filters", "list"]).await.unwrap();
    assert!(listed.contains("heck") && listed.contains(&cheap.id.to_string()), "{listed}");
    expect_code(bob.send_text(team, "what the heck").await, Code::InvalidArgument);
}

#[tokio::test]
async fn a_suspended_user_is_cut_off_everywhere_until_lifted() {
    let server = TestController::start().await;
    let relay = TestRelay::start(&server).await;
    let (alice, team) = server.team_of("alice", &["bob"]).await;
    let bob = server.client("bob", "acme").await;
    let via_relay = relay.client(server.token("bob", "acme")).await;
    let root = server.client_with_token(server.admin_token("root", "acme")).await;
    let mut bob_live = relay.realtime(server.token("bob", "acme"));
    live::live(&mut bob_live).await;

    expect_code(alice.suspend_user("bob", "").await, Code::PermissionDenied);
    expect_code(root.suspend_user("root", "").await, Code::InvalidArgument);
    let suspension = root.suspend_user("bob", "abuse").await.unwrap();
    assert_eq!((suspension.user_id.as_str(), suspension.suspended_by.as_str()), ("bob", "root"));

    // His stream ends at once, and so does every attempt to come back.
    let (code, why) = live::disconnected(&mut bob_live).await;
    assert_eq!(code, Code::PermissionDenied);
    assert!(why.contains("suspended") && why.contains("abuse"), "{why}");
    let (code, _) = live::disconnected(&mut bob_live).await;
    assert_eq!(code, Code::PermissionDenied, "reconnecting is refused");
    // Every call is refused, through the controller or the relay.
    let refused = expect_code(bob.send_text(team, "hi").await, Code::PermissionDenied);
    assert!(refused.contains("suspended") && refused.contains("abuse"), "{refused}");
    expect_code(bob.list_conversations(0, 10).await, Code::PermissionDenied);
    expect_code(via_relay.list_conversations(0, 10).await, Code::PermissionDenied);
    // Nobody else is.
    alice.send_text(team, "still here").await.unwrap();
    let (listed, next) = root.list_suspensions("", 10).await.unwrap();
    assert_eq!((listed.len(), next.as_str()), (1, ""));

    // Lifted: back with his memberships.
    assert!(root.unsuspend_user("bob").await.unwrap());
    assert!(!root.unsuspend_user("bob").await.unwrap());
    bob.send_text(team, "back").await.unwrap();
    let audit = root
        .list_audit(proto::ListAuditRequest { limit: 100, ..Default::default() })
        .await
        .unwrap()
        .entries;
    let actions: Vec<&str> = audit.iter().map(|e| e.action.as_str()).collect();
    assert!(actions.contains(&"user.suspended") && actions.contains(&"user.unsuspended"));

    // sbctl.
    let token = server.admin_token("root", "acme");
    sbctl(&server.url(), &token, &["admin", "suspend", "carol", "--reason", "spam"]).await.unwrap();
    let table = sbctl(&server.url(), &token, &["admin", "suspended"]).await.unwrap();
    assert!(table.contains("carol") && table.contains("spam"), "{table}");
    expect_code(
        server.client("carol", "acme").await.list_conversations(0, 10).await,
        Code::PermissionDenied,
    );
}
