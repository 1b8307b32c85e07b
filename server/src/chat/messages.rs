//! Sending, editing, deleting and reading messages.

use std::collections::BTreeMap;
use std::sync::Arc;

use switchboard_proto::v1 as pb;

use super::{
    Attachments, Audit, Filters, Limits, Notifications, Rates, Relations, Retention, Threads,
    as_member, message_to_change, other_party, policy,
};
use crate::access;
use crate::auth::Caller;
use crate::error::{ChatError, ChatResult};
use crate::ids::{self, IdGenerator};
use crate::metrics::ControllerMetrics;
use crate::model::{
    Attachment, AttachmentId, AuditAction, ConversationId, Kind, Message, MessageId, MessageType,
    MessageVersion, Pin, Role, UploadPurpose,
};
use crate::realtime::{Events, changes};
use crate::store::{Direction, HistoryQuery, Inserted, Revision, Store};
use crate::validate::{self, Violations};

/// What SendMessage asks for.
#[derive(Debug, Clone)]
pub struct NewMessage {
    pub channel_id: ConversationId,
    /// None for everyone.
    pub to: Option<String>,
    pub kind: MessageType,
    pub data: String,
    /// The message replied to: the reply goes to its thread.
    pub parent_id: Option<MessageId>,
    /// With `parent_id`: also show the reply in the conversation.
    pub also_in_conversation: bool,
    pub custom_fields: BTreeMap<String, String>,
    pub client_msg_id: Option<String>,
}

/// The result of a send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sent {
    pub message: Message,
    /// True when this was a retry and `message` is the original.
    pub duplicate: bool,
}

/// One page of history, newest first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HistoryPage {
    pub messages: Vec<Message>,
    pub has_more: bool,
}

/// Default and largest page of ListHistory.
const HISTORY_PAGE: (usize, usize) = (50, 200);

/// Most messages pinned in one conversation.
const MAX_PINS: usize = 100;

/// Default and largest page of ListMessageVersions.
const VERSIONS_PAGE: (usize, usize) = (20, 100);

/// A page of ListChanges.
pub struct ChangesPage {
    pub events: Vec<pb::Event>,
    pub next_after: u64,
    pub has_more: bool,
}

/// Default and largest page of ListChanges, in log entries.
const CHANGES_PAGE: (usize, usize) = (200, 1_000);

/// Log entries one ListChanges call reads, at most, looking for one the caller may see.
const CHANGES_SCAN: usize = 10_000;

/// Sending, editing, deleting and reading messages (and an attachment's deletion, which
/// takes its message with it).
pub struct Messages {
    pub(super) store: Arc<dyn Store>,
    pub(super) ids: Arc<IdGenerator>,
    pub(super) limits: Limits,
    pub(super) events: Events,
    pub(super) rates: Arc<Rates>,
    pub(super) metrics: Arc<ControllerMetrics>,
    pub(super) attachments: Arc<Attachments>,
    pub(super) notifications: Arc<Notifications>,
    pub(super) audit: Arc<Audit>,
    /// Who blocks whom: neither sends in their direct conversation.
    pub(super) relations: Arc<Relations>,
    /// Replies go to their threads.
    pub(super) threads: Arc<Threads>,
    /// The org's filters check every text sent or edited.
    pub(super) filters: Arc<Filters>,
    /// Gives each message sent its expiry.
    pub(super) retention: Arc<Retention>,
}

impl Messages {
    /// SendMessage: validated, authorized, given an id, and acknowledged once durable.
    pub async fn send(&self, caller: &Caller, new: NewMessage) -> ChatResult<Sent> {
        let received = std::time::Instant::now();
        let mut violations = Violations::new();
        violations
            .check("channel_id", validate::check_id(new.channel_id))
            .check("custom_fields", validate::check_custom_fields(&new.custom_fields));
        if let Some(to) = &new.to {
            violations.check("to", validate::check_user_id(to));
        }
        if let Some(key) = &new.client_msg_id {
            violations.check("client_msg_id", validate::check_client_msg_id(key));
        }
        let attachment = match new.kind {
            MessageType::Text => {
                violations
                    .check("data", validate::check_text(&new.data, self.limits.max_message_bytes));
                None
            }
            _ => match validate::check_attachment_ref(&new.data) {
                Ok(id) => Some(id),
                Err(why) => {
                    violations.check("data", Err(why));
                    None
                }
            },
        };
        violations.finish()?;

        let (conversation, me) = as_member(&*self.store, caller, new.channel_id).await?;
        policy::writable(&conversation)?;
        policy::may_post(&conversation, &me)?;
        policy::not_timed_out(&me, self.ids.now_ms())?;
        if conversation.kind == Kind::Direct
            && let Some(other) = other_party(&*self.store, conversation.id, &caller.user).await?
        {
            self.relations.may_message(caller, &other).await?;
        }
        super::within_rate(&self.rates.send, caller, "send rate exceeded")?;
        if let Some(to) = &new.to
            && self.store.get_member(conversation.id, to).await?.is_none()
        {
            return Err(ChatError::invalid(
                "to",
                format!("{to} is not a member of conversation {}", conversation.id),
            ));
        }
        let root = match new.parent_id {
            Some(parent) => Some(
                self.threads
                    .root_for_reply(caller, conversation.id, parent, new.to.is_some())
                    .await?,
            ),
            None => None,
        };
        let attachment = match attachment {
            Some(id) => Some(
                self.attachments.attachment_to_send(caller, &conversation, new.kind, id).await?,
            ),
            None => None,
        };

        let mentions = match new.kind {
            MessageType::Text => self.mentions_in(&conversation, &me, &new.data).await?,
            _ => Vec::new(),
        };
        let flagged = match new.kind {
            MessageType::Text => self.filters.check(&caller.org, &new.data).await?,
            _ => None,
        };
        super::moderation::within_slow_mode(&*self.store, &conversation, &me, self.ids.now_ms())
            .await?;
        let id = self.ids.next_id();
        if let Some(attachment) = &attachment
            && let Err(original) = self
                .attachments
                .claim_for(attachment, id, &caller.user, new.client_msg_id.as_deref())
                .await?
        {
            return Ok(Sent { message: original, duplicate: true });
        }
        let ts_ms = ids::timestamp_ms(id);
        let message = Message {
            id,
            channel_id: conversation.id,
            from: caller.user.clone(),
            to: new.to,
            kind: new.kind,
            data: new.data,
            ts_ms,
            parent_id: root.as_ref().map(|root| root.id),
            edited_at_ms: None,
            deleted: false,
            custom_fields: new.custom_fields,
            client_msg_id: new.client_msg_id,
            attachment: attachment.map(|a| Box::new(Attachment { message_id: Some(id), ..a })),
            mentions,
            deleted_by: None,
            created_seq: 0,
            seq: 0,
            pin: None,
            reactions: Vec::new(),
            thread_only: root.is_some() && !new.also_in_conversation,
            reply_count: 0,
            last_reply_id: None,
            expires_at_ms: self
                .retention
                .expires_at_ms(&conversation.org, conversation.id, ts_ms)
                .await?,
        };
        let thread = match &root {
            Some(root) => {
                Some(self.threads.before_reply(conversation.id, root, &caller.user).await?)
            }
            None => None,
        };
        let followers = thread.as_ref().map_or(&[][..], |thread| &thread.notified[..]);
        let notifications =
            self.notifications.notifications_for(&conversation, &message, followers).await;
        match self.store.insert_message(&conversation.org, &message, &notifications).await? {
            Inserted::New(entry) => {
                let message = Message { created_seq: entry.seq, seq: entry.seq, ..message };
                self.metrics.send_ack_seconds.observe(received.elapsed().as_secs_f64());
                self.metrics.messages_sent.inc();
                self.events.message_changed(&caller.org, &message, entry).await;
                self.notifications.notified(&notifications).await;
                if let (Some(root), Some(thread)) = (&root, &thread) {
                    self.threads.replied(&conversation, root, &message, thread).await;
                }
                if let Some(flagged) = flagged {
                    self.filters.flagged(caller, &conversation, &message, flagged).await;
                }
                Ok(Sent { message, duplicate: false })
            }
            Inserted::Duplicate(original) => Ok(Sent { message: *original, duplicate: true }),
        }
    }

    /// EditMessage: the author replaces the text of a live TEXT message.
    pub async fn edit(
        &self,
        caller: &Caller,
        conversation_id: ConversationId,
        id: MessageId,
        data: String,
    ) -> ChatResult<Message> {
        Violations::new()
            .check("channel_id", validate::check_id(conversation_id))
            .check("message_id", validate::check_id(id))
            .check("data", validate::check_text(&data, self.limits.max_message_bytes))
            .finish()?;
        let (conversation, me) = as_member(&*self.store, caller, conversation_id).await?;
        policy::writable(&conversation)?;
        policy::not_timed_out(&me, self.ids.now_ms())?;
        let mut message =
            access::visible_message(&*self.store, &caller.user, conversation_id, id).await?;
        if message.from != caller.user {
            return Err(ChatError::denied("only the author may edit a message"));
        }
        if message.deleted {
            return Err(ChatError::precondition(format!("message {id} was deleted")));
        }
        if message.kind != MessageType::Text {
            return Err(ChatError::precondition("only text messages can be edited"));
        }
        let flagged = self.filters.check(&caller.org, &data).await?;
        // Mentions follow the text; an edit notifies nobody anew.
        message.mentions = self.mentions_in(&conversation, &me, &data).await?;
        let now = self.ids.now_ms();
        let replaced = MessageVersion {
            written_at_ms: message.edited_at_ms.unwrap_or(message.ts_ms),
            data: std::mem::replace(&mut message.data, data),
            replaced_at_ms: now,
            seq: 0,
        };
        message.edited_at_ms = Some(now);
        let entry = self.store.update_message(&message, now, Revision::Edit(&replaced)).await?;
        message.seq = entry.seq;
        self.events.message_changed(&caller.org, &message, entry).await;
        if let Some(flagged) = flagged {
            self.filters.flagged(caller, &conversation, &message, flagged).await;
        }
        Ok(message)
    }

    /// ListMessageVersions: the earlier texts of a message the caller may see, newest first
    /// (none once it is deleted), and whether there are more before the last.
    pub async fn versions(
        &self,
        caller: &Caller,
        conversation_id: ConversationId,
        id: MessageId,
        before_seq: u64,
        limit: u32,
    ) -> ChatResult<(Vec<MessageVersion>, bool)> {
        let limit = validate::page_size(limit, VERSIONS_PAGE.0, VERSIONS_PAGE.1)?;
        Violations::new()
            .check("channel_id", validate::check_id(conversation_id))
            .check("message_id", validate::check_id(id))
            .finish()?;
        as_member(&*self.store, caller, conversation_id).await?;
        access::visible_message(&*self.store, &caller.user, conversation_id, id).await?;
        let before = (before_seq != 0).then_some(before_seq);
        let mut versions =
            self.store.list_message_versions(conversation_id, id, before, limit + 1).await?;
        let has_more = versions.len() > limit;
        versions.truncate(limit);
        Ok((versions, has_more))
    }

    /// PinMessage (`pinned`) and UnpinMessage: admins and the owner, or any member where
    /// the conversation lets members pin (and in DIRECT and SELF conversations), pin a
    /// message for everyone, at most `MAX_PINS` per conversation. A change of the
    /// message, in its conversation's log: members get it as `message_edited`. Pinning a
    /// pinned message (or unpinning one that is not) changes nothing.
    pub async fn pin(
        &self,
        caller: &Caller,
        conversation_id: ConversationId,
        id: MessageId,
        pinned: bool,
    ) -> ChatResult<Message> {
        let (conversation, me, message) =
            message_to_change(&*self.store, caller, conversation_id, id).await?;
        policy::may_pin(&conversation, &me)?;
        if message.pin.is_some() == pinned {
            return Ok(message);
        }
        if pinned && message.deleted {
            return Err(ChatError::precondition(format!("message {id} was deleted")));
        }
        if pinned && message.to.is_some() {
            return Err(ChatError::precondition("a private message cannot be pinned for everyone"));
        }
        if pinned && self.store.list_pins(conversation_id).await?.len() >= MAX_PINS {
            return Err(ChatError::precondition(format!(
                "conversation {conversation_id} has {MAX_PINS} pinned messages; unpin one first"
            )));
        }
        let pin = pinned.then(|| Pin { by: caller.user.clone(), at_ms: self.ids.now_ms() });
        let Some((message, entry)) = self.store.set_pin(conversation_id, id, pin.as_ref()).await?
        else {
            return Err(ChatError::not_found(format!("message {id} not found")));
        };
        self.events.message_changed(&caller.org, &message, entry).await;
        if message.from != caller.user {
            let action =
                if pinned { AuditAction::MessagePinned } else { AuditAction::MessageUnpinned };
            let detail = format!("author {}", message.from);
            self.audit.record(caller, action, conversation_id, &id.to_string(), detail).await;
        }
        Ok(message)
    }

    /// ListPins: the conversation's pinned messages the caller may see, most recently
    /// pinned first.
    pub async fn pins(
        &self,
        caller: &Caller,
        conversation_id: ConversationId,
    ) -> ChatResult<Vec<Message>> {
        Violations::new().check("channel_id", validate::check_id(conversation_id)).finish()?;
        as_member(&*self.store, caller, conversation_id).await?;
        let mut pinned = Vec::new();
        for (id, _) in self.store.list_pins(conversation_id).await? {
            match self.store.get_message(conversation_id, id).await? {
                Some(message) if message.pin.is_some() && message.visible_to(&caller.user) => {
                    pinned.push(message)
                }
                _ => {}
            }
        }
        pinned.sort_by_key(|message| {
            std::cmp::Reverse(message.pin.as_ref().map(|pin| (pin.at_ms, message.id)))
        });
        Ok(pinned)
    }

    /// DeleteMessage: the author, or an admin or the owner, turns a message into a tombstone.
    /// Deleting a deleted message returns the tombstone again.
    pub async fn delete(
        &self,
        caller: &Caller,
        conversation_id: ConversationId,
        id: MessageId,
    ) -> ChatResult<Message> {
        self.delete_message(caller, conversation_id, id, true).await
    }

    /// [`Self::delete`]; `audited` says whether a delete of someone else's message writes
    /// its own audit entry (not when it is part of deleting their attachment).
    pub(super) async fn delete_message(
        &self,
        caller: &Caller,
        conversation_id: ConversationId,
        id: MessageId,
        audited: bool,
    ) -> ChatResult<Message> {
        let (_, me, message) = message_to_change(&*self.store, caller, conversation_id, id).await?;
        if message.from != caller.user {
            policy::at_least(&me, Role::Admin, "delete other people's messages")?;
        }
        if message.deleted {
            return Ok(message);
        }
        let message = self.tombstone(&caller.org, message, &caller.user).await?;
        if audited && message.from != caller.user {
            let detail = format!("author {}", message.from);
            let target = message.id.to_string();
            let (action, author) = (AuditAction::MessageDeleted, Some(&*message.from));
            self.audit
                .record_naming(caller, action, conversation_id, &target, detail, author)
                .await;
        }
        Ok(message)
    }

    /// Turns a message into a tombstone deleted `by` someone, whoever may (the caller
    /// checked): its text, fields, mentions, pin and reaction counts go, its attachment's
    /// bytes are deleted (the record stays), and with it in the store its earlier texts and
    /// notifications. Delivered live; its thread is recounted. A message deleted already
    /// is written again as it is (erasure does so, for what an older delete left).
    pub(super) async fn tombstone(
        &self,
        org: &str,
        mut message: Message,
        by: &str,
    ) -> ChatResult<Message> {
        let now_ms = self.ids.now_ms();
        if !message.deleted {
            message.deleted = true;
            message.deleted_by = Some(by.to_string());
        }
        message.pin = None;
        message.reactions.clear();
        message.data.clear();
        message.custom_fields.clear();
        message.mentions.clear();
        if let Some(attachment) = message.attachment.take() {
            self.attachments.discard_attachment(attachment.id).await?;
        }
        let entry = self.store.update_message(&message, now_ms, Revision::Delete).await?;
        message.seq = entry.seq;
        self.events.message_changed(org, &message, entry).await;
        self.threads.reply_deleted(org, &message);
        Ok(message)
    }

    /// ListHistory: a page of messages the caller may see, newest first. With only `after`,
    /// the page is the messages right after it, so paging forward never skips any.
    pub async fn history(
        &self,
        caller: &Caller,
        conversation_id: ConversationId,
        before: Option<MessageId>,
        after: Option<MessageId>,
        limit: u32,
    ) -> ChatResult<HistoryPage> {
        let limit = validate::page_size(limit, HISTORY_PAGE.0, HISTORY_PAGE.1)?;
        Violations::new().check("channel_id", validate::check_id(conversation_id)).finish()?;
        if let (Some(before), Some(after)) = (before, after)
            && after >= before
        {
            return Err(ChatError::invalid("after", "must be smaller than `before`"));
        }
        as_member(&*self.store, caller, conversation_id).await?;

        let direction = if after.is_some() && before.is_none() {
            Direction::OldestFirst
        } else {
            Direction::NewestFirst
        };
        // Private messages of others and thread-only replies are skipped, so read on until
        // the page is full (one extra message tells whether there is more).
        let mut query = HistoryQuery { before, after, direction, limit: limit + 1 };
        let mut visible = Vec::with_capacity(limit + 1);
        loop {
            let rows = self.store.list_messages(conversation_id, query).await?;
            let exhausted = rows.len() < query.limit;
            let Some(last) = rows.last().map(|m| m.id) else {
                break;
            };
            let shown = |m: &Message| m.visible_to(&caller.user) && !m.thread_only;
            visible.extend(rows.into_iter().filter(shown));
            if visible.len() > limit || exhausted {
                break;
            }
            match direction {
                Direction::NewestFirst => query.before = Some(last),
                Direction::OldestFirst => query.after = Some(last),
            }
            query.limit = limit + 1 - visible.len();
        }
        let has_more = visible.len() > limit;
        visible.truncate(limit);
        if direction == Direction::OldestFirst {
            visible.reverse();
        }
        Ok(HistoryPage { messages: visible, has_more })
    }

    /// A message of the conversation that the caller may see; NOT_FOUND otherwise.
    /// ListChanges: the changes after `after_seq` that the caller may see. A page ends at
    /// the last change it returns (entries after it that the caller may not see are read
    /// again next time), so that no position handed out names someone else's private
    /// message; a page of nothing but others' private entries goes on reading.
    pub async fn changes(
        &self,
        caller: &Caller,
        conversation_id: ConversationId,
        after_seq: u64,
        limit: u32,
    ) -> ChatResult<ChangesPage> {
        let limit = validate::page_size(limit, CHANGES_PAGE.0, CHANGES_PAGE.1)?;
        Violations::new()
            .check("channel_id", validate::check_id(conversation_id))
            .check("after_seq", validate::check_position(after_seq))
            .finish()?;
        as_member(&*self.store, caller, conversation_id).await?;
        let (mut events, mut cursor, mut scanned) = (Vec::new(), after_seq, 0);
        let has_more = loop {
            let (page, last, more) =
                changes::after(self.store.as_ref(), conversation_id, cursor, limit).await?;
            scanned += limit;
            let visible = page.into_iter().filter(|change| change.visible_to(&caller.user));
            events.extend(visible.map(|change| change.event));
            if let Some(last) = last {
                cursor = last.seq;
            }
            if !more || !events.is_empty() || scanned >= CHANGES_SCAN {
                break more;
            }
        };
        let next_after = match events.last() {
            Some(event) => event.seq,
            None if has_more => cursor,
            None => after_seq.max(changes::START),
        };
        Ok(ChangesPage { events, next_after, has_more })
    }

    /// DeleteAttachment: the uploader, or an admin or the owner. An attachment that was
    /// sent goes with its message (which checks the same rights), which is why it is here.
    /// Avatars have rules of their own.
    pub async fn delete_attachment(
        &self,
        caller: &Caller,
        id: AttachmentId,
    ) -> ChatResult<Attachment> {
        Violations::new().check("attachment_id", validate::check_id(id)).finish()?;
        let attachment = self.attachments.attachment_of_org(caller, id).await?;
        if attachment.purpose() == UploadPurpose::Avatar {
            return self.attachments.delete_avatar(caller, attachment).await;
        }
        let (conversation, me) = self.attachments.in_conversation(caller, &attachment).await?;
        policy::writable(&conversation)?;
        if attachment.uploader != caller.user {
            policy::at_least(&me, Role::Admin, "delete other people's attachments")?;
        }
        match attachment.message_id {
            Some(message) => {
                self.delete_message(caller, conversation.id, message, false).await?;
            }
            None => self.attachments.discard_attachment(id).await?,
        }
        let detail = format!("{} by {}", attachment.filename, attachment.uploader);
        let action = AuditAction::AttachmentDeleted;
        let (target, author) = (id.to_string(), Some(&*attachment.uploader));
        self.audit.record_naming(caller, action, conversation.id, &target, detail, author).await;
        self.attachments.attachment_of_org(caller, id).await
    }
}
