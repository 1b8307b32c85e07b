//! Members, roles, ownership and each user's conversations.

use std::sync::Arc;

use switchboard_server::model::{Kind, LogPoint, Member, Role};
use switchboard_server::store::{RoleChange, Store};

use super::{conversation, fresh_channel, marker, member, team};

pub async fn members_are_listed_added_and_removed(store: Arc<dyn Store>) {
    team(&store, 2, &[("owner", Role::Owner)]).await;
    let new = [member("b", Role::Member), member("a", Role::Member), member("b", Role::Member)];
    let added = store.add_members(2, &new).await.unwrap();
    assert_eq!(added.iter().map(|m| m.user_id.as_str()).collect::<Vec<_>>(), ["b", "a"]);
    assert!(store.add_members(2, &[member("a", Role::Member)]).await.unwrap().is_empty());
    let users = |ms: Vec<Member>| ms.into_iter().map(|m| m.user_id).collect::<Vec<_>>();
    assert_eq!(users(store.list_members(2, "", 10).await.unwrap()), ["a", "b", "owner"]);
    assert_eq!(users(store.list_members(2, "a", 1).await.unwrap()), ["b"]);
    assert_eq!(store.get_conversation(2).await.unwrap().unwrap().member_count, 3);
    assert_eq!(store.list_user_conversations("acme", "a", 0, 10).await.unwrap(), [2]);
    assert!(store.remove_member(2, "a", "owner").await.unwrap().is_some());
    assert_eq!(store.remove_member(2, "a", "owner").await.unwrap(), None);
    assert_eq!(store.get_member(2, "a").await.unwrap(), None);
    assert!(store.list_user_conversations("acme", "a", 0, 10).await.unwrap().is_empty());
    assert_eq!(store.get_conversation(2).await.unwrap().unwrap().member_count, 2);
}

pub async fn roles_change_only_from_the_expected_role(store: Arc<dyn Store>) {
    team(&store, 3, &[("owner", Role::Owner), ("m", Role::Member)]).await;
    assert_eq!(
        store.change_role(3, "m", Role::Member, Role::Admin).await.unwrap(),
        RoleChange::Changed
    );
    assert_eq!(
        store.change_role(3, "m", Role::Member, Role::Admin).await.unwrap(),
        RoleChange::Conflict
    );
    assert_eq!(
        store.change_role(3, "x", Role::Member, Role::Admin).await.unwrap(),
        RoleChange::NotAMember
    );
    assert_eq!(store.get_member(3, "m").await.unwrap().unwrap().role, Role::Admin);
}

pub async fn ownership_moves_only_from_the_owner(store: Arc<dyn Store>) {
    team(&store, 4, &[("owner", Role::Owner), ("m", Role::Member)]).await;
    assert_eq!(store.transfer_ownership(4, "m", "owner").await.unwrap(), None, "not the owner");
    assert_eq!(store.transfer_ownership(4, "owner", "nobody").await.unwrap(), None);
    let moved = store.transfer_ownership(4, "owner", "m").await.unwrap().unwrap();
    assert_eq!(moved.owner, "m");
    assert_eq!(store.get_member(4, "m").await.unwrap().unwrap().role, Role::Owner);
    assert_eq!(store.get_member(4, "owner").await.unwrap().unwrap().role, Role::Admin);
    assert_eq!(store.transfer_ownership(4, "owner", "m").await.unwrap(), None, "no longer owner");
}

pub async fn users_conversations_page_by_id(store: Arc<dyn Store>) {
    for id in [20, 21, 22, 23] {
        team(&store, id, &[("u", Role::Owner)]).await;
    }
    let other_org = conversation(24, "globex", Kind::Group);
    store.create_conversation(&other_org, &[member("u", Role::Owner)]).await.unwrap();
    assert_eq!(store.list_user_conversations("acme", "u", 0, 2).await.unwrap(), [20, 21]);
    assert_eq!(store.list_user_conversations("acme", "u", 21, 10).await.unwrap(), [22, 23]);
    assert_eq!(store.list_user_conversations("globex", "u", 0, 10).await.unwrap(), [24]);
}

pub async fn members_keep_where_they_joined(store: Arc<dyn Store>) {
    let c = team(&store, fresh_channel(), &[("owner", Role::Owner)]).await;
    let joined = LogPoint { seq: 1234, count: 7 };
    let late = Member { joined, ..member("late", Role::Member) };
    store.add_members(c.id, std::slice::from_ref(&late)).await.unwrap();
    assert_eq!(store.get_member(c.id, "late").await.unwrap().map(|m| m.joined), Some(joined));
    let listed = store.list_members(c.id, "", 10).await.unwrap();
    assert_eq!(listed.iter().map(|m| m.joined).collect::<Vec<_>>(), [joined, LogPoint::default()]);
}

pub async fn mutes_and_read_markers_are_per_member(store: Arc<dyn Store>) {
    team(&store, 42, &[("owner", Role::Owner), ("m", Role::Member)]).await;
    assert!(store.set_muted(42, "m", true).await.unwrap());
    assert!(!store.set_muted(42, "stranger", true).await.unwrap());
    assert!(store.get_member(42, "m").await.unwrap().unwrap().muted);
    assert!(!store.get_member(42, "owner").await.unwrap().unwrap().muted);
    let promoted = store.change_role(42, "m", Role::Member, Role::Admin).await.unwrap();
    assert_eq!(promoted, RoleChange::Changed);
    assert!(
        store.get_member(42, "m").await.unwrap().unwrap().muted,
        "a role change keeps the mute"
    );
    assert_eq!(store.get_read_marker(42, "m").await.unwrap(), None);
    store.advance_read_marker(42, "m", marker(7, 70, 3)).await.unwrap();
    assert_eq!(store.get_read_marker(42, "m").await.unwrap(), Some(marker(7, 70, 3)));
    assert_eq!(store.get_read_marker(42, "owner").await.unwrap(), None);
}
