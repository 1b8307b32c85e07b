//! Attachments, their claims and pending uploads.

use std::sync::Arc;

use switchboard_server::ids::EPOCH_MS;
use switchboard_server::model::{Attachment, AttachmentState, MessageType, Role};
use switchboard_server::store::{AttachmentClaim, Revision, Store};

use super::{ORG, id_in, message, team, unpositioned};

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
    store.insert_message(ORG, &m, &[]).await.unwrap();
    assert_eq!(store.get_message(20, m.id).await.unwrap().map(unpositioned), Some(m.clone()));
    // A delete drops the message's copy of the metadata.
    m.deleted = true;
    m.data.clear();
    m.attachment = None;
    store.update_message(&m, m.ts_ms + 1, Revision::Delete).await.unwrap();
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

pub async fn files_and_uploads_are_listed_newest_first(store: Arc<dyn Store>) {
    let ids: Vec<u64> = (1..=4).map(|n| id_in(3, 700 + n)).collect();
    for (i, id) in ids.iter().enumerate() {
        let mut upload = attachment(*id, 40, EPOCH_MS + 1);
        upload.uploader = if i == 3 { "b".into() } else { "a".into() };
        store.put_attachment(&upload).await.unwrap();
        store.put_attachment(&upload).await.unwrap(); // written again (completed): once listed
    }
    assert!(store.list_conversation_files(40, None, 10).await.unwrap().is_empty(), "none sent");
    for (n, id) in ids.iter().take(3).enumerate() {
        let claim = store.claim_attachment(*id, id_in(3, 800 + n as i64)).await.unwrap();
        assert_eq!(claim, AttachmentClaim::Claimed);
    }
    let files = store.list_conversation_files(40, None, 10).await.unwrap();
    assert_eq!(files, [ids[2], ids[1], ids[0]]);
    assert_eq!(store.list_conversation_files(40, Some(ids[2]), 1).await.unwrap(), [ids[1]]);
    assert!(store.list_conversation_files(41, None, 10).await.unwrap().is_empty());

    let uploads = store.list_user_uploads("acme", "a", None, 10).await.unwrap();
    assert_eq!(uploads, [ids[2], ids[1], ids[0]]);
    assert_eq!(store.list_user_uploads("acme", "a", Some(ids[1]), 10).await.unwrap(), [ids[0]]);
    assert_eq!(store.list_user_uploads("acme", "b", None, 10).await.unwrap(), [ids[3]]);
    assert!(store.list_user_uploads("globex", "a", None, 10).await.unwrap().is_empty());
}
