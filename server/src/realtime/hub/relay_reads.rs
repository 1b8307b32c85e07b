//! Requests a relay makes on its stream and their answers: reads of a conversation's log
//! (what the sessions resuming there missed before the relay's subscription started, read
//! once for all of them; the relay passes each session only what its user may see).

use switchboard_proto::v1::{self as pb, fanout_frame::Kind};

use super::{FanoutHub, RelayId, encode};
use crate::realtime::changes;

/// Log entries one relay read covers at most: sessions resuming from further back read on
/// their own (`Chat.ListChanges`).
const RELAY_READ: usize = 500;

impl FanoutHub {
    /// Answers a relay's `read_changes` on its stream. An answer the stream has no room
    /// for is dropped: the relay stops waiting and its sessions read on their own.
    pub async fn read_for_relay(&self, relay: RelayId, request: pb::ReadChanges) {
        let pb::ReadChanges { request_id, channel_id, after_seq, until_seq } = request;
        let read = changes::after(self.store.as_ref(), channel_id, after_seq, RELAY_READ).await;
        let (events, complete) = match read {
            Ok((changes, last, more)) => {
                let complete = !more || last.is_some_and(|entry| entry.seq >= until_seq);
                let events = changes.into_iter().map(|change| change.event);
                (events.filter(|event| event.seq <= until_seq).collect(), complete)
            }
            Err(error) => {
                tracing::warn!(%error, relay, channel_id, "could not read a log for a relay");
                (Vec::new(), false)
            }
        };
        self.answer(relay, Kind::Changes(pb::ChangesRead { request_id, events, complete })).await;
    }

    /// Answers a relay's request on its stream; an answer with no room is dropped (the
    /// relay stops waiting).
    pub async fn answer(&self, relay: RelayId, answer: Kind) {
        let state = self.state.read().await;
        if let Some(link) = state.relays.get(&relay) {
            let _ = link.sender.try_send(encode(answer));
        }
    }
}
