//! Messages, their buckets, earlier versions, idempotency keys and the change feed in the
//! embedded engine.

use std::ops::Bound;

use async_trait::async_trait;
use fjall::OwnedWriteBatch;

use super::log::parse_log_row;
use super::{DEDUP_TTL_MS, EmbeddedStore, Tables, decode, encode, get, keys};
use crate::ids::bucket_of;
use crate::model::{
    ConversationId, LogChange, LogEntry, Message, MessageChange, MessageId, MessageVersion,
    Notification, Pin, Reaction, ReactionCount, ReadMarker, change_hour, unbroken_from,
};
use crate::store::{
    Direction, HistoryQuery, Inserted, MessageStore, Revision, StoreError, StoreResult,
};

impl Tables {
    pub(super) fn message(
        &self,
        conversation_id: ConversationId,
        id: MessageId,
    ) -> StoreResult<Option<Message>> {
        get("messages", &self.messages, &keys::message(conversation_id, bucket_of(id), id))
    }

    /// Appends a change of `message` to its conversation's log (under the write lock, so
    /// positions follow commit order) and writes the message with its position.
    pub(super) fn put_logged_message(
        &self,
        batch: &mut OwnedWriteBatch,
        message: &Message,
        created: bool,
    ) -> StoreResult<LogEntry> {
        let change = match created {
            true => LogChange::of_new(message),
            false => LogChange::Other,
        };
        let next = |head: Option<&LogEntry>, now| LogEntry::next(head, message.id, change, now);
        let entry = self.append_to_log(batch, message.channel_id, next)?;
        let mut stored = message.clone();
        stored.seq = entry.seq;
        if created {
            stored.created_seq = entry.seq;
        }
        let key = keys::message(message.channel_id, bucket_of(message.id), message.id);
        batch.insert(&self.messages, &key[..], encode(&stored));
        Ok(entry)
    }

    /// Changes the stored message `id` as `change` says, with the change in its
    /// conversation's log (pins and reaction counts: not the change feed, whose text did not
    /// change); the message as it is now with its entry, or None if there is none.
    pub(super) fn change_message(
        &self,
        batch: &mut OwnedWriteBatch,
        conversation_id: ConversationId,
        id: MessageId,
        change: impl FnOnce(&mut Message),
    ) -> StoreResult<Option<(Message, LogEntry)>> {
        let Some(mut message) = self.message(conversation_id, id)? else {
            return Ok(None);
        };
        change(&mut message);
        let entry = self.put_logged_message(batch, &message, false)?;
        message.seq = entry.seq;
        Ok(Some((message, entry)))
    }

    /// Removes what is kept of a message besides itself and its reactions: its earlier
    /// texts, pin, notifications and place in its thread (for a delete, and an expiry).
    pub(super) fn remove_kept_of(
        &self,
        batch: &mut OwnedWriteBatch,
        message: &Message,
    ) -> StoreResult<()> {
        let (conversation_id, id) = (message.channel_id, message.id);
        for version in self.message_versions.prefix(keys::item(conversation_id, id)) {
            batch.remove(&self.message_versions, version.key()?);
        }
        batch.remove(&self.pins, keys::item(conversation_id, id));
        self.remove_notifications_of(batch, conversation_id, id)?;
        if let Some(root) = message.parent_id {
            batch.remove(&self.thread_replies, keys::thread_reply(conversation_id, root, id));
        }
        Ok(())
    }

    pub(super) fn put_message_change(
        &self,
        batch: &mut OwnedWriteBatch,
        message: &Message,
        at_ms: i64,
    ) {
        let change =
            MessageChange { at_ms, channel_id: message.channel_id, message_id: message.id };
        batch.insert(
            &self.message_changes,
            &keys::message_change(change_hour(at_ms), &change)[..],
            &[][..],
        );
    }
}

#[async_trait]
impl MessageStore for EmbeddedStore {
    /// The message and its notifications are one durable write (one `fsync`).
    async fn insert_message(
        &self,
        org: &str,
        message: &Message,
        notifications: &[Notification],
    ) -> StoreResult<Inserted> {
        let dedup_key = message
            .client_msg_id
            .as_deref()
            .map(|id| keys::dedup(message.channel_id, &message.from, id));
        self.write("insert_message", |t, batch| {
            let now = switchboard_proto::ids::now_ms();
            if let Some(key) = &dedup_key {
                let seen = t.dedup.get(key)?.and_then(|v| keys::parse_dedup_value(&v));
                if let Some((original, written_at)) = seen
                    && now - written_at < DEDUP_TTL_MS
                    && let Some(original) = t.message(message.channel_id, original)?
                {
                    return Ok(Inserted::Duplicate(Box::new(original)));
                }
                batch.insert(&t.dedup, key.clone(), &keys::dedup_value(message.id, now)[..]);
            }
            let bucket = bucket_of(message.id);
            let entry = t.put_logged_message(batch, message, true)?;
            // Sending marks read. The new entry is the log's head, past any marker, so the
            // marker is written without reading it first.
            let sent = ReadMarker { message_id: message.id, at: entry.point() };
            t.put_read_marker(batch, message.channel_id, &message.from, &sent);
            if let Some(to) = &message.to {
                let key = keys::private_unread(message.channel_id, to, entry.seq);
                batch.insert(&t.private_unread, key, &[][..]);
            }
            // Only a bucket's first message writes its index entry: rewriting it every time
            // piles up versions of one key that every history read must step over.
            let bucket_key = keys::message_bucket(message.channel_id, bucket);
            if !t.message_buckets.contains_key(bucket_key.as_slice())? {
                batch.insert(&t.message_buckets, &bucket_key[..], &[][..]);
            }
            if let (Some(root), None) = (message.parent_id, &message.to) {
                let key = keys::thread_reply(message.channel_id, root, message.id);
                batch.insert(&t.thread_replies, key, &[][..]);
            }
            t.put_message_change(batch, message, message.ts_ms);
            let by_sender = keys::user_entry(org, &message.from, message.id);
            batch.insert(&t.user_messages, by_sender, &message.channel_id.to_be_bytes()[..]);
            if message.expires_at_ms > 0 {
                t.put_expiry(batch, org, message);
            }
            for notification in notifications {
                t.put_notification(batch, notification);
            }
            Ok(Inserted::New(entry))
        })
        .await
    }

    async fn get_message(
        &self,
        conversation_id: ConversationId,
        id: MessageId,
    ) -> StoreResult<Option<Message>> {
        self.read("get_message", |t| t.message(conversation_id, id))
    }

    async fn update_message(
        &self,
        message: &Message,
        at_ms: i64,
        revision: Revision<'_>,
    ) -> StoreResult<LogEntry> {
        self.write("update_message", |t, batch| {
            let (conversation_id, id) = (message.channel_id, message.id);
            // What others keep on the message stays as stored, whatever the caller's copy
            // says (as Scylla's update leaves those columns): its position, thread counts,
            // and unless this is a delete, its pin and reaction counts.
            let mut message = message.clone();
            if let Some(stored) = t.message(conversation_id, id)? {
                message.created_seq = stored.created_seq;
                message.reply_count = stored.reply_count;
                message.last_reply_id = stored.last_reply_id;
                if let Revision::Edit(_) = revision {
                    message.pin = stored.pin;
                    message.reactions = stored.reactions;
                }
            }
            let entry = t.put_logged_message(batch, &message, false)?;
            t.put_message_change(batch, &message, at_ms);
            match revision {
                Revision::Edit(replaced) => {
                    let version = MessageVersion { seq: entry.seq, ..replaced.clone() };
                    let key = keys::message_version(conversation_id, id, entry.seq);
                    batch.insert(&t.message_versions, &key[..], encode(&version));
                }
                Revision::Delete => t.remove_kept_of(batch, &message)?,
            }
            Ok(entry)
        })
        .await
    }

    async fn set_pin(
        &self,
        conversation_id: ConversationId,
        id: MessageId,
        pin: Option<&Pin>,
    ) -> StoreResult<Option<(Message, LogEntry)>> {
        self.write("set_pin", |t, batch| {
            let changed = t.change_message(batch, conversation_id, id, |m| m.pin = pin.cloned())?;
            if changed.is_some() {
                let key = keys::item(conversation_id, id);
                match pin {
                    Some(pin) => batch.insert(&t.pins, key, encode(pin)),
                    None => batch.remove(&t.pins, key),
                }
            }
            Ok(changed)
        })
        .await
    }

    async fn list_pins(
        &self,
        conversation_id: ConversationId,
    ) -> StoreResult<Vec<(MessageId, Pin)>> {
        self.read("list_pins", |t| {
            let mut pins = Vec::new();
            for row in t.pins.prefix(keys::conversation(conversation_id)) {
                let (key, value) = row.into_inner()?;
                pins.push((keys::last_id(&key), decode("pins", &value)?));
            }
            Ok(pins)
        })
    }

    async fn set_reaction(
        &self,
        conversation_id: ConversationId,
        id: MessageId,
        reaction: &Reaction,
        reacted: bool,
    ) -> StoreResult<bool> {
        let key = keys::reaction(conversation_id, id, &reaction.emoji, &reaction.user);
        let mine = keys::user_reaction(conversation_id, &reaction.user, id, &reaction.emoji);
        self.write("set_reaction", |t, batch| {
            let there = t.reactions.contains_key(&key)?;
            if there == reacted {
                return Ok(false);
            }
            if reacted {
                batch.insert(&t.reactions, key.clone(), encode(reaction));
                batch.insert(&t.user_reactions, mine.clone(), &[][..]);
            } else {
                batch.remove(&t.reactions, key.clone());
                batch.remove(&t.user_reactions, mine.clone());
            }
            Ok(true)
        })
        .await
    }

    async fn list_reactions(
        &self,
        conversation_id: ConversationId,
        id: MessageId,
    ) -> StoreResult<Vec<Reaction>> {
        self.read("list_reactions", |t| {
            let mut reactions = Vec::new();
            for row in t.reactions.prefix(keys::item(conversation_id, id)) {
                let (_, value) = row.into_inner()?;
                reactions.push(decode("reactions", &value)?);
            }
            Ok(reactions)
        })
    }

    async fn user_reactions(
        &self,
        conversation_id: ConversationId,
        user: &str,
        low: MessageId,
        high: MessageId,
    ) -> StoreResult<Vec<(MessageId, String)>> {
        self.read("user_reactions", |t| {
            let from = keys::user_reactions_from(conversation_id, user, low);
            let to = keys::user_reactions_from(conversation_id, user, high.saturating_add(1));
            let prefix = from.len() - 8;
            let mut found = Vec::new();
            for row in t.user_reactions.range(&from[..]..&to[..]) {
                found.push(keys::parse_user_reaction(&row.key()?, prefix));
            }
            Ok(found)
        })
    }

    async fn set_reaction_counts(
        &self,
        conversation_id: ConversationId,
        id: MessageId,
        counts: &[ReactionCount],
    ) -> StoreResult<Option<(Message, LogEntry)>> {
        self.write("set_reaction_counts", |t, batch| {
            t.change_message(batch, conversation_id, id, |m| m.reactions = counts.to_vec())
        })
        .await
    }

    async fn list_user_messages(
        &self,
        org: &str,
        user: &str,
        before: Option<MessageId>,
        limit: usize,
    ) -> StoreResult<Vec<(ConversationId, MessageId)>> {
        self.read("list_user_messages", |t| {
            let low = keys::user_entry(org, user, 0);
            let high = keys::user_entry(org, user, before.unwrap_or(u64::MAX));
            let mut found = Vec::new();
            for row in t.user_messages.range(&low[..]..&high[..]).rev().take(limit) {
                let (key, conversation) = row.into_inner()?;
                found.push((keys::last_id(&conversation), keys::last_id(&key)));
            }
            Ok(found)
        })
    }

    async fn list_message_versions(
        &self,
        conversation_id: ConversationId,
        id: MessageId,
        before_seq: Option<u64>,
        limit: usize,
    ) -> StoreResult<Vec<MessageVersion>> {
        self.read("list_message_versions", |t| {
            let low = keys::message_version(conversation_id, id, 0);
            let high = keys::message_version(conversation_id, id, before_seq.unwrap_or(u64::MAX));
            let mut versions = Vec::new();
            for row in t.message_versions.range(&low[..]..&high[..]).rev().take(limit) {
                let (_, value) = row.into_inner()?;
                versions.push(decode("message_versions", &value)?);
            }
            Ok(versions)
        })
    }

    async fn list_messages(
        &self,
        conversation_id: ConversationId,
        query: HistoryQuery,
    ) -> StoreResult<Vec<Message>> {
        self.read("list_messages", |t| {
            let mut messages = Vec::new();
            let Some((low, high)) = query.id_bounds() else { return Ok(messages) };
            // Walk only the buckets that hold messages, per the bucket index.
            let buckets = t.message_buckets.range(
                &keys::message_bucket(conversation_id, bucket_of(low))[..]
                    ..=&keys::message_bucket(conversation_id, bucket_of(high))[..],
            );
            let buckets: Box<dyn Iterator<Item = fjall::Guard>> = match query.direction {
                Direction::NewestFirst => Box::new(buckets.rev()),
                Direction::OldestFirst => Box::new(buckets),
            };
            for bucket in buckets {
                let bucket = keys::bucket_number(&bucket.key()?);
                let rows = t.messages.range(
                    &keys::message(conversation_id, bucket, low)[..]
                        ..=&keys::message(conversation_id, bucket, high)[..],
                );
                let rows: Box<dyn Iterator<Item = fjall::Guard>> = match query.direction {
                    Direction::NewestFirst => Box::new(rows.rev()),
                    Direction::OldestFirst => Box::new(rows),
                };
                for row in rows {
                    let (_, value) = row.into_inner()?;
                    messages.push(decode("messages", &value)?);
                    if messages.len() == query.limit {
                        return Ok(messages);
                    }
                }
            }
            Ok(messages)
        })
    }

    async fn list_log(
        &self,
        conversation_id: ConversationId,
        after: u64,
        limit: usize,
    ) -> StoreResult<Vec<LogEntry>> {
        self.read("list_log", |t| {
            let Some(low) = after.checked_add(1) else { return Ok(Vec::new()) };
            let rows = t.conversation_log.range(
                &keys::log(conversation_id, low)[..]..=&keys::log(conversation_id, u64::MAX)[..],
            );
            let mut entries = Vec::new();
            for row in rows.take(limit) {
                let (key, value) = row.into_inner()?;
                entries.push(parse_log_row(&key, &value)?);
            }
            Ok(unbroken_from(after, entries))
        })
    }

    async fn log_head(&self, conversation_id: ConversationId) -> StoreResult<Option<LogEntry>> {
        self.read("log_head", |t| t.log_head(conversation_id))
    }

    async fn list_message_changes(
        &self,
        hour: u32,
        after: Option<MessageChange>,
        limit: usize,
    ) -> StoreResult<Vec<MessageChange>> {
        self.read("list_message_changes", |t| {
            let start = match &after {
                Some(after) => Bound::Excluded(keys::message_change(hour, after).to_vec()),
                None => Bound::Included(hour.to_be_bytes().to_vec()),
            };
            let end = Bound::Excluded((hour + 1).to_be_bytes().to_vec());
            let mut changes = Vec::new();
            for item in t.message_changes.range((start, end)).take(limit) {
                let key = item.key()?;
                changes.push(keys::parse_message_change(&key).ok_or_else(|| {
                    StoreError::Corrupt {
                        table: "message_changes",
                        reason: format!("a key of {} bytes", key.len()),
                    }
                })?);
            }
            Ok(changes)
        })
    }
}
