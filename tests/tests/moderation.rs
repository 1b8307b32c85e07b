//! Moderation: a banned member is removed (seen live by the others and by them), cannot
//! join or be added again until unbanned; only admins ban, following who may remove whom;
//! bans are listed for admins, audited with their reason, and managed with sbctl. Members
//! report messages to the admins, who read them (after a delete too) and handle each once.

use switchboard_sdk::proto::event::Kind;
use switchboard_tests::live::{self, kind};
use switchboard_tests::{Code, TestController, TestRelay, expect_code, proto, sbctl};

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
