//! The domain model: conversations, members and messages as the controller reasons about
//! them. Both the gRPC layer and every Store engine convert to and from these types.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

mod audit;
mod device;
mod job;
mod log;
mod moderation;
mod notification;
mod profile;
mod retention;
mod status;
mod thread;

pub use self::audit::{AuditAction, AuditEntry, audit_day};
pub use self::device::{Device, DeviceAddress, Platform, device_id};
pub use self::job::{ArchiveExpiry, Job, JobKind, JobState};
pub use self::log::{
    LogChange, LogEntry, LogPoint, MessageChange, ReadMarker, Removal, change_hour, unbroken_from,
};
pub use self::moderation::{
    Ban, Filter, FilterAction, FilterKind, Report, ReportState, Suspension, Timeout,
};
pub use self::notification::{
    MINUTES_PER_DAY, Notification, NotificationReason, PushLevel, PushSettings,
};
pub use self::profile::{
    DirectoryEntry, Profile, ProfileField, ProfileView, Relation, directory_terms, words,
};
pub use self::retention::{DAY_MS, Expiry, MAX_RETENTION_DAYS, RetentionPolicy};
pub use self::status::{Availability, UserStatus};
pub use self::thread::{ThreadFollow, ThreadView, UserThread, thread_activity};

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
    /// Its name in stored rows, e.g. `group`.
    pub fn name(self) -> &'static str {
        match self {
            Kind::Direct => "direct",
            Kind::SelfNotes => "self",
            Kind::Group => "group",
            Kind::Channel => "channel",
        }
    }

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

impl Role {
    /// Its name in stored rows and exports, e.g. `admin`.
    pub fn name(self) -> &'static str {
        match self {
            Role::Member => "member",
            Role::Admin => "admin",
            Role::Owner => "owner",
        }
    }
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
    /// GROUP and CHANNEL: what the app keeps with it (validated like messages' fields).
    #[serde(default)]
    pub custom_fields: BTreeMap<String, String>,
    /// GROUP and CHANNEL: the business object it is about (`order:1234`), unique in its
    /// org, set when it is created by OpenLinked.
    #[serde(default)]
    pub external_key: Option<String>,
    /// GROUP and CHANNEL: plain members may pin messages too (admins always may; in DIRECT
    /// and SELF conversations, everyone).
    #[serde(default)]
    pub members_may_pin: bool,
    /// GROUP and CHANNEL: the least time between two posts of one member, in seconds
    /// (0: no slow mode; admins and the owner are exempt).
    #[serde(default)]
    pub slow_mode_seconds: u32,
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
    /// Timed out by an admin (it may have run out: compare `until_ms` with now).
    #[serde(default)]
    pub timeout: Option<Timeout>,
    /// When they last posted where slow mode is on (0: not since it was).
    #[serde(default)]
    pub last_post_ms: i64,
}

impl Member {
    /// Their timeout, if it still runs at `now_ms`.
    pub fn timed_out(&self, now_ms: i64) -> Option<&Timeout> {
        self.timeout.as_ref().filter(|timeout| timeout.until_ms > now_ms)
    }
}

/// What a message's `data` holds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum MessageType {
    #[default]
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
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
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
    /// Who pinned it to its conversation, and when; None when it is not pinned.
    #[serde(default)]
    pub pin: Option<Pin>,
    /// The reactions to it, per emoji, in the order each emoji was first used.
    #[serde(default)]
    pub reactions: Vec<ReactionCount>,
    /// A reply that shows only in its thread (`parent_id`), not in the conversation.
    #[serde(default)]
    pub thread_only: bool,
    /// On a thread's root: how many replies it has, and the newest (kept by the thread's
    /// recounts).
    #[serde(default)]
    pub reply_count: u32,
    #[serde(default)]
    pub last_reply_id: Option<MessageId>,
    /// When retention removes it (Unix milliseconds), set on send from the policy then in
    /// force; 0 when it is kept forever.
    #[serde(default)]
    pub expires_at_ms: i64,
}

/// How many reacted to a message with one emoji, and the first of them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReactionCount {
    pub emoji: String,
    pub count: u32,
    /// The first few who reacted with it, earliest first.
    pub first_users: Vec<String>,
    /// Whether the reader reacted with it (set per reader, never stored).
    #[serde(skip)]
    pub mine: bool,
}

/// How many of the first to react with an emoji a message names.
const FIRST_USERS: usize = 3;

/// The counts of `reactions`: per emoji, in the order each was first used, with the first
/// few who used it.
pub fn reaction_counts(mut reactions: Vec<Reaction>) -> Vec<ReactionCount> {
    reactions.sort_by(|a, b| (a.at_ms, &a.user).cmp(&(b.at_ms, &b.user)));
    let mut counts: Vec<ReactionCount> = Vec::new();
    for reaction in reactions {
        match counts.iter_mut().find(|count| count.emoji == reaction.emoji) {
            Some(count) => {
                count.count += 1;
                if count.first_users.len() < FIRST_USERS {
                    count.first_users.push(reaction.user);
                }
            }
            None => counts.push(ReactionCount {
                emoji: reaction.emoji,
                count: 1,
                first_users: vec![reaction.user],
                mine: false,
            }),
        }
    }
    counts
}

/// One user's reaction to a message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reaction {
    pub emoji: String,
    pub user: String,
    pub at_ms: i64,
}

/// A message pinned to its conversation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Pin {
    pub by: String,
    pub at_ms: i64,
}

/// An earlier text of an edited message: each edit keeps the text it replaced, until the
/// message is deleted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MessageVersion {
    /// The text as it was.
    pub data: String,
    /// When it was written: the message's send time, or the edit before.
    pub written_at_ms: i64,
    /// When the edit that replaced it was made.
    pub replaced_at_ms: i64,
    /// That edit's position in the conversation's log (set by the Store when it writes
    /// the edit): a message's versions are listed by it, newest first.
    pub seq: u64,
}

/// `@here` in [`Message::mentions`]: the members online now.
pub const MENTION_HERE: &str = "@here";
/// `@all` in [`Message::mentions`]: every member.
pub const MENTION_ALL: &str = "@all";

impl Message {
    /// Whether the message's expiry (if any) has passed at `now_ms`: the retention sweep
    /// removes it, if it has not yet.
    pub fn expired_at(&self, now_ms: i64) -> bool {
        self.expires_at_ms != 0 && self.expires_at_ms <= now_ms
    }

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

/// What an upload is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UploadPurpose {
    /// A file for a message in a conversation.
    Message,
    /// A picture for the uploader's profile, in no conversation.
    Avatar,
}

/// A file in a conversation, or an avatar (in none), as stored.
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
    /// What it was uploaded for: avatars belong to no conversation.
    pub fn purpose(&self) -> UploadPurpose {
        if self.channel_id == 0 { UploadPurpose::Avatar } else { UploadPurpose::Message }
    }

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

    /// The message type it is sent as: IMAGE, VIDEO or AUDIO by its content type's family,
    /// FILE for anything else.
    pub fn message_type(&self) -> MessageType {
        match self.content_type.split('/').next().unwrap_or("") {
            "image" => MessageType::Image,
            "video" => MessageType::Video,
            "audio" => MessageType::Audio,
            _ => MessageType::File,
        }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_follow_first_use_and_name_the_earliest() {
        let r = |emoji: &str, user: &str, at_ms| Reaction {
            emoji: emoji.into(),
            user: user.into(),
            at_ms,
        };
        let counts = reaction_counts(vec![
            r("🎉", "e", 5),
            r("👍", "b", 2),
            r("👍", "a", 1),
            r("👍", "d", 4),
            r("👍", "c", 3),
        ]);
        let seen: Vec<(&str, u32, Vec<&str>)> = counts
            .iter()
            .map(|c| {
                (c.emoji.as_str(), c.count, c.first_users.iter().map(String::as_str).collect())
            })
            .collect();
        assert_eq!(seen, [("👍", 4, vec!["a", "b", "c"]), ("🎉", 1, vec!["e"])]);
    }
}
