//! The audit log: every audited action writes exactly one entry with the right actor and
//! target; only `chat.admin` holders read it, and only their own org's.

use switchboard_tests::{Code, TestController, expect_code, proto, sbctl};

fn trail(entries: &[proto::AuditEntry]) -> Vec<(String, String, String)> {
    let mut trail: Vec<_> =
        entries.iter().map(|e| (e.actor.clone(), e.action.clone(), e.target.clone())).collect();
    trail.reverse(); // oldest first, as the test acted
    trail
}

fn entry(actor: &str, action: &str, target: impl ToString) -> (String, String, String) {
    (actor.to_string(), action.to_string(), target.to_string())
}

#[tokio::test]
async fn every_audited_action_writes_exactly_one_entry() {
    let server = TestController::start().await;
    let alice = server.client_with_token(server.admin_token("alice", "acme")).await;
    let bob = server.client("bob", "acme").await;
    let dave = server.client("dave", "acme").await;
    let team = alice
        .create_team(proto::CreateTeamRequest {
            name: "Ops".into(),
            members: vec!["bob".into(), "dave".into()],
            ..Default::default()
        })
        .await
        .unwrap()
        .id;
    alice
        .update_team(proto::UpdateTeamRequest {
            conversation_id: team,
            name: Some("Ops team".into()),
            ..Default::default()
        })
        .await
        .unwrap();
    alice.add_members(team, &["carol"]).await.unwrap();
    alice.promote_admin(team, "bob").await.unwrap();
    alice.demote_admin(team, "bob").await.unwrap();
    alice.remove_member(team, "carol").await.unwrap();
    let theirs = dave.send_text(team, "to be removed by alice").await.unwrap();
    alice.delete_message(team, theirs.id).await.unwrap();
    let own = dave.send_text(team, "removed by dave himself").await.unwrap();
    dave.delete_message(team, own.id).await.unwrap(); // an author's own delete: not audited
    let png = [0x89, b'P', b'N', b'G', 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 0];
    let upload = dave.upload_bytes(team, "a.png", "image/png", &png, |_| {}).await.unwrap();
    alice.delete_attachment(upload.id).await.unwrap();
    alice.leave(team).await.unwrap_err(); // the owner cannot leave: nothing happened
    alice.transfer_ownership(team, "bob").await.unwrap();
    bob.archive(team).await.unwrap();

    let log = alice.list_audit(proto::ListAuditRequest::default()).await.unwrap();
    assert_eq!(
        trail(&log.entries),
        vec![
            entry("alice", "team.created", team),
            entry("alice", "team.updated", team),
            entry("alice", "member.added", "carol"),
            entry("alice", "member.promoted", "bob"),
            entry("alice", "member.demoted", "bob"),
            entry("alice", "member.removed", "carol"),
            entry("alice", "message.deleted", theirs.id),
            entry("alice", "attachment.deleted", upload.id),
            entry("alice", "ownership.transferred", "bob"),
            entry("bob", "team.archived", team),
        ]
    );
    assert!(log.entries.iter().all(|e| e.conversation_id == team && e.at_ms > 0));
    assert_eq!(log.next_before_id, 0);

    // Filters and pages.
    let by_bob = proto::ListAuditRequest { actor: "bob".into(), ..Default::default() };
    assert_eq!(trail(&alice.list_audit(by_bob).await.unwrap().entries).len(), 1);
    let added = proto::ListAuditRequest { action: "member.added".into(), ..Default::default() };
    assert_eq!(alice.list_audit(added).await.unwrap().entries[0].target, "carol");
    let bad = proto::ListAuditRequest { action: "member.hugged".into(), ..Default::default() };
    expect_code(alice.list_audit(bad).await, Code::InvalidArgument);
    let mut paged = Vec::new();
    let mut before_id = 0;
    loop {
        let request = proto::ListAuditRequest { limit: 3, before_id, ..Default::default() };
        let page = alice.list_audit(request).await.unwrap();
        paged.extend(page.entries);
        if page.next_before_id == 0 {
            break;
        }
        before_id = page.next_before_id;
    }
    assert_eq!(paged, log.entries, "pages of 3 add up to the whole log, without overlap");

    // Only chat.admin holders, and only their org.
    expect_code(bob.list_audit(proto::ListAuditRequest::default()).await, Code::PermissionDenied);
    let other = server.client_with_token(server.admin_token("alice", "other-org")).await;
    assert!(other.list_audit(proto::ListAuditRequest::default()).await.unwrap().entries.is_empty());

    // sbctl audit, as an operator reads it.
    let token = server.admin_token("alice", "acme");
    let table = sbctl(&server.url(), &token, &["audit", "--since", "1h"]).await.unwrap();
    assert!(table.contains("ownership.transferred") && table.contains("ACTOR"), "{table}");
    let json = sbctl(&server.url(), &token, &["--json", "audit", "--actor", "bob"]).await.unwrap();
    let entries: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(entries[0]["action"], "team.archived");
}
