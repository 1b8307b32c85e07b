//! A conversation's log read back as events: what a replay (Chat.ListChanges) and the hub's
//! gap fill send. One event per log entry, each with its position (`seq`) and the message
//! as it is now (or, for a removal, who left); an entry that a later change of the same
//! message supersedes is left out, except a creation, so that every message is created
//! once for every reader.

use std::collections::HashMap;

use switchboard_proto::events;
use switchboard_proto::v1::{self as pb, event::Kind};

use crate::convert;
use crate::model::{ConversationId, LogEntry, LogPoint, Message, MessageId, Removal};
use crate::store::{Store, StoreResult};

/// One change read from the log.
pub struct Change {
    pub entry: LogEntry,
    pub event: pb::Event,
}

impl Change {
    /// Whether `user` may see it (a private message's changes: its two parties only;
    /// a removal: every member).
    pub fn visible_to(&self, user: &str) -> bool {
        events::message_of(&self.event).is_none_or(|message| events::visible_to(message, user))
    }
}

/// The changes of up to `limit` log entries after `after`, and whether the log goes on.
pub async fn after(
    store: &dyn Store,
    conversation_id: ConversationId,
    after: u64,
    limit: usize,
) -> StoreResult<(Vec<Change>, Option<LogEntry>, bool)> {
    let entries = store.list_log(conversation_id, after, limit).await?;
    let more = entries.len() == limit;
    let last = entries.last().cloned();
    let mut messages: HashMap<MessageId, Option<Message>> = HashMap::new();
    let mut changes = Vec::with_capacity(entries.len());
    for entry in entries {
        if let Some(removal) = &entry.removal {
            let event = removal_event(conversation_id, entry.seq, removal);
            changes.push(Change { entry, event });
            continue;
        }
        if let std::collections::hash_map::Entry::Vacant(vacant) = messages.entry(entry.message_id)
        {
            vacant.insert(store.get_message(conversation_id, entry.message_id).await?);
        }
        // A message whose writer stopped before writing it leaves an entry behind.
        let Some(message) = &messages[&entry.message_id] else { continue };
        if let Some(event) = event_of(&entry, message) {
            changes.push(Change { entry, event });
        }
    }
    Ok((changes, last, more))
}

/// The event an entry of `message`'s stands for (its creation, or an edit or delete as the
/// message now shows), or None if a later change of the message supersedes it.
pub(super) fn event_of(entry: &LogEntry, message: &Message) -> Option<pb::Event> {
    let created = entry.seq == message.created_seq;
    if !created && message.seq > entry.seq {
        return None;
    }
    let message_pb = Some(convert::message(message.clone()));
    let kind = if created {
        Kind::MessageCreated(pb::MessageCreated { message: message_pb })
    } else if message.deleted {
        Kind::MessageDeleted(pb::MessageDeleted {
            message: message_pb,
            deleted_by: message.deleted_by.clone().unwrap_or_else(|| message.from.clone()),
        })
    } else {
        Kind::MessageEdited(pb::MessageEdited { message: message_pb })
    };
    Some(pb::Event { conversation_id: message.channel_id, seq: entry.seq, kind: Some(kind) })
}

/// The event of a removal at position `seq`.
pub(super) fn removal_event(
    conversation_id: ConversationId,
    seq: u64,
    removal: &Removal,
) -> pb::Event {
    let kind = Kind::MemberLeft(pb::MemberLeft {
        user_id: removal.user.clone(),
        removed_by: removal.by.clone(),
    });
    pb::Event { conversation_id, seq, kind: Some(kind) }
}

/// Entries walked back from the head to find a public one before giving up.
const PUBLIC_WALK: usize = 64;

/// The position before a conversation's first change. Entries' positions are larger (they
/// are microsecond times), and 0 means "no position" in `ChannelPosition`.
pub const START: u64 = 1;

/// Where a member who joins now starts: the position to replay after, the newest entry
/// everyone may see (so that a position never names a private message's change to a third
/// party; every entry after it is either private, and skipped by the member's replays, or
/// still to come), with the log's count of messages for everyone (which private entries
/// do not change).
pub async fn join_point(
    store: &dyn Store,
    conversation_id: ConversationId,
) -> StoreResult<LogPoint> {
    let (_, seq, count) = start(store, conversation_id).await?;
    Ok(LogPoint { seq, count })
}

/// The log's head (every change up to it is in the log; [`START`] for an empty log) and the
/// position a reader that starts now is handed (see [`join_point`]), from one read of the
/// head.
pub async fn starting_points(
    store: &dyn Store,
    conversation_id: ConversationId,
) -> StoreResult<(u64, u64)> {
    let (head, public, _) = start(store, conversation_id).await?;
    Ok((head, public))
}

/// From one read of the head: its position ([`START`] for an empty log), the newest
/// position everyone may see, and the log's count.
async fn start(store: &dyn Store, conversation_id: ConversationId) -> StoreResult<(u64, u64, u64)> {
    let head = store.log_head(conversation_id).await?;
    let (seq, count) = head.as_ref().map_or((START, 0), |entry| (entry.seq, entry.count));
    let public = public_before(store, conversation_id, head).await?;
    Ok((seq, public, count))
}

/// The newest entry everyone may see, at or before `head`.
async fn public_before(
    store: &dyn Store,
    conversation_id: ConversationId,
    head: Option<LogEntry>,
) -> StoreResult<u64> {
    let mut entry = head;
    for _ in 0..PUBLIC_WALK {
        let Some(current) = entry else { return Ok(START) };
        if current.removal.is_some() {
            return Ok(current.seq); // every member sees a removal
        }
        match store.get_message(conversation_id, current.message_id).await? {
            Some(message) if message.to.is_some() => {}
            // Public, or an entry whose message was never written (it names nothing).
            _ => return Ok(current.seq),
        }
        if current.prev == 0 {
            return Ok(START);
        }
        // The entry before: its position is all a reader needs, and it is in the log.
        let before = store.list_log(conversation_id, current.prev - 1, 1).await?;
        entry = before.into_iter().next().filter(|e| e.seq == current.prev);
    }
    Ok(entry.map_or(START, |e| e.prev.max(START)))
}
