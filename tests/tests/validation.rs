//! Every input rule answers INVALID_ARGUMENT naming the field, and writes nothing.

use switchboard_sdk::SdkError;
use switchboard_tests::{Client, Code, TestController, proto};
use tonic_types::StatusExt;

/// The fields named in an INVALID_ARGUMENT's BadRequest details.
fn violated_fields<T: std::fmt::Debug>(result: Result<T, SdkError>) -> Vec<String> {
    match result {
        Err(SdkError::Status(status)) => {
            assert_eq!(status.code(), Code::InvalidArgument, "{}", status.message());
            let details = status.get_error_details();
            let bad_request = details.bad_request().expect("field violations attached");
            bad_request.field_violations.iter().map(|v| v.field.clone()).collect()
        }
        other => panic!("expected INVALID_ARGUMENT, got {other:?}"),
    }
}

async fn setup(server: &TestController) -> (Client, u64) {
    let alice = server.client("alice", "acme").await;
    let team = alice
        .create_team(proto::CreateTeamRequest {
            name: "Valid".into(),
            members: vec!["bob".into()],
            ..Default::default()
        })
        .await
        .unwrap();
    (alice, team.id)
}

fn send(channel: u64, data: &str) -> proto::SendMessageRequest {
    proto::SendMessageRequest { channel_id: channel, data: data.into(), ..Default::default() }
}

#[tokio::test]
async fn message_rules() {
    let server =
        TestController::builder().configure(|c| c.limits.max_message_bytes = 1024).start().await;
    let (alice, team) = setup(&server).await;
    let many_fields = (0..33).map(|i| (format!("k{i}"), "v".to_string())).collect();
    let cases: Vec<(&str, proto::SendMessageRequest)> = vec![
        ("data", send(team, "")),
        ("data", send(team, "   \n ")),
        ("data", send(team, &"x".repeat(1025))),
        ("data", send(team, "bell\u{7}")),
        (
            "data",
            proto::SendMessageRequest {
                r#type: proto::MessageType::Image as i32,
                ..send(team, "not-an-id")
            },
        ),
        ("type", proto::SendMessageRequest { r#type: 99, ..send(team, "hi") }),
        ("channel_id", send(0, "hi")),
        ("to", proto::SendMessageRequest { to: "bad user".into(), ..send(team, "hi") }),
        (
            "client_msg_id",
            proto::SendMessageRequest { client_msg_id: "k".repeat(65), ..send(team, "hi") },
        ),
        (
            "custom_fields",
            proto::SendMessageRequest { custom_fields: many_fields, ..send(team, "hi") },
        ),
        (
            "custom_fields",
            proto::SendMessageRequest {
                custom_fields: [("k".repeat(65), "v".into())].into(),
                ..send(team, "hi")
            },
        ),
        (
            "custom_fields",
            proto::SendMessageRequest {
                custom_fields: [("k".into(), "v".repeat(1025))].into(),
                ..send(team, "hi")
            },
        ),
    ];
    for (field, request) in cases {
        assert_eq!(violated_fields(alice.send(request.clone()).await), [field], "{request:?}");
    }
    // exactly at the limit is fine; multi-byte text counts bytes
    alice.send(send(team, &"x".repeat(1024))).await.unwrap();
    assert_eq!(violated_fields(alice.send(send(team, &"é".repeat(513))).await), ["data"]);
    // several bad fields are all named at once
    let both = proto::SendMessageRequest { to: "bad user".into(), ..send(team, "") };
    assert_eq!(violated_fields(alice.send(both).await), ["to", "data"]);
    // only the valid message was written
    let history = alice
        .history(proto::ListHistoryRequest { channel_id: team, ..Default::default() })
        .await
        .unwrap();
    assert_eq!(history.messages.len(), 1);
    // edits follow the text rules too
    let id = history.messages[0].id;
    assert_eq!(violated_fields(alice.edit_message(team, id, "").await), ["data"]);
    assert_eq!(violated_fields(alice.edit_message(team, 0, "x").await), ["message_id"]);
}

#[tokio::test]
async fn team_rules() {
    let server = TestController::start().await;
    let alice = server.client("alice", "acme").await;
    let team = |name: &str| proto::CreateTeamRequest { name: name.into(), ..Default::default() };
    let cases: Vec<(&str, proto::CreateTeamRequest)> = vec![
        ("name", team("")),
        ("name", team("  ")),
        ("name", team(&"n".repeat(101))),
        ("name", team("tab\tname")),
        (
            "meta_tags",
            proto::CreateTeamRequest {
                meta_tags: (0..21).map(|i| format!("t{i}")).collect(),
                ..team("ok")
            },
        ),
        ("meta_tags", proto::CreateTeamRequest { meta_tags: vec!["t".repeat(65)], ..team("ok") }),
        (
            "meta_tags",
            proto::CreateTeamRequest { meta_tags: vec!["a".into(), "a".into()], ..team("ok") },
        ),
        ("meta_tags", proto::CreateTeamRequest { meta_tags: vec!["".into()], ..team("ok") }),
        (
            "members",
            proto::CreateTeamRequest { members: vec!["no spaces please".into()], ..team("ok") },
        ),
        (
            "members",
            proto::CreateTeamRequest {
                members: (0..1001).map(|i| format!("u{i}")).collect(),
                ..team("ok")
            },
        ),
        ("icon", proto::CreateTeamRequest { icon: "i".repeat(513), ..team("ok") }),
    ];
    for (field, request) in cases {
        assert_eq!(
            violated_fields(alice.create_team(request.clone()).await),
            [field],
            "{:?}",
            request.name
        );
    }
    // 100 characters (not bytes) is the limit
    alice.create_team(team(&"é".repeat(100))).await.unwrap();
    let created = alice.all_conversations().await.unwrap();
    assert_eq!(created.len(), 1, "no invalid team was created");

    let id = created[0].id;
    let rename = |name: &str| proto::UpdateTeamRequest {
        conversation_id: id,
        name: Some(name.into()),
        ..Default::default()
    };
    assert_eq!(violated_fields(alice.update_team(rename("")).await), ["name"]);
    let tags = proto::UpdateTeamRequest {
        meta_tags: Some(proto::TagList { tags: vec!["x".into(); 2] }),
        ..rename("ok")
    };
    assert_eq!(violated_fields(alice.update_team(tags).await), ["meta_tags"]);
    assert_eq!(alice.get_conversation(id).await.unwrap().name, "é".repeat(100), "nothing partial");
    assert_eq!(violated_fields(alice.add_members(id, &[]).await), ["user_ids"]);
    assert_eq!(violated_fields(alice.add_members(id, &["ok", "not ok"]).await), ["user_ids"]);
    assert_eq!(alice.get_conversation(id).await.unwrap().member_count, 1, "nobody was added");
    assert_eq!(violated_fields(alice.remove_member(id, "").await), ["user_id"]);
    assert_eq!(violated_fields(alice.open_direct("a b").await), ["user_id"]);
}

#[tokio::test]
async fn page_limits_are_bounded() {
    let server = TestController::start().await;
    let (alice, team) = setup(&server).await;
    let history =
        |limit, before, after| proto::ListHistoryRequest { channel_id: team, limit, before, after };
    assert_eq!(violated_fields(alice.history(history(201, 0, 0)).await), ["limit"]);
    alice.history(history(200, 0, 0)).await.unwrap();
    assert_eq!(violated_fields(alice.history(history(10, 5, 9)).await), ["after"]);
    assert_eq!(violated_fields(alice.list_conversations(0, 201).await), ["limit"]);
    assert_eq!(violated_fields(alice.list_members(team, "", 1001).await), ["limit"]);
}

#[derive(Clone, PartialEq, prost::Message)]
struct RawSend {
    #[prost(uint64, tag = "1")]
    channel_id: u64,
    /// `data` is a `string` in the protocol; sent here as raw bytes to smuggle bad UTF-8.
    #[prost(bytes = "vec", tag = "4")]
    data: Vec<u8>,
}

#[tokio::test]
async fn text_that_is_not_utf8_is_an_invalid_argument() {
    let server = TestController::start().await;
    let (_, team) = setup(&server).await;
    let channel =
        tonic::transport::Endpoint::from_shared(server.url()).unwrap().connect().await.unwrap();
    let mut grpc = tonic::client::Grpc::new(channel);
    grpc.ready().await.unwrap();
    let mut request =
        tonic::Request::new(RawSend { channel_id: team, data: vec![0x68, 0xff, 0xfe] });
    let bearer = format!("Bearer {}", server.token("alice", "acme"));
    request.metadata_mut().insert("authorization", bearer.parse().unwrap());
    let path =
        tonic::codegen::http::uri::PathAndQuery::from_static("/switchboard.v1.Chat/SendMessage");
    let codec =
        switchboard_proto::codec::ProtoCodec::<RawSend, proto::SendMessageResponse>::default();
    let status = grpc.unary(request, path, codec).await.unwrap_err();
    assert_eq!(status.code(), Code::InvalidArgument);
    assert!(status.message().contains("data"), "names the field: {}", status.message());
    let alice = server.client("alice", "acme").await;
    let history = alice
        .history(proto::ListHistoryRequest { channel_id: team, ..Default::default() })
        .await
        .unwrap();
    assert!(history.messages.is_empty());
}
