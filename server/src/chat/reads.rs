//! Read markers: how far each member has read, moved forward by MarkRead (and by sending),
//! told to the members as receipts and to the reader's own devices as their unread state.

use std::collections::HashMap;
use std::sync::Arc;

use super::{Notifications, as_member};
use crate::access;
use crate::auth::Caller;
use crate::error::{ChatError, ChatResult};
use crate::model::{ConversationId, LogPoint, Message, MessageId, ReadMarker};
use crate::realtime::Events;
use crate::store::{Direction, HistoryQuery, Store, StoreError};
use crate::validate::{self, Violations};

/// How far back a marker on a private message looks for a message others see instead:
/// pages of this many messages...
const RECEIPT_LOOKBACK_PAGE: usize = 50;
/// ...at most this many.
const RECEIPT_LOOKBACK_PAGES: usize = 4;

/// Read markers and receipts.
pub struct Reads {
    pub(super) store: Arc<dyn Store>,
    pub(super) events: Events,
    /// Marking read clears notifications, and counts what is left unread.
    pub(super) notifications: Arc<Notifications>,
}

impl Reads {
    /// MarkRead: moves the caller's read marker forward, tells the members, and tells the
    /// caller's own streams how many messages and mentions are still unread there.
    pub async fn mark_read(
        &self,
        caller: &Caller,
        conversation_id: ConversationId,
        message: MessageId,
    ) -> ChatResult<MessageId> {
        Violations::new()
            .check("channel_id", validate::check_id(conversation_id))
            .check("message_id", validate::check_id(message))
            .finish()?;
        let (_, me) = as_member(&*self.store, caller, conversation_id).await?;
        let read =
            access::visible_message(&*self.store, &caller.user, conversation_id, message).await?;
        let wanted = ReadMarker { message_id: message, at: self.place_of(&read).await? };
        let marker = self.store.advance_read_marker(conversation_id, &caller.user, wanted).await?;
        let mentions = self
            .notifications
            .mark_notifications_read_up_to(caller, conversation_id, marker.message_id)
            .await?;
        if marker != wanted {
            return Ok(marker.message_id);
        }
        let (org, user) = (&caller.org, &caller.user);
        match &read.to {
            None => self.events.read_receipt(org, conversation_id, user, message, &[]).await,
            Some(to) => {
                // Nothing of a private message (its id tells when it was sent) reaches
                // anyone but its parties: the others hear of the newest message before it
                // that they see; the parties, after that, of the exact one.
                if let Some(seen) =
                    self.newest_visible_up_to(conversation_id, message, None).await?
                {
                    self.events.read_receipt(org, conversation_id, user, seen, &[]).await;
                }
                let parties = [read.from.as_str(), to.as_str()];
                self.events.read_receipt(org, conversation_id, user, message, &parties).await;
            }
        }
        let unread = (
            self.notifications.unread_after(org, conversation_id, &me, Some(marker)).await?,
            mentions,
        );
        self.events.unread_changed(org, user, conversation_id, message, unread).await;
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
        conversation_id: ConversationId,
    ) -> ChatResult<Vec<(String, MessageId)>> {
        Violations::new().check("channel_id", validate::check_id(conversation_id)).finish()?;
        as_member(&*self.store, caller, conversation_id).await?;
        let markers = self.store.list_read_markers(conversation_id).await?;
        // Markers mostly share a few ids: each is looked at once.
        let mut shown: HashMap<MessageId, Option<MessageId>> = HashMap::new();
        let mut visible = Vec::with_capacity(markers.len());
        for (user, marker) in markers {
            let seen = match shown.get(&marker) {
                Some(seen) => *seen,
                None => {
                    let seen = match self.store.get_message(conversation_id, marker).await? {
                        Some(message) if !message.visible_to(&caller.user) => {
                            self.newest_visible_up_to(conversation_id, marker, Some(&caller.user))
                                .await?
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
        conversation_id: ConversationId,
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
            let page = self.store.list_messages(conversation_id, query).await?;
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
}
