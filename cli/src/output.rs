//! How sbctl shows results: tables for people, JSON for scripts.

use comfy_table::{Table, presets::UTF8_FULL_CONDENSED};
use serde_json::{Value, json};
use switchboard_sdk::proto as pb;

pub(crate) fn conversation_json(c: &pb::Conversation) -> Value {
    json!({
        "id": c.id.to_string(),
        "org": c.org,
        "kind": kind_name(c.kind),
        "name": c.name,
        "icon": c.icon,
        "active": c.active,
        "meta_tags": c.meta_tags,
        "owner": c.owner,
        "created_at_ms": c.created_at_ms,
        "restricted": c.restricted,
        "visibility": visibility_name(c.visibility),
        "my_role": role_name(c.my_role),
        "member_count": c.member_count,
    })
}

pub(crate) fn member_json(m: &pb::Member) -> Value {
    json!({ "user_id": m.user_id, "role": role_name(m.role), "joined_at_ms": m.joined_at_ms })
}

pub(crate) fn message_json(m: &pb::Message) -> Value {
    json!({
        "id": m.id.to_string(),
        "channel_id": m.channel_id.to_string(),
        "from": m.from,
        "to": m.to,
        "type": type_name(m.r#type),
        "data": m.data,
        "ts_ms": m.ts_ms,
        "parent_id": (m.parent_id != 0).then(|| m.parent_id.to_string()),
        "edited_at_ms": (m.edited_at_ms != 0).then_some(m.edited_at_ms),
        "deleted": m.deleted,
        "custom_fields": m.custom_fields,
        "client_msg_id": m.client_msg_id,
    })
}

pub(crate) fn conversations_table(conversations: &[pb::Conversation]) -> Table {
    let mut table = table(&["ID", "KIND", "NAME", "ROLE", "MEMBERS", "OWNER", "STATE"]);
    for c in conversations {
        table.add_row(vec![
            c.id.to_string(),
            kind_name(c.kind).to_string(),
            c.name.clone(),
            role_name(c.my_role).to_string(),
            c.member_count.to_string(),
            c.owner.clone(),
            state(c),
        ]);
    }
    table
}

pub(crate) fn conversation_table(c: &pb::Conversation) -> Table {
    let mut table = table(&["FIELD", "VALUE"]);
    let rows = [
        ("id", c.id.to_string()),
        ("kind", kind_name(c.kind).into()),
        ("name", c.name.clone()),
        ("icon", c.icon.clone()),
        ("tags", c.meta_tags.join(", ")),
        ("owner", c.owner.clone()),
        ("your role", role_name(c.my_role).into()),
        ("members", c.member_count.to_string()),
        ("restricted", c.restricted.to_string()),
        ("visibility", visibility_name(c.visibility).into()),
        ("state", state(c)),
        ("created", format_ms(c.created_at_ms)),
    ];
    for (field, value) in rows {
        table.add_row(vec![field.to_string(), value]);
    }
    table
}

pub(crate) fn members_table(members: &[pb::Member]) -> Table {
    let mut table = table(&["USER", "ROLE", "JOINED"]);
    for m in members {
        table.add_row(vec![
            m.user_id.clone(),
            role_name(m.role).into(),
            format_ms(m.joined_at_ms),
        ]);
    }
    table
}

pub(crate) fn messages_table(messages: &[pb::Message]) -> Table {
    let mut table = table(&["ID", "TIME", "FROM", "TO", "TEXT"]);
    for m in messages {
        let mut text = if m.deleted {
            "(deleted)".to_string()
        } else {
            m.data.clone()
        };
        if m.r#type != pb::MessageType::Text as i32 && !m.deleted {
            text = format!("[{}] {text}", type_name(m.r#type));
        }
        if m.parent_id != 0 {
            text = format!("↪ {} {text}", m.parent_id);
        }
        if m.edited_at_ms != 0 {
            text.push_str(" (edited)");
        }
        table.add_row(vec![
            m.id.to_string(),
            format_ms(m.ts_ms),
            m.from.clone(),
            m.to.clone(),
            text,
        ]);
    }
    table
}

fn table(header: &[&str]) -> Table {
    let mut table = Table::new();
    table
        .load_preset(UTF8_FULL_CONDENSED)
        .set_header(header.to_vec());
    table
}

fn state(c: &pb::Conversation) -> String {
    if c.active { "active" } else { "archived" }.to_string()
}

/// Milliseconds since the epoch as RFC 3339 UTC, to the second.
fn format_ms(ms: i64) -> String {
    let time = std::time::UNIX_EPOCH + std::time::Duration::from_millis(ms.max(0) as u64);
    humantime::format_rfc3339_seconds(time).to_string()
}

fn kind_name(kind: i32) -> &'static str {
    match pb::ConversationKind::try_from(kind) {
        Ok(pb::ConversationKind::Direct) => "direct",
        Ok(pb::ConversationKind::Self_) => "self",
        Ok(pb::ConversationKind::Group) => "team",
        Ok(pb::ConversationKind::Channel) => "channel",
        _ => "unknown",
    }
}

fn role_name(role: i32) -> &'static str {
    match pb::Role::try_from(role) {
        Ok(pb::Role::Member) => "member",
        Ok(pb::Role::Admin) => "admin",
        Ok(pb::Role::Owner) => "owner",
        _ => "-",
    }
}

fn visibility_name(visibility: i32) -> &'static str {
    match pb::Visibility::try_from(visibility) {
        Ok(pb::Visibility::Public) => "public",
        Ok(pb::Visibility::Private) => "private",
        _ => "-",
    }
}

fn type_name(kind: i32) -> &'static str {
    match pb::MessageType::try_from(kind) {
        Ok(pb::MessageType::Image) => "image",
        Ok(pb::MessageType::Video) => "video",
        Ok(pb::MessageType::Audio) => "audio",
        Ok(pb::MessageType::File) => "file",
        _ => "text",
    }
}
