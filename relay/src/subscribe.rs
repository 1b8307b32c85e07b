//! Which conversations a client stream follows: the membership checks of `hello` and
//! `subscribe` frames (one by one for a few, against the user's listing for more), the
//! positions they may resume from, and subscribing and replaying each conversation.

use std::collections::HashSet;
use std::sync::Arc;

use switchboard_proto::ids;
use switchboard_proto::status;
use switchboard_proto::topic::Topic;
use switchboard_proto::v1::{
    self as pb, chat_client::ChatClient, server_frame::Kind as ServerKind,
};
use tonic::Status;

use crate::frames::error_frame;
use crate::replay;
use crate::session::Session;
use crate::state::RelayState;
use crate::upstream::with_token;

/// Most conversations one `hello` or `subscribe` frame may name (in `only`, `except`,
/// `resume` or `channels`): a frame never costs more than this much work.
const MAX_CONVERSATIONS_PER_FRAME: usize = 1_000;

pub(crate) async fn all_conversations(
    state: &RelayState,
    session: &Session,
) -> Result<Vec<u64>, Status> {
    let mut client = ChatClient::new(state.upstream.channel());
    let mut conversation_ids = Vec::new();
    let mut after = 0;
    loop {
        let request = pb::ListConversationsRequest {
            after,
            limit: 200,
            ids_only: true,
            ..Default::default()
        };
        let page = client.list_conversations(with_token(request, &session.token())).await?;
        let page = page.into_inner();
        conversation_ids.extend(page.conversations.iter().map(|c| c.id));
        if page.next_after == 0 {
            return Ok(conversation_ids);
        }
        after = page.next_after;
    }
}

/// Frames naming at most this many conversations have each checked on its own; more are
/// checked against one listing of the user's conversations. Either way a frame costs at
/// most this many calls or the listing's pages, whichever it names.
const CHECKED_ONE_BY_ONE: usize = 8;

/// Which of `conversation_ids` the user is a member of (the controller decides, with the user's
/// own token).
pub(crate) async fn members_of(
    state: &RelayState,
    session: &Session,
    conversation_ids: &[u64],
) -> Result<HashSet<u64>, Status> {
    if conversation_ids.len() > CHECKED_ONE_BY_ONE {
        return Ok(all_conversations(state, session).await?.into_iter().collect());
    }
    let mut mine = HashSet::new();
    let mut client = ChatClient::new(state.upstream.channel());
    for conversation_id in conversation_ids {
        let request = pb::GetConversationRequest { conversation_id: *conversation_id };
        match client.get_conversation(with_token(request, &session.token())).await {
            Ok(conversation) if conversation.get_ref().my_role != pb::Role::Unspecified as i32 => {
                mine.insert(*conversation_id);
            }
            Ok(_) => {}
            // The controller saying no: not a member, no such conversation, a bad id.
            Err(status)
                if matches!(
                    status.code(),
                    tonic::Code::PermissionDenied
                        | tonic::Code::NotFound
                        | tonic::Code::InvalidArgument
                ) => {}
            Err(status) => return Err(status),
        }
    }
    Ok(mine)
}

/// Why a conversation the user is not in (or that does not exist) cannot be followed.
pub(crate) fn not_a_member(conversation_id: u64) -> Status {
    status::denied(format!(
        "cannot follow conversation {conversation_id}: you are not a member of it"
    ))
}

/// INVALID_ARGUMENT when a frame names more conversations than one frame may.
pub(crate) fn within_frame_cap(frame: &str, field: &str, count: usize) -> Result<(), Status> {
    if count > MAX_CONVERSATIONS_PER_FRAME {
        return Err(status::invalid(
            &format!("{frame}.{field}"),
            format!("names {count} conversations; at most {MAX_CONVERSATIONS_PER_FRAME} per frame"),
        ));
    }
    Ok(())
}

/// INVALID_ARGUMENT for a position given by message id, which a resume cannot use (ids
/// are not commit order), or one no event carries: nothing is subscribed, so nothing is
/// silently skipped.
pub(crate) fn positions_by_seq(
    frame: &str,
    field: &str,
    positions: &[pb::ChannelPosition],
) -> Result<(), Status> {
    if let Some(p) = positions.iter().find(|p| p.after_id != 0) {
        return Err(status::invalid(
            &format!("{frame}.{field}"),
            format!(
                "gives conversation {} a position by `after_id`, which is no longer \
                 accepted; resume with `after_seq`, the largest event `seq` seen there \
                 (docs/realtime.md, \"Positions\")",
                p.channel_id
            ),
        ));
    }
    if let Some(p) = positions.iter().find(|p| !ids::is_position(p.after_seq)) {
        return Err(status::invalid(
            &format!("{frame}.{field}"),
            format!(
                "gives conversation {} the position {}, which no event carries (positions \
                 are microsecond times; is it a message id?)",
                p.channel_id, p.after_seq
            ),
        ));
    }
    Ok(())
}

/// A `subscribe` frame: membership checked for all its conversations at once (those the user
/// is not in get an error frame each), then each subscribed and replayed if asked, and
/// `live` once the replays are done.
pub(crate) async fn subscribe_frame(
    state: &Arc<RelayState>,
    session: &Arc<Session>,
    positions: Vec<pb::ChannelPosition>,
) -> Result<(), Status> {
    within_frame_cap("subscribe", "channels", positions.len())?;
    positions_by_seq("subscribe", "channels", &positions)?;
    let conversation_ids: Vec<u64> = positions.iter().map(|p| p.channel_id).collect();
    let mine = members_of(state, session, &conversation_ids).await?;
    let mut added = Vec::new();
    for position in positions {
        if !mine.contains(&position.channel_id) {
            session.send(error_frame("", &not_a_member(position.channel_id))).await;
            continue;
        }
        match subscribe_one(state, session, position).await {
            Ok(()) => added.push(position.channel_id),
            Err(status) => {
                session.send(error_frame("", &status)).await;
            }
        }
    }
    if !added.is_empty() {
        let positions = session.positions(&added);
        session.send(ServerKind::Live(pb::Live { channel_ids: added, positions })).await;
    }
    Ok(())
}

/// One conversation of a `subscribe` frame, its membership checked: subscribed, replayed if
/// asked.
async fn subscribe_one(
    state: &Arc<RelayState>,
    session: &Arc<Session>,
    position: pb::ChannelPosition,
) -> Result<(), Status> {
    let (conversation_id, after) = (position.channel_id, position.after_seq);
    if session.has_conversation(conversation_id) && after == 0 {
        return Ok(());
    }
    session.begin_replay();
    let result = async {
        if !session.has_conversation(conversation_id) {
            let topic = Topic::channel(&session.org, conversation_id);
            let started = state.subscribers.subscribe(session, topic).await?;
            session.follow_conversation(conversation_id);
            if after == 0 {
                session.reached(conversation_id, started);
            }
        }
        if after > 0 {
            replay::replay(state.replay_links(), session, conversation_id, after).await?;
        }
        Ok(())
    }
    .await;
    if result.is_err() {
        // What was held back for it would skip what the replay did not deliver.
        state.let_go(session, conversation_id);
    }
    session.finish_replay();
    result
}
