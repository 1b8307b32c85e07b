//! Device push: each pushed notification alerts its user's devices (FCM, APNs, Web Push)
//! unless the user follows live by the time it is handled, with the app badge at their
//! unread notifications, collapsing per conversation. Each device is retried as its
//! provider asks; a device the provider no longer knows is removed. Every attempt is
//! counted by outcome, and every failure logged with the device's id (never its token).

use std::sync::Arc;
use std::time::Duration;

use futures_util::future::join_all;

use super::{Notifications, Presence};
use crate::auth::Caller;
use crate::error::ChatResult;
use crate::metrics::{ControllerMetrics, PushAttempt, PushSkipped};
use crate::model::Device;
use crate::push::{Alert, Outcome, Payload, Pushed, Senders};
use crate::store::Store;

/// Longest wait between two attempts the provider did not time.
const MAX_BACKOFF: Duration = Duration::from_secs(60);
/// Notifications handled at once by one controller.
pub const PUSHES_IN_FLIGHT: usize = 64;

/// How often, and how far apart, a device is tried.
#[derive(Debug, Clone, Copy)]
pub struct PushRetries {
    pub max_attempts: u32,
    /// The wait before the second attempt, doubled after each (up to a minute), unless
    /// the provider answered with Retry-After.
    pub first_retry: Duration,
}

pub struct DevicePush {
    pub(super) store: Arc<dyn Store>,
    /// Who follows live now (and so is not pushed to).
    pub(super) presence: Arc<Presence>,
    /// The badge: the user's unread notifications.
    pub(super) notifications: Arc<Notifications>,
    pub(super) senders: Senders,
    pub(super) retries: PushRetries,
    pub(super) metrics: Arc<ControllerMetrics>,
}

/// What TestPush found for one device.
#[derive(Debug, Clone)]
pub struct TestedDevice {
    pub device: Device,
    pub outcome: Outcome,
}

impl DevicePush {
    /// The VAPID public key browsers subscribe with; None without Web Push.
    pub fn web_push_public_key(&self) -> Option<&str> {
        self.senders.web_push_public_key.as_deref()
    }

    /// Alerts the devices of a pushed notification's user; returns once each was
    /// delivered, removed or given up.
    pub async fn deliver(&self, pushed: &Pushed) {
        let payload = match pushed.payload() {
            Ok(payload) => payload,
            Err(error) => {
                tracing::warn!(%error, id = pushed.id, "a pushed notification does not parse");
                return;
            }
        };
        let (org, user) = (&payload.org, &payload.user_id);
        if self.presence.follows_live(org, user).await {
            self.skipped("live");
            return;
        }
        let devices = match self.store.list_devices(org, user).await {
            Ok(devices) => devices,
            Err(error) => {
                tracing::error!(%error, id = pushed.id, "devices not read; nothing pushed");
                self.skipped("gave_up");
                return;
            }
        };
        if devices.is_empty() {
            self.skipped("no_devices");
            return;
        }
        let alert = self.alert(&payload).await;
        join_all(devices.iter().map(|device| self.alert_device(device, &alert))).await;
    }

    /// TestPush: one attempt to alert each of the caller's devices now, whatever their
    /// preferences, and what became of it. Devices their provider no longer knows are
    /// removed.
    pub async fn test(&self, caller: &Caller) -> ChatResult<Vec<TestedDevice>> {
        let devices = self.store.list_devices(&caller.org, &caller.user).await?;
        let badge = self.notifications.unread_total(&caller.org, &caller.user).await?;
        let alert = Alert {
            notification_id: "0".into(),
            conversation_id: "0".into(),
            message_id: "0".into(),
            from: caller.user.clone(),
            reason: "test".into(),
            title: "Switchboard".into(),
            body: "Push works on this device.".into(),
            badge,
        };
        let outcomes = join_all(devices.iter().map(|device| self.attempt(device, &alert))).await;
        Ok(devices
            .into_iter()
            .zip(outcomes)
            .map(|(device, outcome)| TestedDevice { device, outcome })
            .collect())
    }

    /// The alert of a notification: who from (their display name), the preview, and
    /// the badge.
    async fn alert(&self, payload: &Payload) -> Alert {
        let (org, user) = (&payload.org, &payload.user_id);
        let name = match self.store.get_profile(org, &payload.from).await {
            Ok(Some(profile)) if !profile.display_name.is_empty() => profile.display_name,
            _ => payload.from.clone(),
        };
        let badge = match self.notifications.unread_total(org, user).await {
            Ok(badge) => badge,
            Err(error) => {
                tracing::warn!(%error, "unread notifications not counted; badge 1");
                1
            }
        };
        Alert {
            notification_id: payload.id.clone(),
            conversation_id: payload.conversation_id.clone(),
            message_id: payload.message_id.clone(),
            from: payload.from.clone(),
            reason: payload.reason.clone(),
            title: name,
            body: payload.preview.clone(),
            badge,
        }
    }

    /// Alerts one device, trying again as its provider asks.
    async fn alert_device(&self, device: &Device, alert: &Alert) {
        let mut wait = self.retries.first_retry;
        for attempt in 1..=self.retries.max_attempts {
            let after = match self.attempt(device, alert).await {
                Outcome::Retry { after, .. } => after.unwrap_or(wait),
                _ => return,
            };
            if attempt == self.retries.max_attempts {
                break;
            }
            tokio::time::sleep(after).await;
            wait = (wait * 2).min(MAX_BACKOFF);
        }
        tracing::error!(device_id = device.id, "push to a device given up");
        self.skipped("gave_up");
    }

    /// One attempt, counted and (unless delivered) logged; removes the device if its
    /// provider no longer knows it.
    async fn attempt(&self, device: &Device, alert: &Alert) -> Outcome {
        let platform = device.platform.name();
        let Some(sender) = self.senders.for_platform(device.platform) else {
            self.skipped("not_configured");
            return Outcome::Failed(format!("no {platform} sender is configured"));
        };
        let outcome = sender.send(device, alert).await;
        let label = PushAttempt { platform, outcome: outcome.name() };
        self.metrics.push_attempts.get_or_create(&label).inc();
        let reason = outcome.reason();
        match &outcome {
            Outcome::Delivered => {}
            Outcome::Unregistered(_) => {
                tracing::warn!(
                    device_id = device.id,
                    platform,
                    reason,
                    "device unregistered; removed"
                );
                if let Err(error) =
                    self.store.remove_device(&device.org, &device.user, device.id).await
                {
                    tracing::error!(%error, device_id = device.id, "unregistered device not removed");
                }
            }
            Outcome::Retry { .. } => {
                tracing::warn!(device_id = device.id, platform, reason, "push deferred");
            }
            Outcome::Failed(_) => {
                tracing::error!(device_id = device.id, platform, reason, "push refused");
            }
        }
        outcome
    }

    fn skipped(&self, reason: &'static str) {
        self.metrics.push_skipped.get_or_create(&PushSkipped { reason }).inc();
    }
}
