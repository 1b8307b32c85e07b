//! Every table of the data model (docs/data-model.md), as the schema has it now; which
//! version added each table and column is in the parent module.

use super::Table;

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
            ("custom_fields", "map<text, text>"),
            ("external_key", "text"),
            ("members_may_pin", "boolean"),
            ("slow_mode_seconds", "int"),
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
            ("timeout_until_ms", "bigint"),
            ("timeout_by", "text"),
            ("timeout_reason", "text"),
            ("last_post_ms", "bigint"),
        ],
        partition_key: &["conversation_id"],
        clustering: &[("user_id", false)],
        options: "",
    },
    // Each org's conversations, by id: what walks an org's conversations (retention) reads.
    Table {
        name: "org_conversations",
        columns: &[("org", "text"), ("id", "bigint")],
        partition_key: &["org"],
        clustering: &[("id", false)],
        options: "",
    },
    Table {
        name: "user_conversations",
        columns: &[("org", "text"), ("user_id", "text"), ("conversation_id", "bigint")],
        partition_key: &["org", "user_id"],
        clustering: &[("conversation_id", false)],
        options: "",
    },
    // Conversations linked to a business object (OpenLinked), by org and key.
    Table {
        name: "conversation_keys",
        columns: &[("org", "text"), ("external_key", "text"), ("conversation_id", "bigint")],
        partition_key: &["org", "external_key"],
        clustering: &[],
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
            // Who pinned it, and when (both null when it is not pinned).
            ("pinned_by", "text"),
            ("pinned_at_ms", "bigint"),
            // The reaction counts per emoji (MessagePack), kept by the reactions' flushes.
            ("reactions", "blob"),
            // A reply that shows only in its thread.
            ("thread_only", "boolean"),
            // On a thread's root: its replies' count and the newest, kept by its recounts.
            ("reply_count", "int"),
            ("last_reply_id", "bigint"),
            ("expires_at", "bigint"),
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
    // The audit entries naming each user (as actor or target), newest first.
    Table {
        name: "user_audit",
        columns: &[("org", "text"), ("user_id", "text"), ("id", "bigint"), ("day", "int")],
        partition_key: &["org", "user_id"],
        clustering: &[("id", true)],
        options: "",
    },
    // The files sent in each conversation, newest first.
    Table {
        name: "conversation_files",
        columns: &[("channel_id", "bigint"), ("attachment_id", "bigint")],
        partition_key: &["channel_id"],
        clustering: &[("attachment_id", true)],
        options: "",
    },
    // Each user's uploads, newest first.
    Table {
        name: "user_uploads",
        columns: &[("org", "text"), ("user_id", "text"), ("attachment_id", "bigint")],
        partition_key: &["org", "user_id"],
        clustering: &[("attachment_id", true)],
        options: "",
    },
    // Each user's messages, newest first (ids are unique across conversations).
    Table {
        name: "user_messages",
        columns: &[
            ("org", "text"),
            ("user_id", "text"),
            ("message_id", "bigint"),
            ("channel_id", "bigint"),
        ],
        partition_key: &["org", "user_id"],
        clustering: &[("message_id", true)],
        options: "",
    },
    // Each org's retention policy: its default (conversation 0) and conversations with their
    // own; days 0 keep messages forever.
    Table {
        name: "retention",
        columns: &[("org", "text"), ("conversation_id", "bigint"), ("days", "int")],
        partition_key: &["org"],
        clustering: &[("conversation_id", false)],
        options: "",
    },
    // Messages that expire, by hour of expiry, for the retention sweep (with what it needs
    // once a TTL removed the message: its org, attachment, sender and recipient).
    Table {
        name: "expiring",
        columns: &[
            ("hour", "bigint"),
            ("expires_at", "bigint"),
            ("channel_id", "bigint"),
            ("message_id", "bigint"),
            ("org", "text"),
            ("attachment_id", "bigint"),
            ("sender", "text"),
            ("recipient", "text"),
        ],
        partition_key: &["hour"],
        clustering: &[("expires_at", false), ("channel_id", false), ("message_id", false)],
        options: "",
    },
    // How far a sweep got: the retention sweep's first hour of `expiring` not yet emptied.
    Table {
        name: "expiry_sweeps",
        columns: &[("name", "text"), ("hour", "bigint")],
        partition_key: &["name"],
        clustering: &[],
        options: "",
    },
    // Each org's background jobs, newest first: the job as MessagePack, and its lease.
    Table {
        name: "jobs",
        columns: &[
            ("org", "text"),
            ("id", "bigint"),
            ("body", "blob"),
            ("lease_owner", "text"),
            ("lease_until_ms", "bigint"),
        ],
        partition_key: &["org"],
        clustering: &[("id", true)],
        options: "",
    },
    // The unfinished jobs of every org, in one partition (there are few at a time).
    Table {
        name: "open_jobs",
        columns: &[("shard", "int"), ("id", "bigint"), ("org", "text")],
        partition_key: &["shard"],
        clustering: &[("id", false)],
        options: "",
    },
    // Finished exports' archives, by when they are removed, in one partition (there are
    // few: one per export, for a week).
    Table {
        name: "archive_expiries",
        columns: &[("shard", "int"), ("expires_at", "bigint"), ("id", "bigint"), ("org", "text")],
        partition_key: &["shard"],
        clustering: &[("expires_at", false), ("id", false)],
        options: "",
    },
    // Who does a duty one controller does at a time (a sweep), until when (few rows: one
    // per duty).
    Table {
        name: "duty_leases",
        columns: &[("name", "text"), ("owner", "text"), ("until_ms", "bigint")],
        partition_key: &["name"],
        clustering: &[],
        options: "",
    },
    // Each user's devices (the address as MessagePack: a token, or a Web Push subscription).
    Table {
        name: "devices",
        columns: &[
            ("org", "text"),
            ("user_id", "text"),
            ("device_id", "bigint"),
            ("platform", "text"),
            ("address", "blob"),
            ("app_id", "text"),
            ("locale", "text"),
            ("registered_at_ms", "bigint"),
        ],
        partition_key: &["org", "user_id"],
        clustering: &[("device_id", false)],
        options: "",
    },
    // Whose each device is: one account per device at a time.
    Table {
        name: "device_owners",
        columns: &[("device_id", "bigint"), ("org", "text"), ("user_id", "text")],
        partition_key: &["device_id"],
        clustering: &[],
        options: "",
    },
    // Each team's and channel's bans.
    Table {
        name: "timeouts",
        columns: &[
            ("conversation_id", "bigint"),
            ("user_id", "text"),
            ("until_ms", "bigint"),
            ("timed_out_by", "text"),
            ("reason", "text"),
        ],
        partition_key: &["conversation_id"],
        clustering: &[("user_id", false)],
        options: "",
    },
    Table {
        name: "filters",
        columns: &[
            ("org", "text"),
            ("filter_id", "bigint"),
            ("kind", "text"),
            ("pattern", "text"),
            ("action", "text"),
            ("created_by", "text"),
            ("created_at_ms", "bigint"),
        ],
        partition_key: &["org"],
        clustering: &[("filter_id", false)],
        options: "",
    },
    Table {
        name: "suspensions",
        columns: &[
            ("org", "text"),
            ("user_id", "text"),
            ("suspended_by", "text"),
            ("suspended_at_ms", "bigint"),
            ("reason", "text"),
        ],
        partition_key: &["org"],
        clustering: &[("user_id", false)],
        options: "",
    },
    Table {
        name: "bans",
        columns: &[
            ("conversation_id", "bigint"),
            ("user_id", "text"),
            ("banned_by", "text"),
            ("banned_at_ms", "bigint"),
            ("reason", "text"),
        ],
        partition_key: &["conversation_id"],
        clustering: &[("user_id", false)],
        options: "",
    },
    // Each team's and channel's reports of messages, newest first.
    Table {
        name: "reports",
        columns: &[
            ("conversation_id", "bigint"),
            ("report_id", "bigint"),
            ("message_id", "bigint"),
            ("reporter", "text"),
            ("reason", "text"),
            ("author", "text"),
            ("text", "text"),
            ("state", "text"),
            ("handled_by", "text"),
            ("handled_at_ms", "bigint"),
        ],
        partition_key: &["conversation_id"],
        clustering: &[("report_id", true)],
        options: "",
    },
    // Each user's push preferences.
    Table {
        name: "push_settings",
        columns: &[
            ("org", "text"),
            ("user_id", "text"),
            ("level", "text"),
            ("quiet_start_minute", "int"),
            ("quiet_end_minute", "int"),
        ],
        partition_key: &["org", "user_id"],
        clustering: &[],
        options: "",
    },
    // Each thread's replies (deleted ones removed).
    Table {
        name: "thread_replies",
        columns: &[("channel_id", "bigint"), ("root_id", "bigint"), ("reply_id", "bigint")],
        partition_key: &["channel_id", "root_id"],
        clustering: &[("reply_id", false)],
        options: "",
    },
    // Who follows each thread (or did), and how far each has read it.
    Table {
        name: "thread_follows",
        columns: &[
            ("channel_id", "bigint"),
            ("root_id", "bigint"),
            ("user_id", "text"),
            ("following", "boolean"),
            ("read_up_to", "bigint"),
            ("unfollowed", "boolean"),
        ],
        partition_key: &["channel_id", "root_id"],
        clustering: &[("user_id", false)],
        options: "",
    },
    // The threads each user follows, the one with the newest reply first.
    Table {
        name: "user_threads",
        columns: &[
            ("org", "text"),
            ("user_id", "text"),
            ("activity", "bigint"),
            ("channel_id", "bigint"),
            ("root_id", "bigint"),
        ],
        partition_key: &["org", "user_id"],
        clustering: &[("activity", true), ("channel_id", false), ("root_id", false)],
        options: "",
    },
    // Each message's reactions, by emoji and user.
    Table {
        name: "reactions",
        columns: &[
            ("channel_id", "bigint"),
            ("message_id", "bigint"),
            ("emoji", "text"),
            ("user_id", "text"),
            ("at_ms", "bigint"),
        ],
        partition_key: &["channel_id", "message_id"],
        clustering: &[("emoji", false), ("user_id", false)],
        options: "",
    },
    // Each user's reactions in a conversation, by message: "did I react" for a page.
    Table {
        name: "user_reactions",
        columns: &[
            ("channel_id", "bigint"),
            ("user_id", "text"),
            ("message_id", "bigint"),
            ("emoji", "text"),
        ],
        partition_key: &["channel_id", "user_id"],
        clustering: &[("message_id", false), ("emoji", false)],
        options: "",
    },
    // Each conversation's pinned messages (a bounded number).
    Table {
        name: "pins",
        columns: &[
            ("channel_id", "bigint"),
            ("message_id", "bigint"),
            ("pinned_by", "text"),
            ("pinned_at_ms", "bigint"),
        ],
        partition_key: &["channel_id"],
        clustering: &[("message_id", true)],
        options: "",
    },
    // Edited messages' earlier texts, newest first; a delete removes the partition.
    Table {
        name: "message_versions",
        columns: &[
            ("channel_id", "bigint"),
            ("message_id", "bigint"),
            ("seq", "bigint"),
            ("data", "text"),
            ("written_at_ms", "bigint"),
            ("replaced_at_ms", "bigint"),
        ],
        partition_key: &["channel_id", "message_id"],
        clustering: &[("seq", true)],
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
    // Who was notified of each message, and which of their notifications it is.
    Table {
        name: "message_notifications",
        columns: &[
            ("channel_id", "bigint"),
            ("message_id", "bigint"),
            ("user_id", "text"),
            ("org", "text"),
            ("notification_id", "bigint"),
        ],
        partition_key: &["channel_id", "message_id"],
        clustering: &[("user_id", false)],
        options: "",
    },
    // Each message's reports (their ids), so that its expiry finds them.
    Table {
        name: "message_reports",
        columns: &[
            ("conversation_id", "bigint"),
            ("message_id", "bigint"),
            ("report_id", "bigint"),
        ],
        partition_key: &["conversation_id", "message_id"],
        clustering: &[("report_id", false)],
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
    // What each user says of their availability, and when they were last seen.
    Table {
        name: "user_status",
        columns: &[
            ("org", "text"),
            ("user_id", "text"),
            ("availability", "text"),
            ("status_text", "text"),
            ("last_seen_ms", "bigint"),
        ],
        partition_key: &["org", "user_id"],
        clustering: &[],
        options: "",
    },
    // Each user's profile in an org, written whole.
    Table {
        name: "profiles",
        columns: &[
            ("org", "text"),
            ("user_id", "text"),
            ("display_name", "text"),
            ("title", "text"),
            ("bio", "text"),
            ("time_zone", "text"),
            ("custom_fields", "map<text, text>"),
            ("email", "text"),
            ("phone", "text"),
            ("updated_at_ms", "bigint"),
            ("avatar_id", "bigint"),
        ],
        partition_key: &["org", "user_id"],
        clustering: &[],
        options: "",
    },
    // The directory: per org and first character of the term, each profile's entries.
    Table {
        name: "directory",
        columns: &[
            ("org", "text"),
            ("bucket", "text"),
            ("term", "text"),
            ("user_id", "text"),
            ("display_name", "text"),
            ("title", "text"),
        ],
        partition_key: &["org", "bucket"],
        clustering: &[("term", false), ("user_id", false)],
        options: "",
    },
    // Each user's contacts, whom they block, and who blocks them (written with each block).
    relation_table("contacts"),
    relation_table("blocks"),
    relation_table("blocked_by"),
    Table {
        name: "schema_versions",
        columns: &[("name", "text"), ("version", "int"), ("applied_at_ms", "bigint")],
        partition_key: &["name"],
        clustering: &[],
        options: "",
    },
];

/// A list a user keeps of other users of their org, by the other user, with when each was
/// added.
const fn relation_table(name: &'static str) -> Table {
    Table {
        name,
        columns: &[
            ("org", "text"),
            ("user_id", "text"),
            ("other", "text"),
            ("added_at_ms", "bigint"),
        ],
        partition_key: &["org", "user_id"],
        clustering: &[("other", false)],
        options: "",
    }
}
