//! The ephemeral and per-user state around conversations: typing, read markers, presence.

use std::time::Instant;

use super::{ChatService, policy};
use crate::auth::Caller;
use crate::error::{ChatError, ChatResult};
use crate::model::{ConversationId, MessageId};
use crate::realtime::RelayId;
use crate::validate::{self, Violations};

impl ChatService {
    /// SetTyping: members who may post tell the others they are typing (or stopped).
    pub async fn set_typing(
        &self,
        caller: &Caller,
        channel: ConversationId,
        typing: bool,
    ) -> ChatResult<u32> {
        Violations::new().check("channel_id", validate::check_id(channel)).finish()?;
        let (conversation, me) = self.as_member(caller, channel).await?;
        policy::writable(&conversation)?;
        policy::may_post(&conversation, &me)?;
        let ttl_ms = self.typing.ttl().as_millis() as u32;
        if typing {
            self.typing.start(&caller.org, channel, &caller.user);
            self.events.typing(&caller.org, channel, &caller.user, true, ttl_ms).await;
        } else if self.typing.stop(&caller.org, channel, &caller.user) {
            self.events.typing(&caller.org, channel, &caller.user, false, ttl_ms).await;
        }
        Ok(ttl_ms)
    }

    /// Ends typing indicators nobody refreshed, telling the members.
    pub async fn expire_typing(&self) {
        let ttl_ms = self.typing.ttl().as_millis() as u32;
        for (org, channel, user) in self.typing.expired(Instant::now()) {
            self.events.typing(&org, channel, &user, false, ttl_ms).await;
        }
    }

    /// MarkRead: moves the caller's read marker forward and tells the members.
    pub async fn mark_read(
        &self,
        caller: &Caller,
        channel: ConversationId,
        message: MessageId,
    ) -> ChatResult<MessageId> {
        Violations::new()
            .check("channel_id", validate::check_id(channel))
            .check("message_id", validate::check_id(message))
            .finish()?;
        self.as_member(caller, channel).await?;
        self.visible_message(caller, channel, message).await?;
        let marker = self.store.advance_read_marker(channel, &caller.user, message).await?;
        self.mark_notifications_read_up_to(caller, channel, marker).await?;
        if marker == message {
            self.events.read_receipt(&caller.org, channel, &caller.user, marker).await;
        }
        Ok(marker)
    }

    /// ListReadMarkers: every member's read marker.
    pub async fn read_markers(
        &self,
        caller: &Caller,
        channel: ConversationId,
    ) -> ChatResult<Vec<(String, MessageId)>> {
        Violations::new().check("channel_id", validate::check_id(channel)).finish()?;
        self.as_member(caller, channel).await?;
        Ok(self.store.list_read_markers(channel).await?)
    }

    /// GetPresence: which of these users of the caller's org are online.
    pub async fn presence_of(&self, caller: &Caller, users: &[String]) -> ChatResult<Vec<bool>> {
        let mut violations = Violations::new();
        violations.check("user_ids", validate::check_user_ids(users));
        if users.is_empty() {
            violations.check("user_ids", Err("name at least one user".into()));
        }
        violations.finish()?;
        let mut online = Vec::with_capacity(users.len());
        for user in users {
            let here = self.board.is_online(&caller.org, user).await;
            online.push(here.map_err(|e| ChatError::Unavailable(e.to_string()))?);
        }
        Ok(online)
    }

    /// A relay reports a user's first stream opened or last one closed.
    pub async fn report_presence(
        &self,
        relay: RelayId,
        org: &str,
        user: &str,
        online: bool,
        follows_all: bool,
    ) {
        match self.presence.report(relay, org, user, online, follows_all) {
            Some(true) => self.arrived(org, user).await,
            Some(false) => self.departed(org, user).await,
            None => {}
        }
    }

    /// A relay stream ended: its users are offline unless another relay has them.
    pub async fn relay_gone(&self, relay: RelayId) {
        for (org, user) in self.presence.relay_gone(relay) {
            self.departed(&org, &user).await;
        }
    }

    /// Heartbeat for this controller's online users on the cluster board.
    pub async fn refresh_presence(&self) {
        match self.board.refresh(&self.presence.online_users()).await {
            Ok(expired) => {
                for (org, user) in expired {
                    self.publish_presence(&org, &user, false).await;
                }
            }
            Err(error) => tracing::warn!(%error, "presence heartbeat failed"),
        }
    }

    async fn arrived(&self, org: &str, user: &str) {
        match self.board.arrive(org, user).await {
            Ok(true) => self.publish_presence(org, user, true).await,
            Ok(false) => {} // already online via another controller
            Err(error) => tracing::warn!(%error, "presence board unavailable"),
        }
    }

    async fn departed(&self, org: &str, user: &str) {
        match self.board.depart(org, user).await {
            Ok(true) => self.publish_presence(org, user, false).await,
            Ok(false) => {} // still online via another controller
            Err(error) => tracing::warn!(%error, "presence board unavailable"),
        }
    }

    /// Presence goes to every conversation of the user's. Their notes to self get it too
    /// (sessions never echo a user's own presence), which costs less than reading each
    /// conversation to leave those out: one Store read per conversation, on every change.
    async fn publish_presence(&self, org: &str, user: &str, online: bool) {
        match super::user_conversations(&*self.store, org, user).await {
            Ok(ids) => self.events.presence(org, user, online, &ids).await,
            Err(error) => {
                tracing::warn!(%error, "presence not published: cannot list conversations")
            }
        }
    }
}
