//! The domain model: conversations, members and messages as the controller reasons about
//! them. Both the gRPC layer and every Store engine convert to and from these types.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// Snowflake id of a conversation.
pub type ConversationId = u64;
/// Snowflake id of a message; ids grow with time.
pub type MessageId = u64;

/// What kind of conversation it is; decides who posts and who manages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Kind {
    Direct,
    /// "Favorites": one per user, notes to self.
    SelfNotes,
    Group,
    Channel,
}

impl Kind {
    /// Teams and channels have names, roles and managed membership; DIRECT and SELF do not.
    pub fn is_managed(self) -> bool {
        matches!(self, Kind::Group | Kind::Channel)
    }
}

/// A member's role; ordered so that `role >= Role::Admin` reads naturally.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Role {
    Member,
    Admin,
    Owner,
}

/// Who can find and join a channel.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Visibility {
    Public,
    Private,
}

/// One conversation, as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Conversation {
    pub id: ConversationId,
    pub org: String,
    pub kind: Kind,
    pub name: String,
    pub icon: String,
    pub archived: bool,
    pub meta_tags: Vec<String>,
    /// Empty for DIRECT conversations, which have no owner.
    pub owner: String,
    pub created_at_ms: i64,
    /// Only admins and the owner post (always true for channels).
    pub restricted: bool,
    pub visibility: Visibility,
    /// Kept up to date by the Store as members come and go.
    pub member_count: u32,
}

impl Conversation {
    /// Only admins and the owner may post here.
    pub fn admins_only_post(&self) -> bool {
        self.kind == Kind::Channel || self.restricted
    }
}

/// A conversation together with the caller's role in it (None: not a member): what the
/// API returns for a conversation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConversationView {
    pub conversation: Conversation,
    pub my_role: Option<Role>,
}

/// One member of a conversation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Member {
    pub user_id: String,
    pub role: Role,
    pub joined_at_ms: i64,
    /// The member muted the conversation: no notifications from it.
    #[serde(default)]
    pub muted: bool,
    /// Where the conversation's log stood when they joined: what came before is not
    /// unread to them.
    #[serde(default)]
    pub joined: LogPoint,
}

/// What a message's `data` holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum MessageType {
    Text,
    Image,
    Video,
    Audio,
    File,
}

impl MessageType {
    /// Its name in stored rows and previews, e.g. `image`.
    pub fn name(self) -> &'static str {
        match self {
            MessageType::Text => "text",
            MessageType::Image => "image",
            MessageType::Video => "video",
            MessageType::Audio => "audio",
            MessageType::File => "file",
        }
    }
}

/// One message, as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Message {
    pub id: MessageId,
    pub channel_id: ConversationId,
    pub from: String,
    /// `None` for everyone; `Some(user)` for a private message to one member.
    pub to: Option<String>,
    pub kind: MessageType,
    pub data: String,
    pub ts_ms: i64,
    pub parent_id: Option<MessageId>,
    pub edited_at_ms: Option<i64>,
    pub deleted: bool,
    pub custom_fields: BTreeMap<String, String>,
    pub client_msg_id: Option<String>,
    /// For IMAGE, VIDEO, AUDIO and FILE: the attachment `data` names, as it was when sent.
    /// Boxed: most messages are text, and messages are cloned on every fan-out.
    #[serde(default)]
    pub attachment: Option<Box<Attachment>>,
    /// Who the text mentions: members' user ids, and [`MENTION_HERE`] or [`MENTION_ALL`]
    /// when an admin wrote them. Parsed on send and on edit.
    #[serde(default)]
    pub mentions: Vec<String>,
    /// Who deleted it (the author or an admin), once deleted.
    #[serde(default)]
    pub deleted_by: Option<String>,
    /// The conversation log's position of this message's creation, and of its latest
    /// change (see [`LogEntry`]). Set by the Store when it writes the change.
    #[serde(default)]
    pub created_seq: u64,
    #[serde(default)]
    pub seq: u64,
}

/// `@here` in [`Message::mentions`]: the members online now.
pub const MENTION_HERE: &str = "@here";
/// `@all` in [`Message::mentions`]: every member.
pub const MENTION_ALL: &str = "@all";

impl Message {
    /// Whether `user` may see this message (private messages: sender and recipient only).
    pub fn visible_to(&self, user: &str) -> bool {
        match &self.to {
            None => true,
            Some(to) => to == user || self.from == user,
        }
    }
}

/// Snowflake id of an attachment (also its upload id).
pub type AttachmentId = u64;

/// Where an attachment is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum AttachmentState {
    /// Created; the bytes are on their way.
    Pending,
    /// Uploaded and checked; may be sent in a message.
    Complete,
    /// Deleted by a user or with its message; the bytes are gone.
    Deleted,
    /// Not completed before its upload deadline; the bytes are gone.
    Expired,
}

/// A file in a conversation, as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attachment {
    pub id: AttachmentId,
    pub org: String,
    pub channel_id: ConversationId,
    pub uploader: String,
    pub filename: String,
    /// The declared MIME type, checked against the bytes at completion.
    pub content_type: String,
    pub size: u64,
    /// Pixel dimensions of images whose header tells them.
    pub dimensions: Option<(u32, u32)>,
    pub state: AttachmentState,
    /// The blob engine's multipart upload id, for uploads in parts.
    pub multipart: Option<String>,
    pub created_at_ms: i64,
    /// Pending uploads not completed by then are cleaned up.
    pub expires_at_ms: i64,
    /// The message it was sent in, once sent (an attachment is sent at most once).
    pub message_id: Option<MessageId>,
}

impl Attachment {
    /// Where its bytes live in the blob store once the upload is complete. No upload URL
    /// ever points here: completing moves the bytes in from [`Self::upload_key`], so what
    /// was checked cannot be replaced.
    pub fn blob_key(&self) -> String {
        format!("attachments/{}", self.id)
    }

    /// Where the client uploads the bytes (the presigned PUTs point here).
    pub fn upload_key(&self) -> String {
        format!("uploads/{}", self.id)
    }

    /// Whether a message of `kind` may carry it: images as IMAGE, and so on; anything as FILE.
    pub fn fits(&self, kind: MessageType) -> bool {
        let family = self.content_type.split('/').next().unwrap_or("");
        match kind {
            MessageType::Text => false,
            MessageType::Image => family == "image",
            MessageType::Video => family == "video",
            MessageType::Audio => family == "audio",
            MessageType::File => true,
        }
    }
}

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
}

impl AuditAction {
    pub const ALL: [AuditAction; 10] = [
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
        }
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
    (at_ms.max(0) / 86_400_000) as u32
}

/// One change to a message (sent, edited or deleted): a row of the change feed the search
/// indexer follows. Ordered by time, then conversation, then message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct MessageChange {
    pub at_ms: i64,
    pub channel_id: ConversationId,
    pub message_id: MessageId,
}

/// One entry of a conversation's log: a message was created, edited or deleted. Every
/// change of a conversation's messages gets a position (`seq`) when it commits: positions
/// grow in commit order, and each entry names the one before it (`prev`, 0 for the first),
/// so a reader can tell a complete run of the log from one with a change still missing.
/// Positions are microsecond times where the clock allows (never less than `prev + 1`),
/// so a gap between two positions says nothing about what happened in between.
///
/// Each entry also counts the messages for everyone (not private ones) created up to and
/// including it: unread counts are differences of these counts (see [`LogPoint`]).
///
/// One kind of entry names no message: a member's removal (or leaving), so that it reaches
/// every reader in order with the messages, and nobody gets what was said after it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct LogEntry {
    pub seq: u64,
    pub prev: u64,
    /// The message changed (0 for a removal).
    pub message_id: MessageId,
    /// Messages for everyone created in the conversation up to this entry.
    pub count: u64,
    pub removal: Option<Box<Removal>>,
}

/// A member left a conversation (`by` themselves) or was removed (`by` an admin).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Removal {
    pub user: String,
    pub by: String,
}

/// What a change adds to its conversation's log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogChange {
    /// A new message for everyone: the count goes up by one.
    SharedMessage,
    /// A new private message, an edit or a delete: the count stays.
    Other,
}

impl LogChange {
    pub fn of_new(message: &Message) -> LogChange {
        match message.to {
            None => LogChange::SharedMessage,
            Some(_) => LogChange::Other,
        }
    }
}

impl LogEntry {
    /// The entry after `head` (None for an empty log), written at `now_us`.
    pub fn next(
        head: Option<&LogEntry>,
        message_id: MessageId,
        change: LogChange,
        now_us: u64,
    ) -> LogEntry {
        let (prev, count) = head.map_or((0, 0), |head| (head.seq, head.count));
        let added = u64::from(change == LogChange::SharedMessage);
        let seq = now_us.max(prev + 1);
        LogEntry { seq, prev, message_id, count: count + added, removal: None }
    }

    /// The entry after `head` for a member's removal.
    pub fn next_removal(head: Option<&LogEntry>, removal: Removal, now_us: u64) -> LogEntry {
        let entry = LogEntry::next(head, 0, LogChange::Other, now_us);
        LogEntry { removal: Some(Box::new(removal)), ..entry }
    }

    pub fn point(&self) -> LogPoint {
        LogPoint { seq: self.seq, count: self.count }
    }
}

/// A place in a conversation's log (0 before its first entry) with the count of messages
/// for everyone up to it. A member's unread messages are the count at the log's head less
/// the count where they stopped reading (their read marker, or where they joined), plus
/// the private messages to them after it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct LogPoint {
    pub seq: u64,
    pub count: u64,
}

/// A member's read marker: the newest message they have read, and its place in the log.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReadMarker {
    pub message_id: MessageId,
    pub at: LogPoint,
}

/// Keeps the entries of `entries` (ascending) that continue the log from `after` without a
/// break: a reader must not skip a change that is committed but not yet visible to it.
pub fn unbroken_from(after: u64, entries: Vec<LogEntry>) -> Vec<LogEntry> {
    let mut expected = after;
    let mut run = Vec::with_capacity(entries.len());
    for entry in entries {
        // A reader asking from 0 knows nothing of what came before; so does one that asks
        // from a position the log has moved past (any first entry after it continues it).
        if run.is_empty() && entry.prev <= after || entry.prev == expected {
            expected = entry.seq;
            run.push(entry);
        } else {
            break;
        }
    }
    run
}

/// The change feed is partitioned by UTC hour.
pub fn change_hour(at_ms: i64) -> u32 {
    (at_ms.max(0) / 3_600_000) as u32
}

/// Why a user got a notification.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum NotificationReason {
    /// `@user`.
    Mention,
    /// `@here` or `@all`.
    MentionAll,
    /// A direct message.
    Direct,
}

impl NotificationReason {
    pub fn name(self) -> &'static str {
        match self {
            NotificationReason::Mention => "mention",
            NotificationReason::MentionAll => "mention_all",
            NotificationReason::Direct => "direct",
        }
    }

    pub fn from_name(name: &str) -> Option<NotificationReason> {
        [NotificationReason::Mention, NotificationReason::MentionAll, NotificationReason::Direct]
            .into_iter()
            .find(|r| r.name() == name)
    }
}

/// A message a user should hear about because they were not following it live.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Notification {
    /// Snowflake id; orders a user's notifications in time.
    pub id: u64,
    pub org: String,
    /// Who is notified.
    pub user: String,
    pub conversation_id: ConversationId,
    pub message_id: MessageId,
    /// The message's author.
    pub from: String,
    pub reason: NotificationReason,
    /// The start of the message's text.
    pub preview: String,
    pub created_at_ms: i64,
    pub read: bool,
}
