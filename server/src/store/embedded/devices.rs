//! Devices in the embedded engine.

use async_trait::async_trait;

use super::{EmbeddedStore, decode, encode, get, keys};
use crate::model::Device;
use crate::store::{DeviceStore, StoreResult};

#[async_trait]
impl DeviceStore for EmbeddedStore {
    async fn put_device(&self, device: &Device) -> StoreResult<()> {
        let key = keys::user_entry(&device.org, &device.user, device.id);
        let owner = (device.org.clone(), device.user.clone());
        self.write("put_device", |t, batch| {
            batch.insert(&t.devices, key, encode(device));
            batch.insert(&t.device_owners, device.id.to_be_bytes(), encode(&owner));
            Ok(())
        })
        .await
    }

    async fn get_device_owner(&self, id: u64) -> StoreResult<Option<(String, String)>> {
        self.read("get_device_owner", |t| get("device_owners", &t.device_owners, &id.to_be_bytes()))
    }

    async fn list_devices(&self, org: &str, user: &str) -> StoreResult<Vec<Device>> {
        self.read("list_devices", |t| {
            let mut devices = Vec::new();
            for row in t.devices.prefix(keys::user_prefix(org, user)) {
                let (_, value) = row.into_inner()?;
                devices.push(decode("devices", &value)?);
            }
            Ok(devices)
        })
    }

    async fn remove_device(&self, org: &str, user: &str, id: u64) -> StoreResult<bool> {
        let key = keys::user_entry(org, user, id);
        self.write("remove_device", |t, batch| {
            if !t.devices.contains_key(&key)? {
                return Ok(false);
            }
            batch.remove(&t.devices, key.clone());
            let owner: Option<(String, String)> =
                get("device_owners", &t.device_owners, &id.to_be_bytes())?;
            if owner.is_some_and(|(o, u)| o == org && u == user) {
                batch.remove(&t.device_owners, id.to_be_bytes());
            }
            Ok(true)
        })
        .await
    }
}
