//! Contacts and blocks (People.AddContact, RemoveContact, ListContacts, Block, Unblock,
//! ListBlocked): lists a user keeps of other users of their org, at most 1,000 each. A
//! block keeps the two out of each other's direct conversation (see [`Relations::may_message`]).

use std::sync::Arc;

use crate::auth::Caller;
use crate::error::{ChatError, ChatResult};
use crate::ids::IdGenerator;
use crate::model::{ProfileView, Relation};
use crate::realtime::Events;
use crate::store::Store;
use crate::validate::{self, Violations};

use super::profiles::seen_by;

/// Most users on one list.
const MAX_LIST: usize = 1_000;
/// Default and largest page of a listing.
const LIST_PAGE: (usize, usize) = (100, 200);

/// Someone on a list, as the caller sees them, and when they were put on it.
type Listed = (ProfileView, i64);

pub struct Relations {
    pub(super) store: Arc<dyn Store>,
    pub(super) ids: Arc<IdGenerator>,
    /// Tells both sides' relays when a block changes (they hide presence by it).
    pub(super) events: Events,
}

impl Relations {
    /// Puts `other` on the caller's list of `kind` (a no-op if there already).
    pub async fn add(&self, caller: &Caller, kind: Relation, other: &str) -> ChatResult<Listed> {
        check_other(caller, kind, other)?;
        let (org, user) = (&caller.org, &caller.user);
        let added = match self.store.get_relation(kind, org, user, other).await? {
            Some(at) => at,
            None => {
                let listed = self.store.list_relations(kind, org, user, "", MAX_LIST).await?;
                if listed.len() >= MAX_LIST {
                    let why =
                        format!("you have {MAX_LIST} {} already (the most allowed)", plural(kind));
                    return Err(ChatError::precondition(why));
                }
                let now = self.ids.now_ms();
                if self.store.add_relation(kind, org, user, other, now).await? {
                    self.changed(kind, org, user, other).await;
                    now
                } else {
                    // Another call added them meanwhile: its time stands.
                    self.store.get_relation(kind, org, user, other).await?.unwrap_or(now)
                }
            }
        };
        let profile = self.store.get_profile(org, other).await?;
        Ok((seen_by(caller, other, profile), added))
    }

    /// Takes `other` off the caller's list of `kind`; false if they were not on it.
    pub async fn remove(&self, caller: &Caller, kind: Relation, other: &str) -> ChatResult<bool> {
        Violations::new().check("user_id", validate::check_user_id(other)).finish()?;
        let (org, user) = (&caller.org, &caller.user);
        let removed = self.store.remove_relation(kind, org, user, other).await?;
        if removed {
            self.changed(kind, org, user, other).await;
        }
        Ok(removed)
    }

    /// A block between `user` and `other` was added or lifted: both sides' relays hear.
    async fn changed(&self, kind: Relation, org: &str, user: &str, other: &str) {
        if kind == Relation::Block {
            self.events.blocks_changed(org, user).await;
            self.events.blocks_changed(org, other).await;
        }
    }

    /// A page of the caller's list of `kind` after the user id `after`, and where the next
    /// page starts ("" after the last).
    pub async fn list(
        &self,
        caller: &Caller,
        kind: Relation,
        after: &str,
        limit: u32,
    ) -> ChatResult<(Vec<Listed>, String)> {
        let limit = validate::page_size(limit, LIST_PAGE.0, LIST_PAGE.1)?;
        if !after.is_empty() {
            Violations::new().check("after", validate::check_user_id(after)).finish()?;
        }
        let (org, user) = (&caller.org, &caller.user);
        let page = self.store.list_relations(kind, org, user, after, limit).await?;
        let next =
            if page.len() == limit { page.last().map(|(other, _)| other.clone()) } else { None };
        let mut listed = Vec::with_capacity(page.len());
        for (other, added) in page {
            let profile = self.store.get_profile(org, &other).await?;
            listed.push((seen_by(caller, &other, profile), added));
        }
        Ok((listed, next.unwrap_or_default()))
    }

    /// PERMISSION_DENIED if either of the caller and `other` blocks the other: they may not
    /// message each other directly. The blocked one is told only that they cannot.
    pub async fn may_message(&self, caller: &Caller, other: &str) -> ChatResult<()> {
        let (org, user) = (&caller.org, &caller.user);
        if self.store.get_relation(Relation::Block, org, user, other).await?.is_some() {
            return Err(ChatError::denied(format!(
                "you blocked {other}; unblock them to message them directly"
            )));
        }
        if self.store.get_relation(Relation::Block, org, other, user).await?.is_some() {
            return Err(ChatError::denied(format!("you cannot message {other} directly")));
        }
        Ok(())
    }

    /// Everyone the caller blocks (at most 1,000).
    pub async fn blocks_of(&self, caller: &Caller) -> ChatResult<Vec<String>> {
        self.everyone(Relation::Block, &caller.org, &caller.user).await
    }

    /// Everyone with a block between them and `user`, either way: who must not see what
    /// `user` is doing (typing, and being online).
    pub async fn kept_apart(&self, org: &str, user: &str) -> ChatResult<Vec<String>> {
        let mut apart = self.everyone(Relation::Block, org, user).await?;
        for other in self.blockers_of(org, user).await? {
            if !apart.contains(&other) {
                apart.push(other);
            }
        }
        Ok(apart)
    }

    /// Everyone who blocks `user` (no bound: each blocker bounds only their own list).
    pub(super) async fn blockers_of(&self, org: &str, user: &str) -> ChatResult<Vec<String>> {
        self.everyone(Relation::BlockedBy, org, user).await
    }

    /// Everyone on `user`'s list of `kind`, page by page.
    async fn everyone(&self, kind: Relation, org: &str, user: &str) -> ChatResult<Vec<String>> {
        let mut everyone: Vec<String> = Vec::new();
        loop {
            let after = everyone.last().cloned().unwrap_or_default();
            let page = self.store.list_relations(kind, org, user, &after, MAX_LIST).await?;
            let last_page = page.len() < MAX_LIST;
            everyone.extend(page.into_iter().map(|(other, _)| other));
            if last_page {
                return Ok(everyone);
            }
        }
    }
}

/// `other` must be a valid id and someone else.
fn check_other(caller: &Caller, kind: Relation, other: &str) -> ChatResult<()> {
    Violations::new().check("user_id", validate::check_user_id(other)).finish()?;
    if other == caller.user {
        let why = match kind {
            Relation::Contact => "that is you; you cannot be your own contact",
            Relation::Block | Relation::BlockedBy => "that is you; you cannot block yourself",
        };
        return Err(ChatError::invalid("user_id", why));
    }
    Ok(())
}

fn plural(kind: Relation) -> &'static str {
    match kind {
        Relation::Contact => "contacts",
        Relation::Block | Relation::BlockedBy => "blocked users",
    }
}
