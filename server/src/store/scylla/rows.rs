//! Rows of the ScyllaDB tables and their conversion to and from the domain model.
//! Snowflake ids are positive 63-bit numbers, so they fit CQL's signed `bigint`.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

use scylla::DeserializeRow;
use scylla::client::session::TlsContext;
use scylla::value::{CqlValue, MaybeUnset};

use crate::ids::bucket_of;
use crate::model::{
    Attachment, AttachmentState, AuditAction, AuditEntry, Conversation, ConversationId, Kind,
    LogPoint, Member, Message, MessageType, Notification, NotificationReason, Role, Visibility,
    audit_day,
};
use crate::store::{StoreError, StoreResult};

pub(super) fn to_i64(id: u64) -> i64 {
    id.min(i64::MAX as u64) as i64
}

fn corrupt(table: &'static str, reason: impl Into<String>) -> StoreError {
    StoreError::Corrupt { table, reason: reason.into() }
}

/// A `bigint` column of an LWT answer, as an id.
pub(super) fn id_column(columns: &HashMap<String, CqlValue>, name: &str) -> StoreResult<u64> {
    match columns.get(name) {
        Some(CqlValue::BigInt(id)) => Ok(*id as u64),
        other => Err(corrupt("lwt", format!("expected bigint `{name}`, got {other:?}"))),
    }
}

pub(super) fn kind_name(kind: Kind) -> &'static str {
    match kind {
        Kind::Direct => "direct",
        Kind::SelfNotes => "self",
        Kind::Group => "group",
        Kind::Channel => "channel",
    }
}

fn kind(name: &str) -> StoreResult<Kind> {
    Ok(match name {
        "direct" => Kind::Direct,
        "self" => Kind::SelfNotes,
        "group" => Kind::Group,
        "channel" => Kind::Channel,
        other => return Err(corrupt("conversations", format!("unknown kind `{other}`"))),
    })
}

pub(super) fn role_name(role: Role) -> &'static str {
    match role {
        Role::Member => "member",
        Role::Admin => "admin",
        Role::Owner => "owner",
    }
}

fn role(name: &str) -> StoreResult<Role> {
    Ok(match name {
        "member" => Role::Member,
        "admin" => Role::Admin,
        "owner" => Role::Owner,
        other => return Err(corrupt("members", format!("unknown role `{other}`"))),
    })
}

fn message_type(name: &str) -> StoreResult<MessageType> {
    Ok(match name {
        "text" => MessageType::Text,
        "image" => MessageType::Image,
        "video" => MessageType::Video,
        "audio" => MessageType::Audio,
        "file" => MessageType::File,
        other => return Err(corrupt("messages", format!("unknown message type `{other}`"))),
    })
}

/// `members` values in insert order: conversation, user, role, joined at, muted, and
/// the log's position and count when they joined.
#[allow(clippy::type_complexity)]
pub(super) fn member_values(
    id: ConversationId,
    m: &Member,
) -> (i64, String, &'static str, i64, bool, i64, i64) {
    let joined = (to_i64(m.joined.seq), to_i64(m.joined.count));
    (to_i64(id), m.user_id.clone(), role_name(m.role), m.joined_at_ms, m.muted, joined.0, joined.1)
}

/// A `members` row as selected: user, role, joined at, muted, joined position and count.
pub(super) type MemberRow = (String, String, i64, Option<bool>, Option<i64>, Option<i64>);

pub(super) fn member(
    (user_id, role_name, joined_at_ms, muted, seq, count): MemberRow,
) -> StoreResult<Member> {
    Ok(Member {
        user_id,
        role: role(&role_name)?,
        joined_at_ms,
        muted: muted.unwrap_or(false),
        joined: LogPoint { seq: seq.unwrap_or(0) as u64, count: count.unwrap_or(0) as u64 },
    })
}

#[derive(DeserializeRow)]
pub(super) struct ConversationRow {
    id: i64,
    org: String,
    kind: String,
    name: Option<String>,
    icon: Option<String>,
    archived: Option<bool>,
    meta_tags: Option<Vec<String>>,
    owner: Option<String>,
    created_at_ms: i64,
    restricted: Option<bool>,
    visibility: Option<String>,
}

type ConversationValues =
    (i64, String, &'static str, String, String, bool, Vec<String>, String, i64, bool, &'static str);

impl ConversationRow {
    /// Values for `conversation_insert`, in its column order.
    pub(super) fn values(c: &Conversation) -> ConversationValues {
        let visibility = match c.visibility {
            Visibility::Public => "public",
            Visibility::Private => "private",
        };
        (
            to_i64(c.id),
            c.org.clone(),
            kind_name(c.kind),
            c.name.clone(),
            c.icon.clone(),
            c.archived,
            c.meta_tags.clone(),
            c.owner.clone(),
            c.created_at_ms,
            c.restricted,
            visibility,
        )
    }

    pub(super) fn into_domain(self, member_count: u32) -> StoreResult<Conversation> {
        Ok(Conversation {
            id: self.id as u64,
            org: self.org,
            kind: kind(&self.kind)?,
            name: self.name.unwrap_or_default(),
            icon: self.icon.unwrap_or_default(),
            archived: self.archived.unwrap_or(false),
            meta_tags: self.meta_tags.unwrap_or_default(),
            owner: self.owner.unwrap_or_default(),
            created_at_ms: self.created_at_ms,
            restricted: self.restricted.unwrap_or(false),
            visibility: match self.visibility.as_deref() {
                Some("public") => Visibility::Public,
                _ => Visibility::Private,
            },
            member_count,
        })
    }
}

#[derive(DeserializeRow)]
pub(super) struct MessageRow {
    channel_id: i64,
    message_id: i64,
    sender: String,
    recipient: Option<String>,
    kind: String,
    data: Option<String>,
    ts_ms: i64,
    parent_id: Option<i64>,
    edited_at_ms: Option<i64>,
    deleted: Option<bool>,
    custom_fields: Option<HashMap<String, String>>,
    client_msg_id: Option<String>,
    attachment: Option<Vec<u8>>,
    mentions: Option<Vec<String>>,
    deleted_by: Option<String>,
    created_seq: Option<i64>,
    seq: Option<i64>,
}

type MessageValues = (
    i64,
    i32,
    i64,
    String,
    MaybeUnset<String>,
    &'static str,
    String,
    i64,
    MaybeUnset<i64>,
    MaybeUnset<i64>,
    bool,
    MaybeUnset<HashMap<String, String>>,
    MaybeUnset<String>,
    MaybeUnset<Vec<u8>>,
    MaybeUnset<Vec<String>>,
);

/// A message's attachment metadata as its column holds it.
fn attachment_blob(attachment: &Option<Box<Attachment>>) -> Option<Vec<u8>> {
    attachment.as_ref().map(|a| rmp_serde::to_vec_named(a).expect("attachments serialize"))
}

pub(super) fn unset_if_none<T>(value: Option<T>) -> MaybeUnset<T> {
    value.map_or(MaybeUnset::Unset, MaybeUnset::Set)
}

impl MessageRow {
    /// Values for `message_insert`: optional columns left unset, never written as null.
    pub(super) fn values(m: &Message) -> MessageValues {
        let fields = (!m.custom_fields.is_empty())
            .then(|| m.custom_fields.iter().map(|(k, v)| (k.clone(), v.clone())).collect());
        (
            to_i64(m.channel_id),
            bucket_of(m.id) as i32,
            to_i64(m.id),
            m.from.clone(),
            unset_if_none(m.to.clone()),
            m.kind.name(),
            m.data.clone(),
            m.ts_ms,
            unset_if_none(m.parent_id.map(to_i64)),
            unset_if_none(m.edited_at_ms),
            m.deleted,
            unset_if_none(fields),
            unset_if_none(m.client_msg_id.clone()),
            unset_if_none(attachment_blob(&m.attachment)),
            unset_if_none((!m.mentions.is_empty()).then(|| m.mentions.clone())),
        )
    }

    /// Values for `message_logged`: a new message's log positions.
    pub(super) fn logged_values(m: &Message, seq: u64) -> (i64, i64, i64, i32, i64) {
        (to_i64(seq), to_i64(seq), to_i64(m.channel_id), bucket_of(m.id) as i32, to_i64(m.id))
    }

    /// Values for `message_update` (edits and deletes), at log position `seq`.
    #[allow(clippy::type_complexity)]
    pub(super) fn update_values(
        m: &Message,
        seq: u64,
    ) -> (
        String,
        MaybeUnset<i64>,
        bool,
        HashMap<String, String>,
        Option<Vec<u8>>,
        Vec<String>,
        MaybeUnset<String>,
        i64,
        i64,
        i32,
        i64,
    ) {
        let fields = m.custom_fields.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
        (
            m.data.clone(),
            unset_if_none(m.edited_at_ms),
            m.deleted,
            fields,
            attachment_blob(&m.attachment),
            m.mentions.clone(),
            unset_if_none(m.deleted_by.clone()),
            to_i64(seq),
            to_i64(m.channel_id),
            bucket_of(m.id) as i32,
            to_i64(m.id),
        )
    }

    pub(super) fn into_domain(self) -> StoreResult<Message> {
        Ok(Message {
            id: self.message_id as u64,
            channel_id: self.channel_id as u64,
            from: self.sender,
            to: self.recipient,
            kind: message_type(&self.kind)?,
            data: self.data.unwrap_or_default(),
            ts_ms: self.ts_ms,
            parent_id: self.parent_id.map(|id| id as u64),
            edited_at_ms: self.edited_at_ms,
            deleted: self.deleted.unwrap_or(false),
            custom_fields: self.custom_fields.unwrap_or_default().into_iter().collect(),
            client_msg_id: self.client_msg_id,
            mentions: self.mentions.unwrap_or_default(),
            attachment: self
                .attachment
                .map(|blob| rmp_serde::from_slice(&blob))
                .transpose()
                .map_err(|e| corrupt("messages", format!("attachment: {e}")))?,
            deleted_by: self.deleted_by,
            created_seq: self.created_seq.map_or(0, |seq| seq as u64),
            seq: self.seq.map_or(0, |seq| seq as u64),
        })
    }
}

fn state_name(state: AttachmentState) -> &'static str {
    match state {
        AttachmentState::Pending => "pending",
        AttachmentState::Complete => "complete",
        AttachmentState::Deleted => "deleted",
        AttachmentState::Expired => "expired",
    }
}

fn state(name: &str) -> StoreResult<AttachmentState> {
    Ok(match name {
        "pending" => AttachmentState::Pending,
        "complete" => AttachmentState::Complete,
        "deleted" => AttachmentState::Deleted,
        "expired" => AttachmentState::Expired,
        other => return Err(corrupt("attachments", format!("unknown state `{other}`"))),
    })
}

#[derive(DeserializeRow)]
pub(super) struct AttachmentRow {
    id: i64,
    org: String,
    channel_id: i64,
    uploader: String,
    filename: String,
    content_type: String,
    size: i64,
    width: Option<i32>,
    height: Option<i32>,
    state: String,
    multipart: Option<String>,
    created_at_ms: i64,
    expires_at_ms: i64,
    message_id: Option<i64>,
}

type AttachmentValues = (
    i64,
    String,
    i64,
    String,
    String,
    String,
    i64,
    MaybeUnset<i32>,
    MaybeUnset<i32>,
    &'static str,
    MaybeUnset<String>,
    i64,
    i64,
    MaybeUnset<i64>,
);

impl AttachmentRow {
    pub(super) fn values(a: &Attachment) -> AttachmentValues {
        (
            to_i64(a.id),
            a.org.clone(),
            to_i64(a.channel_id),
            a.uploader.clone(),
            a.filename.clone(),
            a.content_type.clone(),
            a.size.min(i64::MAX as u64) as i64,
            unset_if_none(a.dimensions.map(|(w, _)| w as i32)),
            unset_if_none(a.dimensions.map(|(_, h)| h as i32)),
            state_name(a.state),
            unset_if_none(a.multipart.clone()),
            a.created_at_ms,
            a.expires_at_ms,
            unset_if_none(a.message_id.map(to_i64)),
        )
    }

    pub(super) fn into_domain(self) -> StoreResult<Attachment> {
        Ok(Attachment {
            id: self.id as u64,
            org: self.org,
            channel_id: self.channel_id as u64,
            uploader: self.uploader,
            filename: self.filename,
            content_type: self.content_type,
            size: self.size.max(0) as u64,
            dimensions: self.width.zip(self.height).map(|(w, h)| (w as u32, h as u32)),
            state: state(&self.state)?,
            multipart: self.multipart,
            created_at_ms: self.created_at_ms,
            expires_at_ms: self.expires_at_ms,
            message_id: self.message_id.map(|id| id as u64),
        })
    }
}

#[derive(DeserializeRow)]
pub(super) struct AuditRow {
    id: i64,
    org: String,
    at_ms: i64,
    actor: String,
    action: String,
    conversation_id: i64,
    target: String,
    detail: Option<String>,
}

#[allow(clippy::type_complexity)]
impl AuditRow {
    pub(super) fn values(
        e: &AuditEntry,
    ) -> (String, i32, i64, i64, String, &'static str, i64, String, String) {
        (
            e.org.clone(),
            audit_day(e.at_ms) as i32,
            to_i64(e.id),
            e.at_ms,
            e.actor.clone(),
            e.action.name(),
            to_i64(e.conversation_id),
            e.target.clone(),
            e.detail.clone(),
        )
    }

    pub(super) fn into_domain(self) -> StoreResult<AuditEntry> {
        let action = AuditAction::from_name(&self.action)
            .ok_or_else(|| corrupt("audit", format!("unknown action `{}`", self.action)))?;
        Ok(AuditEntry {
            id: self.id as u64,
            org: self.org,
            at_ms: self.at_ms,
            actor: self.actor,
            action,
            conversation_id: self.conversation_id as u64,
            target: self.target,
            detail: self.detail.unwrap_or_default(),
        })
    }
}

#[derive(DeserializeRow)]
pub(super) struct NotificationRow {
    id: i64,
    org: String,
    user_id: String,
    conversation_id: i64,
    message_id: i64,
    sender: String,
    reason: String,
    preview: Option<String>,
    created_at_ms: i64,
    read: Option<bool>,
}

#[allow(clippy::type_complexity)]
impl NotificationRow {
    pub(super) fn values(
        n: &Notification,
    ) -> (String, String, i64, i64, i64, String, &'static str, String, i64, bool) {
        (
            n.org.clone(),
            n.user.clone(),
            to_i64(n.id),
            to_i64(n.conversation_id),
            to_i64(n.message_id),
            n.from.clone(),
            n.reason.name(),
            n.preview.clone(),
            n.created_at_ms,
            n.read,
        )
    }

    pub(super) fn into_domain(self) -> StoreResult<Notification> {
        let reason = NotificationReason::from_name(&self.reason)
            .ok_or_else(|| corrupt("notifications", format!("unknown reason `{}`", self.reason)))?;
        Ok(Notification {
            id: self.id as u64,
            org: self.org,
            user: self.user_id,
            conversation_id: self.conversation_id as u64,
            message_id: self.message_id as u64,
            from: self.sender,
            reason,
            preview: self.preview.unwrap_or_default(),
            created_at_ms: self.created_at_ms,
            read: self.read.unwrap_or(false),
        })
    }
}

/// A TLS context trusting the CA certificates in `ca` (PEM).
pub(super) fn tls_context(ca: &Path) -> StoreResult<TlsContext> {
    use rustls::pki_types::CertificateDer;
    use rustls::pki_types::pem::PemObject;
    let tls =
        |e: &dyn std::fmt::Display| StoreError::Scylla(format!("TLS CA {}: {e}", ca.display()));
    let mut roots = rustls::RootCertStore::empty();
    for cert in CertificateDer::pem_file_iter(ca).map_err(|e| tls(&e))? {
        roots.add(cert.map_err(|e| tls(&e))?).map_err(|e| tls(&e))?;
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| tls(&e))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(TlsContext::Rustls023(Arc::new(config)))
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;

    #[test]
    fn names_round_trip() {
        for k in [Kind::Direct, Kind::SelfNotes, Kind::Group, Kind::Channel] {
            assert_eq!(kind(kind_name(k)).unwrap(), k);
        }
        for r in [Role::Member, Role::Admin, Role::Owner] {
            assert_eq!(role(role_name(r)).unwrap(), r);
        }
        for t in [
            MessageType::Text,
            MessageType::Image,
            MessageType::Video,
            MessageType::Audio,
            MessageType::File,
        ] {
            assert_eq!(message_type(t.name()).unwrap(), t);
        }
        assert!(kind("nope").is_err());
    }

    #[test]
    fn a_message_becomes_a_row_and_back() {
        let message = Message {
            id: crate::ids::first_id_at(crate::ids::EPOCH_MS + 123_456_789),
            channel_id: 42,
            from: "alice".into(),
            to: Some("bob".into()),
            kind: MessageType::Text,
            data: "hi".into(),
            ts_ms: 7,
            parent_id: Some(3),
            edited_at_ms: None,
            deleted: false,
            custom_fields: BTreeMap::from([("k".to_string(), "v".to_string())]),
            client_msg_id: Some("c".into()),
            attachment: Some(Box::new(Attachment {
                id: 5,
                org: "acme".into(),
                channel_id: 42,
                uploader: "alice".into(),
                filename: "a.png".into(),
                content_type: "image/png".into(),
                size: 10,
                dimensions: Some((3, 2)),
                state: AttachmentState::Complete,
                multipart: None,
                created_at_ms: 1,
                expires_at_ms: 2,
                message_id: Some(6),
            })),
            mentions: vec!["bob".into()],
            deleted_by: None,
            created_seq: 11,
            seq: 12,
        };
        let values = MessageRow::values(&message);
        let MaybeUnset::Set(attachment) = values.13.clone() else { panic!("attachment unset") };
        let MaybeUnset::Set(mentions) = values.14.clone() else { panic!("mentions unset") };
        assert_eq!(values.1, bucket_of(message.id) as i32, "partitioned by the id's bucket");
        assert!(matches!(values.9, MaybeUnset::Unset), "a missing edit time is not written");
        let row = MessageRow {
            channel_id: values.0,
            message_id: values.2,
            sender: values.3.clone(),
            recipient: Some("bob".into()),
            kind: values.5.to_string(),
            data: Some(values.6.clone()),
            ts_ms: values.7,
            parent_id: Some(3),
            edited_at_ms: None,
            deleted: Some(false),
            custom_fields: Some(HashMap::from([("k".to_string(), "v".to_string())])),
            client_msg_id: Some("c".into()),
            attachment: Some(attachment),
            mentions: Some(mentions),
            deleted_by: None,
            created_seq: Some(11),
            seq: Some(12),
        };
        assert_eq!(row.into_domain().unwrap(), message);
    }

    #[test]
    fn a_conversation_becomes_a_row_and_back() {
        let c = Conversation {
            id: 9,
            org: "acme".into(),
            kind: Kind::Channel,
            name: "news".into(),
            icon: String::new(),
            archived: true,
            meta_tags: vec!["t".into()],
            owner: "o".into(),
            created_at_ms: 5,
            restricted: true,
            visibility: Visibility::Public,
            member_count: 3,
        };
        let v = ConversationRow::values(&c);
        let row = ConversationRow {
            id: v.0,
            org: v.1,
            kind: v.2.into(),
            name: Some(v.3),
            icon: None,
            archived: Some(v.5),
            meta_tags: Some(v.6),
            owner: Some(v.7),
            created_at_ms: v.8,
            restricted: Some(v.9),
            visibility: Some(v.10.into()),
        };
        assert_eq!(row.into_domain(3).unwrap(), c);
    }
}
