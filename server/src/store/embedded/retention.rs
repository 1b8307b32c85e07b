//! Retention policies and expiring messages in the embedded engine: the sweep removes an
//! expired message with every row kept of it, as ScyllaDB's TTLs and its sweep do.

use async_trait::async_trait;
use fjall::OwnedWriteBatch;

use super::{EmbeddedStore, Tables, decode, encode, keys};
use crate::ids::bucket_of;
use crate::model::{ConversationId, Expiry, LogEntry, Message, MessageId, RetentionPolicy};
use crate::store::{RetentionStore, StoreResult};

impl Tables {
    /// Lists a new message of `org` among those due to expire at its `expires_at_ms`.
    pub(super) fn put_expiry(&self, batch: &mut OwnedWriteBatch, org: &str, message: &Message) {
        let expiry = Expiry::of(org, message);
        let key = keys::expiring(expiry.expires_at_ms, expiry.channel_id, expiry.message_id);
        batch.insert(&self.expiring, key, encode(&expiry));
    }
}

#[async_trait]
impl RetentionStore for EmbeddedStore {
    async fn put_retention(
        &self,
        org: &str,
        conversation: ConversationId,
        days: Option<u32>,
    ) -> StoreResult<()> {
        let key = keys::org_entry(org, conversation);
        self.write("put_retention", |t, batch| {
            batch.insert(&t.retention, key, &days.unwrap_or(0).to_be_bytes()[..]);
            Ok(())
        })
        .await
    }

    async fn remove_retention(&self, org: &str, conversation: ConversationId) -> StoreResult<bool> {
        let key = keys::org_entry(org, conversation);
        self.write("remove_retention", |t, batch| {
            let there = t.retention.contains_key(&key)?;
            batch.remove(&t.retention, key);
            Ok(there)
        })
        .await
    }

    async fn get_retention(&self, org: &str) -> StoreResult<RetentionPolicy> {
        self.read("get_retention", |t| {
            let mut policy = RetentionPolicy::default();
            for row in t.retention.prefix(keys::org_prefix(org)) {
                let (key, value) = row.into_inner()?;
                let days = value.as_ref().try_into().map(u32::from_be_bytes).unwrap_or(0);
                let days = (days > 0).then_some(days);
                policy.any_set = true;
                match keys::last_id(&key) {
                    0 => policy.org_days = days,
                    conversation => _ = policy.conversations.insert(conversation, days),
                }
            }
            Ok(policy)
        })
    }

    async fn schedule_expiry(
        &self,
        org: &str,
        conversation: ConversationId,
        id: MessageId,
        expires_at_ms: i64,
    ) -> StoreResult<Option<(Message, LogEntry)>> {
        self.write("schedule_expiry", |t, batch| {
            let Some(mut message) = t.message(conversation, id)? else {
                return Ok(None);
            };
            if message.expires_at_ms != 0 {
                let earlier = keys::expiring(message.expires_at_ms, conversation, id);
                batch.remove(&t.expiring, earlier);
            }
            message.expires_at_ms = expires_at_ms;
            let entry = t.put_logged_message(batch, &message, false)?;
            t.put_expiry(batch, org, &message);
            message.seq = entry.seq;
            Ok(Some((message, entry)))
        })
        .await
    }

    async fn due_expiries(&self, now_ms: i64, limit: usize) -> StoreResult<Vec<Expiry>> {
        self.read("due_expiries", |t| {
            let end = keys::expiring(now_ms.saturating_add(1), 0, 0);
            let mut due = Vec::new();
            for row in t.expiring.range(..&end[..]).take(limit) {
                let (_, value) = row.into_inner()?;
                due.push(decode("expiring", &value)?);
            }
            Ok(due)
        })
    }

    async fn expire_message(&self, expiry: &Expiry, now_ms: i64) -> StoreResult<()> {
        let (conversation_id, id) = (expiry.channel_id, expiry.message_id);
        self.write("expire_message", |t, batch| {
            batch.remove(&t.expiring, keys::expiring(expiry.expires_at_ms, conversation_id, id));
            let Some(message) = t.message(conversation_id, id)? else {
                return Ok(());
            };
            batch.remove(&t.messages, keys::message(conversation_id, bucket_of(id), id));
            t.remove_kept_of(batch, &message)?;
            t.forget_reported_text(batch, conversation_id, id)?;
            for row in t.reactions.prefix(keys::item(conversation_id, id)) {
                let (key, value) = row.into_inner()?;
                let reaction: crate::model::Reaction = decode("reactions", &value)?;
                let mine =
                    keys::user_reaction(conversation_id, &reaction.user, id, &reaction.emoji);
                batch.remove(&t.user_reactions, mine);
                batch.remove(&t.reactions, key);
            }
            batch.remove(&t.user_messages, keys::user_entry(&expiry.org, &message.from, id));
            t.put_message_change(batch, &message, now_ms);
            Ok(())
        })
        .await
    }
}
