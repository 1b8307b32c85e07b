//! A clock tests can set, so ids (and the buckets they fall in) can be forged in the past.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use switchboard_server::ids::{Clock, SystemClock};

/// Follows the system clock until [`TestClock::set`] pins it.
#[derive(Clone, Default)]
pub struct TestClock {
    /// Pinned Unix milliseconds; 0 means "follow the system clock".
    pinned_ms: Arc<AtomicI64>,
}

impl TestClock {
    /// Pins the clock at `ms` (Unix milliseconds).
    pub fn set(&self, ms: i64) {
        self.pinned_ms.store(ms, Ordering::SeqCst);
    }

    /// Moves a pinned clock forward.
    pub fn advance(&self, ms: i64) {
        self.pinned_ms.fetch_add(ms, Ordering::SeqCst);
    }

    /// Back to the system clock.
    pub fn release(&self) {
        self.set(0);
    }
}

impl Clock for TestClock {
    fn now_ms(&self) -> i64 {
        match self.pinned_ms.load(Ordering::SeqCst) {
            0 => SystemClock.now_ms(),
            pinned => pinned,
        }
    }
}
