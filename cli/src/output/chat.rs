//! Conversations, members, messages, files, presence, search hits, notifications and live
//! events, as JSON and as tables.

use comfy_table::Table;
use serde_json::{Value, json};
use switchboard_sdk::proto as pb;

use super::{
    format_ms, kind_name, reason_name, role_name, state, table, type_name, visibility_name,
};

pub(crate) fn conversation_json(c: &pb::Conversation) -> Value {
    json!({
        "id": c.id.to_string(),
        "org": c.org,
        "kind": kind_name(c.kind),
        "name": c.name,
        "peer": c.peer.as_deref().map(super::profile_json),
        "icon": c.icon,
        "active": c.active,
        "meta_tags": c.meta_tags,
        "owner": c.owner,
        "created_at_ms": c.created_at_ms,
        "restricted": c.restricted,
        "visibility": visibility_name(c.visibility),
        "my_role": role_name(c.my_role),
        "member_count": c.member_count,
        "unread_count": c.unread_count,
        "mention_count": c.mention_count,
        "muted": c.muted,
        "custom_fields": c.custom_fields,
        "external_key": c.external_key,
    })
}

pub(crate) fn member_json(m: &pb::Member) -> Value {
    let mut member =
        json!({ "user_id": m.user_id, "role": role_name(m.role), "joined_at_ms": m.joined_at_ms });
    if m.timed_out_until_ms != 0 {
        member["timed_out_until_ms"] = json!(m.timed_out_until_ms);
        member["timed_out_by"] = json!(m.timed_out_by);
        member["timeout_reason"] = json!(m.timeout_reason);
    }
    member
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
        "attachment": m.attachment.as_deref().map(attachment_json),
        "pinned_by": (!m.pinned_by.is_empty()).then_some(&m.pinned_by),
        "pinned_at_ms": (m.pinned_at_ms != 0).then_some(m.pinned_at_ms),
        "reactions": m.reactions.iter().map(|r| json!({
            "emoji": r.emoji,
            "count": r.count,
            "first_users": r.first_users,
            "mine": r.mine,
        })).collect::<Vec<_>>(),
        "thread_only": m.thread_only,
        "reply_count": m.reply_count,
        "last_reply_id": (m.last_reply_id != 0).then(|| m.last_reply_id.to_string()),
        "last_reply_at_ms": (m.last_reply_at_ms != 0).then_some(m.last_reply_at_ms),
        "expires_at_ms": (m.expires_at_ms != 0).then_some(m.expires_at_ms),
    })
}

pub(crate) fn thread_json(t: &pb::Thread) -> Value {
    json!({
        "root": t.root.as_ref().map(message_json),
        "following": t.following,
        "read_up_to": (t.read_up_to != 0).then(|| t.read_up_to.to_string()),
        "unread_count": t.unread_count,
    })
}

pub(crate) fn attachments_table(attachments: &[pb::Attachment]) -> Table {
    let mut table = table(&["ID", "CREATED", "UPLOADER", "NAME", "TYPE", "SIZE", "MESSAGE"]);
    for a in attachments {
        table.add_row(vec![
            a.id.to_string(),
            format_ms(a.created_at_ms),
            a.uploader.clone(),
            a.filename.clone(),
            a.content_type.clone(),
            a.size.to_string(),
            if a.message_id == 0 { String::new() } else { a.message_id.to_string() },
        ]);
    }
    table
}

pub(crate) fn attachment_json(a: &pb::Attachment) -> Value {
    json!({
        "id": a.id.to_string(),
        "channel_id": a.channel_id.to_string(),
        "uploader": a.uploader,
        "filename": a.filename,
        "content_type": a.content_type,
        "size": a.size,
        "width": (a.width != 0).then_some(a.width),
        "height": (a.height != 0).then_some(a.height),
        "message_id": (a.message_id != 0).then(|| a.message_id.to_string()),
    })
}

pub(crate) fn conversations_table(conversations: &[pb::Conversation]) -> Table {
    let mut table =
        table(&["ID", "KIND", "NAME", "ROLE", "MEMBERS", "OWNER", "STATE", "UNREAD", "MENTIONS"]);
    for c in conversations {
        let unread = match c.unread_count {
            n if n > 99 => "99+".to_string(),
            n => n.to_string(),
        };
        let muted = if c.muted { " (muted)" } else { "" };
        table.add_row(vec![
            c.id.to_string(),
            kind_name(c.kind).to_string(),
            shown_name(c),
            role_name(c.my_role).to_string(),
            c.member_count.to_string(),
            c.owner.clone(),
            state(c),
            format!("{unread}{muted}"),
            c.mention_count.to_string(),
        ]);
    }
    table
}

pub(crate) fn conversation_table(c: &pb::Conversation) -> Table {
    let mut table = table(&["FIELD", "VALUE"]);
    let rows = [
        ("id", c.id.to_string()),
        ("kind", kind_name(c.kind).into()),
        ("name", shown_name(c)),
        ("icon", c.icon.clone()),
        ("tags", c.meta_tags.join(", ")),
        ("owner", c.owner.clone()),
        ("your role", role_name(c.my_role).into()),
        ("members", c.member_count.to_string()),
        ("restricted", c.restricted.to_string()),
        ("visibility", visibility_name(c.visibility).into()),
        ("state", state(c)),
        ("created", format_ms(c.created_at_ms)),
        ("linked to", c.external_key.clone()),
        ("fields", fields_text(&c.custom_fields)),
    ];
    for (field, value) in rows {
        table.add_row(vec![field.to_string(), value]);
    }
    table
}

pub(crate) fn members_table(members: &[pb::Member]) -> Table {
    let mut table = table(&["USER", "ROLE", "JOINED", "TIMED OUT UNTIL"]);
    for m in members {
        let timed_out = match m.timed_out_until_ms {
            0 => String::new(),
            until => format!("{} ({})", format_ms(until), m.timeout_reason),
        };
        let row = [m.user_id.clone(), role_name(m.role).into(), format_ms(m.joined_at_ms)];
        table.add_row(row.into_iter().chain([timed_out]).collect::<Vec<_>>());
    }
    table
}

fn report_state(state: i32) -> &'static str {
    match pb::ReportState::try_from(state) {
        Ok(pb::ReportState::Open) => "open",
        Ok(pb::ReportState::Resolved) => "resolved",
        Ok(pb::ReportState::Dismissed) => "dismissed",
        _ => "?",
    }
}

pub(crate) fn report_json(r: &pb::Report) -> Value {
    json!({
        "id": r.id.to_string(),
        "message_id": r.message_id.to_string(),
        "reporter": r.reporter,
        "reason": r.reason,
        "author": r.author,
        "text": r.text,
        "state": report_state(r.state),
        "handled_by": r.handled_by,
        "reported_at_ms": r.reported_at_ms,
    })
}

pub(crate) fn reports_table(reports: &[pb::Report]) -> Table {
    let mut table = table(&["ID", "WHEN", "REPORTER", "REASON", "AUTHOR", "TEXT", "STATE"]);
    for r in reports {
        let state = match r.handled_by.is_empty() {
            true => report_state(r.state).to_string(),
            false => format!("{} by {}", report_state(r.state), r.handled_by),
        };
        table.add_row(vec![
            r.id.to_string(),
            format_ms(r.reported_at_ms),
            r.reporter.clone(),
            r.reason.clone(),
            r.author.clone(),
            r.text.clone(),
            state,
        ]);
    }
    table
}

fn filter_names(f: &pb::Filter) -> (&'static str, &'static str) {
    let kind = match pb::FilterKind::try_from(f.kind) {
        Ok(pb::FilterKind::Word) => "word",
        Ok(pb::FilterKind::Regex) => "regex",
        _ => "?",
    };
    let action = match pb::FilterAction::try_from(f.action) {
        Ok(pb::FilterAction::Refuse) => "refuse",
        Ok(pb::FilterAction::Flag) => "flag",
        _ => "?",
    };
    (kind, action)
}

pub(crate) fn filter_json(f: &pb::Filter) -> Value {
    let (kind, action) = filter_names(f);
    json!({
        "id": f.id.to_string(),
        "kind": kind,
        "pattern": f.pattern,
        "action": action,
        "created_by": f.created_by,
        "created_at_ms": f.created_at_ms,
    })
}

pub(crate) fn filters_table(filters: &[pb::Filter]) -> Table {
    let mut table = table(&["ID", "KIND", "PATTERN", "ACTION", "BY", "WHEN"]);
    for f in filters {
        let (kind, action) = filter_names(f);
        table.add_row(vec![
            f.id.to_string(),
            kind.into(),
            f.pattern.clone(),
            action.into(),
            f.created_by.clone(),
            format_ms(f.created_at_ms),
        ]);
    }
    table
}

pub(crate) fn suspension_json(s: &pb::Suspension) -> Value {
    json!({
        "user_id": s.user_id,
        "suspended_by": s.suspended_by,
        "suspended_at_ms": s.suspended_at_ms,
        "reason": s.reason,
    })
}

pub(crate) fn suspensions_table(suspensions: &[pb::Suspension]) -> Table {
    let mut table = table(&["USER", "SUSPENDED BY", "WHEN", "REASON"]);
    for s in suspensions {
        table.add_row(vec![
            s.user_id.clone(),
            s.suspended_by.clone(),
            format_ms(s.suspended_at_ms),
            s.reason.clone(),
        ]);
    }
    table
}

pub(crate) fn retention_json(policy: &pb::RetentionPolicy) -> Value {
    let conversations: Vec<Value> = policy
        .conversations
        .iter()
        .map(|c| json!({ "conversation_id": c.conversation_id, "keep_days": c.keep_days }))
        .collect();
    let mut json = json!({ "keep_days": policy.keep_days, "conversations": conversations });
    if policy.applying_job_id != 0 {
        json["applying_job_id"] = json!(policy.applying_job_id);
    }
    json
}

/// The table, and under it the job applying a shorter policy to earlier messages.
pub(crate) fn retention_text(policy: &pb::RetentionPolicy) -> String {
    let mut text = retention_table(policy).to_string();
    if policy.applying_job_id != 0 {
        let id = policy.applying_job_id;
        text.push_str(&format!(
            "\nmessages sent before: job {id} applies the change (sbctl admin job {id} --wait)"
        ));
    }
    text
}

/// The org's default first, then each conversation with its own.
fn retention_table(policy: &pb::RetentionPolicy) -> Table {
    let kept = |days: u32| match days {
        0 => "forever".to_string(),
        1 => "1 day".to_string(),
        days => format!("{days} days"),
    };
    let mut table = table(&["FOR", "KEEP MESSAGES"]);
    table.add_row(vec!["the org".to_string(), kept(policy.keep_days)]);
    for c in &policy.conversations {
        table.add_row(vec![format!("conversation {}", c.conversation_id), kept(c.keep_days)]);
    }
    table
}

pub(crate) fn ban_json(b: &pb::Ban) -> Value {
    json!({ "user_id": b.user_id, "banned_by": b.banned_by, "banned_at_ms": b.banned_at_ms, "reason": b.reason })
}

pub(crate) fn bans_table(bans: &[pb::Ban]) -> Table {
    let mut table = table(&["USER", "BANNED BY", "WHEN", "REASON"]);
    for b in bans {
        table.add_row(vec![
            b.user_id.clone(),
            b.banned_by.clone(),
            format_ms(b.banned_at_ms),
            b.reason.clone(),
        ]);
    }
    table
}

pub(crate) fn messages_table(messages: &[pb::Message]) -> Table {
    let mut table = table(&["ID", "TIME", "FROM", "TO", "TEXT"]);
    for m in messages {
        let mut text = if m.deleted { "(deleted)".to_string() } else { m.data.clone() };
        if m.r#type != pb::MessageType::Text as i32 && !m.deleted {
            text = format!("[{}] {text}", type_name(m.r#type));
        }
        if m.parent_id != 0 {
            text = format!("↪ {} {text}", m.parent_id);
        }
        if m.edited_at_ms != 0 {
            text.push_str(" (edited)");
        }
        if !m.pinned_by.is_empty() {
            text.push_str(&format!(" (pinned by {})", m.pinned_by));
        }
        for reaction in &m.reactions {
            text.push_str(&format!(" [{} {}]", reaction.emoji, reaction.count));
        }
        if m.reply_count != 0 {
            let replies = if m.reply_count == 1 { "reply" } else { "replies" };
            text.push_str(&format!(" ({} {replies})", m.reply_count));
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

fn platform_name(platform: i32) -> &'static str {
    match pb::DevicePlatform::try_from(platform) {
        Ok(pb::DevicePlatform::Fcm) => "fcm",
        Ok(pb::DevicePlatform::Apns) => "apns",
        Ok(pb::DevicePlatform::WebPush) => "web push",
        _ => "?",
    }
}

pub(crate) fn device_json(d: &pb::Device) -> Value {
    json!({
        "id": d.id.to_string(),
        "platform": platform_name(d.platform),
        "hint": d.hint,
        "app_id": d.app_id,
        "locale": d.locale,
        "registered_at_ms": d.registered_at_ms,
    })
}

pub(crate) fn devices_table(devices: &[pb::Device]) -> Table {
    let mut table = table(&["ID", "PLATFORM", "WHICH", "APP", "LOCALE", "REGISTERED"]);
    for d in devices {
        table.add_row(vec![
            d.id.to_string(),
            platform_name(d.platform).to_string(),
            d.hint.clone(),
            d.app_id.clone(),
            d.locale.clone(),
            format_ms(d.registered_at_ms),
        ]);
    }
    table
}

fn outcome_name(outcome: i32) -> &'static str {
    match pb::PushOutcome::try_from(outcome) {
        Ok(pb::PushOutcome::Delivered) => "delivered",
        Ok(pb::PushOutcome::Unregistered) => "unregistered (removed)",
        Ok(pb::PushOutcome::Retry) => "retry later",
        Ok(pb::PushOutcome::Failed) => "failed",
        _ => "?",
    }
}

pub(crate) fn tested_device_json(t: &pb::TestedDevice) -> Value {
    let device = t.device.clone().unwrap_or_default();
    json!({ "device": device_json(&device), "outcome": outcome_name(t.outcome), "reason": t.reason })
}

pub(crate) fn tested_devices_table(tested: &[pb::TestedDevice]) -> Table {
    let mut table = table(&["ID", "PLATFORM", "WHICH", "OUTCOME", "REASON"]);
    for t in tested {
        let device = t.device.clone().unwrap_or_default();
        table.add_row(vec![
            device.id.to_string(),
            platform_name(device.platform).to_string(),
            device.hint.clone(),
            outcome_name(t.outcome).to_string(),
            t.reason.clone(),
        ]);
    }
    table
}

/// Push preferences, as JSON and a line for people.
pub(crate) fn push_settings(s: &pb::PushSettings) -> (Value, String) {
    let level = match s.level() {
        pb::PushLevel::Mentions => "mentions",
        pb::PushLevel::None => "none",
        _ => "all",
    };
    let time = |m: u32| format!("{:02}:{:02}", m / 60, m % 60);
    let quiet = (s.quiet_start_minute != s.quiet_end_minute)
        .then(|| format!("{}-{}", time(s.quiet_start_minute), time(s.quiet_end_minute)));
    let human = match &quiet {
        Some(quiet) => format!("push: {level}; quiet hours {quiet}"),
        None => format!("push: {level}; no quiet hours"),
    };
    (json!({ "level": level, "quiet": quiet }), human)
}

pub(crate) fn threads_table(threads: &[pb::Thread]) -> Table {
    let mut table = table(&[
        "CONVERSATION",
        "ROOT",
        "FROM",
        "REPLIES",
        "LAST REPLY",
        "UNREAD",
        "FOLLOWING",
        "TEXT",
    ]);
    for t in threads {
        let Some(root) = &t.root else { continue };
        let last = if root.last_reply_at_ms != 0 {
            format_ms(root.last_reply_at_ms)
        } else {
            String::new()
        };
        table.add_row(vec![
            root.channel_id.to_string(),
            root.id.to_string(),
            root.from.clone(),
            root.reply_count.to_string(),
            last,
            t.unread_count.to_string(),
            if t.following { "yes" } else { "no" }.to_string(),
            if root.deleted { "(deleted)".to_string() } else { root.data.clone() },
        ]);
    }
    table
}

pub(crate) fn version_json(v: &pb::MessageVersion) -> Value {
    json!({
        "data": v.data,
        "written_at_ms": v.written_at_ms,
        "replaced_at_ms": v.replaced_at_ms,
        "seq": v.seq.to_string(),
    })
}

pub(crate) fn versions_table(versions: &[pb::MessageVersion]) -> Table {
    let mut table = table(&["WRITTEN", "REPLACED", "SEQ", "TEXT"]);
    for v in versions {
        table.add_row(vec![
            format_ms(v.written_at_ms),
            format_ms(v.replaced_at_ms),
            v.seq.to_string(),
            v.data.clone(),
        ]);
    }
    table
}

pub(crate) fn presence_table(presence: &[pb::UserPresence]) -> Table {
    let mut table = table(&["USER", "STATE", "AVAILABILITY", "STATUS", "LAST SEEN"]);
    for user in presence {
        let state = if user.online { "online" } else { "offline" };
        let last_seen =
            if user.last_seen_ms > 0 { format_ms(user.last_seen_ms) } else { String::new() };
        table.add_row(vec![
            user.user_id.clone(),
            state.to_string(),
            availability_name(user.availability).to_string(),
            user.status_text.clone(),
            last_seen,
        ]);
    }
    table
}

pub(crate) fn presence_json(user: &pb::UserPresence) -> Value {
    json!({
        "user_id": user.user_id,
        "online": user.online,
        "availability": availability_name(user.availability),
        "status_text": user.status_text,
        "last_seen_ms": user.last_seen_ms,
    })
}

fn availability_name(availability: i32) -> &'static str {
    match pb::Availability::try_from(availability) {
        Ok(pb::Availability::Away) => "away",
        Ok(pb::Availability::DoNotDisturb) => "do_not_disturb",
        _ => "available",
    }
}

pub(crate) fn search_hit_json(hit: &pb::SearchHit) -> Value {
    json!({
        "message": hit.message.as_ref().map(message_json),
        "snippet": hit.snippet.iter().map(|p| json!({"text": p.text, "highlighted": p.highlighted})).collect::<Vec<_>>(),
        "score": hit.score,
    })
}

/// Matched words in **bold** markers, as Markdown would show them.
pub(crate) fn search_table(hits: &[pb::SearchHit]) -> Table {
    let mut table = table(&["ID", "TIME", "CONVERSATION", "FROM", "MATCH"]);
    for hit in hits {
        let Some(m) = &hit.message else { continue };
        let snippet: String = hit
            .snippet
            .iter()
            .map(|p| if p.highlighted { format!("**{}**", p.text) } else { p.text.clone() })
            .collect();
        table.add_row(vec![
            m.id.to_string(),
            format_ms(m.ts_ms),
            m.channel_id.to_string(),
            m.from.clone(),
            snippet,
        ]);
    }
    table
}

pub(crate) fn notification_json(n: &pb::Notification) -> Value {
    json!({
        "id": n.id.to_string(),
        "conversation_id": n.conversation_id.to_string(),
        "message_id": n.message_id.to_string(),
        "from": n.from,
        "reason": reason_name(n.reason),
        "preview": n.preview,
        "created_at_ms": n.created_at_ms,
        "read": n.read,
    })
}

pub(crate) fn notifications_table(notifications: &[pb::Notification]) -> Table {
    let mut table = table(&["ID", "TIME", "CONVERSATION", "FROM", "WHY", "PREVIEW", "READ"]);
    for n in notifications {
        table.add_row(vec![
            n.id.to_string(),
            format_ms(n.created_at_ms),
            n.conversation_id.to_string(),
            n.from.clone(),
            reason_name(n.reason).to_string(),
            n.preview.clone(),
            if n.read { "yes" } else { "no" }.to_string(),
        ]);
    }
    table
}

/// One live event as JSON (one object per line in `sbctl tail --json`).
pub(crate) fn event_json(event: &pb::Event) -> Value {
    use pb::event::Kind;
    let conversation = event.conversation_id.to_string();
    let (kind, body) = match &event.kind {
        Some(Kind::MessageCreated(e)) => ("message_created", e.message.as_ref().map(message_json)),
        Some(Kind::MessageEdited(e)) => ("message_edited", e.message.as_ref().map(message_json)),
        Some(Kind::MessageDeleted(e)) => ("message_deleted", e.message.as_ref().map(message_json)),
        Some(Kind::MessageExpired(e)) => ("message_expired", e.message.as_ref().map(message_json)),
        Some(Kind::MemberJoined(e)) => ("member_joined", e.member.as_ref().map(member_json)),
        Some(Kind::MemberLeft(e)) => {
            ("member_left", Some(json!({ "user_id": e.user_id, "removed_by": e.removed_by })))
        }
        Some(Kind::MemberRoleChanged(e)) => {
            ("member_role_changed", e.member.as_ref().map(member_json))
        }
        Some(Kind::MemberTimeoutChanged(e)) => {
            ("member_timeout_changed", e.member.as_ref().map(member_json))
        }
        Some(Kind::ConversationUpdated(e)) => {
            ("conversation_updated", e.conversation.as_deref().map(conversation_json))
        }
        Some(Kind::ConversationArchived(e)) => {
            ("conversation_archived", e.conversation.as_deref().map(conversation_json))
        }
        Some(Kind::Typing(e)) => {
            ("typing", Some(json!({ "user_id": e.user_id, "typing": e.typing })))
        }
        Some(Kind::ReadReceipt(e)) => (
            "read_receipt",
            Some(json!({ "user_id": e.user_id, "message_id": e.message_id.to_string() })),
        ),
        Some(Kind::PresenceChanged(e)) => {
            let users: Vec<_> = e.users.iter().map(presence_json).collect();
            ("presence_changed", Some(json!({ "users": users })))
        }
        Some(Kind::OnlineCount(e)) => {
            ("online_count", Some(json!({ "online": e.online, "members": e.members })))
        }
        Some(Kind::UnreadChanged(e)) => (
            "unread_changed",
            Some(json!({
                "read_up_to": e.read_up_to.to_string(),
                "unread_count": e.unread_count,
                "mention_count": e.mention_count,
            })),
        ),
        Some(Kind::ThreadChanged(e)) => ("thread_changed", e.thread.as_ref().map(thread_json)),
        // Between controllers and relays only.
        Some(Kind::BlocksChanged(_) | Kind::UserSuspended(_)) | None => ("unknown", None),
    };
    json!({ "conversation_id": conversation, "kind": kind, "data": body })
}

/// One live event as a line for people.
pub(crate) fn event_line(event: &pb::Event) -> String {
    use pb::event::Kind;
    let at = format!("#{}", event.conversation_id);
    match &event.kind {
        Some(Kind::MessageCreated(pb::MessageCreated { message: Some(m) })) => {
            let to = if m.to.is_empty() || m.to == "*" {
                String::new()
            } else {
                format!(" (to {})", m.to)
            };
            let reply =
                if m.parent_id != 0 { format!(" ↪{}", m.parent_id) } else { String::new() };
            let text = if m.deleted { "(deleted)".to_string() } else { m.data.clone() };
            format!("{} {at} {}{to}{reply}: {text}", format_ms(m.ts_ms), m.from)
        }
        Some(Kind::MessageEdited(pb::MessageEdited { message: Some(m) })) => {
            format!("{at} {} edited {}: {}", m.from, m.id, m.data)
        }
        Some(Kind::MessageDeleted(e)) => {
            let id = e.message.as_ref().map_or(0, |m| m.id);
            format!("{at} {} deleted {id}", e.deleted_by)
        }
        Some(Kind::MessageExpired(e)) => {
            let id = e.message.as_ref().map_or(0, |m| m.id);
            format!("{at} {id} expired")
        }
        Some(Kind::MemberJoined(e)) => {
            let user = e.member.as_ref().map_or("?", |m| m.user_id.as_str());
            format!("{at} {user} joined (added by {})", e.added_by)
        }
        Some(Kind::MemberLeft(e)) if e.user_id == e.removed_by => {
            format!("{at} {} left", e.user_id)
        }
        Some(Kind::MemberLeft(e)) => format!("{at} {} was removed by {}", e.user_id, e.removed_by),
        Some(Kind::MemberRoleChanged(e)) => {
            let member = e.member.as_ref();
            let user = member.map_or("?", |m| m.user_id.as_str());
            format!("{at} {user} is now {}", role_name(member.map_or(0, |m| m.role)))
        }
        Some(Kind::MemberTimeoutChanged(e)) => {
            let member = e.member.as_ref();
            let user = member.map_or("?", |m| m.user_id.as_str());
            match member.map_or(0, |m| m.timed_out_until_ms) {
                0 => format!("{at} {} lifted {user}'s timeout", e.changed_by),
                until => {
                    format!("{at} {} timed {user} out until {}", e.changed_by, format_ms(until))
                }
            }
        }
        Some(Kind::ConversationUpdated(e)) => {
            let name = e.conversation.as_ref().map_or("", |c| c.name.as_str());
            format!("{at} {} updated the conversation ({name})", e.updated_by)
        }
        Some(Kind::ConversationArchived(e)) => format!("{at} archived by {}", e.archived_by),
        Some(Kind::Typing(e)) if e.typing => format!("{at} {} is typing…", e.user_id),
        Some(Kind::Typing(e)) => format!("{at} {} stopped typing", e.user_id),
        Some(Kind::ReadReceipt(e)) => format!("{at} {} read up to {}", e.user_id, e.message_id),
        Some(Kind::PresenceChanged(e)) => {
            let (online, offline): (Vec<_>, Vec<_>) = e.users.iter().partition(|u| u.online);
            let names = |users: Vec<&pb::UserPresence>| {
                users.iter().map(|u| u.user_id.as_str()).collect::<Vec<_>>().join(", ")
            };
            match (online.is_empty(), offline.is_empty()) {
                (false, true) => format!("online: {}", names(online)),
                (true, false) => format!("offline: {}", names(offline)),
                _ => format!("online: {}; offline: {}", names(online), names(offline)),
            }
        }
        Some(Kind::OnlineCount(e)) => format!("{at} {} of {} members online", e.online, e.members),
        Some(Kind::UnreadChanged(e)) => format!(
            "{at} read up to {}: {} unread, {} mentions",
            e.read_up_to, e.unread_count, e.mention_count
        ),
        Some(Kind::ThreadChanged(pb::ThreadChanged { thread: Some(t) })) => {
            let root = t.root.as_ref().map_or(0, |m| m.id);
            let following = if t.following { "following" } else { "not following" };
            format!("{at} thread {root}: {following}, {} unread", t.unread_count)
        }
        _ => format!("{at} (an event this sbctl does not know)"),
    }
}

/// A conversation's name, or for a DM the other party's (their id without a name).
fn shown_name(c: &pb::Conversation) -> String {
    match &c.peer {
        Some(peer) if c.name.is_empty() && !peer.display_name.is_empty() => {
            peer.display_name.clone()
        }
        Some(peer) if c.name.is_empty() => peer.user_id.clone(),
        _ => c.name.clone(),
    }
}

/// Custom fields as `key=value` pairs, in key order.
fn fields_text(fields: &std::collections::HashMap<String, String>) -> String {
    let mut pairs: Vec<String> = fields.iter().map(|(k, v)| format!("{k}={v}")).collect();
    pairs.sort();
    pairs.join(" ")
}
