//! The audit log's entries: who did what to which target, when, in which org.

use serde::{Deserialize, Serialize};

use super::ConversationId;

/// What an audit entry records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum AuditAction {
    TeamCreated,
    TeamUpdated,
    TeamArchived,
    MemberAdded,
    MemberRemoved,
    MemberPromoted,
    MemberDemoted,
    OwnershipTransferred,
    /// By someone other than its author.
    MessageDeleted,
    AttachmentDeleted,
    /// Someone else's profile, by an org admin.
    ProfileUpdated,
    /// Someone else's message, by an admin or a member where members may pin.
    MessagePinned,
    MessageUnpinned,
    /// The detail is the reason.
    MemberBanned,
    MemberUnbanned,
    /// A report of the message (the target) acted on; the detail is its reason.
    ReportResolved,
    ReportDismissed,
    /// The detail is until when and why.
    MemberTimedOut,
    MemberTimeoutLifted,
    /// An org filter (the target is its id; the detail its kind, action and pattern).
    FilterCreated,
    FilterDeleted,
    /// A message a filter flagged (the target); the detail is the filter and the match.
    MessageFlagged,
    /// A user suspended org-wide (the target); the detail is the reason.
    UserSuspended,
    UserUnsuspended,
    /// A user erased (the target is the pseudonym their audit trail now shows); the detail
    /// is what was removed.
    UserErased,
    /// The org's retention policy (the target is the org) or a conversation's (the target
    /// is its id) changed; the detail is the new policy.
    RetentionChanged,
}

impl AuditAction {
    pub const ALL: [AuditAction; 26] = [
        AuditAction::TeamCreated,
        AuditAction::TeamUpdated,
        AuditAction::TeamArchived,
        AuditAction::MemberAdded,
        AuditAction::MemberRemoved,
        AuditAction::MemberPromoted,
        AuditAction::MemberDemoted,
        AuditAction::OwnershipTransferred,
        AuditAction::MessageDeleted,
        AuditAction::AttachmentDeleted,
        AuditAction::ProfileUpdated,
        AuditAction::MessagePinned,
        AuditAction::MessageUnpinned,
        AuditAction::MemberBanned,
        AuditAction::MemberUnbanned,
        AuditAction::ReportResolved,
        AuditAction::ReportDismissed,
        AuditAction::MemberTimedOut,
        AuditAction::MemberTimeoutLifted,
        AuditAction::FilterCreated,
        AuditAction::FilterDeleted,
        AuditAction::MessageFlagged,
        AuditAction::UserSuspended,
        AuditAction::UserUnsuspended,
        AuditAction::UserErased,
        AuditAction::RetentionChanged,
    ];

    /// Its name in listings and filters, e.g. `member.added`.
    pub fn name(self) -> &'static str {
        match self {
            AuditAction::TeamCreated => "team.created",
            AuditAction::TeamUpdated => "team.updated",
            AuditAction::TeamArchived => "team.archived",
            AuditAction::MemberAdded => "member.added",
            AuditAction::MemberRemoved => "member.removed",
            AuditAction::MemberPromoted => "member.promoted",
            AuditAction::MemberDemoted => "member.demoted",
            AuditAction::OwnershipTransferred => "ownership.transferred",
            AuditAction::MessageDeleted => "message.deleted",
            AuditAction::AttachmentDeleted => "attachment.deleted",
            AuditAction::ProfileUpdated => "profile.updated",
            AuditAction::MessagePinned => "message.pinned",
            AuditAction::MessageUnpinned => "message.unpinned",
            AuditAction::MemberBanned => "member.banned",
            AuditAction::MemberUnbanned => "member.unbanned",
            AuditAction::ReportResolved => "report.resolved",
            AuditAction::ReportDismissed => "report.dismissed",
            AuditAction::MemberTimedOut => "member.timed_out",
            AuditAction::MemberTimeoutLifted => "member.timeout_lifted",
            AuditAction::FilterCreated => "filter.created",
            AuditAction::FilterDeleted => "filter.deleted",
            AuditAction::MessageFlagged => "message.flagged",
            AuditAction::UserSuspended => "user.suspended",
            AuditAction::UserUnsuspended => "user.unsuspended",
            AuditAction::UserErased => "user.erased",
            AuditAction::RetentionChanged => "retention.changed",
        }
    }

    /// Whether its target is a user id.
    pub fn targets_user(self) -> bool {
        matches!(
            self,
            AuditAction::MemberAdded
                | AuditAction::MemberRemoved
                | AuditAction::MemberPromoted
                | AuditAction::MemberDemoted
                | AuditAction::OwnershipTransferred
                | AuditAction::ProfileUpdated
                | AuditAction::MemberBanned
                | AuditAction::MemberUnbanned
                | AuditAction::MemberTimedOut
                | AuditAction::MemberTimeoutLifted
                | AuditAction::UserSuspended
                | AuditAction::UserUnsuspended
        )
    }

    pub fn from_name(name: &str) -> Option<AuditAction> {
        AuditAction::ALL.into_iter().find(|a| a.name() == name)
    }
}

/// One audit log entry: who did what to which target, when, in which org.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditEntry {
    /// Snowflake id; orders entries in time.
    pub id: u64,
    pub org: String,
    pub at_ms: i64,
    /// The user who acted.
    pub actor: String,
    pub action: AuditAction,
    /// The conversation concerned.
    pub conversation_id: ConversationId,
    /// What was acted on: a user id for membership actions, a message or attachment id,
    /// or the conversation id.
    pub target: String,
    /// Anything else worth keeping (e.g. the new name), possibly empty.
    pub detail: String,
}

/// Audit entries are partitioned by org and UTC day.
pub fn audit_day(at_ms: i64) -> u32 {
    (at_ms.max(0) / super::DAY_MS) as u32
}
