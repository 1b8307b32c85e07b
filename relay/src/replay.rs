//! Replaying a channel's history to a session, from a position, in id order.

use switchboard_proto::v1::{self as pb, chat_client::ChatClient, event::Kind, server_frame};
use tonic::Status;
use tonic::transport::Channel;

use crate::session::Session;
use crate::with_token;

/// Messages per history page while replaying.
const PAGE: u32 = 200;

/// Sends every message of `channel` after `after` to the session, oldest first. The caller
/// holds live events back meanwhile (`begin_replay`/`finish_replay`).
pub(crate) async fn replay(
    chat: Channel,
    session: &Session,
    channel: u64,
    after: u64,
) -> Result<(), Status> {
    let mut client = ChatClient::new(chat);
    let mut cursor = after;
    loop {
        let request =
            pb::ListHistoryRequest { channel_id: channel, after: cursor, before: 0, limit: PAGE };
        let page = client.list_history(with_token(request, &session.token())).await?.into_inner();
        // A page after a cursor is the messages right after it, newest first.
        for message in page.messages.into_iter().rev() {
            cursor = message.id;
            session.replayed(channel, message.id);
            let event = pb::Event {
                conversation_id: channel,
                kind: Some(Kind::MessageCreated(pb::MessageCreated { message: Some(message) })),
            };
            if !session.send(server_frame::Kind::Event(event)).await {
                return Ok(()); // the session ended
            }
        }
        if !page.has_more {
            return Ok(());
        }
    }
}
