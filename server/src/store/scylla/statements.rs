//! Every CQL statement the engine runs, prepared once at start-up. `{ks}` stands for the
//! keyspace. Each reads or writes one partition (the unit tests check it against the
//! schema); the `IF` conditions are lightweight transactions, used only where concurrent
//! controllers could race.

/// Declares [`Statement`]: one variant per statement, with its CQL.
macro_rules! statements {
    ($($(#[$doc:meta])* $name:ident = $cql:literal,)*) => {
        /// Every CQL statement the engine runs.
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub(super) enum Statement {
            $($(#[$doc])* $name,)*
        }

        impl Statement {
            /// Every statement, in declaration order (`statement as usize` is its index).
            pub(super) const ALL: &[Statement] = &[$(Statement::$name,)*];

            /// The statement's CQL, with `{ks}` standing for the keyspace.
            fn template(self) -> &'static str {
                match self {
                    $(Statement::$name => $cql,)*
                }
            }
        }
    };
}

statements! {
    ConversationInsert = "INSERT INTO {ks}.conversations (id, org, kind, name, icon, archived, meta_tags, owner, created_at_ms, restricted, visibility, custom_fields, external_key, members_may_pin, slow_mode_seconds) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    ConversationGet = "SELECT id, org, kind, name, icon, archived, meta_tags, owner, created_at_ms, restricted, visibility, custom_fields, external_key, members_may_pin, slow_mode_seconds FROM {ks}.conversations WHERE id = ?",
    ConversationUpdate = "UPDATE {ks}.conversations SET name = ?, icon = ?, meta_tags = ?, restricted = ?, archived = ?, custom_fields = ?, members_may_pin = ?, slow_mode_seconds = ? WHERE id = ?",
    ConversationSetOwner = "UPDATE {ks}.conversations SET owner = ? WHERE id = ? IF owner = ?",
    MemberCountAdd = "UPDATE {ks}.member_counts SET members = members + ? WHERE conversation_id = ?",
    MemberCountGet = "SELECT members FROM {ks}.member_counts WHERE conversation_id = ?",
    MemberInsert = "INSERT INTO {ks}.members (conversation_id, user_id, role, joined_at_ms, muted, joined_seq, joined_count, timeout_until_ms, timeout_by, timeout_reason, last_post_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    MemberInsertNew = "INSERT INTO {ks}.members (conversation_id, user_id, role, joined_at_ms, muted, joined_seq, joined_count, timeout_until_ms, timeout_by, timeout_reason, last_post_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) IF NOT EXISTS",
    MemberGet = "SELECT user_id, role, joined_at_ms, muted, joined_seq, joined_count, timeout_until_ms, timeout_by, timeout_reason, last_post_ms FROM {ks}.members WHERE conversation_id = ? AND user_id = ?",
    MemberList = "SELECT user_id, role, joined_at_ms, muted, joined_seq, joined_count, timeout_until_ms, timeout_by, timeout_reason, last_post_ms FROM {ks}.members WHERE conversation_id = ? AND user_id > ? LIMIT ?",
    MemberDelete = "DELETE FROM {ks}.members WHERE conversation_id = ? AND user_id = ? IF EXISTS",
    MemberSetRole = "UPDATE {ks}.members SET role = ? WHERE conversation_id = ? AND user_id = ? IF role = ?",
    OrgConversationInsert = "INSERT INTO {ks}.org_conversations (org, id) VALUES (?, ?)",
    OrgConversationList = "SELECT id FROM {ks}.org_conversations WHERE org = ? AND id > ? LIMIT ?",
    UserConversationInsert = "INSERT INTO {ks}.user_conversations (org, user_id, conversation_id) VALUES (?, ?, ?)",
    UserConversationDelete = "DELETE FROM {ks}.user_conversations WHERE org = ? AND user_id = ? AND conversation_id = ?",
    UserConversationList = "SELECT conversation_id FROM {ks}.user_conversations WHERE org = ? AND user_id = ? AND conversation_id > ? LIMIT ?",
    LinkClaim = "INSERT INTO {ks}.conversation_keys (org, external_key, conversation_id) VALUES (?, ?, ?) IF NOT EXISTS",
    LinkGet = "SELECT conversation_id FROM {ks}.conversation_keys WHERE org = ? AND external_key = ?",
    DirectPairClaim = "INSERT INTO {ks}.direct_pairs (org, user_low, user_high, conversation_id) VALUES (?, ?, ?, ?) IF NOT EXISTS",
    SelfClaim = "INSERT INTO {ks}.self_conversations (org, user_id, conversation_id) VALUES (?, ?, ?) IF NOT EXISTS",
    MessageInsert = "INSERT INTO {ks}.messages (channel_id, bucket, message_id, sender, recipient, kind, data, ts_ms, parent_id, edited_at_ms, deleted, custom_fields, client_msg_id, attachment, mentions) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) USING TTL ?",
    MessageGet = "SELECT channel_id, message_id, sender, recipient, kind, data, ts_ms, parent_id, edited_at_ms, deleted, custom_fields, client_msg_id, attachment, mentions, deleted_by, created_seq, seq, pinned_by, pinned_at_ms, reactions, thread_only, reply_count, last_reply_id, expires_at FROM {ks}.messages WHERE channel_id = ? AND bucket = ? AND message_id = ?",
    MessageUpdate = "UPDATE {ks}.messages USING TTL ? SET data = ?, edited_at_ms = ?, deleted = ?, custom_fields = ?, attachment = ?, mentions = ?, deleted_by = ?, seq = ? WHERE channel_id = ? AND bucket = ? AND message_id = ?",
    MessageSetPin = "UPDATE {ks}.messages USING TTL ? SET pinned_by = ?, pinned_at_ms = ?, seq = ? WHERE channel_id = ? AND bucket = ? AND message_id = ?",
    MessageSetThread = "UPDATE {ks}.messages USING TTL ? SET reply_count = ?, last_reply_id = ?, seq = ? WHERE channel_id = ? AND bucket = ? AND message_id = ?",
    ThreadReplyInsert = "INSERT INTO {ks}.thread_replies (channel_id, root_id, reply_id) VALUES (?, ?, ?) USING TTL ?",
    ThreadReplyDelete = "DELETE FROM {ks}.thread_replies WHERE channel_id = ? AND root_id = ? AND reply_id = ?",
    ThreadReplyRangeDesc = "SELECT reply_id FROM {ks}.thread_replies WHERE channel_id = ? AND root_id = ? AND reply_id >= ? AND reply_id <= ? ORDER BY reply_id DESC LIMIT ?",
    ThreadReplyRangeAsc = "SELECT reply_id FROM {ks}.thread_replies WHERE channel_id = ? AND root_id = ? AND reply_id >= ? AND reply_id <= ? ORDER BY reply_id ASC LIMIT ?",
    ThreadReplyCount = "SELECT COUNT(reply_id) FROM {ks}.thread_replies WHERE channel_id = ? AND root_id = ?",
    ThreadReplyNewest = "SELECT reply_id FROM {ks}.thread_replies WHERE channel_id = ? AND root_id = ? ORDER BY reply_id DESC LIMIT 1",
    ThreadReplyAfter = "SELECT reply_id FROM {ks}.thread_replies WHERE channel_id = ? AND root_id = ? AND reply_id > ? LIMIT ?",
    ThreadFollowGet = "SELECT user_id, following, read_up_to, unfollowed FROM {ks}.thread_follows WHERE channel_id = ? AND root_id = ? AND user_id = ?",
    ThreadFollowList = "SELECT user_id, following, read_up_to, unfollowed FROM {ks}.thread_follows WHERE channel_id = ? AND root_id = ?",
    ThreadFollowPut = "INSERT INTO {ks}.thread_follows (channel_id, root_id, user_id, following, read_up_to, unfollowed) VALUES (?, ?, ?, ?, ?, ?)",
    UserThreadInsert = "INSERT INTO {ks}.user_threads (org, user_id, activity, channel_id, root_id) VALUES (?, ?, ?, ?, ?)",
    UserThreadDelete = "DELETE FROM {ks}.user_threads WHERE org = ? AND user_id = ? AND activity = ? AND channel_id = ? AND root_id = ?",
    UserThreadList = "SELECT activity, channel_id, root_id FROM {ks}.user_threads WHERE org = ? AND user_id = ? AND activity < ? LIMIT ?",
    MessageSetReactions = "UPDATE {ks}.messages USING TTL ? SET reactions = ?, seq = ? WHERE channel_id = ? AND bucket = ? AND message_id = ?",
    ReactionGet = "SELECT at_ms FROM {ks}.reactions WHERE channel_id = ? AND message_id = ? AND emoji = ? AND user_id = ?",
    ReactionInsert = "INSERT INTO {ks}.reactions (channel_id, message_id, emoji, user_id, at_ms) VALUES (?, ?, ?, ?, ?)",
    ReactionDelete = "DELETE FROM {ks}.reactions WHERE channel_id = ? AND message_id = ? AND emoji = ? AND user_id = ?",
    ReactionList = "SELECT emoji, user_id, at_ms FROM {ks}.reactions WHERE channel_id = ? AND message_id = ?",
    UserReactionInsert = "INSERT INTO {ks}.user_reactions (channel_id, user_id, message_id, emoji) VALUES (?, ?, ?, ?)",
    UserReactionDelete = "DELETE FROM {ks}.user_reactions WHERE channel_id = ? AND user_id = ? AND message_id = ? AND emoji = ?",
    UserReactionRange = "SELECT message_id, emoji FROM {ks}.user_reactions WHERE channel_id = ? AND user_id = ? AND message_id >= ? AND message_id <= ?",
    PinInsert = "INSERT INTO {ks}.pins (channel_id, message_id, pinned_by, pinned_at_ms) VALUES (?, ?, ?, ?)",
    PinDelete = "DELETE FROM {ks}.pins WHERE channel_id = ? AND message_id = ?",
    PinList = "SELECT message_id, pinned_by, pinned_at_ms FROM {ks}.pins WHERE channel_id = ?",
    VersionInsert = "INSERT INTO {ks}.message_versions (channel_id, message_id, seq, data, written_at_ms, replaced_at_ms) VALUES (?, ?, ?, ?, ?, ?) USING TTL ?",
    VersionsDelete = "DELETE FROM {ks}.message_versions WHERE channel_id = ? AND message_id = ?",
    VersionRange = "SELECT seq, data, written_at_ms, replaced_at_ms FROM {ks}.message_versions WHERE channel_id = ? AND message_id = ? AND seq < ? LIMIT ?",
    MessageLogged = "UPDATE {ks}.messages USING TTL ? SET created_seq = ?, seq = ?, thread_only = ?, expires_at = ? WHERE channel_id = ? AND bucket = ? AND message_id = ?",
    LogHeadGet = "SELECT seq, prev, message_id, message_count, left_user, left_by FROM {ks}.log_heads WHERE channel_id = ?",
    LogHeadCreate = "INSERT INTO {ks}.log_heads (channel_id, seq, prev, message_id, message_count, left_user, left_by) VALUES (?, ?, ?, ?, ?, ?, ?) IF NOT EXISTS",
    LogHeadAdvance = "UPDATE {ks}.log_heads SET seq = ?, prev = ?, message_id = ?, message_count = ?, left_user = ?, left_by = ? WHERE channel_id = ? IF seq = ?",
    LogInsert = "INSERT INTO {ks}.conversation_log (channel_id, hour, seq, prev, message_id, message_count, left_user, left_by) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
    LogHourInsert = "INSERT INTO {ks}.log_hours (channel_id, hour) VALUES (?, ?)",
    LogHourRangeFrom = "SELECT hour FROM {ks}.log_hours WHERE channel_id = ? AND hour >= ?",
    LogEntryGet = "SELECT seq, prev, message_id, message_count, left_user, left_by FROM {ks}.conversation_log WHERE channel_id = ? AND hour = ? AND seq = ?",
    LogRangeAfter = "SELECT seq, prev, message_id, message_count, left_user, left_by FROM {ks}.conversation_log WHERE channel_id = ? AND hour = ? AND seq > ? LIMIT ?",
    MessageRangeDesc = "SELECT channel_id, message_id, sender, recipient, kind, data, ts_ms, parent_id, edited_at_ms, deleted, custom_fields, client_msg_id, attachment, mentions, deleted_by, created_seq, seq, pinned_by, pinned_at_ms, reactions, thread_only, reply_count, last_reply_id, expires_at FROM {ks}.messages WHERE channel_id = ? AND bucket = ? AND message_id >= ? AND message_id <= ? ORDER BY message_id DESC LIMIT ?",
    MessageRangeAsc = "SELECT channel_id, message_id, sender, recipient, kind, data, ts_ms, parent_id, edited_at_ms, deleted, custom_fields, client_msg_id, attachment, mentions, deleted_by, created_seq, seq, pinned_by, pinned_at_ms, reactions, thread_only, reply_count, last_reply_id, expires_at FROM {ks}.messages WHERE channel_id = ? AND bucket = ? AND message_id >= ? AND message_id <= ? ORDER BY message_id ASC LIMIT ?",
    BucketInsert = "INSERT INTO {ks}.message_buckets (channel_id, bucket) VALUES (?, ?)",
    BucketRangeDesc = "SELECT bucket FROM {ks}.message_buckets WHERE channel_id = ? AND bucket >= ? AND bucket <= ? ORDER BY bucket DESC",
    BucketRangeAsc = "SELECT bucket FROM {ks}.message_buckets WHERE channel_id = ? AND bucket >= ? AND bucket <= ? ORDER BY bucket ASC",
    DedupClaim = "INSERT INTO {ks}.dedup (channel_id, sender, client_msg_id, message_id) VALUES (?, ?, ?, ?) IF NOT EXISTS",
    ReadMarkerCreate = "INSERT INTO {ks}.read_markers (channel_id, user_id, message_id, seq, message_count) VALUES (?, ?, ?, ?, ?) IF NOT EXISTS",
    ReadMarkerAdvance = "UPDATE {ks}.read_markers SET message_id = ?, seq = ?, message_count = ? WHERE channel_id = ? AND user_id = ? IF seq < ?",
    /// A marker written before markers had a place in the log (schema version 7) has none.
    ReadMarkerAdvanceUnplaced = "UPDATE {ks}.read_markers SET message_id = ?, seq = ?, message_count = ? WHERE channel_id = ? AND user_id = ? IF seq = null",
    PrivateUnreadInsert = "INSERT INTO {ks}.private_unread (channel_id, user_id, seq) VALUES (?, ?, ?)",
    PrivateUnreadForget = "DELETE FROM {ks}.private_unread WHERE channel_id = ? AND user_id = ? AND seq <= ?",
    PrivateUnreadAfter = "SELECT seq FROM {ks}.private_unread WHERE channel_id = ? AND user_id = ? AND seq > ? LIMIT ?",
    ReadMarkerList = "SELECT user_id, message_id FROM {ks}.read_markers WHERE channel_id = ?",
    AttachmentInsert = "INSERT INTO {ks}.attachments (id, org, channel_id, uploader, filename, content_type, size, width, height, state, multipart, created_at_ms, expires_at_ms, message_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    AttachmentGet = "SELECT id, org, channel_id, uploader, filename, content_type, size, width, height, state, multipart, created_at_ms, expires_at_ms, message_id FROM {ks}.attachments WHERE id = ?",
    AttachmentClaim = "UPDATE {ks}.attachments SET message_id = ? WHERE id = ? IF message_id = null",
    FileInsert = "INSERT INTO {ks}.conversation_files (channel_id, attachment_id) VALUES (?, ?)",
    FileRange = "SELECT attachment_id FROM {ks}.conversation_files WHERE channel_id = ? AND attachment_id < ? LIMIT ?",
    UploadInsert = "INSERT INTO {ks}.user_uploads (org, user_id, attachment_id) VALUES (?, ?, ?)",
    UploadRange = "SELECT attachment_id FROM {ks}.user_uploads WHERE org = ? AND user_id = ? AND attachment_id < ? LIMIT ?",
    PendingInsert = "INSERT INTO {ks}.pending_uploads (shard, expires_at_ms, attachment_id) VALUES (?, ?, ?)",
    PendingDelete = "DELETE FROM {ks}.pending_uploads WHERE shard = ? AND expires_at_ms = ? AND attachment_id = ?",
    PendingList = "SELECT attachment_id FROM {ks}.pending_uploads WHERE shard = ? AND expires_at_ms < ? LIMIT ?",
    AuditInsert = "INSERT INTO {ks}.audit (org, day, id, at_ms, actor, action, conversation_id, target, detail) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
    AuditGet = "SELECT id, org, at_ms, actor, action, conversation_id, target, detail FROM {ks}.audit WHERE org = ? AND day = ? AND id = ?",
    UserAuditInsert = "INSERT INTO {ks}.user_audit (org, user_id, id, day) VALUES (?, ?, ?, ?)",
    UserAuditList = "SELECT id, day FROM {ks}.user_audit WHERE org = ? AND user_id = ? LIMIT ?",
    UserAuditDelete = "DELETE FROM {ks}.user_audit WHERE org = ? AND user_id = ? AND id = ?",
    AuditList = "SELECT id, org, at_ms, actor, action, conversation_id, target, detail FROM {ks}.audit WHERE org = ? AND day = ? AND id < ? ORDER BY id DESC LIMIT ?",
    MessageDelete = "DELETE FROM {ks}.messages WHERE channel_id = ? AND bucket = ? AND message_id = ?",
    ReactionsDelete = "DELETE FROM {ks}.reactions WHERE channel_id = ? AND message_id = ?",
    RetentionPut = "INSERT INTO {ks}.retention (org, conversation_id, days) VALUES (?, ?, ?)",
    RetentionGet = "SELECT conversation_id FROM {ks}.retention WHERE org = ? AND conversation_id = ?",
    RetentionDelete = "DELETE FROM {ks}.retention WHERE org = ? AND conversation_id = ?",
    RetentionList = "SELECT conversation_id, days FROM {ks}.retention WHERE org = ?",
    MessageSetExpiry = "UPDATE {ks}.messages USING TTL ? SET expires_at = ?, seq = ? WHERE channel_id = ? AND bucket = ? AND message_id = ?",
    ExpiringInsert = "INSERT INTO {ks}.expiring (hour, expires_at, channel_id, message_id, org, attachment_id, sender, recipient) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
    ExpiringDue = "SELECT expires_at, channel_id, message_id, org, attachment_id, sender, recipient FROM {ks}.expiring WHERE hour = ? AND expires_at <= ? LIMIT ?",
    ExpiringDelete = "DELETE FROM {ks}.expiring WHERE hour = ? AND expires_at = ? AND channel_id = ? AND message_id = ?",
    SweepGet = "SELECT hour FROM {ks}.expiry_sweeps WHERE name = ?",
    SweepPut = "INSERT INTO {ks}.expiry_sweeps (name, hour) VALUES (?, ?)",
    ChangeInsert = "INSERT INTO {ks}.message_changes (hour, at_ms, channel_id, message_id) VALUES (?, ?, ?, ?)",
    ChangeListFrom = "SELECT at_ms, channel_id, message_id FROM {ks}.message_changes WHERE hour = ? LIMIT ?",
    ChangeListAfter = "SELECT at_ms, channel_id, message_id FROM {ks}.message_changes WHERE hour = ? AND (at_ms, channel_id, message_id) > (?, ?, ?) LIMIT ?",
    MemberMute = "UPDATE {ks}.members SET muted = ? WHERE conversation_id = ? AND user_id = ? IF EXISTS",
    MemberSetTimeout = "UPDATE {ks}.members SET timeout_until_ms = ?, timeout_by = ?, timeout_reason = ? WHERE conversation_id = ? AND user_id = ? IF EXISTS",
    MemberClaimPost = "UPDATE {ks}.members SET last_post_ms = ? WHERE conversation_id = ? AND user_id = ? IF role = 'member' AND last_post_ms = ?",
    MemberClaimFirstPost = "UPDATE {ks}.members SET last_post_ms = ? WHERE conversation_id = ? AND user_id = ? IF role = 'member' AND last_post_ms = null",
    ReadMarkerGet = "SELECT message_id, seq, message_count FROM {ks}.read_markers WHERE channel_id = ? AND user_id = ?",
    NotificationInsert = "INSERT INTO {ks}.notifications (org, user_id, id, conversation_id, message_id, sender, reason, preview, created_at_ms, read) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    JobInsert = "INSERT INTO {ks}.jobs (org, id, body, lease_owner, lease_until_ms) VALUES (?, ?, ?, ?, ?)",
    JobGet = "SELECT body FROM {ks}.jobs WHERE org = ? AND id = ?",
    JobList = "SELECT body FROM {ks}.jobs WHERE org = ? AND id < ? ORDER BY id DESC LIMIT ?",
    JobLeaseRenew = "UPDATE {ks}.jobs SET lease_owner = ?, lease_until_ms = ? WHERE org = ? AND id = ? IF lease_owner = ?",
    JobLeaseTake = "UPDATE {ks}.jobs SET lease_owner = ?, lease_until_ms = ? WHERE org = ? AND id = ? IF lease_until_ms < ?",
    DutyLeaseRenew = "UPDATE {ks}.duty_leases SET owner = ?, until_ms = ? WHERE name = ? IF owner = ?",
    DutyLeaseTake = "UPDATE {ks}.duty_leases SET owner = ?, until_ms = ? WHERE name = ? IF until_ms < ?",
    DutyLeaseCreate = "INSERT INTO {ks}.duty_leases (name, owner, until_ms) VALUES (?, ?, ?) IF NOT EXISTS",
    JobSave = "UPDATE {ks}.jobs SET body = ? WHERE org = ? AND id = ? IF lease_owner = ?",
    OpenJobInsert = "INSERT INTO {ks}.open_jobs (shard, id, org) VALUES (?, ?, ?)",
    OpenJobList = "SELECT id, org FROM {ks}.open_jobs WHERE shard = ? LIMIT ?",
    OpenJobDelete = "DELETE FROM {ks}.open_jobs WHERE shard = ? AND id = ?",
    ArchiveExpiryInsert = "INSERT INTO {ks}.archive_expiries (shard, expires_at, id, org) VALUES (?, ?, ?, ?)",
    ArchiveExpiryDue = "SELECT expires_at, id, org FROM {ks}.archive_expiries WHERE shard = ? AND expires_at <= ? LIMIT ?",
    ArchiveExpiryDelete = "DELETE FROM {ks}.archive_expiries WHERE shard = ? AND expires_at = ? AND id = ?",
    NotificationDelete = "DELETE FROM {ks}.notifications WHERE org = ? AND user_id = ? AND id = ?",
    NotificationMarkRead = "UPDATE {ks}.notifications SET read = ? WHERE org = ? AND user_id = ? AND id = ? IF EXISTS",
    MessageNotificationInsert = "INSERT INTO {ks}.message_notifications (channel_id, message_id, user_id, org, notification_id) VALUES (?, ?, ?, ?, ?)",
    MessageNotificationList = "SELECT org, user_id, notification_id FROM {ks}.message_notifications WHERE channel_id = ? AND message_id = ?",
    MessageNotificationsDelete = "DELETE FROM {ks}.message_notifications WHERE channel_id = ? AND message_id = ?",
    UserMessageInsert = "INSERT INTO {ks}.user_messages (org, user_id, message_id, channel_id) VALUES (?, ?, ?, ?) USING TTL ?",
    UserMessageDelete = "DELETE FROM {ks}.user_messages WHERE org = ? AND user_id = ? AND message_id = ?",
    UserMessageList = "SELECT channel_id, message_id FROM {ks}.user_messages WHERE org = ? AND user_id = ? AND message_id < ? ORDER BY message_id DESC LIMIT ?",
    NotificationList = "SELECT id, org, user_id, conversation_id, message_id, sender, reason, preview, created_at_ms, read FROM {ks}.notifications WHERE org = ? AND user_id = ? AND id < ? ORDER BY id DESC LIMIT ?",
    DeviceInsert = "INSERT INTO {ks}.devices (org, user_id, device_id, platform, address, app_id, locale, registered_at_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
    DeviceGet = "SELECT device_id FROM {ks}.devices WHERE org = ? AND user_id = ? AND device_id = ?",
    DeviceList = "SELECT device_id, platform, address, app_id, locale, registered_at_ms FROM {ks}.devices WHERE org = ? AND user_id = ?",
    DeviceDelete = "DELETE FROM {ks}.devices WHERE org = ? AND user_id = ? AND device_id = ?",
    DeviceOwnerPut = "INSERT INTO {ks}.device_owners (device_id, org, user_id) VALUES (?, ?, ?)",
    DeviceOwnerGet = "SELECT org, user_id FROM {ks}.device_owners WHERE device_id = ?",
    DeviceOwnerDelete = "DELETE FROM {ks}.device_owners WHERE device_id = ?",
    TimeoutPut = "INSERT INTO {ks}.timeouts (conversation_id, user_id, until_ms, timed_out_by, reason) VALUES (?, ?, ?, ?, ?) USING TTL ?",
    TimeoutGet = "SELECT until_ms, timed_out_by, reason FROM {ks}.timeouts WHERE conversation_id = ? AND user_id = ?",
    TimeoutDelete = "DELETE FROM {ks}.timeouts WHERE conversation_id = ? AND user_id = ?",
    FilterPut = "INSERT INTO {ks}.filters (org, filter_id, kind, pattern, action, created_by, created_at_ms) VALUES (?, ?, ?, ?, ?, ?, ?)",
    FilterList = "SELECT filter_id, kind, pattern, action, created_by, created_at_ms FROM {ks}.filters WHERE org = ? LIMIT ?",
    FilterDelete = "DELETE FROM {ks}.filters WHERE org = ? AND filter_id = ? IF EXISTS",
    SuspensionPut = "INSERT INTO {ks}.suspensions (org, user_id, suspended_by, suspended_at_ms, reason) VALUES (?, ?, ?, ?, ?)",
    SuspensionList = "SELECT user_id, suspended_by, suspended_at_ms, reason FROM {ks}.suspensions WHERE org = ? AND user_id > ? LIMIT ?",
    SuspensionDelete = "DELETE FROM {ks}.suspensions WHERE org = ? AND user_id = ? IF EXISTS",
    BanPut = "INSERT INTO {ks}.bans (conversation_id, user_id, banned_by, banned_at_ms, reason) VALUES (?, ?, ?, ?, ?)",
    BanGet = "SELECT user_id, banned_by, banned_at_ms, reason FROM {ks}.bans WHERE conversation_id = ? AND user_id = ?",
    BanList = "SELECT user_id, banned_by, banned_at_ms, reason FROM {ks}.bans WHERE conversation_id = ? AND user_id > ? LIMIT ?",
    BanDelete = "DELETE FROM {ks}.bans WHERE conversation_id = ? AND user_id = ?",
    ReportPut = "INSERT INTO {ks}.reports (conversation_id, report_id, message_id, reporter, reason, author, text, state, handled_by, handled_at_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    MessageReportInsert = "INSERT INTO {ks}.message_reports (conversation_id, message_id, report_id) VALUES (?, ?, ?)",
    MessageReportList = "SELECT report_id FROM {ks}.message_reports WHERE conversation_id = ? AND message_id = ?",
    MessageReportsDelete = "DELETE FROM {ks}.message_reports WHERE conversation_id = ? AND message_id = ?",
    ReportForgetText = "UPDATE {ks}.reports SET text = ? WHERE conversation_id = ? AND report_id = ?",
    ReportGet = "SELECT report_id, message_id, reporter, reason, author, text, state, handled_by, handled_at_ms FROM {ks}.reports WHERE conversation_id = ? AND report_id = ?",
    ReportList = "SELECT report_id, message_id, reporter, reason, author, text, state, handled_by, handled_at_ms FROM {ks}.reports WHERE conversation_id = ? AND report_id < ? ORDER BY report_id DESC LIMIT ?",
    PushSettingsGet = "SELECT level, quiet_start_minute, quiet_end_minute FROM {ks}.push_settings WHERE org = ? AND user_id = ?",
    PushSettingsPut = "INSERT INTO {ks}.push_settings (org, user_id, level, quiet_start_minute, quiet_end_minute) VALUES (?, ?, ?, ?, ?)",
    StatusGet = "SELECT availability, status_text, last_seen_ms FROM {ks}.user_status WHERE org = ? AND user_id = ?",
    StatusSet = "UPDATE {ks}.user_status SET availability = ?, status_text = ? WHERE org = ? AND user_id = ?",
    StatusSeen = "UPDATE {ks}.user_status SET last_seen_ms = ? WHERE org = ? AND user_id = ?",
    ProfileGet = "SELECT org, user_id, display_name, title, bio, time_zone, custom_fields, email, phone, updated_at_ms, avatar_id FROM {ks}.profiles WHERE org = ? AND user_id = ?",
    ProfileCreate = "INSERT INTO {ks}.profiles (org, user_id, display_name, title, bio, time_zone, custom_fields, email, phone, updated_at_ms, avatar_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) IF NOT EXISTS",
    ProfileDelete = "DELETE FROM {ks}.profiles WHERE org = ? AND user_id = ?",
    ProfileSetDisplayName = "UPDATE {ks}.profiles SET display_name = ? WHERE org = ? AND user_id = ?",
    ProfileSetTitle = "UPDATE {ks}.profiles SET title = ? WHERE org = ? AND user_id = ?",
    ProfileSetBio = "UPDATE {ks}.profiles SET bio = ? WHERE org = ? AND user_id = ?",
    ProfileSetTimeZone = "UPDATE {ks}.profiles SET time_zone = ? WHERE org = ? AND user_id = ?",
    ProfileSetCustomFields = "UPDATE {ks}.profiles SET custom_fields = ? WHERE org = ? AND user_id = ?",
    ProfileSetEmail = "UPDATE {ks}.profiles SET email = ? WHERE org = ? AND user_id = ?",
    ProfileSetPhone = "UPDATE {ks}.profiles SET phone = ? WHERE org = ? AND user_id = ?",
    ProfileSetAvatar = "UPDATE {ks}.profiles SET avatar_id = ? WHERE org = ? AND user_id = ?",
    ProfileSetUpdatedAt = "UPDATE {ks}.profiles SET updated_at_ms = ? WHERE org = ? AND user_id = ?",
    DirectoryInsert = "INSERT INTO {ks}.directory (org, bucket, term, user_id, display_name, title) VALUES (?, ?, ?, ?, ?, ?)",
    DirectoryDelete = "DELETE FROM {ks}.directory WHERE org = ? AND bucket = ? AND term = ? AND user_id = ?",
    DirectoryScan = "SELECT term, user_id, display_name, title FROM {ks}.directory WHERE org = ? AND bucket = ? AND (term, user_id) > (?, ?) LIMIT ?",
    ContactAdd = "INSERT INTO {ks}.contacts (org, user_id, other, added_at_ms) VALUES (?, ?, ?, ?) IF NOT EXISTS",
    ContactRemove = "DELETE FROM {ks}.contacts WHERE org = ? AND user_id = ? AND other = ? IF EXISTS",
    ContactGet = "SELECT added_at_ms FROM {ks}.contacts WHERE org = ? AND user_id = ? AND other = ?",
    ContactList = "SELECT other, added_at_ms FROM {ks}.contacts WHERE org = ? AND user_id = ? AND other > ? LIMIT ?",
    BlockAdd = "INSERT INTO {ks}.blocks (org, user_id, other, added_at_ms) VALUES (?, ?, ?, ?) IF NOT EXISTS",
    BlockRemove = "DELETE FROM {ks}.blocks WHERE org = ? AND user_id = ? AND other = ? IF EXISTS",
    BlockGet = "SELECT added_at_ms FROM {ks}.blocks WHERE org = ? AND user_id = ? AND other = ?",
    BlockList = "SELECT other, added_at_ms FROM {ks}.blocks WHERE org = ? AND user_id = ? AND other > ? LIMIT ?",
    BlockedByAdd = "INSERT INTO {ks}.blocked_by (org, user_id, other, added_at_ms) VALUES (?, ?, ?, ?)",
    BlockedByRemove = "DELETE FROM {ks}.blocked_by WHERE org = ? AND user_id = ? AND other = ?",
    BlockedByGet = "SELECT added_at_ms FROM {ks}.blocked_by WHERE org = ? AND user_id = ? AND other = ?",
    BlockedByList = "SELECT other, added_at_ms FROM {ks}.blocked_by WHERE org = ? AND user_id = ? AND other > ? LIMIT ?",
    SchemaVersionGet = "SELECT version FROM {ks}.schema_versions WHERE name = ?",
    SchemaVersionSet = "INSERT INTO {ks}.schema_versions (name, version, applied_at_ms) VALUES (?, ?, ?)",
}

impl Statement {
    /// The statement's CQL for `keyspace`.
    pub(super) fn cql(self, keyspace: &str) -> String {
        self.template().replace("{ks}", keyspace)
    }

    /// Reads use the read consistency; everything else the write consistency.
    pub(super) fn reads(self) -> bool {
        self.template().starts_with("SELECT")
    }

    /// The table it reads or writes.
    pub(super) fn table(self) -> &'static str {
        let text = self.template();
        let after = text.split_once("{ks}.").map_or(text, |(_, rest)| rest);
        after.split([' ', '(']).next().unwrap_or(after)
    }

    /// How traces name it: its operation and table (`SELECT messages`), as OpenTelemetry's
    /// database conventions do.
    pub(super) fn operation(self) -> String {
        let verb = self.template().split(' ').next().unwrap_or_default();
        format!("{verb} {}", self.table())
    }
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
            "VALUES", "USING", "TTL",
        ];
        // String literals ('member') are values, not names: every other piece between
        // quotes is outside them.
        let outside_quotes: String = fragment.split('\'').step_by(2).collect::<Vec<_>>().join(" ");
        outside_quotes
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
        for statement in Statement::ALL {
            let (name, text) = (format!("{statement:?}"), statement.template());
            let (table_name, columns, where_) = parts(text);
            assert_eq!(statement.table(), table_name, "{name}");
            let table =
                table(&table_name).unwrap_or_else(|| panic!("{name}: no table {table_name}"));
            let known = |c: &str| table.columns.iter().any(|(col, _)| *col == c);
            for word in identifiers(&columns).iter().chain(identifiers(&where_).iter()) {
                let word = word.as_str();
                if ["SELECT", "INSERT", "INTO", "UPDATE", "DELETE", "COUNT"].contains(&word) {
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
        for statement in Statement::ALL.iter().filter(|s| s.template().starts_with("INSERT")) {
            let (name, text) = (format!("{statement:?}"), statement.template());
            let columns =
                text.split_once('(').unwrap().1.split_once(')').unwrap().0.split(", ").count();
            let values = text.split_once("VALUES").unwrap().1.split_once(')').unwrap().0;
            let binds = values.matches('?').count();
            assert_eq!(columns, binds, "{name}");
        }
    }
}
