//! Devices: each user's, and who each device belongs to (one account per device).

use async_trait::async_trait;

use super::StoreResult;
use crate::model::Device;

#[async_trait]
pub trait DeviceStore: Send + Sync {
    /// Writes a device under its user, and that it is theirs.
    async fn put_device(&self, device: &Device) -> StoreResult<()>;

    /// Whose device `id` is: (org, user).
    async fn get_device_owner(&self, id: u64) -> StoreResult<Option<(String, String)>>;

    /// A user's devices, in id order.
    async fn list_devices(&self, org: &str, user: &str) -> StoreResult<Vec<Device>>;

    /// Removes device `id` of a user (and that it is theirs, unless it is someone else's
    /// by now); whether they had it.
    async fn remove_device(&self, org: &str, user: &str, id: u64) -> StoreResult<bool>;
}
