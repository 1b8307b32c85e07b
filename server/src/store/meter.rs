//! The store's latency histograms and trace spans. Each engine passes through here at the
//! few places it talks to its database: the embedded engine's reads and its batched,
//! durable writes; ScyllaDB's statements and batches (one observation per round trip).

use std::borrow::Cow;
use std::time::Instant;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;
use tracing::Instrument as _;

/// The operation a histogram sample is for (`get_member`, `list_log`, ...), so an operator
/// (or `sbctl bench storm`) sees which reads a load costs, not only how many.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OperationLabel {
    operation: Cow<'static, str>,
}

type ByOperation = Family<OperationLabel, Histogram, fn() -> Histogram>;

/// One engine's histograms (cheap to clone: clones share them).
#[derive(Clone)]
pub struct StoreMeter {
    reads: ByOperation,
    /// Writes, timed until they are durable.
    writes: ByOperation,
}

/// 100 µs to ~3 s.
fn latency() -> Histogram {
    Histogram::new(exponential_buckets(0.000_1, 2.0, 16))
}

impl Default for StoreMeter {
    fn default() -> Self {
        let by_operation = || ByOperation::new_with_constructor(latency);
        StoreMeter { reads: by_operation(), writes: by_operation() }
    }
}

/// `operation` is borrowed where it can be (the embedded engine's names are literals), so a
/// read costs no allocation to be counted.
fn observe(histograms: &ByOperation, operation: Cow<'static, str>, start: Instant) {
    let label = OperationLabel { operation };
    histograms.get_or_create(&label).observe(start.elapsed().as_secs_f64());
}

fn span(operation: &str) -> tracing::Span {
    tracing::info_span!(target: switchboard_telemetry::SPANS, "store", otel.name = operation, otel.kind = "client")
}

async fn timed<T>(
    histograms: &ByOperation,
    operation: Cow<'static, str>,
    call: impl Future<Output = T>,
) -> T {
    let start = Instant::now();
    let result = call.instrument(span(&operation)).await;
    observe(histograms, operation, start);
    result
}

impl StoreMeter {
    /// Adds `switchboard_store_read_seconds` and `switchboard_store_write_seconds`, each
    /// labelled by `operation`.
    pub fn register(&self, registry: &mut Registry) {
        let r = registry.sub_registry_with_prefix("switchboard");
        r.register("store_read_seconds", "Store reads", self.reads.clone());
        r.register("store_write_seconds", "Store writes (durable)", self.writes.clone());
    }

    pub async fn read<T>(
        &self,
        operation: impl Into<Cow<'static, str>>,
        call: impl Future<Output = T>,
    ) -> T {
        timed(&self.reads, operation.into(), call).await
    }

    pub async fn write<T>(
        &self,
        operation: impl Into<Cow<'static, str>>,
        call: impl Future<Output = T>,
    ) -> T {
        timed(&self.writes, operation.into(), call).await
    }

    /// A read that does not wait (the embedded engine reads its memtables and cache).
    pub fn read_now<T>(&self, operation: &'static str, read: impl FnOnce() -> T) -> T {
        let start = Instant::now();
        let result = span(operation).in_scope(read);
        observe(&self.reads, Cow::Borrowed(operation), start);
        result
    }
}
