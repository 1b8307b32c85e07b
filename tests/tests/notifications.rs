//! Mentions and notifications: a mention of (or a direct message to) a user who is not
//! following the conversation live creates a notification and unread counts; reading
//! clears them; mute silences all but @mentions; the webhook gets each one signed, and a
//! failing endpoint is retried.

use std::time::Duration;

use hmac::{Hmac, Mac};
use sha2::Sha256;
use switchboard_sdk::{Client, Realtime, RealtimeOptions};
use switchboard_tests::webhook::WebhookReceiver;
use switchboard_tests::{
    Code, NatsServer, TEST_WEBHOOK_SECRET, TestController, TestRelay, create_team, eventually,
    expect_code, live, proto, sbctl,
};

/// Waits (polling, with a deadline) until the presence board has `user` online.
async fn until_online(client: &Client, user: &str) {
    eventually(&format!("{user} coming online"), Duration::from_secs(10), || async {
        client.presence(&[user]).await.unwrap()[0].online.then_some(())
    })
    .await;
}

async fn unread(client: &Client, id: u64) -> (u32, u32, bool) {
    let all = client.all_conversations().await.unwrap();
    let c = all.iter().find(|c| c.id == id).expect("a conversation of the user");
    (c.unread_count, c.mention_count, c.muted)
}

async fn notifications(client: &Client, unread_only: bool) -> Vec<proto::Notification> {
    let request = proto::ListNotificationsRequest { unread_only, ..Default::default() };
    client.list_notifications(request).await.unwrap().notifications
}

fn reasons(list: &[proto::Notification]) -> Vec<(String, proto::NotificationReason, String)> {
    list.iter().map(|n| (n.from.clone(), n.reason(), n.preview.clone())).collect()
}

#[tokio::test]
async fn mentions_of_users_not_following_live_become_notifications() {
    let server = TestController::start().await;
    let relay = TestRelay::start(&server).await;
    let alice = relay.client(server.token("alice", "acme")).await;
    let bob = relay.client(server.token("bob", "acme")).await;
    let carol = relay.client(server.token("carol", "acme")).await;
    let id = create_team(&alice, &["bob", "carol", "erin"]).await;
    let elsewhere = create_team(&alice, &["erin"]).await;
    // carol is online, following all her conversations; erin is online following only
    // another conversation; bob is not connected.
    let mut carol_live = relay.realtime(server.token("carol", "acme"));
    live::live(&mut carol_live).await;
    let only_elsewhere = RealtimeOptions {
        only: vec![elsewhere],
        ..RealtimeOptions::new(relay.url(), server.token("erin", "acme"))
    };
    let mut erin_live = Realtime::connect(only_elsewhere);
    live::live(&mut erin_live).await;
    until_online(&alice, "carol").await;
    until_online(&alice, "erin").await;

    let sent = alice.send_text(id, "hey @bob and @carol, @erin, and @nobody: look").await.unwrap();
    assert_eq!(sent.mentions, ["bob", "carol", "erin"], "members only, in order");
    let erin = relay.client(server.token("erin", "acme")).await;
    let for_erin = notifications(&erin, false).await;
    assert_eq!(for_erin.len(), 1, "online, but not following that conversation");
    let for_bob = notifications(&bob, false).await;
    let mention = proto::NotificationReason::Mention;
    let preview = "hey @bob and @carol, @erin, and @nobody: look".to_string();
    assert_eq!(reasons(&for_bob), [("alice".to_string(), mention, preview)]);
    assert_eq!((for_bob[0].conversation_id, for_bob[0].message_id), (id, sent.id));
    assert!(notifications(&carol, false).await.is_empty(), "carol saw it live");
    alice.send_text(id, "and a plain one").await.unwrap();
    assert_eq!(unread(&bob, id).await, (2, 1, false), "two unread, one mention");

    // @all counts only from admins and the owner; a private message only for its recipient.
    let by_member = bob.send_text(id, "@all lunch?").await.unwrap();
    assert!(by_member.mentions.is_empty());
    let private = proto::SendMessageRequest {
        channel_id: id,
        to: "carol".into(),
        data: "@bob must not know".into(),
        r#type: proto::MessageType::Text as i32,
        ..Default::default()
    };
    alice.send(private).await.unwrap();
    let everyone = alice.send_text(id, "@all standup now").await.unwrap();
    assert_eq!(everyone.mentions, ["@all"]);
    let all = proto::NotificationReason::MentionAll;
    let latest = reasons(&notifications(&bob, false).await);
    assert_eq!(latest[0], ("alice".to_string(), all, "@all standup now".to_string()));
    assert_eq!(latest.len(), 2, "nothing for the member's @all or the private message");

    // A direct message to someone offline notifies too.
    let dave = relay.client(server.token("dave", "acme")).await;
    let dm = dave.open_direct("bob").await.unwrap().id;
    dave.send_text(dm, "ping").await.unwrap();
    let direct = proto::NotificationReason::Direct;
    assert_eq!(
        reasons(&notifications(&bob, false).await)[0],
        ("dave".into(), direct, "ping".into())
    );

    // Reading the team clears its notifications and unread count, not the DM's.
    bob.mark_read(id, everyone.id).await.unwrap();
    assert_eq!(unread(&bob, id).await, (0, 0, false));
    let left = notifications(&bob, true).await;
    assert_eq!(left.iter().map(|n| n.conversation_id).collect::<Vec<_>>(), [dm]);
    let all_read = proto::MarkNotificationsReadRequest { all: true, ..Default::default() };
    assert_eq!(bob.mark_notifications_read(all_read.clone()).await.unwrap(), 1);
    assert_eq!(bob.mark_notifications_read(all_read).await.unwrap(), 0);
    assert!(notifications(&bob, true).await.is_empty());
    let neither = proto::MarkNotificationsReadRequest::default();
    expect_code(bob.mark_notifications_read(neither).await, Code::InvalidArgument);

    // Muted: @all no longer notifies, a mention of bob still does.
    assert!(bob.set_mute(id, true).await.unwrap());
    assert!(unread(&bob, id).await.2, "shown as muted");
    alice.send_text(id, "@all again").await.unwrap();
    alice.send_text(id, "@bob you in particular").await.unwrap();
    let unread_now = reasons(&notifications(&bob, true).await);
    assert_eq!(unread_now, [("alice".into(), mention, "@bob you in particular".into())]);
    assert_eq!(unread(&bob, id).await, (2, 1, true));
    // A listing without the unread state still says what is muted.
    let request = proto::ListConversationsRequest { without_unread: true, ..Default::default() };
    let listed = bob.raw().list_conversations(request).await.unwrap().into_inner().conversations;
    let team = listed.iter().find(|c| c.id == id).expect("bob's team");
    assert_eq!((team.unread_count, team.mention_count, team.muted), (0, 0, true));
    // Only the ids: the same conversations, paged the same way.
    let ids_only =
        proto::ListConversationsRequest { ids_only: true, limit: 1, ..Default::default() };
    let page = bob.raw().list_conversations(ids_only).await.unwrap().into_inner();
    let first = proto::Conversation { id: listed[0].id, ..Default::default() };
    assert_eq!((page.conversations, page.next_after), (vec![first], listed[0].id));
    expect_code(bob.set_mute(dm + 1_000, true).await, Code::NotFound);

    // sbctl, as bob reads them.
    let token = server.token("bob", "acme");
    let table = sbctl(&relay.url(), &token, &["notifications", "list", "--unread"]).await.unwrap();
    assert!(table.contains("you in particular") && table.contains("mention"), "{table}");
    let teams = sbctl(&relay.url(), &token, &["team", "list"]).await.unwrap();
    assert!(teams.contains("UNREAD") && teams.contains("(muted)"), "{teams}");
}

#[tokio::test]
async fn the_webhook_gets_signed_posts_and_a_failing_endpoint_is_retried() {
    let endpoint = WebhookReceiver::start(2).await;
    let server = TestController::builder().webhook(endpoint.url(), 20).start().await;
    let (alice, id) = server.team_of("alice", &["bob"]).await;
    let sent = alice.send_text(id, "@bob the build is red").await.unwrap();

    let calls = endpoint.accepted(1).await;
    assert_eq!(calls.len(), 3, "two refusals, then accepted");
    assert!(calls.iter().all(|c| c.body == calls[0].body), "every attempt sends the same body");
    let call = &calls[2];
    let header = |name: &str| call.headers[name].to_str().unwrap().to_string();
    let mut mac = Hmac::<Sha256>::new_from_slice(TEST_WEBHOOK_SECRET.as_bytes()).unwrap();
    mac.update(format!("{}.", header("x-switchboard-timestamp")).as_bytes());
    mac.update(&call.body);
    let expected: String = mac.finalize().into_bytes().iter().map(|b| format!("{b:02x}")).collect();
    assert_eq!(header("x-switchboard-signature"), format!("sha256={expected}"));
    let payload: serde_json::Value = serde_json::from_slice(&call.body).unwrap();
    assert_eq!(payload["user_id"], "bob");
    assert_eq!(payload["org"], "acme");
    assert_eq!(payload["reason"], "mention");
    assert_eq!(payload["message_id"], sent.id.to_string());
    assert_eq!(payload["preview"], "@bob the build is red");
    assert_eq!(header("x-switchboard-delivery"), payload["id"].as_str().unwrap());
}

#[tokio::test]
async fn with_nats_notifications_go_to_the_stream_and_wait_there_for_the_webhook() {
    let nats = NatsServer::start();
    // A controller without a webhook: the notification is only in the stream.
    let first = TestController::builder().nats(nats.url()).start().await;
    let (alice, id) = first.team_of("alice", &["bob"]).await;
    let sent = alice.send_text(id, "@bob deploy at five").await.unwrap();

    // Push gateways read `notifications.<org>` with their own consumers.
    let client = async_nats::connect(nats.url()).await.unwrap();
    let stream =
        async_nats::jetstream::new(client).get_stream("SWITCHBOARD_NOTIFICATIONS").await.unwrap();
    let gateway = async_nats::jetstream::consumer::pull::Config {
        filter_subject: "notifications.acme".into(),
        ..Default::default()
    };
    let consumer = stream.create_consumer(gateway).await.unwrap();
    let mut messages = consumer.messages().await.unwrap();
    let message =
        tokio::time::timeout(Duration::from_secs(10), futures_util::StreamExt::next(&mut messages))
            .await
            .expect("a notification on the stream")
            .unwrap()
            .unwrap();
    let payload: serde_json::Value = serde_json::from_slice(&message.payload).unwrap();
    assert_eq!(
        (payload["user_id"].as_str(), payload["reason"].as_str()),
        (Some("bob"), Some("mention"))
    );
    assert_eq!(payload["message_id"], sent.id.to_string());
    drop(first);

    // A controller with a webhook, started later, delivers it from the stream (retrying
    // past one refusal); nothing was lost while no webhook sender ran.
    let endpoint = WebhookReceiver::start(1).await;
    let _second =
        TestController::builder().nats(nats.url()).webhook(endpoint.url(), 20).start().await;
    let calls = endpoint.accepted(1).await;
    assert_eq!(calls.len(), 2);
    assert_eq!(calls[1].body, message.payload, "the stream's payload, as published");
}

/// Issue #20: unread counts are exact up to the cap of 100 (it counted others' messages
/// among the next 100 of anyone's): the messages for everyone after the reader's marker, or
/// after they joined, deleted ones included; none of their own (sending marks read); and
/// the private messages to them, which nobody else counts.
#[tokio::test]
async fn unread_counts_are_exact_up_to_the_cap() {
    let server = TestController::builder()
        .configure(|c| c.limits.send_rate_per_sec = 10_000)
        .configure(|c| c.limits.send_burst = 10_000)
        .start()
        .await;
    let (alice, team) = server.team_of("alice", &["bob", "carol"]).await;
    let bob = server.client("bob", "acme").await;
    let carol = server.client("carol", "acme").await;
    for i in 0..412 {
        bob.send_text(team, &format!("bob {i}")).await.unwrap();
    }
    assert_eq!(unread(&alice, team).await.0, 100, "412 of bob's: the cap");
    assert_eq!(unread(&bob, team).await.0, 0, "his own are read");

    alice.send_text(team, "mine").await.unwrap();
    assert_eq!(unread(&alice, team).await.0, 0, "sending marks read");
    let mut deleted = None;
    for i in 0..7 {
        let sent = bob.send_text(team, &format!("after {i}")).await.unwrap();
        deleted.get_or_insert(sent.id);
    }
    let to_alice = proto::SendMessageRequest {
        channel_id: team,
        data: "just for alice".into(),
        to: "alice".into(),
        ..Default::default()
    };
    carol.send(to_alice).await.unwrap();
    bob.delete_message(team, deleted.unwrap()).await.unwrap();
    assert_eq!(
        unread(&alice, team).await.0,
        8,
        "bob's 7 (a deleted one shows as a tombstone) and carol's private one"
    );
    assert_eq!(unread(&bob, team).await.0, 0, "carol's private message is not his to count");

    let late = server.client("dave", "acme").await;
    alice.add_members(team, &["dave"]).await.unwrap();
    assert_eq!(unread(&late, team).await.0, 0, "what came before joining is not unread");
    bob.send_text(team, "welcome dave").await.unwrap();
    assert_eq!(unread(&late, team).await.0, 1);

    let newest = bob.send_text(team, "the newest").await.unwrap();
    assert_eq!(unread(&alice, team).await.0, 10);
    alice.mark_read(team, newest.id).await.unwrap();
    assert_eq!(unread(&alice, team).await.0, 0);
}

#[tokio::test]
async fn mentions_by_someone_you_block_do_not_notify_you() {
    let server = TestController::start().await;
    let (alice, team) = server.team_of("alice", &["bob", "mallory"]).await;
    let mallory = server.client("mallory", "acme").await;
    let bob = server.client("bob", "acme").await;
    bob.block("mallory").await.unwrap();
    mallory.send_text(team, "@bob look at me").await.unwrap();
    alice.send_text(team, "@bob and from alice").await.unwrap();
    let for_bob = reasons(&notifications(&bob, false).await);
    let senders: Vec<&str> = for_bob.iter().map(|(from, _, _)| from.as_str()).collect();
    assert_eq!(senders, ["alice"], "mallory's mention is not a notification: {for_bob:?}");
    bob.unblock("mallory").await.unwrap();
    mallory.send_text(team, "@bob again").await.unwrap();
    assert_eq!(notifications(&bob, false).await[0].from, "mallory", "unblocked, heard again");
}

/// The UTC minute of the day now.
fn utc_minute_now() -> u32 {
    let seconds = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap();
    ((seconds.as_secs() / 60) % 1440) as u32
}

#[tokio::test]
async fn push_preferences_hold_back_what_the_user_does_not_want_pushed() {
    let endpoint = WebhookReceiver::start(0).await;
    let server = TestController::builder().webhook(endpoint.url(), 20).start().await;
    let (alice, team) = server.team_of("alice", &["bob", "carol", "erin"]).await;
    let bob = server.client("bob", "acme").await;
    let carol = server.client("carol", "acme").await;
    let erin = server.client("erin", "acme").await;
    let pushed_to = |calls: Vec<switchboard_tests::webhook::WebhookCall>| -> Vec<String> {
        let payload = |c: &switchboard_tests::webhook::WebhookCall| {
            let body: serde_json::Value = serde_json::from_slice(&c.body).unwrap();
            format!("{} {}", body["user_id"].as_str().unwrap(), body["reason"].as_str().unwrap())
        };
        calls.iter().map(payload).collect()
    };

    // Nothing for carol; mentions and DMs only for bob; everything by default.
    assert_eq!(bob.push_settings().await.unwrap().level(), proto::PushLevel::All);
    let level =
        |level: proto::PushLevel| proto::PushSettings { level: level as i32, ..Default::default() };
    carol.set_push_settings(level(proto::PushLevel::None)).await.unwrap();
    let mentions = bob.set_push_settings(level(proto::PushLevel::Mentions)).await.unwrap();
    assert_eq!(mentions.level(), proto::PushLevel::Mentions);
    let root = bob.send_text(team, "@carol can you look?").await.unwrap();
    carol.reply(team, root.id, "on it", false).await.unwrap();
    alice.send_text(team, "@bob marker one").await.unwrap();
    assert_eq!(pushed_to(endpoint.accepted(1).await), ["bob mention"]);
    // The records are there all the same.
    let records = |client: &Client| {
        let client = client.clone();
        async move {
            let list = notifications(&client, false).await;
            list.iter().map(|n| n.reason()).collect::<Vec<_>>()
        }
    };
    assert_eq!(records(&carol).await, [proto::NotificationReason::Mention]);
    assert_eq!(
        records(&bob).await,
        [proto::NotificationReason::Mention, proto::NotificationReason::ThreadReply]
    );

    // Quiet hours around now (erin has no time zone: UTC) hold a mention back; in her own
    // time zone, a quarter of a day away, the same hours are not now.
    let now = utc_minute_now();
    let quiet = proto::PushSettings {
        level: proto::PushLevel::All as i32,
        quiet_start_minute: (now + 1440 - 10) % 1440,
        quiet_end_minute: (now + 10) % 1440,
    };
    erin.set_push_settings(quiet).await.unwrap();
    alice.send_text(team, "@erin during quiet hours").await.unwrap();
    alice.send_text(team, "@bob marker two").await.unwrap();
    assert_eq!(pushed_to(endpoint.accepted(2).await), ["bob mention", "bob mention"]);
    let zone = proto::Profile { time_zone: "Asia/Kathmandu".into(), ..Default::default() };
    erin.update_profile("", zone, &["time_zone"]).await.unwrap();
    alice.send_text(team, "@erin at her own time").await.unwrap();
    assert_eq!(pushed_to(endpoint.accepted(3).await).last().unwrap(), "erin mention");

    // Bad preferences.
    let late = proto::PushSettings { quiet_start_minute: 1440, ..Default::default() };
    expect_code(erin.set_push_settings(late).await, Code::InvalidArgument);
    let unknown = proto::PushSettings { level: 9, ..Default::default() };
    expect_code(erin.set_push_settings(unknown).await, Code::InvalidArgument);

    // sbctl.
    let token = server.token("erin", "acme");
    let args = ["notifications", "push", "--level", "mentions", "--quiet", "22:00-07:00"];
    let shown = sbctl(&server.url(), &token, &args).await.unwrap();
    assert_eq!(shown.trim(), "push: mentions; quiet hours 22:00-07:00");
    let stored = erin.push_settings().await.unwrap();
    assert_eq!((stored.quiet_start_minute, stored.quiet_end_minute), (1320, 420));
    let cleared = sbctl(&server.url(), &token, &["notifications", "push", "--no-quiet"]).await;
    assert_eq!(cleared.unwrap().trim(), "push: mentions; no quiet hours");
    assert!(
        sbctl(&server.url(), &token, &["notifications", "push", "--quiet", "25:00-07:00"])
            .await
            .is_err()
    );
}

#[tokio::test]
async fn a_deleted_message_takes_its_notifications_with_it() {
    let server = TestController::start().await;
    let (alice, team) = server.team_of("alice", &["bob"]).await;
    let bob = server.client("bob", "acme").await;
    let secret = alice.send_text(team, "@bob the password is hunter2").await.unwrap();
    let kept = alice.send_text(team, "@bob lunch?").await.unwrap();
    assert_eq!(notifications(&bob, false).await.len(), 2);
    assert_eq!(unread(&alice, team).await.1, 0);

    alice.delete_message(team, secret.id).await.unwrap();
    let left = notifications(&bob, false).await;
    let ids: Vec<u64> = left.iter().map(|n| n.message_id).collect();
    assert_eq!(
        ids,
        [kept.id],
        "the deleted message's text is not readable through its notification"
    );
    assert_eq!(unread(&bob, team).await.1, 1, "one mention left");
}
