//! One trace follows a message from the sending client through its relay, the controller,
//! NATS and the controller's fan-out to the relay of the receiving client: every hop is a
//! separate process exporting to an OTLP collector started by the test.

use switchboard_sdk::token::{SigningKey, TokenSpec, mint};
use switchboard_telemetry::{LogFormat, TracingConfig};
use switchboard_tests::otlp::ReceivedSpan;
use switchboard_tests::{
    Client, ControllerProcess, NatsServer, OtlpCollector, Realtime, RealtimeOptions, RelayProcess,
    TEST_SECRET, live, proto,
};
use tracing::Instrument as _;

fn token(user: &str) -> String {
    mint(&TokenSpec::new(user, "acme"), &SigningKey::Hs256(TEST_SECRET.as_bytes().to_vec()))
        .unwrap()
}

/// The span named `name` from `service` whose parent is `parent`.
fn child_of<'a>(
    spans: &'a [ReceivedSpan],
    parent: &ReceivedSpan,
    service: &str,
    name: &str,
) -> Option<&'a ReceivedSpan> {
    spans.iter().find(|span| {
        span.service == service
            && span.name == name
            && span.trace_id == parent.trace_id
            && span.parent_span_id == parent.span_id
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_trace_follows_a_message_from_sender_to_the_receivers_relay() {
    let collector = OtlpCollector::start().await;
    let nats = NatsServer::start();
    let dir = tempfile::tempdir().unwrap();
    let nats_urls = format!("[\"{}\"]", nats.url());
    let traced = |service: &'static str| {
        [
            ("SWITCHBOARD_TRACING__OTLP_ENDPOINT", collector.url.clone()),
            ("SWITCHBOARD_TRACING__SERVICE_NAME", service.to_string()),
            // Export finished spans within 100 ms rather than the default 5 s.
            ("OTEL_BSP_SCHEDULE_DELAY", "100".to_string()),
        ]
    };
    let mut controller_env = traced("controller").to_vec();
    controller_env.push(("SWITCHBOARD_NATS__URLS", nats_urls));
    let controller =
        ControllerProcess::start_with_env(&dir.path().join("c"), &borrowed(&controller_env));
    let controllers = [controller.url.clone()];
    let relay_a = RelayProcess::start_with_env(
        &dir.path().join("a"),
        &controllers,
        &borrowed(&traced("relay-a")),
    );
    let relay_b = RelayProcess::start_with_env(
        &dir.path().join("b"),
        &controllers,
        &borrowed(&traced("relay-b")),
    );

    // This test is the client app: it exports its own spans too.
    let config = TracingConfig {
        otlp_endpoint: Some(collector.url.clone()),
        log_level: "warn".into(),
        ..TracingConfig::default()
    };
    let client_telemetry =
        switchboard_telemetry::init(LogFormat::Human, &config, "client").unwrap();

    let alice = Client::connect(relay_a.url.clone(), token("alice")).await.unwrap();
    let request = proto::CreateTeamRequest {
        name: "Traced".into(),
        members: vec!["bob".into()],
        ..Default::default()
    };
    let team = alice.create_team(request).await.unwrap().id;
    let mut bob = Realtime::connect(RealtimeOptions::new(relay_b.url.clone(), token("bob")));
    live::live(&mut bob).await;
    let mut alice_live =
        Realtime::connect(RealtimeOptions::new(relay_a.url.clone(), token("alice")));
    live::live(&mut alice_live).await;

    // Over the stream (Realtime.send), then as a unary call forwarded by the relay.
    let streamed = proto::SendMessageRequest {
        channel_id: team,
        data: "traced over the stream".into(),
        r#type: proto::MessageType::Text as i32,
        ..Default::default()
    };
    alice_live
        .send(streamed)
        .instrument(tracing::info_span!(target: "switchboard_tests", "send over stream"))
        .await
        .unwrap();
    alice
        .send_text(team, "traced unary")
        .instrument(tracing::info_span!(target: "switchboard_tests", "send unary"))
        .await
        .unwrap();
    live::message(&mut bob, "traced over the stream").await;
    live::message(&mut bob, "traced unary").await;
    tokio::task::spawn_blocking(move || client_telemetry.flush()).await.unwrap();

    // Over the stream: client → relay A's send span → the controller's SendMessage call →
    // its store write and bus publish → (NATS) → fan-out → (Fanout stream) → relay B.
    let chain = collector
        .wait_for(|spans| {
            let root =
                spans.iter().find(|s| s.service == "client" && s.name == "send over stream")?;
            let relay_send = child_of(spans, root, "relay-a", "relay.send")?;
            let call =
                child_of(spans, relay_send, "controller", "/switchboard.v1.Chat/SendMessage")?;
            let publish = spans.iter().find(|s| {
                s.service == "controller" && s.name == "bus.publish" && s.trace_id == root.trace_id
            })?;
            let fanout = child_of(spans, publish, "controller", "fanout")?;
            let delivered = child_of(spans, fanout, "relay-b", "relay.deliver")?;
            Some([root, relay_send, call, publish, fanout, delivered].map(Clone::clone))
        })
        .await;
    let [root, _, call, publish, _, _] = &chain;
    assert!(root.parent_span_id.is_empty(), "the client's span starts the trace");
    let spans = collector.spans();
    let store_write = spans.iter().find(|s| {
        s.service == "controller" && s.name == "insert_message" && s.trace_id == root.trace_id
    });
    assert!(store_write.is_some(), "the store write is in the trace: {spans:#?}");
    assert_ne!(publish.span_id, call.span_id);

    // Unary: client → relay A's gRPC span → the controller's call (the relay's span is its
    // parent, not the client's).
    collector
        .wait_for(|spans| {
            let root = spans.iter().find(|s| s.service == "client" && s.name == "send unary")?;
            let method = "/switchboard.v1.Chat/SendMessage";
            let relay_call = child_of(spans, root, "relay-a", method)?;
            let call = child_of(spans, relay_call, "controller", method)?;
            let publish =
                spans.iter().find(|s| s.name == "bus.publish" && s.trace_id == call.trace_id)?;
            let fanout = child_of(spans, publish, "controller", "fanout")?;
            child_of(spans, fanout, "relay-b", "relay.deliver").cloned()
        })
        .await;
}

fn borrowed<'a>(env: &'a [(&'static str, String)]) -> Vec<(&'static str, &'a str)> {
    env.iter().map(|(key, value)| (*key, value.as_str())).collect()
}
