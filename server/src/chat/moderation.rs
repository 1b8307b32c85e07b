//! Moderation of teams and channels: bans. A banned user is removed (if a member) and
//! neither joins nor is added again until an admin unbans them. Every ban and unban is
//! audited; the removal reaches the conversation and the user live, and resuming clients
//! through the log, like any removal.

use std::sync::Arc;

use super::{Audit, as_team_member, policy};
use crate::auth::Caller;
use crate::error::{ChatError, ChatResult};
use crate::ids::IdGenerator;
use crate::model::{AuditAction, Ban, ConversationId, Role};
use crate::realtime::Events;
use crate::store::Store;
use crate::validate::{self, Violations};

/// Default and largest page of ListBans.
const BANS_PAGE: (usize, usize) = (100, 1000);
/// Longest reason, in characters.
const MAX_REASON_CHARS: usize = 500;

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
