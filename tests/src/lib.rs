//! The harness for Switchboard's integration tests: starts controllers on `127.0.0.1:0`
//! with temporary data directories (in this process, or as a real `switchboard` process
//! that can be killed), and hands out typed clients with minted tokens.

mod clock;
pub mod conformance;
mod controller;
mod eventually;
mod garage;
pub mod http;
pub mod indexer;
pub mod live;
mod nats;
pub mod otlp;
mod process;
pub mod providers;
mod proxy;
pub mod random;
pub mod reflection;
mod relay;
pub mod scylla;
mod tools;
pub mod web_follower;
pub mod webhook;

pub use clock::TestClock;
pub use controller::{ControllerBuilder, TEST_SECRET, TEST_WEBHOOK_SECRET, TestController};
pub use eventually::eventually;
pub use garage::GarageServer;
pub use nats::NatsServer;
pub use otlp::OtlpCollector;
pub use process::{ControllerProcess, DevProcess, RelayProcess, sbctl, workspace_binary};
pub use proxy::Proxy;
pub use relay::{RelayBuilder, TestRelay};
pub use switchboard_sdk::{
    Client, Code, Realtime, RealtimeEvent, RealtimeOptions, SdkError, proto,
};

/// Asserts that a call failed with `code`, and returns the status message.
#[track_caller]
pub fn expect_code<T: std::fmt::Debug>(result: Result<T, SdkError>, code: Code) -> String {
    match result {
        Ok(value) => panic!("expected {code:?}, but the call succeeded with {value:?}"),
        Err(SdkError::Status(status)) => {
            assert_eq!(status.code(), code, "unexpected status: {}", status.message());
            status.message().to_string()
        }
        Err(other) => panic!("expected {code:?}, got {other}"),
    }
}

/// The fields an INVALID_ARGUMENT names in its BadRequest details (none without them).
pub fn violated_fields(status: &tonic::Status) -> Vec<String> {
    use tonic_types::StatusExt as _;
    let details = status.get_error_details();
    let violations = details.bad_request().map(|b| b.field_violations.clone()).unwrap_or_default();
    violations.into_iter().map(|v| v.field).collect()
}

/// Creates a team named "Team" owned by `owner`'s user with `members`; its id.
pub async fn create_team(owner: &Client, members: &[&str]) -> u64 {
    let request = proto::CreateTeamRequest {
        name: "Team".into(),
        members: members.iter().map(|m| m.to_string()).collect(),
        ..Default::default()
    };
    owner.create_team(request).await.expect("create team").id
}

/// The code of a call's outcome (`Code::Ok` for success), for table-driven tests.
pub fn outcome<T>(result: Result<T, SdkError>) -> Code {
    match result {
        Ok(_) => Code::Ok,
        Err(error) => error.code(),
    }
}

/// A fresh, unique id for test users and keys.
pub fn unique(prefix: &str) -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(1);
    format!("{prefix}-{}", NEXT.fetch_add(1, Ordering::Relaxed))
}

/// Path of a file in `tests/fixtures`.
pub fn fixture(name: &str) -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures").join(name)
}
