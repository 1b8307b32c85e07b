//! Read markers and unread private messages in the embedded engine.

use async_trait::async_trait;
use fjall::OwnedWriteBatch;

use super::{EmbeddedStore, Tables, keys};
use crate::model::{ConversationId, MessageId, ReadMarker};
use crate::store::{ReadStore, StoreError, StoreResult};

impl Tables {
    pub(super) fn read_marker(
        &self,
        conversation_id: ConversationId,
        user: &str,
    ) -> StoreResult<Option<ReadMarker>> {
        let value = self.read_markers.get(keys::member(conversation_id, user))?;
        value.map(|value| parse_marker_row(&value)).transpose()
    }

    /// Moves a read marker forward; returns it as it is now. The private messages it
    /// passes stay in `private_unread` (counts look only past the marker) until
    /// [`Tables::forget_private_unread`].
    pub(super) fn advance_read_marker(
        &self,
        batch: &mut OwnedWriteBatch,
        conversation_id: ConversationId,
        user: &str,
        marker: ReadMarker,
    ) -> StoreResult<ReadMarker> {
        if let Some(current) = self.read_marker(conversation_id, user)?
            && marker.at.seq <= current.at.seq
        {
            return Ok(current);
        }
        self.put_read_marker(batch, conversation_id, user, &marker);
        Ok(marker)
    }

    pub(super) fn put_read_marker(
        &self,
        batch: &mut OwnedWriteBatch,
        conversation_id: ConversationId,
        user: &str,
        marker: &ReadMarker,
    ) {
        let value = keys::marker_value(marker);
        batch.insert(&self.read_markers, keys::member(conversation_id, user), &value[..]);
    }

    /// Removes the private messages to `user` up to position `seq`, read now.
    pub(super) fn forget_private_unread(
        &self,
        batch: &mut OwnedWriteBatch,
        conversation_id: ConversationId,
        user: &str,
        seq: u64,
    ) -> StoreResult<()> {
        let read = keys::private_unread(conversation_id, user, 0)
            ..=keys::private_unread(conversation_id, user, seq);
        for row in self.private_unread.range(read) {
            batch.remove(&self.private_unread, row.key()?);
        }
        Ok(())
    }
}

#[async_trait]
impl ReadStore for EmbeddedStore {
    async fn advance_read_marker(
        &self,
        conversation_id: ConversationId,
        user: &str,
        marker: ReadMarker,
    ) -> StoreResult<ReadMarker> {
        self.write("advance_read_marker", |t, batch| {
            let now = t.advance_read_marker(batch, conversation_id, user, marker)?;
            t.forget_private_unread(batch, conversation_id, user, now.at.seq)?;
            Ok(now)
        })
        .await
    }

    async fn list_read_markers(
        &self,
        conversation_id: ConversationId,
    ) -> StoreResult<Vec<(String, MessageId)>> {
        self.read("list_read_markers", |t| {
            let mut markers = Vec::new();
            for item in t.read_markers.prefix(keys::conversation(conversation_id)) {
                let (key, value) = item.into_inner()?;
                let user = String::from_utf8_lossy(keys::member_user(&key)).into_owned();
                markers.push((user, parse_marker_row(&value)?.message_id));
            }
            Ok(markers)
        })
    }

    async fn get_read_marker(
        &self,
        conversation_id: ConversationId,
        user: &str,
    ) -> StoreResult<Option<ReadMarker>> {
        self.read("get_read_marker", |t| t.read_marker(conversation_id, user))
    }

    async fn count_private_unread(
        &self,
        conversation_id: ConversationId,
        user: &str,
        after: u64,
        limit: usize,
    ) -> StoreResult<usize> {
        self.read("count_private_unread", |t| {
            let Some(low) = after.checked_add(1) else { return Ok(0) };
            let unread = keys::private_unread(conversation_id, user, low)
                ..=keys::private_unread(conversation_id, user, u64::MAX);
            let mut counted = 0;
            for row in t.private_unread.range(unread).take(limit) {
                row.key()?;
                counted += 1;
            }
            Ok(counted)
        })
    }
}

pub(super) fn parse_marker_row(value: &[u8]) -> StoreResult<ReadMarker> {
    keys::parse_marker(value).ok_or_else(|| StoreError::Corrupt {
        table: "read_markers",
        reason: format!("a {}-byte value", value.len()),
    })
}
