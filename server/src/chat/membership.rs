//! Members and roles: listing, adding, removing, promoting, demoting, transferring, leaving.

use std::sync::Arc;

use super::moderation::admit;
use super::{Audit, as_member, as_team_member, new_member, policy};
use crate::access;
use crate::auth::Caller;
use crate::error::{ChatError, ChatResult};
use crate::ids::IdGenerator;
use crate::model::{AuditAction, ConversationId, ConversationView, Member, Role};
use crate::realtime::{Events, changes};
use crate::store::{RoleChange, Store};
use crate::validate::{self, Violations};

/// Default and largest page of ListMembers.
const MEMBERS_PAGE: (usize, usize) = (200, 1000);

/// Who is in a team or channel, and with which role.
pub struct Members {
    pub(super) store: Arc<dyn Store>,
    pub(super) ids: Arc<IdGenerator>,
    pub(super) events: Events,
    pub(super) audit: Arc<Audit>,
}

impl Members {
    /// ListMembers: members of a conversation the caller belongs to, by user id.
    pub async fn members(
        &self,
        caller: &Caller,
        id: ConversationId,
        after: &str,
        limit: u32,
    ) -> ChatResult<(Vec<Member>, String)> {
        let limit = validate::page_size(limit, MEMBERS_PAGE.0, MEMBERS_PAGE.1)?;
        as_member(&*self.store, caller, id).await?;
        let members = self.store.list_members(id, after, limit).await?;
        Ok(super::named_page(members, limit, |m| &m.user_id))
    }

    /// AddMembers: admins and the owner add users as plain members.
    pub async fn add_members(
        &self,
        caller: &Caller,
        id: ConversationId,
        users: &[String],
    ) -> ChatResult<Vec<Member>> {
        let mut violations = Violations::new();
        violations.check("user_ids", validate::check_user_ids(users));
        if users.is_empty() {
            violations.check("user_ids", Err("name at least one user".into()));
        }
        violations.finish()?;
        let (_, me) = as_team_member(&*self.store, caller, id).await?;
        policy::at_least(&me, Role::Admin, "add members")?;
        let joined = changes::join_point(self.store.as_ref(), id).await?;
        let mut new: Vec<Member> = users
            .iter()
            .map(|u| Member { joined, ..new_member(u, Role::Member, self.ids.now_ms()) })
            .collect();
        admit(&*self.store, caller, id, &mut new).await?;
        let added = self.store.add_members(id, &new).await?;
        if !added.is_empty() {
            let conversation = access::conversation_of_org(&*self.store, &caller.org, id).await?;
            let view = ConversationView { conversation, my_role: None };
            for member in &added {
                self.events.member_joined(&view, member, &caller.user, joined.seq).await;
                let action = AuditAction::MemberAdded;
                self.audit.record(caller, action, id, &member.user_id, String::new()).await;
            }
        }
        Ok(added)
    }

    /// RemoveMember, per `policy::may_remove`.
    pub async fn remove_member(
        &self,
        caller: &Caller,
        id: ConversationId,
        user: &str,
    ) -> ChatResult<()> {
        Violations::new().check("user_id", validate::check_user_id(user)).finish()?;
        let (_, me) = as_team_member(&*self.store, caller, id).await?;
        let target = self.target(id, user).await?;
        policy::may_remove(&me, &target)?;
        if let Some(entry) = self.store.remove_member(id, user, &caller.user).await? {
            self.events.member_left(&caller.org, id, &entry).await;
            self.audit.record(caller, AuditAction::MemberRemoved, id, user, String::new()).await;
        }
        Ok(())
    }

    /// PromoteAdmin: the owner makes a member an admin.
    pub async fn promote(
        &self,
        caller: &Caller,
        id: ConversationId,
        user: &str,
    ) -> ChatResult<Member> {
        self.change_role(caller, id, user, Role::Member, Role::Admin, "promote admins").await
    }

    /// DemoteAdmin: the owner makes an admin a member.
    pub async fn demote(
        &self,
        caller: &Caller,
        id: ConversationId,
        user: &str,
    ) -> ChatResult<Member> {
        self.change_role(caller, id, user, Role::Admin, Role::Member, "demote admins").await
    }

    async fn change_role(
        &self,
        caller: &Caller,
        id: ConversationId,
        user: &str,
        from: Role,
        to: Role,
        action: &str,
    ) -> ChatResult<Member> {
        Violations::new().check("user_id", validate::check_user_id(user)).finish()?;
        let (_, me) = as_team_member(&*self.store, caller, id).await?;
        policy::at_least(&me, Role::Owner, action)?;
        let target = self.target(id, user).await?;
        if target.role != from {
            return Err(ChatError::precondition(format!(
                "{user} is {}, not {}",
                role_name(target.role),
                role_name(from)
            )));
        }
        match self.store.change_role(id, user, from, to).await? {
            RoleChange::Changed => {
                let member = Member { role: to, ..target };
                self.events.role_changed(&caller.org, id, &member, &caller.user).await;
                let action = if to > from {
                    AuditAction::MemberPromoted
                } else {
                    AuditAction::MemberDemoted
                };
                self.audit.record(caller, action, id, user, String::new()).await;
                Ok(member)
            }
            RoleChange::NotAMember => Err(not_a_member(id, user)),
            RoleChange::Conflict => {
                Err(ChatError::precondition(format!("{user}'s role changed meanwhile; retry")))
            }
        }
    }

    /// TransferOwnership: the owner hands the team to another member and stays as an admin.
    pub async fn transfer(
        &self,
        caller: &Caller,
        id: ConversationId,
        new_owner: &str,
    ) -> ChatResult<ConversationView> {
        Violations::new().check("new_owner", validate::check_user_id(new_owner)).finish()?;
        let (_, me) = as_team_member(&*self.store, caller, id).await?;
        policy::at_least(&me, Role::Owner, "transfer ownership")?;
        if new_owner == caller.user {
            return Err(ChatError::invalid("new_owner", "you already own it"));
        }
        self.target(id, new_owner).await?;
        let transferred = self.store.transfer_ownership(id, &caller.user, new_owner).await?;
        let Some(conversation) = transferred else {
            return Err(ChatError::precondition("membership changed meanwhile; retry"));
        };
        for user in [new_owner, caller.user.as_str()] {
            if let Some(member) = self.store.get_member(id, user).await? {
                self.events.role_changed(&caller.org, id, &member, &caller.user).await;
            }
        }
        let action = AuditAction::OwnershipTransferred;
        self.audit.record(caller, action, id, new_owner, String::new()).await;
        Ok(ConversationView { conversation, my_role: Some(Role::Admin) })
    }

    /// Leave: any member but the owner, who must transfer ownership first.
    pub async fn leave(&self, caller: &Caller, id: ConversationId) -> ChatResult<()> {
        let (_, me) = as_team_member(&*self.store, caller, id).await?;
        if me.role == Role::Owner {
            return Err(ChatError::precondition(
                "the owner cannot leave; transfer ownership first",
            ));
        }
        if let Some(entry) = self.store.remove_member(id, &caller.user, &caller.user).await? {
            self.events.member_left(&caller.org, id, &entry).await;
        }
        Ok(())
    }

    async fn target(&self, id: ConversationId, user: &str) -> ChatResult<Member> {
        self.store.get_member(id, user).await?.ok_or_else(|| not_a_member(id, user))
    }
}

fn not_a_member(id: ConversationId, user: &str) -> ChatError {
    ChatError::not_found(format!("{user} is not a member of conversation {id}"))
}

fn role_name(role: Role) -> &'static str {
    match role {
        Role::Member => "a member",
        Role::Admin => "an admin",
        Role::Owner => "the owner",
    }
}
