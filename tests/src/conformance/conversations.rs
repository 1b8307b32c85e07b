//! Conversations: metadata, one DM per pair, one SELF per user, one per linked key.

use std::sync::Arc;

use switchboard_server::model::{Conversation, Kind, Role};
use switchboard_server::store::Store;

use super::{conversation, fresh_channel, member, team};

pub async fn conversations_round_trip(store: Arc<dyn Store>) {
    assert_eq!(store.get_conversation(1).await.unwrap(), None);
    let stored = team(&store, 1, &[("owner", Role::Owner), ("m", Role::Member)]).await;
    assert_eq!(stored.member_count, 2, "the count follows the members written");
    let mut update = stored.clone();
    update.name = "renamed".into();
    update.member_count = 99; // not the caller's to set
    update.owner = "someone".into();
    update.external_key = Some("order:1".into());
    update.custom_fields = [("stage".to_string(), "review".to_string())].into();
    let updated = store.update_conversation(&update).await.unwrap();
    assert_eq!(updated.name, "renamed");
    assert_eq!(updated.custom_fields, update.custom_fields);
    assert_eq!((updated.member_count, updated.owner.as_str()), (2, "owner"));
    assert_eq!(updated.external_key, None, "a link never changes");
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

pub async fn linked_conversations_are_one_per_key_even_when_racing(store: Arc<dyn Store>) {
    assert_eq!(store.linked_conversation("acme", "order:1234").await.unwrap(), None);
    let mut racers = Vec::new();
    for i in 0..16u64 {
        let store = store.clone();
        racers.push(tokio::spawn(async move {
            let candidate = Conversation {
                external_key: Some("order:1234".into()),
                ..conversation(400 + i, "acme", Kind::Group)
            };
            let members = [member("owner", Role::Owner), member(&format!("m{i}"), Role::Member)];
            store.get_or_create_linked(&candidate, &members).await.unwrap()
        }));
    }
    let mut linked = Vec::new();
    for racer in racers {
        linked.push(racer.await.unwrap());
    }
    let id = linked[0].id;
    assert!(linked.iter().all(|c| c.id == id), "one conversation");
    assert_eq!(linked[0].external_key.as_deref(), Some("order:1234"));
    assert_eq!(linked[0].member_count, 2, "only the winner's members were written");
    assert_eq!(store.linked_conversation("acme", "order:1234").await.unwrap(), Some(id));
    for loser in (400..416).filter(|candidate| *candidate != id) {
        assert_eq!(store.get_conversation(loser).await.unwrap(), None, "nothing partial");
    }
    // Keys are per org, and exact.
    assert_eq!(store.linked_conversation("globex", "order:1234").await.unwrap(), None);
    assert_eq!(store.linked_conversation("acme", "order:123").await.unwrap(), None);
    let elsewhere = Conversation {
        external_key: Some("order:1234".into()),
        ..conversation(450, "globex", Kind::Group)
    };
    let members = [member("owner", Role::Owner)];
    assert_eq!(store.get_or_create_linked(&elsewhere, &members).await.unwrap().id, 450);
}

pub async fn an_org_lists_its_conversations_of_every_kind(store: Arc<dyn Store>) {
    let ids: Vec<u64> = (0..6).map(|_| fresh_channel()).collect();
    let org = format!("listed-{}", ids[0]);
    let owner = member("owner", Role::Owner);
    let team = conversation(ids[0], &org, Kind::Group);
    store.create_conversation(&team, std::slice::from_ref(&owner)).await.unwrap();
    let pair = [member("x", Role::Member), member("y", Role::Member)];
    store.get_or_create_direct(&conversation(ids[1], &org, Kind::Direct), &pair).await.unwrap();
    let lost = conversation(ids[5], &org, Kind::Direct);
    assert_eq!(store.get_or_create_direct(&lost, &pair).await.unwrap().id, ids[1]);
    let notes = conversation(ids[2], &org, Kind::SelfNotes);
    store.get_or_create_self(&notes, &owner).await.unwrap();
    let linked = Conversation {
        external_key: Some("order:9".into()),
        ..conversation(ids[3], &org, Kind::Group)
    };
    store.get_or_create_linked(&linked, std::slice::from_ref(&owner)).await.unwrap();
    let elsewhere = conversation(ids[4], &format!("other-{org}"), Kind::Group);
    store.create_conversation(&elsewhere, std::slice::from_ref(&owner)).await.unwrap();

    let mut listed: Vec<u64> = ids[..4].to_vec();
    listed.sort_unstable();
    let first = store.list_org_conversations(&org, 0, 3).await.unwrap();
    assert_eq!(first, listed[..3], "in id order, a page at a time; the DM that lost is not one");
    let rest = store.list_org_conversations(&org, first[2], 3).await.unwrap();
    assert_eq!(rest, listed[3..]);
    let other = store.list_org_conversations(&format!("other-{org}"), 0, 10).await.unwrap();
    assert_eq!(other, [elsewhere.id]);
}
