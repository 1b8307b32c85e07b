//! Bans and reports in the ScyllaDB engine: `bans` and `reports`, one partition per
//! conversation each.

use async_trait::async_trait;

use super::ScyllaStore;
use super::rows::{corrupt, row_limit, to_i64};
use super::statements::Statement;
use crate::model::{Ban, ConversationId, Report, ReportState};
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
