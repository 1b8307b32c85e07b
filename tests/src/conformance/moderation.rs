//! Bans: one per user and conversation, listed by user, removed once. Reports: newest
//! first per conversation, rewritten when handled.

use std::sync::Arc;

use switchboard_server::model::{Ban, Report, ReportState};
use switchboard_server::store::Store;

fn ban(conversation_id: u64, user: &str, reason: &str) -> Ban {
    let (by, at_ms) = ("ann".to_string(), 1_700_000_000_000);
    Ban { conversation_id, user: user.into(), by, at_ms, reason: reason.into() }
}

pub async fn bans_are_kept_per_conversation_listed_by_user_and_removed_once(store: Arc<dyn Store>) {
    let (team, other) = (9_101, 9_102);
    assert_eq!(store.get_ban(team, "bob").await.unwrap(), None);
    for user in ["dan", "bob", "cat"] {
        store.put_ban(&ban(team, user, "")).await.unwrap();
    }
    store.put_ban(&ban(other, "bob", "elsewhere")).await.unwrap();
    // Banning again replaces the reason.
    store.put_ban(&ban(team, "bob", "spam")).await.unwrap();
    assert_eq!(store.get_ban(team, "bob").await.unwrap(), Some(ban(team, "bob", "spam")));
    let users = |bans: Vec<Ban>| bans.into_iter().map(|b| b.user).collect::<Vec<_>>();
    assert_eq!(users(store.list_bans(team, "", 10).await.unwrap()), ["bob", "cat", "dan"]);
    assert_eq!(users(store.list_bans(team, "bob", 1).await.unwrap()), ["cat"]);
    assert_eq!(users(store.list_bans(other, "", 10).await.unwrap()), ["bob"]);
    assert!(store.remove_ban(team, "bob").await.unwrap());
    assert!(!store.remove_ban(team, "bob").await.unwrap(), "already gone");
    assert_eq!(store.get_ban(team, "bob").await.unwrap(), None);
    assert_eq!(users(store.list_bans(team, "", 10).await.unwrap()), ["cat", "dan"]);
    assert_eq!(store.get_ban(other, "bob").await.unwrap().unwrap().reason, "elsewhere");
}

fn report(conversation_id: u64, id: u64, state: ReportState) -> Report {
    Report {
        id,
        conversation_id,
        message_id: 77,
        reporter: "bob".into(),
        reason: "spam".into(),
        author: "eve".into(),
        text: "buy now".into(),
        state,
        handled_by: String::new(),
        handled_at_ms: 0,
    }
}

pub async fn reports_are_listed_newest_first_and_rewritten_when_handled(store: Arc<dyn Store>) {
    let (team, other) = (9_201, 9_202);
    for id in [5, 9, 7] {
        store.put_report(&report(team, id, ReportState::Open)).await.unwrap();
    }
    store.put_report(&report(other, 8, ReportState::Open)).await.unwrap();
    let ids = |reports: Vec<Report>| reports.into_iter().map(|r| r.id).collect::<Vec<_>>();
    assert_eq!(ids(store.list_reports(team, u64::MAX, 10).await.unwrap()), [9, 7, 5]);
    assert_eq!(ids(store.list_reports(team, 9, 1).await.unwrap()), [7]);
    let handled = Report {
        state: ReportState::Dismissed,
        handled_by: "ann".into(),
        handled_at_ms: 1_700_000_000_000,
        ..report(team, 7, ReportState::Open)
    };
    store.put_report(&handled).await.unwrap();
    assert_eq!(store.get_report(team, 7).await.unwrap(), Some(handled));
    assert_eq!(store.get_report(team, 8).await.unwrap(), None, "another conversation's");
    assert_eq!(ids(store.list_reports(other, u64::MAX, 10).await.unwrap()), [8]);
}
