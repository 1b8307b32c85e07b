//! Column codecs shared by the ScyllaDB engine's tables: ids as `bigint`, enums by name,
//! member rows (written with conversations and with members). Snowflake ids are positive
//! 63-bit numbers, so they fit CQL's signed `bigint`.

use std::collections::HashMap;

use scylla::value::{CqlValue, MaybeUnset};

use crate::model::{
    AttachmentState, ConversationId, Kind, LogPoint, Member, MessageType, Role, Timeout,
};
use crate::store::{StoreError, StoreResult};

pub(super) fn to_i64(id: u64) -> i64 {
    id.min(i64::MAX as u64) as i64
}

/// A page size as CQL's `LIMIT` takes it.
pub(super) fn row_limit(limit: usize) -> i32 {
    i32::try_from(limit).unwrap_or(i32::MAX)
}

/// An exclusive upper cursor as a `bigint`: `before`, or past every id when None.
pub(super) fn before_or_end(before: Option<u64>) -> i64 {
    to_i64(before.unwrap_or(u64::MAX))
}

pub(super) fn corrupt(table: &'static str, reason: impl Into<String>) -> StoreError {
    StoreError::Corrupt { table, reason: reason.into() }
}

/// A `bigint` column of an LWT answer, as an id.
pub(super) fn id_column(columns: &HashMap<String, CqlValue>, name: &str) -> StoreResult<u64> {
    match columns.get(name) {
        Some(CqlValue::BigInt(id)) => Ok(*id as u64),
        other => Err(corrupt("lwt", format!("expected bigint `{name}`, got {other:?}"))),
    }
}

pub(super) fn kind(name: &str) -> StoreResult<Kind> {
    Ok(match name {
        "direct" => Kind::Direct,
        "self" => Kind::SelfNotes,
        "group" => Kind::Group,
        "channel" => Kind::Channel,
        other => return Err(corrupt("conversations", format!("unknown kind `{other}`"))),
    })
}

pub(super) fn role(name: &str) -> StoreResult<Role> {
    Ok(match name {
        "member" => Role::Member,
        "admin" => Role::Admin,
        "owner" => Role::Owner,
        other => return Err(corrupt("members", format!("unknown role `{other}`"))),
    })
}

pub(super) fn message_type(name: &str) -> StoreResult<MessageType> {
    Ok(match name {
        "text" => MessageType::Text,
        "image" => MessageType::Image,
        "video" => MessageType::Video,
        "audio" => MessageType::Audio,
        "file" => MessageType::File,
        other => return Err(corrupt("messages", format!("unknown message type `{other}`"))),
    })
}

pub(super) fn state_name(state: AttachmentState) -> &'static str {
    match state {
        AttachmentState::Pending => "pending",
        AttachmentState::Complete => "complete",
        AttachmentState::Deleted => "deleted",
        AttachmentState::Expired => "expired",
    }
}

pub(super) fn state(name: &str) -> StoreResult<AttachmentState> {
    Ok(match name {
        "pending" => AttachmentState::Pending,
        "complete" => AttachmentState::Complete,
        "deleted" => AttachmentState::Deleted,
        "expired" => AttachmentState::Expired,
        other => return Err(corrupt("attachments", format!("unknown state `{other}`"))),
    })
}

pub(super) fn unset_if_none<T>(value: Option<T>) -> MaybeUnset<T> {
    value.map_or(MaybeUnset::Unset, MaybeUnset::Set)
}

/// `members` values in insert order: conversation, user, role, joined at, muted, the log's
/// position and count when they joined, the timeout (until, by, reason) and the last post
/// under slow mode (unset when never, so that `last_post_ms = null` finds it).
#[allow(clippy::type_complexity)]
pub(super) fn member_values(
    id: ConversationId,
    m: &Member,
) -> (
    i64,
    String,
    &'static str,
    i64,
    bool,
    i64,
    i64,
    Option<i64>,
    Option<String>,
    Option<String>,
    MaybeUnset<i64>,
) {
    let joined = (to_i64(m.joined.seq), to_i64(m.joined.count));
    let timeout = m.timeout.as_ref();
    (
        to_i64(id),
        m.user_id.clone(),
        m.role.name(),
        m.joined_at_ms,
        m.muted,
        joined.0,
        joined.1,
        timeout.map(|t| t.until_ms),
        timeout.map(|t| t.by.clone()),
        timeout.map(|t| t.reason.clone()),
        unset_if_none((m.last_post_ms != 0).then_some(m.last_post_ms)),
    )
}

/// A `members` row as selected: user, role, joined at, muted, joined position and count,
/// timeout until, by and reason, last post under slow mode.
pub(super) type MemberRow = (
    String,
    String,
    i64,
    Option<bool>,
    Option<i64>,
    Option<i64>,
    Option<i64>,
    Option<String>,
    Option<String>,
    Option<i64>,
);

pub(super) fn member(
    (user_id, role_name, joined_at_ms, muted, seq, count, until, by, reason, last_post): MemberRow,
) -> StoreResult<Member> {
    Ok(Member {
        user_id,
        role: role(&role_name)?,
        joined_at_ms,
        muted: muted.unwrap_or(false),
        joined: LogPoint { seq: seq.unwrap_or(0) as u64, count: count.unwrap_or(0) as u64 },
        timeout: until.map(|until_ms| Timeout {
            until_ms,
            by: by.unwrap_or_default(),
            reason: reason.unwrap_or_default(),
        }),
        last_post_ms: last_post.unwrap_or(0),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for k in [Kind::Direct, Kind::SelfNotes, Kind::Group, Kind::Channel] {
            assert_eq!(kind(k.name()).unwrap(), k);
        }
        for r in [Role::Member, Role::Admin, Role::Owner] {
            assert_eq!(role(r.name()).unwrap(), r);
        }
        for t in [
            MessageType::Text,
            MessageType::Image,
            MessageType::Video,
            MessageType::Audio,
            MessageType::File,
        ] {
            assert_eq!(message_type(t.name()).unwrap(), t);
        }
        assert!(kind("nope").is_err());
    }
}
