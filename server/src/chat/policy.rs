//! Who may do what, by role: members send, receive, DM and leave; admins also
//! add and remove members and edit metadata; the owner also promotes, demotes, transfers
//! and archives. Archived conversations are read-only.

use crate::auth::{Caller, Scope};
use crate::error::{ChatError, ChatResult};
use crate::model::{Conversation, Member, Role};

/// Requires `scope` of the caller's token, for calls whose scope depends on what they touch
/// (the others are checked before the domain, the same way).
pub(super) fn scope(caller: &Caller, scope: Scope) -> ChatResult<()> {
    if caller.scopes.contains(scope) {
        Ok(())
    } else {
        Err(ChatError::denied(format!("this call needs the `{}` scope", scope.as_str())))
    }
}

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

/// Who may pin: admins and the owner of a team or channel, or every member where it lets
/// members pin; everyone in DIRECT and SELF conversations.
pub(super) fn may_pin(conversation: &Conversation, member: &Member) -> ChatResult<()> {
    if !conversation.kind.is_managed() || conversation.members_may_pin {
        return Ok(());
    }
    at_least(member, Role::Admin, "pin messages here")
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

/// Refuses a member whose timeout still runs at `now_ms` (they may not post, edit, react,
/// type or upload): PERMISSION_DENIED saying until when and why.
pub(super) fn not_timed_out(member: &Member, now_ms: i64) -> ChatResult<()> {
    let Some(timeout) = member.timed_out(now_ms) else {
        return Ok(());
    };
    Err(ChatError::denied(format!(
        "you are timed out here until {} by {}{}",
        time_of(timeout.until_ms),
        timeout.by,
        because(&timeout.reason)
    )))
}

/// An admin's reason as a refusal ends with it: `: <reason>`, or nothing without one.
pub(super) fn because(reason: &str) -> String {
    match reason {
        "" => String::new(),
        reason => format!(": {reason}"),
    }
}

/// A server time as people read it in errors: `2026-12-07T05:00:00Z`.
pub(super) fn time_of(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .map_or_else(|| ms.to_string(), |t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
}

/// Admins remove members; only the owner removes admins; nobody removes the owner.
pub(super) fn may_remove(remover: &Member, target: &Member) -> ChatResult<()> {
    match target.role {
        Role::Owner => Err(ChatError::denied("the owner cannot be removed")),
        Role::Admin => at_least(remover, Role::Owner, "remove an admin"),
        Role::Member => at_least(remover, Role::Admin, "remove members"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Kind, LogPoint, Visibility};

    fn conversation(kind: Kind) -> Conversation {
        Conversation {
            id: 7,
            org: "acme".into(),
            kind,
            name: "team".into(),
            icon: String::new(),
            archived: false,
            meta_tags: Vec::new(),
            owner: "olivia".into(),
            created_at_ms: 0,
            restricted: false,
            visibility: Visibility::Private,
            member_count: 3,
            custom_fields: Default::default(),
            external_key: None,
            members_may_pin: false,
            slow_mode_seconds: 0,
        }
    }

    fn member(role: Role) -> Member {
        let joined = LogPoint::default();
        Member {
            user_id: format!("{role:?}"),
            role,
            joined_at_ms: 0,
            muted: false,
            joined,
            timeout: None,
            last_post_ms: 0,
        }
    }

    fn is_denied(result: ChatResult<()>) -> bool {
        matches!(result, Err(ChatError::PermissionDenied(_)))
    }

    fn is_precondition(result: ChatResult<()>) -> bool {
        matches!(result, Err(ChatError::FailedPrecondition(_)))
    }

    #[test]
    fn archived_conversations_take_no_writes() {
        let live = conversation(Kind::Group);
        assert!(writable(&live).is_ok());
        assert!(is_precondition(writable(&Conversation { archived: true, ..live })));
    }

    #[test]
    fn only_teams_and_channels_have_members_to_manage() {
        assert!(managed(&conversation(Kind::Group)).is_ok());
        assert!(managed(&conversation(Kind::Channel)).is_ok());
        assert!(is_precondition(managed(&conversation(Kind::Direct))));
        assert!(is_precondition(managed(&conversation(Kind::SelfNotes))));
    }

    #[test]
    fn roles_rank_member_admin_owner() {
        assert!(is_denied(at_least(&member(Role::Member), Role::Admin, "add members")));
        assert!(at_least(&member(Role::Admin), Role::Admin, "add members").is_ok());
        assert!(is_denied(at_least(&member(Role::Admin), Role::Owner, "archive")));
        assert!(at_least(&member(Role::Owner), Role::Admin, "add members").is_ok());
    }

    #[test]
    fn members_post_in_teams_but_only_admins_in_channels_and_restricted_teams() {
        let team = conversation(Kind::Group);
        let restricted = Conversation { restricted: true, ..team.clone() };
        let channel = conversation(Kind::Channel);
        assert!(may_post(&team, &member(Role::Member)).is_ok());
        for admins_only in [&restricted, &channel] {
            assert!(is_denied(may_post(admins_only, &member(Role::Member))));
            assert!(may_post(admins_only, &member(Role::Admin)).is_ok());
            assert!(may_post(admins_only, &member(Role::Owner)).is_ok());
        }
    }

    #[test]
    fn admins_remove_members_the_owner_removes_admins_and_nobody_removes_the_owner() {
        let (plain, admin, owner) =
            (member(Role::Member), member(Role::Admin), member(Role::Owner));
        assert!(is_denied(may_remove(&plain, &plain)));
        assert!(may_remove(&admin, &plain).is_ok());
        assert!(is_denied(may_remove(&admin, &admin)));
        assert!(may_remove(&owner, &admin).is_ok());
        for remover in [&plain, &admin, &owner] {
            assert!(is_denied(may_remove(remover, &owner)));
        }
    }
}
