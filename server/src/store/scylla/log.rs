//! Each conversation's log in the ScyllaDB engine: positions taken by compare-and-set on
//! the log's head, entries written before the head moves past them.

use scylla::statement::batch::BatchType;
use scylla::value::MaybeUnset;

use super::rows::to_i64;
use super::statements::Statement;
use super::{APPEND_ATTEMPTS, ScyllaStore, rows};
use crate::model::{ConversationId, LogEntry, Removal};
use crate::store::{StoreError, StoreResult};

impl ScyllaStore {
    /// The entry the conversation's log head names (it may not be in the log yet: its
    /// writer appends it after advancing the head).
    pub(super) async fn head_row(
        &self,
        conversation_id: ConversationId,
    ) -> StoreResult<Option<LogEntry>> {
        let rows: Vec<LogRow> =
            self.rows(Statement::LogHeadGet, (to_i64(conversation_id),)).await?;
        Ok(rows.into_iter().next().map(entry_from_row))
    }

    pub(super) async fn log_entry(
        &self,
        conversation_id: ConversationId,
        seq: u64,
    ) -> StoreResult<Option<LogEntry>> {
        let key = (to_i64(conversation_id), log_hour(seq), to_i64(seq));
        let rows: Vec<LogRow> = self.rows(Statement::LogEntryGet, key).await?;
        Ok(rows.into_iter().next().map(entry_from_row))
    }

    /// Writes a log entry (idempotent: a repair writes the same values as its writer).
    pub(super) async fn put_log_entry(
        &self,
        conversation_id: ConversationId,
        entry: &LogEntry,
    ) -> StoreResult<()> {
        let statements = [Statement::LogInsert, Statement::LogHourInsert];
        self.batch(BatchType::Unlogged, &statements, log_values(conversation_id, entry)).await
    }

    /// Takes the next position in a conversation's log for the entry `next` makes (from the
    /// head and the time in microseconds), by compare-and-set on the log's head. Before the
    /// head moves past an entry, that entry is written (by its own writer, or here if that
    /// writer stopped halfway), so every entry before the head is always in the log. The
    /// caller writes the new entry with its change.
    pub(super) async fn next_log_entry(
        &self,
        conversation_id: ConversationId,
        next: impl Fn(Option<&LogEntry>, u64) -> LogEntry,
    ) -> StoreResult<LogEntry> {
        for _ in 0..APPEND_ATTEMPTS {
            let head = self.head_row(conversation_id).await?;
            if let Some(head) = &head {
                self.put_log_entry(conversation_id, head).await?;
            }
            let entry = next(head.as_ref(), switchboard_proto::ids::now_us());
            let (seq, prev, message_id, count, left_user, left_by) = log_columns(&entry);
            let (won, _) = match head {
                None => {
                    let values =
                        (to_i64(conversation_id), seq, prev, message_id, count, left_user, left_by);
                    self.lwt(Statement::LogHeadCreate, values).await?
                }
                Some(head) => {
                    let (conversation_id, head) = (to_i64(conversation_id), to_i64(head.seq));
                    let values =
                        (seq, prev, message_id, count, left_user, left_by, conversation_id, head);
                    self.lwt(Statement::LogHeadAdvance, values).await?
                }
            };
            if won {
                return Ok(entry);
            }
        }
        Err(StoreError::Scylla(format!(
            "conversation {conversation_id}: its log head kept moving for {APPEND_ATTEMPTS} attempts"
        )))
    }
}

/// The partition hour of a log position (microseconds).
pub(super) fn log_hour(seq: u64) -> i32 {
    (seq / 3_600_000_000) as i32
}

/// A log entry as selected: position, the one before, message, count (none before schema
/// version 7), and for a removal who left and who removed them.
pub(super) type LogRow = (i64, i64, i64, Option<i64>, Option<String>, Option<String>);

pub(super) fn entry_from_row(
    (seq, prev, message_id, count, left_user, left_by): LogRow,
) -> LogEntry {
    let removal = left_user.map(|user| Box::new(Removal { user, by: left_by.unwrap_or_default() }));
    let (seq, prev, message_id) = (seq as u64, prev as u64, message_id as u64);
    LogEntry { seq, prev, message_id, count: count.unwrap_or(0) as u64, removal }
}

/// An entry's columns: position, the one before, message, count, who left, who removed
/// (null for a message's entry: the head's row is overwritten in place).
#[allow(clippy::type_complexity)]
pub(super) fn log_columns(
    entry: &LogEntry,
) -> (i64, i64, i64, i64, Option<String>, Option<String>) {
    let removal = entry.removal.as_deref();
    (
        to_i64(entry.seq),
        to_i64(entry.prev),
        to_i64(entry.message_id),
        to_i64(entry.count),
        removal.map(|r| r.user.clone()),
        removal.map(|r| r.by.clone()),
    )
}

/// The `log_insert` and `log_hour_insert` values of an entry.
#[allow(clippy::type_complexity)]
pub(super) fn log_values(
    conversation_id: ConversationId,
    entry: &LogEntry,
) -> ((i64, i32, i64, i64, i64, i64, MaybeUnset<String>, MaybeUnset<String>), (i64, i32)) {
    let hour = log_hour(entry.seq);
    let (seq, prev, message_id, count, left_user, left_by) = log_columns(entry);
    // A new row: a message's entry leaves the removal columns unset rather than null.
    let (left_user, left_by) = (rows::unset_if_none(left_user), rows::unset_if_none(left_by));
    (
        (to_i64(conversation_id), hour, seq, prev, message_id, count, left_user, left_by),
        (to_i64(conversation_id), hour),
    )
}
