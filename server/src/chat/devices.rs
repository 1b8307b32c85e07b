//! Devices: where a user's notifications are pushed. Each user registers, lists and removes
//! their own; a device (a token, or a browser's subscription) belongs to one account at a
//! time, and each user has at most `MAX_DEVICES`.

use std::sync::Arc;

use crate::auth::Caller;
use crate::error::ChatResult;
use crate::ids::IdGenerator;
use crate::model::{Device, DeviceAddress, Platform, device_id};
use crate::store::Store;
use crate::validate::{self, Violations};

/// Most devices per user: registering one more replaces the one registered longest ago.
const MAX_DEVICES: usize = 20;
/// Longest app id, in characters.
const MAX_APP_ID_CHARS: usize = 200;

/// What RegisterDevice asks for.
#[derive(Debug, Clone)]
pub struct NewDevice {
    pub platform: Option<Platform>,
    pub address: DeviceAddress,
    pub app_id: String,
    pub locale: String,
}

pub struct Devices {
    pub(super) store: Arc<dyn Store>,
    pub(super) ids: Arc<IdGenerator>,
    /// Whether Web Push endpoints on this machine over plain http are taken (local push
    /// services, for tests).
    pub(super) loopback_push_endpoints: bool,
}

impl Devices {
    /// RegisterDevice: the caller's device, as stored (registering it again replaces its
    /// details; one another user had moves to the caller).
    pub async fn register(&self, caller: &Caller, new: NewDevice) -> ChatResult<Device> {
        let mut violations = Violations::new();
        violations
            .check("app_id", validate::check_line(&new.app_id, MAX_APP_ID_CHARS))
            .check("locale", validate::check_locale(&new.locale));
        match (new.platform, &new.address) {
            (None, _) => {
                violations.check("platform", Err("must be FCM, APNS or WEB_PUSH".into()));
            }
            (Some(Platform::Fcm), DeviceAddress::Token(token)) => {
                violations.check("token", validate::check_fcm_token(token));
            }
            (Some(Platform::Apns), DeviceAddress::Token(token)) => {
                violations.check("token", validate::check_apns_token(token));
                if new.app_id.is_empty() {
                    violations.check("app_id", Err("APNs needs the app's bundle id".into()));
                }
            }
            (Some(Platform::WebPush), DeviceAddress::WebPush { endpoint, p256dh, auth }) => {
                violations
                    .check(
                        "web_push.endpoint",
                        validate::check_push_endpoint(endpoint, self.loopback_push_endpoints),
                    )
                    .check("web_push.p256dh", validate::check_push_key(p256dh, 65, Some(4)))
                    .check("web_push.auth", validate::check_push_key(auth, 16, None));
            }
            (Some(Platform::WebPush), DeviceAddress::Token(_)) => {
                violations.check("web_push", Err("Web Push needs the subscription".into()));
            }
            (Some(_), DeviceAddress::WebPush { .. }) => {
                violations.check("token", Err("FCM and APNs need the device's token".into()));
            }
        }
        violations.finish()?;
        let platform = new.platform.expect("checked above");
        let id = device_id(platform, &new.address);
        // One account per device: signing in as someone else takes it from the last one.
        if let Some((org, user)) = self.store.get_device_owner(id).await?
            && (org != caller.org || user != caller.user)
        {
            self.store.remove_device(&org, &user, id).await?;
        }
        let mut mine = self.store.list_devices(&caller.org, &caller.user).await?;
        mine.retain(|d| d.id != id);
        // Later than every other of the user's, so that "registered longest ago" is one.
        let latest = mine.iter().map(|d| d.registered_at_ms + 1).max().unwrap_or(0);
        let device = Device {
            id,
            org: caller.org.clone(),
            user: caller.user.clone(),
            platform,
            address: new.address,
            app_id: new.app_id,
            locale: new.locale,
            registered_at_ms: self.ids.now_ms().max(latest),
        };
        mine.sort_by_key(|d| (d.registered_at_ms, d.id));
        for oldest in mine.iter().take((mine.len() + 1).saturating_sub(MAX_DEVICES)) {
            self.store.remove_device(&caller.org, &caller.user, oldest.id).await?;
        }
        self.store.put_device(&device).await?;
        Ok(device)
    }

    /// ListDevices: the caller's devices, most recently registered first.
    pub async fn list(&self, caller: &Caller) -> ChatResult<Vec<Device>> {
        let mut devices = self.store.list_devices(&caller.org, &caller.user).await?;
        devices.sort_by_key(|d| std::cmp::Reverse((d.registered_at_ms, d.id)));
        Ok(devices)
    }

    /// RemoveDevice: whether it was one of the caller's.
    pub async fn remove(&self, caller: &Caller, id: u64) -> ChatResult<bool> {
        Violations::new().check("device_id", validate::check_id(id)).finish()?;
        Ok(self.store.remove_device(&caller.org, &caller.user, id).await?)
    }
}
