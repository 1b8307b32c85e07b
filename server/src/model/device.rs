//! Devices: where a user's notifications are pushed (FCM, APNs, Web Push).

use serde::{Deserialize, Serialize};

/// Where a device is reached.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Platform {
    Fcm,
    Apns,
    WebPush,
}

impl Platform {
    pub fn name(self) -> &'static str {
        match self {
            Platform::Fcm => "fcm",
            Platform::Apns => "apns",
            Platform::WebPush => "web_push",
        }
    }

    pub fn from_name(name: &str) -> Option<Platform> {
        [Platform::Fcm, Platform::Apns, Platform::WebPush].into_iter().find(|p| p.name() == name)
    }
}

/// How a device is addressed: a provider's token, or a browser's push subscription.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum DeviceAddress {
    Token(String),
    WebPush { endpoint: String, p256dh: String, auth: String },
}

impl DeviceAddress {
    /// What identifies the device: the token, or the subscription's endpoint.
    pub fn key(&self) -> &str {
        match self {
            DeviceAddress::Token(token) => token,
            DeviceAddress::WebPush { endpoint, .. } => endpoint,
        }
    }

    /// Which one it is, for people, without giving the address away: the token's last six
    /// characters, or the push service's host.
    pub fn hint(&self) -> String {
        match self {
            DeviceAddress::Token(token) => {
                let start = token.char_indices().rev().nth(5).map_or(0, |(at, _)| at);
                format!("…{}", &token[start..])
            }
            DeviceAddress::WebPush { endpoint, .. } => {
                let rest = endpoint.split_once("://").map_or(endpoint.as_str(), |(_, rest)| rest);
                rest.split(['/', '?']).next().unwrap_or_default().to_string()
            }
        }
    }
}

/// One of a user's devices.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Device {
    /// Derived from the platform and the address's key (see [`device_id`]).
    pub id: u64,
    pub org: String,
    pub user: String,
    pub platform: Platform,
    pub address: DeviceAddress,
    pub app_id: String,
    pub locale: String,
    pub registered_at_ms: i64,
}

/// The id of the device at `address` on `platform`: the same whenever it is registered,
/// by whomever (a positive 63-bit number).
pub fn device_id(platform: Platform, address: &DeviceAddress) -> u64 {
    use sha2::{Digest, Sha256};
    let digest = Sha256::new()
        .chain_update(platform.name())
        .chain_update([0])
        .chain_update(address.key())
        .finalize();
    let id = u64::from_be_bytes(digest[..8].try_into().expect("8 bytes")) >> 1;
    id.max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_device_keeps_its_id_and_shows_only_a_hint() {
        let token = DeviceAddress::Token("a".repeat(100) + "xyz123");
        assert_eq!(device_id(Platform::Fcm, &token), device_id(Platform::Fcm, &token));
        assert_ne!(device_id(Platform::Fcm, &token), device_id(Platform::Apns, &token));
        assert_eq!(token.hint(), "…xyz123");
        let web = DeviceAddress::WebPush {
            endpoint: "https://push.example.com/send/abc?x=1".into(),
            p256dh: String::new(),
            auth: String::new(),
        };
        assert_eq!(web.hint(), "push.example.com");
        assert_eq!(DeviceAddress::Token("ab".into()).hint(), "…ab");
    }
}
