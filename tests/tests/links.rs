//! Teams' and channels' custom fields, and conversations linked to business objects
//! (OpenLinked): one per key and org, created once however many ask at the same time.

use std::collections::HashMap;

use switchboard_sdk::token::TokenSpec;
use switchboard_tests::{
    Code, SdkError, TestController, expect_code, outcome, proto, sbctl, violated_fields,
};

fn fields(pairs: &[(&str, &str)]) -> HashMap<String, String> {
    pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
}

fn order_team(name: &str, members: &[&str]) -> proto::open_linked_request::Create {
    proto::open_linked_request::Create::Team(proto::CreateTeamRequest {
        name: name.into(),
        members: members.iter().map(|m| m.to_string()).collect(),
        custom_fields: fields(&[("order", "1234")]),
        ..Default::default()
    })
}

#[tokio::test]
async fn custom_fields_are_set_at_creation_listed_and_replaced_by_admins() {
    let server = TestController::start().await;
    let alice = server.client("alice", "acme").await;
    let team = alice
        .create_team(proto::CreateTeamRequest {
            name: "Deal desk".into(),
            members: vec!["bob".into()],
            custom_fields: fields(&[("region", "emea"), ("stage", "lead")]),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(team.custom_fields, fields(&[("region", "emea"), ("stage", "lead")]));
    assert_eq!(team.external_key, "");
    let bob = server.client("bob", "acme").await;
    let listed = bob.all_conversations().await.unwrap();
    assert_eq!(listed[0].custom_fields, team.custom_fields, "listings carry them");

    // Admins replace them whole; plain members may not.
    let update = |id, pairs: &[(&str, &str)]| proto::UpdateTeamRequest {
        conversation_id: id,
        custom_fields: Some(proto::FieldMap { fields: fields(pairs) }),
        ..Default::default()
    };
    expect_code(
        bob.update_team(update(team.id, &[("stage", "won")])).await,
        Code::PermissionDenied,
    );
    let updated = alice.update_team(update(team.id, &[("stage", "won")])).await.unwrap();
    assert_eq!(updated.custom_fields, fields(&[("stage", "won")]));
    let renamed = alice
        .update_team(proto::UpdateTeamRequest {
            conversation_id: team.id,
            name: Some("Deal desk (EMEA)".into()),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(renamed.custom_fields, fields(&[("stage", "won")]), "unset keeps them");
    assert_eq!(bob.get_conversation(team.id).await.unwrap().custom_fields, renamed.custom_fields);

    // Validated like messages' fields, each problem named.
    let too_many: Vec<(String, String)> = (0..33).map(|i| (format!("k{i}"), "v".into())).collect();
    let too_many: Vec<(&str, &str)> =
        too_many.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let Err(SdkError::Status(status)) = alice.update_team(update(team.id, &too_many)).await else {
        panic!("33 custom fields were accepted");
    };
    assert_eq!(status.code(), Code::InvalidArgument);
    assert_eq!(violated_fields(&status), ["custom_fields"]);
    let long_key = "k".repeat(65);
    let refused = alice
        .create_team(proto::CreateTeamRequest {
            name: "x".into(),
            custom_fields: fields(&[(long_key.as_str(), "v")]),
            ..Default::default()
        })
        .await;
    expect_code(refused, Code::InvalidArgument);
}

#[tokio::test]
async fn the_chat_about_a_business_object_is_created_once_and_found_again() {
    let server = TestController::start().await;
    let alice = server.client("alice", "acme").await;
    let (first, created) =
        alice.open_linked("order:1234", Some(order_team("Order 1234", &["bob"]))).await.unwrap();
    assert!(created);
    assert_eq!(first.external_key, "order:1234");
    assert_eq!(first.custom_fields, fields(&[("order", "1234")]));
    assert_eq!(first.member_count, 2);
    let (again, created) =
        alice.open_linked("order:1234", Some(order_team("Another", &[]))).await.unwrap();
    assert_eq!((again.id, created, again.name.as_str()), (first.id, false, "Order 1234"));

    // A member finds it without describing one; anyone else is refused, even offering one.
    let bob = server.client("bob", "acme").await;
    let (found, created) = bob.open_linked("order:1234", None).await.unwrap();
    assert_eq!((found.id, found.my_role, created), (first.id, proto::Role::Member as i32, false));
    let carol = server.client("carol", "acme").await;
    expect_code(carol.open_linked("order:1234", None).await, Code::PermissionDenied);
    let offer = carol.open_linked("order:1234", Some(order_team("Mine", &[]))).await;
    expect_code(offer, Code::PermissionDenied);

    // Nothing linked: NOT_FOUND to find; creating needs chat.teams.manage.
    let missing = expect_code(alice.open_linked("order:9", None).await, Code::NotFound);
    assert!(missing.contains("order:9"), "{missing}");
    let reader = TokenSpec::new("dave", "acme").scopes(&["chat.read", "chat.write"]);
    let dave = server.client_with_token(server.token_for(&reader)).await;
    let refused = dave.open_linked("order:9", Some(order_team("Order 9", &[]))).await;
    assert!(expect_code(refused, Code::PermissionDenied).contains("chat.teams.manage"));
    expect_code(alice.open_linked("order:9", None).await, Code::NotFound);

    // Keys are per org, and checked.
    let globex = server.client("alice", "globex").await;
    let (theirs, created) =
        globex.open_linked("order:1234", Some(order_team("Theirs", &[]))).await.unwrap();
    assert!(created && theirs.id != first.id);
    for bad in ["", " order:1", "order\n1", &"k".repeat(201)] {
        let refused = alice.open_linked(bad, Some(order_team("x", &[]))).await;
        assert_eq!(outcome(refused), Code::InvalidArgument, "{bad:?}");
    }

    // A channel can be linked as well.
    let channel = proto::open_linked_request::Create::Channel(proto::CreateChannelRequest {
        name: "Launch".into(),
        visibility: proto::Visibility::Public as i32,
        ..Default::default()
    });
    let (launch, _) = alice.open_linked("campaign/launch", Some(channel)).await.unwrap();
    assert_eq!(launch.kind, proto::ConversationKind::Channel as i32);
    let (found, created) = carol.open_linked("campaign/launch", None).await.unwrap();
    assert_eq!((found.id, created), (launch.id, false), "a public channel is found by anyone");
}

#[tokio::test]
async fn many_opening_the_same_link_at_once_get_one_conversation() {
    let server = TestController::start().await;
    let mut racers = Vec::new();
    for _ in 0..8 {
        // Eight devices of one agent, each with its own connection.
        let client = server.client("agent", "acme").await;
        racers.push(tokio::spawn(async move {
            client.open_linked("ticket/ACME-42", Some(order_team("ACME-42", &[]))).await.unwrap()
        }));
    }
    let mut opened = Vec::new();
    for racer in racers {
        opened.push(racer.await.unwrap());
    }
    assert_eq!(opened.iter().filter(|(_, created)| *created).count(), 1, "one call created it");
    let id = opened[0].0.id;
    assert!(opened.iter().all(|(c, _)| c.id == id), "one conversation");
    let agent = server.client("agent", "acme").await;
    let all = agent.all_conversations().await.unwrap();
    assert_eq!(all.len(), 1, "no second one was left behind: {all:?}");
}

#[tokio::test]
async fn sbctl_creates_finds_and_shows_links_and_fields() {
    let server = TestController::start().await;
    let token = server.token("alice", "acme");
    let run = |args: &'static [&'static str]| {
        let (url, token) = (server.url(), token.clone());
        async move {
            let shown = sbctl(&url, &token, args).await.unwrap();
            serde_json::from_str::<serde_json::Value>(&shown).unwrap()
        }
    };
    let create =
        &["--json", "team", "create", "Order 77", "--link", "order:77", "--field", "order=77"];
    let created = run(create).await;
    assert_eq!(created["created"], true);
    assert_eq!(created["external_key"], "order:77");
    assert_eq!(created["custom_fields"]["order"], "77");
    let again = run(create).await;
    assert_eq!((&again["created"], &again["id"]), (&serde_json::json!(false), &created["id"]));
    let found = run(&["--json", "team", "linked", "order:77"]).await;
    assert_eq!(found["id"], created["id"]);
}
