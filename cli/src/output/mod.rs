//! How sbctl shows results: tables for people, JSON for scripts.

use comfy_table::{Table, presets::UTF8_FULL_CONDENSED};
use switchboard_sdk::proto as pb;

mod admin;
mod chat;
mod people;

pub(crate) use self::admin::{
    admin_stats_json, admin_stats_tables, archive_kept_until, audit_json, audit_table,
    connection_json, connections_table, job_counts, job_json, jobs_table, relay_status_json,
    relay_status_table,
};
pub(crate) use self::chat::{
    attachment_json, attachments_table, ban_json, bans_table, conversation_json,
    conversation_table, conversations_table, device_json, devices_table, event_json, event_line,
    filter_json, filters_table, member_json, members_table, message_json, messages_table,
    notification_json, notifications_table, presence_json, presence_table, push_settings,
    report_json, reports_table, retention_json, retention_text, search_hit_json, search_table,
    suspension_json, suspensions_table, tested_device_json, tested_devices_table, thread_json,
    threads_table, version_json, versions_table,
};
pub(crate) use self::people::{profile_json, profiles_table};

pub(super) fn table(header: &[&str]) -> Table {
    let mut table = Table::new();
    table.load_preset(UTF8_FULL_CONDENSED).set_header(header.to_vec());
    table
}

pub(super) fn state(c: &pb::Conversation) -> String {
    if c.active { "active" } else { "archived" }.to_string()
}

/// Milliseconds since the epoch as RFC 3339 UTC, to the second.
pub(super) fn format_ms(ms: i64) -> String {
    let time = std::time::UNIX_EPOCH + std::time::Duration::from_millis(ms.max(0) as u64);
    humantime::format_rfc3339_seconds(time).to_string()
}

pub(super) fn kind_name(kind: i32) -> &'static str {
    match pb::ConversationKind::try_from(kind) {
        Ok(pb::ConversationKind::Direct) => "direct",
        Ok(pb::ConversationKind::Self_) => "self",
        Ok(pb::ConversationKind::Group) => "team",
        Ok(pb::ConversationKind::Channel) => "channel",
        _ => "unknown",
    }
}

pub(super) fn role_name(role: i32) -> &'static str {
    match pb::Role::try_from(role) {
        Ok(pb::Role::Member) => "member",
        Ok(pb::Role::Admin) => "admin",
        Ok(pb::Role::Owner) => "owner",
        _ => "-",
    }
}

pub(super) fn visibility_name(visibility: i32) -> &'static str {
    match pb::Visibility::try_from(visibility) {
        Ok(pb::Visibility::Public) => "public",
        Ok(pb::Visibility::Private) => "private",
        _ => "-",
    }
}

pub(super) fn type_name(kind: i32) -> &'static str {
    match pb::MessageType::try_from(kind) {
        Ok(pb::MessageType::Image) => "image",
        Ok(pb::MessageType::Video) => "video",
        Ok(pb::MessageType::Audio) => "audio",
        Ok(pb::MessageType::File) => "file",
        _ => "text",
    }
}

pub(super) fn reason_name(reason: i32) -> &'static str {
    match pb::NotificationReason::try_from(reason) {
        Ok(pb::NotificationReason::Mention) => "mention",
        Ok(pb::NotificationReason::MentionAll) => "@here/@all",
        Ok(pb::NotificationReason::Direct) => "direct",
        Ok(pb::NotificationReason::ThreadReply) => "thread reply",
        _ => "?",
    }
}
