//! The ephemeral and per-user state around conversations: typing, read markers, presence.

use std::collections::HashMap;
use std::time::Instant;

use super::{ChatService, policy};
use crate::auth::Caller;
use crate::error::{ChatError, ChatResult};
use crate::model::{ConversationId, LogPoint, Message, MessageId, ReadMarker};
use crate::realtime::RelayId;
use crate::store::{Direction, HistoryQuery, StoreError};
use crate::validate::{self, Violations};

/// How far back a marker on a private message looks for a message others see instead:
/// pages of this many messages...
const RECEIPT_LOOKBACK_PAGE: usize = 50;
/// ...at most this many.
const RECEIPT_LOOKBACK_PAGES: usize = 4;

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

    /// MarkRead: moves the caller's read marker forward, tells the members, and tells the
    /// caller's own streams how many messages and mentions are still unread there.
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
        let (_, me) = self.as_member(caller, channel).await?;
        let read = self.visible_message(caller, channel, message).await?;
        let wanted = ReadMarker { message_id: message, at: self.place_of(&read).await? };
        let marker = self.store.advance_read_marker(channel, &caller.user, wanted).await?;
        let mentions =
            self.mark_notifications_read_up_to(caller, channel, marker.message_id).await?;
        if marker != wanted {
            return Ok(marker.message_id);
        }
        let (org, user) = (&caller.org, &caller.user);
        match &read.to {
            None => self.events.read_receipt(org, channel, user, message, &[]).await,
            Some(to) => {
                // Nothing of a private message (its id tells when it was sent) reaches
                // anyone but its parties: the others hear of the newest message before it
                // that they see; the parties, after that, of the exact one.
                if let Some(seen) = self.newest_visible_up_to(channel, message, None).await? {
                    self.events.read_receipt(org, channel, user, seen, &[]).await;
                }
                let parties = [read.from.as_str(), to.as_str()];
                self.events.read_receipt(org, channel, user, message, &parties).await;
            }
        }
        let unread = (self.unread_after(channel, &me, Some(marker)).await?, mentions);
        self.events.unread_changed(org, user, channel, message, unread).await;
        Ok(message)
    }

    /// Where a message's creation stands in its conversation's log.
    async fn place_of(&self, message: &Message) -> ChatResult<LogPoint> {
        let seq = message.created_seq;
        if seq == 0 {
            return Ok(LogPoint::default()); // stored before conversations had logs
        }
        let entry = self.store.list_log(message.channel_id, seq - 1, 1).await?;
        match entry.first() {
            Some(entry) if entry.seq == seq => Ok(entry.point()),
            _ => Err(ChatError::from(StoreError::Corrupt {
                table: "conversation_log",
                reason: format!("message {} has no entry at its position {seq}", message.id),
            })),
        }
    }

    /// ListReadMarkers: every member's read marker, as the caller may see it (a marker on
    /// a private message the caller is not a party to shows as the newest message before
    /// it that the caller sees).
    pub async fn read_markers(
        &self,
        caller: &Caller,
        channel: ConversationId,
    ) -> ChatResult<Vec<(String, MessageId)>> {
        Violations::new().check("channel_id", validate::check_id(channel)).finish()?;
        self.as_member(caller, channel).await?;
        let markers = self.store.list_read_markers(channel).await?;
        // Markers mostly share a few ids: each is looked at once.
        let mut shown: HashMap<MessageId, Option<MessageId>> = HashMap::new();
        let mut visible = Vec::with_capacity(markers.len());
        for (user, marker) in markers {
            let seen = match shown.get(&marker) {
                Some(seen) => *seen,
                None => {
                    let seen = match self.store.get_message(channel, marker).await? {
                        Some(message) if !message.visible_to(&caller.user) => {
                            self.newest_visible_up_to(channel, marker, Some(&caller.user)).await?
                        }
                        _ => Some(marker),
                    };
                    shown.insert(marker, seen);
                    seen
                }
            };
            if let Some(seen) = seen {
                visible.push((user, seen));
            }
        }
        Ok(visible)
    }

    /// The newest message before `marker` that `viewer` sees (every member, when None):
    /// None when there is none within a few pages.
    async fn newest_visible_up_to(
        &self,
        channel: ConversationId,
        marker: MessageId,
        viewer: Option<&str>,
    ) -> ChatResult<Option<MessageId>> {
        let mut before = marker;
        for _ in 0..RECEIPT_LOOKBACK_PAGES {
            let query = HistoryQuery {
                before: Some(before),
                after: None,
                direction: Direction::NewestFirst,
                limit: RECEIPT_LOOKBACK_PAGE,
            };
            let page = self.store.list_messages(channel, query).await?;
            let seen = |m: &&Message| match viewer {
                Some(user) => m.visible_to(user),
                None => m.to.is_none(),
            };
            if let Some(found) = page.iter().find(seen) {
                return Ok(Some(found.id));
            }
            match page.last() {
                Some(last) if page.len() == RECEIPT_LOOKBACK_PAGE => before = last.id,
                _ => break,
            }
        }
        Ok(None)
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
        match crate::store::user_conversations(&*self.store, org, user).await {
            Ok(ids) => self.events.presence(org, user, online, &ids).await,
            Err(error) => {
                tracing::warn!(%error, "presence not published: cannot list conversations")
            }
        }
    }
}
