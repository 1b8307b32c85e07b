//! Notification records.

use std::sync::Arc;

use switchboard_server::ids::EPOCH_MS;
use switchboard_server::model::{Message, MessageVersion, Notification, NotificationReason};
use switchboard_server::store::{Revision, Store};

use super::{ORG, duplicate_of, id_in, is_new, message};

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
    assert!(is_new(store.insert_message(ORG, &sent, &caused).await.unwrap()));
    let retry = Message { id: id_in(0, 2), ..sent.clone() };
    let again = [notification("acme", "bob", 52, 43)];
    let outcome = store.insert_message(ORG, &retry, &again).await.unwrap();
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

pub async fn push_settings_are_kept_per_user(store: Arc<dyn Store>) {
    use switchboard_server::model::{PushLevel, PushSettings};
    let org = format!("push-{}", super::fresh_channel());
    assert_eq!(store.get_push_settings(&org, "a").await.unwrap(), None);
    let quiet = PushSettings { level: PushLevel::Mentions, quiet: Some((1320, 420)) };
    store.set_push_settings(&org, "a", &quiet).await.unwrap();
    let none = PushSettings { level: PushLevel::None, quiet: None };
    store.set_push_settings(&org, "b", &none).await.unwrap();
    assert_eq!(store.get_push_settings(&org, "a").await.unwrap(), Some(quiet));
    assert_eq!(store.get_push_settings(&org, "b").await.unwrap(), Some(none));
    // Replaced whole: quiet hours cleared with the rest.
    store.set_push_settings(&org, "a", &PushSettings::default()).await.unwrap();
    assert_eq!(store.get_push_settings(&org, "a").await.unwrap(), Some(PushSettings::default()));
    assert_eq!(store.get_push_settings("other-org", "a").await.unwrap(), None);
}

pub async fn devices_are_kept_per_user_with_one_owner_each(store: Arc<dyn Store>) {
    use switchboard_server::model::{Device, DeviceAddress, Platform};
    let org = format!("devices-{}", super::fresh_channel());
    let device = |id: u64, user: &str, token: &str| Device {
        id,
        org: org.clone(),
        user: user.into(),
        platform: Platform::Fcm,
        address: DeviceAddress::Token(token.into()),
        app_id: "app".into(),
        locale: "de-CH".into(),
        registered_at_ms: EPOCH_MS + id as i64,
    };
    let web = Device {
        address: DeviceAddress::WebPush {
            endpoint: "https://push.example/1".into(),
            p256dh: "key".into(),
            auth: "secret".into(),
        },
        platform: Platform::WebPush,
        ..device(2, "a", "")
    };
    store.put_device(&device(1, "a", "t1")).await.unwrap();
    store.put_device(&web).await.unwrap();
    assert_eq!(store.list_devices(&org, "a").await.unwrap(), [device(1, "a", "t1"), web.clone()]);
    assert_eq!(store.get_device_owner(2).await.unwrap(), Some((org.clone(), "a".into())));
    // Re-registered elsewhere: the new owner; the old owner's removal leaves it so.
    store.put_device(&device(1, "b", "t1")).await.unwrap();
    assert_eq!(store.get_device_owner(1).await.unwrap(), Some((org.clone(), "b".into())));
    assert!(store.remove_device(&org, "a", 1).await.unwrap());
    assert_eq!(store.get_device_owner(1).await.unwrap(), Some((org.clone(), "b".into())));
    assert!(!store.remove_device(&org, "a", 1).await.unwrap(), "gone already");
    assert_eq!(store.list_devices(&org, "a").await.unwrap(), [web]);
    assert!(store.remove_device(&org, "b", 1).await.unwrap());
    assert_eq!(store.get_device_owner(1).await.unwrap(), None);
    assert!(store.list_devices("other-org", "a").await.unwrap().is_empty());
}

pub async fn deleting_a_message_removes_its_notifications(store: Arc<dyn Store>) {
    let channel = super::fresh_channel();
    let org = format!("notified-{channel}");
    let for_message = |id: u64, message_id: u64, user: &str| Notification {
        message_id,
        ..notification(&org, user, id, channel)
    };
    let (gone, kept) = (
        message(channel, id_in(0, 1), "author", None),
        message(channel, id_in(0, 2), "author", None),
    );
    let caused = [for_message(1, gone.id, "bob"), for_message(2, gone.id, "carol")];
    store.insert_message(&org, &gone, &caused).await.unwrap();
    store.insert_message(&org, &kept, &[for_message(3, kept.id, "bob")]).await.unwrap();
    // Marking read rewrites a notification; it is still found.
    store.put_notifications(&[Notification { read: true, ..caused[0].clone() }]).await.unwrap();

    let deleted = Message { deleted: true, data: String::new(), ..gone.clone() };
    store.update_message(&deleted, EPOCH_MS, Revision::Delete).await.unwrap();
    let ids = |list: Vec<Notification>| list.into_iter().map(|n| n.id).collect::<Vec<_>>();
    assert_eq!(ids(store.list_notifications(&org, "bob", u64::MAX, 10).await.unwrap()), [3]);
    assert!(store.list_notifications(&org, "carol", u64::MAX, 10).await.unwrap().is_empty());
    let edited = Message { data: "changed".into(), ..kept.clone() };
    let version =
        MessageVersion { data: kept.data.clone(), written_at_ms: 0, replaced_at_ms: 1, seq: 0 };
    store.update_message(&edited, EPOCH_MS, Revision::Edit(&version)).await.unwrap();
    assert_eq!(
        ids(store.list_notifications(&org, "bob", u64::MAX, 10).await.unwrap()),
        [3],
        "an edit keeps them"
    );
}

pub async fn marking_read_never_brings_back_a_removed_notification(store: Arc<dyn Store>) {
    let channel = super::fresh_channel();
    let org = format!("marked-{channel}");
    let for_message = |id: u64, message_id: u64| Notification {
        message_id,
        ..notification(&org, "bob", id, channel)
    };
    let (gone, kept) = (
        message(channel, id_in(0, 1), "author", None),
        message(channel, id_in(0, 2), "author", None),
    );
    store.insert_message(&org, &gone, &[for_message(1, gone.id)]).await.unwrap();
    store.insert_message(&org, &kept, &[for_message(2, kept.id)]).await.unwrap();
    // bob's client listed both; the first message is deleted before he marks them read.
    let deleted = Message { deleted: true, data: String::new(), ..gone.clone() };
    store.update_message(&deleted, EPOCH_MS, Revision::Delete).await.unwrap();
    store.mark_notifications_read(&org, "bob", &[1, 2]).await.unwrap();
    let listed = store.list_notifications(&org, "bob", u64::MAX, 10).await.unwrap();
    assert_eq!(listed, [Notification { read: true, ..for_message(2, kept.id) }]);
}
