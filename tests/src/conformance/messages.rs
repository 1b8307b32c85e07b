//! Messages: idempotent inserts, history across buckets, edits, the change feed.

use std::sync::Arc;

use switchboard_server::ids::EPOCH_MS;
use switchboard_server::model::{
    Message, MessageChange, MessageVersion, Pin, Reaction, ReactionCount, Role, change_hour,
};
use switchboard_server::store::{Direction, HistoryQuery, Inserted, Revision, Store};

use super::{ORG, duplicate_of, id_in, is_new, message, team, unpositioned};

async fn seed_buckets(store: &Arc<dyn Store>, channel: u64) -> Vec<u64> {
    team(store, channel, &[("a", Role::Owner)]).await;
    let mut ids = Vec::new();
    for bucket in [0, 1, 5, 6] {
        for n in 0..3 {
            let id = id_in(bucket, 1 + n);
            store.insert_message(ORG, &message(channel, id, "a", None), &[]).await.unwrap();
            ids.push(id);
        }
    }
    ids
}

pub async fn retried_messages_return_the_original(store: Arc<dyn Store>) {
    team(&store, 5, &[("a", Role::Owner), ("b", Role::Member)]).await;
    let original = message(5, id_in(0, 1), "a", Some("k"));
    assert!(is_new(store.insert_message(ORG, &original, &[]).await.unwrap()));
    let retry = message(5, id_in(0, 2), "a", Some("k"));
    assert_eq!(duplicate_of(store.insert_message(ORG, &retry, &[]).await.unwrap()), original);
    let other_sender = message(5, id_in(0, 3), "b", Some("k"));
    assert!(is_new(store.insert_message(ORG, &other_sender, &[]).await.unwrap()));
    let no_key = message(5, id_in(0, 4), "a", None);
    assert!(is_new(store.insert_message(ORG, &no_key, &[]).await.unwrap()));
    assert_eq!(store.get_message(5, retry.id).await.unwrap(), None, "the retry wrote nothing");
}

pub async fn concurrent_retries_store_one_message(store: Arc<dyn Store>) {
    team(&store, 6, &[("a", Role::Owner)]).await;
    let mut racers = Vec::new();
    for i in 0..16 {
        let store = store.clone();
        racers.push(tokio::spawn(async move {
            store
                .insert_message(ORG, &message(6, id_in(0, 10 + i), "a", Some("same")), &[])
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
    store.insert_message(ORG, &m, &[]).await.unwrap();
    let replaced = version(&m.data, m.ts_ms, EPOCH_MS + 10);
    m.data = "edited".into();
    m.edited_at_ms = Some(EPOCH_MS + 10);
    store.update_message(&m, EPOCH_MS + 10, Revision::Edit(&replaced)).await.unwrap();
    assert_eq!(store.get_message(9, m.id).await.unwrap().map(unpositioned), Some(m.clone()));
    m.deleted = true;
    m.deleted_by = Some("a".into());
    m.data.clear();
    store.update_message(&m, EPOCH_MS + 20, Revision::Delete).await.unwrap();
    let all =
        HistoryQuery { before: None, after: None, direction: Direction::NewestFirst, limit: 10 };
    let listed = store.list_messages(9, all).await.unwrap();
    assert_eq!(listed.into_iter().map(unpositioned).collect::<Vec<_>>(), vec![m.clone()]);
    let retry = message(9, id_in(2, 6), "a", Some("e"));
    assert_eq!(duplicate_of(store.insert_message(ORG, &retry, &[]).await.unwrap()), m);
}

/// The text an edit at `replaced_at_ms` replaced (its position is the store's to set).
fn version(data: &str, written_at_ms: i64, replaced_at_ms: i64) -> MessageVersion {
    MessageVersion { data: data.into(), written_at_ms, replaced_at_ms, seq: 0 }
}

pub async fn edits_keep_earlier_texts_until_a_delete(store: Arc<dyn Store>) {
    team(&store, 12, &[("a", Role::Owner)]).await;
    let mut m = message(12, id_in(2, 7), "a", None);
    let other = message(12, id_in(2, 8), "a", None);
    store.insert_message(ORG, &m, &[]).await.unwrap();
    store.insert_message(ORG, &other, &[]).await.unwrap();
    assert!(store.list_message_versions(12, m.id, None, 10).await.unwrap().is_empty());
    let mut written_at = m.ts_ms;
    let mut positions = Vec::new();
    for (n, text) in ["first", "second", "third"].into_iter().enumerate() {
        let at = EPOCH_MS + 100 + n as i64;
        let replaced = version(&m.data, written_at, at);
        m.data = text.into();
        m.edited_at_ms = Some(at);
        positions.push(store.update_message(&m, at, Revision::Edit(&replaced)).await.unwrap().seq);
        written_at = at;
    }
    let other_edit = version(&other.data, other.ts_ms, EPOCH_MS + 200);
    store.update_message(&other, EPOCH_MS + 200, Revision::Edit(&other_edit)).await.unwrap();

    // Newest first, each with the position of the edit that replaced it.
    let versions = store.list_message_versions(12, m.id, None, 10).await.unwrap();
    let seen: Vec<(&str, i64, i64, u64)> = versions
        .iter()
        .map(|v| (v.data.as_str(), v.written_at_ms, v.replaced_at_ms, v.seq))
        .collect();
    let original = message(12, m.id, "a", None).data;
    assert_eq!(
        seen,
        [
            ("second", EPOCH_MS + 101, EPOCH_MS + 102, positions[2]),
            ("first", EPOCH_MS + 100, EPOCH_MS + 101, positions[1]),
            (original.as_str(), m.ts_ms, EPOCH_MS + 100, positions[0]),
        ]
    );
    // Paged by position.
    let page = store.list_message_versions(12, m.id, Some(positions[2]), 1).await.unwrap();
    assert_eq!(page, [versions[1].clone()]);
    assert_eq!(store.list_message_versions(12, m.id, Some(positions[0]), 10).await.unwrap(), []);

    // A delete takes them all, and only this message's.
    m.deleted = true;
    m.data.clear();
    store.update_message(&m, EPOCH_MS + 300, Revision::Delete).await.unwrap();
    assert!(store.list_message_versions(12, m.id, None, 10).await.unwrap().is_empty());
    assert_eq!(store.list_message_versions(12, other.id, None, 10).await.unwrap().len(), 1);
}

pub async fn pins_follow_their_messages(store: Arc<dyn Store>) {
    team(&store, 13, &[("a", Role::Owner)]).await;
    let mut m = message(13, id_in(2, 9), "a", None);
    let other = message(13, id_in(2, 10), "a", None);
    store.insert_message(ORG, &m, &[]).await.unwrap();
    store.insert_message(ORG, &other, &[]).await.unwrap();
    assert!(store.list_pins(13).await.unwrap().is_empty());
    let head = store.log_head(13).await.unwrap().unwrap();

    let pin = Pin { by: "a".into(), at_ms: EPOCH_MS + 5 };
    let (pinned, entry) = store.set_pin(13, m.id, Some(&pin)).await.unwrap().unwrap();
    assert_eq!(pinned.pin.as_ref(), Some(&pin));
    assert_eq!((entry.prev, entry.message_id, pinned.seq), (head.seq, m.id, entry.seq));
    assert_eq!(entry.count, head.count, "a pin adds no message");
    assert_eq!(store.get_message(13, m.id).await.unwrap().unwrap().pin, Some(pin.clone()));
    let other_pin = Pin { by: "b".into(), at_ms: EPOCH_MS + 6 };
    store.set_pin(13, other.id, Some(&other_pin)).await.unwrap();
    let mut pins = store.list_pins(13).await.unwrap();
    pins.sort_by_key(|(id, _)| *id);
    assert_eq!(pins, [(m.id, pin.clone()), (other.id, other_pin)]);

    // An edit keeps the pin; unpinning and a delete remove it.
    let replaced = version(&m.data, m.ts_ms, EPOCH_MS + 7);
    m.data = "edited".into();
    m.pin = Some(pin);
    store.update_message(&m, EPOCH_MS + 7, Revision::Edit(&replaced)).await.unwrap();
    assert!(store.get_message(13, m.id).await.unwrap().unwrap().pin.is_some());
    let (unpinned, _) = store.set_pin(13, other.id, None).await.unwrap().unwrap();
    assert_eq!(unpinned.pin, None);
    m.deleted = true;
    m.pin = None;
    store.update_message(&m, EPOCH_MS + 8, Revision::Delete).await.unwrap();
    assert!(store.list_pins(13).await.unwrap().is_empty());
    assert_eq!(store.get_message(13, m.id).await.unwrap().unwrap().pin, None);
    assert!(store.set_pin(13, id_in(2, 11), None).await.unwrap().is_none(), "no such message");
}

pub async fn reactions_are_one_per_user_and_emoji_and_counted_on_the_message(
    store: Arc<dyn Store>,
) {
    team(&store, 14, &[("a", Role::Owner)]).await;
    let (first, second) =
        (message(14, id_in(2, 20), "a", None), message(14, id_in(2, 21), "a", None));
    store.insert_message(ORG, &first, &[]).await.unwrap();
    store.insert_message(ORG, &second, &[]).await.unwrap();
    let r =
        |emoji: &str, user: &str, at_ms| Reaction { emoji: emoji.into(), user: user.into(), at_ms };
    assert!(store.set_reaction(14, first.id, &r("👍", "b", 1), true).await.unwrap());
    assert!(!store.set_reaction(14, first.id, &r("👍", "b", 2), true).await.unwrap(), "once");
    assert!(store.set_reaction(14, first.id, &r("👍", "c", 3), true).await.unwrap());
    assert!(store.set_reaction(14, first.id, &r(":tada:", "b", 4), true).await.unwrap());
    assert!(store.set_reaction(14, second.id, &r("👍", "b", 5), true).await.unwrap());
    let mut listed = store.list_reactions(14, first.id).await.unwrap();
    listed.sort_by(|x, y| (&x.emoji, &x.user).cmp(&(&y.emoji, &y.user)));
    assert_eq!(listed, [r(":tada:", "b", 4), r("👍", "b", 1), r("👍", "c", 3)]);
    let mut mine = store.user_reactions(14, "b", first.id, second.id).await.unwrap();
    mine.sort();
    assert_eq!(
        mine,
        [
            (first.id, ":tada:".to_string()),
            (first.id, "👍".to_string()),
            (second.id, "👍".to_string())
        ]
    );
    assert_eq!(store.user_reactions(14, "b", second.id, second.id).await.unwrap().len(), 1);
    assert!(store.user_reactions(14, "c", second.id, second.id).await.unwrap().is_empty());

    // Taking one back.
    assert!(store.set_reaction(14, first.id, &r("👍", "c", 6), false).await.unwrap());
    assert!(!store.set_reaction(14, first.id, &r("👍", "c", 7), false).await.unwrap());
    assert_eq!(store.list_reactions(14, first.id).await.unwrap().len(), 2);
    assert!(store.user_reactions(14, "c", first.id, first.id).await.unwrap().is_empty());

    // The counts live on the message, changed in its log.
    let head = store.log_head(14).await.unwrap().unwrap();
    let counts = vec![ReactionCount {
        emoji: "👍".into(),
        count: 1,
        first_users: vec!["b".into()],
        mine: false,
    }];
    let (counted, entry) = store.set_reaction_counts(14, first.id, &counts).await.unwrap().unwrap();
    assert_eq!(
        (counted.reactions.clone(), entry.prev, counted.seq),
        (counts.clone(), head.seq, entry.seq)
    );
    assert_eq!(store.get_message(14, first.id).await.unwrap().unwrap().reactions, counts);
    assert!(store.set_reaction_counts(14, id_in(2, 22), &counts).await.unwrap().is_none());
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
                    .insert_message(ORG, &message(30, id, "a", Some(&format!("{w}-{n}"))), &[])
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

pub async fn message_changes_follow_inserts_and_updates(store: Arc<dyn Store>) {
    team(&store, 30, &[("a", Role::Owner)]).await;
    // A region of time no other case writes in: bucket 700, a minute into an hour.
    let first = message(30, id_in(700, 60_000), "a", Some("k"));
    let second = message(30, id_in(700, 60_001), "a", None);
    let hour = change_hour(first.ts_ms);
    store.insert_message(ORG, &second, &[]).await.unwrap();
    store.insert_message(ORG, &first, &[]).await.unwrap();
    let retry = message(30, id_in(700, 60_002), "a", Some("k"));
    assert!(matches!(
        store.insert_message(ORG, &retry, &[]).await.unwrap(),
        Inserted::Duplicate(_)
    ));
    let edited_at = first.ts_ms + 5;
    let replaced = version("k", first.ts_ms, edited_at);
    store.update_message(&first, edited_at, Revision::Edit(&replaced)).await.unwrap();
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

pub async fn housekeeping_keeps_live_data(store: Arc<dyn Store>) {
    team(&store, 40, &[("a", Role::Owner)]).await;
    let original = message(40, id_in(0, 1), "a", Some("fresh"));
    store.insert_message(ORG, &original, &[]).await.unwrap();
    store.maintain().await.unwrap();
    store.flush().await.unwrap();
    // a key inside its window still answers with the original after housekeeping
    let retry = message(40, id_in(0, 2), "a", Some("fresh"));
    assert_eq!(duplicate_of(store.insert_message(ORG, &retry, &[]).await.unwrap()), original);
    assert_eq!(store.get_message(40, original.id).await.unwrap().map(unpositioned), Some(original));
}

pub async fn a_users_messages_are_listed_newest_first_across_conversations(store: Arc<dyn Store>) {
    let (here, there) = (super::fresh_channel(), super::fresh_channel());
    let writer = format!("writer-{here}");
    let ids = [id_in(0, 1), id_in(2, 1), id_in(1, 5)];
    for (channel, id) in [(here, ids[0]), (there, ids[1]), (here, ids[2])] {
        store.insert_message(ORG, &message(channel, id, &writer, None), &[]).await.unwrap();
    }
    let someone_else = message(here, id_in(1, 6), "someone-else", None);
    store.insert_message(ORG, &someone_else, &[]).await.unwrap();
    store
        .insert_message("elsewhere", &message(here, id_in(1, 7), &writer, None), &[])
        .await
        .unwrap();
    let deleted =
        Message { deleted: true, data: String::new(), ..message(here, ids[2], &writer, None) };
    store.update_message(&deleted, EPOCH_MS, Revision::Delete).await.unwrap();

    let all = store.list_user_messages(ORG, &writer, None, 10).await.unwrap();
    assert_eq!(all, [(there, ids[1]), (here, ids[2]), (here, ids[0])], "deleted ones too");
    let page = store.list_user_messages(ORG, &writer, Some(ids[2]), 1).await.unwrap();
    assert_eq!(page, [(here, ids[0])]);
    assert_eq!(store.list_user_messages("elsewhere", &writer, None, 10).await.unwrap().len(), 1);
}
