//! Threads: a message's replies (`parent_id`) form its thread, one level deep. The root
//! keeps its reply count and newest reply (recounted, see `recount`); each user has a state
//! of the thread (following, read up to), and "my threads" lists the followed ones by their
//! newest reply. Replying follows a thread; so does writing its root or being mentioned in
//! it, for users who never unfollowed it.

use std::sync::Arc;

use super::recount::{Recount, Recounter};
use super::{HistoryPage, as_member};
use crate::access;
use crate::auth::Caller;
use crate::error::{ChatError, ChatResult};
use crate::model::{
    Conversation, ConversationId, Message, MessageId, ThreadFollow, ThreadView, UserThread,
    thread_activity,
};
use crate::realtime::Events;
use crate::store::{Direction, HistoryQuery, Store};
use crate::validate::{self, Violations};

/// Default and largest page of ListReplies.
const REPLIES_PAGE: (usize, usize) = (50, 200);
/// Default and largest page of ListThreads.
const THREADS_PAGE: (usize, usize) = (20, 100);
/// Unread replies counted per thread; clients show "99+" beyond 99.
const UNREAD_CAP: usize = 100;

/// A thread as a reply found it: everyone's state of it, and who hears of the reply.
pub(super) struct ReplyThread {
    follows: Vec<ThreadFollow>,
    pub(super) notified: Vec<String>,
}

pub struct Threads {
    pub(super) store: Arc<dyn Store>,
    pub(super) events: Events,
    pub(super) recounter: Arc<Recounter>,
}

impl Threads {
    /// The root of the thread a new message replying to `parent` goes to: `parent`, or
    /// its own root when it is a reply. INVALID_ARGUMENT when the caller cannot see it, or
    /// when either message is private.
    pub(super) async fn root_for_reply(
        &self,
        caller: &Caller,
        conversation: ConversationId,
        parent: MessageId,
        private: bool,
    ) -> ChatResult<Message> {
        let invalid = |why: &str| ChatError::invalid("parent_id", why);
        if private {
            return Err(invalid("a private message cannot reply in a thread"));
        }
        let parent = access::visible_message(&*self.store, &caller.user, conversation, parent)
            .await
            .map_err(|_| invalid("no such message in this conversation"))?;
        let root = match parent.parent_id {
            None => parent,
            Some(root) => self
                .store
                .get_message(conversation, root)
                .await?
                .ok_or_else(|| invalid("the thread of that reply is gone"))?,
        };
        if root.to.is_some() {
            return Err(invalid("a private message has no thread"));
        }
        Ok(root)
    }

    /// Everyone's state of the thread of `root` before a reply by `sender` is stored, and
    /// who hears of the reply: its followers, and its root's author unless they unfollowed
    /// it (the reply makes them follow), other than the sender, who are still members of
    /// the conversation.
    pub(super) async fn before_reply(
        &self,
        conversation: ConversationId,
        root: &Message,
        sender: &str,
    ) -> ChatResult<ReplyThread> {
        let follows = self.store.list_thread_follows(conversation, root.id).await?;
        let author = follows.iter().find(|f| f.user == root.from);
        let author_follows = ThreadFollow::follows_on_mention(author).then_some(&root.from);
        let following = follows.iter().filter(|f| f.following).map(|f| &f.user);
        let mut notified = Vec::new();
        for user in following.chain(author_follows) {
            if user != sender && self.store.get_member(conversation, user).await?.is_some() {
                notified.push(user.clone());
            }
        }
        Ok(ReplyThread { follows, notified })
    }

    /// Once a reply is stored: its sender follows the thread and has read it up to the
    /// reply; the root's author and those the reply mentions follow it unless they once
    /// unfollowed it (`thread.follows`, as read before the reply); all written together.
    /// The root's counts are recounted. A failure is logged: the reply is sent either way.
    pub(super) async fn replied(
        &self,
        conversation: &Conversation,
        root: &Message,
        reply: &Message,
        thread: &ReplyThread,
    ) {
        let sender = ThreadFollow {
            user: reply.from.clone(),
            following: true,
            read_up_to: reply.id,
            unfollowed: false,
        };
        let mut follows = vec![sender];
        let mentioned = reply.mentions.iter().filter(|m| !m.starts_with('@'));
        for user in std::iter::once(&root.from).chain(mentioned) {
            let known = thread.follows.iter().find(|f| f.user == *user);
            if follows.iter().any(|f| f.user == *user) || !ThreadFollow::follows_on_mention(known) {
                continue;
            }
            let read_up_to = known.map_or(0, |k| k.read_up_to);
            follows.push(ThreadFollow {
                user: user.clone(),
                following: true,
                read_up_to,
                unfollowed: false,
            });
        }
        // Listed at the reply, which the recount moves the thread to.
        let listed =
            UserThread { activity: reply.id, conversation_id: conversation.id, root: root.id };
        if let Err(error) = self.store.put_thread_follows(&conversation.org, listed, &follows).await
        {
            tracing::warn!(%error, message_id = reply.id, "thread follows not written");
        }
        self.recounter.recount_later(&conversation.org, conversation.id, root.id, Recount::Thread);
    }

    /// Once a reply is deleted: the root's counts are recounted.
    pub(super) fn reply_deleted(&self, org: &str, reply: &Message) {
        if let Some(root) = reply.parent_id {
            self.recounter.recount_later(org, reply.channel_id, root, Recount::Thread);
        }
    }

    /// ListReplies: a page of the thread's replies, newest first (with only `after`, the
    /// replies right after it), as ListHistory pages.
    pub async fn replies(
        &self,
        caller: &Caller,
        conversation_id: ConversationId,
        root: MessageId,
        before: Option<MessageId>,
        after: Option<MessageId>,
        limit: u32,
    ) -> ChatResult<HistoryPage> {
        let limit = validate::page_size(limit, REPLIES_PAGE.0, REPLIES_PAGE.1)?;
        if let (Some(before), Some(after)) = (before, after)
            && after >= before
        {
            return Err(ChatError::invalid("after", "must be smaller than `before`"));
        }
        let root = self.visible_root(caller, conversation_id, root).await?;
        let direction = match (before, after) {
            (None, Some(_)) => Direction::OldestFirst,
            _ => Direction::NewestFirst,
        };
        let query = HistoryQuery { before, after, direction, limit: limit + 1 };
        let mut replies = self.store.list_replies(conversation_id, root.id, query).await?;
        let has_more = replies.len() > limit;
        replies.truncate(limit);
        if direction == Direction::OldestFirst {
            replies.reverse();
        }
        // The root's counts lag only when a recount failed or its controller stopped:
        // whoever reads the newest replies sets it going again.
        if before.is_none()
            && after.is_none()
            && replies.first().map(|r| r.id) != root.last_reply_id
        {
            self.recounter.recount_later(&caller.org, conversation_id, root.id, Recount::Thread);
        }
        Ok(HistoryPage { messages: replies, has_more })
    }

    /// GetThread: the caller's state of a thread.
    pub async fn thread(
        &self,
        caller: &Caller,
        conversation_id: ConversationId,
        root: MessageId,
    ) -> ChatResult<ThreadView> {
        let root = self.visible_root(caller, conversation_id, root).await?;
        let follow = self.store.get_thread_follow(conversation_id, root.id, &caller.user).await?;
        self.view(root, follow).await
    }

    /// FollowThread (`following`) and UnfollowThread: the caller's own streams get the
    /// thread as they now see it.
    pub async fn follow(
        &self,
        caller: &Caller,
        conversation_id: ConversationId,
        root: MessageId,
        following: bool,
    ) -> ChatResult<ThreadView> {
        let root = self.visible_root(caller, conversation_id, root).await?;
        let known = self.store.get_thread_follow(conversation_id, root.id, &caller.user).await?;
        let read_up_to = known.as_ref().map_or(0, |f| f.read_up_to);
        let follow = ThreadFollow {
            user: caller.user.clone(),
            following,
            read_up_to,
            unfollowed: !following,
        };
        self.changed(caller, root, follow).await
    }

    /// MarkThreadRead: moves the caller's marker in a thread forward to one of its replies.
    pub async fn mark_read(
        &self,
        caller: &Caller,
        conversation_id: ConversationId,
        root: MessageId,
        reply: MessageId,
    ) -> ChatResult<ThreadView> {
        Violations::new().check("message_id", validate::check_id(reply)).finish()?;
        let root = self.visible_root(caller, conversation_id, root).await?;
        let read =
            access::visible_message(&*self.store, &caller.user, conversation_id, reply).await?;
        if read.parent_id != Some(root.id) {
            return Err(ChatError::invalid(
                "message_id",
                format!("message {reply} is not a reply in the thread of {}", root.id),
            ));
        }
        let known = self.store.get_thread_follow(conversation_id, root.id, &caller.user).await?;
        let follow = match known {
            Some(known) if known.read_up_to >= reply => return self.view(root, Some(known)).await,
            Some(known) => ThreadFollow { read_up_to: reply, ..known },
            None => ThreadFollow {
                user: caller.user.clone(),
                following: false,
                read_up_to: reply,
                unfollowed: false,
            },
        };
        self.changed(caller, root, follow).await
    }

    /// ListThreads: the threads the caller follows, newest reply first, in conversations
    /// they still belong to; and the next page's `before` (0 after the last).
    pub async fn list(
        &self,
        caller: &Caller,
        before: Option<MessageId>,
        limit: u32,
    ) -> ChatResult<(Vec<ThreadView>, MessageId)> {
        let limit = validate::page_size(limit, THREADS_PAGE.0, THREADS_PAGE.1)?;
        let (org, user) = (&caller.org, &caller.user);
        let mut threads: Vec<ThreadView> = Vec::with_capacity(limit);
        // Where the last thread of the page is listed: the next page's cursor, once one
        // more thread is found after it.
        let (mut cursor, mut last_listed) = (before, 0);
        loop {
            let rows = self.store.list_user_threads(org, user, cursor, limit).await?;
            let exhausted = rows.len() < limit;
            for row in rows {
                cursor = Some(row.activity);
                let Some(view) = self.listed(caller, row).await? else { continue };
                if threads.iter().any(|t| t.root.id == view.root.id) {
                    continue;
                }
                if threads.len() == limit {
                    return Ok((threads, last_listed));
                }
                threads.push(view);
                last_listed = row.activity;
            }
            if exhausted {
                return Ok((threads, 0));
            }
        }
    }

    /// A row of the caller's listing as a thread they see, or None when it no longer is
    /// one of theirs. A row left behind by a thread that moved on is moved to where the
    /// thread is now.
    async fn listed(&self, caller: &Caller, row: UserThread) -> ChatResult<Option<ThreadView>> {
        let (conversation, user) = (row.conversation_id, caller.user.as_str());
        let follow = self.store.get_thread_follow(conversation, row.root, user).await?;
        let Some(follow) = follow else { return Ok(None) };
        if !follow.following {
            // Left behind by an unfollow that raced a recount: taken out for good.
            self.store.put_thread_follows(&caller.org, row, std::slice::from_ref(&follow)).await?;
            return Ok(None);
        }
        if self.store.get_member(conversation, user).await?.is_none() {
            return Ok(None);
        }
        let Some(root) = self.store.get_message(conversation, row.root).await? else {
            return Ok(None);
        };
        let now = thread_activity(&root);
        if now != row.activity {
            let users = [caller.user.clone()];
            let (org, id) = (&caller.org, root.id);
            self.store
                .move_thread_activity(org, &users, conversation, id, row.activity, now)
                .await?;
        }
        Ok(Some(self.view(root, Some(follow)).await?))
    }

    /// Writes the caller's new state of a thread, tells their own streams, and returns it.
    async fn changed(
        &self,
        caller: &Caller,
        root: Message,
        follow: ThreadFollow,
    ) -> ChatResult<ThreadView> {
        let listed = UserThread {
            activity: thread_activity(&root),
            conversation_id: root.channel_id,
            root: root.id,
        };
        self.store.put_thread_follows(&caller.org, listed, std::slice::from_ref(&follow)).await?;
        let view = self.view(root, Some(follow)).await?;
        self.events.thread_changed(&caller.org, &caller.user, &view).await;
        Ok(view)
    }

    /// A thread with someone's state of it.
    async fn view(&self, root: Message, follow: Option<ThreadFollow>) -> ChatResult<ThreadView> {
        let (following, read_up_to) = follow.map_or((false, 0), |f| (f.following, f.read_up_to));
        // Counted from the replies, not from the root's count, which lags by a tick.
        let unread = self
            .store
            .count_replies_after(root.channel_id, root.id, read_up_to, UNREAD_CAP)
            .await?;
        Ok(ThreadView { root, following, read_up_to, unread: unread as u32 })
    }

    /// The root of a thread in a conversation the caller belongs to: a message they see
    /// that is not a reply, nor private.
    async fn visible_root(
        &self,
        caller: &Caller,
        conversation_id: ConversationId,
        root: MessageId,
    ) -> ChatResult<Message> {
        Violations::new()
            .check("channel_id", validate::check_id(conversation_id))
            .check("root_id", validate::check_id(root))
            .finish()?;
        as_member(&*self.store, caller, conversation_id).await?;
        let root =
            access::visible_message(&*self.store, &caller.user, conversation_id, root).await?;
        if let Some(thread) = root.parent_id {
            return Err(ChatError::invalid(
                "root_id",
                format!("message {} is a reply; its thread's root is {thread}", root.id),
            ));
        }
        if root.to.is_some() {
            return Err(ChatError::invalid("root_id", "a private message has no thread"));
        }
        Ok(root)
    }
}
