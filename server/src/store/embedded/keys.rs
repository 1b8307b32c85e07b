//! Byte layouts of the embedded engine's keys. Integers are big-endian so that byte order
//! is numeric order; strings (user and org ids, which never contain NUL) end with a NUL.

use crate::model::{
    ConversationId, LogEntry, LogPoint, MessageChange, MessageId, ReadMarker, Removal, UserThread,
};

pub(super) fn conversation(id: ConversationId) -> [u8; 8] {
    id.to_be_bytes()
}

pub(super) fn member(id: ConversationId, user: &str) -> Vec<u8> {
    let mut key = id.to_be_bytes().to_vec();
    key.extend_from_slice(user.as_bytes());
    key
}

/// The user id a `member` key ends with.
pub(super) fn member_user(key: &[u8]) -> &[u8] {
    &key[8..]
}

pub(super) fn user_prefix(org: &str, user: &str) -> Vec<u8> {
    let mut key = Vec::with_capacity(org.len() + user.len() + 2);
    push_str(&mut key, org);
    push_str(&mut key, user);
    key
}

/// A directory entry: the org, the term, the user. Terms are words (no NUL).
pub(super) fn directory(org: &str, term: &str, user: &str) -> Vec<u8> {
    let mut key = directory_prefix(org, term);
    key.push(0);
    push_str(&mut key, user);
    key
}

/// Where the entries of `org` whose term starts with `prefix` begin.
pub(super) fn directory_prefix(org: &str, prefix: &str) -> Vec<u8> {
    let mut key = Vec::with_capacity(org.len() + prefix.len() + 1);
    push_str(&mut key, org);
    key.extend_from_slice(prefix.as_bytes());
    key
}

/// An entry of a user's contacts or blocks: the org, the user, the other user.
pub(super) fn relation(org: &str, user: &str, other: &str) -> Vec<u8> {
    let mut key = user_prefix(org, user);
    push_str(&mut key, other);
    key
}

/// The other user a `relation` key ends with, given what follows the user's prefix.
pub(super) fn relation_other(rest: &[u8]) -> String {
    let other = rest.strip_suffix(&[0]).unwrap_or(rest);
    String::from_utf8_lossy(other).into_owned()
}

pub(super) fn user_conversation(org: &str, user: &str, id: ConversationId) -> Vec<u8> {
    let mut key = user_prefix(org, user);
    key.extend_from_slice(&id.to_be_bytes());
    key
}

/// The conversation id a `user_conversation` key ends with.
pub(super) fn user_conversation_id(key: &[u8]) -> ConversationId {
    u64_at(key, key.len() - 8)
}

/// The pair is sorted, so (a, b) and (b, a) are one key.
pub(super) fn direct_pair(org: &str, a: &str, b: &str) -> Vec<u8> {
    let (low, high) = if a <= b { (a, b) } else { (b, a) };
    let mut key = user_prefix(org, low);
    push_str(&mut key, high);
    key
}

/// A linked conversation's key in its org (keys have no NUL, like user ids).
pub(super) fn conversation_key(org: &str, key: &str) -> Vec<u8> {
    user_prefix(org, key)
}

/// An entry of an org's list ordered by id (its filters); `org_prefix` starts them all.
pub(super) fn org_entry(org: &str, id: u64) -> Vec<u8> {
    let mut key = org_prefix(org);
    key.extend_from_slice(&id.to_be_bytes());
    key
}

pub(super) fn org_prefix(org: &str) -> Vec<u8> {
    let mut key = Vec::with_capacity(org.len() + 9);
    push_str(&mut key, org);
    key
}

/// An entry of a conversation's list ordered by id (its reports).
pub(super) fn conversation_entry(id: ConversationId, entry: u64) -> [u8; 16] {
    let mut key = [0; 16];
    key[..8].copy_from_slice(&id.to_be_bytes());
    key[8..].copy_from_slice(&entry.to_be_bytes());
    key
}

/// An entry of a user's list ordered by id: their devices, uploads, messages.
pub(super) fn user_entry(org: &str, user: &str, id: u64) -> Vec<u8> {
    let mut key = user_prefix(org, user);
    key.extend_from_slice(&id.to_be_bytes());
    key
}

pub(super) fn self_conversation(org: &str, user: &str) -> Vec<u8> {
    user_prefix(org, user)
}

pub(super) fn message(conversation_id: ConversationId, bucket: u32, id: MessageId) -> [u8; 20] {
    let mut key = [0; 20];
    key[..8].copy_from_slice(&conversation_id.to_be_bytes());
    key[8..12].copy_from_slice(&bucket.to_be_bytes());
    key[12..].copy_from_slice(&id.to_be_bytes());
    key
}

/// An earlier text of a message: the message, then the position of the edit that replaced
/// it.
pub(super) fn message_version(
    conversation_id: ConversationId,
    id: MessageId,
    seq: u64,
) -> [u8; 24] {
    let mut key = [0; 24];
    key[..16].copy_from_slice(&item(conversation_id, id));
    key[16..].copy_from_slice(&seq.to_be_bytes());
    key
}

/// The id a key ends with: of an `item` (a pinned message, a sent file) or a `user_upload`.
pub(super) fn last_id(key: &[u8]) -> u64 {
    u64_at(key, key.len() - 8)
}

/// A reaction: the message, the emoji, the user (emoji and user ids have no NUL).
pub(super) fn reaction(
    conversation_id: ConversationId,
    id: MessageId,
    emoji: &str,
    user: &str,
) -> Vec<u8> {
    let mut key = item(conversation_id, id).to_vec();
    push_str(&mut key, emoji);
    push_str(&mut key, user);
    key
}

/// A user's reaction, by conversation and user, then message and emoji.
pub(super) fn user_reaction(
    conversation_id: ConversationId,
    user: &str,
    id: MessageId,
    emoji: &str,
) -> Vec<u8> {
    let mut key = user_reactions_from(conversation_id, user, id);
    push_str(&mut key, emoji);
    key
}

/// Where a user's reactions to messages from `id` on start.
pub(super) fn user_reactions_from(
    conversation_id: ConversationId,
    user: &str,
    id: MessageId,
) -> Vec<u8> {
    let mut key = conversation_id.to_be_bytes().to_vec();
    push_str(&mut key, user);
    key.extend_from_slice(&id.to_be_bytes());
    key
}

/// The message and emoji a `user_reaction` key names, given its length before the message.
pub(super) fn parse_user_reaction(key: &[u8], prefix: usize) -> (MessageId, String) {
    let id = u64_at(key, prefix);
    let emoji = &key[prefix + 8..];
    let emoji = emoji.strip_suffix(&[0]).unwrap_or(emoji);
    (id, String::from_utf8_lossy(emoji).into_owned())
}

/// An id of a conversation's: a pinned message (`pins`), a sent file (`conversation_files`),
/// and where a message's versions and reactions start.
pub(super) fn item(conversation_id: ConversationId, id: u64) -> [u8; 16] {
    let mut key = [0; 16];
    key[..8].copy_from_slice(&conversation_id.to_be_bytes());
    key[8..].copy_from_slice(&id.to_be_bytes());
    key
}

/// A report of a message: the message's `item`, then the report.
pub(super) fn message_report(
    conversation_id: ConversationId,
    message: MessageId,
    report: u64,
) -> [u8; 24] {
    message_version(conversation_id, message, report)
}

/// The report a `message_report` key names.
pub(super) fn report_of(key: &[u8]) -> u64 {
    u64::from_be_bytes(key[16..24].try_into().expect("a message_report key"))
}

/// A reply in a thread: the root's `item`, then the reply.
pub(super) fn thread_reply(
    conversation_id: ConversationId,
    root: MessageId,
    id: MessageId,
) -> [u8; 24] {
    message_version(conversation_id, root, id)
}

/// A user's state of a thread: the root's `item`, then the user.
pub(super) fn thread_follow(
    conversation_id: ConversationId,
    root: MessageId,
    user: &str,
) -> Vec<u8> {
    let mut key = item(conversation_id, root).to_vec();
    key.extend_from_slice(user.as_bytes());
    key
}

/// A thread a user follows: the user, then its activity, conversation and root.
pub(super) fn user_thread(org: &str, user: &str, thread: &UserThread) -> Vec<u8> {
    let mut key = user_prefix(org, user);
    key.extend_from_slice(&thread.activity.to_be_bytes());
    key.extend_from_slice(&item(thread.conversation_id, thread.root));
    key
}

/// The thread a `user_thread` key names.
pub(super) fn parse_user_thread(key: &[u8]) -> UserThread {
    let at = key.len() - 24;
    UserThread {
        activity: u64_at(key, at),
        conversation_id: u64_at(key, at + 8),
        root: u64_at(key, at + 16),
    }
}

pub(super) fn message_bucket(conversation_id: ConversationId, bucket: u32) -> [u8; 12] {
    let mut key = [0; 12];
    key[..8].copy_from_slice(&conversation_id.to_be_bytes());
    key[8..].copy_from_slice(&bucket.to_be_bytes());
    key
}

/// The bucket a `message_bucket` key names.
pub(super) fn bucket_number(key: &[u8]) -> u32 {
    u32::from_be_bytes(key[8..12].try_into().expect("bucket keys are 12 bytes"))
}

pub(super) fn dedup(conversation_id: ConversationId, sender: &str, client_msg_id: &str) -> Vec<u8> {
    let mut key = conversation_id.to_be_bytes().to_vec();
    push_str(&mut key, sender);
    key.extend_from_slice(client_msg_id.as_bytes());
    key
}

/// Dedup values: the original message id and when the key was written (Unix ms).
pub(super) fn dedup_value(id: MessageId, written_at_ms: i64) -> [u8; 16] {
    let mut value = [0; 16];
    value[..8].copy_from_slice(&id.to_be_bytes());
    value[8..].copy_from_slice(&written_at_ms.to_be_bytes());
    value
}

pub(super) fn parse_dedup_value(value: &[u8]) -> Option<(MessageId, i64)> {
    if value.len() != 16 {
        return None;
    }
    Some((u64_at(value, 0), u64_at(value, 8) as i64))
}

/// Pending uploads sort by deadline, then id.
pub(super) fn pending_upload(expires_at_ms: i64, id: u64) -> [u8; 16] {
    let mut key = [0; 16];
    key[..8].copy_from_slice(&(expires_at_ms.max(0) as u64).to_be_bytes());
    key[8..].copy_from_slice(&id.to_be_bytes());
    key
}

/// The attachment id a `pending_upload` key ends with.
pub(super) fn pending_upload_id(key: &[u8]) -> u64 {
    u64_at(key, 8)
}

/// `archive_expiries`: when the archive is removed, then the export job's id.
pub(super) fn archive_expiry(expires_at_ms: i64, job_id: u64) -> [u8; 16] {
    let mut key = [0; 16];
    key[..8].copy_from_slice(&(expires_at_ms.max(0) as u64).to_be_bytes());
    key[8..].copy_from_slice(&job_id.to_be_bytes());
    key
}

/// The (time, job id) of an `archive_expiries` key.
pub(super) fn parse_archive_expiry(key: &[u8]) -> (i64, u64) {
    (u64_at(key, 0) as i64, u64_at(key, 8))
}

/// Messages due to expire sort by expiry, then conversation and message.
pub(super) fn expiring(
    expires_at_ms: i64,
    conversation_id: ConversationId,
    id: MessageId,
) -> [u8; 24] {
    let mut key = [0; 24];
    key[..8].copy_from_slice(&(expires_at_ms.max(0) as u64).to_be_bytes());
    key[8..16].copy_from_slice(&conversation_id.to_be_bytes());
    key[16..].copy_from_slice(&id.to_be_bytes());
    key
}

/// Audit entries: (org, day), then id.
pub(super) fn audit(org: &str, day: u32, id: u64) -> Vec<u8> {
    let mut key = Vec::with_capacity(org.len() + 13);
    push_str(&mut key, org);
    key.extend_from_slice(&day.to_be_bytes());
    key.extend_from_slice(&id.to_be_bytes());
    key
}

pub(super) fn notification(org: &str, user: &str, id: u64) -> Vec<u8> {
    let mut key = user_prefix(org, user);
    key.extend_from_slice(&id.to_be_bytes());
    key
}

/// Who was notified of a message: the message's `item`, then the user.
pub(super) fn message_notification(
    conversation_id: ConversationId,
    id: MessageId,
    user: &str,
) -> Vec<u8> {
    let mut key = item(conversation_id, id).to_vec();
    push_str(&mut key, user);
    key
}

/// Hour first, so that whole hours can be pruned by range; then the change in its order.
pub(super) fn message_change(hour: u32, change: &MessageChange) -> [u8; 28] {
    let mut key = [0; 28];
    key[..4].copy_from_slice(&hour.to_be_bytes());
    key[4..12].copy_from_slice(&(change.at_ms.max(0) as u64).to_be_bytes());
    key[12..20].copy_from_slice(&change.channel_id.to_be_bytes());
    key[20..].copy_from_slice(&change.message_id.to_be_bytes());
    key
}

pub(super) fn parse_message_change(key: &[u8]) -> Option<MessageChange> {
    (key.len() == 28).then(|| MessageChange {
        at_ms: u64_at(key, 4) as i64,
        channel_id: u64_at(key, 12),
        message_id: u64_at(key, 20),
    })
}

/// A conversation's log: conversation, then position. The value is [`log_value`].
pub(super) fn log(conversation_id: ConversationId, seq: u64) -> [u8; 16] {
    let mut key = [0; 16];
    key[..8].copy_from_slice(&conversation_id.to_be_bytes());
    key[8..].copy_from_slice(&seq.to_be_bytes());
    key
}

/// A log entry's predecessor, message and count; for a removal, then who left and who
/// removed them (each ended by a NUL).
pub(super) fn log_value(entry: &LogEntry) -> Vec<u8> {
    let mut value = Vec::with_capacity(24);
    value.extend_from_slice(&entry.prev.to_be_bytes());
    value.extend_from_slice(&entry.message_id.to_be_bytes());
    value.extend_from_slice(&entry.count.to_be_bytes());
    if let Some(removal) = &entry.removal {
        push_str(&mut value, &removal.user);
        push_str(&mut value, &removal.by);
    }
    value
}

/// Entries written before counts were kept (16 bytes) count 0.
pub(super) fn parse_log(key: &[u8], value: &[u8]) -> Option<LogEntry> {
    if key.len() != 16 || (value.len() != 16 && value.len() < 24) {
        return None;
    }
    let removal = match value.get(24..) {
        None | Some([]) => None,
        Some(tail) => {
            let mut parts = tail.split(|b| *b == 0);
            let user = String::from_utf8(parts.next()?.to_vec()).ok()?;
            let by = String::from_utf8(parts.next()?.to_vec()).ok()?;
            Some(Box::new(Removal { user, by }))
        }
    };
    Some(LogEntry {
        seq: u64_at(key, 8),
        prev: u64_at(value, 0),
        message_id: u64_at(value, 8),
        count: if value.len() >= 24 { u64_at(value, 16) } else { 0 },
        removal,
    })
}

/// A read marker's message, position and count.
pub(super) fn marker_value(marker: &ReadMarker) -> [u8; 24] {
    let mut value = [0; 24];
    value[..8].copy_from_slice(&marker.message_id.to_be_bytes());
    value[8..16].copy_from_slice(&marker.at.seq.to_be_bytes());
    value[16..].copy_from_slice(&marker.at.count.to_be_bytes());
    value
}

/// Markers written before they had a place in the log (8 bytes: the message) have none.
pub(super) fn parse_marker(value: &[u8]) -> Option<ReadMarker> {
    match value.len() {
        8 => Some(ReadMarker { message_id: u64_at(value, 0), at: LogPoint::default() }),
        24 => Some(ReadMarker {
            message_id: u64_at(value, 0),
            at: LogPoint { seq: u64_at(value, 8), count: u64_at(value, 16) },
        }),
        _ => None,
    }
}

/// A private message to `user` not yet read: conversation, user, then its position.
pub(super) fn private_unread(conversation_id: ConversationId, user: &str, seq: u64) -> Vec<u8> {
    let mut key = private_unread_prefix(conversation_id, user);
    key.extend_from_slice(&seq.to_be_bytes());
    key
}

pub(super) fn private_unread_prefix(conversation_id: ConversationId, user: &str) -> Vec<u8> {
    let mut key = conversation_id.to_be_bytes().to_vec();
    push_str(&mut key, user);
    key
}

fn push_str(key: &mut Vec<u8>, s: &str) {
    key.extend_from_slice(s.as_bytes());
    key.push(0);
}

fn u64_at(bytes: &[u8], at: usize) -> u64 {
    u64::from_be_bytes(bytes[at..at + 8].try_into().expect("8 bytes"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn direct_pairs_ignore_order() {
        assert_eq!(direct_pair("o", "bob", "amy"), direct_pair("o", "amy", "bob"));
        assert_ne!(direct_pair("o", "ab", "c"), direct_pair("o", "a", "bc"));
    }

    #[test]
    fn message_keys_sort_by_bucket_then_id() {
        assert!(message(1, 0, u64::MAX) < message(1, 1, 0));
        assert!(message(1, 5, 10) < message(1, 5, 11));
        assert!(message(1, u32::MAX, u64::MAX) < message(2, 0, 0));
    }
}
