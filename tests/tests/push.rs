//! Device push, against local FCM, APNs and Web Push servers that check what the real
//! providers check: each platform gets the alert (sender, preview, badge = unread
//! notifications, one collapse key per conversation); a device the provider no longer
//! knows is removed; a throttled push is retried no sooner than the provider's
//! Retry-After; nobody following live, and nothing the user's preferences hold back, is
//! pushed (levels, quiet hours); with NATS the pushes come from the stream; `sbctl push test` says what each
//! provider answered.

use std::time::Duration;

use switchboard_tests::providers::{Answer, Delivery, PushProviders, Subscription};
use switchboard_tests::{
    Client, NatsServer, TestController, TestRelay, eventually, live, proto, sbctl,
};

/// A 64-hex-digit APNs token, distinct per `n`.
fn apns_token(n: u8) -> String {
    format!("{n:02x}").repeat(32)
}

fn fcm(token: &str) -> proto::Device {
    proto::Device {
        platform: proto::DevicePlatform::Fcm as i32,
        token: token.into(),
        app_id: "com.example.chat".into(),
        ..Default::default()
    }
}

fn apns(token: &str) -> proto::Device {
    proto::Device {
        platform: proto::DevicePlatform::Apns as i32,
        token: token.into(),
        app_id: "com.example.chat".into(),
        ..Default::default()
    }
}

fn browser(subscription: &Subscription) -> proto::Device {
    proto::Device {
        platform: proto::DevicePlatform::WebPush as i32,
        web_push: Some(proto::WebPushSubscription {
            endpoint: subscription.endpoint.clone(),
            p256dh: subscription.p256dh(),
            auth: subscription.auth(),
        }),
        ..Default::default()
    }
}

/// A controller whose senders all point at `providers`.
async fn controller(providers: &PushProviders, nats: Option<&NatsServer>) -> TestController {
    let keys = tempfile::tempdir().unwrap();
    let mut builder = TestController::builder().configure(|c| providers.configure(keys.path(), c));
    if let Some(nats) = nats {
        builder = builder.nats(nats.url());
    }
    let server = builder.start().await;
    drop(keys); // read at start
    server
}

/// Registers an FCM phone, an APNs phone and a browser for `client`: their addresses.
async fn three_devices(client: &Client, providers: &PushProviders, n: u8) -> [String; 3] {
    let token = format!("fcm-token-{n}-{}", "x".repeat(100));
    client.register_device(fcm(&token)).await.unwrap();
    let apple = apns_token(n);
    client.register_device(apns(&apple)).await.unwrap();
    let subscription = providers.subscribe();
    client.register_device(browser(&subscription)).await.unwrap();
    [token, apple, subscription.id]
}

/// The UTC minute of the day now.
fn utc_minute_now() -> u32 {
    let since = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap();
    ((since.as_secs() / 60) % 1440) as u32
}

fn to(deliveries: &[Delivery], device: &str) -> Vec<Delivery> {
    deliveries.iter().filter(|d| d.device == device).cloned().collect()
}

#[tokio::test]
async fn every_platform_gets_the_alert_with_the_unread_badge_and_one_collapse_key_per_conversation()
{
    let providers = PushProviders::start().await;
    let server = controller(&providers, None).await;
    let (alice, team) = server.team_of("alice", &["bob"]).await;
    let bob = server.client("bob", "acme").await;
    let devices = three_devices(&bob, &providers, 1).await;
    assert_eq!(bob.web_push_public_key().await.unwrap(), providers.vapid_public_key());
    let name = proto::Profile { display_name: "Alice Liddell".into(), ..Default::default() };
    alice.update_profile("", name, &["display_name"]).await.unwrap();

    let first = alice.send_text(team, "@bob the build is red").await.unwrap();
    let deliveries = providers.accepted(3).await;
    for device in &devices {
        let got = to(&deliveries, device);
        assert_eq!(got.len(), 1, "one push to {device}: {deliveries:#?}");
        let push = &got[0];
        assert_eq!(
            (push.title.as_str(), push.body.as_str()),
            ("Alice Liddell", "@bob the build is red")
        );
        assert_eq!(push.badge, 1, "{} shows one unread", push.platform);
        assert_eq!(push.collapse_key, format!("c{team}"), "{}", push.platform);
        assert_eq!(push.data["message_id"], first.id.to_string(), "{}", push.platform);
        assert_eq!(push.data["reason"], "mention", "{}", push.platform);
    }
    // The second unread notification shows 2; once read, the next shows 1 again.
    alice.send_text(team, "@bob still red").await.unwrap();
    let deliveries = providers.accepted(6).await;
    assert!(deliveries[3..].iter().all(|d| d.badge == 2), "{deliveries:#?}");
    let all = proto::MarkNotificationsReadRequest { all: true, ..Default::default() };
    assert_eq!(bob.mark_notifications_read(all).await.unwrap(), 2);
    alice.send_text(team, "@bob green now").await.unwrap();
    let deliveries = providers.accepted(9).await;
    assert!(deliveries[6..].iter().all(|d| d.badge == 1), "{deliveries:#?}");
    assert!(providers.rejected().is_empty(), "{:?}", providers.rejected());
    assert_eq!(providers.access_tokens_sold(), 1, "the FCM access token is kept");
}

#[tokio::test]
async fn a_device_its_provider_no_longer_knows_is_removed() {
    let providers = PushProviders::start().await;
    let server = controller(&providers, None).await;
    let (alice, team) = server.team_of("alice", &["bob"]).await;
    let bob = server.client("bob", "acme").await;
    let devices = three_devices(&bob, &providers, 2).await;
    for device in &devices {
        providers.script(device, &[Answer::Unregistered]);
    }
    alice.send_text(team, "@bob are you there?").await.unwrap();
    eventually("the unregistered devices removed", Duration::from_secs(10), || async {
        bob.list_devices().await.unwrap().is_empty().then_some(())
    })
    .await;
    assert_eq!(providers.deliveries().len(), 3, "each was tried once, not retried");
}

#[tokio::test]
async fn a_throttled_push_is_retried_no_sooner_than_the_providers_retry_after() {
    let providers = PushProviders::start().await;
    let server = controller(&providers, None).await;
    let (alice, team) = server.team_of("alice", &["bob"]).await;
    let bob = server.client("bob", "acme").await;
    let [phone, iphone, web] = three_devices(&bob, &providers, 3).await;
    providers.script(&phone, &[Answer::Throttle(1)]);
    providers.script(&iphone, &[Answer::Unavailable(1)]);
    providers.script(&web, &[Answer::Throttle(1), Answer::Unavailable(1)]);
    alice.send_text(team, "@bob deploy?").await.unwrap();
    let deliveries = providers.accepted(3).await;
    for (device, tries) in [(&phone, 2), (&iphone, 2), (&web, 3)] {
        let got = to(&deliveries, device);
        assert_eq!(got.len(), tries, "{device}: {got:#?}");
        for pair in got.windows(2) {
            let waited = pair[1].at - pair[0].at;
            // The senders' own first retry is 50 ms: only Retry-After makes this a second.
            assert!(waited >= Duration::from_millis(950), "{device} retried after {waited:?}");
        }
        assert_eq!(got.last().unwrap().answered, Answer::Accept);
    }
    assert_eq!(bob.list_devices().await.unwrap().len(), 3, "throttling removes nothing");
}

#[tokio::test]
async fn expired_provider_credentials_are_renewed_and_the_push_goes_through() {
    let providers = PushProviders::start().await;
    let server = controller(&providers, None).await;
    let (alice, team) = server.team_of("alice", &["bob"]).await;
    let bob = server.client("bob", "acme").await;
    let [phone, iphone, web] = three_devices(&bob, &providers, 10).await;
    alice.send_text(team, "@bob first").await.unwrap();
    providers.accepted(3).await;
    assert_eq!(providers.access_tokens_sold(), 1);
    providers.script(&phone, &[Answer::Expired]);
    providers.script(&iphone, &[Answer::Expired]);
    providers.script(&web, &[Answer::Expired]);
    alice.send_text(team, "@bob second").await.unwrap();
    let deliveries = providers.accepted(5).await;
    for device in [&phone, &iphone] {
        let answers: Vec<Answer> = to(&deliveries, device).iter().map(|d| d.answered).collect();
        assert_eq!(answers, [Answer::Accept, Answer::Expired, Answer::Accept], "{device}");
    }
    assert_eq!(providers.access_tokens_sold(), 2, "a new FCM access token was bought");
    // A Web Push refusal is not an expiry to renew: not retried, the device kept.
    let answers = eventually("the browser's second push", Duration::from_secs(10), || async {
        let answers: Vec<Answer> =
            to(&providers.deliveries(), &web).iter().map(|d| d.answered).collect();
        (answers.len() == 2).then_some(answers)
    })
    .await;
    assert_eq!(answers, [Answer::Accept, Answer::Expired]);
    assert_eq!(bob.list_devices().await.unwrap().len(), 3);
}

#[tokio::test]
async fn nobody_following_live_and_nothing_their_preferences_hold_back_is_pushed() {
    let providers = PushProviders::start().await;
    let server = controller(&providers, None).await;
    let relay = TestRelay::start(&server).await;
    let (alice, team) = server.team_of("alice", &["bob", "carol", "dan", "erin"]).await;
    let bob = server.client("bob", "acme").await;
    let carol = server.client("carol", "acme").await;
    let dan = server.client("dan", "acme").await;
    let [bob_phone, ..] = three_devices(&bob, &providers, 4).await;
    let [carol_phone, ..] = three_devices(&carol, &providers, 5).await;
    let [dan_phone, ..] = three_devices(&dan, &providers, 6).await;
    let erin = server.client("erin", "acme").await;
    let [erin_phone, ..] = three_devices(&erin, &providers, 9).await;
    // bob follows live; carol wants nothing pushed; erin is in her quiet hours (UTC, she
    // has no time zone), from five minutes ago to five minutes from now.
    let now = utc_minute_now();
    let quiet = proto::PushSettings {
        level: proto::PushLevel::All as i32,
        quiet_start_minute: (now + 1435) % 1440,
        quiet_end_minute: (now + 5) % 1440,
    };
    erin.set_push_settings(quiet).await.unwrap();
    let mut bob_live = relay.realtime(server.token("bob", "acme"));
    live::live(&mut bob_live).await;
    let none = proto::PushSettings { level: proto::PushLevel::None as i32, ..Default::default() };
    carol.set_push_settings(none).await.unwrap();

    alice.send_text(team, "@bob @carol @erin look").await.unwrap();
    alice.send_text(team, "@dan marker").await.unwrap();
    let deliveries = providers.accepted(3).await;
    assert_eq!(to(&deliveries, &dan_phone).len(), 1);
    assert!(to(&deliveries, &bob_phone).is_empty(), "bob saw it live: {deliveries:#?}");
    assert!(to(&deliveries, &carol_phone).is_empty(), "carol wants none: {deliveries:#?}");
    assert!(to(&deliveries, &erin_phone).is_empty(), "erin's quiet hours: {deliveries:#?}");
    assert!(deliveries.iter().all(|d| d.body == "@dan marker"), "{deliveries:#?}");
}

#[tokio::test]
async fn with_nats_pushes_come_from_the_stream() {
    let nats = NatsServer::start();
    let providers = PushProviders::start().await;
    let server = controller(&providers, Some(&nats)).await;
    let (alice, team) = server.team_of("alice", &["bob"]).await;
    let bob = server.client("bob", "acme").await;
    let devices = three_devices(&bob, &providers, 7).await;
    alice.send_text(team, "@bob via the stream").await.unwrap();
    let deliveries = providers.accepted(3).await;
    for device in &devices {
        assert_eq!(to(&deliveries, device).len(), 1, "{deliveries:#?}");
    }
}

#[tokio::test]
async fn sbctl_push_test_says_what_each_provider_answered() {
    let providers = PushProviders::start().await;
    let server = controller(&providers, None).await;
    let bob = server.client("bob", "acme").await;
    let [phone, iphone, web] = three_devices(&bob, &providers, 8).await;
    providers.script(&iphone, &[Answer::Unregistered]);
    providers.script(&web, &[Answer::Throttle(30)]);
    let table =
        sbctl(&server.url(), &server.token("bob", "acme"), &["push", "test"]).await.unwrap();
    let row = |hint: &str| table.lines().find(|l| l.contains(hint)).unwrap_or_default().to_string();
    assert!(row(&phone[phone.len() - 6..]).contains("delivered"), "{table}");
    assert!(row(&iphone[iphone.len() - 6..]).contains("unregistered"), "{table}");
    assert!(row("127.0.0.1").contains("retry"), "{table}");
    // The user chose that endpoint: its answer's body is not theirs to read.
    assert!(!table.contains("slow down"), "{table}");
    assert_eq!(to(&providers.deliveries(), &phone)[0].title, "Switchboard");
    assert_eq!(bob.list_devices().await.unwrap().len(), 2, "the unregistered one is removed");
}
