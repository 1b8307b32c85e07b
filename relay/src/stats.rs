//! Counters an operator (and the tests) can read through `RelayAdmin.Status`.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

#[derive(Default)]
pub(crate) struct Stats {
    pub(crate) events_received: AtomicU64,
    pub(crate) events_delivered: AtomicU64,
    pub(crate) slow_disconnects: AtomicU64,
    /// Times the relay replayed its sessions after a possible loss of events.
    pub(crate) resyncs: AtomicU64,
    pub(crate) upstream_connected: AtomicBool,
}

impl Stats {
    pub(crate) fn add(counter: &AtomicU64) {
        counter.fetch_add(1, Ordering::Relaxed);
    }
}
