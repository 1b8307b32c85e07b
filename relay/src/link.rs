//! What the relay does with what happens on its link to the controller (the events
//! `Upstream` emits), in one place and in order: live events go to the local sessions; a
//! lost link holds every session's live events back until the topics are subscribed again
//! and the sessions resynced from the store; the controller's requests are answered.

use std::sync::Arc;

use switchboard_proto::topic::Topic;
use switchboard_proto::v1::{self as pb, relay_frame::Kind};
use tokio::sync::mpsc;

use crate::state::RelayState;
use crate::upstream::LinkEvent;

/// Link events waiting for the relay to act on them. When full, the link stops reading
/// its stream, and TCP holds the controller back.
pub(crate) const LINK_EVENTS: usize = 4096;

impl RelayState {
    /// What every new Fanout stream says first: each wanted topic, each online user.
    pub(crate) fn restatement(&self) -> Vec<Kind> {
        let mut first = Vec::new();
        let topics: Vec<pb::Topic> =
            self.subscribers.topics().iter().map(Topic::to_proto).collect();
        if !topics.is_empty() {
            first.push(Kind::Subscribe(pb::Topics { topics, ..Default::default() }));
        }
        for report in self.presence.online_users() {
            first.push(Kind::Presence(report));
        }
        first
    }

    /// Acts on the link's events, in order, until the link stops.
    pub(crate) async fn follow_link(self: Arc<Self>, mut events: mpsc::Receiver<LinkEvent>) {
        while let Some(event) = events.recv().await {
            match event {
                LinkEvent::Connected => {
                    self.stats.upstream_connected.set(1);
                    tokio::spawn(restore(self.clone()));
                }
                LinkEvent::Lost => {
                    self.stats.upstream_connected.set(0);
                    // Nothing arrives while the link is down: hold every session's live
                    // events from then until it has been resynced.
                    self.subscribers.forget_recent();
                    self.hold_all();
                }
                LinkEvent::Subscribed(ack) => {
                    self.subscribers.started(&ack);
                    self.upstream.acknowledged(ack.request_id, ack.positions);
                }
                LinkEvent::Event { topic, event, traceparent } => {
                    let span = tracing::info_span!(
                        target: switchboard_telemetry::SPANS,
                        "relay.deliver",
                        otel.kind = "consumer",
                        conversation_id = event.conversation_id
                    );
                    switchboard_telemetry::follow_traceparent(&span, Some(&traceparent));
                    span.in_scope(|| self.dispatch(&topic, event));
                }
                LinkEvent::ReportRequest(request) => {
                    self.upstream.send_report(self.report(request));
                }
            }
        }
    }
}

/// After (re)connecting: re-subscribes every wanted topic and, once they are back,
/// resyncs the sessions held since the link broke. If re-subscribing fails, they stay held
/// and the next reconnect tries again.
async fn restore(state: Arc<RelayState>) {
    let topics = state.subscribers.topics();
    if !topics.is_empty()
        // Joins passed on: any made while the link was down were lost with their events.
        && let Err(status) = state.upstream.subscribe(&topics, true).await
    {
        tracing::warn!(%status, "re-subscribing failed; the next reconnect retries");
        return;
    }
    state.resync_held();
}
