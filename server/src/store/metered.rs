//! A Store decorator that times every call into the read and write latency histograms,
//! whatever the engine, and gives each its trace span.

use std::sync::Arc;
use std::time::Instant;

use async_trait::async_trait;
use prometheus_client::metrics::histogram::Histogram;
use tracing::Instrument as _;

use super::{AttachmentClaim, HistoryQuery, Inserted, RoleChange, Store, StoreResult};
use crate::metrics::ControllerMetrics;
use crate::model::{
    Attachment, AttachmentId, AuditEntry, Conversation, ConversationId, LogEntry, Member, Message,
    MessageChange, MessageId, Notification, ReadMarker, Role,
};

pub struct MeteredStore {
    inner: Arc<dyn Store>,
    metrics: Arc<ControllerMetrics>,
}

impl MeteredStore {
    pub fn new(inner: Arc<dyn Store>, metrics: Arc<ControllerMetrics>) -> Self {
        MeteredStore { inner, metrics }
    }
}

async fn timed<T>(histogram: &Histogram, operation: &str, call: impl Future<Output = T>) -> T {
    let span = tracing::info_span!(target: switchboard_telemetry::SPANS, "store", otel.name = operation, otel.kind = "client");
    let start = Instant::now();
    let result = call.instrument(span).await;
    histogram.observe(start.elapsed().as_secs_f64());
    result
}

#[async_trait]
impl Store for MeteredStore {
    async fn create_conversation(&self, c: &Conversation, m: &[Member]) -> StoreResult<()> {
        timed(
            &self.metrics.store_write_seconds,
            "create_conversation",
            self.inner.create_conversation(c, m),
        )
        .await
    }
    async fn get_conversation(&self, id: ConversationId) -> StoreResult<Option<Conversation>> {
        timed(&self.metrics.store_read_seconds, "get_conversation", self.inner.get_conversation(id))
            .await
    }
    async fn update_conversation(&self, c: &Conversation) -> StoreResult<Conversation> {
        timed(
            &self.metrics.store_write_seconds,
            "update_conversation",
            self.inner.update_conversation(c),
        )
        .await
    }
    async fn get_or_create_direct(
        &self,
        c: &Conversation,
        m: &[Member; 2],
    ) -> StoreResult<Conversation> {
        timed(
            &self.metrics.store_write_seconds,
            "get_or_create_direct",
            self.inner.get_or_create_direct(c, m),
        )
        .await
    }
    async fn get_or_create_self(&self, c: &Conversation, m: &Member) -> StoreResult<Conversation> {
        timed(
            &self.metrics.store_write_seconds,
            "get_or_create_self",
            self.inner.get_or_create_self(c, m),
        )
        .await
    }
    async fn get_member(&self, id: ConversationId, user: &str) -> StoreResult<Option<Member>> {
        timed(&self.metrics.store_read_seconds, "get_member", self.inner.get_member(id, user)).await
    }
    async fn list_members(
        &self,
        id: ConversationId,
        after: &str,
        limit: usize,
    ) -> StoreResult<Vec<Member>> {
        timed(
            &self.metrics.store_read_seconds,
            "list_members",
            self.inner.list_members(id, after, limit),
        )
        .await
    }
    async fn add_members(&self, id: ConversationId, m: &[Member]) -> StoreResult<Vec<Member>> {
        timed(&self.metrics.store_write_seconds, "add_members", self.inner.add_members(id, m)).await
    }
    async fn remove_member(
        &self,
        id: ConversationId,
        user: &str,
        by: &str,
    ) -> StoreResult<Option<LogEntry>> {
        timed(
            &self.metrics.store_write_seconds,
            "remove_member",
            self.inner.remove_member(id, user, by),
        )
        .await
    }
    async fn change_role(
        &self,
        id: ConversationId,
        user: &str,
        from: Role,
        to: Role,
    ) -> StoreResult<RoleChange> {
        timed(
            &self.metrics.store_write_seconds,
            "change_role",
            self.inner.change_role(id, user, from, to),
        )
        .await
    }
    async fn transfer_ownership(
        &self,
        id: ConversationId,
        from: &str,
        to: &str,
    ) -> StoreResult<Option<Conversation>> {
        timed(
            &self.metrics.store_write_seconds,
            "transfer_ownership",
            self.inner.transfer_ownership(id, from, to),
        )
        .await
    }
    async fn list_user_conversations(
        &self,
        org: &str,
        user: &str,
        after: ConversationId,
        limit: usize,
    ) -> StoreResult<Vec<ConversationId>> {
        timed(
            &self.metrics.store_read_seconds,
            "list_user_conversations",
            self.inner.list_user_conversations(org, user, after, limit),
        )
        .await
    }
    async fn insert_message(&self, m: &Message, n: &[Notification]) -> StoreResult<Inserted> {
        timed(&self.metrics.store_write_seconds, "insert_message", self.inner.insert_message(m, n))
            .await
    }
    async fn get_message(
        &self,
        channel: ConversationId,
        id: MessageId,
    ) -> StoreResult<Option<Message>> {
        timed(&self.metrics.store_read_seconds, "get_message", self.inner.get_message(channel, id))
            .await
    }
    async fn update_message(&self, m: &Message, at_ms: i64) -> StoreResult<LogEntry> {
        timed(
            &self.metrics.store_write_seconds,
            "update_message",
            self.inner.update_message(m, at_ms),
        )
        .await
    }
    async fn list_log(
        &self,
        channel: ConversationId,
        after: u64,
        limit: usize,
    ) -> StoreResult<Vec<LogEntry>> {
        timed(
            &self.metrics.store_read_seconds,
            "list_log",
            self.inner.list_log(channel, after, limit),
        )
        .await
    }
    async fn log_head(&self, channel: ConversationId) -> StoreResult<Option<LogEntry>> {
        timed(&self.metrics.store_read_seconds, "log_head", self.inner.log_head(channel)).await
    }
    async fn list_messages(
        &self,
        channel: ConversationId,
        q: HistoryQuery,
    ) -> StoreResult<Vec<Message>> {
        timed(
            &self.metrics.store_read_seconds,
            "list_messages",
            self.inner.list_messages(channel, q),
        )
        .await
    }
    async fn advance_read_marker(
        &self,
        channel: ConversationId,
        user: &str,
        m: ReadMarker,
    ) -> StoreResult<ReadMarker> {
        timed(
            &self.metrics.store_write_seconds,
            "advance_read_marker",
            self.inner.advance_read_marker(channel, user, m),
        )
        .await
    }
    async fn list_read_markers(
        &self,
        channel: ConversationId,
    ) -> StoreResult<Vec<(String, MessageId)>> {
        timed(
            &self.metrics.store_read_seconds,
            "list_read_markers",
            self.inner.list_read_markers(channel),
        )
        .await
    }
    async fn get_read_marker(
        &self,
        channel: ConversationId,
        user: &str,
    ) -> StoreResult<Option<ReadMarker>> {
        timed(
            &self.metrics.store_read_seconds,
            "get_read_marker",
            self.inner.get_read_marker(channel, user),
        )
        .await
    }
    async fn count_private_unread(
        &self,
        channel: ConversationId,
        user: &str,
        after: u64,
        limit: usize,
    ) -> StoreResult<usize> {
        timed(
            &self.metrics.store_read_seconds,
            "count_private_unread",
            self.inner.count_private_unread(channel, user, after, limit),
        )
        .await
    }
    async fn set_muted(&self, id: ConversationId, user: &str, muted: bool) -> StoreResult<bool> {
        timed(&self.metrics.store_write_seconds, "set_muted", self.inner.set_muted(id, user, muted))
            .await
    }
    async fn put_notifications(&self, notifications: &[Notification]) -> StoreResult<()> {
        timed(
            &self.metrics.store_write_seconds,
            "put_notifications",
            self.inner.put_notifications(notifications),
        )
        .await
    }
    async fn list_notifications(
        &self,
        org: &str,
        user: &str,
        before: u64,
        limit: usize,
    ) -> StoreResult<Vec<Notification>> {
        timed(
            &self.metrics.store_read_seconds,
            "list_notifications",
            self.inner.list_notifications(org, user, before, limit),
        )
        .await
    }
    async fn put_attachment(&self, a: &Attachment) -> StoreResult<()> {
        timed(&self.metrics.store_write_seconds, "put_attachment", self.inner.put_attachment(a))
            .await
    }
    async fn get_attachment(&self, id: AttachmentId) -> StoreResult<Option<Attachment>> {
        timed(&self.metrics.store_read_seconds, "get_attachment", self.inner.get_attachment(id))
            .await
    }
    async fn claim_attachment(
        &self,
        id: AttachmentId,
        message: MessageId,
    ) -> StoreResult<AttachmentClaim> {
        timed(
            &self.metrics.store_write_seconds,
            "claim_attachment",
            self.inner.claim_attachment(id, message),
        )
        .await
    }
    async fn expired_uploads(&self, now_ms: i64, limit: usize) -> StoreResult<Vec<Attachment>> {
        timed(
            &self.metrics.store_read_seconds,
            "expired_uploads",
            self.inner.expired_uploads(now_ms, limit),
        )
        .await
    }
    async fn append_audit(&self, entry: &AuditEntry) -> StoreResult<()> {
        timed(&self.metrics.store_write_seconds, "append_audit", self.inner.append_audit(entry))
            .await
    }
    async fn list_audit(
        &self,
        org: &str,
        day: u32,
        before: u64,
        limit: usize,
    ) -> StoreResult<Vec<AuditEntry>> {
        timed(
            &self.metrics.store_read_seconds,
            "list_audit",
            self.inner.list_audit(org, day, before, limit),
        )
        .await
    }
    async fn list_message_changes(
        &self,
        hour: u32,
        after: Option<MessageChange>,
        limit: usize,
    ) -> StoreResult<Vec<MessageChange>> {
        timed(
            &self.metrics.store_read_seconds,
            "list_message_changes",
            self.inner.list_message_changes(hour, after, limit),
        )
        .await
    }
    async fn maintain(&self) -> StoreResult<()> {
        self.inner.maintain().await
    }
    async fn flush(&self) -> StoreResult<()> {
        self.inner.flush().await
    }
}
