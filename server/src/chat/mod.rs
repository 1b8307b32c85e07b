//! The Chat domain: what each call may do, for whom, and what it writes. Transport-free:
//! the gRPC layer authenticates and converts, this layer validates, authorizes and stores.

mod attachments;
mod audit;
mod conversations;
mod live;
mod membership;
mod mentions;
mod messages;
mod notifications;
mod policy;
mod sniff;

use std::sync::Arc;

pub use crate::search::{SearchHit, SearchRequest};
pub use attachments::{Download, Files, Upload, UploadPart};
pub use audit::AuditQuery;
pub use conversations::{NewConversation, TeamUpdate};
pub use messages::{HistoryPage, NewMessage, Sent};
pub use notifications::{NotificationSelection, Unread};

use crate::access;
use crate::auth::Caller;
use crate::auth::rate::KeyedRate;
use crate::bus::PresenceBoard;
use crate::error::{ChatError, ChatResult};
use crate::ids::IdGenerator;
use crate::metrics::ControllerMetrics;
use crate::model::{Conversation, ConversationId, LogPoint, Member};
use crate::push::Push;
use crate::realtime::{Events, PresenceTracker, TypingTracker};
use crate::search::Searcher;
use crate::store::Store;

/// Limits on what callers may send (config `limits`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Largest TEXT message, in bytes of UTF-8.
    pub max_message_bytes: usize,
    /// Sends per second per user, and the burst allowed.
    pub send_rate_per_sec: u32,
    pub send_burst: u32,
    /// Every other write per second per user, and the burst allowed.
    pub write_rate_per_sec: u32,
    pub write_burst: u32,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_message_bytes: 16 * 1024,
            send_rate_per_sec: 20,
            send_burst: 40,
            write_rate_per_sec: 20,
            write_burst: 60,
        }
    }
}

/// The controller's domain service; cheap to share behind an `Arc`.
pub struct ChatService {
    /// Where conversations, members and messages live.
    store: Arc<dyn Store>,
    /// Snowflake ids (and the time they carry) for new conversations and messages.
    ids: IdGenerator,
    limits: Limits,
    /// Publishes what changed, once it is durable.
    events: Events,
    /// Who is online via this controller's relays.
    presence: PresenceTracker,
    /// Who is online anywhere in the cluster.
    board: Arc<dyn PresenceBoard>,
    /// Who is typing where.
    typing: TypingTracker,
    metrics: Arc<ControllerMetrics>,
    /// Each user's send budget, keyed by (org, user).
    send_rate: KeyedRate<(String, String)>,
    /// Each user's budget for every other write, keyed by (org, user).
    write_rate: KeyedRate<(String, String)>,
    /// Where attachment bytes live, and the upload rules.
    files: Files,
    /// Answers Search from this node's index; None where search is off here.
    search: Option<Searcher>,
    /// Where new notifications are pushed (the webhook, when configured).
    push: Push,
}

impl ChatService {
    // Each argument is a separate collaborator the controller builds and shares.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        store: Arc<dyn Store>,
        ids: IdGenerator,
        limits: Limits,
        events: Events,
        typing: TypingTracker,
        board: Arc<dyn PresenceBoard>,
        metrics: Arc<ControllerMetrics>,
        files: Files,
    ) -> Self {
        let presence = PresenceTracker::default();
        let send_rate = KeyedRate::new(limits.send_rate_per_sec, limits.send_burst);
        let write_rate = KeyedRate::new(limits.write_rate_per_sec, limits.write_burst);
        ChatService {
            store,
            ids,
            limits,
            events,
            presence,
            board,
            typing,
            metrics,
            send_rate,
            write_rate,
            files,
            search: None,
            push: Push::default(),
        }
    }

    /// Answer Search with `searcher`.
    pub fn with_search(mut self, searcher: Searcher) -> Self {
        self.search = Some(searcher);
        self
    }

    /// Search: one page of the caller's messages matching the query, and the cursor of the
    /// next page (None on the last).
    pub async fn search(
        &self,
        caller: &Caller,
        request: SearchRequest,
    ) -> ChatResult<(Vec<SearchHit>, Option<String>)> {
        match &self.search {
            Some(searcher) => searcher.search(&caller.org, &caller.user, request).await,
            None => Err(ChatError::Unavailable("search is not enabled on this node".into())),
        }
    }

    /// Push new notifications with `push`.
    pub fn with_push(mut self, push: Push) -> Self {
        self.push = push;
        self
    }

    /// Routes the blob engine serves on the HTTP port (the local engine's URLs).
    pub fn blob_routes(&self) -> Option<axum::Router> {
        self.files.blobs.routes()
    }

    /// Forgets rate-limit buckets of users who went quiet.
    pub fn forget_idle_rates(&self) {
        self.send_rate.forget_idle();
        self.write_rate.forget_idle();
    }

    /// Takes one of the caller's write tokens (every write but a send, which has its own
    /// budget), or RESOURCE_EXHAUSTED saying when to retry.
    pub fn admit_write(&self, caller: &Caller) -> ChatResult<()> {
        within_rate(&self.write_rate, caller, "write rate exceeded")
    }

    /// The store, for housekeeping and shutdown.
    pub fn store(&self) -> &Arc<dyn Store> {
        &self.store
    }

    /// A conversation of the caller's org. Other orgs' conversations do not exist as far as
    /// the caller can tell: NOT_FOUND, exactly as for an unknown id.
    async fn conversation(&self, caller: &Caller, id: ConversationId) -> ChatResult<Conversation> {
        access::conversation_of_org(&*self.store, &caller.org, id).await
    }

    /// The conversation and the caller's membership in it; PERMISSION_DENIED for non-members.
    async fn as_member(
        &self,
        caller: &Caller,
        id: ConversationId,
    ) -> ChatResult<(Conversation, Member)> {
        access::membership(&*self.store, &caller.org, &caller.user, id).await
    }

    /// [`Self::as_member`] of a live team or channel: what every management call and
    /// Leave start with.
    async fn as_team_member(
        &self,
        caller: &Caller,
        id: ConversationId,
    ) -> ChatResult<(Conversation, Member)> {
        let (conversation, member) = self.as_member(caller, id).await?;
        policy::managed(&conversation)?;
        policy::writable(&conversation)?;
        Ok((conversation, member))
    }

    /// A member joining now, of a conversation whose log is empty (else set `joined`).
    fn new_member(&self, user_id: &str, role: crate::model::Role) -> Member {
        Member {
            user_id: user_id.to_string(),
            role,
            joined_at_ms: self.ids.now_ms(),
            muted: false,
            joined: LogPoint::default(),
        }
    }
}

/// Takes one of the caller's tokens from `rate`, or RESOURCE_EXHAUSTED (`what`) saying
/// when to retry.
fn within_rate(rate: &KeyedRate<(String, String)>, caller: &Caller, what: &str) -> ChatResult<()> {
    let budget = (caller.org.clone(), caller.user.clone());
    rate.check(&budget).map_err(|retry_after| ChatError::TooMany { what: what.into(), retry_after })
}
