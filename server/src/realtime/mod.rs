//! The controller's realtime side: topics, the events published on them, the hub that
//! hands bus deliveries to relays, and the presence and typing state behind their events.

pub mod changes;
mod events;
mod hub;
mod online_counts;
mod presence;
mod presence_changes;
mod sequencer;
mod typing;

pub use events::Events;
pub use hub::{FanoutHub, RelayId, SubscribeError};
pub use online_counts::OnlineCounts;
pub use presence::PresenceTracker;
pub use presence_changes::{Change as PresenceChange, PRESENCE_TICK, PendingPresence};
pub use switchboard_proto::topic::Topic;
pub use typing::{TypingKey, TypingTracker};
