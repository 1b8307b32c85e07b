//! The ScyllaDB schema as code: the tables of the data model (docs/data-model.md), rendered
//! to CQL, and the versioned migrations `switchboard migrate` applies (a `schema_versions`
//! row records what has been applied, so running it again changes nothing).

mod tables;

pub use self::tables::TABLES;

/// One table: its columns (name, CQL type), partition key, clustering key and options.
pub struct Table {
    pub name: &'static str,
    pub columns: &'static [(&'static str, &'static str)],
    pub partition_key: &'static [&'static str],
    /// Clustering columns, each with `true` for descending order.
    pub clustering: &'static [(&'static str, bool)],
    /// Extra `WITH` options (compaction, TTL), without the leading `WITH`.
    pub options: &'static str,
}

/// Partitions of `pending_uploads`.
pub const PENDING_SHARDS: i32 = 16;

/// The latest schema version.
pub const LATEST: i32 = 30;

/// Tables created after version 1, with the version that created them.
const ADDED_TABLES: &[(&str, i32)] = &[
    ("attachments", 2),
    ("pending_uploads", 2),
    ("audit", 3),
    ("message_changes", 4),
    ("notifications", 5),
    ("conversation_log", 6),
    ("log_hours", 6),
    ("log_heads", 6),
    ("private_unread", 7),
    ("user_status", 8),
    ("profiles", 9),
    ("directory", 9),
    ("contacts", 9),
    ("blocks", 9),
    ("blocked_by", 9),
    ("message_versions", 11),
    ("conversation_keys", 12),
    ("pins", 13),
    ("conversation_files", 14),
    ("user_uploads", 14),
    ("reactions", 15),
    ("user_reactions", 15),
    ("thread_replies", 16),
    ("thread_follows", 16),
    ("user_threads", 16),
    ("push_settings", 17),
    ("devices", 17),
    ("device_owners", 17),
    ("bans", 18),
    ("reports", 18),
    ("timeouts", 19),
    ("filters", 20),
    ("suspensions", 21),
    ("user_messages", 22),
    ("message_notifications", 22),
    ("jobs", 23),
    ("open_jobs", 23),
    ("user_audit", 23),
    ("retention", 24),
    ("expiring", 24),
    ("expiry_sweeps", 24),
    ("org_conversations", 25),
    ("archive_expiries", 28),
    ("duty_leases", 29),
    ("message_reports", 30),
];

/// Columns added to existing tables after version 1: (table, column, version).
const ADDED_COLUMNS: &[(&str, &str, i32)] = &[
    ("messages", "attachment", 2),
    ("messages", "mentions", 5),
    ("members", "muted", 5),
    ("messages", "deleted_by", 6),
    ("messages", "created_seq", 6),
    ("messages", "seq", 6),
    ("members", "joined_seq", 7),
    ("members", "joined_count", 7),
    ("read_markers", "seq", 7),
    ("read_markers", "message_count", 7),
    ("conversation_log", "message_count", 7),
    ("log_heads", "message_count", 7),
    ("conversation_log", "left_user", 7),
    ("conversation_log", "left_by", 7),
    ("log_heads", "left_user", 7),
    ("log_heads", "left_by", 7),
    ("profiles", "avatar_id", 10),
    ("conversations", "custom_fields", 12),
    ("conversations", "external_key", 12),
    ("conversations", "members_may_pin", 13),
    ("messages", "pinned_by", 13),
    ("messages", "pinned_at_ms", 13),
    ("messages", "reactions", 15),
    ("messages", "thread_only", 16),
    ("messages", "reply_count", 16),
    ("messages", "last_reply_id", 16),
    ("members", "timeout_until_ms", 19),
    ("members", "timeout_by", 19),
    ("members", "timeout_reason", 19),
    ("members", "last_post_ms", 19),
    ("conversations", "slow_mode_seconds", 19),
    ("messages", "expires_at", 24),
    ("expiring", "sender", 27),
    ("expiring", "recipient", 27),
];

fn table_version(name: &str) -> i32 {
    ADDED_TABLES.iter().find(|(t, _)| *t == name).map_or(1, |(_, v)| *v)
}

fn column_version(table: &str, column: &str) -> i32 {
    ADDED_COLUMNS.iter().find(|(t, c, _)| *t == table && *c == column).map_or(1, |(_, _, v)| *v)
}

/// The table definition named `name`.
pub fn table(name: &str) -> Option<&'static Table> {
    TABLES.iter().find(|t| t.name == name)
}

impl Table {
    /// `CREATE TABLE IF NOT EXISTS` for this table in `keyspace`, with the columns it had
    /// at schema `version`.
    pub fn create(&self, keyspace: &str, version: i32) -> String {
        let columns: Vec<String> = self
            .columns
            .iter()
            .filter(|(name, _)| column_version(self.name, name) <= version)
            .map(|(name, kind)| format!("{name} {kind}"))
            .collect();
        let partition = format!("({})", self.partition_key.join(", "));
        let mut key = vec![partition];
        key.extend(self.clustering.iter().map(|(c, _)| c.to_string()));
        let mut with = Vec::new();
        if !self.clustering.is_empty() {
            let order: Vec<String> = self
                .clustering
                .iter()
                .map(|(c, desc)| format!("{c} {}", if *desc { "DESC" } else { "ASC" }))
                .collect();
            with.push(format!("CLUSTERING ORDER BY ({})", order.join(", ")));
        }
        if !self.options.is_empty() {
            with.push(self.options.to_string());
        }
        let with =
            if with.is_empty() { String::new() } else { format!(" WITH {}", with.join(" AND ")) };
        format!(
            "CREATE TABLE IF NOT EXISTS {keyspace}.{} ({}, PRIMARY KEY ({})){with}",
            self.name,
            columns.join(", "),
            key.join(", ")
        )
    }
}

/// How the keyspace is replicated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Replication {
    /// For a single datacenter or tests.
    Simple { factor: u32 },
    /// For production: a replication factor per datacenter.
    NetworkTopology { datacenters: Vec<(String, u32)> },
}

impl Replication {
    fn cql(&self) -> String {
        match self {
            Replication::Simple { factor } => {
                format!("{{'class': 'SimpleStrategy', 'replication_factor': {factor}}}")
            }
            Replication::NetworkTopology { datacenters } => {
                let dcs: Vec<String> =
                    datacenters.iter().map(|(dc, rf)| format!("'{dc}': {rf}")).collect();
                format!("{{'class': 'NetworkTopologyStrategy', {}}}", dcs.join(", "))
            }
        }
    }
}

/// One schema version: the statements that take the schema from the previous one to it,
/// and the rows a new table needs from the data already there.
pub struct Migration {
    pub version: i32,
    pub description: &'static str,
    pub statements: Vec<String>,
    pub backfills: &'static [Backfill],
}

/// Rows a migration writes from the data already there (after its statements).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backfill {
    /// `org_conversations` from `conversations`.
    OrgConversations,
    /// `user_messages` from `messages` (with their conversations' orgs).
    UserMessages,
    /// `message_notifications` from `notifications`.
    MessageNotifications,
    /// `message_reports` from `reports`.
    MessageReports,
}

/// Every migration for `keyspace`, oldest first. New versions are only ever appended.
pub fn migrations(keyspace: &str, replication: &Replication) -> Vec<Migration> {
    let mut first = vec![format!(
        "CREATE KEYSPACE IF NOT EXISTS {keyspace} WITH replication = {}",
        replication.cql()
    )];
    first.extend(
        TABLES.iter().filter(|t| table_version(t.name) == 1).map(|t| t.create(keyspace, 1)),
    );
    let mut migrations = vec![Migration {
        version: 1,
        description: "the initial data model",
        statements: first,
        backfills: &[],
    }];
    for (version, description) in [
        (2, "attachments"),
        (3, "audit log"),
        (4, "message change feed"),
        (5, "mentions and notifications"),
        (6, "conversation logs"),
        (7, "unread counts and removals kept in the log"),
        (8, "users' statuses"),
        (9, "users' profiles, the directory, contacts and blocks"),
        (10, "avatars"),
        (11, "edit history"),
        (12, "conversations' custom fields and links"),
        (13, "pins"),
        (14, "lists of conversations' files and users' uploads"),
        (15, "reactions"),
        (16, "threads"),
        (17, "push preferences and devices"),
        (18, "bans and reports"),
        (19, "timeouts and slow mode"),
        (20, "filters"),
        (21, "suspended users"),
        (22, "messages by sender, notifications by message"),
        (23, "background jobs, and the audit entries naming each user"),
        (24, "retention: policies, expiring messages and their sweep"),
        (25, "each org's conversations"),
        (26, "messages by sender and notifications by message, for what came before version 22"),
        (27, "expiring messages' senders and recipients"),
        (28, "export archives by when they are removed"),
        (29, "the leases of duties one controller does at a time"),
        (30, "each message's reports, filled from the reports"),
    ] {
        let mut statements: Vec<String> = TABLES
            .iter()
            .filter(|t| table_version(t.name) == version)
            .map(|t| t.create(keyspace, version))
            .collect();
        for (table, column, _) in ADDED_COLUMNS.iter().filter(|(_, _, v)| *v == version) {
            let kind = self::table(table)
                .and_then(|t| t.columns.iter().find(|(c, _)| c == column))
                .map_or("blob", |(_, kind)| kind);
            statements.push(format!("ALTER TABLE {keyspace}.{table} ADD {column} {kind}"));
        }
        let backfills: &[Backfill] = match version {
            25 => &[Backfill::OrgConversations],
            26 => &[Backfill::UserMessages, Backfill::MessageNotifications],
            30 => &[Backfill::MessageReports],
            _ => &[],
        };
        migrations.push(Migration { version, description, statements, backfills });
    }
    debug_assert_eq!(migrations.last().map(|m| m.version), Some(LATEST));
    migrations
}

/// The whole schema as a CQL script (for `switchboard migrate --print`).
pub fn script(keyspace: &str, replication: &Replication) -> String {
    let mut out = String::new();
    for migration in migrations(keyspace, replication) {
        out.push_str(&format!("-- version {}: {}\n", migration.version, migration.description));
        for statement in migration.statements {
            out.push_str(&statement);
            out.push_str(";\n");
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_key_column_is_a_column() {
        for table in TABLES {
            let has = |c: &str| table.columns.iter().any(|(name, _)| *name == c);
            for key in table.partition_key.iter().chain(table.clustering.iter().map(|(c, _)| c)) {
                assert!(has(key), "{}.{key} is a key but not a column", table.name);
            }
        }
    }

    #[test]
    fn the_script_creates_the_keyspace_and_every_table() {
        let script = script("sb", &Replication::Simple { factor: 1 });
        assert!(script.starts_with("-- version 1"));
        assert!(script.contains("-- version 2: attachments"));
        assert!(script.contains("ALTER TABLE sb.messages ADD attachment blob;"));
        let version_1 = script.split("-- version 2").next().unwrap();
        assert!(!version_1.contains("attachment blob"), "added columns come with their version");
        assert!(!version_1.contains("sb.attachments"));
        assert!(script.contains("CREATE KEYSPACE IF NOT EXISTS sb WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1}"));
        for table in TABLES {
            assert!(script.contains(&format!("CREATE TABLE IF NOT EXISTS sb.{} (", table.name)));
        }
        assert!(script.contains(
            "PRIMARY KEY ((channel_id, bucket), message_id)) WITH CLUSTERING ORDER BY (message_id DESC) AND compaction"
        ));
        assert!(script.contains(
            "PRIMARY KEY ((channel_id, sender, client_msg_id))) WITH default_time_to_live = 86400"
        ));
    }
}
