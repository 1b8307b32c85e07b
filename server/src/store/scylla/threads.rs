//! Threads in the ScyllaDB engine: `thread_replies`, `thread_follows` and `user_threads`,
//! and the counts kept on each root's row.

use async_trait::async_trait;
use futures_util::future::try_join_all;
use scylla::serialize::row::SerializeRow;
use scylla::statement::batch::BatchType;

use super::ScyllaStore;
use super::messages::{Write, ttl_of};
use super::rows::{before_or_end, row_limit, to_i64};
use super::statements::Statement;
use crate::ids::bucket_of;
use crate::model::{ConversationId, LogEntry, Message, MessageId, ThreadFollow, UserThread};
use crate::store::{Direction, HistoryQuery, MessageStore, StoreResult, ThreadStore};

/// A `thread_follows` row: user, following, read up to, unfollowed.
type FollowRow = (String, Option<bool>, Option<i64>, Option<bool>);

fn follow_from_row((user, following, read_up_to, unfollowed): FollowRow) -> ThreadFollow {
    ThreadFollow {
        user,
        following: following.unwrap_or(false),
        read_up_to: read_up_to.map_or(0, |id| id as u64),
        unfollowed: unfollowed.unwrap_or(false),
    }
}

#[async_trait]
impl ThreadStore for ScyllaStore {
    async fn list_replies(
        &self,
        conversation_id: ConversationId,
        root: MessageId,
        query: HistoryQuery,
    ) -> StoreResult<Vec<Message>> {
        let Some((low, high)) = query.id_bounds() else { return Ok(Vec::new()) };
        let range = match query.direction {
            Direction::NewestFirst => Statement::ThreadReplyRangeDesc,
            Direction::OldestFirst => Statement::ThreadReplyRangeAsc,
        };
        let limit = row_limit(query.limit);
        let values = (to_i64(conversation_id), to_i64(root), to_i64(low), to_i64(high), limit);
        let ids: Vec<(i64,)> = self.rows(range, values).await?;
        let reads = ids.iter().map(|(id,)| self.get_message(conversation_id, *id as u64));
        Ok(try_join_all(reads).await?.into_iter().flatten().collect())
    }

    async fn thread_summary(
        &self,
        conversation_id: ConversationId,
        root: MessageId,
    ) -> StoreResult<(u32, Option<MessageId>)> {
        let key = (to_i64(conversation_id), to_i64(root));
        let count: Vec<(i64,)> = self.rows(Statement::ThreadReplyCount, key).await?;
        let newest: Vec<(i64,)> = self.rows(Statement::ThreadReplyNewest, key).await?;
        let count = count.first().map_or(0, |(count,)| (*count).clamp(0, u32::MAX as i64) as u32);
        Ok((count, newest.first().map(|(id,)| *id as u64)))
    }

    async fn count_replies_after(
        &self,
        conversation_id: ConversationId,
        root: MessageId,
        after: MessageId,
        limit: usize,
    ) -> StoreResult<usize> {
        let limit = row_limit(limit);
        let values = (to_i64(conversation_id), to_i64(root), to_i64(after), limit);
        let rows: Vec<(i64,)> = self.rows(Statement::ThreadReplyAfter, values).await?;
        Ok(rows.len())
    }

    async fn set_thread_summary(
        &self,
        conversation_id: ConversationId,
        root: MessageId,
        reply_count: u32,
        last_reply_id: Option<MessageId>,
    ) -> StoreResult<Option<(Message, LogEntry)>> {
        let writes = |stored: &Message, entry: &LogEntry| -> Vec<Write> {
            let count = i32::try_from(reply_count).unwrap_or(i32::MAX);
            let (seq, bucket) = (to_i64(entry.seq), bucket_of(root) as i32);
            let key = (to_i64(conversation_id), bucket, to_i64(root));
            let ttl = ttl_of(stored);
            let set = (ttl, count, last_reply_id.map(to_i64), seq, key.0, key.1, key.2);
            vec![(Statement::MessageSetThread, Box::new(set))]
        };
        let change = |m: &mut Message| {
            m.reply_count = reply_count;
            m.last_reply_id = last_reply_id;
        };
        self.change_message(conversation_id, root, change, writes).await
    }

    async fn get_thread_follow(
        &self,
        conversation_id: ConversationId,
        root: MessageId,
        user: &str,
    ) -> StoreResult<Option<ThreadFollow>> {
        let key = (to_i64(conversation_id), to_i64(root), user);
        let rows: Vec<FollowRow> = self.rows(Statement::ThreadFollowGet, key).await?;
        Ok(rows.into_iter().next().map(follow_from_row))
    }

    async fn list_thread_follows(
        &self,
        conversation_id: ConversationId,
        root: MessageId,
    ) -> StoreResult<Vec<ThreadFollow>> {
        let key = (to_i64(conversation_id), to_i64(root));
        let rows: Vec<FollowRow> = self.rows(Statement::ThreadFollowList, key).await?;
        Ok(rows.into_iter().map(follow_from_row).collect())
    }

    async fn put_thread_follows(
        &self,
        org: &str,
        thread: UserThread,
        follows: &[ThreadFollow],
    ) -> StoreResult<()> {
        let (channel, root) = (to_i64(thread.conversation_id), to_i64(thread.root));
        let mut statements = Vec::with_capacity(2 * follows.len());
        let mut values: Vec<Box<dyn SerializeRow + Send + Sync>> = Vec::new();
        for follow in follows {
            let (user, read_up_to) = (follow.user.clone(), to_i64(follow.read_up_to));
            let row =
                (channel, root, user.clone(), follow.following, read_up_to, follow.unfollowed);
            let listed = (org.to_string(), user, to_i64(thread.activity), channel, root);
            let listing = match follow.following {
                true => Statement::UserThreadInsert,
                false => Statement::UserThreadDelete,
            };
            statements.extend([Statement::ThreadFollowPut, listing]);
            values.push(Box::new(row));
            values.push(Box::new(listed));
        }
        self.batch(BatchType::Logged, &statements, values).await
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
        let (channel, root) = (to_i64(conversation_id), to_i64(root));
        // One small batch per user: each touches only that user's partition.
        let moves = users.iter().map(|user| {
            let row = |activity| (org.to_string(), user.clone(), to_i64(activity), channel, root);
            let statements = [Statement::UserThreadDelete, Statement::UserThreadInsert];
            async move { self.batch(BatchType::Logged, &statements, (row(from), row(to))).await }
        });
        try_join_all(moves).await?;
        Ok(())
    }

    async fn list_user_threads(
        &self,
        org: &str,
        user: &str,
        before: Option<MessageId>,
        limit: usize,
    ) -> StoreResult<Vec<UserThread>> {
        let before = before_or_end(before);
        let limit = row_limit(limit);
        let rows: Vec<(i64, i64, i64)> =
            self.rows(Statement::UserThreadList, (org, user, before, limit)).await?;
        let thread = |(activity, conversation_id, root): (i64, i64, i64)| UserThread {
            activity: activity as u64,
            conversation_id: conversation_id as u64,
            root: root as u64,
        };
        Ok(rows.into_iter().map(thread).collect())
    }
}
