//! Latency distributions: HDR histograms in microseconds, up to a minute.

use std::time::Duration;

use hdrhistogram::Histogram;
use serde_json::{Value, json};

#[derive(Clone)]
pub(crate) struct Latency(Histogram<u64>);

impl Latency {
    pub(crate) fn new() -> Self {
        Latency(Histogram::new_with_bounds(1, 60_000_000, 3).expect("valid bounds"))
    }

    pub(crate) fn record(&mut self, elapsed: Duration) {
        let micros = (elapsed.as_micros() as u64).clamp(1, 60_000_000);
        self.0.record(micros).expect("within bounds");
    }

    pub(crate) fn merge(&mut self, other: &Latency) {
        self.0.add(&other.0).expect("same bounds");
    }

    pub(crate) fn count(&self) -> u64 {
        self.0.len()
    }

    /// A quantile in milliseconds.
    pub(crate) fn ms(&self, quantile: f64) -> f64 {
        self.0.value_at_quantile(quantile) as f64 / 1000.0
    }

    pub(crate) fn max_ms(&self) -> f64 {
        self.0.max() as f64 / 1000.0
    }

    /// The table's headers for [`Latency::cells`].
    pub(crate) const HEADER: [&'static str; 4] = ["P50", "P90", "P99", "MAX"];

    /// p50, p90, p99 and max, as table cells.
    pub(crate) fn cells(&self) -> Vec<String> {
        if self.count() == 0 {
            return vec!["-".into(); 4];
        }
        [self.ms(0.5), self.ms(0.9), self.ms(0.99), self.max_ms()]
            .iter()
            .map(|ms| format!("{ms:.2} ms"))
            .collect()
    }

    pub(crate) fn json(&self) -> Value {
        json!({
            "count": self.count(),
            "p50_ms": self.ms(0.5),
            "p90_ms": self.ms(0.9),
            "p99_ms": self.ms(0.99),
            "max_ms": self.max_ms(),
        })
    }
}
