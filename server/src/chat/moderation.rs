//! Moderation of teams and channels: bans and reports. A banned user is removed (if a
//! member) and neither joins nor is added again until an admin unbans them; the removal
//! reaches the conversation and the user live, and resuming clients through the log, like
//! any removal. Members report messages to the admins, who resolve or dismiss them; a
//! report keeps the message as it was, for the admins, after it is deleted. Bans,
//! unbans and handled reports are audited.

use std::sync::Arc;

use super::{Audit, as_team_member, policy};
use crate::access;
use crate::auth::Caller;
use crate::error::{ChatError, ChatResult};
use crate::ids::IdGenerator;
use crate::model::{AuditAction, Ban, ConversationId, MessageId, Report, ReportState, Role};
use crate::realtime::Events;
use crate::store::Store;
use crate::validate::{self, Violations};

/// Default and largest page of ListBans.
const BANS_PAGE: (usize, usize) = (100, 1000);
/// Longest reason, in characters.
const MAX_REASON_CHARS: usize = 500;
/// Default and largest page of ListReports.
const REPORTS_PAGE: (usize, usize) = (50, 200);

pub struct Moderation {
    pub(super) store: Arc<dyn Store>,
    pub(super) ids: Arc<IdGenerator>,
    pub(super) events: Events,
    pub(super) audit: Arc<Audit>,
}

impl Moderation {
    /// BanMember: an admin or the owner bans a user (a member or not) from a team or
    /// channel. A member is removed; whom one may ban follows whom one may remove (admins
    /// ban members, only the owner bans admins, nobody bans the owner). Banning again
    /// replaces the reason.
    pub async fn ban(
        &self,
        caller: &Caller,
        id: ConversationId,
        user: &str,
        reason: &str,
    ) -> ChatResult<Ban> {
        Violations::new()
            .check("user_id", validate::check_user_id(user))
            .check("reason", validate::check_line(reason, MAX_REASON_CHARS))
            .finish()?;
        let (_, me) = as_team_member(&*self.store, caller, id).await?;
        policy::at_least(&me, Role::Admin, "ban members")?;
        if user == caller.user {
            return Err(ChatError::invalid("user_id", "you cannot ban yourself"));
        }
        if let Some(target) = self.store.get_member(id, user).await? {
            policy::may_remove(&me, &target)?;
        }
        let ban = Ban {
            conversation_id: id,
            user: user.to_string(),
            by: caller.user.clone(),
            at_ms: self.ids.now_ms(),
            reason: reason.to_string(),
        };
        // The ban first: an add racing the removal then sees it.
        self.store.put_ban(&ban).await?;
        if let Some(entry) = self.store.remove_member(id, user, &caller.user).await? {
            self.events.member_left(&caller.org, id, &entry).await;
        }
        self.audit.record(caller, AuditAction::MemberBanned, id, user, reason.to_string()).await;
        Ok(ban)
    }

    /// UnbanMember: an admin or the owner lifts a ban (the user is not added back);
    /// whether there was one.
    pub async fn unban(&self, caller: &Caller, id: ConversationId, user: &str) -> ChatResult<bool> {
        Violations::new().check("user_id", validate::check_user_id(user)).finish()?;
        let (_, me) = as_team_member(&*self.store, caller, id).await?;
        policy::at_least(&me, Role::Admin, "unban members")?;
        let unbanned = self.store.remove_ban(id, user).await?;
        if unbanned {
            self.audit.record(caller, AuditAction::MemberUnbanned, id, user, String::new()).await;
        }
        Ok(unbanned)
    }

    /// ListBans: a page of a conversation's bans by user id (admins and the owner), and
    /// the cursor of the next page ("" on the last).
    pub async fn bans(
        &self,
        caller: &Caller,
        id: ConversationId,
        after: &str,
        limit: u32,
    ) -> ChatResult<(Vec<Ban>, String)> {
        let limit = validate::page_size(limit, BANS_PAGE.0, BANS_PAGE.1)?;
        let (_, me) = super::as_member(&*self.store, caller, id).await?;
        policy::at_least(&me, Role::Admin, "list bans")?;
        let bans = self.store.list_bans(id, after, limit).await?;
        let next = match bans.last() {
            Some(last) if bans.len() == limit => last.user.clone(),
            _ => String::new(),
        };
        Ok((bans, next))
    }

    /// ReportMessage: a member reports a message of a team or channel to its admins, with
    /// a reason; the report keeps the message's author and text as they are now.
    pub async fn report(
        &self,
        caller: &Caller,
        id: ConversationId,
        message_id: MessageId,
        reason: &str,
    ) -> ChatResult<Report> {
        Violations::new()
            .check("message_id", validate::check_id(message_id))
            .check("reason", validate::check_line(reason, MAX_REASON_CHARS))
            .finish()?;
        let (conversation, _) = super::as_member(&*self.store, caller, id).await?;
        policy::managed(&conversation)?;
        let message = access::visible_message(&*self.store, &caller.user, id, message_id).await?;
        if message.deleted {
            return Err(ChatError::precondition(format!("message {message_id} is deleted")));
        }
        if message.from == caller.user {
            return Err(ChatError::invalid("message_id", "you cannot report your own message"));
        }
        let report = Report {
            id: self.ids.next_id(),
            conversation_id: id,
            message_id,
            reporter: caller.user.clone(),
            reason: reason.to_string(),
            author: message.from,
            text: message.data,
            state: ReportState::Open,
            handled_by: String::new(),
            handled_at_ms: 0,
        };
        self.store.put_report(&report).await?;
        Ok(report)
    }

    /// ListReports: a page of a conversation's reports, newest first (admins and the
    /// owner), only the open ones if asked; and the cursor of the next page (0 on the last).
    pub async fn reports(
        &self,
        caller: &Caller,
        id: ConversationId,
        before: Option<u64>,
        limit: u32,
        open_only: bool,
    ) -> ChatResult<(Vec<Report>, u64)> {
        let limit = validate::page_size(limit, REPORTS_PAGE.0, REPORTS_PAGE.1)?;
        let (_, me) = super::as_member(&*self.store, caller, id).await?;
        policy::at_least(&me, Role::Admin, "list reports")?;
        let read = |before, limit| self.store.list_reports(id, before, limit);
        let keep = |r: &Report| !open_only || r.state == ReportState::Open;
        super::kept_page(limit, before, read, |r| r.id, keep).await
    }

    /// ResolveReport: an admin or the owner resolves (acted on it) or dismisses (nothing
    /// to act on) an open report; FAILED_PRECONDITION once it was handled.
    pub async fn handle_report(
        &self,
        caller: &Caller,
        id: ConversationId,
        report_id: u64,
        dismiss: bool,
    ) -> ChatResult<Report> {
        Violations::new().check("report_id", validate::check_id(report_id)).finish()?;
        let (_, me) = super::as_member(&*self.store, caller, id).await?;
        policy::at_least(&me, Role::Admin, "handle reports")?;
        let Some(report) = self.store.get_report(id, report_id).await? else {
            return Err(ChatError::not_found(format!(
                "report {report_id} not found in conversation {id}"
            )));
        };
        if report.state != ReportState::Open {
            return Err(ChatError::precondition(format!(
                "report {report_id} was already {} by {}",
                report.state.name(),
                report.handled_by
            )));
        }
        let (state, action) = match dismiss {
            true => (ReportState::Dismissed, AuditAction::ReportDismissed),
            false => (ReportState::Resolved, AuditAction::ReportResolved),
        };
        let handled = Report {
            state,
            handled_by: caller.user.clone(),
            handled_at_ms: self.ids.now_ms(),
            ..report
        };
        self.store.put_report(&handled).await?;
        let target = handled.message_id.to_string();
        self.audit.record(caller, action, id, &target, handled.reason.clone()).await;
        Ok(handled)
    }
}

/// Refuses to let banned users into a conversation: FAILED_PRECONDITION naming the first
/// when an admin adds them, PERMISSION_DENIED when they join themselves.
pub(super) async fn refuse_banned(
    store: &dyn Store,
    caller: &Caller,
    id: ConversationId,
    users: &[String],
) -> ChatResult<()> {
    for user in users {
        if store.get_ban(id, user).await?.is_none() {
            continue;
        }
        return Err(match *user == caller.user {
            true => ChatError::denied(format!("you are banned from conversation {id}")),
            false => ChatError::precondition(format!(
                "{user} is banned from conversation {id}; unban them first"
            )),
        });
    }
    Ok(())
}
