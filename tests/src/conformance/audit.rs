//! The audit log.

use std::sync::Arc;

use switchboard_server::ids::{EPOCH_MS, first_id_at};
use switchboard_server::model::{AuditAction, AuditEntry, audit_day};
use switchboard_server::store::Store;

pub async fn audit_entries_are_listed_per_org_and_day_newest_first(store: Arc<dyn Store>) {
    let at = |day: i64, n: i64| EPOCH_MS + day * 86_400_000 + n;
    let entry = |org: &str, at_ms: i64, target: &str| AuditEntry {
        id: first_id_at(at_ms),
        org: org.into(),
        at_ms,
        actor: "a".into(),
        action: AuditAction::MemberAdded,
        conversation_id: 30,
        target: target.into(),
        detail: String::new(),
    };
    let entries = [
        entry("acme", at(3, 10), "x"),
        entry("acme", at(3, 20), "y"),
        entry("acme", at(3, 30), "z"),
        entry("acme", at(4, 10), "next day"),
        entry("other", at(3, 15), "other org"),
    ];
    for e in &entries {
        store.append_audit(e, &["a"]).await.unwrap();
    }
    let day = audit_day(at(3, 0));
    let targets = |list: Vec<AuditEntry>| list.into_iter().map(|e| e.target).collect::<Vec<_>>();
    assert_eq!(
        targets(store.list_audit("acme", day, u64::MAX, 10).await.unwrap()),
        ["z", "y", "x"]
    );
    assert_eq!(targets(store.list_audit("acme", day, entries[2].id, 1).await.unwrap()), ["y"]);
    assert_eq!(targets(store.list_audit("other", day, u64::MAX, 10).await.unwrap()), ["other org"]);
    let full = store.list_audit("acme", day, u64::MAX, 10).await.unwrap();
    assert_eq!(full[0], entries[2], "entries come back whole");
}

pub async fn audit_entries_are_listed_per_user_named_and_rewritten(store: Arc<dyn Store>) {
    let org = format!("audited-{}", super::fresh_channel());
    let entry = |n: i64, actor: &str, target: &str| AuditEntry {
        id: first_id_at(EPOCH_MS + n * 86_400_000),
        org: org.clone(),
        at_ms: EPOCH_MS + n * 86_400_000,
        actor: actor.into(),
        action: AuditAction::MemberAdded,
        conversation_id: 30,
        target: target.into(),
        detail: format!("detail {n}"),
    };
    let (first, second, third) =
        (entry(1, "admin", "bob"), entry(2, "bob", "carol"), entry(3, "admin", "carol"));
    store.append_audit(&first, &["admin", "bob"]).await.unwrap();
    store.append_audit(&second, &["bob", "carol"]).await.unwrap();
    store.append_audit(&third, &["admin", "carol"]).await.unwrap();

    let bobs = store.list_user_audit(&org, "bob", 10).await.unwrap();
    assert_eq!(bobs, [second.clone(), first.clone()], "newest first, on different days");
    assert_eq!(store.list_user_audit(&org, "bob", 1).await.unwrap(), std::slice::from_ref(&second));
    let renamed = AuditEntry { actor: "someone".into(), detail: String::new(), ..second.clone() };
    store.rewrite_audit(&renamed).await.unwrap();
    store.forget_user_audit(&org, "bob", &[second.id]).await.unwrap();
    assert_eq!(store.list_user_audit(&org, "bob", 10).await.unwrap(), std::slice::from_ref(&first));
    let day = audit_day(second.at_ms);
    assert_eq!(
        store.list_audit(&org, day, u64::MAX, 10).await.unwrap(),
        std::slice::from_ref(&renamed)
    );
    let carols = store.list_user_audit(&org, "carol", 10).await.unwrap();
    assert_eq!(carols, [third, renamed], "other users' lists read the entry as it is now");
}
