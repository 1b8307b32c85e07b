//! The controller's background loops, each run by name under its `Background`: resyncs
//! after lost events, store readiness, presence heartbeats and batches, typing expiry, expired uploads
//! and store housekeeping.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use tokio::sync::mpsc;

use crate::bus::{NatsBoard, Resync};
use crate::chat::{ChatService, SWEEP_EVERY};
use crate::metrics::ControllerMetrics;
use switchboard_proto::v1::{self as pb, event::Kind};

use crate::realtime::{FanoutHub, PRESENCE_TICK, Topic};
use crate::store::Store;

/// How often expired dedup keys and the like are swept.
const MAINTENANCE_EVERY: Duration = Duration::from_secs(600);

/// The hub fills from the conversations' logs (and its users' conversations) whatever the
/// bus may have dropped: during an outage of this controller's link, or published by a
/// controller that stopped or lost its link. After an outage of its own, this controller
/// tells the others first: what it published meanwhile may be lost.
pub(super) async fn forward_resyncs(
    hub: Arc<FanoutHub>,
    mut resyncs: mpsc::Receiver<Resync>,
    peers: Option<Arc<NatsBoard>>,
    metrics: Arc<ControllerMetrics>,
) {
    while let Some(why) = resyncs.recv().await {
        metrics.bus_resyncs.inc();
        if let (Resync::Outage { .. }, Some(peers)) = (why, &peers)
            && let Err(error) = peers.link_restored().await
        {
            tracing::warn!(%error, "could not tell the other controllers about the outage");
        }
        hub.refill_all(why).await;
    }
}

/// Readiness of the store: a cheap read every two seconds.
pub(super) async fn probe_store(store: Arc<dyn Store>, reachable: Arc<AtomicBool>) {
    let mut every = tokio::time::interval(Duration::from_secs(2));
    loop {
        every.tick().await;
        let ok = store.get_conversation(0).await.is_ok();
        reachable.store(ok, Ordering::Relaxed);
    }
}

/// Keeps this controller's presence records alive on the board.
pub(super) async fn presence_heartbeat(chat: Arc<ChatService>, every: Duration) {
    let mut ticks = tokio::time::interval(every);
    loop {
        ticks.tick().await;
        chat.presence.refresh_presence().await;
    }
}

/// Publishes the presence changes of each tick, batched per org.
pub(super) async fn publish_presence(chat: Arc<ChatService>) {
    let mut every = tokio::time::interval(PRESENCE_TICK);
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        every.tick().await;
        chat.presence.publish_pending().await;
    }
}

/// Counts who is online in the conversations this controller's relays want counts of
/// (when, see `OnlineCounts`), handing each on when it changed.
pub(super) async fn count_online(chat: Arc<ChatService>, hub: Arc<FanoutHub>) {
    let counts = &chat.presence.counts;
    let mut every = tokio::time::interval(Duration::from_secs(1));
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        every.tick().await;
        let now = tokio::time::Instant::now();
        let wanted = hub.topics_where(|topic| matches!(topic, Topic::OnlineCount { .. })).await;
        for topic in counts.due(wanted, now) {
            let Topic::OnlineCount { org, id } = &topic else { continue };
            let count = match chat.presence.count_online(org, *id).await {
                Ok(count) => count,
                Err(error) => {
                    tracing::warn!(%error, conversation_id = id, "online count failed");
                    continue;
                }
            };
            if counts.counted(&topic, count, now) {
                let kind = Some(Kind::OnlineCount(count));
                let event = pb::Event { conversation_id: *id, seq: 0, kind };
                hub.hand_on_here(topic.clone(), event).await;
            }
        }
    }
}

/// Ends typing indicators that were not refreshed in time.
pub(super) async fn expire_typing(chat: Arc<ChatService>) {
    let mut every = tokio::time::interval(Duration::from_millis(100));
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    loop {
        every.tick().await;
        chat.typing.expire_typing().await;
    }
}

/// Whether this controller holds the lease of duty `name` (one controller of a cluster does
/// it at a time), taken or renewed at each tick of a loop run `every`: held for three
/// ticks, so that another takes over within three ticks of its holder stopping.
async fn on_duty(chat: &ChatService, name: &str, every: Duration) -> bool {
    match chat.jobs.hold_duty(name, every * 3).await {
        Ok(held) => held,
        Err(error) => {
            tracing::warn!(%error, duty = name, "could not take the duty's lease");
            false
        }
    }
}

/// Removes uploads that missed their deadline (bytes and pending record), on one
/// controller of the cluster at a time.
pub(super) async fn sweep_uploads(chat: Arc<ChatService>, every: Duration) {
    let mut ticks = tokio::time::interval(every);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    loop {
        ticks.tick().await;
        if !on_duty(&chat, "upload-sweep", every).await {
            continue;
        }
        match chat.attachments.sweep_expired_uploads().await {
            Ok(0) => {}
            Ok(swept) => tracing::info!(swept, "removed expired uploads"),
            Err(error) => tracing::warn!(%error, "sweeping expired uploads failed"),
        }
    }
}

/// Removes expired messages (retention) and export archives every `SWEEP_EVERY`, on one
/// controller of the cluster at a time.
pub(super) async fn sweep_expired(chat: Arc<ChatService>) {
    let mut ticks = tokio::time::interval(SWEEP_EVERY);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    loop {
        ticks.tick().await;
        if !on_duty(&chat, "expiry-sweep", SWEEP_EVERY).await {
            continue;
        }
        match chat.sweep_expired_messages().await {
            Ok(0) => {}
            Ok(swept) => tracing::info!(swept, "removed expired messages"),
            Err(error) => tracing::warn!(%error, "sweeping expired messages failed"),
        }
        match chat.sweep_expired_archives().await {
            Ok(0) => {}
            Ok(swept) => tracing::info!(swept, "removed expired export archives"),
            Err(error) => tracing::warn!(%error, "sweeping expired export archives failed"),
        }
    }
}

pub(super) async fn maintain(chat: Arc<ChatService>, store: Arc<dyn Store>) {
    let mut every = tokio::time::interval(MAINTENANCE_EVERY);
    loop {
        every.tick().await;
        chat.forget_idle_rates();
        if let Err(error) = store.maintain().await {
            tracing::warn!(%error, "store maintenance failed");
        }
    }
}
