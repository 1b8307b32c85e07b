//! Messages, their buckets, idempotency keys and the change feed in the ScyllaDB engine.

use std::collections::HashMap;
use std::time::Duration;

use async_trait::async_trait;
use scylla::DeserializeRow;
use scylla::serialize::row::SerializeRow;
use scylla::statement::batch::BatchType;
use scylla::value::MaybeUnset;

use super::log::{LogRow, entry_from_row, log_hour, log_values};
use super::rows::{before_or_end, corrupt, message_type, row_limit, to_i64, unset_if_none};
use super::statements::Statement;
use super::{SETTLE_ATTEMPTS, ScyllaStore, rows};
use crate::ids::bucket_of;
use crate::model::{
    Attachment, ConversationId, LogChange, LogEntry, Message, MessageChange, MessageId,
    MessageVersion, Notification, Pin, Reaction, ReactionCount, ReadMarker, change_hour,
    unbroken_from,
};
use crate::store::{
    Direction, HistoryQuery, Inserted, MessageStore, NotificationStore, Revision, StoreError,
    StoreResult,
};

#[async_trait]
impl MessageStore for ScyllaStore {
    async fn insert_message(
        &self,
        org: &str,
        message: &Message,
        notifications: &[Notification],
    ) -> StoreResult<Inserted> {
        if let Some(key) = &message.client_msg_id {
            let claim =
                (to_i64(message.channel_id), message.from.clone(), key.clone(), to_i64(message.id));
            let (won, current) = self.lwt(Statement::DedupClaim, claim).await?;
            if !won {
                let original = rows::id_column(&current, "message_id")?;
                for _ in 0..SETTLE_ATTEMPTS {
                    if let Some(original) = self.get_message(message.channel_id, original).await? {
                        return Ok(Inserted::Duplicate(Box::new(original)));
                    }
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
                return Err(StoreError::Corrupt {
                    table: "dedup",
                    reason: format!("message {original} was claimed but never written"),
                });
            }
        }
        let bucket = bucket_of(message.id) as i32;
        let change = LogChange::of_new(message);
        let next = |head: Option<&LogEntry>, now| LogEntry::next(head, message.id, change, now);
        let entry = self.next_log_entry(message.channel_id, next).await?;
        let mut statements = vec![
            Statement::MessageInsert,
            Statement::MessageLogged,
            Statement::BucketInsert,
            Statement::ChangeInsert,
            Statement::LogInsert,
            Statement::LogHourInsert,
            Statement::UserMessageInsert,
        ];
        let (log, log_hour) = log_values(message.channel_id, &entry);
        let (channel, id) = (to_i64(message.channel_id), to_i64(message.id));
        let mut values: Vec<Box<dyn SerializeRow + Send + Sync>> = vec![
            Box::new(MessageRow::values(message)),
            Box::new(MessageRow::logged_values(message, entry.seq)),
            Box::new((channel, bucket)),
            Box::new(change_values(message, message.ts_ms)),
            Box::new(log),
            Box::new(log_hour),
            Box::new((org.to_string(), message.from.clone(), id, channel, ttl_of(message))),
        ];
        if let (Some(root), None) = (message.parent_id, &message.to) {
            statements.push(Statement::ThreadReplyInsert);
            values.push(Box::new((channel, to_i64(root), id, ttl_of(message))));
        }
        if message.expires_at_ms > 0 {
            statements.push(Statement::ExpiringInsert);
            values.push(Box::new(expiring_values(org, message)));
        }
        self.batch(BatchType::Logged, &statements, values).await?;
        // After the batch (a compare-and-set cannot be in one): until then, the author's
        // own message counts as unread to them.
        let sent = ReadMarker { message_id: message.id, at: entry.point() };
        self.advance_marker(message.channel_id, &message.from, sent).await?;
        if let Some(to) = &message.to {
            let values = (to_i64(message.channel_id), to.as_str(), to_i64(entry.seq));
            self.run(Statement::PrivateUnreadInsert, values).await?;
        }
        // Not in the batch: an `@all` can notify thousands, more than one batch may carry.
        // Once the message is stored the send succeeds; notifications that cannot be
        // written are lost, as they would be if the controller stopped here.
        if let Err(error) = self.put_notifications(notifications).await {
            tracing::error!(%error, message_id = message.id, "notifications not written");
        }
        Ok(Inserted::New(entry))
    }

    async fn get_message(
        &self,
        conversation_id: ConversationId,
        id: MessageId,
    ) -> StoreResult<Option<Message>> {
        let key = (to_i64(conversation_id), bucket_of(id) as i32, to_i64(id));
        let rows: Vec<MessageRow> = self.rows(Statement::MessageGet, key).await?;
        rows.into_iter().next().map(MessageRow::into_domain).transpose()
    }

    async fn update_message(
        &self,
        m: &Message,
        at_ms: i64,
        revision: Revision<'_>,
    ) -> StoreResult<LogEntry> {
        if revision == Revision::Delete {
            // Before the message: a delete that fails here is retried whole.
            self.remove_notifications_of(m.channel_id, m.id).await?;
        }
        let next = |head: Option<&LogEntry>, now| LogEntry::next(head, m.id, LogChange::Other, now);
        let entry = self.next_log_entry(m.channel_id, next).await?;
        let (channel, id) = (to_i64(m.channel_id), to_i64(m.id));
        let (versions, version_values): (_, Box<dyn SerializeRow + Send + Sync>) = match revision {
            Revision::Edit(v) => (
                Statement::VersionInsert,
                Box::new((
                    channel,
                    id,
                    to_i64(entry.seq),
                    v.data.clone(),
                    v.written_at_ms,
                    v.replaced_at_ms,
                    ttl_of(m),
                )),
            ),
            Revision::Delete => (Statement::VersionsDelete, Box::new((channel, id))),
        };
        let mut statements = vec![
            Statement::MessageUpdate,
            Statement::ChangeInsert,
            Statement::LogInsert,
            Statement::LogHourInsert,
            versions,
        ];
        let (log, log_hour) = log_values(m.channel_id, &entry);
        let mut values: Vec<Box<dyn SerializeRow + Send + Sync>> = vec![
            Box::new(MessageRow::update_values(m, entry.seq)),
            Box::new(change_values(m, at_ms)),
            Box::new(log),
            Box::new(log_hour),
            version_values,
        ];
        if revision == Revision::Delete {
            // Its pin and its reaction counts go with it.
            statements.extend([
                Statement::MessageSetPin,
                Statement::PinDelete,
                Statement::MessageSetReactions,
            ]);
            values.push(Box::new(pin_values(m, None, entry.seq)));
            values.push(Box::new((channel, id)));
            let none = rmp_serde::to_vec_named(&m.reactions).expect("reaction counts serialize");
            let bucket = bucket_of(m.id) as i32;
            values.push(Box::new((ttl_of(m), none, to_i64(entry.seq), channel, bucket, id)));
            if let Some(root) = m.parent_id {
                statements.push(Statement::ThreadReplyDelete);
                values.push(Box::new((channel, to_i64(root), id)));
            }
        }
        self.batch(BatchType::Logged, &statements, values).await?;
        Ok(entry)
    }

    async fn list_user_messages(
        &self,
        org: &str,
        user: &str,
        before: Option<MessageId>,
        limit: usize,
    ) -> StoreResult<Vec<(ConversationId, MessageId)>> {
        let key = (org, user, before_or_end(before), row_limit(limit));
        let rows: Vec<(i64, i64)> = self.rows(Statement::UserMessageList, key).await?;
        Ok(rows.into_iter().map(|(channel, id)| (channel as u64, id as u64)).collect())
    }

    async fn set_pin(
        &self,
        conversation_id: ConversationId,
        id: MessageId,
        pin: Option<&Pin>,
    ) -> StoreResult<Option<(Message, LogEntry)>> {
        let (channel, message_id) = (to_i64(conversation_id), to_i64(id));
        let writes = |stored: &Message, entry: &LogEntry| -> Vec<Write> {
            let pin_row: Write = match pin {
                Some(pin) => (
                    Statement::PinInsert,
                    Box::new((channel, message_id, pin.by.clone(), pin.at_ms)),
                ),
                None => (Statement::PinDelete, Box::new((channel, message_id))),
            };
            let set = Box::new(pin_values(stored, pin, entry.seq));
            vec![(Statement::MessageSetPin, set), pin_row]
        };
        self.change_message(conversation_id, id, |m| m.pin = pin.cloned(), writes).await
    }

    async fn list_pins(
        &self,
        conversation_id: ConversationId,
    ) -> StoreResult<Vec<(MessageId, Pin)>> {
        let rows: Vec<(i64, Option<String>, Option<i64>)> =
            self.rows(Statement::PinList, (to_i64(conversation_id),)).await?;
        let pin = |(id, by, at_ms): (i64, Option<String>, Option<i64>)| {
            (id as u64, Pin { by: by.unwrap_or_default(), at_ms: at_ms.unwrap_or(0) })
        };
        Ok(rows.into_iter().map(pin).collect())
    }

    async fn set_reaction(
        &self,
        conversation_id: ConversationId,
        id: MessageId,
        r: &Reaction,
        reacted: bool,
    ) -> StoreResult<bool> {
        let (channel, message) = (to_i64(conversation_id), to_i64(id));
        let key = (channel, message, r.emoji.clone(), r.user.clone());
        let there: Vec<(Option<i64>,)> = self.rows(Statement::ReactionGet, key.clone()).await?;
        if there.is_empty() != reacted {
            return Ok(false);
        }
        let mine = (channel, r.user.clone(), message, r.emoji.clone());
        if reacted {
            let statements = [Statement::ReactionInsert, Statement::UserReactionInsert];
            let row = (channel, message, r.emoji.clone(), r.user.clone(), r.at_ms);
            self.batch(BatchType::Logged, &statements, (row, mine)).await?;
        } else {
            let statements = [Statement::ReactionDelete, Statement::UserReactionDelete];
            self.batch(BatchType::Logged, &statements, (key, mine)).await?;
        }
        Ok(true)
    }

    async fn list_reactions(
        &self,
        conversation_id: ConversationId,
        id: MessageId,
    ) -> StoreResult<Vec<Reaction>> {
        let rows: Vec<(String, String, Option<i64>)> =
            self.rows(Statement::ReactionList, (to_i64(conversation_id), to_i64(id))).await?;
        let reaction = |(emoji, user, at_ms): (String, String, Option<i64>)| Reaction {
            emoji,
            user,
            at_ms: at_ms.unwrap_or(0),
        };
        Ok(rows.into_iter().map(reaction).collect())
    }

    async fn user_reactions(
        &self,
        conversation_id: ConversationId,
        user: &str,
        low: MessageId,
        high: MessageId,
    ) -> StoreResult<Vec<(MessageId, String)>> {
        let values =
            (to_i64(conversation_id), user, to_i64(low), to_i64(high.min(i64::MAX as u64)));
        let rows: Vec<(i64, String)> = self.rows(Statement::UserReactionRange, values).await?;
        Ok(rows.into_iter().map(|(id, emoji)| (id as u64, emoji)).collect())
    }

    async fn set_reaction_counts(
        &self,
        conversation_id: ConversationId,
        id: MessageId,
        counts: &[ReactionCount],
    ) -> StoreResult<Option<(Message, LogEntry)>> {
        let writes = |stored: &Message, entry: &LogEntry| -> Vec<Write> {
            let blob = rmp_serde::to_vec_named(counts).expect("reaction counts serialize");
            let (seq, bucket) = (to_i64(entry.seq), bucket_of(id) as i32);
            let ttl = ttl_of(stored);
            let set = Box::new((ttl, blob, seq, to_i64(conversation_id), bucket, to_i64(id)));
            vec![(Statement::MessageSetReactions, set)]
        };
        self.change_message(conversation_id, id, |m| m.reactions = counts.to_vec(), writes).await
    }

    async fn list_message_versions(
        &self,
        conversation_id: ConversationId,
        id: MessageId,
        before_seq: Option<u64>,
        limit: usize,
    ) -> StoreResult<Vec<MessageVersion>> {
        let before = before_or_end(before_seq);
        let cap = row_limit(limit);
        let values = (to_i64(conversation_id), to_i64(id), before, cap);
        let rows: Vec<(i64, Option<String>, Option<i64>, Option<i64>)> =
            self.rows(Statement::VersionRange, values).await?;
        let version =
            |(seq, data, written, replaced): (i64, Option<String>, Option<i64>, Option<i64>)| {
                MessageVersion {
                    data: data.unwrap_or_default(),
                    written_at_ms: written.unwrap_or(0),
                    replaced_at_ms: replaced.unwrap_or(0),
                    seq: seq as u64,
                }
            };
        Ok(rows.into_iter().map(version).collect())
    }

    async fn list_messages(
        &self,
        conversation_id: ConversationId,
        query: HistoryQuery,
    ) -> StoreResult<Vec<Message>> {
        let mut messages = Vec::new();
        let Some((low, high)) = query.id_bounds() else { return Ok(messages) };
        let (buckets, range) = match query.direction {
            Direction::NewestFirst => (Statement::BucketRangeDesc, Statement::MessageRangeDesc),
            Direction::OldestFirst => (Statement::BucketRangeAsc, Statement::MessageRangeAsc),
        };
        let span = (to_i64(conversation_id), bucket_of(low) as i32, bucket_of(high) as i32);
        let buckets: Vec<(i32,)> = self.rows(buckets, span).await?;
        for (bucket,) in buckets {
            let left = (query.limit - messages.len()) as i32;
            let rows: Vec<MessageRow> = self
                .rows(range, (to_i64(conversation_id), bucket, to_i64(low), to_i64(high), left))
                .await?;
            for row in rows {
                messages.push(row.into_domain()?);
            }
            if messages.len() >= query.limit {
                break;
            }
        }
        Ok(messages)
    }

    async fn list_log(
        &self,
        conversation_id: ConversationId,
        after: u64,
        limit: usize,
    ) -> StoreResult<Vec<LogEntry>> {
        let Some(first) = after.checked_add(1) else { return Ok(Vec::new()) };
        let hours: Vec<(i32,)> = self
            .rows(Statement::LogHourRangeFrom, (to_i64(conversation_id), log_hour(first)))
            .await?;
        let mut entries = Vec::new();
        for (hour,) in hours {
            if entries.len() >= limit {
                break;
            }
            let left = (limit - entries.len()) as i32;
            let rows: Vec<LogRow> = self
                .rows(
                    Statement::LogRangeAfter,
                    (to_i64(conversation_id), hour, to_i64(after), left),
                )
                .await?;
            entries.extend(rows.into_iter().map(entry_from_row));
        }
        Ok(unbroken_from(after, entries))
    }

    /// The head, if its entry is in the log already; else the entry before it, which is.
    async fn log_head(&self, conversation_id: ConversationId) -> StoreResult<Option<LogEntry>> {
        let Some(head) = self.head_row(conversation_id).await? else { return Ok(None) };
        if let Some(entry) = self.log_entry(conversation_id, head.seq).await? {
            return Ok(Some(entry));
        }
        if head.prev == 0 {
            return Ok(None);
        }
        self.log_entry(conversation_id, head.prev).await
    }

    /// Dedup keys expire by TTL; nothing to sweep.
    async fn list_message_changes(
        &self,
        hour: u32,
        after: Option<MessageChange>,
        limit: usize,
    ) -> StoreResult<Vec<MessageChange>> {
        let limit = row_limit(limit);
        let rows: Vec<(i64, i64, i64)> = match after {
            Some(a) => {
                let key = (to_i64(a.channel_id), to_i64(a.message_id));
                let values = (hour as i32, a.at_ms, key.0, key.1, limit);
                self.rows(Statement::ChangeListAfter, values).await?
            }
            None => self.rows(Statement::ChangeListFrom, (hour as i32, limit)).await?,
        };
        Ok(rows
            .into_iter()
            .map(|(at_ms, conversation_id, message)| MessageChange {
                at_ms,
                channel_id: conversation_id as u64,
                message_id: message as u64,
            })
            .collect())
    }
}

#[derive(DeserializeRow)]
pub(super) struct MessageRow {
    channel_id: i64,
    message_id: i64,
    sender: String,
    recipient: Option<String>,
    kind: String,
    data: Option<String>,
    ts_ms: i64,
    parent_id: Option<i64>,
    edited_at_ms: Option<i64>,
    deleted: Option<bool>,
    custom_fields: Option<HashMap<String, String>>,
    client_msg_id: Option<String>,
    attachment: Option<Vec<u8>>,
    mentions: Option<Vec<String>>,
    deleted_by: Option<String>,
    created_seq: Option<i64>,
    seq: Option<i64>,
    pinned_by: Option<String>,
    pinned_at_ms: Option<i64>,
    reactions: Option<Vec<u8>>,
    thread_only: Option<bool>,
    reply_count: Option<i32>,
    last_reply_id: Option<i64>,
    expires_at: Option<i64>,
}

pub(super) type MessageValues = (
    i64,
    i32,
    i64,
    String,
    MaybeUnset<String>,
    &'static str,
    String,
    i64,
    MaybeUnset<i64>,
    MaybeUnset<i64>,
    bool,
    MaybeUnset<HashMap<String, String>>,
    MaybeUnset<String>,
    MaybeUnset<Vec<u8>>,
    MaybeUnset<Vec<String>>,
    i32,
);

/// A message's attachment metadata as its column holds it.
pub(super) fn attachment_blob(attachment: &Option<Box<Attachment>>) -> Option<Vec<u8>> {
    attachment.as_ref().map(|a| rmp_serde::to_vec_named(a).expect("attachments serialize"))
}

impl MessageRow {
    /// Values for `message_insert`: optional columns left unset, never written as null.
    pub(super) fn values(m: &Message) -> MessageValues {
        let fields = (!m.custom_fields.is_empty())
            .then(|| m.custom_fields.iter().map(|(k, v)| (k.clone(), v.clone())).collect());
        (
            to_i64(m.channel_id),
            bucket_of(m.id) as i32,
            to_i64(m.id),
            m.from.clone(),
            unset_if_none(m.to.clone()),
            m.kind.name(),
            m.data.clone(),
            m.ts_ms,
            unset_if_none(m.parent_id.map(to_i64)),
            unset_if_none(m.edited_at_ms),
            m.deleted,
            unset_if_none(fields),
            unset_if_none(m.client_msg_id.clone()),
            unset_if_none(attachment_blob(&m.attachment)),
            unset_if_none((!m.mentions.is_empty()).then(|| m.mentions.clone())),
            ttl_of(m),
        )
    }

    /// Values for `message_logged`: a new message's log positions, where it shows, and
    /// when it expires.
    pub(super) fn logged_values(
        m: &Message,
        seq: u64,
    ) -> (i32, i64, i64, bool, MaybeUnset<i64>, i64, i32, i64) {
        let (channel, bucket, id) = (to_i64(m.channel_id), bucket_of(m.id) as i32, to_i64(m.id));
        let expires_at = unset_if_none((m.expires_at_ms > 0).then_some(m.expires_at_ms));
        (ttl_of(m), to_i64(seq), to_i64(seq), m.thread_only, expires_at, channel, bucket, id)
    }

    /// Values for `message_update` (edits and deletes), at log position `seq`.
    #[allow(clippy::type_complexity)]
    pub(super) fn update_values(
        m: &Message,
        seq: u64,
    ) -> (
        i32,
        String,
        MaybeUnset<i64>,
        bool,
        HashMap<String, String>,
        Option<Vec<u8>>,
        Vec<String>,
        MaybeUnset<String>,
        i64,
        i64,
        i32,
        i64,
    ) {
        let fields = m.custom_fields.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
        (
            ttl_of(m),
            m.data.clone(),
            unset_if_none(m.edited_at_ms),
            m.deleted,
            fields,
            attachment_blob(&m.attachment),
            m.mentions.clone(),
            unset_if_none(m.deleted_by.clone()),
            to_i64(seq),
            to_i64(m.channel_id),
            bucket_of(m.id) as i32,
            to_i64(m.id),
        )
    }

    pub(super) fn into_domain(self) -> StoreResult<Message> {
        Ok(Message {
            id: self.message_id as u64,
            channel_id: self.channel_id as u64,
            from: self.sender,
            to: self.recipient,
            kind: message_type(&self.kind)?,
            data: self.data.unwrap_or_default(),
            ts_ms: self.ts_ms,
            parent_id: self.parent_id.map(|id| id as u64),
            edited_at_ms: self.edited_at_ms,
            deleted: self.deleted.unwrap_or(false),
            custom_fields: self.custom_fields.unwrap_or_default().into_iter().collect(),
            client_msg_id: self.client_msg_id,
            mentions: self.mentions.unwrap_or_default(),
            attachment: self
                .attachment
                .map(|blob| rmp_serde::from_slice(&blob))
                .transpose()
                .map_err(|e| corrupt("messages", format!("attachment: {e}")))?,
            deleted_by: self.deleted_by,
            created_seq: self.created_seq.map_or(0, |seq| seq as u64),
            seq: self.seq.map_or(0, |seq| seq as u64),
            pin: self.pinned_by.map(|by| Pin { by, at_ms: self.pinned_at_ms.unwrap_or(0) }),
            reactions: self
                .reactions
                .map(|blob| rmp_serde::from_slice(&blob))
                .transpose()
                .map_err(|e| corrupt("messages", format!("reactions: {e}")))?
                .unwrap_or_default(),
            thread_only: self.thread_only.unwrap_or(false),
            reply_count: self.reply_count.map_or(0, |count| count.max(0) as u32),
            last_reply_id: self.last_reply_id.map(|id| id as u64),
            expires_at_ms: self.expires_at.unwrap_or(0),
        })
    }
}

/// One statement of a batch, with its values.
pub(super) type Write = (Statement, Box<dyn SerializeRow + Send + Sync>);

impl ScyllaStore {
    /// Changes message `id` as `change` says: `writes` (given the stored message and the
    /// change's log entry; a write to `messages` carries the message's TTL) and
    /// the entry, in one batch (pins and reaction counts: not the change feed, whose text did
    /// not change). The message as it is now with its entry, or None if there is none.
    pub(super) async fn change_message(
        &self,
        conversation_id: ConversationId,
        id: MessageId,
        change: impl FnOnce(&mut Message),
        writes: impl FnOnce(&Message, &LogEntry) -> Vec<Write>,
    ) -> StoreResult<Option<(Message, LogEntry)>> {
        let Some(mut message) = self.get_message(conversation_id, id).await? else {
            return Ok(None);
        };
        let next = |head: Option<&LogEntry>, now| LogEntry::next(head, id, LogChange::Other, now);
        let entry = self.next_log_entry(conversation_id, next).await?;
        let (log, log_hour) = log_values(conversation_id, &entry);
        let mut statements = vec![Statement::LogInsert, Statement::LogHourInsert];
        let mut values: Vec<Box<dyn SerializeRow + Send + Sync>> =
            vec![Box::new(log), Box::new(log_hour)];
        for (statement, value) in writes(&message, &entry) {
            statements.push(statement);
            values.push(value);
        }
        self.batch(BatchType::Logged, &statements, values).await?;
        change(&mut message);
        message.seq = entry.seq;
        Ok(Some((message, entry)))
    }
}

/// The `message_set_pin` values: the message's pin (None clears it) at log position `seq`.
fn pin_values(
    m: &Message,
    pin: Option<&Pin>,
    seq: u64,
) -> (i32, Option<String>, Option<i64>, i64, i64, i32, i64) {
    let (conversation_id, id) = (m.channel_id, m.id);
    (
        ttl_of(m),
        pin.map(|pin| pin.by.clone()),
        pin.map(|pin| pin.at_ms),
        to_i64(seq),
        to_i64(conversation_id),
        bucket_of(id) as i32,
        to_i64(id),
    )
}

/// The TTL (seconds) of a row that expires with message `m`: 0 (none) for a message kept
/// forever, at least 1 for one already due (the sweep has yet to remove it).
pub(super) fn ttl_of(m: &Message) -> i32 {
    if m.expires_at_ms == 0 {
        return 0;
    }
    let left_ms = m.expires_at_ms - chrono::Utc::now().timestamp_millis();
    i32::try_from(left_ms.div_euclid(1000).max(1)).unwrap_or(i32::MAX)
}

/// The `expiring_insert` values of a message of `org` that expires.
pub(super) fn expiring_values(
    org: &str,
    m: &Message,
) -> (i64, i64, i64, i64, String, MaybeUnset<i64>, String, MaybeUnset<String>) {
    (
        expiry_hour(m.expires_at_ms),
        m.expires_at_ms,
        to_i64(m.channel_id),
        to_i64(m.id),
        org.to_string(),
        unset_if_none(m.attachment.as_ref().map(|a| to_i64(a.id))),
        m.from.clone(),
        unset_if_none(m.to.clone()),
    )
}

/// The `expiring` partition of an expiry: its hour since the Unix epoch.
pub(super) fn expiry_hour(expires_at_ms: i64) -> i64 {
    expires_at_ms.div_euclid(60 * 60 * 1000)
}

/// The `change_insert` values of a change to `m` at `at_ms`.
pub(super) fn change_values(m: &Message, at_ms: i64) -> (i32, i64, i64, i64) {
    (change_hour(at_ms) as i32, at_ms, to_i64(m.channel_id), to_i64(m.id))
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    #[test]
    fn a_row_expires_with_its_message() {
        let now = chrono::Utc::now().timestamp_millis();
        let message = |expires_at_ms| Message { expires_at_ms, ..message() };
        assert_eq!(ttl_of(&message(0)), 0, "kept forever");
        assert_eq!(ttl_of(&message(now - 5_000)), 1, "due: gone at once");
        let day = ttl_of(&message(now + 86_400_000));
        assert!((86_399..=86_400).contains(&day), "{day}");
    }

    use super::*;
    use crate::model::{Attachment, AttachmentState, MessageType};

    fn message() -> Message {
        Message {
            id: crate::ids::first_id_at(crate::ids::EPOCH_MS + 123_456_789),
            channel_id: 42,
            from: "alice".into(),
            to: Some("bob".into()),
            kind: MessageType::Text,
            data: "hi".into(),
            ts_ms: 7,
            parent_id: Some(3),
            edited_at_ms: None,
            deleted: false,
            custom_fields: BTreeMap::from([("k".to_string(), "v".to_string())]),
            client_msg_id: Some("c".into()),
            attachment: Some(Box::new(Attachment {
                id: 5,
                org: "acme".into(),
                channel_id: 42,
                uploader: "alice".into(),
                filename: "a.png".into(),
                content_type: "image/png".into(),
                size: 10,
                dimensions: Some((3, 2)),
                state: AttachmentState::Complete,
                multipart: None,
                created_at_ms: 1,
                expires_at_ms: 2,
                message_id: Some(6),
            })),
            mentions: vec!["bob".into()],
            deleted_by: None,
            created_seq: 11,
            seq: 12,
            pin: Some(Pin { by: "olivia".into(), at_ms: 13 }),
            reactions: vec![ReactionCount {
                emoji: "👍".into(),
                count: 2,
                first_users: vec!["bob".into(), "carol".into()],
                mine: false,
            }],
            thread_only: true,
            reply_count: 4,
            last_reply_id: Some(9),
            expires_at_ms: 0,
        }
    }

    #[test]
    fn a_message_becomes_a_row_and_back() {
        let message = message();
        let values = MessageRow::values(&message);
        let logged = MessageRow::logged_values(&message, 11);
        let MaybeUnset::Set(attachment) = values.13.clone() else { panic!("attachment unset") };
        let MaybeUnset::Set(mentions) = values.14.clone() else { panic!("mentions unset") };
        assert_eq!(values.1, bucket_of(message.id) as i32, "partitioned by the id's bucket");
        assert!(matches!(values.9, MaybeUnset::Unset), "a missing edit time is not written");
        assert_eq!(values.15, 0, "kept forever: no TTL");
        assert!(matches!(logged.4, MaybeUnset::Unset), "no expiry is not written");
        let row = MessageRow {
            channel_id: values.0,
            message_id: values.2,
            sender: values.3.clone(),
            recipient: Some("bob".into()),
            kind: values.5.to_string(),
            data: Some(values.6.clone()),
            ts_ms: values.7,
            parent_id: Some(3),
            edited_at_ms: None,
            deleted: Some(false),
            custom_fields: Some(HashMap::from([("k".to_string(), "v".to_string())])),
            client_msg_id: Some("c".into()),
            attachment: Some(attachment),
            mentions: Some(mentions),
            deleted_by: None,
            created_seq: Some(11),
            seq: Some(12),
            pinned_by: Some("olivia".into()),
            pinned_at_ms: Some(13),
            reactions: Some(rmp_serde::to_vec_named(&message.reactions).unwrap()),
            thread_only: Some(logged.3),
            reply_count: Some(4),
            last_reply_id: Some(9),
            expires_at: None,
        };
        assert_eq!(row.into_domain().unwrap(), message);
    }
}
