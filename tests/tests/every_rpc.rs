//! Every RPC of every port, fed hostile input: empty messages, 20,000-character strings,
//! control characters, boundary numbers, unknown enum values, long lists and maps. The
//! services of each port come from its own reflection and the methods and fields from the
//! descriptor set, so a new RPC or field is probed without editing this test. Each answer
//! must be a status from the expected set with a short message, and another org's user,
//! live on the same relay throughout, must notice nothing.

use std::time::Duration;

use prost_reflect::{
    DescriptorPool, DynamicMessage, FieldDescriptor, Kind, MapKey, MessageDescriptor, Value,
};
use switchboard_proto::codec::ProtoCodec;
use switchboard_tests::{Code, RealtimeEvent, TestController, TestRelay, live, reflection};
use tonic::client::Grpc;
use tonic::codegen::http::uri::PathAndQuery;
use tonic::transport::Channel;

/// What a hostile request may be answered with.
const EXPECTED: [Code; 9] = [
    Code::Ok,
    Code::InvalidArgument,
    Code::NotFound,
    Code::PermissionDenied,
    Code::FailedPrecondition,
    Code::ResourceExhausted,
    Code::AlreadyExists,
    Code::Unauthenticated,
    Code::OutOfRange,
];
/// Longest error message accepted (the controller's bound, in bytes of UTF-8, with room).
const MAX_MESSAGE_BYTES: usize = 2_100;
/// How long a stream may take to answer before it counts as open and fine.
const STREAM_ANSWER: Duration = Duration::from_secs(5);

/// The kinds of hostile value a field is set to.
#[derive(Clone, Copy, Debug)]
enum Hostile {
    Huge,
    ControlCharacters,
    Boundary,
    Many,
}

const ALL_HOSTILE: [Hostile; 4] =
    [Hostile::Huge, Hostile::ControlCharacters, Hostile::Boundary, Hostile::Many];

fn scalar(kind: &Kind, hostile: Hostile, depth: usize) -> Option<Value> {
    Some(match (kind, hostile) {
        (Kind::String, Hostile::Huge | Hostile::Many) => Value::String("x".repeat(20_000)),
        (Kind::String, Hostile::ControlCharacters) => {
            Value::String("a\u{0}b\u{1b}[31m\r\n\u{7f}\u{202e}".into())
        }
        (Kind::String, Hostile::Boundary) => Value::String(String::new()),
        (Kind::Bytes, _) => Value::Bytes(vec![0xff; 20_000].into()),
        (Kind::Uint64 | Kind::Fixed64, Hostile::Boundary) => Value::U64(0),
        (Kind::Uint64 | Kind::Fixed64, _) => Value::U64(u64::MAX),
        (Kind::Int64 | Kind::Sint64 | Kind::Sfixed64, Hostile::Boundary) => Value::I64(i64::MIN),
        (Kind::Int64 | Kind::Sint64 | Kind::Sfixed64, _) => Value::I64(i64::MAX),
        (Kind::Uint32 | Kind::Fixed32, _) => Value::U32(u32::MAX),
        (Kind::Int32 | Kind::Sint32 | Kind::Sfixed32, Hostile::Boundary) => Value::I32(i32::MIN),
        (Kind::Int32 | Kind::Sint32 | Kind::Sfixed32, _) => Value::I32(i32::MAX),
        (Kind::Bool, _) => Value::Bool(true),
        (Kind::Double, _) => Value::F64(f64::NAN),
        (Kind::Float, _) => Value::F32(f32::INFINITY),
        (Kind::Enum(_), Hostile::Boundary) => Value::EnumNumber(-1),
        (Kind::Enum(_), _) => Value::EnumNumber(99),
        (Kind::Message(message), _) if depth < 2 => {
            Value::Message(filled(message, hostile, depth + 1))
        }
        (Kind::Message(_), _) => return None,
    })
}

/// `field` set to a hostile value: a list or map of many for repeated fields.
fn hostile_value(field: &FieldDescriptor, hostile: Hostile, depth: usize) -> Option<Value> {
    let count = if matches!(hostile, Hostile::Many) { 1_500 } else { 3 };
    if field.is_map() {
        let Kind::Message(entry) = field.kind() else { return None };
        let value_kind = entry.map_entry_value_field().kind();
        let value = scalar(&value_kind, hostile, depth)?;
        let map = (0..count)
            .map(|i| (MapKey::String(format!("{}{i}", "k".repeat(60))), value.clone()))
            .collect();
        return Some(Value::Map(map));
    }
    let one = scalar(&field.kind(), hostile, depth)?;
    if field.is_list() {
        // Many short values, or a few huge ones: past the request size limit either way is
        // a refusal, which is fine, but each stays under it here.
        let one = match (&one, hostile) {
            (Value::String(_), Hostile::Many) => Value::String("y".repeat(100)),
            (Value::U64(_), Hostile::Many) => Value::U64(1),
            _ => one,
        };
        return Some(Value::List(vec![one; count]));
    }
    Some(one)
}

/// A message with every field hostile (the last member of each oneof wins).
fn filled(descriptor: &MessageDescriptor, hostile: Hostile, depth: usize) -> DynamicMessage {
    let mut message = DynamicMessage::new(descriptor.clone());
    for field in descriptor.fields() {
        if let Some(value) = hostile_value(&field, hostile, depth) {
            message.set_field(&field, value);
        }
    }
    message
}

/// The requests to try on a method: empty; every field hostile; each field alone hostile.
fn requests(input: &MessageDescriptor) -> Vec<DynamicMessage> {
    let mut requests = vec![DynamicMessage::new(input.clone())];
    for hostile in ALL_HOSTILE {
        requests.push(filled(input, hostile, 0));
        for field in input.fields() {
            let mut message = DynamicMessage::new(input.clone());
            if let Some(value) = hostile_value(&field, hostile, 0) {
                message.set_field(&field, value);
                requests.push(message);
            }
        }
    }
    requests
}

/// A user of another org, live on the same relay while the probes run.
struct Bystander {
    eve: switchboard_tests::Client,
    team: u64,
    frank: switchboard_tests::Realtime,
}

impl Bystander {
    async fn start(server: &TestController, relay: &TestRelay) -> Bystander {
        let eve = relay.client(server.token("eve", "other")).await;
        let team = switchboard_tests::create_team(&eve, &["frank"]).await;
        let mut frank = relay.realtime(server.token("frank", "other"));
        live::live(&mut frank).await;
        Bystander { eve, team, frank }
    }

    /// Asserts that frank's stream stayed up and still delivers.
    async fn noticed_nothing(mut self) {
        self.eve.send_text(self.team, "still here").await.unwrap();
        let (_, before) = live::message(&mut self.frank, "still here").await;
        assert!(
            !before.iter().any(|e| matches!(e, RealtimeEvent::Disconnected { .. })),
            "frank's stream broke: {before:?}"
        );
    }
}

/// One call's outcome: its code and message.
async fn call(
    channel: &Channel,
    token: &str,
    method: &prost_reflect::MethodDescriptor,
    request: DynamicMessage,
) -> (Code, String) {
    let mut grpc = Grpc::new(channel.clone());
    grpc.ready().await.expect("channel ready");
    let path: PathAndQuery =
        format!("/{}/{}", method.parent_service().full_name(), method.name()).parse().unwrap();
    let codec = ProtoCodec::<DynamicMessage, ()>::new();
    let answer = match (method.is_client_streaming(), method.is_server_streaming()) {
        (false, false) => grpc.unary(authorized(request, token), path, codec).await.map(drop),
        (false, true) => match grpc.server_streaming(authorized(request, token), path, codec).await
        {
            Ok(response) => first_answer(response.into_inner()).await,
            Err(status) => Err(status),
        },
        _ => {
            let frames = authorized(tokio_stream::iter([request]), token);
            match grpc.streaming(frames, path, codec).await {
                Ok(response) => first_answer(response.into_inner()).await,
                Err(status) => Err(status),
            }
        }
    };
    match answer {
        Ok(()) => (Code::Ok, String::new()),
        Err(status) => (status.code(), status.message().to_string()),
    }
}

fn authorized<T>(message: T, token: &str) -> tonic::Request<T> {
    let mut request = tonic::Request::new(message);
    request.metadata_mut().insert("authorization", format!("Bearer {token}").parse().unwrap());
    request
}

/// A stream's first answer: a message (or no answer yet) is fine; an error is its status.
async fn first_answer(mut stream: tonic::Streaming<()>) -> Result<(), tonic::Status> {
    match tokio::time::timeout(STREAM_ANSWER, stream.message()).await {
        Ok(Err(status)) => Err(status),
        _ => Ok(()),
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn every_rpc_of_every_port_refuses_hostile_input_cleanly() {
    let server = TestController::start().await;
    let relay = TestRelay::start(&server).await;
    let pool = DescriptorPool::decode(switchboard_proto::FILE_DESCRIPTOR_SET).unwrap();
    let alice = relay.client(server.admin_token("alice", "acme")).await;
    switchboard_tests::create_team(&alice, &["bob"]).await;
    let bystander = Bystander::start(&server, &relay).await;
    let admin = relay.client(server.admin_token("ops", "other")).await;
    let resyncs = admin.relay_status().await.unwrap().resyncs;

    let token = server.admin_token("alice", "acme");
    let (mut calls, mut methods) = (0, 0);
    for url in [relay.url(), server.url()] {
        let channel = Channel::from_shared(url.clone()).unwrap().connect().await.unwrap();
        for service in reflection::services_v1(channel.clone()).await {
            let Some(service) = pool.get_service_by_name(&service) else {
                continue; // health and reflection: not Switchboard's
            };
            for method in service.methods() {
                methods += 1;
                for request in requests(&method.input()) {
                    let (code, message) = call(&channel, &token, &method, request).await;
                    calls += 1;
                    let name = method.full_name();
                    assert!(EXPECTED.contains(&code), "{url} {name}: {code:?} {message:.300}");
                    assert!(
                        message.len() <= MAX_MESSAGE_BYTES,
                        "{url} {name}: a {}-byte message: {message:.300}",
                        message.len()
                    );
                }
            }
        }
    }
    assert!(methods >= 40, "only {methods} methods found");
    println!("{calls} hostile calls to {methods} methods");

    bystander.noticed_nothing().await;
    assert_eq!(admin.relay_status().await.unwrap().resyncs, resyncs, "the relay resynced");
}

/// A frame as the descriptor pool's dynamic message.
fn dynamic(pool: &DescriptorPool, frame: &switchboard_sdk::proto::ClientFrame) -> DynamicMessage {
    use prost::Message as _;
    let descriptor = pool.get_message_by_name("switchboard.v1.ClientFrame").unwrap();
    DynamicMessage::decode(descriptor, frame.encode_to_vec().as_slice()).unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn hostile_frames_on_a_live_session_get_error_frames_and_end_nothing() {
    use switchboard_sdk::proto::{self as pb, client_frame, server_frame};
    let server = TestController::start().await;
    let relay = TestRelay::start(&server).await;
    let pool = DescriptorPool::decode(switchboard_proto::FILE_DESCRIPTOR_SET).unwrap();
    let alice = relay.client(server.token("alice", "acme")).await;
    switchboard_tests::create_team(&alice, &["bob"]).await;
    let bystander = Bystander::start(&server, &relay).await;

    let (frames, outgoing) = tokio::sync::mpsc::channel::<DynamicMessage>(16);
    let channel = Channel::from_shared(relay.url()).unwrap().connect().await.unwrap();
    let mut grpc = Grpc::new(channel);
    grpc.ready().await.unwrap();
    let path: PathAndQuery = "/switchboard.v1.Realtime/Connect".parse().unwrap();
    let hello = pb::ClientFrame { kind: Some(client_frame::Kind::Hello(pb::Hello::default())) };
    frames.send(dynamic(&pool, &hello)).await.unwrap();
    let request = authorized(
        tokio_stream::wrappers::ReceiverStream::new(outgoing),
        &server.admin_token("alice", "acme"),
    );
    let codec = ProtoCodec::<DynamicMessage, pb::ServerFrame>::new();
    let mut answers = grpc.streaming(request, path, codec).await.unwrap().into_inner();
    let mut next = async || {
        tokio::time::timeout(STREAM_ANSWER, answers.message())
            .await
            .expect("an answer in time")
            .unwrap_or_else(|status| panic!("the session ended: {status:?}"))
            .expect("the session ended")
            .kind
            .expect("a frame")
    };
    while !matches!(next().await, server_frame::Kind::Live(_)) {}

    let descriptor = pool.get_message_by_name("switchboard.v1.ClientFrame").unwrap();
    let mut sent = 0;
    // Larger frames end the stream (OUT_OF_RANGE, as `relay.max_frame_bytes` documents).
    let within_limit = |frame: &DynamicMessage| {
        prost::Message::encoded_len(frame)
            <= switchboard_relay::RelayConfig::default().max_frame_bytes
    };
    let hostile = requests(&descriptor).into_iter().filter(within_limit);
    for (nonce, frame) in (1u64..).zip(hostile) {
        frames.send(frame).await.unwrap();
        // A ping after each: everything the hostile frame caused arrives before its pong.
        let ping = pb::ClientFrame { kind: Some(client_frame::Kind::Ping(pb::Ping { nonce })) };
        frames.send(dynamic(&pool, &ping)).await.unwrap();
        sent += 1;
        loop {
            match next().await {
                server_frame::Kind::Pong(pong) if pong.nonce == nonce => break,
                server_frame::Kind::Error(error) => {
                    let code = Code::from_i32(error.code);
                    assert!(
                        EXPECTED.contains(&code),
                        "frame {nonce}: {code:?} {:.300}",
                        error.message
                    );
                    assert!(
                        error.message.len() <= MAX_MESSAGE_BYTES,
                        "frame {nonce}: a long message"
                    );
                }
                _ => {}
            }
        }
    }
    // Each of the eight kinds of frame, four ways, less those past the size limit.
    assert!(sent >= 30, "only {sent} hostile frames");

    bystander.noticed_nothing().await;
}
