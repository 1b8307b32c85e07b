//! A `watch_presence` frame (or a hello's `watch_presence`): the stream's watched users
//! become the ones it names; the relay follows the org's presence topic while the stream
//! watches anyone, looks up the users no local stream watched before, and tells the stream
//! the state of each user it starts watching, but for users with a block between them and
//! the stream's user (asked of the controller each time, and again when a block changes). And a `watch_online_counts` frame: the
//! conversations whose online count the stream shows, each followed upstream while a local
//! stream watches it.

use std::sync::Arc;

use switchboard_auth::check_user_id;
use switchboard_proto::status;
use switchboard_proto::topic::Topic;
use switchboard_proto::v1::{self as pb, chat_client::ChatClient};
use tonic::Status;

use crate::frames::error_frame;
use crate::session::Session;
use crate::state::RelayState;
use crate::upstream::with_token;

/// Most users one stream may watch (and `GetPresence` answers for).
const MAX_WATCHED: usize = 1_000;
/// Most conversations whose online count one stream may watch.
const MAX_COUNTED: usize = 100;

/// The users a frame names, each once; INVALID_ARGUMENT on `field` (`hello.watch_presence`,
/// `watch_presence.user_ids`) for too many or a bad id.
pub(crate) fn watch_list(field: &str, mut users: Vec<String>) -> Result<Vec<String>, Status> {
    users.sort_unstable();
    users.dedup();
    if users.len() > MAX_WATCHED {
        let why = format!("names {} users; a stream watches at most {MAX_WATCHED}", users.len());
        return Err(status::invalid(field, why));
    }
    if let Some((user, why)) =
        users.iter().find_map(|user| check_user_id(user).err().map(|why| (user, why)))
    {
        return Err(status::invalid(field, format!("user id {user:?} {why}")));
    }
    Ok(users)
}

/// Makes `users` (checked by [`watch_list`]) the ones whose presence `session` shows. If
/// their state cannot be looked up the error is returned, and they stay watched: their
/// changes still arrive.
pub(crate) async fn watch_presence(
    state: &Arc<RelayState>,
    session: &Arc<Session>,
    users: Vec<String>,
) -> Result<(), Status> {
    let topic = Topic::presence(&session.org);
    if !users.is_empty() {
        // Before anyone is told anything: whose presence this user may not see.
        let apart = state.upstream.kept_apart(&session.org, &session.user).await?;
        session.set_apart(apart);
    }
    if !users.is_empty() && !session.watches_anyone() {
        // Changes flow before anyone is looked up: none is missed in between.
        state.subscribers.subscribe(session, topic.clone()).await?;
    }
    let (added, removed) = session.set_watched(users);
    state.watchers.unwatch(session.id, &session.org, &removed);
    if !session.watches_anyone() {
        state.subscribers.unsubscribe(session.id, &topic);
        return Ok(());
    }
    let unknown = state.watchers.watch(session, &added);
    // The state looked up is every watcher's here: never asked with the token of someone
    // it is kept from (the controller would answer them as unknown).
    let unknown: Vec<String> = unknown.into_iter().filter(|user| !session.hides(user)).collect();
    if !unknown.is_empty() {
        let mut chat = ChatClient::new(state.upstream.channel());
        let request = pb::GetPresenceRequest { user_ids: unknown };
        let answer = chat.get_presence(with_token(request, &session.token())).await?;
        state.watchers.learn(&session.org, &answer.into_inner().users);
    }
    state.watchers.tell(session, &added);
    Ok(())
}

/// Makes `conversations` the ones whose online count `session` shows: those it does not
/// follow get an error frame each; each new one gets the count this relay has (if any; the
/// controller counts a new one within a second).
pub(crate) async fn watch_online_counts(
    state: &Arc<RelayState>,
    session: &Arc<Session>,
    mut conversations: Vec<u64>,
) -> Result<(), Status> {
    conversations.sort_unstable();
    conversations.dedup();
    if conversations.len() > MAX_COUNTED {
        let why = format!(
            "names {} conversations; a stream watches the counts of at most {MAX_COUNTED}",
            conversations.len()
        );
        return Err(status::invalid("watch_online_counts.channel_ids", why));
    }
    let (followed, not_followed): (Vec<u64>, Vec<u64>) =
        conversations.into_iter().partition(|id| session.has_conversation(*id));
    for id in not_followed {
        let why = format!(
            "cannot count who is online in conversation {id}: this stream does not follow it"
        );
        session.send(error_frame("", &status::precondition(why))).await;
    }
    let (added, removed) = session.set_counted(followed);
    for id in removed {
        state.subscribers.unsubscribe(session.id, &Topic::online_count(&session.org, id));
    }
    let topics: Vec<Topic> =
        added.iter().map(|id| Topic::online_count(&session.org, *id)).collect();
    state.subscribers.subscribe_all(session, topics.clone(), true).await?;
    for topic in &topics {
        if let Some((event, encoded)) = state.subscribers.kept(topic) {
            session.deliver(&event, &encoded);
        }
    }
    Ok(())
}
