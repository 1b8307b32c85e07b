//! Conversations: metadata, one DM per pair, one SELF per user.

use std::sync::Arc;

use switchboard_server::model::{Kind, Role};
use switchboard_server::store::Store;

use super::{conversation, member, team};

pub async fn conversations_round_trip(store: Arc<dyn Store>) {
    assert_eq!(store.get_conversation(1).await.unwrap(), None);
    let stored = team(&store, 1, &[("owner", Role::Owner), ("m", Role::Member)]).await;
    assert_eq!(stored.member_count, 2, "the count follows the members written");
    let mut update = stored.clone();
    update.name = "renamed".into();
    update.member_count = 99; // not the caller's to set
    update.owner = "someone".into();
    let updated = store.update_conversation(&update).await.unwrap();
    assert_eq!(updated.name, "renamed");
    assert_eq!((updated.member_count, updated.owner.as_str()), (2, "owner"));
    assert_eq!(store.get_conversation(1).await.unwrap(), Some(updated));
}

pub async fn direct_conversations_are_one_per_pair_even_when_racing(store: Arc<dyn Store>) {
    let mut racers = Vec::new();
    for i in 0..16u64 {
        let store = store.clone();
        racers.push(tokio::spawn(async move {
            let (a, b) = if i % 2 == 0 { ("x", "y") } else { ("y", "x") };
            let candidate = conversation(100 + i, "acme", Kind::Direct);
            let pair = [member(a, Role::Member), member(b, Role::Member)];
            store.get_or_create_direct(&candidate, &pair).await.unwrap().id
        }));
    }
    let mut ids = Vec::new();
    for racer in racers {
        ids.push(racer.await.unwrap());
    }
    assert!(ids.windows(2).all(|w| w[0] == w[1]), "one conversation: {ids:?}");
    let other_org = conversation(200, "globex", Kind::Direct);
    let pair = [member("x", Role::Member), member("y", Role::Member)];
    assert_eq!(store.get_or_create_direct(&other_org, &pair).await.unwrap().id, 200);
}

pub async fn self_conversations_are_one_per_user(store: Arc<dyn Store>) {
    let first = conversation(300, "acme", Kind::SelfNotes);
    let owner = member("me", Role::Owner);
    assert_eq!(store.get_or_create_self(&first, &owner).await.unwrap().id, 300);
    let again = conversation(301, "acme", Kind::SelfNotes);
    assert_eq!(store.get_or_create_self(&again, &owner).await.unwrap().id, 300);
    assert_eq!(store.get_conversation(301).await.unwrap(), None, "nothing partial");
}
