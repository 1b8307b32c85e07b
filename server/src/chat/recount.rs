//! Recounts: what a message shows of many people's actions (its reaction counts, its
//! thread's reply count) is counted again from what is stored, and written as one change of
//! the message. Recounts of one message gather within a tick, so a storm of reactions or
//! replies costs one change (one log entry, one event to each member) per tick, not one
//! per click.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::watch;

use crate::error::{ChatError, ChatResult};
use crate::model::{ConversationId, Message, MessageId, reaction_counts, thread_activity};
use crate::realtime::Events;
use crate::store::Store;

/// How long a message's recount gathers what arrives before it counts.
const TICK: Duration = Duration::from_millis(200);
/// Recounts are written one at a time per stripe (by message id), so that an older count
/// never overwrites a newer one from this controller.
const STRIPES: usize = 64;
/// How many times a thread's recount counts again after writing: another controller may
/// have written an older count after its own write (see [`Recounter::thread`]).
const THREAD_RECHECKS: usize = 4;

/// What a recount counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(super) enum Recount {
    /// The message's reactions per emoji.
    Reactions,
    /// The replies of the thread the message is the root of.
    Thread,
}

/// What a recount ends with: the message as it is now, or why it failed.
type Recounted = Option<Result<Message, String>>;

/// The recounts waiting for their tick, by message, and the stripes they write under.
pub(super) struct Recounter {
    store: Arc<dyn Store>,
    events: Events,
    pending: Mutex<HashMap<(ConversationId, MessageId, Recount), watch::Receiver<Recounted>>>,
    stripes: Vec<tokio::sync::Mutex<()>>,
}

impl Recounter {
    pub(super) fn new(store: Arc<dyn Store>, events: Events) -> Self {
        let stripes = (0..STRIPES).map(|_| tokio::sync::Mutex::new(())).collect();
        Recounter { store, events, pending: Mutex::default(), stripes }
    }

    /// Waits for the recount of message `id` that comes after now (joining the one waiting
    /// for its tick, or starting one); the message as it is then.
    pub(super) async fn recounted(
        self: &Arc<Self>,
        org: &str,
        conversation: ConversationId,
        id: MessageId,
        what: Recount,
    ) -> ChatResult<Message> {
        let key = (conversation, id, what);
        let mut recounted = {
            let mut pending = self.pending.lock().expect("pending lock poisoned");
            match pending.get(&key) {
                Some(waiting) => waiting.clone(),
                None => {
                    let (done, waiting) = watch::channel(None);
                    pending.insert(key, waiting.clone());
                    let (recounter, org) = (self.clone(), org.to_string());
                    tokio::spawn(async move {
                        tokio::time::sleep(TICK).await;
                        // What is stored from here on waits for the next recount, which
                        // reads after it.
                        recounter.pending.lock().expect("pending lock poisoned").remove(&key);
                        let result = recounter.recount(&org, conversation, id, what).await;
                        done.send_replace(Some(result.map_err(|error| error.to_string())));
                    });
                    waiting
                }
            }
        };
        let done = recounted
            .wait_for(Option::is_some)
            .await
            .map_err(|_| ChatError::Unavailable("the recount stopped; try again".into()))?;
        match done.clone().expect("waited for it") {
            Ok(message) => Ok(message),
            Err(why) => Err(ChatError::Unavailable(format!("could not count: {why}"))),
        }
    }

    /// [`Self::recounted`] without waiting for it; a failure is logged (the next recount of
    /// the message repairs it).
    pub(super) fn recount_later(
        self: &Arc<Self>,
        org: &str,
        conversation: ConversationId,
        id: MessageId,
        what: Recount,
    ) {
        let (recounter, org) = (self.clone(), org.to_string());
        tokio::spawn(async move {
            if let Err(error) = recounter.recounted(&org, conversation, id, what).await {
                tracing::warn!(%error, conversation, message_id = id, ?what, "recount failed");
            }
        });
    }

    async fn recount(
        &self,
        org: &str,
        conversation: ConversationId,
        id: MessageId,
        what: Recount,
    ) -> ChatResult<Message> {
        let _one_at_a_time = self.stripes[id as usize % STRIPES].lock().await;
        match what {
            Recount::Reactions => self.reactions(org, conversation, id).await,
            Recount::Thread => self.thread(org, conversation, id).await,
        }
    }

    /// Counts the message's reactions, writes the counts with a change in its log, and
    /// tells its members.
    async fn reactions(
        &self,
        org: &str,
        conversation: ConversationId,
        id: MessageId,
    ) -> ChatResult<Message> {
        let reactions = self.store.list_reactions(conversation, id).await?;
        let counts = reaction_counts(reactions);
        let Some((message, entry)) =
            self.store.set_reaction_counts(conversation, id, &counts).await?
        else {
            return Err(ChatError::not_found(format!("message {id} not found")));
        };
        self.events.message_changed(org, &message, entry).await;
        Ok(message)
    }

    /// Counts the replies of the thread of `root` and, when the root says otherwise, writes
    /// the count with a change in its log, tells its members, and moves the thread in its
    /// followers' listings. Then counts again: a recount on another controller may have
    /// counted before a reply this one saw and written after it, and every reply is stored
    /// before its own recount starts, so the last writer's next look sees them all.
    async fn thread(
        &self,
        org: &str,
        conversation: ConversationId,
        root: MessageId,
    ) -> ChatResult<Message> {
        let missing = || ChatError::not_found(format!("message {root} not found"));
        for _ in 0..THREAD_RECHECKS {
            let (count, last) = self.store.thread_summary(conversation, root).await?;
            let current = self.store.get_message(conversation, root).await?.ok_or_else(missing)?;
            if current.reply_count == count && current.last_reply_id == last {
                return Ok(current);
            }
            let (message, entry) = self
                .store
                .set_thread_summary(conversation, root, count, last)
                .await?
                .ok_or_else(missing)?;
            self.events.message_changed(org, &message, entry).await;
            let (from, to) = (thread_activity(&current), thread_activity(&message));
            if from != to {
                let follows = self.store.list_thread_follows(conversation, root).await?;
                let users: Vec<String> =
                    follows.into_iter().filter(|f| f.following).map(|f| f.user).collect();
                self.store.move_thread_activity(org, &users, conversation, root, from, to).await?;
            }
        }
        self.store.get_message(conversation, root).await?.ok_or_else(missing)
    }
}
