//! The audit log: who changed teams, membership and roles, and who deleted other people's
//! messages and attachments. Written after the change itself succeeded; read by holders of
//! `chat.admin` for their own org only.

use std::sync::Arc;

use crate::auth::Caller;
use crate::error::{ChatError, ChatResult};
use crate::ids::IdGenerator;
use crate::model::{AuditAction, AuditEntry, ConversationId, DAY_MS, audit_day};
use crate::store::AuditStore;

/// Default and largest page of ListAudit.
const AUDIT_PAGE: (usize, usize) = (100, 1000);
/// The longest span one ListAudit call looks through.
const MAX_SPAN_DAYS: i64 = 366;

/// What ListAudit asks for: a time span (newest first) and optional filters.
#[derive(Debug, Clone, Default)]
pub struct AuditQuery {
    /// Oldest time included (Unix ms); default: seven days ago.
    pub since_ms: Option<i64>,
    /// Only entries older than this entry id (the previous page's cursor).
    pub before_id: Option<u64>,
    pub actor: Option<String>,
    pub conversation_id: Option<ConversationId>,
    pub action: Option<AuditAction>,
    pub limit: u32,
}

/// Writes and reads the audit log.
pub struct Audit {
    pub(super) store: Arc<dyn AuditStore>,
    pub(super) ids: Arc<IdGenerator>,
}

impl Audit {
    /// Records that the caller did `action` to `target` in `conversation`. A failure to
    /// record is logged; the change it describes has already happened.
    pub(super) async fn record(
        &self,
        caller: &Caller,
        action: AuditAction,
        conversation: ConversationId,
        target: &str,
        detail: String,
    ) {
        self.record_naming(caller, action, conversation, target, detail, None).await;
    }

    /// [`Self::record`] of an entry that also names `author`, whose message or file it
    /// was: it is listed under them too, with the actor and a target that is a user (see
    /// `chat::erasure`, which finds a user's entries so).
    pub(super) async fn record_naming(
        &self,
        caller: &Caller,
        action: AuditAction,
        conversation: ConversationId,
        target: &str,
        detail: String,
        author: Option<&str>,
    ) {
        let names = [Some(caller.user.as_str()), action.targets_user().then_some(target), author];
        let mut names: Vec<&str> = names.into_iter().flatten().collect();
        names.sort_unstable();
        names.dedup();
        let entry = AuditEntry {
            conversation_id: conversation,
            target: target.to_string(),
            detail,
            ..self.entry(&caller.org, &caller.user, action)
        };
        self.append(&entry, &names).await;
    }

    /// Writes an entry listed under `names`, logging a failure.
    pub(super) async fn append(&self, entry: &AuditEntry, names: &[&str]) {
        if let Err(error) = self.store.append_audit(entry, names).await {
            let action = entry.action.name();
            tracing::error!(%error, action, "could not write an audit entry");
        }
    }

    /// A new entry of `org` by `actor`, at the time of its id.
    pub(super) fn entry(&self, org: &str, actor: &str, action: AuditAction) -> AuditEntry {
        let id = self.ids.next_id();
        AuditEntry {
            id,
            org: org.to_string(),
            at_ms: crate::ids::timestamp_ms(id),
            actor: actor.to_string(),
            action,
            conversation_id: 0,
            target: String::new(),
            detail: String::new(),
        }
    }

    /// ListAudit: the caller's org's entries, newest first, and the cursor for the next
    /// page (None when the span is exhausted). The caller must hold `chat.admin`.
    pub async fn list_audit(
        &self,
        caller: &Caller,
        query: AuditQuery,
    ) -> ChatResult<(Vec<AuditEntry>, Option<u64>)> {
        let limit = crate::validate::page_size(query.limit, AUDIT_PAGE.0, AUDIT_PAGE.1)?;
        let now = self.ids.now_ms();
        let since = query.since_ms.unwrap_or(now - 7 * DAY_MS);
        if since > now || now.saturating_sub(since) > MAX_SPAN_DAYS * DAY_MS {
            return Err(ChatError::invalid(
                "since_ms",
                format!("must be within the last {MAX_SPAN_DAYS} days"),
            ));
        }
        let mut before = query.before_id.unwrap_or(u64::MAX);
        // A cursor from the future reads no further than today: the days walked are
        // bounded by the span, whatever the cursor says.
        let newest_day = match query.before_id {
            Some(id) => audit_day(crate::ids::timestamp_ms(id).min(now)),
            None => audit_day(now),
        };
        let mut entries = Vec::new();
        for day in (audit_day(since)..=newest_day).rev() {
            loop {
                let page = self.store.list_audit(&caller.org, day, before, limit).await?;
                let exhausted = page.len() < limit;
                for entry in page {
                    before = entry.id;
                    if entry.at_ms < since {
                        return Ok((entries, None));
                    }
                    if matches(&query, &entry) {
                        entries.push(entry);
                        if entries.len() == limit {
                            return Ok((entries, Some(before)));
                        }
                    }
                }
                if exhausted {
                    break;
                }
            }
            before = u64::MAX;
        }
        Ok((entries, None))
    }
}

fn matches(query: &AuditQuery, entry: &AuditEntry) -> bool {
    query.actor.as_ref().is_none_or(|actor| &entry.actor == actor)
        && query.conversation_id.is_none_or(|id| entry.conversation_id == id)
        && query.action.is_none_or(|action| entry.action == action)
}
