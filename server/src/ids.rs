//! Snowflake ids and the time buckets derived from them.
//!
//! Layout (63 bits used, so ids stay positive everywhere): 41 bits of milliseconds since
//! [`EPOCH_MS`], 10 bits of node id, 12 bits of sequence. Ids from one node strictly
//! increase; ids from different nodes order by time to the millisecond.

use std::sync::Mutex;

pub use switchboard_proto::ids::{EPOCH_MS, first_id_at, timestamp_ms};
use switchboard_proto::ids::{NODE_BITS, SEQUENCE_BITS};

/// Highest node id that fits in the id's 10 node bits.
pub const MAX_NODE_ID: u16 = (1 << NODE_BITS) - 1;
/// Width of one message bucket: messages of a conversation are partitioned by 10-day windows.
pub const BUCKET_MS: i64 = 10 * 24 * 60 * 60 * 1000;

const MAX_SEQUENCE: u16 = (1 << SEQUENCE_BITS) - 1;

/// The message bucket an id falls in.
pub fn bucket_of(id: u64) -> u32 {
    ((timestamp_ms(id) - EPOCH_MS) / BUCKET_MS) as u32
}

/// Where ids get their time from: the system clock, or a test's.
pub trait Clock: Send + Sync + 'static {
    /// Milliseconds since the Unix epoch.
    fn now_ms(&self) -> i64;
}

impl Clock for std::sync::Arc<dyn Clock> {
    fn now_ms(&self) -> i64 {
        (**self).now_ms()
    }
}

/// The real clock.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now_ms(&self) -> i64 {
        switchboard_proto::ids::now_ms()
    }
}

/// Makes ids for one node.
pub struct IdGenerator {
    /// This node's id, unique across the cluster (config `node_id`).
    node_id: u16,
    /// Time source; tests use a settable one to forge ids in old buckets.
    clock: Box<dyn Clock>,
    /// Millisecond and sequence of the last id handed out.
    last: Mutex<(i64, u16)>,
}

impl IdGenerator {
    /// Panics if `node_id` exceeds [`MAX_NODE_ID`]; config validation rules that out first.
    pub fn new(node_id: u16, clock: Box<dyn Clock>) -> Self {
        assert!(node_id <= MAX_NODE_ID, "node id {node_id} exceeds {MAX_NODE_ID}");
        IdGenerator { node_id, clock, last: Mutex::new((0, 0)) }
    }

    /// A fresh id, greater than every id this generator made before, even if the clock
    /// stepped back (then it keeps counting on the last millisecond).
    pub fn next_id(&self) -> u64 {
        let mut last = self.last.lock().expect("id generator lock poisoned");
        let now = self.clock.now_ms().max(EPOCH_MS);
        let (ms, sequence) = if now > last.0 {
            (now, 0)
        } else if last.1 < MAX_SEQUENCE {
            (last.0, last.1 + 1)
        } else {
            // 4,096 ids in one millisecond: borrow the next millisecond.
            (last.0 + 1, 0)
        };
        *last = (ms, sequence);
        (((ms - EPOCH_MS) as u64) << (NODE_BITS + SEQUENCE_BITS))
            | (u64::from(self.node_id) << SEQUENCE_BITS)
            | u64::from(sequence)
    }

    /// The clock's current time, for timestamps that are not ids.
    pub fn now_ms(&self) -> i64 {
        self.clock.now_ms()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicI64, Ordering};

    struct FixedClock(Arc<AtomicI64>);
    impl Clock for FixedClock {
        fn now_ms(&self) -> i64 {
            self.0.load(Ordering::SeqCst)
        }
    }

    #[test]
    fn ids_increase_and_carry_time_and_node() {
        let time = Arc::new(AtomicI64::new(EPOCH_MS + 5_000));
        let ids = IdGenerator::new(7, Box::new(FixedClock(time.clone())));
        let a = ids.next_id();
        let b = ids.next_id();
        assert!(b > a);
        assert_eq!(timestamp_ms(a), EPOCH_MS + 5_000);
        assert_eq!((a >> SEQUENCE_BITS) & u64::from(MAX_NODE_ID), 7);
        // the clock steps back: ids still grow
        time.store(EPOCH_MS + 1_000, Ordering::SeqCst);
        assert!(ids.next_id() > b);
    }

    #[test]
    fn sequence_overflow_moves_to_the_next_millisecond() {
        let time = Arc::new(AtomicI64::new(EPOCH_MS + 10));
        let ids = IdGenerator::new(0, Box::new(FixedClock(time)));
        let all: Vec<u64> = (0..5_000).map(|_| ids.next_id()).collect();
        assert!(all.windows(2).all(|w| w[1] > w[0]));
        assert_eq!(timestamp_ms(*all.last().unwrap()), EPOCH_MS + 11);
    }

    #[test]
    fn buckets_split_at_ten_day_boundaries() {
        let boundary = EPOCH_MS + BUCKET_MS;
        assert_eq!(bucket_of(first_id_at(boundary) - 1), 0);
        assert_eq!(bucket_of(first_id_at(boundary)), 1);
        assert_eq!(bucket_of(first_id_at(EPOCH_MS)), 0);
    }
}
