//! Memory figures from `/proc` (Linux): resident size, and the peak of one operation measured
//! in a fresh child process (`VmHWM` after resetting it through `/proc/self/clear_refs`), so
//! that the allocations of earlier benchmarks do not hide it.

use std::io;
use std::process::{Command, Stdio};

/// A `kB` field of `/proc/PID/status` (`/proc/self/status` without a pid), in bytes.
fn status_bytes(pid: Option<u32>, field: &str) -> Option<u64> {
    let path = pid.map_or_else(
        || "/proc/self/status".to_owned(),
        |p| format!("/proc/{p}/status"),
    );
    let text = std::fs::read_to_string(path).ok()?;
    text.lines()
        .find_map(|line| line.strip_prefix(field))
        .and_then(|rest| {
            rest.trim()
                .trim_end_matches("kB")
                .trim()
                .parse::<u64>()
                .ok()
        })
        .map(|kib| kib * 1024)
}

/// Resident memory of this process (`None`) or of process `pid`.
pub fn rss_bytes(pid: Option<u32>) -> Option<u64> {
    status_bytes(pid, "VmRSS:")
}

/// The peak resident memory of this process since it started or since
/// [`reset_peak_rss`].
pub fn peak_rss_bytes() -> Option<u64> {
    status_bytes(None, "VmHWM:")
}

/// Resets this process's peak resident memory to its current resident memory.
pub fn reset_peak_rss() -> io::Result<()> {
    std::fs::write("/proc/self/clear_refs", "5")
}

/// Runs `f` and returns its result with how far the resident memory rose above its level at
/// the start while `f` ran (its result included, since it is still alive). Meaningful in a
/// process that does nothing else at the time: see [`child_peak`].
pub fn run_measuring_peak<T>(f: impl FnOnce() -> T) -> (T, Option<u64>) {
    let reset = reset_peak_rss();
    let before = rss_bytes(None);
    let out = f();
    let peak = peak_rss_bytes();
    let grown = match (reset, before, peak) {
        (Ok(()), Some(before), Some(peak)) => Some(peak.saturating_sub(before)),
        _ => None,
    };
    (out, grown)
}

/// Runs this bench binary again as `BIN --child ARGS...` and returns the number (of bytes) it
/// prints as the last line of its output; `None` when that fails (e.g. no `/proc`).
pub fn child_peak(args: &[&str]) -> Option<u64> {
    let output = Command::new(std::env::current_exe().ok()?)
        .arg("--child")
        .args(args)
        .stderr(Stdio::inherit())
        .output()
        .ok()?;
    if !output.status.success() {
        return None;
    }
    String::from_utf8(output.stdout)
        .ok()?
        .lines()
        .last()?
        .trim()
        .parse()
        .ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn peak_growth_covers_what_the_operation_keeps() {
        let (kept, grown) = run_measuring_peak(|| vec![1u8; 64 << 20]);
        assert_eq!(kept.len(), 64 << 20);
        if let Some(grown) = grown {
            assert!(grown >= 60 << 20, "{grown}");
        }
    }
}
