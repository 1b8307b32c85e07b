//! What controllers and relays both need to know about an event: the message it carries,
//! and whether every member of the conversation may see it.

use crate::v1::{self as pb, event::Kind};

/// The message of a message event (created, edited, deleted, expired).
pub fn message_of(event: &pb::Event) -> Option<&pb::Message> {
    match &event.kind {
        Some(Kind::MessageCreated(pb::MessageCreated { message }))
        | Some(Kind::MessageEdited(pb::MessageEdited { message }))
        | Some(Kind::MessageDeleted(pb::MessageDeleted { message, .. }))
        | Some(Kind::MessageExpired(pb::MessageExpired { message })) => message.as_ref(),
        _ => None,
    }
}

/// Whether a message is for everyone in its conversation (not a private one).
pub fn is_for_everyone(message: &pb::Message) -> bool {
    message.to.is_empty() || message.to == "*"
}

/// Whether `user` may see a message: everyone's, or a private one they sent or received.
pub fn visible_to(message: &pb::Message, user: &str) -> bool {
    is_for_everyone(message) || message.to == user || message.from == user
}

/// Whether the event is a change every member may see (a message event for everyone, or a
/// removal): the only kind whose position may be handed to anyone (as where to start).
pub fn is_public_change(event: &pb::Event) -> bool {
    match message_of(event) {
        Some(message) => is_for_everyone(message),
        None => event.seq != 0 && matches!(event.kind, Some(Kind::MemberLeft(_))),
    }
}
