//! What each port serves is discoverable the standard ways: gRPC reflection (v1 and the
//! older v1alpha many tools still speak) lists exactly its services, and gRPC health
//! answers SERVING for each of them by name.

use std::collections::BTreeSet;

use switchboard_tests::{TestController, TestRelay, reflection};
use tonic::transport::Channel;
use tonic_health::pb::HealthCheckRequest;
use tonic_health::pb::health_client::HealthClient;

const DISCOVERY: [&str; 3] = [
    "grpc.health.v1.Health",
    "grpc.reflection.v1.ServerReflection",
    "grpc.reflection.v1alpha.ServerReflection",
];

async fn channel(url: String) -> Channel {
    Channel::from_shared(url).unwrap().connect().await.unwrap()
}

/// Asserts that both reflection versions list exactly `services` (and the discovery
/// services), and that health answers SERVING for each.
async fn discoverable(url: String, services: &[&str]) {
    let channel = channel(url).await;
    let expected: BTreeSet<String> =
        services.iter().chain(&DISCOVERY).map(|s| s.to_string()).collect();
    assert_eq!(reflection::services_v1(channel.clone()).await, expected);
    assert_eq!(reflection::services_v1alpha(channel.clone()).await, expected);
    let mut health = HealthClient::new(channel);
    for service in services.iter().chain(&[""]) {
        let request = HealthCheckRequest { service: service.to_string() };
        let answer = health.check(request).await.unwrap_or_else(|e| panic!("{service}: {e}"));
        assert_eq!(answer.into_inner().status, 1, "{service} is SERVING");
    }
}

#[tokio::test]
async fn the_controller_port_lists_and_reports_its_services() {
    let server = TestController::start().await;
    discoverable(
        server.url(),
        &[
            "switchboard.v1.Chat",
            "switchboard.v1.Fanout",
            "switchboard.v1.Admin",
            "switchboard.v1.Files",
            "switchboard.v1.People",
        ],
    )
    .await;
}

#[tokio::test]
async fn the_relay_port_lists_and_reports_its_services() {
    let server = TestController::start().await;
    let relay = TestRelay::start(&server).await;
    discoverable(
        relay.url(),
        &[
            "switchboard.v1.Realtime",
            "switchboard.v1.RealtimeWeb",
            "switchboard.v1.RelayAdmin",
            "switchboard.v1.Chat",
            "switchboard.v1.Files",
            "switchboard.v1.People",
            "switchboard.v1.Admin",
        ],
    )
    .await;
}
