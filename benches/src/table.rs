//! Rows of figures, printed as a table (median, min, max, and p99 where there are enough
//! samples) and optionally written as JSON lines.
// Sample counts and byte sizes stay far below 2^52: converting them to f64 is exact enough.
#![allow(clippy::cast_precision_loss)]

use std::fs::OpenOptions;
use std::io::Write as _;
use std::time::Duration;

use serde_json::json;

use crate::{BenchArgs, Stats, quantile_index};

/// What a row holds.
#[derive(Clone, Debug)]
pub enum Measure {
    /// Durations of single runs, sorted.
    Time(Vec<Duration>),
    /// Throughput: `calls` operations per repetition; each repetition's operations per
    /// second, sorted.
    Rate {
        /// Operations per repetition.
        calls: u64,
        /// Operations per second of each repetition, sorted.
        per_second: Vec<f64>,
    },
    /// Bytes (e.g. a peak memory growth), one per repetition, sorted.
    Memory(Vec<u64>),
    /// Not measured, and why (e.g. a binary that is not built yet).
    Skipped(String),
}

/// One line of a table.
#[derive(Clone, Debug)]
pub struct Row {
    /// A stable key, the same for the Rust and the Python side of a comparison
    /// (e.g. `calls/lookup/close/seq`).
    pub id: String,
    /// What was measured, for people.
    pub name: String,
    /// The figures.
    pub measure: Measure,
}

impl Row {
    /// Durations of single runs.
    pub fn time(
        id: impl Into<String>,
        name: impl Into<String>,
        mut samples: Vec<Duration>,
    ) -> Self {
        samples.sort_unstable();
        Self::new(id, name, Measure::Time(samples))
    }

    /// Throughput: each of `runs` performed `calls` operations in that time.
    pub fn rate(
        id: impl Into<String>,
        name: impl Into<String>,
        calls: u64,
        runs: &[Duration],
    ) -> Self {
        let mut per_second: Vec<f64> = runs
            .iter()
            .map(|d| calls as f64 / d.as_secs_f64().max(1e-9))
            .collect();
        per_second.sort_by(f64::total_cmp);
        Self::new(id, name, Measure::Rate { calls, per_second })
    }

    /// Sizes in bytes, one per repetition.
    pub fn memory(id: impl Into<String>, name: impl Into<String>, mut bytes: Vec<u64>) -> Self {
        bytes.sort_unstable();
        Self::new(id, name, Measure::Memory(bytes))
    }

    /// A row that could not be measured.
    pub fn skipped(id: impl Into<String>, name: impl Into<String>, why: impl Into<String>) -> Self {
        Self::new(id, name, Measure::Skipped(why.into()))
    }

    fn new(id: impl Into<String>, name: impl Into<String>, measure: Measure) -> Self {
        let row = Self {
            id: id.into(),
            name: name.into(),
            measure,
        };
        let empty = match &row.measure {
            Measure::Time(s) => s.is_empty(),
            Measure::Rate { per_second, .. } => per_second.is_empty(),
            Measure::Memory(b) => b.is_empty(),
            Measure::Skipped(_) => false,
        };
        assert!(!empty, "row {} has no samples", row.id);
        row
    }

    /// The unit of [`Row::values`]: `s`, `ops/s` or `bytes`.
    pub fn unit(&self) -> &'static str {
        match self.measure {
            Measure::Time(_) => "s",
            Measure::Rate { .. } => "ops/s",
            Measure::Memory(_) => "bytes",
            Measure::Skipped(_) => "",
        }
    }

    /// The samples in the row's unit, sorted (empty when skipped).
    pub fn values(&self) -> Vec<f64> {
        match &self.measure {
            Measure::Time(s) => s.iter().map(Duration::as_secs_f64).collect(),
            Measure::Rate { per_second, .. } => per_second.clone(),
            Measure::Memory(b) => b.iter().map(|&b| b as f64).collect(),
            Measure::Skipped(_) => Vec::new(),
        }
    }

    /// The median sample in the row's unit (the upper one of an even count), or 0 when
    /// skipped.
    pub fn median(&self) -> f64 {
        let values = self.values();
        values.get(values.len() / 2).copied().unwrap_or(0.0)
    }

    fn format(&self, value: f64) -> String {
        match self.measure {
            Measure::Time(_) => human(Duration::from_secs_f64(value)),
            Measure::Rate { .. } => format!("{} /s", thousands(value)),
            Measure::Memory(_) => bytes(value),
            Measure::Skipped(_) => String::new(),
        }
    }

    fn runs(&self) -> String {
        match &self.measure {
            Measure::Time(s) => s.len().to_string(),
            Measure::Rate { calls, per_second } => format!("{}x{calls}", per_second.len()),
            Measure::Memory(b) => b.len().to_string(),
            Measure::Skipped(_) => "-".to_owned(),
        }
    }
}

impl From<Stats> for Row {
    fn from(stats: Stats) -> Self {
        let id = stats
            .name
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
            .collect::<String>();
        Self::time(id, stats.name, stats.samples)
    }
}

/// Formats a duration with a unit that keeps three significant digits.
pub fn human(d: Duration) -> String {
    let ns = d.as_secs_f64() * 1e9;
    if ns < 1e3 {
        format!("{ns:.0} ns")
    } else if ns < 1e6 {
        format!("{:.1} µs", ns / 1e3)
    } else if ns < 1e9 {
        format!("{:.2} ms", ns / 1e6)
    } else {
        format!("{:.2} s", ns / 1e9)
    }
}

/// `12345.6` -> `12,346`.
fn thousands(value: f64) -> String {
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    let digits = (value.max(0.0).round() as u64).to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn bytes(value: f64) -> String {
    if value >= f64::from(1u32 << 20) {
        format!("{:.1} MiB", value / f64::from(1u32 << 20))
    } else {
        format!("{:.1} KiB", value / 1024.0)
    }
}

/// Prints a table: one row per measurement with runs, median, min and max, and the 99th
/// percentile of rows of at least 100 single-run timings.
pub fn print_table(title: &str, rows: &[Row]) {
    let width = rows.iter().map(|r| r.name.len()).max().unwrap_or(0).max(9);
    println!("\n{title}");
    println!(
        "{:<width$}  {:>8}  {:>12}  {:>12}  {:>12}  {:>10}",
        "benchmark", "runs", "median", "min", "max", "p99"
    );
    for row in rows {
        let values = row.values();
        if let Measure::Skipped(why) = &row.measure {
            println!("{:<width$}  {:>8}  skipped: {why}", row.name, "-");
            continue;
        }
        let p99 = match row.measure {
            Measure::Time(_) if values.len() >= 100 => {
                row.format(values[quantile_index(values.len(), 0.99)])
            }
            _ => String::new(),
        };
        println!(
            "{:<width$}  {:>8}  {:>12}  {:>12}  {:>12}  {:>10}",
            row.name,
            row.runs(),
            row.format(values[values.len() / 2]),
            row.format(values[0]),
            row.format(values[values.len() - 1]),
            p99,
        );
    }
}

/// Prints tables and, with `--json FILE`, appends their rows to FILE as JSON lines:
/// `{"client":"rust","table","id","name","unit","runs","median","min","max","p99"}` (values in
/// seconds, operations per second or bytes; skipped rows carry `"skipped": why` instead).
pub struct Report {
    json: Option<std::fs::File>,
}

impl Report {
    /// A report for these arguments.
    ///
    /// # Panics
    /// When the `--json` file cannot be opened.
    pub fn new(args: &BenchArgs) -> Self {
        let json = args.json.as_ref().map(|path| {
            OpenOptions::new()
                .create(true)
                .append(true)
                .open(path)
                .unwrap_or_else(|e| panic!("cannot open {}: {e}", path.display()))
        });
        Self { json }
    }

    /// Prints the table and records its rows.
    ///
    /// # Panics
    /// When the `--json` file cannot be written.
    pub fn table(&mut self, title: &str, rows: &[Row]) {
        print_table(title, rows);
        let Some(file) = &mut self.json else {
            return;
        };
        for row in rows {
            let values = row.values();
            let line = match &row.measure {
                Measure::Skipped(why) => json!({
                    "client": "rust", "table": title, "id": row.id, "name": row.name,
                    "skipped": why,
                }),
                _ => json!({
                    "client": "rust", "table": title, "id": row.id, "name": row.name,
                    "unit": row.unit(), "runs": values.len(),
                    "median": values[values.len() / 2], "min": values[0],
                    "max": values[values.len() - 1],
                    "p99": values[quantile_index(values.len(), 0.99)],
                }),
            };
            writeln!(file, "{line}").unwrap_or_else(|e| panic!("cannot write JSON: {e}"));
        }
    }

    /// Prints whether a target of a performance issue is met by the row `id` of `rows`
    /// (its median): `- [met] WHAT: DETAIL` or `- [NOT met] ...`. A missing or skipped row
    /// prints as skipped.
    pub fn target(rows: &[Row], id: &str, what: &str, check: Check) {
        let Some(row) = rows.iter().find(|r| r.id == id) else {
            println!("- [skipped] {what}: no row {id}");
            return;
        };
        if row.values().is_empty() {
            println!("- [skipped] {what}: {id} was not measured");
            return;
        }
        let median = row.median();
        let (met, limit) = match check {
            Check::AtMost(limit) => (median <= limit, format!("at most {}", row.format(limit))),
            Check::AtLeast(limit) => (median >= limit, format!("at least {}", row.format(limit))),
        };
        println!(
            "- [{}] {what}: {} (median; target {limit})",
            if met { "met" } else { "NOT met" },
            row.format(median),
        );
    }
}

/// The bound a target puts on a row's median, in the row's unit (seconds, operations per
/// second or bytes).
#[derive(Clone, Copy, Debug)]
pub enum Check {
    /// The median must not exceed this.
    AtMost(f64),
    /// The median must reach this.
    AtLeast(f64),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_formatted_for_people() {
        assert_eq!(thousands(1_234_567.4), "1,234,567");
        assert_eq!(thousands(999.0), "999");
        assert_eq!(bytes(1536.0), "1.5 KiB");
        assert_eq!(bytes(3.0 * 1_048_576.0), "3.0 MiB");
        assert_eq!(human(Duration::from_micros(1500)), "1.50 ms");
    }

    #[test]
    fn rates_are_operations_per_second_sorted() {
        let row = Row::rate(
            "x",
            "x",
            100,
            &[Duration::from_millis(100), Duration::from_millis(50)],
        );
        assert_eq!(row.values(), [1000.0, 2000.0]);
        assert_eq!(row.runs(), "2x100");
        assert_eq!(row.unit(), "ops/s");
    }

    #[test]
    fn stats_become_rows_with_a_slug_id() {
        let row = Row::from(Stats::from_samples(
            "sp-conf --json",
            vec![Duration::from_millis(2), Duration::from_millis(1)],
        ));
        assert_eq!(row.id, "sp-conf---json");
        assert_eq!(row.values(), [0.001, 0.002]);
    }
}
