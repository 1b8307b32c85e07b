//! The embedded Store engine: fjall (an LSM tree, like Scylla's) in one data directory.
//!
//! Each table of the Scylla-shaped model is a fjall keyspace (see `keys` for the layouts).
//! Writes that read first (dedup, get-or-create, compare-and-set) run under one write lock,
//! which is held only while the batch is built and committed to the journal, never during
//! the fsync; the fsync is shared by concurrent writers through `GroupCommit`.

mod attachments;
mod audit;
mod backfill;
mod conversations;
mod devices;
mod group_commit;
mod jobs;
mod keys;
mod log;
mod members;
mod messages;
mod moderation;
mod notifications;
mod profiles;
mod reads;
mod relations;
mod retention;
mod status;
mod threads;

use std::path::Path;
use std::sync::Mutex;

use async_trait::async_trait;
use fjall::{Database, Keyspace, KeyspaceCreateOptions, OwnedWriteBatch};
use serde::Serialize;
use serde::de::DeserializeOwned;

use self::group_commit::GroupCommit;
use super::{Store, StoreError, StoreMeter, StoreResult};
use crate::model::change_hour;

/// How long a (conversation, sender, client_msg_id) key keeps answering with the original.
pub const DEDUP_TTL_MS: i64 = 24 * 60 * 60 * 1000;
/// How long the change feed keeps a change (as Scylla's TTL on the table does).
pub const CHANGE_TTL_MS: i64 = 7 * 24 * 60 * 60 * 1000;
/// Stale changes removed per write by housekeeping.
const PRUNE_BATCH: usize = 10_000;

/// One fjall keyspace per table of the data model.
struct Tables {
    conversations: Keyspace,
    org_conversations: Keyspace,
    members: Keyspace,
    user_conversations: Keyspace,
    direct_pairs: Keyspace,
    conversation_keys: Keyspace,
    self_conversations: Keyspace,
    messages: Keyspace,
    message_versions: Keyspace,
    pins: Keyspace,
    thread_replies: Keyspace,
    thread_follows: Keyspace,
    user_threads: Keyspace,
    reactions: Keyspace,
    user_reactions: Keyspace,
    message_buckets: Keyspace,
    dedup: Keyspace,
    read_markers: Keyspace,
    attachments: Keyspace,
    pending_uploads: Keyspace,
    conversation_files: Keyspace,
    user_uploads: Keyspace,
    audit: Keyspace,
    message_changes: Keyspace,
    notifications: Keyspace,
    message_notifications: Keyspace,
    user_messages: Keyspace,
    retention: Keyspace,
    expiring: Keyspace,
    jobs: Keyspace,
    open_jobs: Keyspace,
    archive_expiries: Keyspace,
    duty_leases: Keyspace,
    user_audit: Keyspace,
    devices: Keyspace,
    bans: Keyspace,
    timeouts: Keyspace,
    filters: Keyspace,
    suspensions: Keyspace,
    reports: Keyspace,
    message_reports: Keyspace,
    device_owners: Keyspace,
    push_settings: Keyspace,
    conversation_log: Keyspace,
    private_unread: Keyspace,
    user_status: Keyspace,
    profiles: Keyspace,
    directory: Keyspace,
    contacts: Keyspace,
    blocks: Keyspace,
    blocked_by: Keyspace,
    /// The backfills done (see `backfill`), by name.
    backfills: Keyspace,
}

pub struct EmbeddedStore {
    /// The fjall database holding every table and the shared journal.
    db: Database,
    tables: Tables,
    /// Serializes read-modify-write batches (see the module docs).
    write_lock: Mutex<()>,
    /// Makes committed batches durable with shared fsyncs.
    commits: GroupCommit,
    /// Times every read and write (see [`EmbeddedStore::read`] and [`EmbeddedStore::write`]).
    meter: StoreMeter,
}

impl EmbeddedStore {
    /// Opens (or creates) the store in `dir`, replaying its journal.
    pub fn open(dir: &Path) -> StoreResult<Self> {
        std::fs::create_dir_all(dir).map_err(|e| StoreError::Embedded(e.into()))?;
        let db = Database::builder(dir).open()?;
        let table = |name: &str| db.keyspace(name, KeyspaceCreateOptions::default);
        let tables = Tables {
            conversations: table("conversations")?,
            org_conversations: table("org_conversations")?,
            members: table("members")?,
            user_conversations: table("user_conversations")?,
            direct_pairs: table("direct_pairs")?,
            conversation_keys: table("conversation_keys")?,
            self_conversations: table("self_conversations")?,
            messages: table("messages")?,
            message_versions: table("message_versions")?,
            pins: table("pins")?,
            thread_replies: table("thread_replies")?,
            thread_follows: table("thread_follows")?,
            user_threads: table("user_threads")?,
            reactions: table("reactions")?,
            user_reactions: table("user_reactions")?,
            message_buckets: table("message_buckets")?,
            dedup: table("dedup")?,
            read_markers: table("read_markers")?,
            attachments: table("attachments")?,
            pending_uploads: table("pending_uploads")?,
            conversation_files: table("conversation_files")?,
            user_uploads: table("user_uploads")?,
            audit: table("audit")?,
            message_changes: table("message_changes")?,
            notifications: table("notifications")?,
            message_notifications: table("message_notifications")?,
            user_messages: table("user_messages")?,
            retention: table("retention")?,
            expiring: table("expiring")?,
            jobs: table("jobs")?,
            open_jobs: table("open_jobs")?,
            archive_expiries: table("archive_expiries")?,
            duty_leases: table("duty_leases")?,
            user_audit: table("user_audit")?,
            devices: table("devices")?,
            bans: table("bans")?,
            timeouts: table("timeouts")?,
            filters: table("filters")?,
            suspensions: table("suspensions")?,
            reports: table("reports")?,
            message_reports: table("message_reports")?,
            device_owners: table("device_owners")?,
            push_settings: table("push_settings")?,
            conversation_log: table("conversation_log")?,
            private_unread: table("private_unread")?,
            user_status: table("user_status")?,
            profiles: table("profiles")?,
            directory: table("directory")?,
            contacts: table("contacts")?,
            blocks: table("blocks")?,
            blocked_by: table("blocked_by")?,
            backfills: table("backfills")?,
        };
        backfill::run(&db, &tables)?;
        let commits = GroupCommit::new(db.clone());
        let (write_lock, meter) = (Mutex::new(()), StoreMeter::default());
        Ok(EmbeddedStore { db, tables, write_lock, commits, meter })
    }

    /// How many fsyncs the store has issued (fewer than writes, thanks to group commit).
    pub fn sync_count(&self) -> u64 {
        self.commits.sync_count()
    }

    /// Reads tables (every read of the engine goes through here, timed as `operation`).
    fn read<R>(
        &self,
        operation: &'static str,
        read: impl FnOnce(&Tables) -> StoreResult<R>,
    ) -> StoreResult<R> {
        self.meter.read_now(operation, || read(&self.tables))
    }

    /// Runs `build` under the write lock, commits what it put in the batch, and returns once
    /// that is durable (every write of the engine goes through here, timed as `operation`).
    /// Also waits when the batch is empty: what `build` read may have been committed by
    /// another writer whose fsync is still running.
    async fn write<R>(
        &self,
        operation: &'static str,
        build: impl FnOnce(&Tables, &mut OwnedWriteBatch) -> StoreResult<R>,
    ) -> StoreResult<R> {
        self.meter.write(operation, self.commit(build)).await
    }

    async fn commit<R>(
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

/// Up to `limit` rows of `keyspace` under `prefix` in key order, starting after the row
/// keyed `after` (from the first when `None`): a page of a listing by name, read from where
/// the previous page ended rather than skipped up to it.
fn page_after<T: DeserializeOwned>(
    table: &'static str,
    keyspace: &Keyspace,
    prefix: &[u8],
    after: Option<Vec<u8>>,
    limit: usize,
) -> StoreResult<Vec<T>> {
    use std::ops::Bound;
    let start = match after {
        Some(key) => Bound::Excluded(key),
        None => Bound::Included(prefix.to_vec()),
    };
    let mut page = Vec::with_capacity(limit.min(256));
    for item in keyspace.range((start, Bound::Unbounded)) {
        let (key, value) = item.into_inner()?;
        if !key.starts_with(prefix) || page.len() == limit {
            break;
        }
        page.push(decode(table, &value)?);
    }
    Ok(page)
}

fn get<T: DeserializeOwned>(
    table: &'static str,
    keyspace: &Keyspace,
    key: &[u8],
) -> StoreResult<Option<T>> {
    keyspace.get(key)?.map(|bytes| decode(table, &bytes)).transpose()
}

#[async_trait]
impl Store for EmbeddedStore {
    fn meter(&self) -> &StoreMeter {
        &self.meter
    }

    async fn maintain(&self) -> StoreResult<()> {
        let now = switchboard_proto::ids::now_ms();
        // Changes older than the feed keeps, a bounded batch at a time.
        let oldest_hour = change_hour(now - CHANGE_TTL_MS);
        loop {
            let stale: Vec<_> = self.read("maintain", |t| {
                let stale = t.message_changes.range(..oldest_hour.to_be_bytes().to_vec());
                Ok(stale.take(PRUNE_BATCH).filter_map(|item| item.key().ok()).collect())
            })?;
            if stale.is_empty() {
                break;
            }
            self.write("maintain", |t, batch| {
                for key in stale {
                    batch.remove(&t.message_changes, key);
                }
                Ok(())
            })
            .await?;
        }
        let expired: Vec<_> = self.read("maintain", |t| {
            let keys = t.dedup.iter().filter_map(|item| item.into_inner().ok());
            let expired = keys.filter(|(_, v)| {
                keys::parse_dedup_value(v).is_none_or(|(_, at)| now - at >= DEDUP_TTL_MS)
            });
            Ok(expired.map(|(k, _)| k).collect())
        })?;
        if expired.is_empty() {
            return Ok(());
        }
        self.write("maintain", |t, batch| {
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
