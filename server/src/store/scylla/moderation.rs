//! Bans, timeouts and reports in the ScyllaDB engine: `bans`, `timeouts` (each row living
//! as long as its timeout runs) and `reports`, one partition per conversation each; and
//! `filters` and `suspensions`, one partition per org.

use async_trait::async_trait;

use super::ScyllaStore;
use super::rows::{corrupt, row_limit, to_i64};
use super::statements::Statement;
use crate::model::{
    Ban, ConversationId, Filter, FilterAction, FilterKind, MessageId, Report, ReportState,
    Suspension, Timeout,
};
use crate::store::{ModerationStore, StoreResult};

/// A `bans` row: user, by, at, reason.
type BanRow = (String, String, i64, Option<String>);

fn ban(id: ConversationId) -> impl Fn(BanRow) -> Ban {
    move |(user, by, at_ms, reason)| Ban {
        conversation_id: id,
        user,
        by,
        at_ms,
        reason: reason.unwrap_or_default(),
    }
}

/// A `reports` row: id, message, reporter, reason, author, text, state, handled by, at.
type ReportRow =
    (i64, i64, String, Option<String>, String, Option<String>, String, Option<String>, Option<i64>);

fn report(id: ConversationId, row: ReportRow) -> StoreResult<Report> {
    let (report_id, message_id, reporter, reason, author, text, state, handled_by, handled_at) =
        row;
    let state = ReportState::from_name(&state)
        .ok_or_else(|| corrupt("reports", format!("unknown state `{state}`")))?;
    Ok(Report {
        id: report_id as u64,
        conversation_id: id,
        message_id: message_id as u64,
        reporter,
        reason: reason.unwrap_or_default(),
        author,
        text: text.unwrap_or_default(),
        state,
        handled_by: handled_by.unwrap_or_default(),
        handled_at_ms: handled_at.unwrap_or_default(),
    })
}

/// A `filters` row: id, kind, pattern, action, created by, created at.
type FilterRow = (i64, String, String, String, Option<String>, Option<i64>);

fn filter(org: &str, (id, kind, pattern, action, by, at): FilterRow) -> StoreResult<Filter> {
    let corrupt_name =
        |what: &str, name: &str| corrupt("filters", format!("unknown {what} `{name}`"));
    Ok(Filter {
        org: org.to_string(),
        id: id as u64,
        kind: FilterKind::from_name(&kind).ok_or_else(|| corrupt_name("kind", &kind))?,
        pattern,
        action: FilterAction::from_name(&action).ok_or_else(|| corrupt_name("action", &action))?,
        created_by: by.unwrap_or_default(),
        created_at_ms: at.unwrap_or_default(),
    })
}

/// How long past its end a `timeouts` row is kept, in seconds.
const TIMEOUT_ROW_SLACK_SECS: i64 = 3600;

impl ScyllaStore {
    /// The reports of message `id` lose the text they kept of it (its retention is over).
    pub(super) async fn forget_reported_text(
        &self,
        conversation_id: ConversationId,
        id: MessageId,
    ) -> StoreResult<()> {
        let message = (to_i64(conversation_id), to_i64(id));
        let reports: Vec<(i64,)> = self.rows(Statement::MessageReportList, message).await?;
        for (report,) in reports {
            self.run(Statement::ReportForgetText, ("", message.0, report)).await?;
        }
        self.run(Statement::MessageReportsDelete, message).await?;
        Ok(())
    }
}

#[async_trait]
impl ModerationStore for ScyllaStore {
    async fn put_ban(&self, b: &Ban) -> StoreResult<()> {
        let row = (to_i64(b.conversation_id), &b.user, &b.by, b.at_ms, &b.reason);
        self.run(Statement::BanPut, row).await?;
        Ok(())
    }

    async fn get_ban(&self, id: ConversationId, user: &str) -> StoreResult<Option<Ban>> {
        let rows: Vec<BanRow> = self.rows(Statement::BanGet, (to_i64(id), user)).await?;
        Ok(rows.into_iter().next().map(ban(id)))
    }

    async fn remove_ban(&self, id: ConversationId, user: &str) -> StoreResult<bool> {
        if self.get_ban(id, user).await?.is_none() {
            return Ok(false);
        }
        self.run(Statement::BanDelete, (to_i64(id), user)).await?;
        Ok(true)
    }

    async fn list_bans(
        &self,
        id: ConversationId,
        after: &str,
        limit: usize,
    ) -> StoreResult<Vec<Ban>> {
        let rows: Vec<BanRow> =
            self.rows(Statement::BanList, (to_i64(id), after, row_limit(limit))).await?;
        Ok(rows.into_iter().map(ban(id)).collect())
    }

    async fn set_timeout(
        &self,
        id: ConversationId,
        user: &str,
        timeout: Option<&Timeout>,
    ) -> StoreResult<bool> {
        match timeout {
            Some(t) => {
                let now_ms = chrono::Utc::now().timestamp_millis();
                let ttl = (t.until_ms - now_ms).max(0) / 1000 + TIMEOUT_ROW_SLACK_SECS;
                let ttl = i32::try_from(ttl).unwrap_or(i32::MAX);
                let row = (to_i64(id), user, t.until_ms, &t.by, &t.reason, ttl);
                self.run(Statement::TimeoutPut, row).await?;
            }
            None => {
                self.run(Statement::TimeoutDelete, (to_i64(id), user)).await?;
            }
        }
        let (until, by, reason) = match timeout {
            Some(t) => (Some(t.until_ms), Some(t.by.as_str()), Some(t.reason.as_str())),
            None => (None, None, None),
        };
        let values = (until, by, reason, to_i64(id), user);
        let (applied, _) = self.lwt(Statement::MemberSetTimeout, values).await?;
        Ok(applied)
    }

    async fn get_timeout(&self, id: ConversationId, user: &str) -> StoreResult<Option<Timeout>> {
        let rows: Vec<(i64, Option<String>, Option<String>)> =
            self.rows(Statement::TimeoutGet, (to_i64(id), user)).await?;
        Ok(rows.into_iter().next().map(|(until_ms, by, reason)| Timeout {
            until_ms,
            by: by.unwrap_or_default(),
            reason: reason.unwrap_or_default(),
        }))
    }

    async fn put_filter(&self, f: &Filter) -> StoreResult<()> {
        let row = (
            &f.org,
            to_i64(f.id),
            f.kind.name(),
            &f.pattern,
            f.action.name(),
            &f.created_by,
            f.created_at_ms,
        );
        self.run(Statement::FilterPut, row).await?;
        Ok(())
    }

    async fn remove_filter(&self, org: &str, id: u64) -> StoreResult<bool> {
        let (applied, _) = self.lwt(Statement::FilterDelete, (org, to_i64(id))).await?;
        Ok(applied)
    }

    async fn list_filters(&self, org: &str, limit: usize) -> StoreResult<Vec<Filter>> {
        let rows: Vec<FilterRow> =
            self.rows(Statement::FilterList, (org, row_limit(limit))).await?;
        rows.into_iter().map(|row| filter(org, row)).collect()
    }

    async fn put_suspension(&self, s: &Suspension) -> StoreResult<()> {
        let row = (&s.org, &s.user, &s.by, s.at_ms, &s.reason);
        self.run(Statement::SuspensionPut, row).await?;
        Ok(())
    }

    async fn remove_suspension(&self, org: &str, user: &str) -> StoreResult<bool> {
        let (applied, _) = self.lwt(Statement::SuspensionDelete, (org, user)).await?;
        Ok(applied)
    }

    async fn list_suspensions(
        &self,
        org: &str,
        after: &str,
        limit: usize,
    ) -> StoreResult<Vec<Suspension>> {
        let rows: Vec<(String, Option<String>, Option<i64>, Option<String>)> =
            self.rows(Statement::SuspensionList, (org, after, row_limit(limit))).await?;
        Ok(rows
            .into_iter()
            .map(|(user, by, at_ms, reason)| Suspension {
                org: org.to_string(),
                user,
                by: by.unwrap_or_default(),
                at_ms: at_ms.unwrap_or_default(),
                reason: reason.unwrap_or_default(),
            })
            .collect())
    }

    async fn put_report(&self, r: &Report) -> StoreResult<()> {
        let row = (
            to_i64(r.conversation_id),
            to_i64(r.id),
            to_i64(r.message_id),
            &r.reporter,
            &r.reason,
            &r.author,
            &r.text,
            r.state.name(),
            &r.handled_by,
            r.handled_at_ms,
        );
        let of_message = (to_i64(r.conversation_id), to_i64(r.message_id), to_i64(r.id));
        self.run(Statement::MessageReportInsert, of_message).await?;
        self.run(Statement::ReportPut, row).await?;
        Ok(())
    }

    async fn get_report(&self, id: ConversationId, report_id: u64) -> StoreResult<Option<Report>> {
        let rows: Vec<ReportRow> =
            self.rows(Statement::ReportGet, (to_i64(id), to_i64(report_id))).await?;
        rows.into_iter().next().map(|row| report(id, row)).transpose()
    }

    async fn list_reports(
        &self,
        id: ConversationId,
        before: u64,
        limit: usize,
    ) -> StoreResult<Vec<Report>> {
        let key = (to_i64(id), to_i64(before), row_limit(limit));
        let rows: Vec<ReportRow> = self.rows(Statement::ReportList, key).await?;
        rows.into_iter().map(|row| report(id, row)).collect()
    }
}
