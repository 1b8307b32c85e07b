//! Operators' views: relay status, cluster figures, connections and the audit log.

use comfy_table::Table;
use serde_json::{Value, json};
use switchboard_sdk::proto as pb;

use super::{format_ms, table};

pub(crate) fn relay_status_json(s: &pb::RelayStatusResponse) -> Value {
    json!({
        "sessions": s.sessions,
        "upstream_channels": s.upstream_channels.iter().map(u64::to_string).collect::<Vec<_>>(),
        "upstream_users": s.upstream_users,
        "events_received": s.events_received,
        "events_delivered": s.events_delivered,
        "slow_disconnects": s.slow_disconnects,
        "upstream_connected": s.upstream_connected,
    })
}

pub(crate) fn relay_status_table(s: &pb::RelayStatusResponse) -> Table {
    let mut table = table(&["FIELD", "VALUE"]);
    let channels: Vec<String> = s.upstream_channels.iter().map(u64::to_string).collect();
    let rows = [
        ("client streams", s.sessions.to_string()),
        ("controller link", if s.upstream_connected { "up" } else { "down" }.to_string()),
        ("upstream channels", format!("{} {}", channels.len(), channels.join(" "))),
        ("upstream users", s.upstream_users.to_string()),
        ("events received", s.events_received.to_string()),
        ("events delivered", s.events_delivered.to_string()),
        ("slow clients cut off", s.slow_disconnects.to_string()),
    ];
    for (field, value) in rows {
        table.add_row(vec![field.to_string(), value]);
    }
    table
}

pub(crate) fn admin_stats_json(s: &pb::AdminStatsResponse) -> Value {
    let controllers: Vec<Value> = s
        .controllers
        .iter()
        .map(|c| {
            json!({
                "node_id": c.node_id,
                "address": c.address,
                "uptime_secs": c.uptime_secs,
                "messages_sent": c.messages_sent,
                "relay_streams": c.relay_streams,
                "bus_topics": c.bus_topics,
                "bus_resyncs": c.bus_resyncs,
                "bus_connected": c.bus_connected,
                "gap_fills": c.gap_fills,
            })
        })
        .collect();
    let relays: Vec<Value> = s
        .relays
        .iter()
        .map(|r| {
            json!({
                "address": r.address,
                "controller": r.controller,
                "uptime_secs": r.uptime_secs,
                "client_streams": r.client_streams,
                "upstream_topics": r.upstream_topics,
                "local_subscriptions": r.local_subscriptions,
                "events_received": r.events_received,
                "deliveries": r.deliveries,
                "slow_disconnects": r.slow_disconnects,
                "resyncs": r.resyncs,
            })
        })
        .collect();
    json!({ "controllers": controllers, "relays": relays })
}

/// A controllers table and a relays table.
pub(crate) fn admin_stats_tables(s: &pb::AdminStatsResponse) -> String {
    let mut controllers = table(&[
        "CONTROLLER",
        "NODE",
        "UPTIME",
        "SENT",
        "RELAYS",
        "BUS TOPICS",
        "BUS",
        "RESYNCS",
        "GAP FILLS",
    ]);
    for c in &s.controllers {
        controllers.add_row(vec![
            c.address.clone(),
            c.node_id.to_string(),
            uptime(c.uptime_secs),
            c.messages_sent.to_string(),
            c.relay_streams.to_string(),
            c.bus_topics.to_string(),
            if c.bus_connected { "up" } else { "down" }.to_string(),
            c.bus_resyncs.to_string(),
            c.gap_fills.to_string(),
        ]);
    }
    let mut relays = table(&[
        "RELAY",
        "CONTROLLER",
        "UPTIME",
        "CLIENTS",
        "TOPICS",
        "SUBSCRIPTIONS",
        "RECEIVED",
        "DELIVERED",
        "SLOW CUT",
        "RESYNCS",
    ]);
    for r in &s.relays {
        relays.add_row(vec![
            r.address.clone(),
            r.controller.clone(),
            uptime(r.uptime_secs),
            r.client_streams.to_string(),
            r.upstream_topics.to_string(),
            r.local_subscriptions.to_string(),
            r.events_received.to_string(),
            r.deliveries.to_string(),
            r.slow_disconnects.to_string(),
            r.resyncs.to_string(),
        ]);
    }
    format!("{controllers}\n{relays}")
}

fn uptime(secs: u64) -> String {
    humantime::format_duration(std::time::Duration::from_secs(secs)).to_string()
}

pub(crate) fn connection_json(c: &pb::Connection) -> Value {
    json!({
        "user_id": c.user_id,
        "org": c.org,
        "relay": c.relay,
        "streams": c.streams,
        "connected_since_ms": c.connected_since_ms,
    })
}

pub(crate) fn audit_json(e: &pb::AuditEntry) -> Value {
    json!({
        "id": e.id.to_string(),
        "at_ms": e.at_ms,
        "actor": e.actor,
        "action": e.action,
        "conversation_id": e.conversation_id.to_string(),
        "target": e.target,
        "detail": e.detail,
    })
}

pub(crate) fn audit_table(entries: &[pb::AuditEntry]) -> Table {
    let mut table = table(&["TIME", "ACTOR", "ACTION", "CONVERSATION", "TARGET", "DETAIL"]);
    for e in entries {
        table.add_row(vec![
            format_ms(e.at_ms),
            e.actor.clone(),
            e.action.clone(),
            e.conversation_id.to_string(),
            e.target.clone(),
            e.detail.clone(),
        ]);
    }
    table
}

pub(crate) fn connections_table(connections: &[pb::Connection]) -> Table {
    let mut table = table(&["USER", "RELAY", "STREAMS", "CONNECTED FOR"]);
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or_default();
    for c in connections {
        let connected_for = ((now - c.connected_since_ms).max(0) / 1000) as u64;
        table.add_row(vec![
            c.user_id.clone(),
            c.relay.clone(),
            c.streams.to_string(),
            uptime(connected_for),
        ]);
    }
    table
}

/// A job's state as sbctl shows it, e.g. `running`.
fn job_state(job: &pb::Job) -> String {
    job.state().as_str_name().trim_start_matches("JOB_STATE_").to_lowercase()
}

/// When an export's archive is removed.
pub(crate) fn archive_kept_until(job: &pb::Job) -> String {
    format_ms(job.archive_expires_at_ms)
}

/// What a job did, in one line: `messages 12, attachments 2`.
pub(crate) fn job_counts(job: &pb::Job) -> String {
    let mut counts: Vec<(&String, &u64)> = job.counts.iter().collect();
    counts.sort();
    let counts: Vec<String> = counts.iter().map(|(what, n)| format!("{what} {n}")).collect();
    counts.join(", ")
}

pub(crate) fn job_json(job: &pb::Job) -> Value {
    json!({
        "id": job.id,
        "kind": job.kind().as_str_name().trim_start_matches("JOB_KIND_").to_lowercase(),
        "subject": job.subject,
        "requested_by": job.requested_by,
        "reason": job.reason,
        "created_at_ms": job.created_at_ms,
        "state": job_state(job),
        "stage": job.stage,
        "counts": job.counts,
        "updated_at_ms": job.updated_at_ms,
        "finished_at_ms": job.finished_at_ms,
        "error": job.error,
        "archive_expires_at_ms": job.archive_expires_at_ms,
    })
}

pub(crate) fn jobs_table(jobs: &[pb::Job]) -> Table {
    let mut table = table(&["ID", "KIND", "SUBJECT", "BY", "STARTED", "STATE", "DONE", "ERROR"]);
    for job in jobs {
        let state = match job.stage.as_str() {
            "" => job_state(job),
            stage => format!("{} ({stage})", job_state(job)),
        };
        table.add_row(vec![
            job.id.to_string(),
            job.kind().as_str_name().trim_start_matches("JOB_KIND_").to_lowercase(),
            job.subject.clone(),
            job.requested_by.clone(),
            format_ms(job.created_at_ms),
            state,
            job_counts(job),
            job.error.clone(),
        ]);
    }
    table
}
