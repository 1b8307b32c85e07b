//! Read markers and unread private messages.

use std::sync::Arc;

use switchboard_server::model::{Message, ReadMarker};
use switchboard_server::store::{Inserted, Store};

use super::{ORG, fresh_channel, id_in, marker, message};

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

pub async fn sending_marks_read(store: Arc<dyn Store>) {
    let channel = fresh_channel();
    let first = message(channel, id_in(6, 1), "a", None);
    let Inserted::New(entry) = store.insert_message(ORG, &first, &[]).await.unwrap() else {
        panic!("new")
    };
    let sent = ReadMarker { message_id: first.id, at: entry.point() };
    assert_eq!(store.get_read_marker(channel, "a").await.unwrap(), Some(sent));
    assert_eq!(store.get_read_marker(channel, "b").await.unwrap(), None, "only the author's");
    let retry = message(channel, id_in(6, 2), "a", Some("k"));
    store.insert_message(ORG, &retry, &[]).await.unwrap();
    store.insert_message(ORG, &retry, &[]).await.unwrap();
    let marker = store.get_read_marker(channel, "a").await.unwrap().unwrap();
    assert_eq!((marker.message_id, marker.at.count), (retry.id, 2), "a retry moves nothing");
}

pub async fn private_messages_stay_unread_until_the_marker_passes(store: Arc<dyn Store>) {
    let channel = fresh_channel();
    let to_b = |n| Message { to: Some("b".into()), ..message(channel, id_in(7, n), "a", None) };
    let mut entries = Vec::new();
    for m in [to_b(1), message(channel, id_in(7, 2), "a", None), to_b(3)] {
        let Inserted::New(entry) = store.insert_message(ORG, &m, &[]).await.unwrap() else {
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
