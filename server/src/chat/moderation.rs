//! Moderation of teams and channels: bans, timeouts and reports. A banned user is removed
//! (if a member) and neither joins nor is added again until an admin unbans them; the
//! removal reaches the conversation and the user live, and resuming clients through the
//! log, like any removal. A timed-out member stays and reads but does not post, edit,
//! react, type or upload until the timeout runs out or is lifted, whether or not they
//! leave and join again (see `policy::not_timed_out`). Members report messages to the
//! admins, who resolve or dismiss them; a report keeps the message as it was, for the
//! admins, after it is deleted. Bans, timeouts and handled reports are audited.

use std::sync::Arc;
use std::time::Duration;

use super::{Audit, as_team_member, policy};
use crate::access;
use crate::auth::Caller;
use crate::error::{ChatError, ChatResult};
use crate::ids::IdGenerator;
use crate::model::{
    AuditAction, Ban, Conversation, ConversationId, Member, MessageId, Report, ReportState, Role,
    Timeout,
};
use crate::realtime::Events;
use crate::store::Store;
use crate::validate::{self, Violations};

/// Default and largest page of ListBans.
const BANS_PAGE: (usize, usize) = (100, 1000);
/// Longest reason, in characters.
const MAX_REASON_CHARS: usize = 500;
/// Default and largest page of ListReports.
const REPORTS_PAGE: (usize, usize) = (50, 200);
/// Longest timeout: 28 days.
const MAX_TIMEOUT_SECS: u32 = 28 * 24 * 3600;

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
        Ok(super::named_page(bans, limit, |b| &b.user))
    }

    /// TimeoutMember: an admin or the owner times a member out for `seconds`, or lifts
    /// their timeout (0); whom one may time out follows whom one may remove. The member
    /// as it is now.
    pub async fn timeout(
        &self,
        caller: &Caller,
        id: ConversationId,
        user: &str,
        seconds: u32,
        reason: &str,
    ) -> ChatResult<Member> {
        let mut violations = Violations::new();
        violations
            .check("user_id", validate::check_user_id(user))
            .check("reason", validate::check_line(reason, MAX_REASON_CHARS));
        if seconds > MAX_TIMEOUT_SECS {
            let why = format!("must be at most {MAX_TIMEOUT_SECS} (28 days), got {seconds}");
            violations.check("duration_seconds", Err(why));
        }
        violations.finish()?;
        let (_, me) = as_team_member(&*self.store, caller, id).await?;
        policy::at_least(&me, Role::Admin, "time members out")?;
        if user == caller.user {
            return Err(ChatError::invalid("user_id", "you cannot time yourself out"));
        }
        let not_member = || ChatError::not_found(format!("{user} is not a member of {id}"));
        let target = self.store.get_member(id, user).await?.ok_or_else(not_member)?;
        policy::may_remove(&me, &target)?;
        let now = self.ids.now_ms();
        let timeout = (seconds > 0).then(|| Timeout {
            until_ms: now + i64::from(seconds) * 1000,
            by: caller.user.clone(),
            reason: reason.to_string(),
        });
        let was_timed_out = target.timed_out(now).is_some();
        if !self.store.set_timeout(id, user, timeout.as_ref()).await? {
            return Err(not_member());
        }
        let member = Member { timeout, ..target };
        self.events.timeout_changed(&caller.org, id, &member, &caller.user).await;
        match &member.timeout {
            Some(t) => {
                let detail = format!("until {}: {}", policy::time_of(t.until_ms), t.reason);
                self.audit.record(caller, AuditAction::MemberTimedOut, id, user, detail).await;
            }
            None if was_timed_out => {
                let action = AuditAction::MemberTimeoutLifted;
                self.audit.record(caller, action, id, user, String::new()).await;
            }
            None => {}
        }
        Ok(member)
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

/// Slow mode: a plain member posts at most once per the conversation's interval;
/// RESOURCE_EXHAUSTED saying when they may post again. Two posts racing each other are
/// told apart by the store's compare-and-set of the member's last post.
pub(super) async fn within_slow_mode(
    store: &dyn Store,
    conversation: &Conversation,
    member: &Member,
    now_ms: i64,
) -> ChatResult<()> {
    let interval_ms = i64::from(conversation.slow_mode_seconds) * 1000;
    if interval_ms == 0 || member.role >= Role::Admin {
        return Ok(());
    }
    let wait = |ms: i64| ChatError::TooMany {
        what: format!(
            "slow mode: one post every {} seconds in conversation {}",
            conversation.slow_mode_seconds, conversation.id
        ),
        retry_after: Duration::from_millis(ms.max(0) as u64),
    };
    let next_ms = member.last_post_ms + interval_ms;
    if member.last_post_ms != 0 && now_ms < next_ms {
        return Err(wait(next_ms - now_ms));
    }
    let (id, user) = (conversation.id, &member.user_id);
    if !store.claim_post(id, user, member.last_post_ms, now_ms).await? {
        return Err(wait(interval_ms));
    }
    Ok(())
}

/// Lets new members into a conversation as moderation has it: refuses banned users
/// (FAILED_PRECONDITION naming the first when an admin adds them, PERMISSION_DENIED when
/// they join themselves), and gives back the timeout of one who left while it ran.
pub(super) async fn admit(
    store: &dyn Store,
    caller: &Caller,
    id: ConversationId,
    members: &mut [Member],
) -> ChatResult<()> {
    for member in members.iter_mut() {
        let user = &member.user_id;
        if store.get_ban(id, user).await?.is_some() {
            return Err(match *user == caller.user {
                true => ChatError::denied(format!("you are banned from conversation {id}")),
                false => ChatError::precondition(format!(
                    "{user} is banned from conversation {id}; unban them first"
                )),
            });
        }
        let timeout = store.get_timeout(id, user).await?;
        member.timeout = timeout.filter(|t| t.until_ms > member.joined_at_ms);
    }
    Ok(())
}
