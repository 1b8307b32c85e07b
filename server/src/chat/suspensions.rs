//! Org-wide suspension: an org admin suspends a user, whose every call is then refused
//! and whose streams end at once (the relays holding them are told on the user's topic).
//! Memberships, messages and profile are kept, and come back when the suspension is
//! lifted.
//!
//! Every call asks whether its caller is suspended, so each controller keeps its orgs'
//! suspended users in memory, read again once `RELOAD_AFTER` old: a change applies at once
//! on the controller that made it (and to streams everywhere), and to calls on the other
//! controllers within `RELOAD_AFTER`.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use super::org_cache::OrgCache;
use super::{Audit, policy};
use crate::auth::Caller;
use crate::error::{ChatError, ChatResult};
use crate::ids::IdGenerator;
use crate::model::{AuditAction, Suspension};
use crate::realtime::Events;
use crate::store::Store;
use crate::validate::{self, Violations};

/// How long a controller keeps an org's suspended users before reading them again.
pub(super) const RELOAD_AFTER: Duration = Duration::from_secs(10);
/// Time allowed for a call that passed the suspension check to finish writing.
const IN_FLIGHT: Duration = Duration::from_secs(5);
/// How long after a suspension a call may still get through somewhere, at most.
const SETTLING: Duration = Duration::from_secs(RELOAD_AFTER.as_secs() + IN_FLIGHT.as_secs());
/// Longest reason, in characters.
const MAX_REASON_CHARS: usize = 500;
/// Default and largest page of ListSuspensions; and the page read when loading an org.
const SUSPENSIONS_PAGE: (usize, usize) = (100, 1000);

pub struct Suspensions {
    pub(super) store: Arc<dyn Store>,
    pub(super) ids: Arc<IdGenerator>,
    pub(super) events: Events,
    pub(super) audit: Arc<Audit>,
    /// Each org's suspended users, by user id.
    pub(super) known: OrgCache<HashMap<String, Suspension>>,
}

impl Suspensions {
    /// SuspendUser: an org admin (the caller holds `chat.admin`) suspends a user of their
    /// org; suspending again replaces the reason.
    pub async fn suspend(
        &self,
        caller: &Caller,
        user: &str,
        reason: &str,
    ) -> ChatResult<Suspension> {
        Violations::new()
            .check("user_id", validate::check_user_id(user))
            .check("reason", validate::check_line(reason, MAX_REASON_CHARS))
            .finish()?;
        if user == caller.user {
            return Err(ChatError::invalid("user_id", "you cannot suspend yourself"));
        }
        let suspension = Suspension {
            org: caller.org.clone(),
            user: user.to_string(),
            by: caller.user.clone(),
            at_ms: self.ids.now_ms(),
            reason: reason.to_string(),
        };
        self.store.put_suspension(&suspension).await?;
        self.known.forget(&caller.org);
        self.events.user_suspended(&caller.org, user, reason).await;
        self.audit.record(caller, AuditAction::UserSuspended, 0, user, reason.to_string()).await;
        Ok(suspension)
    }

    /// UnsuspendUser: lifts a suspension; whether there was one.
    pub async fn unsuspend(&self, caller: &Caller, user: &str) -> ChatResult<bool> {
        Violations::new().check("user_id", validate::check_user_id(user)).finish()?;
        let lifted = self.store.remove_suspension(&caller.org, user).await?;
        self.known.forget(&caller.org);
        if lifted {
            self.audit.record(caller, AuditAction::UserUnsuspended, 0, user, String::new()).await;
        }
        Ok(lifted)
    }

    /// ListSuspensions: a page of the caller's org's suspended users by user id, and the
    /// cursor of the next page ("" on the last).
    pub async fn list(
        &self,
        caller: &Caller,
        after: &str,
        limit: u32,
    ) -> ChatResult<(Vec<Suspension>, String)> {
        let limit = validate::page_size(limit, SUSPENSIONS_PAGE.0, SUSPENSIONS_PAGE.1)?;
        let page = self.store.list_suspensions(&caller.org, after, limit).await?;
        Ok(super::named_page(page, limit, |s| &s.user))
    }

    /// Whether `user` is suspended in `org` (as this controller last read it).
    pub async fn is_suspended(&self, org: &str, user: &str) -> ChatResult<bool> {
        Ok(self.suspended(org).await?.contains_key(user))
    }

    /// How long after a suspension a call may still be let through somewhere: until every
    /// controller has read it again, and a call that passed the check just before has
    /// written what it writes. None when `user` is not suspended in `org`; zero once
    /// that time has passed.
    pub async fn settling(&self, org: &str, user: &str) -> ChatResult<Option<Duration>> {
        let Some(suspension) = self.suspended(org).await?.get(user).cloned() else {
            return Ok(None);
        };
        let settling_ms = SETTLING.as_millis() as i64;
        // Clamped: a clock set back would say more.
        let left = (suspension.at_ms + settling_ms - self.ids.now_ms()).clamp(0, settling_ms);
        Ok(Some(Duration::from_millis(left as u64)))
    }

    /// Refuses every call of a suspended user: PERMISSION_DENIED saying since when and why.
    pub async fn refuse_suspended(&self, caller: &Caller) -> ChatResult<()> {
        let suspended = self.suspended(&caller.org).await?;
        let Some(suspension) = suspended.get(&caller.user) else {
            return Ok(());
        };
        Err(ChatError::denied(format!(
            "your account is suspended in this organization since {}{}",
            policy::time_of(suspension.at_ms),
            policy::because(&suspension.reason)
        )))
    }

    /// The org's suspended users, read again once `RELOAD_AFTER` old.
    async fn suspended(&self, org: &str) -> ChatResult<Arc<HashMap<String, Suspension>>> {
        if let Some(kept) = self.known.fresh(org) {
            return Ok(kept);
        }
        let mut users = HashMap::new();
        let mut after = String::new();
        loop {
            let page = self.store.list_suspensions(org, &after, SUSPENSIONS_PAGE.1).await?;
            let full = page.len() == SUSPENSIONS_PAGE.1;
            for suspension in page {
                after.clone_from(&suspension.user);
                users.insert(suspension.user.clone(), suspension);
            }
            if !full {
                break;
            }
        }
        Ok(self.known.put(org, users))
    }
}
