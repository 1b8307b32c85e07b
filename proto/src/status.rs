//! How every Switchboard node answers with an error: one constructor per kind of failure,
//! each giving its gRPC code, a message cut to [`MAX_ERROR_CHARS`], and the details a
//! client can act on (the invalid fields, when to retry). The controller's domain errors,
//! the auth checks and the relay all build their statuses here, so a client meets the same
//! shapes whichever node answered.

use std::time::Duration;

use tonic::{Code, Status};
use tonic_types::{ErrorDetails, StatusExt};

/// Longest error message (and field violation) a status carries, in characters. Messages
/// name inputs only as short quotes; this bound holds for every error whatever it names,
/// so that no answer can grow past what the HTTP/2 peers on the way (a relay forwarding
/// calls, a browser) accept in a header.
pub const MAX_ERROR_CHARS: usize = 512;

/// `text` cut to [`MAX_ERROR_CHARS`].
pub fn bounded(text: impl Into<String>) -> String {
    let mut text = text.into();
    if let Some((cut, _)) = text.char_indices().nth(MAX_ERROR_CHARS) {
        text.truncate(cut);
        text.push('…');
    }
    text
}

/// INVALID_ARGUMENT naming each invalid field and what is wrong with it (a `BadRequest`
/// detail), with `message` saying it in one line.
pub fn invalid_fields<'a>(
    message: impl Into<String>,
    violations: impl IntoIterator<Item = (&'a str, &'a str)>,
) -> Status {
    let mut details = ErrorDetails::new();
    for (field, description) in violations {
        details.add_bad_request_violation(bounded(field), bounded(description));
    }
    Status::with_error_details(Code::InvalidArgument, bounded(message), details)
}

/// INVALID_ARGUMENT for one field.
pub fn invalid(field: &str, description: impl Into<String>) -> Status {
    let description = description.into();
    invalid_fields(format!("invalid request: {field}: {description}"), [(field, &*description)])
}

/// INVALID_ARGUMENT for a request or frame whose fault is not one field's.
pub fn malformed(message: impl Into<String>) -> Status {
    Status::invalid_argument(bounded(message))
}

pub fn unauthenticated(message: impl Into<String>) -> Status {
    Status::unauthenticated(bounded(message))
}

pub fn denied(message: impl Into<String>) -> Status {
    Status::permission_denied(bounded(message))
}

pub fn not_found(message: impl Into<String>) -> Status {
    Status::not_found(bounded(message))
}

pub fn precondition(message: impl Into<String>) -> Status {
    Status::failed_precondition(bounded(message))
}

pub fn unavailable(message: impl Into<String>) -> Status {
    Status::unavailable(bounded(message))
}

/// RESOURCE_EXHAUSTED for what waiting will not cure by itself (a client too slow for its
/// queue): it reconnects.
pub fn exhausted(message: impl Into<String>) -> Status {
    Status::resource_exhausted(bounded(message))
}

pub fn internal(message: impl Into<String>) -> Status {
    Status::internal(bounded(message))
}

pub fn deadline_exceeded(message: impl Into<String>) -> Status {
    Status::deadline_exceeded(bounded(message))
}

/// RESOURCE_EXHAUSTED for `what`, retryable after `wait` (a `RetryInfo` detail).
pub fn too_many(what: &str, wait: Duration) -> Status {
    let wait_ms = wait.as_millis().max(1) as u64;
    let details = ErrorDetails::with_retry_info(Some(Duration::from_millis(wait_ms)));
    let message = bounded(format!("{what}; retry in {wait_ms} ms"));
    Status::with_error_details(Code::ResourceExhausted, message, details)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_and_violations_are_bounded_and_fields_named() {
        let long = "x".repeat(MAX_ERROR_CHARS * 2);
        let status = invalid("data", long.clone());
        assert_eq!(status.code(), Code::InvalidArgument);
        assert!(status.message().chars().count() <= MAX_ERROR_CHARS + 1);
        let violations = status.get_details_bad_request().unwrap().field_violations;
        assert_eq!(violations[0].field, "data");
        assert_eq!(violations[0].description.chars().count(), MAX_ERROR_CHARS + 1);
        assert!(denied(long).message().ends_with('…'));
    }

    #[test]
    fn too_many_says_when_to_retry() {
        let status = too_many("send rate exceeded", Duration::from_millis(250));
        assert_eq!(status.code(), Code::ResourceExhausted);
        let retry = status.get_details_retry_info().unwrap().retry_delay.unwrap();
        assert_eq!(retry, Duration::from_millis(250));
    }
}
