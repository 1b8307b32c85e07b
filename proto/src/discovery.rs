//! What a port serves, told the two ways tools ask: gRPC health, answering SERVING for each
//! service by name (and for the empty name, the server as a whole), and gRPC server
//! reflection in both versions (v1, and v1alpha, the only one many clients speak). Both
//! list exactly the services the port serves, these three included.

use tonic_health::pb::health_server::{Health, HealthServer};
use tonic_reflection::server::{Builder, v1, v1alpha};

/// Why the reflection service could not be built (a descriptor set that does not decode).
pub use tonic_reflection::server::Error;

/// The health service's name.
pub const HEALTH: &str = "grpc.health.v1.Health";
/// The reflection services' names.
pub const REFLECTION_V1: &str = "grpc.reflection.v1.ServerReflection";
pub const REFLECTION_V1ALPHA: &str = "grpc.reflection.v1alpha.ServerReflection";

/// The health and reflection services of a port that serves `services` (fully qualified
/// names, such as `switchboard.v1.Chat`).
pub async fn discovery(
    services: &[&str],
) -> Result<
    (
        HealthServer<impl Health>,
        v1::ServerReflectionServer<impl v1::ServerReflection>,
        v1alpha::ServerReflectionServer<impl v1alpha::ServerReflection>,
    ),
    Error,
> {
    let (reporter, health) = tonic_health::server::health_reporter();
    for service in services {
        reporter.set_service_status(*service, tonic_health::ServingStatus::Serving).await;
    }
    let builder = || {
        let mut builder = Builder::configure()
            .register_encoded_file_descriptor_set(crate::FILE_DESCRIPTOR_SET)
            .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
            .register_encoded_file_descriptor_set(tonic_reflection::pb::v1::FILE_DESCRIPTOR_SET)
            .register_encoded_file_descriptor_set(
                tonic_reflection::pb::v1alpha::FILE_DESCRIPTOR_SET,
            )
            .include_reflection_service(false);
        for name in services.iter().chain(&[HEALTH, REFLECTION_V1, REFLECTION_V1ALPHA]) {
            builder = builder.with_service_name(*name);
        }
        builder
    };
    Ok((health, builder().build_v1()?, builder().build_v1alpha()?))
}
