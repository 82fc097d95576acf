//! Helpers shared by the workspace benchmarks: timing, throughput and peak-memory rows, tables
//! of medians with min and max (and the same rows as JSON lines for the comparison with the
//! reference Python clients), the command line every bench target understands, simulators to
//! measure against, and a bare HTTP client that measures the server without our client in the
//! way. Benchmarks print; tests never time anything.
//!
//! Every bench target accepts (after `cargo bench -p storpool-benches --bench NAME --`):
//!
//! - `--quick`: tiny sizes and one repetition (also the default when the target runs without
//!   `--bench`, i.e. under `cargo test --benches`), to check that it works;
//! - `--json FILE`: also append every row to FILE as one JSON object per line;
//! - `--sim NAME=URL` (repeatable) and `--token T`: measure against running `storpool-sim`
//!   servers instead of in-process ones (each target says which names it uses).
#![allow(clippy::print_stdout)]

mod args;
mod http;
mod memory;
mod sims;
mod table;

pub use args::BenchArgs;
pub use http::{Conn, fetch};
pub use memory::{child_peak, peak_rss_bytes, reset_peak_rss, rss_bytes, run_measuring_peak};
pub use sims::{SimTarget, seed_volumes, volume_body, volume_name};
pub use table::{Check, Measure, Report, Row, human, print_table};

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
    pub fn measure(name: impl Into<String>, runs: usize, f: impl FnMut()) -> Self {
        Self::measure_making(name, runs, f)
    }

    /// [`Stats::measure`] of a function whose result is dropped after the clock stops: the
    /// time to make a value, not to free it as well.
    pub fn measure_making<R>(
        name: impl Into<String>,
        runs: usize,
        mut f: impl FnMut() -> R,
    ) -> Self {
        for _ in 0..=runs / 10 {
            drop(f());
        }
        let samples: Vec<Duration> = (0..runs.max(1))
            .map(|_| {
                let start = Instant::now();
                let made = std::hint::black_box(f());
                let elapsed = start.elapsed();
                drop(made);
                elapsed
            })
            .collect();
        Self::from_samples(name, samples)
    }

    /// Stats of durations measured elsewhere.
    pub fn from_samples(name: impl Into<String>, mut samples: Vec<Duration>) -> Self {
        assert!(!samples.is_empty(), "no samples");
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
        self.samples[quantile_index(self.samples.len(), q)]
    }
}

/// The index of quantile `q` in a sorted list of `len` samples (nearest rank).
pub(crate) fn quantile_index(len: usize, q: f64) -> usize {
    #[allow(
        clippy::cast_possible_truncation,
        clippy::cast_sign_loss,
        clippy::cast_precision_loss
    )]
    let index = ((len - 1) as f64 * q.clamp(0.0, 1.0)).round() as usize;
    index
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
