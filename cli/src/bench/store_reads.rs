//! The controller's store reads, counted by operation from its metrics
//! (`switchboard_store_read_seconds_count{operation="..."}`), so a scenario reports what a
//! load cost the store and which reads it was.

use std::collections::BTreeMap;

const COUNT: &str = "switchboard_store_read_seconds_count";

/// Reads so far, by operation.
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct StoreReads(BTreeMap<String, u64>);

impl StoreReads {
    /// The counts in a /metrics body.
    pub(crate) fn parse(metrics: &str) -> StoreReads {
        let mut counts = BTreeMap::new();
        for line in metrics.lines() {
            let Some(rest) = line.strip_prefix(COUNT) else { continue };
            let Some((labels, value)) = rest.rsplit_once(' ') else { continue };
            let Ok(value) = value.trim().parse::<f64>() else { continue };
            let operation = labels
                .split_once("operation=\"")
                .and_then(|(_, rest)| rest.split_once('"'))
                .map_or("", |(operation, _)| operation);
            *counts.entry(operation.to_string()).or_default() += value as u64;
        }
        StoreReads(counts)
    }

    /// What was read after `before` was taken.
    pub(crate) fn since(&self, before: &StoreReads) -> StoreReads {
        let counts = self.0.iter().map(|(operation, count)| {
            let earlier = before.0.get(operation).copied().unwrap_or(0);
            (operation.clone(), count.saturating_sub(earlier))
        });
        StoreReads(counts.filter(|(_, count)| *count > 0).collect())
    }

    pub(crate) fn total(&self) -> u64 {
        self.0.values().sum()
    }

    /// Reads of the given operations.
    pub(crate) fn of(&self, operations: &[&str]) -> u64 {
        operations.iter().filter_map(|operation| self.0.get(*operation)).sum()
    }

    /// The operations read most, most first, at most `n` of them.
    pub(crate) fn top(&self, n: usize) -> Vec<(&str, u64)> {
        let mut counts: Vec<(&str, u64)> =
            self.0.iter().map(|(operation, count)| (operation.as_str(), *count)).collect();
        counts.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
        counts.truncate(n);
        counts
    }

    pub(crate) fn to_json(&self) -> serde_json::Value {
        serde_json::json!(self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::StoreReads;

    const METRICS: &str = "\
# TYPE switchboard_store_read_seconds histogram
switchboard_store_read_seconds_sum{operation=\"get_member\"} 0.5
switchboard_store_read_seconds_count{operation=\"get_member\"} 12
switchboard_store_read_seconds_count{operation=\"list_log\"} 3
switchboard_store_write_seconds_count{operation=\"insert_message\"} 7
";

    #[test]
    fn reads_are_counted_by_operation_and_writes_left_out() {
        let reads = StoreReads::parse(METRICS);
        assert_eq!(reads.total(), 15);
        assert_eq!(reads.of(&["list_log", "get_status"]), 3);
        assert_eq!(reads.top(1), vec![("get_member", 12)]);
    }

    #[test]
    fn since_keeps_what_grew() {
        let before = StoreReads::parse(METRICS);
        let after = StoreReads::parse(&METRICS.replace("} 3", "} 5"));
        let grown = after.since(&before);
        assert_eq!(grown.total(), 2);
        assert_eq!(grown.top(5), vec![("list_log", 2)]);
    }
}
