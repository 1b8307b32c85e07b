//! Reactions (Chat.AddReaction, RemoveReaction, ListReactions): one per (user, emoji,
//! message), counted per emoji on the message with the first few who reacted. A reaction is
//! stored at once; the message's counts follow in a flush that gathers every reaction to it
//! within a tick, so a storm on one message costs one change of it (one log entry, one
//! event to each member) per tick, not one per click.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::watch;

use super::{as_member, message_to_change};
use crate::access;
use crate::auth::Caller;
use crate::error::{ChatError, ChatResult};
use crate::ids::IdGenerator;
use crate::model::{ConversationId, Message, MessageId, Reaction, ReactionCount};
use crate::realtime::Events;
use crate::store::Store;
use crate::validate::{self, Violations};

/// How long a message's reactions gather before its counts are written and sent.
const TICK: Duration = Duration::from_millis(200);
/// Most different emojis on one message.
const MAX_EMOJIS: usize = 50;
/// How many of the first to react with an emoji a message names.
const FIRST_USERS: usize = 3;
/// Default and largest page of ListReactions.
const REACTORS_PAGE: (usize, usize) = (100, 500);
/// Flushes are written one at a time per stripe (by message id), so that an older count
/// never overwrites a newer one.
const STRIPES: usize = 64;

/// What a flush ends with: the message as it is now, or why it failed.
type Flushed = Option<Result<Message, String>>;

pub struct Reactions {
    pub(super) store: Arc<dyn Store>,
    pub(super) ids: Arc<IdGenerator>,
    pub(super) flusher: Arc<Flusher>,
}

/// The flushes waiting for their tick, by message, and the stripes they write under.
pub(super) struct Flusher {
    store: Arc<dyn Store>,
    events: Events,
    pending: Mutex<HashMap<(ConversationId, MessageId), watch::Receiver<Flushed>>>,
    stripes: Vec<tokio::sync::Mutex<()>>,
}

impl Flusher {
    pub(super) fn new(store: Arc<dyn Store>, events: Events) -> Self {
        let stripes = (0..STRIPES).map(|_| tokio::sync::Mutex::new(())).collect();
        Flusher { store, events, pending: Mutex::default(), stripes }
    }

    /// Waits for the flush of message `id` that comes after now (joining the one waiting
    /// for its tick, or starting one); the message as it is then.
    async fn flushed(
        self: &Arc<Self>,
        org: &str,
        conversation: ConversationId,
        id: MessageId,
    ) -> ChatResult<Message> {
        let key = (conversation, id);
        let mut flushed = {
            let mut pending = self.pending.lock().expect("pending lock poisoned");
            match pending.get(&key) {
                Some(waiting) => waiting.clone(),
                None => {
                    let (done, waiting) = watch::channel(None);
                    pending.insert(key, waiting.clone());
                    let (flusher, org) = (self.clone(), org.to_string());
                    tokio::spawn(async move {
                        tokio::time::sleep(TICK).await;
                        // Reactions stored from here on wait for the next flush, which reads
                        // after them.
                        flusher.pending.lock().expect("pending lock poisoned").remove(&key);
                        let result = flusher.flush(&org, conversation, id).await;
                        done.send_replace(Some(result.map_err(|error| error.to_string())));
                    });
                    waiting
                }
            }
        };
        let done = flushed.wait_for(Option::is_some).await.map_err(|_| {
            ChatError::Unavailable("the reactions' flush stopped; try again".into())
        })?;
        match done.clone().expect("waited for it") {
            Ok(message) => Ok(message),
            Err(why) => {
                Err(ChatError::Unavailable(format!("could not count the reactions: {why}")))
            }
        }
    }

    /// Counts the message's reactions, writes the counts with a change in its log, and tells
    /// its members.
    async fn flush(
        &self,
        org: &str,
        conversation: ConversationId,
        id: MessageId,
    ) -> ChatResult<Message> {
        let _one_at_a_time = self.stripes[id as usize % STRIPES].lock().await;
        let counts = counts_of(self.store.list_reactions(conversation, id).await?);
        let Some((message, entry)) =
            self.store.set_reaction_counts(conversation, id, &counts).await?
        else {
            return Err(ChatError::not_found(format!("message {id} not found")));
        };
        self.events.message_changed(org, &message, entry).await;
        Ok(message)
    }
}

/// The counts of `reactions`: per emoji, in the order each was first used, with the first
/// few who used it.
fn counts_of(mut reactions: Vec<Reaction>) -> Vec<ReactionCount> {
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
        let (_, _, message) = message_to_change(&*self.store, caller, conversation_id, id).await?;
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
            true => self.flusher.flushed(&caller.org, conversation_id, id).await?,
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
        let limit = validate::page_limit(limit, REACTORS_PAGE.0, REACTORS_PAGE.1)
            .map_err(|why| ChatError::invalid("limit", why))?;
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
        let counts = counts_of(vec![
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
