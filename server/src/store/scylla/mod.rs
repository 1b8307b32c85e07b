//! The ScyllaDB engine of the Store: the same Scylla-shaped model as the embedded engine,
//! on a keyspace shared by every controller of a cluster.
//!
//! Statements are prepared once at start-up (`statements`), reads and writes use the
//! configured consistency (LOCAL_QUORUM by default), and lightweight transactions settle the
//! races concurrent controllers can have: DM and SELF get-or-create, idempotency keys,
//! membership changes, role and ownership changes, read markers. Optional columns are left
//! unset rather than written as nulls (no tombstones).

mod config;
mod rows;
pub mod schema;
mod statements;

use std::collections::HashMap;
use std::time::Duration;

use async_trait::async_trait;
use scylla::client::session::Session;
use scylla::client::session_builder::SessionBuilder;
use scylla::response::query_result::QueryResult;
use scylla::statement::batch::{Batch, BatchType};
use scylla::statement::prepared::PreparedStatement;
use scylla::statement::{Consistency, SerialConsistency};
use scylla::value::{CqlValue, MaybeUnset, Row};

pub use self::config::ScyllaConfig;
use self::rows::{AttachmentRow, AuditRow, ConversationRow, MessageRow, NotificationRow, to_i64};
use self::schema::PENDING_SHARDS;
use super::{
    AttachmentClaim, Direction, HistoryQuery, Inserted, RoleChange, Store, StoreError, StoreResult,
};
use crate::ids::bucket_of;
use crate::model::{
    Attachment, AttachmentId, AttachmentState, AuditEntry, Conversation, ConversationId, LogChange,
    LogEntry, LogPoint, Member, Message, MessageChange, MessageId, Notification, ReadMarker,
    Removal, Role, change_hour, unbroken_from,
};

/// How many times a read retries when another controller's write it depends on (the rows
/// behind a claimed DM or idempotency key) has not landed yet.
const SETTLE_ATTEMPTS: usize = 20;

/// How many times an append to a conversation's log retries when other controllers append
/// to the same conversation at the same moment.
const APPEND_ATTEMPTS: usize = 64;

pub struct ScyllaStore {
    session: Session,
    /// Prepared statements by name.
    prepared: HashMap<&'static str, PreparedStatement>,
}

fn failed(error: impl std::fmt::Display) -> StoreError {
    StoreError::Scylla(error.to_string())
}

impl ScyllaStore {
    /// Connects and prepares every statement; the schema must be migrated already.
    pub async fn connect(config: &ScyllaConfig) -> StoreResult<Self> {
        let session = session(config).await?;
        let read = config.read_consistency.parse::<ConsistencyName>()?.0;
        let write = config.write_consistency.parse::<ConsistencyName>()?.0;
        let mut prepared = HashMap::new();
        for (name, _) in statements::STATEMENTS {
            let text = statements::cql(name, &config.keyspace);
            let mut statement = session.prepare(text).await.map_err(failed)?;
            let reads = text_is_read(name);
            statement.set_consistency(if reads { read } else { write });
            statement.set_serial_consistency(Some(SerialConsistency::LocalSerial));
            prepared.insert(*name, statement);
        }
        Ok(ScyllaStore { session, prepared })
    }

    fn statement(&self, name: &str) -> &PreparedStatement {
        &self.prepared[name]
    }

    async fn run(
        &self,
        name: &str,
        values: impl scylla::serialize::row::SerializeRow,
    ) -> StoreResult<QueryResult> {
        self.session.execute_unpaged(self.statement(name), values).await.map_err(failed)
    }

    /// Rows of a read, decoded as `R`.
    async fn rows<R>(
        &self,
        name: &str,
        values: impl scylla::serialize::row::SerializeRow,
    ) -> StoreResult<Vec<R>>
    where
        R: for<'f, 'm> scylla::deserialize::row::DeserializeRow<'f, 'm>,
    {
        let result = self.run(name, values).await?.into_rows_result().map_err(failed)?;
        result.rows::<R>().map_err(failed)?.map(|row| row.map_err(failed)).collect()
    }

    /// A lightweight transaction: whether it applied, and the current row's columns if not.
    async fn lwt(
        &self,
        name: &str,
        values: impl scylla::serialize::row::SerializeRow,
    ) -> StoreResult<(bool, HashMap<String, CqlValue>)> {
        let result = self.run(name, values).await?.into_rows_result().map_err(failed)?;
        let names: Vec<String> =
            result.column_specs().iter().map(|spec| spec.name().to_string()).collect();
        let row = result.maybe_first_row::<Row>().map_err(failed)?;
        let mut columns = HashMap::new();
        if let Some(row) = row {
            for (name, value) in names.into_iter().zip(row.columns) {
                if let Some(value) = value {
                    columns.insert(name, value);
                }
            }
        }
        let applied = matches!(columns.get("[applied]"), Some(CqlValue::Boolean(true)));
        Ok((applied, columns))
    }

    /// The entry the conversation's log head names (it may not be in the log yet: its
    /// writer appends it after advancing the head).
    async fn head_row(&self, channel: ConversationId) -> StoreResult<Option<LogEntry>> {
        let rows: Vec<LogRow> = self.rows("log_head_get", (to_i64(channel),)).await?;
        Ok(rows.into_iter().next().map(log_entry))
    }

    async fn log_entry(&self, channel: ConversationId, seq: u64) -> StoreResult<Option<LogEntry>> {
        let key = (to_i64(channel), log_hour(seq), to_i64(seq));
        let rows: Vec<LogRow> = self.rows("log_entry_get", key).await?;
        Ok(rows.into_iter().next().map(log_entry))
    }

    /// Writes a log entry (idempotent: a repair writes the same values as its writer).
    async fn put_log_entry(&self, channel: ConversationId, entry: &LogEntry) -> StoreResult<()> {
        let mut batch = Batch::new(BatchType::Unlogged);
        batch.append_statement(self.statement("log_insert").clone());
        batch.append_statement(self.statement("log_hour_insert").clone());
        self.session.batch(&batch, log_values(channel, entry)).await.map_err(failed)?;
        Ok(())
    }

    /// Takes the next position in a conversation's log for the entry `next` makes (from the
    /// head and the time in microseconds), by compare-and-set on the log's head. Before the head moves past an entry, that entry
    /// is written (by its own writer, or here if that writer stopped halfway), so every
    /// entry before the head is always in the log. The caller writes the new entry with
    /// its change.
    async fn next_log_entry(
        &self,
        channel: ConversationId,
        next: impl Fn(Option<&LogEntry>, u64) -> LogEntry,
    ) -> StoreResult<LogEntry> {
        for _ in 0..APPEND_ATTEMPTS {
            let head = self.head_row(channel).await?;
            if let Some(head) = &head {
                self.put_log_entry(channel, head).await?;
            }
            let entry = next(head.as_ref(), switchboard_proto::ids::now_us());
            let (seq, prev, message_id, count, left_user, left_by) = log_columns(&entry);
            let (won, _) = match head {
                None => {
                    let values =
                        (to_i64(channel), seq, prev, message_id, count, left_user, left_by);
                    self.lwt("log_head_create", values).await?
                }
                Some(head) => {
                    let (channel, head) = (to_i64(channel), to_i64(head.seq));
                    let values = (seq, prev, message_id, count, left_user, left_by, channel, head);
                    self.lwt("log_head_advance", values).await?
                }
            };
            if won {
                return Ok(entry);
            }
        }
        Err(StoreError::Scylla(format!(
            "conversation {channel}: its log head kept moving for {APPEND_ATTEMPTS} attempts"
        )))
    }

    /// Moves a read marker forward by compare-and-set on its position; returns it as it is
    /// now. The private messages it passes stay in `private_unread` (counts look only past
    /// the marker) until `advance_read_marker` removes them.
    async fn advance_marker(
        &self,
        channel: ConversationId,
        user: &str,
        marker: ReadMarker,
    ) -> StoreResult<ReadMarker> {
        let (id, seq, count) =
            (to_i64(marker.message_id), to_i64(marker.at.seq), to_i64(marker.at.count));
        let key = (to_i64(channel), user);
        let mut now = None;
        for _ in 0..APPEND_ATTEMPTS {
            let rows: Vec<MarkerRow> = self.rows("read_marker_get", key).await?;
            let (moved, _) = match rows.first() {
                None => self.lwt("read_marker_create", (key.0, key.1, id, seq, count)).await?,
                Some(row @ (_, Some(known), _)) if *known >= seq => {
                    now = Some(read_marker(*row));
                    break;
                }
                Some((_, Some(_), _)) => {
                    self.lwt("read_marker_advance", (id, seq, count, key.0, key.1, seq)).await?
                }
                Some((_, None, _)) => {
                    self.lwt("read_marker_advance_unplaced", (id, seq, count, key.0, key.1)).await?
                }
            };
            if moved {
                now = Some(marker);
                break;
            }
        }
        let Some(now) = now else {
            return Err(StoreError::Scylla(format!(
                "conversation {channel}: {user}'s read marker kept moving for {APPEND_ATTEMPTS} attempts"
            )));
        };
        Ok(now)
    }

    async fn member_count(&self, id: ConversationId) -> StoreResult<u32> {
        let rows: Vec<(scylla::value::Counter,)> =
            self.rows("member_count_get", (to_i64(id),)).await?;
        Ok(rows.first().map_or(0, |(count,)| count.0.max(0) as u32))
    }

    async fn add_to_count(&self, id: ConversationId, delta: i64) -> StoreResult<()> {
        let delta = scylla::value::Counter(delta);
        self.run("member_count_add", (delta, to_i64(id))).await.map(|_| ())
    }

    /// Writes a conversation, its members and their index rows (claims are made first).
    async fn write_conversation(&self, c: &Conversation, members: &[Member]) -> StoreResult<()> {
        let mut batch = Batch::new(BatchType::Logged);
        let mut values: Vec<Box<dyn scylla::serialize::row::SerializeRow + Send + Sync>> =
            Vec::new();
        batch.append_statement(self.statement("conversation_insert").clone());
        values.push(Box::new(ConversationRow::values(c)));
        for member in members {
            batch.append_statement(self.statement("member_insert").clone());
            values.push(Box::new(rows::member_values(c.id, member)));
            batch.append_statement(self.statement("user_conversation_insert").clone());
            values.push(Box::new((c.org.clone(), member.user_id.clone(), to_i64(c.id))));
        }
        self.session.batch(&batch, values).await.map_err(failed)?;
        self.add_to_count(c.id, members.len() as i64).await
    }

    /// The conversation a claim points to, waiting briefly for its rows if the claimer is
    /// still writing them.
    async fn settled(&self, id: ConversationId) -> StoreResult<Conversation> {
        for _ in 0..SETTLE_ATTEMPTS {
            if let Some(conversation) = self.get_conversation(id).await? {
                return Ok(conversation);
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        Err(StoreError::Corrupt {
            table: "conversations",
            reason: format!("{id} was claimed but never written"),
        })
    }
}

fn pending_shard(id: AttachmentId) -> i32 {
    (id % PENDING_SHARDS as u64) as i32
}

/// Reads use the read consistency; everything else the write consistency.
fn text_is_read(name: &str) -> bool {
    name.ends_with("_get") || name.ends_with("_list") || name.contains("_range_")
}

/// A consistency level by its CQL name.
struct ConsistencyName(Consistency);

impl std::str::FromStr for ConsistencyName {
    type Err = StoreError;

    fn from_str(name: &str) -> StoreResult<Self> {
        Ok(ConsistencyName(match name.to_ascii_uppercase().as_str() {
            "ONE" => Consistency::One,
            "TWO" => Consistency::Two,
            "THREE" => Consistency::Three,
            "QUORUM" => Consistency::Quorum,
            "ALL" => Consistency::All,
            "LOCAL_QUORUM" => Consistency::LocalQuorum,
            "EACH_QUORUM" => Consistency::EachQuorum,
            "LOCAL_ONE" => Consistency::LocalOne,
            other => return Err(failed(format!("unknown consistency level `{other}`"))),
        }))
    }
}

/// A session from config: the nodes, credentials and TLS; token- and shard-aware load
/// balancing is the driver's default.
pub async fn session(config: &ScyllaConfig) -> StoreResult<Session> {
    let mut builder = SessionBuilder::new().known_nodes(&config.nodes);
    if let Some(user) = &config.username {
        let password = match &config.password_file {
            Some(path) => std::fs::read_to_string(path)
                .map_err(|e| failed(format!("cannot read {}: {e}", path.display())))?
                .trim()
                .to_string(),
            None => String::new(),
        };
        builder = builder.user(user, password);
    }
    if let Some(ca) = &config.tls_ca_file {
        builder = builder.tls_context(Some(rows::tls_context(ca)?));
    }
    builder.build().await.map_err(failed)
}

/// Applies the migrations not applied yet; returns the versions it applied.
pub async fn migrate(config: &ScyllaConfig) -> StoreResult<Vec<i32>> {
    let session = session(config).await?;
    let replication = config.replication();
    let migrations = schema::migrations(&config.keyspace, &replication);
    let current = current_version(&session, &config.keyspace).await;
    let mut applied = Vec::new();
    for migration in migrations.into_iter().filter(|m| m.version > current) {
        for statement in &migration.statements {
            session.query_unpaged(statement.as_str(), ()).await.map_err(failed)?;
        }
        session.await_schema_agreement().await.map_err(failed)?;
        let record = statements::cql("schema_version_set", &config.keyspace);
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as i64);
        session
            .query_unpaged(record, ("switchboard", migration.version, now))
            .await
            .map_err(failed)?;
        applied.push(migration.version);
    }
    Ok(applied)
}

/// The applied schema version, 0 before the first migration.
async fn current_version(session: &Session, keyspace: &str) -> i32 {
    let query = statements::cql("schema_version_get", keyspace);
    let Ok(result) = session.query_unpaged(query, ("switchboard",)).await else { return 0 };
    let Ok(rows) = result.into_rows_result() else { return 0 };
    rows.maybe_first_row::<(i32,)>().ok().flatten().map_or(0, |(v,)| v)
}

#[async_trait]
impl Store for ScyllaStore {
    async fn create_conversation(&self, c: &Conversation, members: &[Member]) -> StoreResult<()> {
        self.write_conversation(c, members).await
    }

    async fn get_conversation(&self, id: ConversationId) -> StoreResult<Option<Conversation>> {
        let rows: Vec<ConversationRow> = self.rows("conversation_get", (to_i64(id),)).await?;
        let Some(row) = rows.into_iter().next() else { return Ok(None) };
        let count = self.member_count(id).await?;
        row.into_domain(count).map(Some)
    }

    async fn update_conversation(&self, c: &Conversation) -> StoreResult<Conversation> {
        let values = (
            c.name.clone(),
            c.icon.clone(),
            c.meta_tags.clone(),
            c.restricted,
            c.archived,
            to_i64(c.id),
        );
        self.run("conversation_update", values).await?;
        self.get_conversation(c.id)
            .await?
            .ok_or_else(|| failed(format!("conversation {} vanished", c.id)))
    }

    async fn get_or_create_direct(
        &self,
        c: &Conversation,
        members: &[Member; 2],
    ) -> StoreResult<Conversation> {
        let (a, b) = (&members[0].user_id, &members[1].user_id);
        let (low, high) = if a <= b { (a, b) } else { (b, a) };
        let claim = (c.org.clone(), low.clone(), high.clone(), to_i64(c.id));
        let (won, current) = self.lwt("direct_pair_claim", claim).await?;
        if won {
            self.write_conversation(c, members).await?;
            return self.settled(c.id).await;
        }
        self.settled(rows::id_column(&current, "conversation_id")?).await
    }

    async fn get_or_create_self(
        &self,
        c: &Conversation,
        owner: &Member,
    ) -> StoreResult<Conversation> {
        let claim = (c.org.clone(), owner.user_id.clone(), to_i64(c.id));
        let (won, current) = self.lwt("self_claim", claim).await?;
        if won {
            self.write_conversation(c, std::slice::from_ref(owner)).await?;
            return self.settled(c.id).await;
        }
        self.settled(rows::id_column(&current, "conversation_id")?).await
    }

    async fn get_member(&self, id: ConversationId, user: &str) -> StoreResult<Option<Member>> {
        let rows: Vec<rows::MemberRow> = self.rows("member_get", (to_i64(id), user)).await?;
        rows.into_iter().next().map(rows::member).transpose()
    }

    async fn list_members(
        &self,
        id: ConversationId,
        after: &str,
        limit: usize,
    ) -> StoreResult<Vec<Member>> {
        let rows: Vec<rows::MemberRow> =
            self.rows("member_list", (to_i64(id), after, limit as i32)).await?;
        rows.into_iter().map(rows::member).collect()
    }

    async fn add_members(
        &self,
        id: ConversationId,
        members: &[Member],
    ) -> StoreResult<Vec<Member>> {
        let conversation = self
            .get_conversation(id)
            .await?
            .ok_or_else(|| failed(format!("no conversation {id}")))?;
        let mut added: Vec<Member> = Vec::new();
        for member in members {
            if added.iter().any(|a| a.user_id == member.user_id) {
                continue;
            }
            let (inserted, _) =
                self.lwt("member_insert_new", rows::member_values(id, member)).await?;
            if inserted {
                let index = (conversation.org.clone(), member.user_id.clone(), to_i64(id));
                self.run("user_conversation_insert", index).await?;
                added.push(member.clone());
            }
        }
        if !added.is_empty() {
            self.add_to_count(id, added.len() as i64).await?;
        }
        Ok(added)
    }

    /// The removal takes its place in the log after the member row is gone: a message
    /// committed in between is the member's too.
    async fn remove_member(
        &self,
        id: ConversationId,
        user: &str,
        by: &str,
    ) -> StoreResult<Option<LogEntry>> {
        let Some(conversation) = self.get_conversation(id).await? else { return Ok(None) };
        let (removed, _) = self.lwt("member_delete", (to_i64(id), user)).await?;
        if !removed {
            return Ok(None);
        }
        self.run("user_conversation_delete", (conversation.org, user, to_i64(id))).await?;
        self.add_to_count(id, -1).await?;
        let removal = Removal { user: user.to_string(), by: by.to_string() };
        let next =
            |head: Option<&LogEntry>, now| LogEntry::next_removal(head, removal.clone(), now);
        let entry = self.next_log_entry(id, next).await?;
        self.put_log_entry(id, &entry).await?;
        Ok(Some(entry))
    }

    async fn change_role(
        &self,
        id: ConversationId,
        user: &str,
        expected: Role,
        new: Role,
    ) -> StoreResult<RoleChange> {
        let values = (rows::role_name(new), to_i64(id), user, rows::role_name(expected));
        let (changed, current) = self.lwt("member_set_role", values).await?;
        Ok(match (changed, current.contains_key("role")) {
            (true, _) => RoleChange::Changed,
            (false, true) => RoleChange::Conflict,
            (false, false) => RoleChange::NotAMember,
        })
    }

    async fn transfer_ownership(
        &self,
        id: ConversationId,
        from: &str,
        to: &str,
    ) -> StoreResult<Option<Conversation>> {
        let (Some(old), Some(new)) =
            (self.get_member(id, from).await?, self.get_member(id, to).await?)
        else {
            return Ok(None);
        };
        if old.role != Role::Owner {
            return Ok(None);
        }
        // The owner column decides; the member roles follow it.
        let (moved, _) = self.lwt("conversation_set_owner", (to, to_i64(id), from)).await?;
        if !moved {
            return Ok(None);
        }
        self.run("member_insert", rows::member_values(id, &Member { role: Role::Owner, ..new }))
            .await?;
        self.run("member_insert", rows::member_values(id, &Member { role: Role::Admin, ..old }))
            .await?;
        self.get_conversation(id).await
    }

    async fn list_user_conversations(
        &self,
        org: &str,
        user: &str,
        after: ConversationId,
        limit: usize,
    ) -> StoreResult<Vec<ConversationId>> {
        let rows: Vec<(i64,)> =
            self.rows("user_conversation_list", (org, user, to_i64(after), limit as i32)).await?;
        Ok(rows.into_iter().map(|(id,)| id as u64).collect())
    }

    async fn insert_message(
        &self,
        message: &Message,
        notifications: &[Notification],
    ) -> StoreResult<Inserted> {
        if let Some(key) = &message.client_msg_id {
            let claim =
                (to_i64(message.channel_id), message.from.clone(), key.clone(), to_i64(message.id));
            let (won, current) = self.lwt("dedup_claim", claim).await?;
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
        let mut batch = Batch::new(BatchType::Logged);
        for name in [
            "message_insert",
            "message_logged",
            "bucket_insert",
            "change_insert",
            "log_insert",
            "log_hour_insert",
        ] {
            batch.append_statement(self.statement(name).clone());
        }
        let (log, log_hour) = log_values(message.channel_id, &entry);
        let values = (
            MessageRow::values(message),
            MessageRow::logged_values(message, entry.seq),
            (to_i64(message.channel_id), bucket),
            change_values(message, message.ts_ms),
            log,
            log_hour,
        );
        self.session.batch(&batch, values).await.map_err(failed)?;
        // After the batch (a compare-and-set cannot be in one): until then, the author's
        // own message counts as unread to them.
        let sent = ReadMarker { message_id: message.id, at: entry.point() };
        self.advance_marker(message.channel_id, &message.from, sent).await?;
        if let Some(to) = &message.to {
            let values = (to_i64(message.channel_id), to.as_str(), to_i64(entry.seq));
            self.run("private_unread_insert", values).await?;
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
        channel: ConversationId,
        id: MessageId,
    ) -> StoreResult<Option<Message>> {
        let key = (to_i64(channel), bucket_of(id) as i32, to_i64(id));
        let rows: Vec<MessageRow> = self.rows("message_get", key).await?;
        rows.into_iter().next().map(MessageRow::into_domain).transpose()
    }

    async fn update_message(&self, m: &Message, at_ms: i64) -> StoreResult<LogEntry> {
        let next = |head: Option<&LogEntry>, now| LogEntry::next(head, m.id, LogChange::Other, now);
        let entry = self.next_log_entry(m.channel_id, next).await?;
        let mut batch = Batch::new(BatchType::Logged);
        for name in ["message_update", "change_insert", "log_insert", "log_hour_insert"] {
            batch.append_statement(self.statement(name).clone());
        }
        let (log, log_hour) = log_values(m.channel_id, &entry);
        let values =
            (MessageRow::update_values(m, entry.seq), change_values(m, at_ms), log, log_hour);
        self.session.batch(&batch, values).await.map_err(failed)?;
        Ok(entry)
    }

    async fn list_log(
        &self,
        channel: ConversationId,
        after: u64,
        limit: usize,
    ) -> StoreResult<Vec<LogEntry>> {
        let Some(first) = after.checked_add(1) else { return Ok(Vec::new()) };
        let hours: Vec<(i32,)> =
            self.rows("log_hour_range_from", (to_i64(channel), log_hour(first))).await?;
        let mut entries = Vec::new();
        for (hour,) in hours {
            if entries.len() >= limit {
                break;
            }
            let left = (limit - entries.len()) as i32;
            let rows: Vec<LogRow> =
                self.rows("log_range_after", (to_i64(channel), hour, to_i64(after), left)).await?;
            entries.extend(rows.into_iter().map(log_entry));
        }
        Ok(unbroken_from(after, entries))
    }

    /// The head, if its entry is in the log already; else the entry before it, which is.
    async fn log_head(&self, channel: ConversationId) -> StoreResult<Option<LogEntry>> {
        let Some(head) = self.head_row(channel).await? else { return Ok(None) };
        if let Some(entry) = self.log_entry(channel, head.seq).await? {
            return Ok(Some(entry));
        }
        if head.prev == 0 {
            return Ok(None);
        }
        self.log_entry(channel, head.prev).await
    }

    async fn list_messages(
        &self,
        channel: ConversationId,
        query: HistoryQuery,
    ) -> StoreResult<Vec<Message>> {
        let low = query.after.map_or(0, |a| a.saturating_add(1));
        let high =
            query.before.map_or(i64::MAX as u64, |b| b.saturating_sub(1)).min(i64::MAX as u64);
        let mut messages = Vec::new();
        if low > high || query.limit == 0 {
            return Ok(messages);
        }
        let (buckets, range) = match query.direction {
            Direction::NewestFirst => ("bucket_range_desc", "message_range_desc"),
            Direction::OldestFirst => ("bucket_range_asc", "message_range_asc"),
        };
        let span = (to_i64(channel), bucket_of(low) as i32, bucket_of(high) as i32);
        let buckets: Vec<(i32,)> = self.rows(buckets, span).await?;
        for (bucket,) in buckets {
            let left = (query.limit - messages.len()) as i32;
            let rows: Vec<MessageRow> = self
                .rows(range, (to_i64(channel), bucket, to_i64(low), to_i64(high), left))
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

    async fn advance_read_marker(
        &self,
        channel: ConversationId,
        user: &str,
        marker: ReadMarker,
    ) -> StoreResult<ReadMarker> {
        let now = self.advance_marker(channel, user, marker).await?;
        let read = (to_i64(channel), user, to_i64(now.at.seq));
        self.run("private_unread_forget", read).await?;
        Ok(now)
    }

    async fn list_read_markers(
        &self,
        channel: ConversationId,
    ) -> StoreResult<Vec<(String, MessageId)>> {
        let rows: Vec<(String, i64)> = self.rows("read_marker_list", (to_i64(channel),)).await?;
        Ok(rows.into_iter().map(|(user, id)| (user, id as u64)).collect())
    }

    async fn get_read_marker(
        &self,
        channel: ConversationId,
        user: &str,
    ) -> StoreResult<Option<ReadMarker>> {
        let rows: Vec<MarkerRow> = self.rows("read_marker_get", (to_i64(channel), user)).await?;
        Ok(rows.first().map(|row| read_marker(*row)))
    }

    async fn count_private_unread(
        &self,
        channel: ConversationId,
        user: &str,
        after: u64,
        limit: usize,
    ) -> StoreResult<usize> {
        let values = (to_i64(channel), user, to_i64(after), limit as i32);
        let rows: Vec<(i64,)> = self.rows("private_unread_after", values).await?;
        Ok(rows.len())
    }

    async fn set_muted(&self, id: ConversationId, user: &str, muted: bool) -> StoreResult<bool> {
        let (applied, _) = self.lwt("member_mute", (muted, to_i64(id), user)).await?;
        Ok(applied)
    }

    async fn put_notifications(&self, notifications: &[Notification]) -> StoreResult<()> {
        for n in notifications {
            self.run("notification_insert", NotificationRow::values(n)).await?;
        }
        Ok(())
    }

    async fn list_notifications(
        &self,
        org: &str,
        user: &str,
        before: u64,
        limit: usize,
    ) -> StoreResult<Vec<Notification>> {
        let key = (org, user, to_i64(before), limit.min(i32::MAX as usize) as i32);
        let rows: Vec<NotificationRow> = self.rows("notification_list", key).await?;
        rows.into_iter().map(NotificationRow::into_domain).collect()
    }

    async fn put_attachment(&self, a: &Attachment) -> StoreResult<()> {
        let pending = (pending_shard(a.id), a.expires_at_ms, to_i64(a.id));
        let mut batch = Batch::new(BatchType::Logged);
        batch.append_statement(self.statement("attachment_insert").clone());
        let index =
            if a.state == AttachmentState::Pending { "pending_insert" } else { "pending_delete" };
        batch.append_statement(self.statement(index).clone());
        self.session.batch(&batch, (AttachmentRow::values(a), pending)).await.map_err(failed)?;
        Ok(())
    }

    async fn get_attachment(&self, id: AttachmentId) -> StoreResult<Option<Attachment>> {
        let rows: Vec<AttachmentRow> = self.rows("attachment_get", (to_i64(id),)).await?;
        rows.into_iter().next().map(AttachmentRow::into_domain).transpose()
    }

    async fn claim_attachment(
        &self,
        id: AttachmentId,
        message: MessageId,
    ) -> StoreResult<AttachmentClaim> {
        if self.get_attachment(id).await?.is_none() {
            return Ok(AttachmentClaim::Missing);
        }
        let (claimed, current) =
            self.lwt("attachment_claim", (to_i64(message), to_i64(id))).await?;
        if claimed {
            return Ok(AttachmentClaim::Claimed);
        }
        Ok(AttachmentClaim::Taken(rows::id_column(&current, "message_id")?))
    }

    async fn expired_uploads(&self, now_ms: i64, limit: usize) -> StoreResult<Vec<Attachment>> {
        let mut expired = Vec::new();
        for shard in 0..PENDING_SHARDS {
            let left = limit.saturating_sub(expired.len());
            if left == 0 {
                break;
            }
            let ids: Vec<(i64,)> = self.rows("pending_list", (shard, now_ms, left as i32)).await?;
            for (id,) in ids {
                if let Some(attachment) = self.get_attachment(id as u64).await? {
                    expired.push(attachment);
                }
            }
        }
        Ok(expired)
    }

    async fn append_audit(&self, entry: &AuditEntry) -> StoreResult<()> {
        self.run("audit_insert", AuditRow::values(entry)).await.map(|_| ())
    }

    async fn list_audit(
        &self,
        org: &str,
        day: u32,
        before: u64,
        limit: usize,
    ) -> StoreResult<Vec<AuditEntry>> {
        let key = (org, day as i32, to_i64(before), limit.min(i32::MAX as usize) as i32);
        let rows: Vec<AuditRow> = self.rows("audit_list", key).await?;
        rows.into_iter().map(AuditRow::into_domain).collect()
    }

    /// Dedup keys expire by TTL; nothing to sweep.
    async fn list_message_changes(
        &self,
        hour: u32,
        after: Option<MessageChange>,
        limit: usize,
    ) -> StoreResult<Vec<MessageChange>> {
        let limit = limit.min(i32::MAX as usize) as i32;
        let rows: Vec<(i64, i64, i64)> = match after {
            Some(a) => {
                let key = (to_i64(a.channel_id), to_i64(a.message_id));
                let values = (hour as i32, a.at_ms, key.0, key.1, limit);
                self.rows("change_list_after", values).await?
            }
            None => self.rows("change_list_from", (hour as i32, limit)).await?,
        };
        Ok(rows
            .into_iter()
            .map(|(at_ms, channel, message)| MessageChange {
                at_ms,
                channel_id: channel as u64,
                message_id: message as u64,
            })
            .collect())
    }

    async fn maintain(&self) -> StoreResult<()> {
        Ok(())
    }

    /// Writes are acknowledged at the configured consistency level: nothing to flush.
    async fn flush(&self) -> StoreResult<()> {
        Ok(())
    }
}

/// The partition hour of a log position (microseconds).
fn log_hour(seq: u64) -> i32 {
    (seq / 3_600_000_000) as i32
}

/// A log entry as selected: position, the one before, message, count (none before schema
/// version 7), and for a removal who left and who removed them.
type LogRow = (i64, i64, i64, Option<i64>, Option<String>, Option<String>);

/// A read marker as selected: message, position and count (none before schema version 7).
type MarkerRow = (i64, Option<i64>, Option<i64>);

fn read_marker((message_id, seq, count): MarkerRow) -> ReadMarker {
    let at = LogPoint { seq: seq.unwrap_or(0) as u64, count: count.unwrap_or(0) as u64 };
    ReadMarker { message_id: message_id as u64, at }
}

fn log_entry((seq, prev, message_id, count, left_user, left_by): LogRow) -> LogEntry {
    let removal = left_user.map(|user| Box::new(Removal { user, by: left_by.unwrap_or_default() }));
    let (seq, prev, message_id) = (seq as u64, prev as u64, message_id as u64);
    LogEntry { seq, prev, message_id, count: count.unwrap_or(0) as u64, removal }
}

/// An entry's columns: position, the one before, message, count, who left, who removed
/// (null for a message's entry: the head's row is overwritten in place).
#[allow(clippy::type_complexity)]
fn log_columns(entry: &LogEntry) -> (i64, i64, i64, i64, Option<String>, Option<String>) {
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
fn log_values(
    channel: ConversationId,
    entry: &LogEntry,
) -> ((i64, i32, i64, i64, i64, i64, MaybeUnset<String>, MaybeUnset<String>), (i64, i32)) {
    let hour = log_hour(entry.seq);
    let (seq, prev, message_id, count, left_user, left_by) = log_columns(entry);
    // A new row: a message's entry leaves the removal columns unset rather than null.
    let (left_user, left_by) = (rows::unset_if_none(left_user), rows::unset_if_none(left_by));
    (
        (to_i64(channel), hour, seq, prev, message_id, count, left_user, left_by),
        (to_i64(channel), hour),
    )
}

/// The `change_insert` values of a change to `m` at `at_ms`.
fn change_values(m: &Message, at_ms: i64) -> (i32, i64, i64, i64) {
    (change_hour(at_ms) as i32, at_ms, to_i64(m.channel_id), to_i64(m.id))
}
