//! Read markers and unread private messages in the ScyllaDB engine.

use async_trait::async_trait;

use super::rows::to_i64;
use super::statements::Statement;
use super::{APPEND_ATTEMPTS, ScyllaStore};
use crate::model::{ConversationId, LogPoint, MessageId, ReadMarker};
use crate::store::{ReadStore, StoreError, StoreResult};

impl ScyllaStore {
    /// Moves a read marker forward by compare-and-set on its position; returns it as it is
    /// now. The private messages it passes stay in `private_unread` (counts look only past
    /// the marker) until `advance_read_marker` removes them.
    pub(super) async fn advance_marker(
        &self,
        conversation_id: ConversationId,
        user: &str,
        marker: ReadMarker,
    ) -> StoreResult<ReadMarker> {
        let (id, seq, count) =
            (to_i64(marker.message_id), to_i64(marker.at.seq), to_i64(marker.at.count));
        let key = (to_i64(conversation_id), user);
        let mut now = None;
        for _ in 0..APPEND_ATTEMPTS {
            let rows: Vec<MarkerRow> = self.rows(Statement::ReadMarkerGet, key).await?;
            let (moved, _) = match rows.first() {
                None => {
                    self.lwt(Statement::ReadMarkerCreate, (key.0, key.1, id, seq, count)).await?
                }
                Some(row @ (_, Some(known), _)) if *known >= seq => {
                    now = Some(read_marker(*row));
                    break;
                }
                Some((_, Some(_), _)) => {
                    self.lwt(Statement::ReadMarkerAdvance, (id, seq, count, key.0, key.1, seq))
                        .await?
                }
                Some((_, None, _)) => {
                    self.lwt(Statement::ReadMarkerAdvanceUnplaced, (id, seq, count, key.0, key.1))
                        .await?
                }
            };
            if moved {
                now = Some(marker);
                break;
            }
        }
        let Some(now) = now else {
            return Err(StoreError::Scylla(format!(
                "conversation {conversation_id}: {user}'s read marker kept moving for {APPEND_ATTEMPTS} attempts"
            )));
        };
        Ok(now)
    }
}

#[async_trait]
impl ReadStore for ScyllaStore {
    async fn advance_read_marker(
        &self,
        conversation_id: ConversationId,
        user: &str,
        marker: ReadMarker,
    ) -> StoreResult<ReadMarker> {
        let now = self.advance_marker(conversation_id, user, marker).await?;
        let read = (to_i64(conversation_id), user, to_i64(now.at.seq));
        self.run(Statement::PrivateUnreadForget, read).await?;
        Ok(now)
    }

    async fn list_read_markers(
        &self,
        conversation_id: ConversationId,
    ) -> StoreResult<Vec<(String, MessageId)>> {
        let rows: Vec<(String, i64)> =
            self.rows(Statement::ReadMarkerList, (to_i64(conversation_id),)).await?;
        Ok(rows.into_iter().map(|(user, id)| (user, id as u64)).collect())
    }

    async fn get_read_marker(
        &self,
        conversation_id: ConversationId,
        user: &str,
    ) -> StoreResult<Option<ReadMarker>> {
        let rows: Vec<MarkerRow> =
            self.rows(Statement::ReadMarkerGet, (to_i64(conversation_id), user)).await?;
        Ok(rows.first().map(|row| read_marker(*row)))
    }

    async fn count_private_unread(
        &self,
        conversation_id: ConversationId,
        user: &str,
        after: u64,
        limit: usize,
    ) -> StoreResult<usize> {
        let values = (to_i64(conversation_id), user, to_i64(after), limit as i32);
        let rows: Vec<(i64,)> = self.rows(Statement::PrivateUnreadAfter, values).await?;
        Ok(rows.len())
    }
}

/// A read marker as selected: message, position and count (none before schema version 7).
pub(super) type MarkerRow = (i64, Option<i64>, Option<i64>);

pub(super) fn read_marker((message_id, seq, count): MarkerRow) -> ReadMarker {
    let at = LogPoint { seq: seq.unwrap_or(0) as u64, count: count.unwrap_or(0) as u64 };
    ReadMarker { message_id: message_id as u64, at }
}
