//! The Chat domain: what each call may do, for whom, and what it writes. Transport-free:
//! the gRPC layer authenticates and converts, this layer validates, authorizes and stores.
//!
//! One service per feature, each holding only what it uses, composed in
//! [`ChatService::build`]: [`Conversations`], [`Members`], [`Messages`] (with mentions),
//! [`Attachments`], [`Notifications`] (with unread counts), [`Reads`] (read markers),
//! [`Typing`], [`Presence`], [`Profiles`] with the [`Directory`], [`Relations`]
//! (contacts and blocks), [`Reactions`], [`Threads`], [`Devices`] and [`Audit`]. Who may see what is `crate::access`; who may do
//! what is `policy`.

mod attachments;
mod audit;
mod conversations;
mod device_push;
mod devices;
mod directory;
mod erasure;
mod export;
mod filters;
mod jobs;
mod membership;
mod mentions;
mod messages;
mod moderation;
mod notifications;
mod org_cache;
mod policy;
mod presence;
mod profiles;
mod reactions;
mod reads;
mod recount;
mod relations;
mod retention;
mod retention_job;
mod sniff;
mod suspensions;
mod threads;
mod typing;

use std::sync::{Arc, Mutex};

pub use attachments::{Attachments, Download, FileStorage, Upload, UploadPart};
pub use audit::{Audit, AuditQuery};
pub use conversations::{Conversations, NewConversation, TeamUpdate};
pub use device_push::{DevicePush, PUSHES_IN_FLIGHT, PushRetries, TestedDevice};
pub use devices::{Devices, NewDevice};
pub use directory::{Directory, DirectoryPage};
pub use filters::{Filters, MAX_FILTERS};
pub use jobs::Jobs;
pub use membership::Members;
pub use messages::{HistoryPage, Messages, NewMessage, Sent};
pub use moderation::Moderation;
pub use notifications::{NotificationSelection, Notifications, Unread};
pub use presence::Presence;
pub use profiles::Profiles;
pub use reactions::Reactions;
pub use reads::Reads;
pub use relations::Relations;
pub use retention::{Retention, RetentionChange, SWEEP_EVERY};
pub use suspensions::Suspensions;
pub use threads::Threads;
pub use typing::Typing;

use crate::access;
use crate::auth::rate::KeyedRate;
use crate::auth::{Caller, OrgUser};
use crate::bus::PresenceBoard;
use crate::error::{ChatError, ChatResult};
use crate::ids::IdGenerator;
use crate::metrics::ControllerMetrics;
use crate::model::{Conversation, ConversationId, LogPoint, Member, Message, MessageId, Role};
use crate::push::{Push, Senders};
use crate::realtime::{Events, OnlineCounts, PendingPresence, PresenceTracker, TypingTracker};
use crate::store::Store;
use crate::validate::{self, Violations};

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

/// What the chat services are built from: the controller's shared collaborators.
pub struct Parts {
    /// Where conversations, members and messages live.
    pub store: Arc<dyn Store>,
    /// Snowflake ids (and the time they carry) for new conversations and messages.
    pub ids: IdGenerator,
    pub limits: Limits,
    /// Publishes what changed, once it is durable.
    pub events: Events,
    /// Who is typing where.
    pub typing: TypingTracker,
    /// Who is online anywhere in the cluster.
    pub board: Arc<dyn PresenceBoard>,
    pub metrics: Arc<ControllerMetrics>,
    /// Where attachment bytes live, and the upload rules.
    pub files: FileStorage,
    /// Where new notifications are pushed (the webhook, the devices, the stream).
    pub push: Push,
    /// The device senders configured (FCM, APNs, Web Push), and how they retry.
    pub senders: Senders,
    pub push_retries: PushRetries,
}

/// The controller's domain services; cheap to share behind an `Arc`.
pub struct ChatService {
    pub conversations: Conversations,
    pub members: Members,
    pub moderation: Moderation,
    pub filters: Arc<Filters>,
    pub suspensions: Suspensions,
    pub messages: Messages,
    pub attachments: Arc<Attachments>,
    pub notifications: Arc<Notifications>,
    pub reads: Reads,
    pub typing: Typing,
    pub presence: Arc<Presence>,
    pub profiles: Profiles,
    pub reactions: Reactions,
    pub devices: Devices,
    pub device_push: Arc<DevicePush>,
    pub threads: Arc<Threads>,
    pub directory: Directory,
    pub relations: Arc<Relations>,
    pub audit: Arc<Audit>,
    pub jobs: Jobs,
    pub retention: Arc<Retention>,
    rates: Arc<Rates>,
    /// For what spans the services (erasure).
    store: Arc<dyn Store>,
}

impl ChatService {
    /// Composes the services from the controller's collaborators.
    pub fn build(parts: Parts) -> Self {
        let Parts {
            store,
            ids,
            limits,
            events,
            typing,
            board,
            metrics,
            files,
            push,
            senders,
            push_retries,
        } = parts;
        let ids = Arc::new(ids);
        let rates = Arc::new(Rates::new(limits));
        let audit = Arc::new(Audit { store: store.clone(), ids: ids.clone() });
        let relations =
            Arc::new(Relations { store: store.clone(), ids: ids.clone(), events: events.clone() });
        let filters = Arc::new(Filters {
            store: store.clone(),
            ids: ids.clone(),
            audit: audit.clone(),
            compiled: org_cache::OrgCache::new(filters::RELOAD_AFTER),
        });
        let presence = Arc::new(Presence {
            store: store.clone(),
            members: store.clone(),
            ids: ids.clone(),
            tracker: PresenceTracker::default(),
            board,
            pending: PendingPresence::default(),
            counts: OnlineCounts::default(),
            events: events.clone(),
            relations: relations.clone(),
        });
        let retention = Arc::new(Retention {
            store: store.clone(),
            ids: ids.clone(),
            audit: audit.clone(),
            policies: org_cache::OrgCache::new(retention::RELOAD_AFTER),
        });
        let notifications = Arc::new(Notifications {
            store: store.clone(),
            ids: ids.clone(),
            presence: presence.clone(),
            metrics: metrics.clone(),
            push,
            relations: relations.clone(),
            retention: retention.clone(),
        });
        let loopback_push_endpoints = senders.loopback_endpoints;
        let device_push = Arc::new(DevicePush {
            store: store.clone(),
            presence: presence.clone(),
            notifications: notifications.clone(),
            senders,
            retries: push_retries,
            metrics: metrics.clone(),
        });
        let recounter = Arc::new(recount::Recounter::new(store.clone(), events.clone()));
        let threads = Arc::new(Threads {
            store: store.clone(),
            events: events.clone(),
            recounter: recounter.clone(),
        });
        let attachments = Arc::new(Attachments {
            store: store.clone(),
            ids: ids.clone(),
            files,
            audit: audit.clone(),
        });
        ChatService {
            conversations: Conversations {
                store: store.clone(),
                ids: ids.clone(),
                events: events.clone(),
                audit: audit.clone(),
                notifications: notifications.clone(),
                relations: relations.clone(),
            },
            members: Members {
                store: store.clone(),
                ids: ids.clone(),
                events: events.clone(),
                audit: audit.clone(),
            },
            moderation: Moderation {
                store: store.clone(),
                ids: ids.clone(),
                events: events.clone(),
                audit: audit.clone(),
            },
            messages: Messages {
                store: store.clone(),
                ids: ids.clone(),
                limits,
                events: events.clone(),
                rates: rates.clone(),
                metrics,
                attachments: attachments.clone(),
                notifications: notifications.clone(),
                audit: audit.clone(),
                relations: relations.clone(),
                threads: threads.clone(),
                filters: filters.clone(),
                retention: retention.clone(),
            },
            filters,
            suspensions: Suspensions {
                store: store.clone(),
                ids: ids.clone(),
                events: events.clone(),
                audit: audit.clone(),
                known: org_cache::OrgCache::new(suspensions::RELOAD_AFTER),
            },
            reads: Reads {
                store: store.clone(),
                events: events.clone(),
                notifications: notifications.clone(),
            },
            profiles: Profiles {
                store: store.clone(),
                ids: ids.clone(),
                audit: audit.clone(),
                attachments: attachments.clone(),
                known: Mutex::default(),
            },
            reactions: Reactions { store: store.clone(), ids: ids.clone(), recounter },
            devices: Devices { store: store.clone(), ids: ids.clone(), loopback_push_endpoints },
            device_push,
            threads,
            directory: Directory { store: store.clone() },
            typing: Typing {
                store: store.clone(),
                ids: ids.clone(),
                tracker: typing,
                events,
                relations: relations.clone(),
            },
            relations,
            attachments,
            notifications,
            presence,
            audit,
            jobs: Jobs {
                store: store.clone(),
                owner: format!("controller-{}", ids.next_id()),
                ids,
                started: tokio::sync::Notify::new(),
            },
            retention,
            rates,
            store,
        }
    }

    /// Forgets rate-limit buckets of users who went quiet.
    pub fn forget_idle_rates(&self) {
        self.rates.send.forget_idle();
        self.rates.write.forget_idle();
    }

    /// Takes one of the caller's write tokens (every write but a send, which has its own
    /// budget), or RESOURCE_EXHAUSTED saying when to retry.
    pub fn admit_write(&self, caller: &Caller) -> ChatResult<()> {
        within_rate(&self.rates.write, caller, "write rate exceeded")
    }
}

/// Each user's budgets: for sends, and for every other write.
struct Rates {
    send: KeyedRate<OrgUser>,
    write: KeyedRate<OrgUser>,
}

impl Rates {
    fn new(limits: Limits) -> Self {
        Rates {
            send: KeyedRate::new(limits.send_rate_per_sec, limits.send_burst),
            write: KeyedRate::new(limits.write_rate_per_sec, limits.write_burst),
        }
    }
}

/// Takes one of the caller's tokens from `rate`, or RESOURCE_EXHAUSTED (`what`) saying
/// when to retry.
fn within_rate(rate: &KeyedRate<OrgUser>, caller: &Caller, what: &str) -> ChatResult<()> {
    rate.check(&caller.org_user())
        .map_err(|retry_after| ChatError::TooMany { what: what.into(), retry_after })
}

/// The conversation and the caller's membership in it; PERMISSION_DENIED for non-members.
async fn as_member(
    store: &dyn Store,
    caller: &Caller,
    id: ConversationId,
) -> ChatResult<(Conversation, Member)> {
    access::membership(store, &caller.org, &caller.user, id).await
}

/// A message the caller may change something of (delete, pin, react to): one they may see,
/// in a conversation they belong to that is not archived; with the conversation and their
/// membership. What DeleteMessage, PinMessage and AddReaction start with.
async fn message_to_change(
    store: &dyn Store,
    caller: &Caller,
    conversation_id: ConversationId,
    id: MessageId,
) -> ChatResult<(Conversation, Member, Message)> {
    Violations::new()
        .check("channel_id", validate::check_id(conversation_id))
        .check("message_id", validate::check_id(id))
        .finish()?;
    let (conversation, me) = as_member(store, caller, conversation_id).await?;
    policy::writable(&conversation)?;
    let message = access::visible_message(store, &caller.user, conversation_id, id).await?;
    Ok((conversation, me, message))
}

/// The member of direct conversation `id` who is not `user`.
async fn other_party(
    store: &dyn Store,
    id: ConversationId,
    user: &str,
) -> ChatResult<Option<String>> {
    let pair = store.list_members(id, "", 2).await?;
    Ok(pair.into_iter().map(|member| member.user_id).find(|other| other != user))
}

/// [`as_member`] of a live team or channel: what every management call and Leave start
/// with.
async fn as_team_member(
    store: &dyn Store,
    caller: &Caller,
    id: ConversationId,
) -> ChatResult<(Conversation, Member)> {
    let (conversation, member) = as_member(store, caller, id).await?;
    policy::managed(&conversation)?;
    policy::writable(&conversation)?;
    Ok((conversation, member))
}

/// A page of a listing by name with the cursor of the next (`""` on the last): the last
/// entry's `name` when the page is full.
fn named_page<T>(page: Vec<T>, limit: usize, name: impl Fn(&T) -> &str) -> (Vec<T>, String) {
    let next = match page.last() {
        Some(last) if page.len() == limit => name(last).to_string(),
        _ => String::new(),
    };
    (page, next)
}

/// A page of up to `limit` of the entries that `keep`, from a listing read newest first
/// (`read(before, limit)`: the entries with ids below `before`), starting below `before`;
/// and the cursor of the next page (0 on the last). Reads on past what it skips.
async fn kept_page<T, Read, Reading>(
    limit: usize,
    before: Option<u64>,
    mut read: Read,
    id: impl Fn(&T) -> u64,
    keep: impl Fn(&T) -> bool,
) -> ChatResult<(Vec<T>, u64)>
where
    Read: FnMut(u64, usize) -> Reading,
    Reading: std::future::Future<Output = crate::store::StoreResult<Vec<T>>>,
{
    let mut before = before.unwrap_or(u64::MAX);
    let mut page = Vec::with_capacity(limit);
    loop {
        let rows = read(before, limit).await?;
        let exhausted = rows.len() < limit;
        for row in rows {
            before = id(&row);
            if keep(&row) {
                page.push(row);
                if page.len() == limit {
                    return Ok((page, before));
                }
            }
        }
        if exhausted {
            return Ok((page, 0));
        }
    }
}

/// A member joining now (`now_ms`), of a conversation whose log is empty (else set
/// `joined`).
fn new_member(user_id: &str, role: Role, now_ms: i64) -> Member {
    Member {
        user_id: user_id.to_string(),
        role,
        joined_at_ms: now_ms,
        muted: false,
        joined: LogPoint::default(),
        timeout: None,
        last_post_ms: 0,
    }
}
