//! Every CQL statement the engine runs, prepared once at start-up. `{ks}` stands for the
//! keyspace. Each reads or writes one partition (the unit tests check it against the
//! schema); the `IF` conditions are lightweight transactions, used only where concurrent
//! controllers could race.

pub(super) const STATEMENTS: &[(&str, &str)] = &[
    (
        "conversation_insert",
        "INSERT INTO {ks}.conversations (id, org, kind, name, icon, archived, meta_tags, owner, created_at_ms, restricted, visibility) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    ),
    (
        "conversation_get",
        "SELECT id, org, kind, name, icon, archived, meta_tags, owner, created_at_ms, restricted, visibility FROM {ks}.conversations WHERE id = ?",
    ),
    (
        "conversation_update",
        "UPDATE {ks}.conversations SET name = ?, icon = ?, meta_tags = ?, restricted = ?, archived = ? WHERE id = ?",
    ),
    ("conversation_set_owner", "UPDATE {ks}.conversations SET owner = ? WHERE id = ? IF owner = ?"),
    (
        "member_count_add",
        "UPDATE {ks}.member_counts SET members = members + ? WHERE conversation_id = ?",
    ),
    ("member_count_get", "SELECT members FROM {ks}.member_counts WHERE conversation_id = ?"),
    (
        "member_insert",
        "INSERT INTO {ks}.members (conversation_id, user_id, role, joined_at_ms, muted, joined_seq, joined_count) VALUES (?, ?, ?, ?, ?, ?, ?)",
    ),
    (
        "member_insert_new",
        "INSERT INTO {ks}.members (conversation_id, user_id, role, joined_at_ms, muted, joined_seq, joined_count) VALUES (?, ?, ?, ?, ?, ?, ?) IF NOT EXISTS",
    ),
    (
        "member_get",
        "SELECT user_id, role, joined_at_ms, muted, joined_seq, joined_count FROM {ks}.members WHERE conversation_id = ? AND user_id = ?",
    ),
    (
        "member_list",
        "SELECT user_id, role, joined_at_ms, muted, joined_seq, joined_count FROM {ks}.members WHERE conversation_id = ? AND user_id > ? LIMIT ?",
    ),
    (
        "member_delete",
        "DELETE FROM {ks}.members WHERE conversation_id = ? AND user_id = ? IF EXISTS",
    ),
    (
        "member_set_role",
        "UPDATE {ks}.members SET role = ? WHERE conversation_id = ? AND user_id = ? IF role = ?",
    ),
    (
        "user_conversation_insert",
        "INSERT INTO {ks}.user_conversations (org, user_id, conversation_id) VALUES (?, ?, ?)",
    ),
    (
        "user_conversation_delete",
        "DELETE FROM {ks}.user_conversations WHERE org = ? AND user_id = ? AND conversation_id = ?",
    ),
    (
        "user_conversation_list",
        "SELECT conversation_id FROM {ks}.user_conversations WHERE org = ? AND user_id = ? AND conversation_id > ? LIMIT ?",
    ),
    (
        "direct_pair_claim",
        "INSERT INTO {ks}.direct_pairs (org, user_low, user_high, conversation_id) VALUES (?, ?, ?, ?) IF NOT EXISTS",
    ),
    (
        "self_claim",
        "INSERT INTO {ks}.self_conversations (org, user_id, conversation_id) VALUES (?, ?, ?) IF NOT EXISTS",
    ),
    (
        "message_insert",
        "INSERT INTO {ks}.messages (channel_id, bucket, message_id, sender, recipient, kind, data, ts_ms, parent_id, edited_at_ms, deleted, custom_fields, client_msg_id, attachment, mentions) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    ),
    (
        "message_get",
        "SELECT channel_id, message_id, sender, recipient, kind, data, ts_ms, parent_id, edited_at_ms, deleted, custom_fields, client_msg_id, attachment, mentions, deleted_by, created_seq, seq FROM {ks}.messages WHERE channel_id = ? AND bucket = ? AND message_id = ?",
    ),
    (
        "message_update",
        "UPDATE {ks}.messages SET data = ?, edited_at_ms = ?, deleted = ?, custom_fields = ?, attachment = ?, mentions = ?, deleted_by = ?, seq = ? WHERE channel_id = ? AND bucket = ? AND message_id = ?",
    ),
    (
        "message_logged",
        "UPDATE {ks}.messages SET created_seq = ?, seq = ? WHERE channel_id = ? AND bucket = ? AND message_id = ?",
    ),
    (
        "log_head_get",
        "SELECT seq, prev, message_id, message_count, left_user, left_by FROM {ks}.log_heads WHERE channel_id = ?",
    ),
    (
        "log_head_create",
        "INSERT INTO {ks}.log_heads (channel_id, seq, prev, message_id, message_count, left_user, left_by) VALUES (?, ?, ?, ?, ?, ?, ?) IF NOT EXISTS",
    ),
    (
        "log_head_advance",
        "UPDATE {ks}.log_heads SET seq = ?, prev = ?, message_id = ?, message_count = ?, left_user = ?, left_by = ? WHERE channel_id = ? IF seq = ?",
    ),
    (
        "log_insert",
        "INSERT INTO {ks}.conversation_log (channel_id, hour, seq, prev, message_id, message_count, left_user, left_by) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
    ),
    ("log_hour_insert", "INSERT INTO {ks}.log_hours (channel_id, hour) VALUES (?, ?)"),
    ("log_hour_range_from", "SELECT hour FROM {ks}.log_hours WHERE channel_id = ? AND hour >= ?"),
    (
        "log_entry_get",
        "SELECT seq, prev, message_id, message_count, left_user, left_by FROM {ks}.conversation_log WHERE channel_id = ? AND hour = ? AND seq = ?",
    ),
    (
        "log_range_after",
        "SELECT seq, prev, message_id, message_count, left_user, left_by FROM {ks}.conversation_log WHERE channel_id = ? AND hour = ? AND seq > ? LIMIT ?",
    ),
    (
        "message_range_desc",
        "SELECT channel_id, message_id, sender, recipient, kind, data, ts_ms, parent_id, edited_at_ms, deleted, custom_fields, client_msg_id, attachment, mentions, deleted_by, created_seq, seq FROM {ks}.messages WHERE channel_id = ? AND bucket = ? AND message_id >= ? AND message_id <= ? ORDER BY message_id DESC LIMIT ?",
    ),
    (
        "message_range_asc",
        "SELECT channel_id, message_id, sender, recipient, kind, data, ts_ms, parent_id, edited_at_ms, deleted, custom_fields, client_msg_id, attachment, mentions, deleted_by, created_seq, seq FROM {ks}.messages WHERE channel_id = ? AND bucket = ? AND message_id >= ? AND message_id <= ? ORDER BY message_id ASC LIMIT ?",
    ),
    ("bucket_insert", "INSERT INTO {ks}.message_buckets (channel_id, bucket) VALUES (?, ?)"),
    (
        "bucket_range_desc",
        "SELECT bucket FROM {ks}.message_buckets WHERE channel_id = ? AND bucket >= ? AND bucket <= ? ORDER BY bucket DESC",
    ),
    (
        "bucket_range_asc",
        "SELECT bucket FROM {ks}.message_buckets WHERE channel_id = ? AND bucket >= ? AND bucket <= ? ORDER BY bucket ASC",
    ),
    (
        "dedup_claim",
        "INSERT INTO {ks}.dedup (channel_id, sender, client_msg_id, message_id) VALUES (?, ?, ?, ?) IF NOT EXISTS",
    ),
    (
        "read_marker_create",
        "INSERT INTO {ks}.read_markers (channel_id, user_id, message_id, seq, message_count) VALUES (?, ?, ?, ?, ?) IF NOT EXISTS",
    ),
    (
        "read_marker_advance",
        "UPDATE {ks}.read_markers SET message_id = ?, seq = ?, message_count = ? WHERE channel_id = ? AND user_id = ? IF seq < ?",
    ),
    // A marker written before markers had a place in the log (schema version 7) has none.
    (
        "read_marker_advance_unplaced",
        "UPDATE {ks}.read_markers SET message_id = ?, seq = ?, message_count = ? WHERE channel_id = ? AND user_id = ? IF seq = null",
    ),
    (
        "private_unread_insert",
        "INSERT INTO {ks}.private_unread (channel_id, user_id, seq) VALUES (?, ?, ?)",
    ),
    (
        "private_unread_forget",
        "DELETE FROM {ks}.private_unread WHERE channel_id = ? AND user_id = ? AND seq <= ?",
    ),
    (
        "private_unread_after",
        "SELECT seq FROM {ks}.private_unread WHERE channel_id = ? AND user_id = ? AND seq > ? LIMIT ?",
    ),
    ("read_marker_list", "SELECT user_id, message_id FROM {ks}.read_markers WHERE channel_id = ?"),
    (
        "attachment_insert",
        "INSERT INTO {ks}.attachments (id, org, channel_id, uploader, filename, content_type, size, width, height, state, multipart, created_at_ms, expires_at_ms, message_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    ),
    (
        "attachment_get",
        "SELECT id, org, channel_id, uploader, filename, content_type, size, width, height, state, multipart, created_at_ms, expires_at_ms, message_id FROM {ks}.attachments WHERE id = ?",
    ),
    (
        "attachment_claim",
        "UPDATE {ks}.attachments SET message_id = ? WHERE id = ? IF message_id = null",
    ),
    (
        "pending_insert",
        "INSERT INTO {ks}.pending_uploads (shard, expires_at_ms, attachment_id) VALUES (?, ?, ?)",
    ),
    (
        "pending_delete",
        "DELETE FROM {ks}.pending_uploads WHERE shard = ? AND expires_at_ms = ? AND attachment_id = ?",
    ),
    (
        "pending_list",
        "SELECT attachment_id FROM {ks}.pending_uploads WHERE shard = ? AND expires_at_ms < ? LIMIT ?",
    ),
    (
        "audit_insert",
        "INSERT INTO {ks}.audit (org, day, id, at_ms, actor, action, conversation_id, target, detail) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
    ),
    (
        "audit_list",
        "SELECT id, org, at_ms, actor, action, conversation_id, target, detail FROM {ks}.audit WHERE org = ? AND day = ? AND id < ? ORDER BY id DESC LIMIT ?",
    ),
    (
        "change_insert",
        "INSERT INTO {ks}.message_changes (hour, at_ms, channel_id, message_id) VALUES (?, ?, ?, ?)",
    ),
    (
        "change_list_from",
        "SELECT at_ms, channel_id, message_id FROM {ks}.message_changes WHERE hour = ? LIMIT ?",
    ),
    (
        "change_list_after",
        "SELECT at_ms, channel_id, message_id FROM {ks}.message_changes WHERE hour = ? AND (at_ms, channel_id, message_id) > (?, ?, ?) LIMIT ?",
    ),
    (
        "member_mute",
        "UPDATE {ks}.members SET muted = ? WHERE conversation_id = ? AND user_id = ? IF EXISTS",
    ),
    (
        "read_marker_get",
        "SELECT message_id, seq, message_count FROM {ks}.read_markers WHERE channel_id = ? AND user_id = ?",
    ),
    (
        "notification_insert",
        "INSERT INTO {ks}.notifications (org, user_id, id, conversation_id, message_id, sender, reason, preview, created_at_ms, read) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    ),
    (
        "notification_list",
        "SELECT id, org, user_id, conversation_id, message_id, sender, reason, preview, created_at_ms, read FROM {ks}.notifications WHERE org = ? AND user_id = ? AND id < ? ORDER BY id DESC LIMIT ?",
    ),
    ("schema_version_get", "SELECT version FROM {ks}.schema_versions WHERE name = ?"),
    (
        "schema_version_set",
        "INSERT INTO {ks}.schema_versions (name, version, applied_at_ms) VALUES (?, ?, ?)",
    ),
];

/// The statement named `name`, for `keyspace`.
pub(super) fn cql(name: &str, keyspace: &str) -> String {
    let (_, text) = STATEMENTS
        .iter()
        .find(|(n, _)| *n == name)
        .unwrap_or_else(|| panic!("no statement named {name}"));
    text.replace("{ks}", keyspace)
}

#[cfg(test)]
mod tests {
    //! Each statement, read against the schema: its table exists, every column it names is
    //! a column of that table, and its WHERE (if any) pins every partition key column with
    //! `=`, so it touches exactly one partition.

    use super::super::schema::table;
    use super::*;

    /// The identifiers of a CQL fragment (words that are not keywords, values or `?`).
    fn identifiers(fragment: &str) -> Vec<String> {
        const KEYWORDS: &[&str] = &[
            "AND", "IF", "NOT", "EXISTS", "null", "LIMIT", "ORDER", "BY", "DESC", "ASC", "SET",
            "VALUES",
        ];
        fragment
            .split(|c: char| !(c.is_alphanumeric() || c == '_'))
            .filter(|w| {
                !w.is_empty() && !KEYWORDS.contains(w) && !w.chars().all(|c| c.is_ascii_digit())
            })
            .map(String::from)
            .collect()
    }

    fn parts(text: &str) -> (String, String, String) {
        let text = text.replace("{ks}.", "");
        let (head, rest) = if let Some(i) = text.find(" FROM ") {
            (text[..i].to_string(), text[i + 6..].to_string())
        } else if let Some(rest) = text.strip_prefix("INSERT INTO ") {
            (String::new(), rest.to_string())
        } else if let Some(rest) = text.strip_prefix("UPDATE ") {
            (String::new(), rest.to_string())
        } else {
            panic!("unexpected statement {text}");
        };
        let table = rest.split([' ', '(']).next().unwrap().to_string();
        let where_ = rest.split_once(" WHERE ").map(|(_, w)| w.to_string()).unwrap_or_default();
        let columns =
            format!("{head} {}", rest.split_once(" WHERE ").map_or(rest.as_str(), |(c, _)| c));
        let columns = columns.replace(&table, "");
        (table, columns, where_)
    }

    #[test]
    fn every_statement_names_real_columns_and_one_partition() {
        for (name, text) in STATEMENTS {
            let (table_name, columns, where_) = parts(text);
            let table =
                table(&table_name).unwrap_or_else(|| panic!("{name}: no table {table_name}"));
            let known = |c: &str| table.columns.iter().any(|(col, _)| *col == c);
            for word in identifiers(&columns).iter().chain(identifiers(&where_).iter()) {
                let word = word.as_str();
                if ["SELECT", "INSERT", "INTO", "UPDATE", "DELETE"].contains(&word) {
                    continue;
                }
                assert!(known(word), "{name}: `{word}` is not a column of {table_name}");
            }
            if !where_.is_empty() {
                for key in table.partition_key {
                    assert!(
                        where_.contains(&format!("{key} = ?")),
                        "{name}: WHERE does not pin partition key `{key}`"
                    );
                }
            } else if !text.starts_with("INSERT") {
                panic!("{name}: reads or changes rows without naming a partition");
            }
        }
    }

    #[test]
    fn inserts_bind_every_listed_column() {
        for (name, text) in STATEMENTS.iter().filter(|(_, t)| t.starts_with("INSERT")) {
            let columns =
                text.split_once('(').unwrap().1.split_once(')').unwrap().0.split(", ").count();
            let binds = text.split_once("VALUES").unwrap().1.matches('?').count();
            assert_eq!(columns, binds, "{name}");
        }
    }
}
