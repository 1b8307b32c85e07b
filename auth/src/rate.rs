//! Admission by rate: a token bucket per key (a user, an IP address). A refused call says
//! how long to wait, which callers answer with `switchboard_proto::status::too_many`.

use std::hash::Hash;
use std::num::NonZeroU32;
use std::time::Duration;

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

/// `per_second` calls per key on average, up to `burst` at once.
pub struct KeyedRate<K: Hash + Eq + Clone> {
    limiter: DefaultKeyedRateLimiter<K>,
    clock: DefaultClock,
}

impl<K: Hash + Eq + Clone> KeyedRate<K> {
    /// Zero values are raised to one.
    pub fn new(per_second: u32, burst: u32) -> Self {
        let rate = NonZeroU32::new(per_second.max(1)).expect("non-zero");
        let burst = NonZeroU32::new(burst.max(1)).expect("non-zero");
        let limiter = RateLimiter::keyed(Quota::per_second(rate).allow_burst(burst));
        KeyedRate { limiter, clock: DefaultClock::default() }
    }

    /// Takes a token for `key`, or says how long until one is available.
    pub fn check(&self, key: &K) -> Result<(), Duration> {
        self.limiter.check_key(key).map_err(|not_until| not_until.wait_time_from(self.clock.now()))
    }

    /// Forgets keys whose buckets are full again (call now and then to bound memory).
    pub fn forget_idle(&self) {
        self.limiter.retain_recent();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_burst_passes_then_the_bucket_says_when() {
        let rate = KeyedRate::new(1, 3);
        for _ in 0..3 {
            assert!(rate.check(&"alice").is_ok());
        }
        let wait = rate.check(&"alice").unwrap_err();
        assert!(wait > Duration::ZERO && wait <= Duration::from_secs(1), "{wait:?}");
        assert!(rate.check(&"bob").is_ok(), "buckets are per key");
    }
}
