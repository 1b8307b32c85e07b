//! The Store conformance suite: every behaviour the controller relies on, written once
//! against the `Store` trait. Each engine instantiates it with
//! [`store_conformance_suite!`](crate::store_conformance_suite); the embedded engine's
//! results are the reference.

use std::collections::BTreeMap;
use std::sync::Arc;

use switchboard_server::ids::{BUCKET_MS, EPOCH_MS, first_id_at};
use switchboard_server::model::{
    Attachment, AttachmentState, AuditAction, AuditEntry, Conversation, Kind, LogPoint, Member,
    Message, MessageChange, MessageType, Notification, NotificationReason, ReadMarker, Role,
    Visibility, audit_day, change_hour,
};
use switchboard_server::store::{
    AttachmentClaim, Direction, HistoryQuery, Inserted, RoleChange, Store,
};

/// An engine under test: its store, and whatever must live as long as it (a temp dir).
pub struct Engine {
    pub store: Arc<dyn Store>,
    pub keep: Box<dyn std::any::Any + Send>,
}

/// Runs each case as its own test for one engine:
/// `store_conformance_suite!(name, crate::factory)` where `factory()` is an async fn
/// returning `Option<Engine>` (None: that engine is not configured here; the test says so
/// and passes).
#[macro_export]
macro_rules! store_conformance_suite {
    ($engine:ident, $make:path) => {
        mod $engine {
            $crate::store_conformance_suite!(@cases $make;
                conversations_round_trip, members_are_listed_added_and_removed,
                roles_change_only_from_the_expected_role, ownership_moves_only_from_the_owner,
                direct_conversations_are_one_per_pair_even_when_racing,
                self_conversations_are_one_per_user, retried_messages_return_the_original,
                concurrent_retries_store_one_message, history_walks_buckets_in_both_directions,
                history_ranges_are_exclusive_and_limited, edits_and_deletes_are_read_back,
                read_markers_only_move_forward, users_conversations_page_by_id,
                concurrent_writers_lose_nothing, housekeeping_keeps_live_data,
                attachments_round_trip_with_their_messages,
                an_attachment_is_claimed_by_one_message, pending_uploads_are_listed_until_done,
                audit_entries_are_listed_per_org_and_day_newest_first,
                message_changes_follow_inserts_and_updates,
                notifications_are_per_user_newest_first_and_rewritable,
                a_messages_notifications_are_stored_with_it_and_not_again_for_a_retry,
                mutes_and_read_markers_are_per_member,
                the_log_orders_and_chains_every_change,
                concurrent_changes_take_distinct_chained_positions,
                the_log_counts_messages_for_everyone, sending_marks_read,
                private_messages_stay_unread_until_the_marker_passes,
                members_keep_where_they_joined, a_removal_takes_its_place_in_the_log);
        }
    };
    (@cases $make:path; $($case:ident),*) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $case() {
                match $make().await {
                    Some(engine) => {
                        $crate::conformance::$case(engine.store.clone()).await;
                        drop(engine);
                    }
                    None => eprintln!("skipped: engine not configured"),
                }
            }
        )*
    };
}

fn conversation(id: u64, org: &str, kind: Kind) -> Conversation {
    Conversation {
        id,
        org: org.into(),
        kind,
        name: format!("c{id}"),
        icon: String::new(),
        archived: false,
        meta_tags: vec!["a".into()],
        owner: "owner".into(),
        created_at_ms: EPOCH_MS,
        restricted: false,
        visibility: Visibility::Private,
        member_count: 0,
    }
}

fn member(user: &str, role: Role) -> Member {
    Member {
        user_id: user.into(),
        role,
        joined_at_ms: EPOCH_MS + 1,
        muted: false,
        joined: LogPoint::default(),
    }
}

/// A read marker on message `id` at log position `seq`, where the count was `count`.
fn marker(id: u64, seq: u64, count: u64) -> ReadMarker {
    ReadMarker { message_id: id, at: LogPoint { seq, count } }
}

fn message(channel: u64, id: u64, from: &str, key: Option<&str>) -> Message {
    Message {
        id,
        channel_id: channel,
        from: from.into(),
        to: None,
        kind: MessageType::Text,
        data: format!("m{id}"),
        ts_ms: switchboard_server::ids::timestamp_ms(id),
        parent_id: None,
        edited_at_ms: None,
        deleted: false,
        custom_fields: BTreeMap::new(),
        client_msg_id: key.map(String::from),
        attachment: None,
        mentions: Vec::new(),
        deleted_by: None,
        created_seq: 0,
        seq: 0,
    }
}

/// A message as read back, without the log positions the store gave it.
fn unpositioned(message: Message) -> Message {
    Message { created_seq: 0, seq: 0, ..message }
}

/// The original a retried insert answered with, without its log positions.
fn duplicate_of(inserted: Inserted) -> Message {
    match inserted {
        Inserted::Duplicate(original) => unpositioned(*original),
        Inserted::New(entry) => panic!("the retry was stored anew, at {entry:?}"),
    }
}

fn is_new(inserted: Inserted) -> bool {
    matches!(inserted, Inserted::New(_))
}

/// An id in `bucket`, `n` ms into it.
fn id_in(bucket: i64, n: i64) -> u64 {
    first_id_at(EPOCH_MS + bucket * BUCKET_MS + n)
}

async fn team(store: &Arc<dyn Store>, id: u64, users: &[(&str, Role)]) -> Conversation {
    let members: Vec<Member> = users.iter().map(|(u, r)| member(u, *r)).collect();
    let c = conversation(id, "acme", Kind::Group);
    store.create_conversation(&c, &members).await.unwrap();
    store.get_conversation(id).await.unwrap().unwrap()
}

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

pub async fn retried_messages_return_the_original(store: Arc<dyn Store>) {
    team(&store, 5, &[("a", Role::Owner), ("b", Role::Member)]).await;
    let original = message(5, id_in(0, 1), "a", Some("k"));
    assert!(is_new(store.insert_message(&original, &[]).await.unwrap()));
    let retry = message(5, id_in(0, 2), "a", Some("k"));
    assert_eq!(duplicate_of(store.insert_message(&retry, &[]).await.unwrap()), original);
    let other_sender = message(5, id_in(0, 3), "b", Some("k"));
    assert!(is_new(store.insert_message(&other_sender, &[]).await.unwrap()));
    let no_key = message(5, id_in(0, 4), "a", None);
    assert!(is_new(store.insert_message(&no_key, &[]).await.unwrap()));
    assert_eq!(store.get_message(5, retry.id).await.unwrap(), None, "the retry wrote nothing");
}

pub async fn concurrent_retries_store_one_message(store: Arc<dyn Store>) {
    team(&store, 6, &[("a", Role::Owner)]).await;
    let mut racers = Vec::new();
    for i in 0..16 {
        let store = store.clone();
        racers.push(tokio::spawn(async move {
            store
                .insert_message(&message(6, id_in(0, 10 + i), "a", Some("same")), &[])
                .await
                .unwrap()
        }));
    }
    let mut new = 0;
    for racer in racers {
        new += usize::from(is_new(racer.await.unwrap()));
    }
    assert_eq!(new, 1);
    let all =
        HistoryQuery { before: None, after: None, direction: Direction::NewestFirst, limit: 100 };
    assert_eq!(store.list_messages(6, all).await.unwrap().len(), 1);
}

async fn seed_buckets(store: &Arc<dyn Store>, channel: u64) -> Vec<u64> {
    team(store, channel, &[("a", Role::Owner)]).await;
    let mut ids = Vec::new();
    for bucket in [0, 1, 5, 6] {
        for n in 0..3 {
            let id = id_in(bucket, 1 + n);
            store.insert_message(&message(channel, id, "a", None), &[]).await.unwrap();
            ids.push(id);
        }
    }
    ids
}

pub async fn history_walks_buckets_in_both_directions(store: Arc<dyn Store>) {
    let ids = seed_buckets(&store, 7).await;
    let query = |direction, limit| HistoryQuery { before: None, after: None, direction, limit };
    let newest: Vec<u64> = store
        .list_messages(7, query(Direction::NewestFirst, 100))
        .await
        .unwrap()
        .iter()
        .map(|m| m.id)
        .collect();
    let mut expected = ids.clone();
    expected.reverse();
    assert_eq!(newest, expected);
    let oldest: Vec<u64> = store
        .list_messages(7, query(Direction::OldestFirst, 100))
        .await
        .unwrap()
        .iter()
        .map(|m| m.id)
        .collect();
    assert_eq!(oldest, ids);
    assert_eq!(store.list_messages(7, query(Direction::NewestFirst, 4)).await.unwrap().len(), 4);
}

pub async fn history_ranges_are_exclusive_and_limited(store: Arc<dyn Store>) {
    let ids = seed_buckets(&store, 8).await;
    let range = |before, after, direction, limit| HistoryQuery { before, after, direction, limit };
    let got = |q| {
        let store = store.clone();
        async move { store.list_messages(8, q).await.unwrap().iter().map(|m| m.id).collect::<Vec<_>>() }
    };
    assert_eq!(
        got(range(Some(ids[5]), Some(ids[1]), Direction::NewestFirst, 100)).await,
        [ids[4], ids[3], ids[2]]
    );
    assert_eq!(got(range(None, Some(ids[8]), Direction::OldestFirst, 2)).await, [ids[9], ids[10]]);
    assert_eq!(got(range(Some(ids[3]), None, Direction::NewestFirst, 2)).await, [ids[2], ids[1]]);
    assert!(got(range(Some(ids[0]), None, Direction::NewestFirst, 10)).await.is_empty());
    assert!(got(range(None, Some(ids[11]), Direction::OldestFirst, 10)).await.is_empty());
    assert!(
        store
            .list_messages(999, range(None, None, Direction::NewestFirst, 10))
            .await
            .unwrap()
            .is_empty()
    );
}

pub async fn edits_and_deletes_are_read_back(store: Arc<dyn Store>) {
    team(&store, 9, &[("a", Role::Owner)]).await;
    let mut m = message(9, id_in(2, 5), "a", Some("e"));
    store.insert_message(&m, &[]).await.unwrap();
    m.data = "edited".into();
    m.edited_at_ms = Some(EPOCH_MS + 10);
    store.update_message(&m, EPOCH_MS + 10).await.unwrap();
    assert_eq!(store.get_message(9, m.id).await.unwrap().map(unpositioned), Some(m.clone()));
    m.deleted = true;
    m.deleted_by = Some("a".into());
    m.data.clear();
    store.update_message(&m, EPOCH_MS + 20).await.unwrap();
    let all =
        HistoryQuery { before: None, after: None, direction: Direction::NewestFirst, limit: 10 };
    let listed = store.list_messages(9, all).await.unwrap();
    assert_eq!(listed.into_iter().map(unpositioned).collect::<Vec<_>>(), vec![m.clone()]);
    let retry = message(9, id_in(2, 6), "a", Some("e"));
    assert_eq!(duplicate_of(store.insert_message(&retry, &[]).await.unwrap()), m);
}

pub async fn read_markers_only_move_forward(store: Arc<dyn Store>) {
    let at_50 = marker(50, 500, 5);
    assert_eq!(store.advance_read_marker(10, "a", at_50).await.unwrap(), at_50);
    assert_eq!(store.advance_read_marker(10, "a", marker(60, 400, 4)).await.unwrap(), at_50);
    // Forward is by place in the log, not by message id (commit order is not id order).
    let at_40 = marker(40, 600, 6);
    assert_eq!(store.advance_read_marker(10, "a", at_40).await.unwrap(), at_40);
    assert_eq!(store.advance_read_marker(10, "b", at_50).await.unwrap(), at_50);
    let markers = store.list_read_markers(10).await.unwrap();
    assert_eq!(markers, vec![("a".to_string(), 40), ("b".to_string(), 50)]);
    assert!(store.list_read_markers(11).await.unwrap().is_empty());
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

pub async fn concurrent_writers_lose_nothing(store: Arc<dyn Store>) {
    team(&store, 30, &[("a", Role::Owner)]).await;
    let mut writers = Vec::new();
    for w in 0..8i64 {
        let store = store.clone();
        writers.push(tokio::spawn(async move {
            for n in 0..40 {
                let id = id_in(w % 3, 100 + w * 1000 + n);
                store
                    .insert_message(&message(30, id, "a", Some(&format!("{w}-{n}"))), &[])
                    .await
                    .unwrap();
            }
        }));
    }
    for writer in writers {
        writer.await.unwrap();
    }
    let all =
        HistoryQuery { before: None, after: None, direction: Direction::OldestFirst, limit: 1000 };
    let ids: Vec<u64> = store.list_messages(30, all).await.unwrap().iter().map(|m| m.id).collect();
    assert_eq!(ids.len(), 320);
    assert!(ids.windows(2).all(|w| w[0] < w[1]), "ordered by id");
}

pub async fn housekeeping_keeps_live_data(store: Arc<dyn Store>) {
    team(&store, 40, &[("a", Role::Owner)]).await;
    let original = message(40, id_in(0, 1), "a", Some("fresh"));
    store.insert_message(&original, &[]).await.unwrap();
    store.maintain().await.unwrap();
    store.flush().await.unwrap();
    // a key inside its window still answers with the original after housekeeping
    let retry = message(40, id_in(0, 2), "a", Some("fresh"));
    assert_eq!(duplicate_of(store.insert_message(&retry, &[]).await.unwrap()), original);
    assert_eq!(store.get_message(40, original.id).await.unwrap().map(unpositioned), Some(original));
}

fn attachment(id: u64, channel: u64, expires_at_ms: i64) -> Attachment {
    Attachment {
        id,
        org: "acme".into(),
        channel_id: channel,
        uploader: "a".into(),
        filename: format!("f{id}.png"),
        content_type: "image/png".into(),
        size: 1234,
        dimensions: None,
        state: AttachmentState::Pending,
        multipart: Some(format!("upload-{id}")),
        created_at_ms: EPOCH_MS,
        expires_at_ms,
        message_id: None,
    }
}

pub async fn attachments_round_trip_with_their_messages(store: Arc<dyn Store>) {
    team(&store, 20, &[("a", Role::Owner)]).await;
    let mut a = attachment(id_in(1, 1), 20, EPOCH_MS + 1000);
    store.put_attachment(&a).await.unwrap();
    assert_eq!(store.get_attachment(a.id).await.unwrap(), Some(a.clone()));
    assert_eq!(store.get_attachment(a.id + 1).await.unwrap(), None);
    a.state = AttachmentState::Complete;
    a.multipart = None;
    a.dimensions = Some((640, 480));
    store.put_attachment(&a).await.unwrap();
    assert_eq!(store.get_attachment(a.id).await.unwrap(), Some(a.clone()));

    let mut m = message(20, id_in(1, 2), "a", None);
    m.kind = MessageType::Image;
    m.data = a.id.to_string();
    m.attachment = Some(Box::new(Attachment { message_id: Some(m.id), ..a.clone() }));
    store.insert_message(&m, &[]).await.unwrap();
    assert_eq!(store.get_message(20, m.id).await.unwrap().map(unpositioned), Some(m.clone()));
    // A delete drops the message's copy of the metadata.
    m.deleted = true;
    m.data.clear();
    m.attachment = None;
    store.update_message(&m, m.ts_ms + 1).await.unwrap();
    assert_eq!(store.get_message(20, m.id).await.unwrap().map(unpositioned), Some(m));
}

pub async fn an_attachment_is_claimed_by_one_message(store: Arc<dyn Store>) {
    let a = attachment(id_in(1, 3), 21, EPOCH_MS + 1000);
    assert_eq!(store.claim_attachment(a.id, 7).await.unwrap(), AttachmentClaim::Missing);
    store.put_attachment(&a).await.unwrap();
    let claims = (0..8u64).map(|n| {
        let store = store.clone();
        tokio::spawn(async move { store.claim_attachment(a.id, 100 + n).await.unwrap() })
    });
    let mut outcomes = Vec::new();
    for claim in claims {
        outcomes.push(claim.await.unwrap());
    }
    let winners = outcomes.iter().filter(|c| **c == AttachmentClaim::Claimed).count();
    assert_eq!(winners, 1, "exactly one message gets it: {outcomes:?}");
    let owner = store.get_attachment(a.id).await.unwrap().unwrap().message_id.unwrap();
    for outcome in outcomes.iter().filter(|c| **c != AttachmentClaim::Claimed) {
        assert_eq!(*outcome, AttachmentClaim::Taken(owner));
    }
}

pub async fn pending_uploads_are_listed_until_done(store: Arc<dyn Store>) {
    let now = EPOCH_MS + 10_000;
    let early = attachment(id_in(1, 4), 22, now - 2000);
    let late = attachment(id_in(1, 5), 22, now - 1000);
    let future = attachment(id_in(1, 6), 22, now + 1000);
    for a in [&early, &late, &future] {
        store.put_attachment(a).await.unwrap();
    }
    let mut expired: Vec<u64> =
        store.expired_uploads(now, 10).await.unwrap().iter().map(|a| a.id).collect();
    expired.sort();
    assert_eq!(expired, vec![early.id, late.id]);
    assert_eq!(store.expired_uploads(now, 1).await.unwrap().len(), 1, "limited");
    // Completed (or expired) uploads leave the list.
    let done = Attachment { state: AttachmentState::Complete, ..early.clone() };
    store.put_attachment(&done).await.unwrap();
    let gone = Attachment { state: AttachmentState::Expired, ..late.clone() };
    store.put_attachment(&gone).await.unwrap();
    assert!(store.expired_uploads(now, 10).await.unwrap().is_empty());
    assert_eq!(store.expired_uploads(now + 2000, 10).await.unwrap()[0].id, future.id);
}

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
        store.append_audit(e).await.unwrap();
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

pub async fn message_changes_follow_inserts_and_updates(store: Arc<dyn Store>) {
    team(&store, 30, &[("a", Role::Owner)]).await;
    // A region of time no other case writes in: bucket 700, a minute into an hour.
    let first = message(30, id_in(700, 60_000), "a", Some("k"));
    let second = message(30, id_in(700, 60_001), "a", None);
    let hour = change_hour(first.ts_ms);
    store.insert_message(&second, &[]).await.unwrap();
    store.insert_message(&first, &[]).await.unwrap();
    let retry = message(30, id_in(700, 60_002), "a", Some("k"));
    assert!(matches!(store.insert_message(&retry, &[]).await.unwrap(), Inserted::Duplicate(_)));
    let edited_at = first.ts_ms + 5;
    store.update_message(&first, edited_at).await.unwrap();
    let change = |at_ms, m: &Message| MessageChange { at_ms, channel_id: 30, message_id: m.id };
    let expected =
        [change(first.ts_ms, &first), change(second.ts_ms, &second), change(edited_at, &first)];
    assert_eq!(
        store.list_message_changes(hour, None, 10).await.unwrap(),
        expected,
        "a retry adds none"
    );
    assert_eq!(
        store.list_message_changes(hour, Some(expected[0]), 1).await.unwrap(),
        [expected[1]]
    );
    assert!(store.list_message_changes(hour, Some(expected[2]), 10).await.unwrap().is_empty());
    assert!(store.list_message_changes(hour + 1, None, 10).await.unwrap().is_empty());
}

fn notification(org: &str, user: &str, id: u64, conversation: u64) -> Notification {
    Notification {
        id,
        org: org.into(),
        user: user.into(),
        conversation_id: conversation,
        message_id: id + 1,
        from: "author".into(),
        reason: NotificationReason::Mention,
        preview: format!("n{id}"),
        created_at_ms: EPOCH_MS + id as i64,
        read: false,
    }
}

pub async fn notifications_are_per_user_newest_first_and_rewritable(store: Arc<dyn Store>) {
    let written = [
        notification("acme", "bob", 1, 40),
        notification("acme", "bob", 3, 41),
        notification("acme", "bob", 2, 40),
        notification("acme", "carol", 4, 40),
        notification("other", "bob", 5, 40),
    ];
    store.put_notifications(&written).await.unwrap();
    let ids = |list: Vec<Notification>| list.into_iter().map(|n| n.id).collect::<Vec<_>>();
    assert_eq!(
        ids(store.list_notifications("acme", "bob", u64::MAX, 10).await.unwrap()),
        [3, 2, 1]
    );
    assert_eq!(ids(store.list_notifications("acme", "bob", 3, 1).await.unwrap()), [2]);
    assert_eq!(ids(store.list_notifications("other", "bob", u64::MAX, 10).await.unwrap()), [5]);
    let read = Notification { read: true, ..written[1].clone() };
    store.put_notifications(std::slice::from_ref(&read)).await.unwrap();
    let listed = store.list_notifications("acme", "bob", u64::MAX, 1).await.unwrap();
    assert_eq!(listed, [read], "a rewrite replaces the notification");
}

pub async fn a_messages_notifications_are_stored_with_it_and_not_again_for_a_retry(
    store: Arc<dyn Store>,
) {
    let sent = message(43, id_in(0, 1), "author", Some("once"));
    let caused = [notification("acme", "bob", 50, 43), notification("acme", "carol", 51, 43)];
    assert!(is_new(store.insert_message(&sent, &caused).await.unwrap()));
    let retry = Message { id: id_in(0, 2), ..sent.clone() };
    let again = [notification("acme", "bob", 52, 43)];
    let outcome = store.insert_message(&retry, &again).await.unwrap();
    assert_eq!(duplicate_of(outcome), sent);
    assert_eq!(
        store.list_notifications("acme", "bob", u64::MAX, 10).await.unwrap(),
        [caused[0].clone()]
    );
    assert_eq!(
        store.list_notifications("acme", "carol", u64::MAX, 10).await.unwrap(),
        [caused[1].clone()]
    );
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

/// A conversation id no other case (or earlier run on a shared keyspace) has used.
fn fresh_channel() -> u64 {
    switchboard_proto::ids::now_us() ^ (rand_tag() << 52)
}

fn rand_tag() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(1);
    NEXT.fetch_add(1, Ordering::Relaxed) % 2048
}

pub async fn the_log_orders_and_chains_every_change(store: Arc<dyn Store>) {
    let channel = fresh_channel();
    assert_eq!(store.log_head(channel).await.unwrap(), None, "an empty log");
    assert!(store.list_log(channel, 0, 10).await.unwrap().is_empty());
    let mut first = message(channel, id_in(3, 1), "a", None);
    let second = message(channel, id_in(3, 2), "a", None);
    let Inserted::New(created) = store.insert_message(&first, &[]).await.unwrap() else {
        panic!("new")
    };
    store.insert_message(&second, &[]).await.unwrap();
    first.data = "edited".into();
    let edited = store.update_message(&first, EPOCH_MS).await.unwrap();

    let log = store.list_log(channel, 0, 10).await.unwrap();
    let ids: Vec<u64> = log.iter().map(|e| e.message_id).collect();
    assert_eq!(ids, [first.id, second.id, first.id], "one entry per change, in commit order");
    assert_eq!((&log[0], &log[2]), (&created, &edited));
    assert_eq!(log[0].prev, 0, "the first entry has no predecessor");
    assert!(log.windows(2).all(|w| w[1].prev == w[0].seq && w[1].seq > w[0].seq), "{log:?}");
    assert_eq!(store.log_head(channel).await.unwrap(), Some(edited.clone()));

    let stored = store.get_message(channel, first.id).await.unwrap().unwrap();
    assert_eq!((stored.created_seq, stored.seq), (created.seq, edited.seq));
    assert_eq!(stored.data, "edited");

    let second_only = [log[1].clone()];
    assert_eq!(
        store.list_log(channel, log[0].seq, 1).await.unwrap(),
        second_only,
        "after, limited"
    );
    assert_eq!(store.list_log(channel, log[0].seq + 1, 10).await.unwrap(), log[1..].to_vec());
    assert!(store.list_log(channel, edited.seq, 10).await.unwrap().is_empty());
    assert!(store.list_log(channel + 1, 0, 10).await.unwrap().is_empty(), "per conversation");
}

pub async fn concurrent_changes_take_distinct_chained_positions(store: Arc<dyn Store>) {
    let channel = fresh_channel();
    let mut writers = Vec::new();
    for i in 0..16 {
        let store = store.clone();
        writers.push(tokio::spawn(async move {
            let m = message(channel, id_in(4, 1 + i), "a", None);
            match store.insert_message(&m, &[]).await.unwrap() {
                Inserted::New(entry) => entry,
                Inserted::Duplicate(_) => panic!("no key, no duplicate"),
            }
        }));
    }
    let mut taken = Vec::new();
    for writer in writers {
        taken.push(writer.await.unwrap());
    }
    taken.sort_by_key(|e| e.seq);
    let log = store.list_log(channel, 0, 100).await.unwrap();
    assert_eq!(log, taken, "every write's entry, unbroken, in position order");
    assert!(log.windows(2).all(|w| w[1].prev == w[0].seq));
}

pub async fn the_log_counts_messages_for_everyone(store: Arc<dyn Store>) {
    let channel = fresh_channel();
    let mut shared = message(channel, id_in(5, 1), "a", None);
    let private = Message { to: Some("b".into()), ..message(channel, id_in(5, 2), "a", None) };
    let later = message(channel, id_in(5, 3), "b", None);
    for m in [&shared, &private, &later] {
        store.insert_message(m, &[]).await.unwrap();
    }
    shared.deleted = true;
    store.update_message(&shared, EPOCH_MS).await.unwrap();
    let log = store.list_log(channel, 0, 10).await.unwrap();
    let counts: Vec<u64> = log.iter().map(|e| e.count).collect();
    assert_eq!(counts, [1, 1, 2, 2], "private messages, edits and deletes add nothing");
    assert_eq!(store.log_head(channel).await.unwrap().map(|e| e.count), Some(2));
}

pub async fn sending_marks_read(store: Arc<dyn Store>) {
    let channel = fresh_channel();
    let first = message(channel, id_in(6, 1), "a", None);
    let Inserted::New(entry) = store.insert_message(&first, &[]).await.unwrap() else {
        panic!("new")
    };
    let sent = ReadMarker { message_id: first.id, at: entry.point() };
    assert_eq!(store.get_read_marker(channel, "a").await.unwrap(), Some(sent));
    assert_eq!(store.get_read_marker(channel, "b").await.unwrap(), None, "only the author's");
    let retry = message(channel, id_in(6, 2), "a", Some("k"));
    store.insert_message(&retry, &[]).await.unwrap();
    store.insert_message(&retry, &[]).await.unwrap();
    let marker = store.get_read_marker(channel, "a").await.unwrap().unwrap();
    assert_eq!((marker.message_id, marker.at.count), (retry.id, 2), "a retry moves nothing");
}

pub async fn private_messages_stay_unread_until_the_marker_passes(store: Arc<dyn Store>) {
    let channel = fresh_channel();
    let to_b = |n| Message { to: Some("b".into()), ..message(channel, id_in(7, n), "a", None) };
    let mut entries = Vec::new();
    for m in [to_b(1), message(channel, id_in(7, 2), "a", None), to_b(3)] {
        let Inserted::New(entry) = store.insert_message(&m, &[]).await.unwrap() else {
            panic!("new")
        };
        entries.push((m.id, entry));
    }
    assert_eq!(store.count_private_unread(channel, "b", 0, 100).await.unwrap(), 2);
    assert_eq!(store.count_private_unread(channel, "b", 0, 1).await.unwrap(), 1, "up to limit");
    assert_eq!(store.count_private_unread(channel, "a", 0, 100).await.unwrap(), 0, "the author");
    let after_first = entries[0].1.seq;
    assert_eq!(store.count_private_unread(channel, "b", after_first, 100).await.unwrap(), 1);
    let (id, entry) = entries[1].clone();
    store
        .advance_read_marker(channel, "b", ReadMarker { message_id: id, at: entry.point() })
        .await
        .unwrap();
    assert_eq!(
        store.count_private_unread(channel, "b", 0, 100).await.unwrap(),
        1,
        "the marker forgets those it passed"
    );
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

pub async fn a_removal_takes_its_place_in_the_log(store: Arc<dyn Store>) {
    let c = team(&store, fresh_channel(), &[("owner", Role::Owner), ("m", Role::Member)]).await;
    let before = message(c.id, id_in(8, 1), "owner", None);
    store.insert_message(&before, &[]).await.unwrap();
    let removed = store.remove_member(c.id, "m", "owner").await.unwrap().expect("a member");
    let after = message(c.id, id_in(8, 2), "owner", None);
    store.insert_message(&after, &[]).await.unwrap();
    let log = store.list_log(c.id, 0, 10).await.unwrap();
    assert_eq!(log.len(), 3);
    assert_eq!(log[1], removed);
    let removal = removed.removal.as_deref().expect("a removal names who left");
    assert_eq!((removal.user.as_str(), removal.by.as_str()), ("m", "owner"));
    assert_eq!((log[0].message_id, log[2].message_id), (before.id, after.id), "in commit order");
    assert!(log.windows(2).all(|w| w[1].prev == w[0].seq));
    assert_eq!(removed.count, 1, "a removal counts no message");
    let later = store.list_log(c.id, log[0].seq, 10).await.unwrap();
    assert_eq!(later.first(), Some(&removed), "read back after a position as written");
}
