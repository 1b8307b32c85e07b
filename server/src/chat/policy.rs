//! Who may do what, by role: members send, receive, DM and leave; admins also
//! add and remove members and edit metadata; the owner also promotes, demotes, transfers
//! and archives. Archived conversations are read-only.

use crate::error::{ChatError, ChatResult};
use crate::model::{Conversation, Member, Role};

/// Rejects any write to an archived conversation.
pub(super) fn writable(conversation: &Conversation) -> ChatResult<()> {
    if conversation.archived {
        Err(ChatError::precondition(format!(
            "conversation {} is archived and read-only",
            conversation.id
        )))
    } else {
        Ok(())
    }
}

/// Rejects management calls on DIRECT and SELF conversations, which have no roles.
pub(super) fn managed(conversation: &Conversation) -> ChatResult<()> {
    if conversation.kind.is_managed() {
        Ok(())
    } else {
        Err(ChatError::precondition(format!(
            "conversation {} is a direct or self conversation; it has no members to manage",
            conversation.id
        )))
    }
}

/// Requires at least `needed` (Admin or Owner) of the caller.
pub(super) fn at_least(member: &Member, needed: Role, action: &str) -> ChatResult<()> {
    if member.role >= needed {
        Ok(())
    } else {
        let who = if needed == Role::Owner { "the owner" } else { "admins and the owner" };
        Err(ChatError::denied(format!("only {who} may {action}")))
    }
}

/// Members post, except where only admins and the owner do.
pub(super) fn may_post(conversation: &Conversation, member: &Member) -> ChatResult<()> {
    if conversation.admins_only_post() && member.role < Role::Admin {
        Err(ChatError::denied(format!(
            "only admins and the owner post in conversation {}",
            conversation.id
        )))
    } else {
        Ok(())
    }
}

/// Admins remove members; only the owner removes admins; nobody removes the owner.
pub(super) fn may_remove(remover: &Member, target: &Member) -> ChatResult<()> {
    match target.role {
        Role::Owner => Err(ChatError::denied("the owner cannot be removed")),
        Role::Admin => at_least(remover, Role::Owner, "remove an admin"),
        Role::Member => at_least(remover, Role::Admin, "remove members"),
    }
}
