//! The relay's web path: `RealtimeWeb` (a session as a server stream, acted on by unary
//! calls), gRPC-Web over HTTP/1.1 on the client port, and CORS from config.

use std::time::Duration;

use switchboard_proto::tonic::Request;
use switchboard_proto::tonic::metadata::MetadataValue;
use switchboard_proto::tonic::transport::Channel;
use switchboard_proto::v1::{
    client_frame::Kind as ClientKind, realtime_web_client::RealtimeWebClient,
    server_frame::Kind as ServerKind,
};
use switchboard_tests::random::Random;
use switchboard_tests::{Code, TestController, TestRelay, live, proto, violated_fields};

fn authorized<T>(message: T, token: &str) -> Request<T> {
    let mut request = Request::new(message);
    let value = MetadataValue::try_from(format!("Bearer {token}")).unwrap();
    request.metadata_mut().insert("authorization", value);
    request
}

async fn web_client(relay: &TestRelay) -> RealtimeWebClient<Channel> {
    let channel = Channel::from_shared(relay.url()).unwrap().connect().await.unwrap();
    RealtimeWebClient::new(channel)
}

/// The next frame of a web session (with a deadline).
async fn next_frame(
    stream: &mut switchboard_proto::tonic::Streaming<proto::ServerFrame>,
) -> ServerKind {
    let frame = tokio::time::timeout(live::EVENT_DEADLINE, stream.message())
        .await
        .expect("a frame in time")
        .expect("the stream is fine")
        .expect("the stream is open");
    frame.kind.expect("a frame has a kind")
}

#[tokio::test]
async fn a_web_session_streams_events_and_takes_frames_by_unary_calls() {
    let server = TestController::start().await;
    let relay = TestRelay::start(&server).await;
    let (alice, team) = server.team_of("alice", &["bob"]).await;
    let earlier = alice.send_text(team, "before bob opened the page").await.unwrap();
    let bob_token = server.token("bob", "acme");
    let mut web = web_client(&relay).await;

    // Resume from the start of the conversation: the session replays what bob missed.
    let from_start =
        proto::ChannelPosition { channel_id: team, after_seq: 1, ..Default::default() };
    let hello = proto::Hello { only: vec![], resume: vec![from_start], ..Default::default() };
    let mut stream = web.subscribe(authorized(hello, &bob_token)).await.unwrap().into_inner();
    let ServerKind::Welcome(welcome) = next_frame(&mut stream).await else {
        panic!("the first frame is the welcome")
    };
    assert_eq!(welcome.user_id, "bob");
    assert!(welcome.channel_ids.contains(&team));
    let mut replayed = Vec::new();
    loop {
        match next_frame(&mut stream).await {
            ServerKind::Live(_) => break,
            ServerKind::Event(event) => replayed.push(event),
            _ => {}
        }
    }
    assert!(
        replayed.iter().any(|e| live::created(&switchboard_tests::RealtimeEvent::Event(e.clone()))
            .is_some_and(|m| m.id == earlier.id)),
        "the resume replayed the earlier message: {replayed:?}"
    );

    // Acting on the session: a send answered on the stream with its ack.
    let send = proto::ClientFrame {
        kind: Some(ClientKind::Send(proto::SendFrame {
            message: Some(proto::SendMessageRequest {
                channel_id: team,
                data: "from the web".into(),
                client_msg_id: "w1".into(),
                ..Default::default()
            }),
            traceparent: String::new(),
        })),
    };
    let act =
        proto::ActRequest { session_id: welcome.session_id.clone(), frame: Some(send.clone()) };
    web.act(authorized(act, &bob_token)).await.unwrap();
    let ack = loop {
        if let ServerKind::Ack(ack) = next_frame(&mut stream).await {
            break ack;
        }
    };
    assert_eq!(ack.client_msg_id, "w1");
    assert_eq!(ack.message.unwrap().data, "from the web");

    // Native clients and the web session see each other's messages.
    alice.send_text(team, "from native").await.unwrap();
    // (The web message's own event may come first: acks and events are not ordered.)
    let mut web_message_events = 0;
    loop {
        if let ServerKind::Event(event) = next_frame(&mut stream).await
            && let Some(m) = live::created(&switchboard_tests::RealtimeEvent::Event(event))
        {
            match m.data.as_str() {
                "from native" => break,
                "from the web" => web_message_events += 1,
                other => panic!("unexpected message {other:?}"),
            }
        }
    }
    assert!(web_message_events <= 1, "the web message arrived once at most before");
    let history = alice
        .history(proto::ListHistoryRequest { channel_id: team, limit: 5, ..Default::default() })
        .await
        .unwrap();
    assert!(history.messages.iter().any(|m| m.data == "from the web"));

    // Someone else's session does not exist for the caller; nor does a made-up one.
    let alice_token = server.token("alice", "acme");
    let act =
        proto::ActRequest { session_id: welcome.session_id.clone(), frame: Some(send.clone()) };
    let status = web.act(authorized(act, &alice_token)).await.unwrap_err();
    assert_eq!(status.code(), Code::NotFound);
    let act = proto::ActRequest { session_id: "999999".into(), frame: Some(send) };
    assert_eq!(web.act(authorized(act, &bob_token)).await.unwrap_err().code(), Code::NotFound);
    let act = proto::ActRequest { session_id: welcome.session_id.clone(), frame: None };
    let status = web.act(authorized(act, &bob_token)).await.unwrap_err();
    assert_eq!(status.code(), Code::InvalidArgument);
    assert_eq!(violated_fields(&status), ["frame"]);

    // Once the page goes away, so does the session.
    drop(stream);
    let ping = proto::ClientFrame { kind: Some(ClientKind::Ping(proto::Ping { nonce: 1 })) };
    let deadline = std::time::Instant::now() + live::EVENT_DEADLINE;
    loop {
        let act =
            proto::ActRequest { session_id: welcome.session_id.clone(), frame: Some(ping.clone()) };
        match web.act(authorized(act, &bob_token)).await {
            Err(status) if status.code() == Code::NotFound => break,
            _ => assert!(std::time::Instant::now() < deadline, "the session outlived its stream"),
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn a_hello_that_contradicts_itself_is_refused_with_what_is_wrong() {
    let server = TestController::start().await;
    let relay = TestRelay::start(&server).await;
    let (_, team) = server.team_of("alice", &["bob"]).await;
    let token = server.token("bob", "acme");
    let mut web = web_client(&relay).await;
    let contradiction = proto::Hello { only: vec![team], none: true, ..Default::default() };
    let cases = [
        (contradiction, "`none` and `only`", &["hello.none", "hello.only"][..]),
        (
            proto::Hello { none: true, except: vec![team], ..Default::default() },
            "`except`",
            &["hello.except"][..],
        ),
    ];
    for (hello, what, fields) in cases {
        let status = match web.subscribe(authorized(hello, &token)).await {
            Err(status) => status,
            Ok(response) => response.into_inner().message().await.unwrap_err(),
        };
        assert_eq!(status.code(), Code::InvalidArgument, "{status:?}");
        assert!(status.message().contains(what), "{status:?}");
        assert_eq!(violated_fields(&status), fields, "{status:?}");
    }
}

/// A gRPC-Web frame: flag 0, big-endian length, the message.
fn grpc_web_body(message: &impl prost::Message) -> Vec<u8> {
    let bytes = message.encode_to_vec();
    let mut body = vec![0];
    body.extend_from_slice(&(bytes.len() as u32).to_be_bytes());
    body.extend_from_slice(&bytes);
    body
}

#[tokio::test]
async fn browsers_reach_the_relay_over_grpc_web_from_allowed_origins() {
    let server = TestController::start().await;
    let relay = TestRelay::builder(&server)
        .configure(|c| c.web_allowed_origins = vec!["https://chat.example.com".into()])
        .start()
        .await;
    let (_, team) = server.team_of("alice", &[]).await;
    let token = server.token("alice", "acme");
    let http = reqwest::Client::new();
    let url = format!("{}/switchboard.v1.Chat/GetConversation", relay.url());

    // The preflight names the allowed origin and exposes the gRPC status headers.
    let preflight = http
        .request(reqwest::Method::OPTIONS, &url)
        .header("origin", "https://chat.example.com")
        .header("access-control-request-method", "POST")
        .header("access-control-request-headers", "authorization,content-type,x-grpc-web")
        .send()
        .await
        .unwrap();
    assert!(preflight.status().is_success());
    let allowed = preflight.headers()["access-control-allow-origin"].to_str().unwrap();
    assert_eq!(allowed, "https://chat.example.com");
    // The headers a page may send are named, not a `*`, which does not cover
    // `authorization` in every browser.
    let headers = preflight.headers()["access-control-allow-headers"].to_str().unwrap();
    assert!(headers.contains("authorization"), "{headers}");
    let other = http
        .request(reqwest::Method::OPTIONS, &url)
        .header("origin", "https://evil.example.com")
        .header("access-control-request-method", "POST")
        .send()
        .await
        .unwrap();
    assert!(other.headers().get("access-control-allow-origin").is_none());

    // A forwarded unary call over gRPC-Web (HTTP/1.1).
    let request = proto::GetConversationRequest { conversation_id: team };
    let response = http
        .post(&url)
        .header("origin", "https://chat.example.com")
        .header("content-type", "application/grpc-web+proto")
        .header("x-grpc-web", "1")
        .header("authorization", format!("Bearer {token}"))
        .body(grpc_web_body(&request))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let exposed = response.headers()["access-control-expose-headers"].to_str().unwrap().to_string();
    assert!(exposed.contains("grpc-status"), "{exposed}");
    let body = response.bytes().await.unwrap();
    let length = u32::from_be_bytes(body[1..5].try_into().unwrap()) as usize;
    let conversation =
        <proto::Conversation as prost::Message>::decode(&body[5..5 + length]).unwrap();
    assert_eq!(conversation.id, team);
    let trailers = String::from_utf8_lossy(&body[5 + length..]).to_string();
    assert!(trailers.contains("grpc-status:0"), "{trailers}");
}

#[tokio::test]
async fn grpc_web_text_calls_with_a_content_length_are_forwarded() {
    let server = TestController::start().await;
    let relay = TestRelay::start(&server).await;
    let (_, team) = server.team_of("alice", &[]).await;
    let token = server.token("alice", "acme");
    let url = format!("{}/switchboard.v1.Chat/GetConversation", relay.url());

    use base64::Engine as _;
    let base64 = base64::engine::general_purpose::STANDARD;
    let frame = grpc_web_body(&proto::GetConversationRequest { conversation_id: team });
    let body = base64.encode(frame);
    let response = reqwest::Client::new()
        .post(&url)
        .header("content-type", "application/grpc-web-text")
        .header("accept", "application/grpc-web-text")
        .header("x-grpc-web", "1")
        .header("content-length", body.len())
        .header("authorization", format!("Bearer {token}"))
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let refused = response.headers().get("grpc-status").filter(|code| *code != "0").cloned();
    let message = response.headers().get("grpc-message").cloned();
    assert!(refused.is_none(), "refused: {refused:?} {message:?}");
    let text = response.text().await.unwrap();
    // The answer is base64, a chunk per frame (the message, then the trailers), each padded
    // on its own: every four characters decode alone.
    let mut body = Vec::new();
    for group in text.as_bytes().chunks(4) {
        body.extend(base64.decode(group).unwrap_or_else(|e| panic!("{e}: {text}")));
    }
    assert_eq!(
        body[0],
        0,
        "a message frame first, not trailers: {:?}",
        String::from_utf8_lossy(&body)
    );
    let length = u32::from_be_bytes(body[1..5].try_into().unwrap()) as usize;
    let conversation =
        <proto::Conversation as prost::Message>::decode(&body[5..5 + length]).unwrap();
    assert_eq!(conversation.id, team);
}

#[tokio::test]
async fn random_grpc_web_bodies_get_an_answer_and_leave_the_relay_serving() {
    use base64::Engine as _;
    let server = TestController::start().await;
    let relay = TestRelay::start(&server).await;
    let (_, team) = server.team_of("alice", &[]).await;
    let token = server.token("alice", "acme");
    let http = reqwest::Client::new();
    let base64 = base64::engine::general_purpose::STANDARD;
    let seed: u64 = std::env::var("SB_SEED").ok().and_then(|s| s.parse().ok()).unwrap_or(0x5eed);
    let mut random = Random::new(seed);
    let paths = [
        "switchboard.v1.Chat/GetConversation",
        "switchboard.v1.Chat/SendMessage",
        "switchboard.v1.Files/CreateUpload",
        "switchboard.v1.RealtimeWeb/Act",
        "switchboard.v1.RealtimeWeb/Subscribe",
        "switchboard.v1.RelayAdmin/Status",
    ];
    for case in 0..300 {
        let path = paths[random.next_u64() as usize % paths.len()];
        let len = (random.next_u64() % 2048) as usize;
        // Raw random bytes, or a well-framed random message; binary or text mode.
        let mut body = random.bytes(len);
        if random.chance(50) {
            let mut framed = vec![0];
            framed.extend_from_slice(&(body.len() as u32).to_be_bytes());
            framed.append(&mut body);
            body = framed;
        }
        let text = random.chance(50);
        let (content_type, body) = if text {
            ("application/grpc-web-text", base64.encode(&body).into_bytes())
        } else {
            ("application/grpc-web+proto", body)
        };
        let answer = tokio::time::timeout(
            Duration::from_secs(10),
            http.post(format!("{}/{path}", relay.url()))
                .header("content-type", content_type)
                .header("x-grpc-web", "1")
                .header("authorization", format!("Bearer {token}"))
                .body(body)
                .send(),
        )
        .await
        .unwrap_or_else(|_| panic!("seed {seed} case {case} ({path}): no answer"));
        // A stream that accepted the body stays open: its first bytes are answer enough.
        let response = answer.unwrap_or_else(|e| panic!("seed {seed} case {case}: {e}"));
        assert!(
            response.status().as_u16() < 500,
            "seed {seed} case {case} ({path}): HTTP {}",
            response.status()
        );
    }
    // Still serving.
    let alice = relay.client(token).await;
    alice.send_text(team, "after the noise").await.expect("the relay still forwards");
}
