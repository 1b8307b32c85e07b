//! Each conversation's log in the embedded engine: appended under the write lock, so
//! positions follow commit order.

use fjall::OwnedWriteBatch;

use super::{Tables, keys};
use crate::model::{ConversationId, LogEntry};
use crate::store::{StoreError, StoreResult};

impl Tables {
    pub(super) fn log_head(
        &self,
        conversation_id: ConversationId,
    ) -> StoreResult<Option<LogEntry>> {
        let mut rows = self
            .conversation_log
            .range(&keys::log(conversation_id, 0)[..]..=&keys::log(conversation_id, u64::MAX)[..]);
        match rows.next_back() {
            None => Ok(None),
            Some(row) => {
                let (key, value) = row.into_inner()?;
                Ok(Some(parse_log_row(&key, &value)?))
            }
        }
    }

    /// Appends the entry `next` makes (from the log's head and the time in microseconds)
    /// to a conversation's log, under the write lock, so positions follow commit order.
    pub(super) fn append_to_log(
        &self,
        batch: &mut OwnedWriteBatch,
        conversation_id: ConversationId,
        next: impl FnOnce(Option<&LogEntry>, u64) -> LogEntry,
    ) -> StoreResult<LogEntry> {
        let head = self.log_head(conversation_id)?;
        let entry = next(head.as_ref(), switchboard_proto::ids::now_us());
        batch.insert(
            &self.conversation_log,
            &keys::log(conversation_id, entry.seq)[..],
            keys::log_value(&entry),
        );
        Ok(entry)
    }
}

pub(super) fn parse_log_row(key: &[u8], value: &[u8]) -> StoreResult<LogEntry> {
    keys::parse_log(key, value).ok_or_else(|| StoreError::Corrupt {
        table: "conversation_log",
        reason: format!("a {}-byte key with a {}-byte value", key.len(), value.len()),
    })
}
