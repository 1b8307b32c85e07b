//! Each conversation's log (every change in commit order, with message counts), read
//! markers as places in it, and the change feed the search indexers follow.

use serde::{Deserialize, Serialize};

use super::{ConversationId, Message, MessageId};

/// One change to a message (sent, edited or deleted): a row of the change feed the search
/// indexer follows. Ordered by time, then conversation, then message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct MessageChange {
    pub at_ms: i64,
    pub channel_id: ConversationId,
    pub message_id: MessageId,
}

/// One entry of a conversation's log: a message was created, edited or deleted. Every
/// change of a conversation's messages gets a position (`seq`) when it commits: positions
/// grow in commit order, and each entry names the one before it (`prev`, 0 for the first),
/// so a reader can tell a complete run of the log from one with a change still missing.
/// Positions are microsecond times where the clock allows (never less than `prev + 1`),
/// so a gap between two positions says nothing about what happened in between.
///
/// Each entry also counts the messages for everyone (not private ones) created up to and
/// including it: unread counts are differences of these counts (see [`LogPoint`]).
///
/// One kind of entry names no message: a member's removal (or leaving), so that it reaches
/// every reader in order with the messages, and nobody gets what was said after it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct LogEntry {
    pub seq: u64,
    pub prev: u64,
    /// The message changed (0 for a removal).
    pub message_id: MessageId,
    /// Messages for everyone created in the conversation up to this entry.
    pub count: u64,
    pub removal: Option<Box<Removal>>,
}

/// A member left a conversation (`by` themselves) or was removed (`by` an admin).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Removal {
    pub user: String,
    pub by: String,
}

/// What a change adds to its conversation's log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogChange {
    /// A new message for everyone in the conversation: the count goes up by one.
    SharedMessage,
    /// A new private message or thread-only reply, an edit or a delete: the count stays.
    Other,
}

impl LogChange {
    pub fn of_new(message: &Message) -> LogChange {
        match message.to.is_none() && !message.thread_only {
            true => LogChange::SharedMessage,
            false => LogChange::Other,
        }
    }
}

impl LogEntry {
    /// The entry after `head` (None for an empty log), written at `now_us`.
    pub fn next(
        head: Option<&LogEntry>,
        message_id: MessageId,
        change: LogChange,
        now_us: u64,
    ) -> LogEntry {
        let (prev, count) = head.map_or((0, 0), |head| (head.seq, head.count));
        let added = u64::from(change == LogChange::SharedMessage);
        let seq = now_us.max(prev + 1);
        LogEntry { seq, prev, message_id, count: count + added, removal: None }
    }

    /// The entry after `head` for a member's removal.
    pub fn next_removal(head: Option<&LogEntry>, removal: Removal, now_us: u64) -> LogEntry {
        let entry = LogEntry::next(head, 0, LogChange::Other, now_us);
        LogEntry { removal: Some(Box::new(removal)), ..entry }
    }

    pub fn point(&self) -> LogPoint {
        LogPoint { seq: self.seq, count: self.count }
    }
}

/// A place in a conversation's log (0 before its first entry) with the count of messages
/// for everyone up to it. A member's unread messages are the count at the log's head less
/// the count where they stopped reading (their read marker, or where they joined), plus
/// the private messages to them after it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct LogPoint {
    pub seq: u64,
    pub count: u64,
}

/// A member's read marker: the newest message they have read, and its place in the log.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReadMarker {
    pub message_id: MessageId,
    pub at: LogPoint,
}

/// Keeps the entries of `entries` (ascending) that continue the log from `after` without a
/// break: a reader must not skip a change that is committed but not yet visible to it.
pub fn unbroken_from(after: u64, entries: Vec<LogEntry>) -> Vec<LogEntry> {
    let mut expected = after;
    let mut run = Vec::with_capacity(entries.len());
    for entry in entries {
        // A reader asking from 0 knows nothing of what came before; so does one that asks
        // from a position the log has moved past (any first entry after it continues it).
        if run.is_empty() && entry.prev <= after || entry.prev == expected {
            expected = entry.seq;
            run.push(entry);
        } else {
            break;
        }
    }
    run
}

/// The change feed is partitioned by UTC hour.
pub fn change_hour(at_ms: i64) -> u32 {
    (at_ms.max(0) / 3_600_000) as u32
}
