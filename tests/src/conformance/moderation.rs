//! Bans: one per user and conversation, listed by user, removed once. Timeouts: kept per
//! user past leaving, copied onto the member row. Slow mode's compare-and-set of a
//! member's last post. Reports: newest first per conversation, rewritten when handled.
//! Filters: per org, oldest first, removed once. Suspensions: per org, by user.

use std::sync::Arc;

use switchboard_server::model::{
    Ban, Filter, FilterAction, FilterKind, Report, ReportState, Role, Suspension, Timeout,
};
use switchboard_server::store::Store;

use super::{fresh_channel, member, team};

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

fn timeout(until_ms: i64, reason: &str) -> Timeout {
    Timeout { until_ms, by: "ann".into(), reason: reason.into() }
}

pub async fn timeouts_outlast_leaving_and_show_on_the_member_row(store: Arc<dyn Store>) {
    let team_id = fresh_channel();
    team(&store, team_id, &[("ann", Role::Owner), ("bob", Role::Member)]).await;
    assert_eq!(store.get_timeout(team_id, "bob").await.unwrap(), None);
    let first = timeout(1_800_000_000_000, "cool off");
    assert!(store.set_timeout(team_id, "bob", Some(&first)).await.unwrap(), "bob is a member");
    assert_eq!(store.get_timeout(team_id, "bob").await.unwrap(), Some(first.clone()));
    let bob = store.get_member(team_id, "bob").await.unwrap().unwrap();
    assert_eq!(bob.timeout, Some(first.clone()));
    assert_eq!(bob.role, Role::Member, "the rest of the row is kept");
    let listed = store.list_members(team_id, "", 10).await.unwrap();
    assert_eq!(listed.iter().find(|m| m.user_id == "bob").unwrap().timeout, Some(first.clone()));

    // After leaving, the timeout is still there to give back on joining again.
    store.remove_member(team_id, "bob", "bob").await.unwrap();
    assert_eq!(store.get_timeout(team_id, "bob").await.unwrap(), Some(first.clone()));
    let later = timeout(1_800_000_100_000, "again");
    assert!(!store.set_timeout(team_id, "bob", Some(&later)).await.unwrap(), "not a member");
    assert_eq!(store.get_timeout(team_id, "bob").await.unwrap(), Some(later));
    store.add_members(team_id, &[member("bob", Role::Member)]).await.unwrap();
    assert_eq!(store.get_member(team_id, "bob").await.unwrap().unwrap().timeout, None);

    // Lifting clears both.
    store.set_timeout(team_id, "bob", Some(&first)).await.unwrap();
    assert!(store.set_timeout(team_id, "bob", None).await.unwrap());
    assert_eq!(store.get_timeout(team_id, "bob").await.unwrap(), None);
    assert_eq!(store.get_member(team_id, "bob").await.unwrap().unwrap().timeout, None);
}

pub async fn a_post_is_claimed_once_from_what_was_seen(store: Arc<dyn Store>) {
    let team_id = fresh_channel();
    team(&store, team_id, &[("ann", Role::Owner), ("bob", Role::Member)]).await;
    let last_post = |store: Arc<dyn Store>| async move {
        store.get_member(team_id, "bob").await.unwrap().unwrap().last_post_ms
    };
    assert_eq!(last_post(store.clone()).await, 0, "never posted");
    assert!(store.claim_post(team_id, "bob", 0, 1_000).await.unwrap());
    assert!(!store.claim_post(team_id, "bob", 0, 1_001).await.unwrap(), "claimed already");
    assert_eq!(last_post(store.clone()).await, 1_000);
    assert!(store.claim_post(team_id, "bob", 1_000, 5_000).await.unwrap());
    assert!(!store.claim_post(team_id, "bob", 1_000, 5_001).await.unwrap());
    assert_eq!(last_post(store.clone()).await, 5_000);
    assert!(!store.claim_post(team_id, "ann", 0, 5_000).await.unwrap(), "not a plain member");
    assert!(!store.claim_post(team_id, "zed", 0, 5_000).await.unwrap(), "not a member");
    assert_eq!(store.get_member(team_id, "zed").await.unwrap(), None, "no row made");
    // The rest of the member row is kept.
    let bob = store.get_member(team_id, "bob").await.unwrap().unwrap();
    assert_eq!(
        (bob.role, bob.joined_at_ms),
        (Role::Member, member("bob", Role::Member).joined_at_ms)
    );
}

pub async fn filters_are_kept_per_org_listed_oldest_first_and_removed_once(store: Arc<dyn Store>) {
    let org = format!("filters-{}", fresh_channel());
    let filter = |id: u64, kind: FilterKind, pattern: &str, action: FilterAction| Filter {
        org: org.clone(),
        id,
        kind,
        pattern: pattern.into(),
        action,
        created_by: "root".into(),
        created_at_ms: 1_700_000_000_000,
    };
    let regex = filter(30, FilterKind::Regex, r"(?i)buy\s+now", FilterAction::Flag);
    let word = filter(10, FilterKind::Word, "spam", FilterAction::Refuse);
    store.put_filter(&regex).await.unwrap();
    store.put_filter(&word).await.unwrap();
    let elsewhere =
        Filter { org: format!("{org}x"), ..filter(20, FilterKind::Word, "x", FilterAction::Flag) };
    store.put_filter(&elsewhere).await.unwrap();
    assert_eq!(store.list_filters(&org, 10).await.unwrap(), [word.clone(), regex.clone()]);
    assert_eq!(store.list_filters(&org, 1).await.unwrap(), std::slice::from_ref(&word));
    assert!(store.remove_filter(&org, 10).await.unwrap());
    assert!(!store.remove_filter(&org, 10).await.unwrap(), "already gone");
    assert_eq!(store.list_filters(&org, 10).await.unwrap(), [regex]);
    assert_eq!(store.list_filters(&elsewhere.org, 10).await.unwrap(), [elsewhere]);
}

pub async fn suspensions_are_kept_per_org_listed_by_user_and_lifted_once(store: Arc<dyn Store>) {
    let org = format!("suspensions-{}", fresh_channel());
    let suspension = |org: &str, user: &str, reason: &str| Suspension {
        org: org.into(),
        user: user.into(),
        by: "root".into(),
        at_ms: 1_700_000_000_000,
        reason: reason.into(),
    };
    for user in ["dan", "bob", "cat"] {
        store.put_suspension(&suspension(&org, user, "")).await.unwrap();
    }
    let elsewhere = format!("{org}x");
    store.put_suspension(&suspension(&elsewhere, "bob", "")).await.unwrap();
    store.put_suspension(&suspension(&org, "bob", "spam")).await.unwrap();
    let users = |page: Vec<Suspension>| page.into_iter().map(|s| s.user).collect::<Vec<_>>();
    assert_eq!(users(store.list_suspensions(&org, "", 10).await.unwrap()), ["bob", "cat", "dan"]);
    assert_eq!(users(store.list_suspensions(&org, "bob", 1).await.unwrap()), ["cat"]);
    assert_eq!(store.list_suspensions(&org, "", 1).await.unwrap()[0].reason, "spam");
    assert!(store.remove_suspension(&org, "bob").await.unwrap());
    assert!(!store.remove_suspension(&org, "bob").await.unwrap(), "already lifted");
    assert_eq!(users(store.list_suspensions(&org, "", 10).await.unwrap()), ["cat", "dan"]);
    assert_eq!(users(store.list_suspensions(&elsewhere, "", 10).await.unwrap()), ["bob"]);
}
