//! Contacts and blocks: a list per (org, user) and kind, by the other user's id.

use std::sync::Arc;

use switchboard_server::model::Relation;
use switchboard_server::store::Store;

pub async fn contacts_and_blocks_are_lists_per_user_and_kind(store: Arc<dyn Store>) {
    for (other, at) in [("carol", 3), ("bob", 1), ("dave", 4)] {
        assert!(store.add_relation(Relation::Contact, "acme", "alice", other, at).await.unwrap());
    }
    assert!(!store.add_relation(Relation::Contact, "acme", "alice", "bob", 9).await.unwrap());
    let all = store.list_relations(Relation::Contact, "acme", "alice", "", 10).await.unwrap();
    let expected = [("bob".to_string(), 1), ("carol".to_string(), 3), ("dave".to_string(), 4)];
    assert_eq!(all, expected, "by id, each with when it was first added");
    let page = store.list_relations(Relation::Contact, "acme", "alice", "bob", 1).await.unwrap();
    assert_eq!(page, expected[1..2]);

    assert_eq!(
        store.get_relation(Relation::Contact, "acme", "alice", "carol").await.unwrap(),
        Some(3)
    );
    assert_eq!(
        store.get_relation(Relation::Block, "acme", "alice", "carol").await.unwrap(),
        None,
        "kinds apart"
    );
    assert_eq!(
        store.get_relation(Relation::Contact, "acme", "carol", "alice").await.unwrap(),
        None,
        "one way"
    );
    assert_eq!(
        store.get_relation(Relation::Contact, "globex", "alice", "carol").await.unwrap(),
        None,
        "orgs apart"
    );

    assert!(store.remove_relation(Relation::Contact, "acme", "alice", "carol").await.unwrap());
    assert!(!store.remove_relation(Relation::Contact, "acme", "alice", "carol").await.unwrap());
    assert!(store.add_relation(Relation::Block, "acme", "alice", "mallory", 7).await.unwrap());
    let blocks = store.list_relations(Relation::Block, "acme", "alice", "", 10).await.unwrap();
    assert_eq!(blocks, [("mallory".to_string(), 7)]);
    // Kept the other way round with the block, and only so.
    let by = store.list_relations(Relation::BlockedBy, "acme", "mallory", "", 10).await.unwrap();
    assert_eq!(by, [("alice".to_string(), 7)]);
    assert!(!store.add_relation(Relation::BlockedBy, "acme", "mallory", "bob", 8).await.unwrap());
    assert!(store.remove_relation(Relation::Block, "acme", "alice", "mallory").await.unwrap());
    assert!(
        store
            .list_relations(Relation::BlockedBy, "acme", "mallory", "", 10)
            .await
            .unwrap()
            .is_empty()
    );
    let contacts = store.list_relations(Relation::Contact, "acme", "alice", "", 10).await.unwrap();
    assert_eq!(contacts.len(), 2);
    assert!(
        store.list_relations(Relation::Contact, "acme", "al", "", 10).await.unwrap().is_empty()
    );
}
