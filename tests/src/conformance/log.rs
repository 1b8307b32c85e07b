//! Each conversation's log: order, chaining, counts, removals.

use std::sync::Arc;

use switchboard_server::ids::EPOCH_MS;
use switchboard_server::model::{Message, MessageVersion, Role};
use switchboard_server::store::{Inserted, Revision, Store};

use super::{ORG, fresh_channel, id_in, message, team};

pub async fn the_log_orders_and_chains_every_change(store: Arc<dyn Store>) {
    let channel = fresh_channel();
    assert_eq!(store.log_head(channel).await.unwrap(), None, "an empty log");
    assert!(store.list_log(channel, 0, 10).await.unwrap().is_empty());
    let mut first = message(channel, id_in(3, 1), "a", None);
    let second = message(channel, id_in(3, 2), "a", None);
    let Inserted::New(created) = store.insert_message(ORG, &first, &[]).await.unwrap() else {
        panic!("new")
    };
    store.insert_message(ORG, &second, &[]).await.unwrap();
    let replaced = MessageVersion {
        data: std::mem::replace(&mut first.data, "edited".into()),
        written_at_ms: first.ts_ms,
        replaced_at_ms: EPOCH_MS,
        seq: 0,
    };
    let edited = store.update_message(&first, EPOCH_MS, Revision::Edit(&replaced)).await.unwrap();

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
            match store.insert_message(ORG, &m, &[]).await.unwrap() {
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
        store.insert_message(ORG, m, &[]).await.unwrap();
    }
    shared.deleted = true;
    store.update_message(&shared, EPOCH_MS, Revision::Delete).await.unwrap();
    let log = store.list_log(channel, 0, 10).await.unwrap();
    let counts: Vec<u64> = log.iter().map(|e| e.count).collect();
    assert_eq!(counts, [1, 1, 2, 2], "private messages, edits and deletes add nothing");
    assert_eq!(store.log_head(channel).await.unwrap().map(|e| e.count), Some(2));
}

pub async fn a_removal_takes_its_place_in_the_log(store: Arc<dyn Store>) {
    let c = team(&store, fresh_channel(), &[("owner", Role::Owner), ("m", Role::Member)]).await;
    let before = message(c.id, id_in(8, 1), "owner", None);
    store.insert_message(ORG, &before, &[]).await.unwrap();
    let removed = store.remove_member(c.id, "m", "owner").await.unwrap().expect("a member");
    let after = message(c.id, id_in(8, 2), "owner", None);
    store.insert_message(ORG, &after, &[]).await.unwrap();
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
