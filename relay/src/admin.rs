//! `switchboard.v1.RelayAdmin`: what this relay is doing, for holders of `chat.admin`.

use std::sync::Arc;

use switchboard_auth::{Scope, authenticate};
use switchboard_proto::v1::{self as pb, relay_admin_server::RelayAdmin};
use tonic::{Request, Response, Status};

use crate::state::RelayState;
use switchboard_proto::topic::Topic;

pub(crate) struct RelayAdminApi {
    pub(crate) state: Arc<RelayState>,
}

#[tonic::async_trait]
impl RelayAdmin for RelayAdminApi {
    async fn status(
        &self,
        request: Request<pb::RelayStatusRequest>,
    ) -> Result<Response<pb::RelayStatusResponse>, Status> {
        let caller = authenticate(&self.state.verifier, request.metadata())?;
        caller.require(Scope::Admin)?;
        // Only the caller's org's topics: another org's conversation ids are theirs. The
        // counters are the relay's as a whole, and name nothing.
        let (mut upstream_channels, mut upstream_users) = (Vec::new(), 0);
        for topic in self.state.subscribers.topics() {
            match topic {
                Topic::Channel { org, id } if org == caller.org => upstream_channels.push(id),
                Topic::User { org, .. } if org == caller.org => upstream_users += 1,
                _ => {}
            }
        }
        upstream_channels.sort_unstable();
        let stats = self.state.stats.snapshot();
        Ok(Response::new(pb::RelayStatusResponse {
            sessions: stats.sessions,
            upstream_users,
            upstream_channels,
            events_received: stats.events_received,
            events_delivered: stats.deliveries,
            slow_disconnects: stats.slow_disconnects,
            upstream_connected: stats.upstream_connected,
            resyncs: stats.resyncs,
            controller: self.state.upstream.current_address(),
        }))
    }
}
