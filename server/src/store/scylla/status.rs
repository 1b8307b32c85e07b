//! Users' statuses in the ScyllaDB engine: one row per (org, user), each part written on
//! its own (an `UPDATE` creates the row), so setting a status never undoes a last-seen
//! time written meanwhile, nor the other way round.

use async_trait::async_trait;
use scylla::DeserializeRow;

use super::ScyllaStore;
use super::rows::corrupt;
use super::statements::Statement;
use crate::model::{Availability, UserStatus};
use crate::store::{StatusStore, StoreResult};

#[async_trait]
impl StatusStore for ScyllaStore {
    async fn get_status(&self, org: &str, user: &str) -> StoreResult<Option<UserStatus>> {
        let rows: Vec<StatusRow> = self.rows(Statement::StatusGet, (org, user)).await?;
        rows.into_iter().next().map(StatusRow::into_domain).transpose()
    }

    async fn set_status(
        &self,
        org: &str,
        user: &str,
        availability: Availability,
        text: &str,
    ) -> StoreResult<()> {
        let values = (name(availability), text, org, user);
        self.run(Statement::StatusSet, values).await?;
        Ok(())
    }

    async fn set_last_seen(&self, org: &str, user: &str, at_ms: i64) -> StoreResult<()> {
        self.run(Statement::StatusSeen, (at_ms, org, user)).await?;
        Ok(())
    }
}

fn name(availability: Availability) -> &'static str {
    match availability {
        Availability::Available => "available",
        Availability::Away => "away",
        Availability::DoNotDisturb => "do_not_disturb",
    }
}

#[derive(DeserializeRow)]
struct StatusRow {
    availability: Option<String>,
    status_text: Option<String>,
    last_seen_ms: Option<i64>,
}

impl StatusRow {
    fn into_domain(self) -> StoreResult<UserStatus> {
        let availability = match self.availability.as_deref() {
            None | Some("available") => Availability::Available,
            Some("away") => Availability::Away,
            Some("do_not_disturb") => Availability::DoNotDisturb,
            Some(other) => {
                return Err(corrupt("user_status", format!("unknown availability `{other}`")));
            }
        };
        Ok(UserStatus {
            availability,
            text: self.status_text.unwrap_or_default(),
            last_seen_ms: self.last_seen_ms.unwrap_or(0),
        })
    }
}
