//! Retention (SetRetention, GetRetention) and its sweep. An org admin says how long the
//! org keeps messages, for the whole org or one conversation (which wins). Each message
//! gets its expiry when it is sent, from the policy then in force; a shorter policy also
//! reaches the messages sent before it, through a job (`retention_job`; docs/operations.md,
//! "Retention").
//!
//! One controller of the cluster at a time (the holder of the `expiry-sweep` duty's lease,
//! see `Jobs::hold_duty`) sweeps every `SWEEP_EVERY`: messages whose expiry has passed are
//! removed with all that is kept of them (see `store::RetentionStore::expire_message`),
//! their attachment's bytes with them; the change is written to the change feed, from
//! which a controller's own search index drops them, and a `MessageExpired` event tells
//! the conversation's streams and the cluster's search indexer. Each step is idempotent,
//! so a sweep cut short is finished by the next, here or on the controller that takes
//! the lease over.
//!
//! Each controller keeps its orgs' policies in memory, read again once `RELOAD_AFTER` old,
//! like suspensions and filters: a change applies at once on the controller that made it
//! and to sends on the others within that time.

use std::sync::Arc;
use std::time::Duration;

use super::org_cache::OrgCache;
use super::{Audit, ChatService};
use crate::auth::Caller;
use crate::error::{ChatError, ChatResult};
use crate::ids::{IdGenerator, first_id_at};
use crate::model::{
    AuditAction, ConversationId, DAY_MS, Expiry, LogChange, LogPoint, MAX_RETENTION_DAYS,
    MessageId, RetentionPolicy,
};
use crate::store::Store;
use crate::store::{Direction, HistoryQuery};

/// How long a controller keeps an org's policy before reading it again.
pub(super) const RELOAD_AFTER: Duration = Duration::from_secs(10);
/// How often each controller looks for expired messages.
pub const SWEEP_EVERY: Duration = Duration::from_secs(5);
/// Messages removed per store read of a sweep, and most removed by one sweep (the rest
/// wait for the next, so that a backlog does not hold a controller).
const SWEEP_PAGE: usize = 100;
const SWEEP_MOST: usize = 2_000;
/// Log entries read past a reader's place to find the first change of a message.
const PROBE_ENTRIES: usize = 8;
/// Replies read at a time when a thread's root expires.
const REPLIES_PAGE: usize = 200;

/// What SetRetention asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RetentionChange {
    /// Keep messages this many days (None: forever).
    Keep(Option<u32>),
    /// A conversation drops its own policy and follows the org's.
    FollowOrg,
}

pub struct Retention {
    pub(super) store: Arc<dyn Store>,
    pub(super) ids: Arc<IdGenerator>,
    pub(super) audit: Arc<Audit>,
    /// Each org's policy, as last read.
    pub(super) policies: OrgCache<RetentionPolicy>,
}

impl Retention {
    /// SetRetention: an org admin (the caller holds `chat.admin`) sets the org's default
    /// (`conversation` 0) or a conversation's policy; the org's policy as it is now.
    pub async fn set(
        &self,
        caller: &Caller,
        conversation: ConversationId,
        change: RetentionChange,
    ) -> ChatResult<RetentionPolicy> {
        if let RetentionChange::Keep(Some(days)) = change
            && days > MAX_RETENTION_DAYS
        {
            return Err(ChatError::invalid(
                "keep_days",
                format!("at most {MAX_RETENTION_DAYS} days (20 years); 0 keeps forever"),
            ));
        }
        if conversation == 0 && change == RetentionChange::FollowOrg {
            return Err(ChatError::invalid(
                "follow_org",
                "only a conversation follows the org's policy; set conversation_id",
            ));
        }
        if conversation != 0 {
            let found = self.store.get_conversation(conversation).await?;
            if found.is_none_or(|c| c.org != caller.org) {
                return Err(ChatError::not_found(format!("no conversation {conversation}")));
            }
        }
        let detail = match change {
            RetentionChange::Keep(days) => {
                self.store.put_retention(&caller.org, conversation, days).await?;
                days.map_or("keep forever".to_string(), |days| format!("keep {days} days"))
            }
            RetentionChange::FollowOrg => {
                self.store.remove_retention(&caller.org, conversation).await?;
                "follow the org's policy".to_string()
            }
        };
        self.policies.forget(&caller.org);
        let target = match conversation {
            0 => caller.org.clone(),
            id => id.to_string(),
        };
        self.audit
            .record(caller, AuditAction::RetentionChanged, conversation, &target, detail)
            .await;
        self.policy(&caller.org).await.map(|policy| (*policy).clone())
    }

    /// GetRetention: the caller's org's policy.
    pub async fn get(&self, caller: &Caller) -> ChatResult<RetentionPolicy> {
        Ok((*self.policy(&caller.org).await?).clone())
    }

    /// When a message of `conversation` in `org` sent at `sent_at_ms` expires (0: never).
    pub(super) async fn expires_at_ms(
        &self,
        org: &str,
        conversation: ConversationId,
        sent_at_ms: i64,
    ) -> ChatResult<i64> {
        Ok(self.policy(org).await?.expires_at_ms(conversation, sent_at_ms))
    }

    /// Where a reader whose place in `conversation`'s log is `from` (reached with message
    /// `place_id`, or when they joined) starts counting what they have not read: `from`,
    /// unless the first message newer than their place logged after it expired
    /// (removed by the sweep, or due to be); then the point just before the oldest
    /// message kept, whatever policy removed the rest (a policy made longer since, or
    /// forever now, brings nothing back). Two reads for a reader with something after
    /// their place, three more past an expiry; none in an org that never set a policy.
    pub(super) async fn kept_from(
        &self,
        org: &str,
        conversation: ConversationId,
        from: LogPoint,
        place_id: MessageId,
    ) -> ChatResult<LogPoint> {
        let policy = self.policy(org).await?;
        if !policy.any_set {
            return Ok(from); // nothing of the org's has expired
        }
        let next = self.store.list_log(conversation, from.seq, PROBE_ENTRIES).await?;
        // The first change of a message newer than their place (not a member leaving, not
        // an edit of a message they had read).
        let Some(next) = next.into_iter().find(|entry| entry.message_id > place_id) else {
            return Ok(from);
        };
        let now = self.ids.now_ms();
        let next_message = self.store.get_message(conversation, next.message_id).await?;
        if next_message.is_some_and(|message| !message.expired_at(now)) {
            return Ok(from);
        }
        let mut after = next.message_id;
        if let Some(days) = policy.days_for(conversation) {
            after = after.max(first_id_at(now - i64::from(days) * DAY_MS).saturating_sub(1));
        }
        let oldest = HistoryQuery {
            after: Some(after),
            before: None,
            direction: Direction::OldestFirst,
            limit: 1,
        };
        let Some(oldest) = self.store.list_messages(conversation, oldest).await?.pop() else {
            // Nothing kept: every change there is stands before the reader now.
            let head = self.store.log_head(conversation).await?;
            return Ok(head.map_or(from, |entry| entry.point()));
        };
        let created = oldest.created_seq;
        let entry = match created {
            0 => None, // stored before conversations had logs
            _ => self.store.list_log(conversation, created - 1, 1).await?.pop(),
        };
        let Some(entry) = entry.filter(|entry| entry.seq == created) else { return Ok(from) };
        let own = u64::from(LogChange::of_new(&oldest) == LogChange::SharedMessage);
        let kept = LogPoint { seq: entry.prev, count: entry.count.saturating_sub(own) };
        Ok(if kept.seq > from.seq { kept } else { from })
    }

    /// The org's policy, read again once `RELOAD_AFTER` old.
    pub(super) async fn policy(&self, org: &str) -> ChatResult<Arc<RetentionPolicy>> {
        if let Some(kept) = self.policies.fresh(org) {
            return Ok(kept);
        }
        let policy = self.store.get_retention(org).await?;
        Ok(self.policies.put(org, policy))
    }
}

impl ChatService {
    /// Removes messages whose expiry has passed, by the controller's clock, with their
    /// attachments' bytes; how many. At most `SWEEP_MOST` at a time.
    pub async fn sweep_expired_messages(&self) -> ChatResult<usize> {
        let mut removed = 0;
        while removed < SWEEP_MOST {
            let now = self.retention.ids.now_ms();
            let due = self.store.due_expiries(now, SWEEP_PAGE).await?;
            let mut failed = 0;
            for expiry in &due {
                // One message that cannot be removed now (its attachment's blob store is
                // down, say) waits for the next sweep without holding up the others.
                match self.expire(expiry, now).await {
                    Ok(()) => removed += 1,
                    Err(error) => {
                        failed += 1;
                        tracing::warn!(%error, message_id = expiry.message_id, "an expired message was not removed; retrying at the next sweep");
                    }
                }
            }
            if due.len() < SWEEP_PAGE || failed > 0 {
                break;
            }
        }
        Ok(removed)
    }

    /// Removes one expired message: its thread's replies' expiry and its attachment's
    /// bytes first, so that a failure leaves it due, to be tried again; then tells its
    /// readers and the search indexer.
    async fn expire(&self, expiry: &Expiry, now_ms: i64) -> ChatResult<()> {
        self.expire_replies_of(expiry, now_ms).await?;
        if let Some(attachment) = expiry.attachment {
            self.attachments.erase_attachment(attachment).await?;
        }
        self.store.expire_message(expiry, now_ms).await?;
        self.conversations.events.message_expired(expiry).await;
        Ok(())
    }

    /// A thread goes with its root: the replies of an expired message that would outlive it
    /// (sent under a longer policy) expire now, each as a logged change delivered like an
    /// edit (as when a shorter policy reaches them), and this sweep or the next removes
    /// them. A page of replies at a time.
    async fn expire_replies_of(&self, root: &Expiry, now_ms: i64) -> ChatResult<()> {
        let (org, conversation) = (&root.org, root.channel_id);
        let mut after = None;
        loop {
            let page = HistoryQuery {
                after,
                before: None,
                direction: Direction::OldestFirst,
                limit: REPLIES_PAGE,
            };
            let replies = self.store.list_replies(conversation, root.message_id, page).await?;
            for reply in &replies {
                if reply.expired_at(now_ms) {
                    continue;
                }
                let due = self.store.schedule_expiry(org, conversation, reply.id, now_ms).await?;
                if let Some((message, entry)) = due {
                    self.messages.events.message_changed(org, &message, entry).await;
                }
            }
            if replies.len() < REPLIES_PAGE {
                return Ok(());
            }
            after = replies.last().map(|reply| reply.id);
        }
    }
}
