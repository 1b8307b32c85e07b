//! What a port lists through gRPC server reflection, in either version.

use std::collections::BTreeSet;

use tokio_stream::StreamExt;
use tonic::transport::Channel;

/// Defines `$name(channel)`: the services a port lists through reflection `$version`.
macro_rules! listed_by {
    ($name:ident, $version:ident) => {
        pub async fn $name(channel: Channel) -> BTreeSet<String> {
            use tonic_reflection::pb::$version::ServerReflectionRequest;
            use tonic_reflection::pb::$version::server_reflection_client::ServerReflectionClient;
            use tonic_reflection::pb::$version::server_reflection_request::MessageRequest;
            use tonic_reflection::pb::$version::server_reflection_response::MessageResponse;
            let request = ServerReflectionRequest {
                host: String::new(),
                message_request: Some(MessageRequest::ListServices(String::new())),
            };
            let mut answers = ServerReflectionClient::new(channel)
                .server_reflection_info(tokio_stream::iter([request]))
                .await
                .expect("reflection answers")
                .into_inner();
            match answers.next().await.expect("an answer").expect("a list").message_response {
                Some(MessageResponse::ListServicesResponse(list)) => {
                    list.service.into_iter().map(|s| s.name).collect()
                }
                other => panic!("not a service list: {other:?}"),
            }
        }
    };
}

listed_by!(services_v1, v1);
listed_by!(services_v1alpha, v1alpha);
