//! The embedded Store engine: fjall (an LSM tree, like Scylla's) in one data directory.
//!
//! Each table of the Scylla-shaped model is a fjall keyspace (see `keys` for the layouts).
//! Writes that read first (dedup, get-or-create, compare-and-set) run under one write lock,
//! which is held only while the batch is built and committed to the journal, never during
//! the fsync; the fsync is shared by concurrent writers through [`GroupCommit`].

mod group_commit;
mod keys;

use std::ops::Bound;
use std::path::Path;
use std::sync::Mutex;

use async_trait::async_trait;
use fjall::{Database, Keyspace, KeyspaceCreateOptions, OwnedWriteBatch};
use serde::Serialize;
use serde::de::DeserializeOwned;

use self::group_commit::GroupCommit;
use super::{
    AttachmentClaim, Direction, HistoryQuery, Inserted, RoleChange, Store, StoreError, StoreResult,
};
use crate::ids::bucket_of;
use crate::model::{
    Attachment, AttachmentId, AttachmentState, AuditEntry, Conversation, ConversationId, LogChange,
    LogEntry, Member, Message, MessageChange, MessageId, Notification, ReadMarker, Removal, Role,
    audit_day, change_hour, unbroken_from,
};

/// How long a (channel, sender, client_msg_id) key keeps answering with the original.
pub const DEDUP_TTL_MS: i64 = 24 * 60 * 60 * 1000;
/// How long the change feed keeps a change (as Scylla's TTL on the table does).
pub const CHANGE_TTL_MS: i64 = 7 * 24 * 60 * 60 * 1000;
/// Stale changes removed per write by housekeeping.
const PRUNE_BATCH: usize = 10_000;

/// One fjall keyspace per table of the data model.
struct Tables {
    conversations: Keyspace,
    members: Keyspace,
    user_conversations: Keyspace,
    direct_pairs: Keyspace,
    self_conversations: Keyspace,
    messages: Keyspace,
    message_buckets: Keyspace,
    dedup: Keyspace,
    read_markers: Keyspace,
    attachments: Keyspace,
    pending_uploads: Keyspace,
    audit: Keyspace,
    message_changes: Keyspace,
    notifications: Keyspace,
    conversation_log: Keyspace,
    private_unread: Keyspace,
}

pub struct EmbeddedStore {
    /// The fjall database holding every table and the shared journal.
    db: Database,
    tables: Tables,
    /// Serializes read-modify-write batches (see the module docs).
    write_lock: Mutex<()>,
    /// Makes committed batches durable with shared fsyncs.
    commits: GroupCommit,
}

impl EmbeddedStore {
    /// Opens (or creates) the store in `dir`, replaying its journal.
    pub fn open(dir: &Path) -> StoreResult<Self> {
        std::fs::create_dir_all(dir).map_err(|e| StoreError::Embedded(e.into()))?;
        let db = Database::builder(dir).open()?;
        let table = |name: &str| db.keyspace(name, KeyspaceCreateOptions::default);
        let tables = Tables {
            conversations: table("conversations")?,
            members: table("members")?,
            user_conversations: table("user_conversations")?,
            direct_pairs: table("direct_pairs")?,
            self_conversations: table("self_conversations")?,
            messages: table("messages")?,
            message_buckets: table("message_buckets")?,
            dedup: table("dedup")?,
            read_markers: table("read_markers")?,
            attachments: table("attachments")?,
            pending_uploads: table("pending_uploads")?,
            audit: table("audit")?,
            message_changes: table("message_changes")?,
            notifications: table("notifications")?,
            conversation_log: table("conversation_log")?,
            private_unread: table("private_unread")?,
        };
        let commits = GroupCommit::new(db.clone());
        Ok(EmbeddedStore { db, tables, write_lock: Mutex::new(()), commits })
    }

    /// How many fsyncs the store has issued (fewer than writes, thanks to group commit).
    pub fn sync_count(&self) -> u64 {
        self.commits.sync_count()
    }

    /// Runs `build` under the write lock, commits what it put in the batch, and returns once
    /// that is durable. Also waits when the batch is empty: what `build` read may have been
    /// committed by another writer whose fsync is still running.
    async fn write<R>(
        &self,
        build: impl FnOnce(&Tables, &mut OwnedWriteBatch) -> StoreResult<R>,
    ) -> StoreResult<R> {
        let (ticket, result) = {
            let _guard = self.write_lock.lock().expect("write lock poisoned");
            let mut batch = self.db.batch();
            let result = build(&self.tables, &mut batch)?;
            if batch.is_empty() {
                (self.commits.current(), result)
            } else {
                batch.commit()?;
                (self.commits.committed(), result)
            }
        };
        self.commits.durable(ticket).await?;
        Ok(result)
    }
}

fn encode<T: Serialize>(value: &T) -> Vec<u8> {
    rmp_serde::to_vec_named(value).expect("domain rows always serialize")
}

fn decode<T: DeserializeOwned>(table: &'static str, bytes: &[u8]) -> StoreResult<T> {
    rmp_serde::from_slice(bytes).map_err(|e| StoreError::Corrupt { table, reason: e.to_string() })
}

fn parse_log_row(key: &[u8], value: &[u8]) -> StoreResult<LogEntry> {
    keys::parse_log(key, value).ok_or_else(|| StoreError::Corrupt {
        table: "conversation_log",
        reason: format!("a {}-byte key with a {}-byte value", key.len(), value.len()),
    })
}

fn parse_marker_row(value: &[u8]) -> StoreResult<ReadMarker> {
    keys::parse_marker(value).ok_or_else(|| StoreError::Corrupt {
        table: "read_markers",
        reason: format!("a {}-byte value", value.len()),
    })
}

fn get<T: DeserializeOwned>(
    table: &'static str,
    keyspace: &Keyspace,
    key: &[u8],
) -> StoreResult<Option<T>> {
    keyspace.get(key)?.map(|bytes| decode(table, &bytes)).transpose()
}

impl Tables {
    fn conversation(&self, id: ConversationId) -> StoreResult<Option<Conversation>> {
        get("conversations", &self.conversations, &keys::conversation(id))
    }

    fn member(&self, id: ConversationId, user: &str) -> StoreResult<Option<Member>> {
        get("members", &self.members, &keys::member(id, user))
    }

    fn message(&self, channel: ConversationId, id: MessageId) -> StoreResult<Option<Message>> {
        get("messages", &self.messages, &keys::message(channel, bucket_of(id), id))
    }

    fn put_message_change(&self, batch: &mut OwnedWriteBatch, message: &Message, at_ms: i64) {
        let change =
            MessageChange { at_ms, channel_id: message.channel_id, message_id: message.id };
        batch.insert(
            &self.message_changes,
            &keys::message_change(change_hour(at_ms), &change)[..],
            &[][..],
        );
    }

    fn log_head(&self, channel: ConversationId) -> StoreResult<Option<LogEntry>> {
        let mut rows = self
            .conversation_log
            .range(&keys::log(channel, 0)[..]..=&keys::log(channel, u64::MAX)[..]);
        match rows.next_back() {
            None => Ok(None),
            Some(row) => {
                let (key, value) = row.into_inner()?;
                Ok(Some(parse_log_row(&key, &value)?))
            }
        }
    }

    /// Appends a change of `message` to its conversation's log (under the write lock, so
    /// positions follow commit order) and writes the message with its position.
    fn put_logged_message(
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
        stored.created_seq = match created {
            true => entry.seq,
            // As stored, whatever the caller's copy says (as Scylla's update leaves it).
            false => self.message(message.channel_id, message.id)?.map_or(0, |m| m.created_seq),
        };
        let key = keys::message(message.channel_id, bucket_of(message.id), message.id);
        batch.insert(&self.messages, &key[..], encode(&stored));
        Ok(entry)
    }

    /// Appends the entry `next` makes (from the log's head and the time in microseconds)
    /// to a conversation's log, under the write lock, so positions follow commit order.
    fn append_to_log(
        &self,
        batch: &mut OwnedWriteBatch,
        channel: ConversationId,
        next: impl FnOnce(Option<&LogEntry>, u64) -> LogEntry,
    ) -> StoreResult<LogEntry> {
        let head = self.log_head(channel)?;
        let entry = next(head.as_ref(), switchboard_proto::ids::now_us());
        batch.insert(
            &self.conversation_log,
            &keys::log(channel, entry.seq)[..],
            keys::log_value(&entry),
        );
        Ok(entry)
    }

    fn read_marker(&self, channel: ConversationId, user: &str) -> StoreResult<Option<ReadMarker>> {
        let value = self.read_markers.get(keys::member(channel, user))?;
        value.map(|value| parse_marker_row(&value)).transpose()
    }

    /// Moves a read marker forward; returns it as it is now. The private messages it
    /// passes stay in `private_unread` (counts look only past the marker) until
    /// [`Tables::forget_private_unread`].
    fn advance_read_marker(
        &self,
        batch: &mut OwnedWriteBatch,
        channel: ConversationId,
        user: &str,
        marker: ReadMarker,
    ) -> StoreResult<ReadMarker> {
        if let Some(current) = self.read_marker(channel, user)?
            && marker.at.seq <= current.at.seq
        {
            return Ok(current);
        }
        self.put_read_marker(batch, channel, user, &marker);
        Ok(marker)
    }

    fn put_read_marker(
        &self,
        batch: &mut OwnedWriteBatch,
        channel: ConversationId,
        user: &str,
        marker: &ReadMarker,
    ) {
        let value = keys::marker_value(marker);
        batch.insert(&self.read_markers, keys::member(channel, user), &value[..]);
    }

    /// Removes the private messages to `user` up to position `seq`, read now.
    fn forget_private_unread(
        &self,
        batch: &mut OwnedWriteBatch,
        channel: ConversationId,
        user: &str,
        seq: u64,
    ) -> StoreResult<()> {
        let read =
            keys::private_unread(channel, user, 0)..=keys::private_unread(channel, user, seq);
        for row in self.private_unread.range(read) {
            batch.remove(&self.private_unread, row.key()?);
        }
        Ok(())
    }

    fn put_notification(&self, batch: &mut OwnedWriteBatch, n: &Notification) {
        batch.insert(&self.notifications, keys::notification(&n.org, &n.user, n.id), encode(n));
    }

    fn put_conversation(&self, batch: &mut OwnedWriteBatch, conversation: &Conversation) {
        batch.insert(
            &self.conversations,
            &keys::conversation(conversation.id)[..],
            encode(conversation),
        );
    }

    /// A member row and the member's user index row.
    fn put_member(&self, batch: &mut OwnedWriteBatch, conversation: &Conversation, m: &Member) {
        batch.insert(&self.members, keys::member(conversation.id, &m.user_id), encode(m));
        batch.insert(
            &self.user_conversations,
            keys::user_conversation(&conversation.org, &m.user_id, conversation.id),
            &[][..],
        );
    }

    /// A new conversation with its members, `member_count` set from them.
    fn put_new_conversation(
        &self,
        batch: &mut OwnedWriteBatch,
        conversation: &Conversation,
        members: &[Member],
    ) -> Conversation {
        let mut conversation = conversation.clone();
        conversation.member_count = members.len() as u32;
        self.put_conversation(batch, &conversation);
        for member in members {
            self.put_member(batch, &conversation, member);
        }
        conversation
    }

    /// The conversation a pointer table (`direct_pairs`, `self_conversations`) names.
    fn pointed_to(
        &self,
        table: &'static str,
        keyspace: &Keyspace,
        key: &[u8],
    ) -> StoreResult<Option<Conversation>> {
        let Some(id) = keyspace.get(key)? else {
            return Ok(None);
        };
        let id: [u8; 8] = id[..]
            .try_into()
            .map_err(|_| StoreError::Corrupt { table, reason: "not a conversation id".into() })?;
        self.existing(u64::from_be_bytes(id)).map(Some)
    }

    fn existing(&self, id: ConversationId) -> StoreResult<Conversation> {
        self.conversation(id)?.ok_or(StoreError::Corrupt {
            table: "conversations",
            reason: format!("conversation {id} is referenced but missing"),
        })
    }
}

#[async_trait]
impl Store for EmbeddedStore {
    async fn create_conversation(
        &self,
        conversation: &Conversation,
        members: &[Member],
    ) -> StoreResult<()> {
        self.write(|t, batch| {
            t.put_new_conversation(batch, conversation, members);
            Ok(())
        })
        .await
    }

    async fn get_conversation(&self, id: ConversationId) -> StoreResult<Option<Conversation>> {
        self.tables.conversation(id)
    }

    async fn update_conversation(&self, update: &Conversation) -> StoreResult<Conversation> {
        self.write(|t, batch| {
            let stored = t.existing(update.id)?;
            let updated = Conversation {
                member_count: stored.member_count,
                owner: stored.owner,
                ..update.clone()
            };
            t.put_conversation(batch, &updated);
            Ok(updated)
        })
        .await
    }

    async fn get_or_create_direct(
        &self,
        conversation: &Conversation,
        members: &[Member; 2],
    ) -> StoreResult<Conversation> {
        let pair = keys::direct_pair(&conversation.org, &members[0].user_id, &members[1].user_id);
        self.write(|t, batch| {
            if let Some(existing) = t.pointed_to("direct_pairs", &t.direct_pairs, &pair)? {
                return Ok(existing);
            }
            batch.insert(&t.direct_pairs, pair.clone(), &keys::conversation(conversation.id)[..]);
            Ok(t.put_new_conversation(batch, conversation, members))
        })
        .await
    }

    async fn get_or_create_self(
        &self,
        conversation: &Conversation,
        owner: &Member,
    ) -> StoreResult<Conversation> {
        let key = keys::self_conversation(&conversation.org, &owner.user_id);
        self.write(|t, batch| {
            if let Some(existing) =
                t.pointed_to("self_conversations", &t.self_conversations, &key)?
            {
                return Ok(existing);
            }
            batch.insert(
                &t.self_conversations,
                key.clone(),
                &keys::conversation(conversation.id)[..],
            );
            Ok(t.put_new_conversation(batch, conversation, std::slice::from_ref(owner)))
        })
        .await
    }

    async fn get_member(&self, id: ConversationId, user: &str) -> StoreResult<Option<Member>> {
        self.tables.member(id, user)
    }

    async fn list_members(
        &self,
        id: ConversationId,
        after: &str,
        limit: usize,
    ) -> StoreResult<Vec<Member>> {
        let prefix = keys::conversation(id);
        let mut members = Vec::with_capacity(limit.min(256));
        for item in self.tables.members.prefix(prefix) {
            let (key, value) = item.into_inner()?;
            if !after.is_empty() && keys::member_user(&key) <= after.as_bytes() {
                continue;
            }
            members.push(decode("members", &value)?);
            if members.len() == limit {
                break;
            }
        }
        Ok(members)
    }

    async fn add_members(
        &self,
        id: ConversationId,
        members: &[Member],
    ) -> StoreResult<Vec<Member>> {
        self.write(|t, batch| {
            let mut conversation = t.existing(id)?;
            let mut added: Vec<Member> = Vec::new();
            for member in members {
                let duplicate = added.iter().any(|a| a.user_id == member.user_id);
                if duplicate || t.member(id, &member.user_id)?.is_some() {
                    continue;
                }
                t.put_member(batch, &conversation, member);
                added.push(member.clone());
            }
            if !added.is_empty() {
                conversation.member_count += added.len() as u32;
                t.put_conversation(batch, &conversation);
            }
            Ok(added)
        })
        .await
    }

    async fn remove_member(
        &self,
        id: ConversationId,
        user: &str,
        by: &str,
    ) -> StoreResult<Option<LogEntry>> {
        self.write(|t, batch| {
            let mut conversation = t.existing(id)?;
            if t.member(id, user)?.is_none() {
                return Ok(None);
            }
            let removal = Removal { user: user.to_string(), by: by.to_string() };
            let next = |head: Option<&LogEntry>, now| LogEntry::next_removal(head, removal, now);
            let entry = t.append_to_log(batch, id, next)?;
            batch.remove(&t.members, keys::member(id, user));
            batch.remove(
                &t.user_conversations,
                keys::user_conversation(&conversation.org, user, id),
            );
            conversation.member_count = conversation.member_count.saturating_sub(1);
            t.put_conversation(batch, &conversation);
            Ok(Some(entry))
        })
        .await
    }

    async fn change_role(
        &self,
        id: ConversationId,
        user: &str,
        expected: Role,
        new: Role,
    ) -> StoreResult<RoleChange> {
        self.write(|t, batch| {
            let Some(mut member) = t.member(id, user)? else {
                return Ok(RoleChange::NotAMember);
            };
            if member.role != expected {
                return Ok(RoleChange::Conflict);
            }
            member.role = new;
            batch.insert(&t.members, keys::member(id, user), encode(&member));
            Ok(RoleChange::Changed)
        })
        .await
    }

    async fn transfer_ownership(
        &self,
        id: ConversationId,
        from: &str,
        to: &str,
    ) -> StoreResult<Option<Conversation>> {
        self.write(|t, batch| {
            let mut conversation = t.existing(id)?;
            let (Some(mut old), Some(mut new)) = (t.member(id, from)?, t.member(id, to)?) else {
                return Ok(None);
            };
            if conversation.owner != from || old.role != Role::Owner {
                return Ok(None);
            }
            old.role = Role::Admin;
            new.role = Role::Owner;
            conversation.owner = to.to_string();
            batch.insert(&t.members, keys::member(id, from), encode(&old));
            batch.insert(&t.members, keys::member(id, to), encode(&new));
            t.put_conversation(batch, &conversation);
            Ok(Some(conversation))
        })
        .await
    }

    async fn list_user_conversations(
        &self,
        org: &str,
        user: &str,
        after: ConversationId,
        limit: usize,
    ) -> StoreResult<Vec<ConversationId>> {
        let start = keys::user_conversation(org, user, after.saturating_add(1));
        let end = keys::user_conversation(org, user, u64::MAX);
        let mut ids = Vec::new();
        for item in self.tables.user_conversations.range(start..=end).take(limit) {
            ids.push(keys::user_conversation_id(&item.key()?));
        }
        Ok(ids)
    }

    /// The message and its notifications are one durable write (one `fsync`).
    async fn insert_message(
        &self,
        message: &Message,
        notifications: &[Notification],
    ) -> StoreResult<Inserted> {
        let dedup_key = message
            .client_msg_id
            .as_deref()
            .map(|id| keys::dedup(message.channel_id, &message.from, id));
        self.write(|t, batch| {
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
            t.put_message_change(batch, message, message.ts_ms);
            for notification in notifications {
                t.put_notification(batch, notification);
            }
            Ok(Inserted::New(entry))
        })
        .await
    }

    async fn get_message(
        &self,
        channel: ConversationId,
        id: MessageId,
    ) -> StoreResult<Option<Message>> {
        self.tables.message(channel, id)
    }

    async fn update_message(&self, message: &Message, at_ms: i64) -> StoreResult<LogEntry> {
        self.write(|t, batch| {
            let entry = t.put_logged_message(batch, message, false)?;
            t.put_message_change(batch, message, at_ms);
            Ok(entry)
        })
        .await
    }

    async fn list_log(
        &self,
        channel: ConversationId,
        after: u64,
        limit: usize,
    ) -> StoreResult<Vec<LogEntry>> {
        let Some(low) = after.checked_add(1) else { return Ok(Vec::new()) };
        let rows = self
            .tables
            .conversation_log
            .range(&keys::log(channel, low)[..]..=&keys::log(channel, u64::MAX)[..]);
        let mut entries = Vec::new();
        for row in rows.take(limit) {
            let (key, value) = row.into_inner()?;
            entries.push(parse_log_row(&key, &value)?);
        }
        Ok(unbroken_from(after, entries))
    }

    async fn log_head(&self, channel: ConversationId) -> StoreResult<Option<LogEntry>> {
        self.tables.log_head(channel)
    }

    async fn list_messages(
        &self,
        channel: ConversationId,
        query: HistoryQuery,
    ) -> StoreResult<Vec<Message>> {
        let low = query.after.map_or(0, |after| after.saturating_add(1));
        let high = query.before.map_or(u64::MAX, |before| before.saturating_sub(1));
        let mut messages = Vec::new();
        if low > high || query.limit == 0 {
            return Ok(messages);
        }
        // Walk only the buckets that hold messages, per the bucket index.
        let buckets = self.tables.message_buckets.range(
            &keys::message_bucket(channel, bucket_of(low))[..]
                ..=&keys::message_bucket(channel, bucket_of(high))[..],
        );
        let buckets: Box<dyn Iterator<Item = fjall::Guard>> = match query.direction {
            Direction::NewestFirst => Box::new(buckets.rev()),
            Direction::OldestFirst => Box::new(buckets),
        };
        for bucket in buckets {
            let bucket = keys::bucket_number(&bucket.key()?);
            let rows = self.tables.messages.range(
                &keys::message(channel, bucket, low)[..]
                    ..=&keys::message(channel, bucket, high)[..],
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
    }

    async fn advance_read_marker(
        &self,
        channel: ConversationId,
        user: &str,
        marker: ReadMarker,
    ) -> StoreResult<ReadMarker> {
        self.write(|t, batch| {
            let now = t.advance_read_marker(batch, channel, user, marker)?;
            t.forget_private_unread(batch, channel, user, now.at.seq)?;
            Ok(now)
        })
        .await
    }

    async fn list_read_markers(
        &self,
        channel: ConversationId,
    ) -> StoreResult<Vec<(String, MessageId)>> {
        let mut markers = Vec::new();
        for item in self.tables.read_markers.prefix(keys::conversation(channel)) {
            let (key, value) = item.into_inner()?;
            let user = String::from_utf8_lossy(keys::member_user(&key)).into_owned();
            markers.push((user, parse_marker_row(&value)?.message_id));
        }
        Ok(markers)
    }

    async fn get_read_marker(
        &self,
        channel: ConversationId,
        user: &str,
    ) -> StoreResult<Option<ReadMarker>> {
        self.tables.read_marker(channel, user)
    }

    async fn count_private_unread(
        &self,
        channel: ConversationId,
        user: &str,
        after: u64,
        limit: usize,
    ) -> StoreResult<usize> {
        let Some(low) = after.checked_add(1) else { return Ok(0) };
        let unread = keys::private_unread(channel, user, low)
            ..=keys::private_unread(channel, user, u64::MAX);
        let mut counted = 0;
        for row in self.tables.private_unread.range(unread).take(limit) {
            row.key()?;
            counted += 1;
        }
        Ok(counted)
    }

    async fn set_muted(&self, id: ConversationId, user: &str, muted: bool) -> StoreResult<bool> {
        self.write(|t, batch| {
            let Some(member) = t.member(id, user)? else {
                return Ok(false);
            };
            batch.insert(&t.members, keys::member(id, user), encode(&Member { muted, ..member }));
            Ok(true)
        })
        .await
    }

    async fn put_notifications(&self, notifications: &[Notification]) -> StoreResult<()> {
        self.write(|t, batch| {
            for notification in notifications {
                t.put_notification(batch, notification);
            }
            Ok(())
        })
        .await
    }

    async fn list_notifications(
        &self,
        org: &str,
        user: &str,
        before: u64,
        limit: usize,
    ) -> StoreResult<Vec<Notification>> {
        let range = keys::notification(org, user, 0)..keys::notification(org, user, before);
        let mut notifications = Vec::new();
        for item in self.tables.notifications.range(range).rev().take(limit) {
            let (_, value) = item.into_inner()?;
            notifications.push(decode("notifications", &value)?);
        }
        Ok(notifications)
    }

    async fn put_attachment(&self, attachment: &Attachment) -> StoreResult<()> {
        self.write(|t, batch| {
            batch.insert(&t.attachments, &attachment.id.to_be_bytes()[..], encode(attachment));
            let pending = keys::pending_upload(attachment.expires_at_ms, attachment.id);
            if attachment.state == AttachmentState::Pending {
                batch.insert(&t.pending_uploads, &pending[..], &[][..]);
            } else {
                batch.remove(&t.pending_uploads, &pending[..]);
            }
            Ok(())
        })
        .await
    }

    async fn get_attachment(&self, id: AttachmentId) -> StoreResult<Option<Attachment>> {
        get("attachments", &self.tables.attachments, &id.to_be_bytes())
    }

    async fn claim_attachment(
        &self,
        id: AttachmentId,
        message: MessageId,
    ) -> StoreResult<AttachmentClaim> {
        self.write(|t, batch| {
            let Some(mut attachment) =
                get::<Attachment>("attachments", &t.attachments, &id.to_be_bytes())?
            else {
                return Ok(AttachmentClaim::Missing);
            };
            if let Some(taken) = attachment.message_id {
                return Ok(AttachmentClaim::Taken(taken));
            }
            attachment.message_id = Some(message);
            batch.insert(&t.attachments, &id.to_be_bytes()[..], encode(&attachment));
            Ok(AttachmentClaim::Claimed)
        })
        .await
    }

    async fn expired_uploads(&self, now_ms: i64, limit: usize) -> StoreResult<Vec<Attachment>> {
        let end = keys::pending_upload(now_ms, 0);
        let mut expired = Vec::new();
        for item in self.tables.pending_uploads.range(&[0u8; 16][..]..&end[..]).take(limit) {
            let id = keys::pending_upload_id(&item.key()?);
            if let Some(attachment) =
                get("attachments", &self.tables.attachments, &id.to_be_bytes())?
            {
                expired.push(attachment);
            }
        }
        Ok(expired)
    }

    async fn append_audit(&self, entry: &AuditEntry) -> StoreResult<()> {
        let key = keys::audit(&entry.org, audit_day(entry.at_ms), entry.id);
        self.write(|t, batch| {
            batch.insert(&t.audit, key.clone(), encode(entry));
            Ok(())
        })
        .await
    }

    async fn list_audit(
        &self,
        org: &str,
        day: u32,
        before: u64,
        limit: usize,
    ) -> StoreResult<Vec<AuditEntry>> {
        let range = keys::audit(org, day, 0)..keys::audit(org, day, before);
        let mut entries = Vec::new();
        for item in self.tables.audit.range(range).rev().take(limit) {
            let (_, value) = item.into_inner()?;
            entries.push(decode("audit", &value)?);
        }
        Ok(entries)
    }

    async fn list_message_changes(
        &self,
        hour: u32,
        after: Option<MessageChange>,
        limit: usize,
    ) -> StoreResult<Vec<MessageChange>> {
        let start = match &after {
            Some(after) => Bound::Excluded(keys::message_change(hour, after).to_vec()),
            None => Bound::Included(hour.to_be_bytes().to_vec()),
        };
        let end = Bound::Excluded((hour + 1).to_be_bytes().to_vec());
        let mut changes = Vec::new();
        for item in self.tables.message_changes.range((start, end)).take(limit) {
            let key = item.key()?;
            changes.push(keys::parse_message_change(&key).ok_or_else(|| StoreError::Corrupt {
                table: "message_changes",
                reason: format!("a key of {} bytes", key.len()),
            })?);
        }
        Ok(changes)
    }

    async fn maintain(&self) -> StoreResult<()> {
        let now = switchboard_proto::ids::now_ms();
        // Changes older than the feed keeps, a bounded batch at a time.
        let oldest_hour = change_hour(now - CHANGE_TTL_MS);
        loop {
            let stale: Vec<_> = self
                .tables
                .message_changes
                .range(..oldest_hour.to_be_bytes().to_vec())
                .take(PRUNE_BATCH)
                .filter_map(|item| item.key().ok())
                .collect();
            if stale.is_empty() {
                break;
            }
            self.write(|t, batch| {
                for key in stale {
                    batch.remove(&t.message_changes, key);
                }
                Ok(())
            })
            .await?;
        }
        let expired: Vec<_> = self
            .tables
            .dedup
            .iter()
            .filter_map(|item| item.into_inner().ok())
            .filter(|(_, v)| {
                keys::parse_dedup_value(v).is_none_or(|(_, at)| now - at >= DEDUP_TTL_MS)
            })
            .map(|(k, _)| k)
            .collect();
        if expired.is_empty() {
            return Ok(());
        }
        self.write(|t, batch| {
            for key in expired {
                batch.remove(&t.dedup, key);
            }
            Ok(())
        })
        .await
    }

    async fn flush(&self) -> StoreResult<()> {
        self.commits.sync().await
    }
}
