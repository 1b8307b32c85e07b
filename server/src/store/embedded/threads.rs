//! Threads in the embedded engine: each thread's replies, who follows it, and the threads
//! each user follows by activity.

use async_trait::async_trait;

use super::{EmbeddedStore, decode, encode, get, keys};
use crate::model::{ConversationId, LogEntry, Message, MessageId, ThreadFollow, UserThread};
use crate::store::{Direction, HistoryQuery, StoreResult, ThreadStore};

#[async_trait]
impl ThreadStore for EmbeddedStore {
    async fn list_replies(
        &self,
        conversation_id: ConversationId,
        root: MessageId,
        query: HistoryQuery,
    ) -> StoreResult<Vec<Message>> {
        self.read("list_replies", |t| {
            let mut replies = Vec::new();
            let Some((low, high)) = query.id_bounds() else { return Ok(replies) };
            let rows = t.thread_replies.range(
                keys::thread_reply(conversation_id, root, low)
                    ..=keys::thread_reply(conversation_id, root, high),
            );
            let rows: Box<dyn Iterator<Item = fjall::Guard>> = match query.direction {
                Direction::NewestFirst => Box::new(rows.rev()),
                Direction::OldestFirst => Box::new(rows),
            };
            for row in rows {
                if let Some(reply) = t.message(conversation_id, keys::last_id(&row.key()?))? {
                    replies.push(reply);
                }
                if replies.len() == query.limit {
                    break;
                }
            }
            Ok(replies)
        })
    }

    async fn thread_summary(
        &self,
        conversation_id: ConversationId,
        root: MessageId,
    ) -> StoreResult<(u32, Option<MessageId>)> {
        self.read("thread_summary", |t| {
            let (mut count, mut last) = (0, None);
            for row in t.thread_replies.prefix(keys::item(conversation_id, root)) {
                count += 1;
                last = Some(keys::last_id(&row.key()?));
            }
            Ok((count, last))
        })
    }

    async fn count_replies_after(
        &self,
        conversation_id: ConversationId,
        root: MessageId,
        after: MessageId,
        limit: usize,
    ) -> StoreResult<usize> {
        self.read("count_replies_after", |t| {
            let Some(low) = after.checked_add(1) else { return Ok(0) };
            let rows = t.thread_replies.range(
                keys::thread_reply(conversation_id, root, low)
                    ..=keys::thread_reply(conversation_id, root, u64::MAX),
            );
            Ok(rows.take(limit).count())
        })
    }

    async fn set_thread_summary(
        &self,
        conversation_id: ConversationId,
        root: MessageId,
        reply_count: u32,
        last_reply_id: Option<MessageId>,
    ) -> StoreResult<Option<(Message, LogEntry)>> {
        self.write("set_thread_summary", |t, batch| {
            t.change_message(batch, conversation_id, root, |m| {
                m.reply_count = reply_count;
                m.last_reply_id = last_reply_id;
            })
        })
        .await
    }

    async fn get_thread_follow(
        &self,
        conversation_id: ConversationId,
        root: MessageId,
        user: &str,
    ) -> StoreResult<Option<ThreadFollow>> {
        self.read("get_thread_follow", |t| {
            get(
                "thread_follows",
                &t.thread_follows,
                &keys::thread_follow(conversation_id, root, user),
            )
        })
    }

    async fn list_thread_follows(
        &self,
        conversation_id: ConversationId,
        root: MessageId,
    ) -> StoreResult<Vec<ThreadFollow>> {
        self.read("list_thread_follows", |t| {
            let mut follows = Vec::new();
            for row in t.thread_follows.prefix(keys::item(conversation_id, root)) {
                let (_, value) = row.into_inner()?;
                follows.push(decode("thread_follows", &value)?);
            }
            Ok(follows)
        })
    }

    async fn put_thread_follows(
        &self,
        org: &str,
        thread: UserThread,
        follows: &[ThreadFollow],
    ) -> StoreResult<()> {
        self.write("put_thread_follows", |t, batch| {
            for follow in follows {
                let key = keys::thread_follow(thread.conversation_id, thread.root, &follow.user);
                batch.insert(&t.thread_follows, key, encode(follow));
                let listed = keys::user_thread(org, &follow.user, &thread);
                match follow.following {
                    true => batch.insert(&t.user_threads, listed, &[][..]),
                    false => batch.remove(&t.user_threads, listed),
                }
            }
            Ok(())
        })
        .await
    }

    async fn move_thread_activity(
        &self,
        org: &str,
        users: &[String],
        conversation_id: ConversationId,
        root: MessageId,
        from: MessageId,
        to: MessageId,
    ) -> StoreResult<()> {
        let at = |activity| UserThread { activity, conversation_id, root };
        self.write("move_thread_activity", |t, batch| {
            for user in users {
                batch.remove(&t.user_threads, keys::user_thread(org, user, &at(from)));
                batch.insert(&t.user_threads, keys::user_thread(org, user, &at(to)), &[][..]);
            }
            Ok(())
        })
        .await
    }

    async fn list_user_threads(
        &self,
        org: &str,
        user: &str,
        before: Option<MessageId>,
        limit: usize,
    ) -> StoreResult<Vec<UserThread>> {
        self.read("list_user_threads", |t| {
            let low = keys::user_prefix(org, user);
            let mut high = low.clone();
            high.extend_from_slice(&before.unwrap_or(u64::MAX).to_be_bytes());
            let mut threads = Vec::new();
            for row in t.user_threads.range(low..high).rev().take(limit) {
                threads.push(keys::parse_user_thread(&row.key()?));
            }
            Ok(threads)
        })
    }
}
