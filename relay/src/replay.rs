//! Replaying a conversation's changes to a session from a position, in log order
//! (Chat.ListChanges, with the session's token: the controller leaves out what the user may
//! not see).

use switchboard_proto::status;
use switchboard_proto::v1::{self as pb, chat_client::ChatClient};
use tonic::Status;
use tonic::transport::Channel;

use crate::session::Session;
use crate::upstream::with_token;

/// Log entries per page while replaying.
const PAGE: u32 = 500;

/// Sends every change of `conversation_id` after position `after` to the session, oldest first,
/// moving its position on. The caller holds live events back meanwhile
/// (`begin_replay`/`finish_replay`).
pub(crate) async fn replay(
    chat: Channel,
    session: &Session,
    conversation_id: u64,
    after: u64,
) -> Result<(), Status> {
    let mut client = ChatClient::new(chat);
    let mut after = after;
    session.reached(conversation_id, after);
    loop {
        let request =
            pb::ListChangesRequest { channel_id: conversation_id, after_seq: after, limit: PAGE };
        let page = client.list_changes(with_token(request, &session.token())).await?.into_inner();
        for event in page.events {
            if !session.send_replayed(event).await {
                return Ok(()); // the session ended
            }
        }
        after = page.next_after;
        session.reached(conversation_id, after);
        if !page.has_more {
            return Ok(());
        }
    }
}

/// Replays every conversation of the session from its position there (events may have
/// been lost since), then releases the live events held back. The caller has started
/// holding them (`begin_replay`) before the subscriptions came back, so replayed changes
/// come first, and what the session already has is skipped by position.
pub(crate) async fn resync(chat: Channel, session: &Session) {
    for conversation_id in session.conversations() {
        let after = session.position(conversation_id);
        // No position yet: the session is still starting there, and its own replay (or
        // its start from the controller's position) covers what this one would.
        if after == 0 {
            continue;
        }
        if let Err(status) = replay(chat.clone(), session, conversation_id, after).await {
            tracing::warn!(session = session.id, conversation_id, %status, "resync failed; ending the stream");
            session.end(status::unavailable("could not resync; reconnect and resume"));
            break;
        }
    }
    session.finish_replay();
}
