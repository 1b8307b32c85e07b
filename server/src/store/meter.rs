//! The store's latency histograms and trace spans. Each engine passes through here at the
//! few places it talks to its database: the embedded engine's reads and its batched,
//! durable writes; ScyllaDB's statements and batches (one observation per round trip).

use std::time::Instant;

use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;
use tracing::Instrument as _;

/// One engine's histograms (cheap to clone: clones share them).
#[derive(Clone)]
pub struct StoreMeter {
    reads: Histogram,
    /// Writes, timed until they are durable.
    writes: Histogram,
}

/// 100 µs to ~3 s.
fn latency() -> Histogram {
    Histogram::new(exponential_buckets(0.000_1, 2.0, 16))
}

impl Default for StoreMeter {
    fn default() -> Self {
        StoreMeter { reads: latency(), writes: latency() }
    }
}

fn span(operation: &str) -> tracing::Span {
    tracing::info_span!(target: switchboard_telemetry::SPANS, "store", otel.name = operation, otel.kind = "client")
}

async fn timed<T>(histogram: &Histogram, operation: &str, call: impl Future<Output = T>) -> T {
    let start = Instant::now();
    let result = call.instrument(span(operation)).await;
    histogram.observe(start.elapsed().as_secs_f64());
    result
}

impl StoreMeter {
    /// Adds `switchboard_store_read_seconds` and `switchboard_store_write_seconds`.
    pub fn register(&self, registry: &mut Registry) {
        let r = registry.sub_registry_with_prefix("switchboard");
        r.register("store_read_seconds", "Store reads", self.reads.clone());
        r.register("store_write_seconds", "Store writes (durable)", self.writes.clone());
    }

    pub async fn read<T>(&self, operation: &str, call: impl Future<Output = T>) -> T {
        timed(&self.reads, operation, call).await
    }

    pub async fn write<T>(&self, operation: &str, call: impl Future<Output = T>) -> T {
        timed(&self.writes, operation, call).await
    }

    /// A read that does not wait (the embedded engine reads its memtables and cache).
    pub fn read_now<T>(&self, operation: &str, read: impl FnOnce() -> T) -> T {
        let start = Instant::now();
        let result = span(operation).in_scope(read);
        self.reads.observe(start.elapsed().as_secs_f64());
        result
    }
}
