//! Replaying a channel's history to a session, from a position, in id order.

use switchboard_proto::ids;
use switchboard_proto::v1::{self as pb, chat_client::ChatClient, event::Kind};
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
            let event = pb::Event {
                conversation_id: channel,
                kind: Some(Kind::MessageCreated(pb::MessageCreated { message: Some(message) })),
            };
            if !session.send_replayed(event).await {
                return Ok(()); // the session ended
            }
        }
        if !page.has_more {
            return Ok(());
        }
    }
}

/// How far before a reported loss a resync starts: ids are taken before the write, so a
/// message committed during the outage may carry a slightly earlier id.
const RESYNC_MARGIN_MS: i64 = 2_000;

/// Replays every channel of the session from shortly before `since_ms` (when events may
/// have started going missing), then releases the live events held back. The caller has
/// started holding them (`begin_replay`) before the subscriptions came back, so replayed
/// messages always come first. Messages the session already has are skipped by id.
pub(crate) async fn resync(chat: Channel, session: &Session, since_ms: i64) {
    let after = ids::first_id_at(since_ms - RESYNC_MARGIN_MS).saturating_sub(1);
    for channel in session.channels() {
        if let Err(status) = replay(chat.clone(), session, channel, after).await {
            tracing::warn!(session = session.id, channel, %status, "resync failed; ending the stream");
            session.end(Status::unavailable("could not resync; reconnect and resume"));
            break;
        }
    }
    session.finish_replay();
}
