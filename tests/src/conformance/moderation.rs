//! Bans: one per user and conversation, listed by user, removed once.

use std::sync::Arc;

use switchboard_server::model::Ban;
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
