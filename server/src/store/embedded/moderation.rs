//! Bans, timeouts and reports in the embedded engine, keyed by conversation, then user
//! (bans, timeouts) or report id (reports); filters and suspensions, keyed by org, then
//! id or user.

use async_trait::async_trait;
use fjall::OwnedWriteBatch;

use super::{EmbeddedStore, Tables, decode, encode, get, keys, page_after};
use crate::model::{Ban, ConversationId, Filter, Member, MessageId, Report, Suspension, Timeout};
use crate::store::{ModerationStore, StoreResult};

impl Tables {
    /// The reports of message `id` lose the text they kept of it (its retention is over).
    pub(super) fn forget_reported_text(
        &self,
        batch: &mut OwnedWriteBatch,
        conversation_id: ConversationId,
        id: MessageId,
    ) -> StoreResult<()> {
        for row in self.message_reports.prefix(keys::item(conversation_id, id)) {
            let key = row.key()?;
            let entry = keys::conversation_entry(conversation_id, keys::report_of(&key));
            if let Some(mut report) = get::<Report>("reports", &self.reports, &entry)? {
                report.text.clear();
                batch.insert(&self.reports, entry, encode(&report));
            }
            batch.remove(&self.message_reports, key);
        }
        Ok(())
    }
}

#[async_trait]
impl ModerationStore for EmbeddedStore {
    async fn put_ban(&self, ban: &Ban) -> StoreResult<()> {
        let key = keys::member(ban.conversation_id, &ban.user);
        self.write("put_ban", |t, batch| {
            batch.insert(&t.bans, key, encode(ban));
            Ok(())
        })
        .await
    }

    async fn get_ban(&self, id: ConversationId, user: &str) -> StoreResult<Option<Ban>> {
        self.read("get_ban", |t| get("bans", &t.bans, &keys::member(id, user)))
    }

    async fn remove_ban(&self, id: ConversationId, user: &str) -> StoreResult<bool> {
        let key = keys::member(id, user);
        self.write("remove_ban", |t, batch| {
            if !t.bans.contains_key(&key)? {
                return Ok(false);
            }
            batch.remove(&t.bans, key.clone());
            Ok(true)
        })
        .await
    }

    async fn list_bans(
        &self,
        id: ConversationId,
        after: &str,
        limit: usize,
    ) -> StoreResult<Vec<Ban>> {
        self.read("list_bans", |t| {
            let after = (!after.is_empty()).then(|| keys::member(id, after));
            page_after("bans", &t.bans, &keys::conversation(id), after, limit)
        })
    }

    async fn set_timeout(
        &self,
        id: ConversationId,
        user: &str,
        timeout: Option<&Timeout>,
    ) -> StoreResult<bool> {
        let key = keys::member(id, user);
        self.write("set_timeout", |t, batch| {
            match timeout {
                Some(timeout) => batch.insert(&t.timeouts, key.clone(), encode(timeout)),
                None => batch.remove(&t.timeouts, key.clone()),
            }
            let Some(member) = t.member(id, user)? else {
                return Ok(false);
            };
            let member = Member { timeout: timeout.cloned(), ..member };
            batch.insert(&t.members, key, encode(&member));
            Ok(true)
        })
        .await
    }

    async fn get_timeout(&self, id: ConversationId, user: &str) -> StoreResult<Option<Timeout>> {
        self.read("get_timeout", |t| get("timeouts", &t.timeouts, &keys::member(id, user)))
    }

    async fn put_filter(&self, filter: &Filter) -> StoreResult<()> {
        let key = keys::org_entry(&filter.org, filter.id);
        self.write("put_filter", |t, batch| {
            batch.insert(&t.filters, key, encode(filter));
            Ok(())
        })
        .await
    }

    async fn remove_filter(&self, org: &str, id: u64) -> StoreResult<bool> {
        let key = keys::org_entry(org, id);
        self.write("remove_filter", |t, batch| {
            if !t.filters.contains_key(&key)? {
                return Ok(false);
            }
            batch.remove(&t.filters, key.clone());
            Ok(true)
        })
        .await
    }

    async fn list_filters(&self, org: &str, limit: usize) -> StoreResult<Vec<Filter>> {
        self.read("list_filters", |t| {
            let mut filters = Vec::new();
            for item in t.filters.prefix(keys::org_prefix(org)).take(limit) {
                let (_, value) = item.into_inner()?;
                filters.push(decode("filters", &value)?);
            }
            Ok(filters)
        })
    }

    async fn put_suspension(&self, suspension: &Suspension) -> StoreResult<()> {
        let key = keys::user_prefix(&suspension.org, &suspension.user);
        self.write("put_suspension", |t, batch| {
            batch.insert(&t.suspensions, key, encode(suspension));
            Ok(())
        })
        .await
    }

    async fn remove_suspension(&self, org: &str, user: &str) -> StoreResult<bool> {
        let key = keys::user_prefix(org, user);
        self.write("remove_suspension", |t, batch| {
            if !t.suspensions.contains_key(&key)? {
                return Ok(false);
            }
            batch.remove(&t.suspensions, key.clone());
            Ok(true)
        })
        .await
    }

    async fn list_suspensions(
        &self,
        org: &str,
        after: &str,
        limit: usize,
    ) -> StoreResult<Vec<Suspension>> {
        self.read("list_suspensions", |t| {
            let after = (!after.is_empty()).then(|| keys::user_prefix(org, after));
            page_after("suspensions", &t.suspensions, &keys::org_prefix(org), after, limit)
        })
    }

    async fn put_report(&self, report: &Report) -> StoreResult<()> {
        let key = keys::conversation_entry(report.conversation_id, report.id);
        let of_message = keys::message_report(report.conversation_id, report.message_id, report.id);
        self.write("put_report", |t, batch| {
            batch.insert(&t.message_reports, of_message, []);
            batch.insert(&t.reports, key, encode(report));
            Ok(())
        })
        .await
    }

    async fn get_report(&self, id: ConversationId, report: u64) -> StoreResult<Option<Report>> {
        self.read("get_report", |t| {
            get("reports", &t.reports, &keys::conversation_entry(id, report))
        })
    }

    async fn list_reports(
        &self,
        id: ConversationId,
        before: u64,
        limit: usize,
    ) -> StoreResult<Vec<Report>> {
        self.read("list_reports", |t| {
            let range = keys::conversation_entry(id, 0)..keys::conversation_entry(id, before);
            let mut reports = Vec::new();
            for item in t.reports.range(range).rev().take(limit) {
                let (_, value) = item.into_inner()?;
                reports.push(decode("reports", &value)?);
            }
            Ok(reports)
        })
    }
}
