//! The ScyllaDB schema as code: the tables of the data model (docs/data-model.md), rendered
//! to CQL, and the versioned migrations `switchboard migrate` applies (a `schema_versions`
//! row records what has been applied, so running it again changes nothing).

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

/// Every table, in creation order.
pub const TABLES: &[Table] = &[
    Table {
        name: "conversations",
        columns: &[
            ("id", "bigint"),
            ("org", "text"),
            ("kind", "text"),
            ("name", "text"),
            ("icon", "text"),
            ("archived", "boolean"),
            ("meta_tags", "list<text>"),
            ("owner", "text"),
            ("created_at_ms", "bigint"),
            ("restricted", "boolean"),
            ("visibility", "text"),
        ],
        partition_key: &["id"],
        clustering: &[],
        options: "",
    },
    // Counters cannot share a table with other columns.
    Table {
        name: "member_counts",
        columns: &[("conversation_id", "bigint"), ("members", "counter")],
        partition_key: &["conversation_id"],
        clustering: &[],
        options: "",
    },
    Table {
        name: "members",
        columns: &[
            ("conversation_id", "bigint"),
            ("user_id", "text"),
            ("role", "text"),
            ("joined_at_ms", "bigint"),
            ("muted", "boolean"),
            ("joined_seq", "bigint"),
            ("joined_count", "bigint"),
        ],
        partition_key: &["conversation_id"],
        clustering: &[("user_id", false)],
        options: "",
    },
    Table {
        name: "user_conversations",
        columns: &[("org", "text"), ("user_id", "text"), ("conversation_id", "bigint")],
        partition_key: &["org", "user_id"],
        clustering: &[("conversation_id", false)],
        options: "",
    },
    Table {
        name: "direct_pairs",
        columns: &[
            ("org", "text"),
            ("user_low", "text"),
            ("user_high", "text"),
            ("conversation_id", "bigint"),
        ],
        partition_key: &["org", "user_low", "user_high"],
        clustering: &[],
        options: "",
    },
    Table {
        name: "self_conversations",
        columns: &[("org", "text"), ("user_id", "text"), ("conversation_id", "bigint")],
        partition_key: &["org", "user_id"],
        clustering: &[],
        options: "",
    },
    Table {
        name: "messages",
        columns: &[
            ("channel_id", "bigint"),
            ("bucket", "int"),
            ("message_id", "bigint"),
            ("sender", "text"),
            ("recipient", "text"),
            ("kind", "text"),
            ("data", "text"),
            ("ts_ms", "bigint"),
            ("parent_id", "bigint"),
            ("edited_at_ms", "bigint"),
            ("deleted", "boolean"),
            ("custom_fields", "map<text, text>"),
            ("client_msg_id", "text"),
            // The attachment's metadata as sent (MessagePack), for IMAGE/VIDEO/AUDIO/FILE.
            ("attachment", "blob"),
            // User ids mentioned, and @here/@all.
            ("mentions", "list<text>"),
            ("deleted_by", "text"),
            // Positions in the conversation's log: of the creation, and of the latest change.
            ("created_seq", "bigint"),
            ("seq", "bigint"),
        ],
        partition_key: &["channel_id", "bucket"],
        clustering: &[("message_id", true)],
        // Messages arrive in time order and are rarely rewritten: time-window compaction,
        // one window per bucket.
        options: "compaction = {'class': 'TimeWindowCompactionStrategy', \
                  'compaction_window_unit': 'DAYS', 'compaction_window_size': 10}",
    },
    Table {
        name: "message_buckets",
        columns: &[("channel_id", "bigint"), ("bucket", "int")],
        partition_key: &["channel_id"],
        clustering: &[("bucket", true)],
        options: "",
    },
    Table {
        name: "dedup",
        columns: &[
            ("channel_id", "bigint"),
            ("sender", "text"),
            ("client_msg_id", "text"),
            ("message_id", "bigint"),
        ],
        partition_key: &["channel_id", "sender", "client_msg_id"],
        clustering: &[],
        options: "default_time_to_live = 86400",
    },
    Table {
        name: "read_markers",
        columns: &[
            ("channel_id", "bigint"),
            ("user_id", "text"),
            ("message_id", "bigint"),
            ("seq", "bigint"),
            ("message_count", "bigint"),
        ],
        partition_key: &["channel_id"],
        clustering: &[("user_id", false)],
        options: "",
    },
    // The private messages to a member that their read marker has not passed yet.
    Table {
        name: "private_unread",
        columns: &[("channel_id", "bigint"), ("user_id", "text"), ("seq", "bigint")],
        partition_key: &["channel_id", "user_id"],
        clustering: &[("seq", false)],
        options: "",
    },
    Table {
        name: "attachments",
        columns: &[
            ("id", "bigint"),
            ("org", "text"),
            ("channel_id", "bigint"),
            ("uploader", "text"),
            ("filename", "text"),
            ("content_type", "text"),
            ("size", "bigint"),
            ("width", "int"),
            ("height", "int"),
            ("state", "text"),
            ("multipart", "text"),
            ("created_at_ms", "bigint"),
            ("expires_at_ms", "bigint"),
            ("message_id", "bigint"),
        ],
        partition_key: &["id"],
        clustering: &[],
        options: "",
    },
    // Pending uploads by deadline, for the sweeper; spread over a few partitions
    // (`shard` = id mod PENDING_SHARDS). A row lives only while its upload is pending.
    Table {
        name: "pending_uploads",
        columns: &[("shard", "int"), ("expires_at_ms", "bigint"), ("attachment_id", "bigint")],
        partition_key: &["shard"],
        clustering: &[("expires_at_ms", false), ("attachment_id", false)],
        options: "",
    },
    Table {
        name: "audit",
        columns: &[
            ("org", "text"),
            ("day", "int"),
            ("id", "bigint"),
            ("at_ms", "bigint"),
            ("actor", "text"),
            ("action", "text"),
            ("conversation_id", "bigint"),
            ("target", "text"),
            ("detail", "text"),
        ],
        partition_key: &["org", "day"],
        clustering: &[("id", true)],
        options: "",
    },
    // The change feed the search indexer follows: every message insert and update, by hour.
    Table {
        name: "message_changes",
        columns: &[
            ("hour", "int"),
            ("at_ms", "bigint"),
            ("channel_id", "bigint"),
            ("message_id", "bigint"),
        ],
        partition_key: &["hour"],
        clustering: &[("at_ms", false), ("channel_id", false), ("message_id", false)],
        options: "default_time_to_live = 604800",
    },
    // A user's notifications, newest first.
    Table {
        name: "notifications",
        columns: &[
            ("org", "text"),
            ("user_id", "text"),
            ("id", "bigint"),
            ("conversation_id", "bigint"),
            ("message_id", "bigint"),
            ("sender", "text"),
            ("reason", "text"),
            ("preview", "text"),
            ("created_at_ms", "bigint"),
            ("read", "boolean"),
        ],
        partition_key: &["org", "user_id"],
        clustering: &[("id", true)],
        options: "",
    },
    // Each conversation's log of message changes, by hour of position (microseconds), so
    // that a partition stays small however busy the conversation.
    Table {
        name: "conversation_log",
        columns: &[
            ("channel_id", "bigint"),
            ("hour", "int"),
            ("seq", "bigint"),
            ("prev", "bigint"),
            ("message_id", "bigint"),
            ("message_count", "bigint"),
            ("left_user", "text"),
            ("left_by", "text"),
        ],
        partition_key: &["channel_id", "hour"],
        clustering: &[("seq", false)],
        options: "",
    },
    // The hours in which a conversation's log has entries.
    Table {
        name: "log_hours",
        columns: &[("channel_id", "bigint"), ("hour", "int")],
        partition_key: &["channel_id"],
        clustering: &[("hour", false)],
        options: "",
    },
    // The newest log entry of each conversation, advanced by compare-and-set: what makes
    // positions follow commit order across controllers.
    Table {
        name: "log_heads",
        columns: &[
            ("channel_id", "bigint"),
            ("seq", "bigint"),
            ("prev", "bigint"),
            ("message_id", "bigint"),
            ("message_count", "bigint"),
            ("left_user", "text"),
            ("left_by", "text"),
        ],
        partition_key: &["channel_id"],
        clustering: &[],
        options: "",
    },
    Table {
        name: "schema_versions",
        columns: &[("name", "text"), ("version", "int"), ("applied_at_ms", "bigint")],
        partition_key: &["name"],
        clustering: &[],
        options: "",
    },
];

/// Partitions of `pending_uploads`.
pub const PENDING_SHARDS: i32 = 16;

/// The latest schema version.
pub const LATEST: i32 = 7;

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

/// One schema version: the statements that take the schema from the previous one to it.
pub struct Migration {
    pub version: i32,
    pub description: &'static str,
    pub statements: Vec<String>,
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
    let mut migrations =
        vec![Migration { version: 1, description: "the initial data model", statements: first }];
    for (version, description) in [
        (2, "attachments"),
        (3, "audit log"),
        (4, "message change feed"),
        (5, "mentions and notifications"),
        (6, "conversation logs"),
        (7, "unread counts and removals kept in the log"),
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
        migrations.push(Migration { version, description, statements });
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
