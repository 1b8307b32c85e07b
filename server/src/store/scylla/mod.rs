//! The ScyllaDB engine of the Store: the same Scylla-shaped model as the embedded engine,
//! on a keyspace shared by every controller of a cluster.
//!
//! Statements are a `Statement` enum, prepared once at start-up, and every one runs
//! through `ScyllaStore::run` or `ScyllaStore::batch`, which time it (`StoreMeter`).
//! Each aggregate's methods are in a file named after it. Reads and writes use the
//! configured consistency (LOCAL_QUORUM by default), and lightweight transactions settle the
//! races concurrent controllers can have: DM and SELF get-or-create, idempotency keys,
//! membership changes, role and ownership changes, read markers. Optional columns are left
//! unset rather than written as nulls (no tombstones).

mod attachments;
mod audit;
mod config;
mod conversations;
mod devices;
mod jobs;
mod log;
mod members;
mod messages;
mod moderation;
mod notifications;
mod profiles;
mod reads;
mod relations;
mod retention;
mod rows;
pub mod schema;
mod statements;
mod status;
mod threads;

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

use async_trait::async_trait;
use scylla::client::session::{Session, TlsContext};
use scylla::client::session_builder::SessionBuilder;
use scylla::response::query_result::QueryResult;
use scylla::serialize::batch::BatchValues;
use scylla::serialize::row::SerializeRow;
use scylla::statement::batch::{Batch, BatchType};
use scylla::statement::prepared::PreparedStatement;
use scylla::statement::{Consistency, SerialConsistency};
use scylla::value::{CqlValue, Row};

pub use self::config::ScyllaConfig;
use self::schema::Backfill;
use self::statements::Statement;
use super::{Store, StoreError, StoreMeter, StoreResult};

/// How many times a read retries when another controller's write it depends on (the rows
/// behind a claimed DM or idempotency key) has not landed yet.
const SETTLE_ATTEMPTS: usize = 20;

/// How many times an append to a conversation's log retries when other controllers append
/// to the same conversation at the same moment.
const APPEND_ATTEMPTS: usize = 64;

pub struct ScyllaStore {
    session: Session,
    /// Every statement prepared, indexed by `Statement as usize`.
    prepared: Vec<Prepared>,
    /// Times every statement and batch (see [`ScyllaStore::run`] and [`ScyllaStore::batch`]).
    meter: StoreMeter,
}

/// A statement as prepared, with how it is traced.
struct Prepared {
    statement: PreparedStatement,
    /// `SELECT messages`, say (see [`Statement::operation`]).
    operation: String,
    reads: bool,
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
        let mut prepared = Vec::with_capacity(Statement::ALL.len());
        for &statement in Statement::ALL {
            let mut prepared_statement =
                session.prepare(statement.cql(&config.keyspace)).await.map_err(failed)?;
            let reads = statement.reads();
            prepared_statement.set_consistency(if reads { read } else { write });
            prepared_statement.set_serial_consistency(Some(SerialConsistency::LocalSerial));
            let operation = statement.operation();
            prepared.push(Prepared { statement: prepared_statement, operation, reads });
        }
        Ok(ScyllaStore { session, prepared, meter: StoreMeter::default() })
    }

    fn prepared(&self, statement: Statement) -> &Prepared {
        &self.prepared[statement as usize]
    }

    /// Runs one statement (every statement the engine runs outside a batch goes through
    /// here, timed as a read or a write by what it does).
    async fn run(
        &self,
        statement: Statement,
        values: impl SerializeRow,
    ) -> StoreResult<QueryResult> {
        let prepared = self.prepared(statement);
        let call = self.session.execute_unpaged(&prepared.statement, values);
        let result = match prepared.reads {
            true => self.meter.read(prepared.operation.clone(), call).await,
            false => self.meter.write(prepared.operation.clone(), call).await,
        };
        result.map_err(failed)
    }

    /// Runs statements as one batch, timed as one write named after the first one's table
    /// (`BATCH messages`).
    async fn batch(
        &self,
        kind: BatchType,
        statements: &[Statement],
        values: impl BatchValues,
    ) -> StoreResult<()> {
        let mut batch = Batch::new(kind);
        for &statement in statements {
            batch.append_statement(self.prepared(statement).statement.clone());
        }
        let operation = format!("BATCH {}", statements.first().map_or("", |s| s.table()));
        let call = self.session.batch(&batch, values);
        self.meter.write(operation, call).await.map_err(failed)?;
        Ok(())
    }

    /// Rows of a read, decoded as `R`.
    async fn rows<R>(&self, statement: Statement, values: impl SerializeRow) -> StoreResult<Vec<R>>
    where
        R: for<'f, 'm> scylla::deserialize::row::DeserializeRow<'f, 'm>,
    {
        let result = self.run(statement, values).await?.into_rows_result().map_err(failed)?;
        result.rows::<R>().map_err(failed)?.map(|row| row.map_err(failed)).collect()
    }

    /// A lightweight transaction: whether it applied, and the current row's columns if not.
    async fn lwt(
        &self,
        statement: Statement,
        values: impl SerializeRow,
    ) -> StoreResult<(bool, HashMap<String, CqlValue>)> {
        let result = self.run(statement, values).await?.into_rows_result().map_err(failed)?;
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
        builder = builder.tls_context(Some(tls_context(ca)?));
    }
    builder.build().await.map_err(failed)
}

/// A TLS context trusting the CA certificates in `ca` (PEM).
pub(super) fn tls_context(ca: &Path) -> StoreResult<TlsContext> {
    use rustls::pki_types::CertificateDer;
    use rustls::pki_types::pem::PemObject;
    let tls =
        |e: &dyn std::fmt::Display| StoreError::Scylla(format!("TLS CA {}: {e}", ca.display()));
    let mut roots = rustls::RootCertStore::empty();
    for cert in CertificateDer::pem_file_iter(ca).map_err(|e| tls(&e))? {
        roots.add(cert.map_err(|e| tls(&e))?).map_err(|e| tls(&e))?;
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| tls(&e))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(TlsContext::Rustls023(Arc::new(config)))
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
        for &backfill in migration.backfills {
            run_backfill(&session, &config.keyspace, backfill).await?;
        }
        let record = Statement::SchemaVersionSet.cql(&config.keyspace);
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

/// Writes the rows `backfill` says from the data already there (idempotent: a migration
/// cut off in the middle is run again whole).
async fn run_backfill(session: &Session, keyspace: &str, backfill: Backfill) -> StoreResult<()> {
    use futures_util::TryStreamExt as _;
    let prepare = |statement: Statement| session.prepare(statement.cql(keyspace));
    match backfill {
        Backfill::OrgConversations => {
            let insert = prepare(Statement::OrgConversationInsert).await.map_err(failed)?;
            let mut rows =
                scan::<(i64, String)>(session, keyspace, "conversations", "id, org").await?;
            while let Some((id, org)) = rows.try_next().await.map_err(failed)? {
                session.execute_unpaged(&insert, (org, id)).await.map_err(failed)?;
            }
        }
        Backfill::UserMessages => {
            let mut orgs = HashMap::new();
            let mut rows =
                scan::<(i64, String)>(session, keyspace, "conversations", "id, org").await?;
            while let Some((id, org)) = rows.try_next().await.map_err(failed)? {
                orgs.insert(id, org);
            }
            let insert = prepare(Statement::UserMessageInsert).await.map_err(failed)?;
            let columns = "channel_id, message_id, sender, expires_at";
            let mut rows =
                scan::<(i64, i64, String, Option<i64>)>(session, keyspace, "messages", columns)
                    .await?;
            let now = chrono::Utc::now().timestamp_millis();
            while let Some((channel, id, sender, expires_at)) =
                rows.try_next().await.map_err(failed)?
            {
                let ttl = match expires_at.unwrap_or(0) {
                    0 => 0,
                    at if at <= now => continue, // the sweep removes it
                    at => i32::try_from((at - now) / 1000).unwrap_or(i32::MAX).max(1),
                };
                let Some(org) = orgs.get(&channel) else { continue };
                let values = (org.as_str(), sender, id, channel, ttl);
                session.execute_unpaged(&insert, values).await.map_err(failed)?;
            }
        }
        Backfill::MessageReports => {
            let insert = prepare(Statement::MessageReportInsert).await.map_err(failed)?;
            let columns = "conversation_id, message_id, report_id";
            let mut rows = scan::<(i64, i64, i64)>(session, keyspace, "reports", columns).await?;
            while let Some(row) = rows.try_next().await.map_err(failed)? {
                session.execute_unpaged(&insert, row).await.map_err(failed)?;
            }
        }
        Backfill::MessageNotifications => {
            let insert = prepare(Statement::MessageNotificationInsert).await.map_err(failed)?;
            let columns = "org, user_id, id, conversation_id, message_id";
            let mut rows = scan::<(String, String, i64, i64, i64)>(
                session,
                keyspace,
                "notifications",
                columns,
            )
            .await?;
            while let Some((org, user, id, conversation, message)) =
                rows.try_next().await.map_err(failed)?
            {
                let values = (conversation, message, user, org, id);
                session.execute_unpaged(&insert, values).await.map_err(failed)?;
            }
        }
    }
    Ok(())
}

/// Every row of `table` (its `columns`), page by page: a backfill's one read of a whole
/// table, which is why it is not a `Statement`.
async fn scan<R>(
    session: &Session,
    keyspace: &str,
    table: &str,
    columns: &str,
) -> StoreResult<scylla::client::pager::TypedRowStream<R>>
where
    R: for<'f, 'm> scylla::deserialize::row::DeserializeRow<'f, 'm>,
{
    let query = format!("SELECT {columns} FROM {keyspace}.{table}");
    let pager = session.query_iter(query, ()).await.map_err(failed)?;
    pager.rows_stream::<R>().map_err(failed)
}

/// The applied schema version, 0 before the first migration.
async fn current_version(session: &Session, keyspace: &str) -> i32 {
    let query = Statement::SchemaVersionGet.cql(keyspace);
    let Ok(result) = session.query_unpaged(query, ("switchboard",)).await else { return 0 };
    let Ok(rows) = result.into_rows_result() else { return 0 };
    rows.maybe_first_row::<(i32,)>().ok().flatten().map_or(0, |(v,)| v)
}

#[async_trait]
impl Store for ScyllaStore {
    fn meter(&self) -> &StoreMeter {
        &self.meter
    }

    /// Dedup keys and changes expire by TTL; nothing to sweep.
    async fn maintain(&self) -> StoreResult<()> {
        Ok(())
    }

    /// Writes are acknowledged at the configured consistency level: nothing to flush.
    async fn flush(&self) -> StoreResult<()> {
        Ok(())
    }
}
