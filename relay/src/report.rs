//! What this relay tells its controller for `sbctl admin`: its figures, and who is
//! connected (one org's users only: the query names the org of the admin asking).

use std::collections::BTreeMap;

use switchboard_auth::OrgUser;
use switchboard_proto::v1 as pb;

use crate::state::RelayState;

impl RelayState {
    /// The answer to a controller's `ReportRequest`.
    pub(crate) fn report(&self, request: pb::ReportRequest) -> pb::RelayReport {
        let address = self.address();
        let query = request.query.unwrap_or_default();
        // User → (streams, oldest stream's opening).
        let mut users: BTreeMap<OrgUser, (u32, i64)> = BTreeMap::new();
        if !query.org.is_empty() {
            for session in self.sessions.lock().expect("sessions lock poisoned").values() {
                if session.org != query.org
                    || (!query.user_id.is_empty() && session.user != query.user_id)
                {
                    continue;
                }
                let entry = users
                    .entry(OrgUser::new(&session.org, &session.user))
                    .or_insert((0, session.opened_ms));
                entry.0 += 1;
                entry.1 = entry.1.min(session.opened_ms);
            }
        }
        let connections = users
            .into_iter()
            .map(|(OrgUser { org, user }, (streams, since))| pb::Connection {
                relay: address.clone(),
                org,
                user_id: user,
                streams,
                connected_since_ms: since,
            })
            .collect();
        let stats = self.stats.snapshot();
        pb::RelayReport {
            request_id: request.request_id,
            stats: Some(pb::RelayStats {
                address,
                controller: self.upstream.current_address(),
                uptime_secs: self.started.elapsed().as_secs(),
                client_streams: stats.sessions,
                upstream_topics: stats.upstream_topics,
                local_subscriptions: stats.local_subscriptions,
                events_received: stats.events_received,
                deliveries: stats.deliveries,
                slow_disconnects: stats.slow_disconnects,
                resyncs: stats.resyncs,
            }),
            connections,
        }
    }

    /// The client-facing address, once serving.
    fn address(&self) -> String {
        self.address.get().cloned().unwrap_or_default()
    }
}
