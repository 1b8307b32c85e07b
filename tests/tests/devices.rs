//! Devices: each user registers, lists and removes their own; a token is one device,
//! whoever registers it (it moves to the last account); at most 20 per user; tokens are
//! never shown again; bad tokens and subscriptions are refused field by field.

use base64::Engine;
use switchboard_tests::{Code, TestController, expect_code, proto, sbctl};

fn fcm(token: &str) -> proto::Device {
    proto::Device {
        platform: proto::DevicePlatform::Fcm as i32,
        token: token.into(),
        app_id: "com.example.chat".into(),
        locale: "de-CH".into(),
        ..Default::default()
    }
}

fn base64url(bytes: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

fn web_push(endpoint: &str, key: &[u8], auth: &[u8]) -> proto::Device {
    proto::Device {
        platform: proto::DevicePlatform::WebPush as i32,
        web_push: Some(proto::WebPushSubscription {
            endpoint: endpoint.into(),
            p256dh: base64url(key),
            auth: base64url(auth),
        }),
        ..Default::default()
    }
}

fn violation(result: Result<proto::Device, switchboard_sdk::SdkError>, field: &str) {
    let message = expect_code(result, Code::InvalidArgument);
    assert!(message.contains(field), "{field} not named in {message}");
}

#[tokio::test]
async fn devices_are_registered_once_per_token_and_belong_to_one_account() {
    let server = TestController::start().await;
    let bob = server.client("bob", "acme").await;
    let carol = server.client("carol", "acme").await;
    let token = format!("fcm-token-{}", "x".repeat(140));
    let phone = bob.register_device(fcm(&token)).await.unwrap();
    assert!(phone.id != 0 && phone.token.is_empty(), "never shown again: {phone:?}");
    assert_eq!((phone.hint.as_str(), phone.locale.as_str()), ("…xxxxxx", "de-CH"));
    // The same token again: the same device, its details replaced.
    let again = bob.register_device(proto::Device { locale: "fr".into(), ..fcm(&token) }).await;
    let again = again.unwrap();
    assert_eq!((again.id, again.locale.as_str()), (phone.id, "fr"));
    let mut key = vec![4u8; 65];
    key[1] = 7;
    let browser =
        bob.register_device(web_push("https://push.example.net/send/abc", &key, &[9; 16])).await;
    let browser = browser.unwrap();
    assert_eq!(browser.hint, "push.example.net");
    let listed: Vec<u64> = bob.list_devices().await.unwrap().iter().map(|d| d.id).collect();
    assert_eq!(listed, [browser.id, phone.id], "most recently registered first");

    // Carol signs in on Bob's phone: it is hers now.
    assert_eq!(carol.register_device(fcm(&token)).await.unwrap().id, phone.id);
    let bobs: Vec<u64> = bob.list_devices().await.unwrap().iter().map(|d| d.id).collect();
    assert_eq!(bobs, [browser.id]);
    assert!(!bob.remove_device(phone.id).await.unwrap(), "not his to remove");
    assert!(carol.remove_device(phone.id).await.unwrap());
    assert!(carol.list_devices().await.unwrap().is_empty());
    // Another org's user of the same id has a list of their own.
    let other = server.client("bob", "globex").await;
    assert!(other.list_devices().await.unwrap().is_empty());
}

#[tokio::test]
async fn a_user_keeps_at_most_twenty_devices_the_oldest_replaced() {
    let server = TestController::start().await;
    let dave = server.client("dave", "acme").await;
    let mut ids = Vec::new();
    for n in 0..21 {
        ids.push(dave.register_device(fcm(&format!("token-{n:03}"))).await.unwrap().id);
    }
    let mut kept: Vec<u64> = dave.list_devices().await.unwrap().iter().map(|d| d.id).collect();
    kept.sort();
    let mut expected = ids[1..].to_vec();
    expected.sort();
    assert_eq!(kept, expected, "the first registered made room");
}

#[tokio::test]
async fn bad_tokens_and_subscriptions_are_refused_field_by_field() {
    let server = TestController::start().await;
    let erin = server.client("erin", "acme").await;
    let apns = |token: &str, app_id: &str| proto::Device {
        platform: proto::DevicePlatform::Apns as i32,
        token: token.into(),
        app_id: app_id.into(),
        ..Default::default()
    };
    erin.register_device(apns(&"ab".repeat(32), "com.example.chat")).await.unwrap();
    violation(erin.register_device(apns(&"ab".repeat(32), "")).await, "app_id");
    violation(erin.register_device(apns("not hex", "com.example.chat")).await, "token");
    violation(erin.register_device(fcm("")).await, "token");
    violation(erin.register_device(fcm("has space")).await, "token");
    let unspecified = proto::Device { platform: 0, ..fcm("t") };
    violation(erin.register_device(unspecified).await, "platform");
    violation(
        erin.register_device(proto::Device { locale: "de CH".into(), ..fcm("t") }).await,
        "locale",
    );
    let key = [4u8; 65];
    violation(
        erin.register_device(web_push("http://push.example.net/x", &key, &[1; 16])).await,
        "endpoint",
    );
    violation(
        erin.register_device(web_push("https://push.example.net/x", &[4; 33], &[1; 16])).await,
        "p256dh",
    );
    violation(
        erin.register_device(web_push("https://push.example.net/x", &[5; 65], &[1; 16])).await,
        "p256dh",
    );
    violation(
        erin.register_device(web_push("https://push.example.net/x", &key, &[1; 8])).await,
        "auth",
    );
    let no_subscription =
        proto::Device { platform: proto::DevicePlatform::WebPush as i32, ..Default::default() };
    violation(erin.register_device(no_subscription).await, "web_push");
    expect_code(erin.remove_device(0).await, Code::InvalidArgument);
    assert_eq!(erin.list_devices().await.unwrap().len(), 1, "only the good one");

    // sbctl.
    let token = server.token("erin", "acme");
    let shown = sbctl(&server.url(), &token, &["devices", "list"]).await.unwrap();
    assert!(shown.contains("apns") && shown.contains("…ababab"), "{shown}");
}
