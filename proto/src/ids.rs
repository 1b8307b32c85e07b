//! The layout of Switchboard ids (snowflakes), which every node needs to reason about time:
//! 41 bits of milliseconds since [`EPOCH_MS`], 10 bits of node id, 12 bits of sequence.
//! Ids order by time to the millisecond.

/// 2024-01-01T00:00:00Z, the zero of the snowflake clock.
pub const EPOCH_MS: i64 = 1_704_067_200_000;
/// Bits of node id.
pub const NODE_BITS: u32 = 10;
/// Bits of per-millisecond sequence.
pub const SEQUENCE_BITS: u32 = 12;

/// Now, in milliseconds since the Unix epoch (0 if the clock is before it).
pub fn now_ms() -> i64 {
    use std::time::{SystemTime, UNIX_EPOCH};
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis() as i64)
}

/// Now, in microseconds since the Unix epoch (0 if the clock is before it).
pub fn now_us() -> u64 {
    use std::time::{SystemTime, UNIX_EPOCH};
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_micros() as u64)
}

/// How far ahead of a node's clock a log position may be: positions are microsecond times
/// of the controllers that wrote them, and clocks drift apart a little.
pub const POSITION_SLACK_US: u64 = 24 * 60 * 60 * 1_000_000;

/// Whether `seq` can be a conversation log position (an event's `seq`): not further ahead
/// of now than clocks drift. A message id passed by mistake is far larger.
pub fn is_position(seq: u64) -> bool {
    seq <= now_us().saturating_add(POSITION_SLACK_US)
}

/// The millisecond (Unix time) an id was made at.
pub fn timestamp_ms(id: u64) -> i64 {
    (id >> (NODE_BITS + SEQUENCE_BITS)) as i64 + EPOCH_MS
}

/// The smallest id any node can make at Unix time `ms`.
pub fn first_id_at(ms: i64) -> u64 {
    ((ms - EPOCH_MS).max(0) as u64) << (NODE_BITS + SEQUENCE_BITS)
}
