//! Typing indicators: members who may post say they are typing; an indicator nobody
//! refreshes ends on its own. Never stored. Members with a block between them and the
//! typist are not told (relays leave them out).

use std::sync::Arc;

use super::{Relations, as_member, policy};
use crate::auth::Caller;
use crate::error::ChatResult;
use crate::ids::IdGenerator;
use crate::model::ConversationId;
use crate::realtime::{Events, TypingTracker};
use crate::store::Store;
use crate::validate::{self, Violations};

/// Who is typing where.
pub struct Typing {
    pub(super) store: Arc<dyn Store>,
    pub(super) ids: Arc<IdGenerator>,
    pub(super) tracker: TypingTracker,
    pub(super) events: Events,
    /// Members with a block between them and the typist are not told.
    pub(super) relations: Arc<Relations>,
}

impl Typing {
    /// SetTyping: members who may post tell the others they are typing (or stopped).
    pub async fn set_typing(
        &self,
        caller: &Caller,
        conversation_id: ConversationId,
        typing: bool,
    ) -> ChatResult<u32> {
        Violations::new().check("channel_id", validate::check_id(conversation_id)).finish()?;
        let (conversation, me) = as_member(&*self.store, caller, conversation_id).await?;
        policy::writable(&conversation)?;
        policy::may_post(&conversation, &me)?;
        policy::not_timed_out(&me, self.ids.now_ms())?;
        let ttl_ms = self.tracker.ttl().as_millis() as u32;
        let (org, user) = (&caller.org, &caller.user);
        if typing {
            self.tracker.start(org, conversation_id, user);
        } else if !self.tracker.stop(org, conversation_id, user) {
            return Ok(ttl_ms);
        }
        let apart = self.relations.kept_apart(org, user).await?;
        self.events.typing(org, conversation_id, user, typing, ttl_ms, apart).await;
        Ok(ttl_ms)
    }

    /// Ends typing indicators nobody refreshed, telling the members.
    pub async fn expire_typing(&self) {
        let ttl_ms = self.tracker.ttl().as_millis() as u32;
        for (org, conversation_id, user) in self.tracker.expired() {
            self.events.typing(&org, conversation_id, &user, false, ttl_ms, Vec::new()).await;
        }
    }
}
