//! Server frames as the relay queues them: encoded once, as protobuf bytes. A live event
//! goes to every local subscriber of its channel; the relay encodes it once (see
//! `RelayState::dispatch`) and queues the same bytes, shared, on every subscriber's
//! session, so each stream only copies them into its socket buffer.

use bytes::Bytes;
use switchboard_proto::v1 as pb;
use tonic::Status;

/// Encodes a `ServerFrame` the way every queued frame is stored: as its protobuf bytes.
pub(crate) fn encode(kind: pb::server_frame::Kind) -> Bytes {
    let frame = pb::ServerFrame { kind: Some(kind) };
    Bytes::from(prost::Message::encode_to_vec(&frame))
}

/// `ServerFrame { kind: Event(event) }`, encoded straight from the shared event (no copy
/// of it): the frame's only field is the event, field 2.
pub(crate) fn encode_event(event: &pb::Event) -> Bytes {
    let mut frame = Vec::with_capacity(prost::Message::encoded_len(event) + 6);
    prost::encoding::message::encode(EVENT_FIELD, event, &mut frame);
    Bytes::from(frame)
}

/// `ServerFrame.event`'s field number.
const EVENT_FIELD: u32 = 2;

/// The error frame for a failed client frame; the stream stays open.
pub(crate) fn error_frame(client_msg_id: &str, status: &Status) -> pb::server_frame::Kind {
    pb::server_frame::Kind::Error(pb::ErrorFrame {
        client_msg_id: client_msg_id.to_string(),
        code: status.code() as i32,
        message: status.message().to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_event_is_encoded_as_its_server_frame() {
        let event = pb::Event {
            conversation_id: 7,
            seq: 0,
            kind: Some(pb::event::Kind::Typing(pb::Typing {
                user_id: "alice".into(),
                typing: true,
                expires_in_ms: 6000,
                hidden_from: Vec::new(),
            })),
        };
        let framed = encode(pb::server_frame::Kind::Event(event.clone()));
        assert_eq!(encode_event(&event), framed);
    }
}
