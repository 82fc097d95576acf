//! Helpers shared by the workspace benchmarks: timing a closure many times and printing the
//! results as a table of medians with min and max. Benchmarks print; tests never time anything.
#![allow(clippy::print_stdout)]

use std::path::PathBuf;
use std::time::{Duration, Instant};

/// Timings of repeated runs of one operation.
#[derive(Clone, Debug)]
pub struct Stats {
    /// What was measured.
    pub name: String,
    /// Each run's duration, sorted.
    pub samples: Vec<Duration>,
}

impl Stats {
    /// Times `runs` calls of `f` (after `runs / 10 + 1` warm-up calls).
    pub fn measure(name: impl Into<String>, runs: usize, mut f: impl FnMut()) -> Self {
        for _ in 0..=runs / 10 {
            f();
        }
        let mut samples: Vec<Duration> = (0..runs.max(1))
            .map(|_| {
                let start = Instant::now();
                f();
                start.elapsed()
            })
            .collect();
        samples.sort_unstable();
        Self {
            name: name.into(),
            samples,
        }
    }

    /// The median run.
    pub fn median(&self) -> Duration {
        self.samples[self.samples.len() / 2]
    }

    /// The fastest run.
    pub fn min(&self) -> Duration {
        self.samples[0]
    }

    /// The slowest run.
    pub fn max(&self) -> Duration {
        self.samples[self.samples.len() - 1]
    }

    /// The given quantile (0.0..=1.0) of the runs.
    pub fn quantile(&self, q: f64) -> Duration {
        #[allow(
            clippy::cast_possible_truncation,
            clippy::cast_sign_loss,
            clippy::cast_precision_loss
        )]
        let index = ((self.samples.len() - 1) as f64 * q.clamp(0.0, 1.0)).round() as usize;
        self.samples[index]
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

/// Prints a table: one row per measurement with runs, median, min and max.
pub fn print_table(title: &str, rows: &[Stats]) {
    let width = rows.iter().map(|r| r.name.len()).max().unwrap_or(0).max(9);
    println!("\n{title}");
    println!(
        "{:<width$}  {:>6}  {:>10}  {:>10}  {:>10}",
        "benchmark", "runs", "median", "min", "max"
    );
    for row in rows {
        println!(
            "{:<width$}  {:>6}  {:>10}  {:>10}  {:>10}",
            row.name,
            row.samples.len(),
            human(row.median()),
            human(row.min()),
            human(row.max()),
        );
    }
}

/// The release build of a workspace binary, for benchmarks that run whole processes.
///
/// Returns `None` (and the benchmark says how to build it) when it has not been built.
pub fn release_binary(name: &str) -> Option<PathBuf> {
    let target = std::env::var_os("CARGO_TARGET_DIR").map_or_else(
        || PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target"),
        PathBuf::from,
    );
    let path = target.join("release").join(name);
    path.is_file().then_some(path)
}
