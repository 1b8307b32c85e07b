//! Devices in the ScyllaDB engine: `devices` per user, `device_owners` per device.

use async_trait::async_trait;
use scylla::statement::batch::BatchType;

use super::ScyllaStore;
use super::rows::{corrupt, to_i64};
use super::statements::Statement;
use crate::model::{Device, DeviceAddress, Platform};
use crate::store::{DeviceStore, StoreResult};

/// A `devices` row: id, platform, address (MessagePack), app, locale, registered at.
type DeviceRow = (i64, String, Vec<u8>, Option<String>, Option<String>, i64);

#[async_trait]
impl DeviceStore for ScyllaStore {
    async fn put_device(&self, d: &Device) -> StoreResult<()> {
        let address = rmp_serde::to_vec_named(&d.address).expect("addresses serialize");
        let (org, user, id) = (d.org.clone(), d.user.clone(), to_i64(d.id));
        let row = (
            org.clone(),
            user.clone(),
            id,
            d.platform.name(),
            address,
            d.app_id.clone(),
            d.locale.clone(),
            d.registered_at_ms,
        );
        let statements = [Statement::DeviceInsert, Statement::DeviceOwnerPut];
        self.batch(BatchType::Logged, &statements, (row, (id, org, user))).await
    }

    async fn get_device_owner(&self, id: u64) -> StoreResult<Option<(String, String)>> {
        let rows: Vec<(String, String)> =
            self.rows(Statement::DeviceOwnerGet, (to_i64(id),)).await?;
        Ok(rows.into_iter().next())
    }

    async fn list_devices(&self, org: &str, user: &str) -> StoreResult<Vec<Device>> {
        let rows: Vec<DeviceRow> = self.rows(Statement::DeviceList, (org, user)).await?;
        let device = |(id, platform, address, app_id, locale, registered_at_ms): DeviceRow| {
            let platform = Platform::from_name(&platform)
                .ok_or_else(|| corrupt("devices", format!("unknown platform `{platform}`")))?;
            let address: DeviceAddress = rmp_serde::from_slice(&address)
                .map_err(|e| corrupt("devices", format!("address: {e}")))?;
            Ok(Device {
                id: id as u64,
                org: org.to_string(),
                user: user.to_string(),
                platform,
                address,
                app_id: app_id.unwrap_or_default(),
                locale: locale.unwrap_or_default(),
                registered_at_ms,
            })
        };
        rows.into_iter().map(device).collect()
    }

    async fn remove_device(&self, org: &str, user: &str, id: u64) -> StoreResult<bool> {
        let key = (org, user, to_i64(id));
        let there: Vec<(i64,)> = self.rows(Statement::DeviceGet, key).await?;
        if there.is_empty() {
            return Ok(false);
        }
        self.run(Statement::DeviceDelete, key).await?;
        if self.get_device_owner(id).await? == Some((org.to_string(), user.to_string())) {
            self.run(Statement::DeviceOwnerDelete, (to_i64(id),)).await?;
        }
        Ok(true)
    }
}
