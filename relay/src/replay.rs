//! Replaying a conversation's changes to a session from a position, in log order. The
//! relay serves it from the conversation's latest changes it keeps (`Recent`), first
//! filling what they lack from the log with one read for every session resuming there at
//! once; a session resuming from further back than one read reaches, or one whose user
//! was removed meanwhile, reads on its own (Chat.ListChanges, with the session's token:
//! the controller leaves out what the user may not see, and says whether they may still
//! follow).

use switchboard_proto::status;
use switchboard_proto::topic::Topic;
use switchboard_proto::v1::{self as pb, chat_client::ChatClient, event::Kind};
use tonic::Status;

use crate::recent::Change;
use crate::session::Session;
use crate::subscribers::ChannelSubscribers;
use crate::upstream::{Upstream, with_token};

/// Log entries per page while replaying.
const PAGE: u32 = 500;

/// Sends every change of `conversation_id` after position `after` to the session, oldest first,
/// moving its position on. The caller holds live events back meanwhile
/// (`begin_replay`/`finish_replay`), and has subscribed the session to the conversation.
pub(crate) async fn replay(
    (subscribers, upstream): (&ChannelSubscribers, &Upstream),
    session: &Session,
    conversation_id: u64,
    after: u64,
) -> Result<(), Status> {
    session.reached(conversation_id, after);
    let topic = Topic::channel(&session.org, conversation_id);
    if let Some(changes) = kept_changes(subscribers, upstream, &topic, after).await
        && !changes.iter().any(|(event, _)| removes(event, &session.user))
    {
        for (event, encoded) in changes {
            if !session.send_replayed_encoded(&event, &encoded).await {
                return Ok(()); // the session ended
            }
        }
        return Ok(());
    }
    read_on_its_own(upstream, session, conversation_id, after).await
}

/// The changes of `topic` after `after` as the relay keeps them, after filling what they
/// lack from the log (one read at a time per conversation: sessions that wait for it
/// find their changes filled); None if they cannot all be had that way.
async fn kept_changes(
    subscribers: &ChannelSubscribers,
    upstream: &Upstream,
    topic: &Topic,
    after: u64,
) -> Option<Vec<Change>> {
    if let Some(changes) = subscribers.recent_after(topic, after) {
        return Some(changes);
    }
    let (_, filling) = subscribers.recent_start(topic)?;
    let _filling = filling.lock().await;
    let (until, _) = subscribers.recent_start(topic)?;
    if let Some(until) = until.filter(|until| after < *until) {
        let conversation_id = topic.channel_id()?;
        match upstream.read_changes(conversation_id, after, until).await {
            Ok(read) if read.complete => {
                subscribers.fill_recent(topic, after, until, read.events);
            }
            Ok(_) => {}
            Err(status) => tracing::debug!(conversation_id, %status, "could not fill from the log"),
        }
    }
    subscribers.recent_after(topic, after)
}

/// Whether `event` takes `user` out of the conversation.
fn removes(event: &pb::Event, user: &str) -> bool {
    matches!(&event.kind, Some(Kind::MemberLeft(left)) if left.user_id == user)
}

/// The replay read page by page with the session's own token.
async fn read_on_its_own(
    upstream: &Upstream,
    session: &Session,
    conversation_id: u64,
    after: u64,
) -> Result<(), Status> {
    let mut client = ChatClient::new(upstream.channel());
    let mut after = after;
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
pub(crate) async fn resync(links: (&ChannelSubscribers, &Upstream), session: &Session) {
    for conversation_id in session.conversations() {
        let after = session.position(conversation_id);
        // No position yet: the session is still starting there, and its own replay (or
        // its start from the controller's position) covers what this one would.
        if after == 0 {
            continue;
        }
        if let Err(status) = replay(links, session, conversation_id, after).await {
            tracing::warn!(session = session.id, conversation_id, %status, "resync failed; ending the stream");
            session.end(status::unavailable("could not resync; reconnect and resume"));
            break;
        }
    }
    session.finish_replay();
}
