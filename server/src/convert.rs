//! Conversions between `switchboard.v1` messages and the domain model.

use switchboard_proto::v1 as pb;

use crate::error::{ChatError, ChatResult};
use crate::model::{
    Attachment, AttachmentState, Availability, Ban, ConversationView, Device, Filter, FilterAction,
    FilterKind, Job, JobKind, JobState, Kind, Member, Message, MessageType, MessageVersion,
    Platform, Profile, ProfileView, PushLevel, PushSettings, Report, ReportState, RetentionPolicy,
    Role, Suspension, ThreadView, UploadPurpose, UserStatus, Visibility,
};
use crate::push::Outcome;

pub(crate) fn conversation(view: ConversationView) -> pb::Conversation {
    let c = view.conversation;
    pb::Conversation {
        id: c.id,
        org: c.org,
        kind: kind(c.kind) as i32,
        name: c.name,
        icon: c.icon,
        active: !c.archived,
        meta_tags: c.meta_tags,
        owner: c.owner,
        created_at_ms: c.created_at_ms,
        restricted: c.restricted,
        visibility: match (c.kind, c.visibility) {
            (Kind::Channel, Visibility::Public) => pb::Visibility::Public,
            (Kind::Channel, Visibility::Private) => pb::Visibility::Private,
            _ => pb::Visibility::Unspecified,
        } as i32,
        my_role: view.my_role.map_or(pb::Role::Unspecified, role) as i32,
        member_count: c.member_count,
        custom_fields: c.custom_fields.into_iter().collect(),
        external_key: c.external_key.unwrap_or_default(),
        members_may_pin: c.members_may_pin,
        slow_mode_seconds: c.slow_mode_seconds,
        ..Default::default()
    }
}

fn kind(kind: Kind) -> pb::ConversationKind {
    match kind {
        Kind::Direct => pb::ConversationKind::Direct,
        Kind::SelfNotes => pb::ConversationKind::Self_,
        Kind::Group => pb::ConversationKind::Group,
        Kind::Channel => pb::ConversationKind::Channel,
    }
}

fn role(role: Role) -> pb::Role {
    match role {
        Role::Member => pb::Role::Member,
        Role::Admin => pb::Role::Admin,
        Role::Owner => pb::Role::Owner,
    }
}

pub(crate) fn member(member: Member) -> pb::Member {
    pb::Member {
        user_id: member.user_id,
        role: role(member.role) as i32,
        joined_at_ms: member.joined_at_ms,
        timed_out_until_ms: member.timeout.as_ref().map_or(0, |t| t.until_ms),
        timed_out_by: member.timeout.as_ref().map_or(String::new(), |t| t.by.clone()),
        timeout_reason: member.timeout.map_or(String::new(), |t| t.reason),
    }
}

pub(crate) fn message_version(v: MessageVersion) -> pb::MessageVersion {
    pb::MessageVersion {
        data: v.data,
        written_at_ms: v.written_at_ms,
        replaced_at_ms: v.replaced_at_ms,
        seq: v.seq,
    }
}

pub(crate) fn message(message: Message) -> pb::Message {
    pb::Message {
        id: message.id,
        channel_id: message.channel_id,
        from: message.from,
        to: message.to.unwrap_or_else(|| "*".to_string()),
        r#type: message_type(message.kind) as i32,
        data: message.data,
        ts_ms: message.ts_ms,
        parent_id: message.parent_id.unwrap_or(0),
        edited_at_ms: message.edited_at_ms.unwrap_or(0),
        deleted: message.deleted,
        custom_fields: message.custom_fields.into_iter().collect(),
        client_msg_id: message.client_msg_id.unwrap_or_default(),
        attachment: message.attachment.map(|a| Box::new(attachment(*a))),
        mentions: message.mentions,
        pinned_by: message.pin.as_ref().map(|pin| pin.by.clone()).unwrap_or_default(),
        pinned_at_ms: message.pin.map_or(0, |pin| pin.at_ms),
        reactions: message
            .reactions
            .into_iter()
            .map(|r| pb::Reaction {
                emoji: r.emoji,
                count: r.count,
                first_users: r.first_users,
                mine: r.mine,
            })
            .collect(),
        thread_only: message.thread_only,
        reply_count: message.reply_count,
        last_reply_id: message.last_reply_id.unwrap_or(0),
        last_reply_at_ms: message.last_reply_id.map_or(0, crate::ids::timestamp_ms),
        expires_at_ms: message.expires_at_ms,
    }
}

pub(crate) fn thread(view: ThreadView) -> pb::Thread {
    pb::Thread {
        root: Some(message(view.root)),
        following: view.following,
        read_up_to: view.read_up_to,
        unread_count: view.unread,
    }
}

pub(crate) fn attachment(a: Attachment) -> pb::Attachment {
    let (width, height) = a.dimensions.unwrap_or((0, 0));
    let purpose = match a.purpose() {
        UploadPurpose::Message => pb::UploadPurpose::Unspecified,
        UploadPurpose::Avatar => pb::UploadPurpose::Avatar,
    };
    pb::Attachment {
        id: a.id,
        channel_id: a.channel_id,
        uploader: a.uploader,
        filename: a.filename,
        content_type: a.content_type,
        size: a.size,
        width,
        height,
        state: match a.state {
            AttachmentState::Pending => pb::AttachmentState::Pending,
            AttachmentState::Complete => pb::AttachmentState::Complete,
            AttachmentState::Deleted => pb::AttachmentState::Deleted,
            AttachmentState::Expired => pb::AttachmentState::Expired,
        } as i32,
        created_at_ms: a.created_at_ms,
        message_id: a.message_id.unwrap_or(0),
        purpose: purpose as i32,
    }
}

fn message_type(kind: MessageType) -> pb::MessageType {
    match kind {
        MessageType::Text => pb::MessageType::Text,
        MessageType::Image => pb::MessageType::Image,
        MessageType::Video => pb::MessageType::Video,
        MessageType::Audio => pb::MessageType::Audio,
        MessageType::File => pb::MessageType::File,
    }
}

/// A request's message type; unspecified means TEXT.
pub(crate) fn message_type_in(value: i32) -> ChatResult<MessageType> {
    match pb::MessageType::try_from(value) {
        Ok(pb::MessageType::Unspecified | pb::MessageType::Text) => Ok(MessageType::Text),
        Ok(pb::MessageType::Image) => Ok(MessageType::Image),
        Ok(pb::MessageType::Video) => Ok(MessageType::Video),
        Ok(pb::MessageType::Audio) => Ok(MessageType::Audio),
        Ok(pb::MessageType::File) => Ok(MessageType::File),
        Err(_) => Err(ChatError::invalid("type", format!("unknown message type {value}"))),
    }
}

/// A request's channel visibility; unspecified means private.
pub(crate) fn visibility_in(value: i32) -> ChatResult<Visibility> {
    match pb::Visibility::try_from(value) {
        Ok(pb::Visibility::Public) => Ok(Visibility::Public),
        Ok(pb::Visibility::Private | pb::Visibility::Unspecified) => Ok(Visibility::Private),
        Err(_) => Err(ChatError::invalid("visibility", format!("unknown visibility {value}"))),
    }
}

/// `to` on the wire: empty or "*" is everyone.
pub(crate) fn recipient_in(to: String) -> Option<String> {
    if to.is_empty() || to == "*" { None } else { Some(to) }
}

/// Zero ids and empty strings mean "not given" on the wire.
pub(crate) fn nonzero(id: u64) -> Option<u64> {
    (id != 0).then_some(id)
}

pub(crate) fn nonempty(text: String) -> Option<String> {
    (!text.is_empty()).then_some(text)
}

pub(crate) fn notification(n: crate::model::Notification) -> pb::Notification {
    use crate::model::NotificationReason;
    pb::Notification {
        id: n.id,
        user_id: n.user,
        conversation_id: n.conversation_id,
        message_id: n.message_id,
        from: n.from,
        reason: match n.reason {
            NotificationReason::Mention => pb::NotificationReason::Mention,
            NotificationReason::MentionAll => pb::NotificationReason::MentionAll,
            NotificationReason::Direct => pb::NotificationReason::Direct,
            NotificationReason::ThreadReply => pb::NotificationReason::ThreadReply,
        } as i32,
        preview: n.preview,
        created_at_ms: n.created_at_ms,
        read: n.read,
    }
}

/// A device as its user sees it: without its token or subscription.
pub(crate) fn ban(b: Ban) -> pb::Ban {
    pb::Ban { user_id: b.user, banned_by: b.by, banned_at_ms: b.at_ms, reason: b.reason }
}

pub(crate) fn filter(f: Filter) -> pb::Filter {
    let kind = match f.kind {
        FilterKind::Word => pb::FilterKind::Word,
        FilterKind::Regex => pb::FilterKind::Regex,
    };
    let action = match f.action {
        FilterAction::Refuse => pb::FilterAction::Refuse,
        FilterAction::Flag => pb::FilterAction::Flag,
    };
    pb::Filter {
        id: f.id,
        kind: kind as i32,
        pattern: f.pattern,
        action: action as i32,
        created_by: f.created_by,
        created_at_ms: f.created_at_ms,
    }
}

pub(crate) fn suspension(s: Suspension) -> pb::Suspension {
    pb::Suspension {
        user_id: s.user,
        suspended_by: s.by,
        suspended_at_ms: s.at_ms,
        reason: s.reason,
    }
}

/// A job as the API shows it, with where an export downloads from (see
/// `ChatService::download_url`).
/// An org's retention policy, with the job applying a change to it (0: none).
pub(crate) fn retention(policy: RetentionPolicy, applying_job_id: u64) -> pb::RetentionPolicy {
    let conversations = policy.conversations.into_iter().map(|(conversation_id, days)| {
        pb::ConversationRetention { conversation_id, keep_days: days.unwrap_or(0) }
    });
    pb::RetentionPolicy {
        keep_days: policy.org_days.unwrap_or(0),
        conversations: conversations.collect(),
        applying_job_id,
    }
}

pub(crate) fn job(job: Job, download_url: Option<String>) -> pb::Job {
    let kind = match job.kind {
        JobKind::EraseUser => pb::JobKind::EraseUser,
        JobKind::ExportUser => pb::JobKind::ExportUser,
        JobKind::ExportConversation => pb::JobKind::ExportConversation,
        JobKind::OrgRetention => pb::JobKind::OrgRetention,
        JobKind::ConversationRetention => pb::JobKind::ConversationRetention,
    };
    let state = match job.state {
        JobState::Queued => pb::JobState::Queued,
        JobState::Running => pb::JobState::Running,
        JobState::Done => pb::JobState::Done,
        JobState::Failed => pb::JobState::Failed,
    };
    pb::Job {
        id: job.id,
        kind: kind.into(),
        subject: job.subject,
        requested_by: job.requested_by,
        reason: job.reason,
        created_at_ms: job.created_at_ms,
        state: state.into(),
        stage: job.stage,
        counts: job.counts.into_iter().collect(),
        updated_at_ms: job.updated_at_ms,
        finished_at_ms: job.finished_at_ms,
        error: job.error,
        download_url: download_url.unwrap_or_default(),
        archive_expires_at_ms: job.archive_expires_at_ms,
    }
}

pub(crate) fn report(r: Report) -> pb::Report {
    let state = match r.state {
        ReportState::Open => pb::ReportState::Open,
        ReportState::Resolved => pb::ReportState::Resolved,
        ReportState::Dismissed => pb::ReportState::Dismissed,
    };
    pb::Report {
        reported_at_ms: crate::ids::timestamp_ms(r.id),
        id: r.id,
        conversation_id: r.conversation_id,
        message_id: r.message_id,
        reporter: r.reporter,
        reason: r.reason,
        author: r.author,
        text: r.text,
        state: state as i32,
        handled_by: r.handled_by,
        handled_at_ms: r.handled_at_ms,
    }
}

/// What a test push to a device found.
pub(crate) fn tested_device(tested: Device, outcome: &Outcome) -> pb::TestedDevice {
    let answer = match outcome {
        Outcome::Delivered => pb::PushOutcome::Delivered,
        Outcome::Unregistered(_) => pb::PushOutcome::Unregistered,
        Outcome::Retry { .. } => pb::PushOutcome::Retry,
        Outcome::Failed(_) => pb::PushOutcome::Failed,
    };
    pb::TestedDevice {
        reason: outcome.reason().to_string(),
        outcome: answer as i32,
        device: Some(device(tested)),
    }
}

pub(crate) fn device(d: Device) -> pb::Device {
    let platform = match d.platform {
        Platform::Fcm => pb::DevicePlatform::Fcm,
        Platform::Apns => pb::DevicePlatform::Apns,
        Platform::WebPush => pb::DevicePlatform::WebPush,
    };
    pb::Device {
        id: d.id,
        platform: platform as i32,
        token: String::new(),
        web_push: None,
        app_id: d.app_id,
        locale: d.locale,
        registered_at_ms: d.registered_at_ms,
        hint: d.address.hint(),
    }
}

pub(crate) fn push_settings(settings: PushSettings) -> pb::PushSettings {
    let (quiet_start_minute, quiet_end_minute) =
        settings.quiet.map_or((0, 0), |(from, to)| (u32::from(from), u32::from(to)));
    let level = match settings.level {
        PushLevel::All => pb::PushLevel::All,
        PushLevel::Mentions => pb::PushLevel::Mentions,
        PushLevel::None => pb::PushLevel::None,
    };
    pb::PushSettings { level: level as i32, quiet_start_minute, quiet_end_minute }
}

/// Push preferences as asked for: equal quiet minutes mean none.
pub(crate) fn push_settings_in(settings: pb::PushSettings) -> ChatResult<PushSettings> {
    let level = match pb::PushLevel::try_from(settings.level) {
        Ok(pb::PushLevel::Unspecified | pb::PushLevel::All) => PushLevel::All,
        Ok(pb::PushLevel::Mentions) => PushLevel::Mentions,
        Ok(pb::PushLevel::None) => PushLevel::None,
        Err(_) => return Err(ChatError::invalid("level", "unknown push level")),
    };
    let minute = |m: u32| u16::try_from(m).unwrap_or(u16::MAX);
    let (from, to) = (settings.quiet_start_minute, settings.quiet_end_minute);
    let quiet = (from != to).then(|| (minute(from), minute(to)));
    Ok(PushSettings { level, quiet })
}

/// A user's presence as others see it: online now, and the status they set; when they were
/// last seen only while offline.
pub fn user_presence(user: &str, online: bool, status: &UserStatus) -> pb::UserPresence {
    pb::UserPresence {
        user_id: user.to_string(),
        online,
        availability: availability(status.availability) as i32,
        status_text: status.text.clone(),
        last_seen_ms: if online { 0 } else { status.last_seen_ms },
    }
}

fn availability(availability: Availability) -> pb::Availability {
    match availability {
        Availability::Available => pb::Availability::Available,
        Availability::Away => pb::Availability::Away,
        Availability::DoNotDisturb => pb::Availability::DoNotDisturb,
    }
}

/// The availability a request asks for: UNSPECIFIED is AVAILABLE; unknown numbers are None.
pub fn availability_from(value: i32) -> Option<Availability> {
    match pb::Availability::try_from(value).ok()? {
        pb::Availability::Unspecified | pb::Availability::Available => {
            Some(Availability::Available)
        }
        pb::Availability::Away => Some(Availability::Away),
        pb::Availability::DoNotDisturb => Some(Availability::DoNotDisturb),
    }
}

/// A profile as its reader may see it.
pub(crate) fn profile(view: ProfileView) -> pb::Profile {
    let p = view.profile;
    pb::Profile {
        user_id: p.user,
        display_name: p.display_name,
        title: p.title,
        bio: p.bio,
        time_zone: p.time_zone,
        custom_fields: p.custom_fields.into_iter().collect(),
        email: p.email,
        phone: p.phone,
        updated_at_ms: p.updated_at_ms,
        exists: view.exists,
        avatar_id: p.avatar_id,
    }
}

/// The values an UpdateProfile carries (whose profile, and when, are the service's).
pub(crate) fn profile_changes(p: pb::Profile) -> Profile {
    Profile {
        display_name: p.display_name,
        title: p.title,
        bio: p.bio,
        time_zone: p.time_zone,
        custom_fields: p.custom_fields.into_iter().collect(),
        email: p.email,
        phone: p.phone,
        avatar_id: p.avatar_id,
        ..Profile::default()
    }
}

/// What an upload is for, as a request names it.
pub(crate) fn upload_purpose(purpose: i32) -> UploadPurpose {
    match pb::UploadPurpose::try_from(purpose) {
        Ok(pb::UploadPurpose::Avatar) => UploadPurpose::Avatar,
        _ => UploadPurpose::Message,
    }
}

/// The kind of file a listing asks for: "image", "video", "audio", "file", or "" for all.
pub(crate) fn file_kind(kind: &str) -> Result<Option<MessageType>, ChatError> {
    match kind {
        "" => Ok(None),
        "image" => Ok(Some(MessageType::Image)),
        "video" => Ok(Some(MessageType::Video)),
        "audio" => Ok(Some(MessageType::Audio)),
        "file" => Ok(Some(MessageType::File)),
        other => Err(ChatError::invalid(
            "kind",
            format!("{} is not image, video, audio or file", crate::validate::quoted(other)),
        )),
    }
}
