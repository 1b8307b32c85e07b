//! A scenario's result: a table for people, JSON for machines, and the series to plot.

use comfy_table::{Table, presets::UTF8_FULL_CONDENSED};
use serde_json::Value;

pub(crate) struct Report {
    pub(crate) title: String,
    pub(crate) header: Vec<&'static str>,
    pub(crate) rows: Vec<Vec<String>>,
    /// Lines printed under the table (ratios, what limited the run).
    pub(crate) notes: Vec<String>,
    pub(crate) json: Value,
    /// Latency (ms) against throughput (per second), one line per named series.
    pub(crate) curves: Vec<Curve>,
    /// What the curves' throughput counts, e.g. "deliveries per second".
    pub(crate) throughput: &'static str,
}

pub(crate) struct Curve {
    pub(crate) name: String,
    pub(crate) points: Vec<(f64, f64)>,
}

impl Report {
    pub(crate) fn print(&self, json: bool) {
        if json {
            println!("{}", serde_json::to_string_pretty(&self.json).expect("JSON"));
            return;
        }
        let mut table = Table::new();
        table.load_preset(UTF8_FULL_CONDENSED).set_header(self.header.clone());
        for row in &self.rows {
            table.add_row(row.clone());
        }
        println!("{}\n{table}", self.title);
        for note in &self.notes {
            println!("{note}");
        }
    }
}

/// A rate for a table cell: 12,345/s.
pub(crate) fn per_sec(value: f64) -> String {
    let whole = value.round() as u64;
    let digits = whole.to_string();
    let mut grouped = String::new();
    for (i, digit) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            grouped.push(',');
        }
        grouped.push(digit);
    }
    format!("{grouped}/s")
}

#[cfg(test)]
mod tests {
    use super::per_sec;

    #[test]
    fn rates_are_grouped_by_thousands() {
        assert_eq!(per_sec(1234567.4), "1,234,567/s");
        assert_eq!(per_sec(999.0), "999/s");
        assert_eq!(per_sec(1000.0), "1,000/s");
    }
}
