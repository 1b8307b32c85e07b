//! The domain error of the controller, and the one place it becomes a gRPC status (through
//! `switchboard_proto::status`, the table every node answers from); and
//! the error of a configuration that cannot be used.

use std::path::PathBuf;

use switchboard_proto::status;
use tonic::Status;

/// One invalid field of a request and what is wrong with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldViolation {
    pub field: String,
    pub description: String,
}

/// Everything a Chat call can fail with. Messages say what was wrong and never carry
/// tokens or secrets.
#[derive(Debug, thiserror::Error)]
pub enum ChatError {
    #[error("invalid request: {}", describe(.0))]
    InvalidArgument(Vec<FieldViolation>),
    #[error("{0}")]
    PermissionDenied(String),
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    FailedPrecondition(String),
    #[error("{0}")]
    Unavailable(String),
    #[error("{what}")]
    TooMany { what: String, retry_after: std::time::Duration },
    /// A backend (`what`: the message store, the file store) failed: logged, and answered
    /// UNAVAILABLE without the details. Each backend's error converts into this.
    #[error("{what} failed: {error}")]
    Backend { what: &'static str, error: String },
}

/// Shorthand for results of domain operations.
pub type ChatResult<T> = Result<T, ChatError>;

impl ChatError {
    /// A single invalid field.
    pub fn invalid(field: impl Into<String>, description: impl Into<String>) -> Self {
        ChatError::InvalidArgument(vec![FieldViolation {
            field: field.into(),
            description: description.into(),
        }])
    }

    pub fn denied(message: impl Into<String>) -> Self {
        ChatError::PermissionDenied(message.into())
    }

    pub fn not_found(message: impl Into<String>) -> Self {
        ChatError::NotFound(message.into())
    }

    pub fn precondition(message: impl Into<String>) -> Self {
        ChatError::FailedPrecondition(message.into())
    }
}

fn describe(violations: &[FieldViolation]) -> String {
    violations
        .iter()
        .map(|v| format!("{}: {}", v.field, v.description))
        .collect::<Vec<_>>()
        .join("; ")
}

impl From<ChatError> for Status {
    fn from(error: ChatError) -> Status {
        let message = error.to_string();
        match error {
            ChatError::InvalidArgument(violations) => status::invalid_fields(
                message,
                violations.iter().map(|v| (v.field.as_str(), v.description.as_str())),
            ),
            ChatError::PermissionDenied(_) => status::denied(message),
            ChatError::NotFound(_) => status::not_found(message),
            ChatError::FailedPrecondition(_) => status::precondition(message),
            ChatError::Unavailable(_) => status::unavailable(message),
            ChatError::TooMany { what, retry_after } => status::too_many(&what, retry_after),
            ChatError::Backend { what, error } => {
                tracing::error!(%error, "{what} failed");
                status::unavailable(format!("{what} is unavailable; retry later"))
            }
        }
    }
}

/// Why the configuration cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("configuration: {0}")]
    Parse(String),
    #[error("configuration `{key}`: {reason}")]
    Invalid { key: &'static str, reason: String },
    #[error("cannot read the secret file {path}: {source}")]
    SecretFile { path: PathBuf, source: std::io::Error },
}
