//! Reactions (Chat.AddReaction, RemoveReaction, ListReactions): one per (user, emoji,
//! message), counted per emoji on the message with the first few who reacted. A reaction is
//! stored at once; the message's counts follow in a recount (see `recount`) that gathers
//! every reaction to it within a tick.

use std::sync::Arc;

use super::recount::{Recount, Recounter};
use super::{as_member, message_to_change, policy};
use crate::access;
use crate::auth::Caller;
use crate::error::{ChatError, ChatResult};
use crate::ids::IdGenerator;
use crate::model::{ConversationId, Message, MessageId, Reaction};
use crate::store::Store;
use crate::validate::{self, Violations};

/// Most different emojis on one message.
const MAX_EMOJIS: usize = 50;
/// Default and largest page of ListReactions.
const REACTORS_PAGE: (usize, usize) = (100, 500);

pub struct Reactions {
    pub(super) store: Arc<dyn Store>,
    pub(super) ids: Arc<IdGenerator>,
    pub(super) recounter: Arc<Recounter>,
}

impl Reactions {
    /// AddReaction (`reacted`) and RemoveReaction: the caller's reaction `emoji` to a
    /// message they may see in a conversation they belong to (not archived). Answers once
    /// the message's counts include it, with the message as it is then.
    pub async fn react(
        &self,
        caller: &Caller,
        conversation_id: ConversationId,
        id: MessageId,
        emoji: &str,
        reacted: bool,
    ) -> ChatResult<Message> {
        Violations::new().check("emoji", validate::check_emoji(emoji)).finish()?;
        let (_, me, message) = message_to_change(&*self.store, caller, conversation_id, id).await?;
        if reacted {
            policy::not_timed_out(&me, self.ids.now_ms())?;
        }
        if message.deleted {
            return Err(ChatError::precondition(format!("message {id} was deleted")));
        }
        let new_emoji = !message.reactions.iter().any(|count| count.emoji == emoji);
        if reacted && new_emoji && message.reactions.len() >= MAX_EMOJIS {
            return Err(ChatError::precondition(format!(
                "message {id} has {MAX_EMOJIS} different reactions; use one of them"
            )));
        }
        let reaction = Reaction {
            emoji: emoji.to_string(),
            user: caller.user.clone(),
            at_ms: self.ids.now_ms(),
        };
        let changed = self.store.set_reaction(conversation_id, id, &reaction, reacted).await?;
        let mut message = match changed {
            true => {
                let recounter = &self.recounter;
                recounter.recounted(&caller.org, conversation_id, id, Recount::Reactions).await?
            }
            false => message,
        };
        self.mark_mine(caller, conversation_id, std::slice::from_mut(&mut message)).await?;
        Ok(message)
    }

    /// ListReactions: who reacted to a message with `emoji`, earliest first, after the user
    /// `after` ("" from the start); and the next page's `after` ("" after the last).
    pub async fn reactors(
        &self,
        caller: &Caller,
        conversation_id: ConversationId,
        id: MessageId,
        emoji: &str,
        after: &str,
        limit: u32,
    ) -> ChatResult<(Vec<Reaction>, String)> {
        let limit = validate::page_size(limit, REACTORS_PAGE.0, REACTORS_PAGE.1)?;
        Violations::new()
            .check("channel_id", validate::check_id(conversation_id))
            .check("message_id", validate::check_id(id))
            .check("emoji", validate::check_emoji(emoji))
            .finish()?;
        as_member(&*self.store, caller, conversation_id).await?;
        access::visible_message(&*self.store, &caller.user, conversation_id, id).await?;
        let mut reactors: Vec<Reaction> = self
            .store
            .list_reactions(conversation_id, id)
            .await?
            .into_iter()
            .filter(|reaction| reaction.emoji == emoji)
            .collect();
        reactors.sort_by(|a, b| (a.at_ms, &a.user).cmp(&(b.at_ms, &b.user)));
        let start = match after {
            "" => 0,
            after => {
                reactors.iter().position(|r| r.user == after).map_or(reactors.len(), |at| at + 1)
            }
        };
        let page: Vec<Reaction> = reactors.into_iter().skip(start).take(limit + 1).collect();
        let next = match page.len() > limit {
            true => page[limit - 1].user.clone(),
            false => String::new(),
        };
        Ok((page.into_iter().take(limit).collect(), next))
    }

    /// Marks in `messages` (of one conversation) the reactions that are the caller's.
    pub async fn mark_mine(
        &self,
        caller: &Caller,
        conversation_id: ConversationId,
        messages: &mut [Message],
    ) -> ChatResult<()> {
        let reacted = messages.iter().filter(|m| !m.reactions.is_empty()).map(|m| m.id);
        let (Some(low), Some(high)) = (reacted.clone().min(), reacted.max()) else {
            return Ok(());
        };
        let mine = self.store.user_reactions(conversation_id, &caller.user, low, high).await?;
        for message in messages.iter_mut() {
            for count in &mut message.reactions {
                count.mine =
                    mine.iter().any(|(id, emoji)| *id == message.id && *emoji == count.emoji);
            }
        }
        Ok(())
    }
}
