//! Building and publishing events. Publishing happens after the write it reports is durable;
//! a failed publish is logged, never surfaced to the caller (the Store is the truth, and
//! resume fills any gap).

use std::sync::Arc;

use switchboard_proto::v1::{self as pb, event::Kind};
use tracing::Instrument as _;

use super::{Topic, changes};
use crate::bus::Bus;
use crate::convert;
use crate::metrics::ControllerMetrics;
use crate::model::{
    Conversation, ConversationId, ConversationView, Expiry, LogEntry, Member, Message, MessageId,
    ThreadView,
};

#[derive(Clone)]
pub struct Events {
    /// Where events go.
    bus: Arc<dyn Bus>,
    metrics: Arc<ControllerMetrics>,
}

impl Events {
    pub fn new(bus: Arc<dyn Bus>, metrics: Arc<ControllerMetrics>) -> Self {
        Events { bus, metrics }
    }

    async fn publish(&self, topic: Topic, conversation_id: ConversationId, kind: Kind) {
        self.publish_event(topic, pb::Event { conversation_id, seq: 0, kind: Some(kind) }, 0).await;
    }

    async fn publish_event(&self, topic: Topic, event: pb::Event, prev: u64) {
        let conversation_id = event.conversation_id;
        let span = tracing::info_span!(target: switchboard_telemetry::SPANS, "bus.publish", otel.kind = "producer", conversation_id);
        let start = std::time::Instant::now();
        if let Err(error) = self.bus.publish(&topic, event, prev).instrument(span).await {
            tracing::warn!(%error, ?topic, "event not published");
        }
        self.metrics.bus_publish_seconds.observe(start.elapsed().as_secs_f64());
    }

    /// A message was created, edited or deleted at log entry `entry` (`message` is as the
    /// change left it): the event is the one a replay of that entry gives, carrying the
    /// position, and the bus carries the one before it, so that every controller's hub can
    /// order the conversation's events.
    pub async fn message_changed(&self, org: &str, message: &Message, entry: LogEntry) {
        if let Some(event) = changes::event_of(&entry, message) {
            self.publish_event(Topic::channel(org, message.channel_id), event, entry.prev).await;
        }
    }

    /// A message expired and is gone: to the conversation's members who could see it,
    /// naming it without its content. Not told when the expiry does not say who could
    /// (one listed before expiries kept the sender).
    pub async fn message_expired(&self, expiry: &Expiry) {
        if expiry.from.is_empty() {
            return;
        }
        let message = pb::Message {
            id: expiry.message_id,
            channel_id: expiry.channel_id,
            from: expiry.from.clone(),
            to: expiry.to.clone().unwrap_or_else(|| "*".to_string()),
            expires_at_ms: expiry.expires_at_ms,
            ..Default::default()
        };
        let kind = Kind::MessageExpired(pb::MessageExpired { message: Some(message) });
        let topic = Topic::channel(&expiry.org, expiry.channel_id);
        self.publish(topic, expiry.channel_id, kind).await;
    }

    /// To the conversation's members, and to the new member's own topic so that their
    /// connected streams subscribe, replaying after `replay_after_seq` (the conversation's
    /// position before the join).
    pub async fn member_joined(
        &self,
        view: &ConversationView,
        member: &Member,
        by: &str,
        replay_after_seq: u64,
    ) {
        let conversation = &view.conversation;
        let kind = joined(conversation, member, by, replay_after_seq);
        let topic = Topic::channel(&conversation.org, conversation.id);
        self.publish(topic, conversation.id, kind.clone()).await;
        let own = Topic::user(&conversation.org, &member.user_id);
        self.publish(own, conversation.id, kind).await;
    }

    /// A member left or was removed at log entry `entry`: to the conversation's members
    /// (the one who left included) in log order, so that nothing said after it reaches
    /// them, and to their own topic.
    pub async fn member_left(&self, org: &str, conversation: ConversationId, entry: &LogEntry) {
        let Some(removal) = &entry.removal else { return };
        let event = changes::removal_event(conversation, entry.seq, removal);
        let own = pb::Event { seq: 0, ..event.clone() };
        self.publish_event(Topic::channel(org, conversation), event, entry.prev).await;
        self.publish_event(Topic::user(org, &removal.user), own, 0).await;
    }

    pub async fn role_changed(
        &self,
        org: &str,
        conversation: ConversationId,
        member: &Member,
        by: &str,
    ) {
        let kind = Kind::MemberRoleChanged(pb::MemberRoleChanged {
            member: Some(convert::member(member.clone())),
            changed_by: by.to_string(),
        });
        self.publish(Topic::channel(org, conversation), conversation, kind).await;
    }

    /// A member was timed out, or their timeout lifted: to the conversation's members.
    pub async fn timeout_changed(
        &self,
        org: &str,
        conversation: ConversationId,
        member: &Member,
        by: &str,
    ) {
        let kind = Kind::MemberTimeoutChanged(pb::MemberTimeoutChanged {
            member: Some(convert::member(member.clone())),
            changed_by: by.to_string(),
        });
        self.publish(Topic::channel(org, conversation), conversation, kind).await;
    }

    pub async fn conversation_updated(&self, view: &ConversationView, by: &str) {
        let (org, id) = (&view.conversation.org, view.conversation.id);
        let conversation = Some(Box::new(convert::conversation(ConversationView {
            conversation: view.conversation.clone(),
            my_role: None,
        })));
        let kind = if view.conversation.archived {
            Kind::ConversationArchived(pb::ConversationArchived {
                conversation,
                archived_by: by.to_string(),
            })
        } else {
            Kind::ConversationUpdated(pb::ConversationUpdated {
                conversation,
                updated_by: by.to_string(),
            })
        };
        self.publish(Topic::channel(org, id), id, kind).await;
    }

    pub async fn typing(
        &self,
        org: &str,
        conversation: ConversationId,
        user: &str,
        typing: bool,
        ttl_ms: u32,
        hidden_from: Vec<String>,
    ) {
        let user_id = user.to_string();
        let kind = Kind::Typing(pb::Typing { user_id, typing, expires_in_ms: ttl_ms, hidden_from });
        self.publish(Topic::channel(org, conversation), conversation, kind).await;
    }

    /// To the members in `audience`, or to all of them when it is empty.
    pub async fn read_receipt(
        &self,
        org: &str,
        conversation: ConversationId,
        user: &str,
        up_to: MessageId,
        audience: &[&str],
    ) {
        let kind = Kind::ReadReceipt(pb::ReadReceipt {
            user_id: user.to_string(),
            message_id: up_to,
            audience: audience.iter().map(|a| a.to_string()).collect(),
        });
        self.publish(Topic::channel(org, conversation), conversation, kind).await;
    }

    /// To the relays of `user`'s streams: a block between them and someone changed.
    pub async fn blocks_changed(&self, org: &str, user: &str) {
        let kind = Kind::BlocksChanged(pb::BlocksChanged {});
        self.publish(Topic::user(org, user), 0, kind).await;
    }

    /// Between the controller and the relays, on the user's topic: the user was suspended,
    /// and the relays end their streams.
    pub async fn user_suspended(&self, org: &str, user: &str, reason: &str) {
        let kind = Kind::UserSuspended(pb::UserSuspended { reason: reason.to_string() });
        self.publish(Topic::user(org, user), 0, kind).await;
    }

    /// To the reader's own streams: their unread state of a conversation after they marked
    /// it read (on whichever device).
    pub async fn unread_changed(
        &self,
        org: &str,
        user: &str,
        conversation: ConversationId,
        read_up_to: MessageId,
        (unread_count, mention_count): (u32, u32),
    ) {
        let kind =
            Kind::UnreadChanged(pb::UnreadChanged { read_up_to, unread_count, mention_count });
        self.publish(Topic::user(org, user), conversation, kind).await;
    }

    /// To the user's own streams: their state of a thread after they changed it (on
    /// whichever device).
    pub async fn thread_changed(&self, org: &str, user: &str, view: &ThreadView) {
        let thread = Some(convert::thread(view.clone()));
        let kind = Kind::ThreadChanged(pb::ThreadChanged { thread });
        self.publish(Topic::user(org, user), view.root.channel_id, kind).await;
    }

    /// To the streams watching the org's users: their changes since the last tick.
    pub async fn presence_changed(&self, org: &str, changes: pb::PresenceChanged) {
        self.publish(Topic::presence(org), 0, Kind::PresenceChanged(changes)).await;
    }
}

/// A `member_joined` of `member` in `conversation`, added `by` someone (empty when a hub
/// passes on a join its relays may have missed), replaying after `replay_after_seq`.
pub(super) fn joined(
    conversation: &Conversation,
    member: &Member,
    by: &str,
    replay_after_seq: u64,
) -> Kind {
    Kind::MemberJoined(pb::MemberJoined {
        member: Some(convert::member(member.clone())),
        added_by: by.to_string(),
        conversation: Some(Box::new(convert::conversation(ConversationView {
            conversation: conversation.clone(),
            my_role: None,
        }))),
        replay_after_seq,
    })
}
