//! Process start to exit of the workspace binaries (release builds), the way shell scripts
//! call them (item 3 of the benchmark issue), with `STORPOOL_CONF` pointing at a simulator.
//!
//! Each row is one entry of [`CASES`]; a row whose binary is not built (yet) is printed as
//! skipped, so the rows of binaries still being written (`sp-volume`) are already listed and
//! start being measured as soon as `cargo build --release --bins` builds them. Given
//! `-- --token T --sim close=URL` it uses that running simulator instead of an in-process one.
#![allow(clippy::unwrap_used, clippy::print_stdout)]

use std::path::Path;
use std::process::{Command, Stdio};

use storpool_benches::{BenchArgs, Report, Row, SimTarget, Stats, release_binary};
use storpool_sim::Sim;

/// One measured command line.
struct Case {
    /// Row id, shared with the reference side (`benches/reference/bench.py`).
    id: &'static str,
    binary: &'static str,
    args: &'static [&'static str],
}

/// Every row. To measure another binary or subcommand, add a line.
const CASES: &[Case] = &[
    Case {
        id: "startup/sp-conf",
        binary: "sp-conf",
        args: &[],
    },
    Case {
        id: "startup/sp-conf-json",
        binary: "sp-conf",
        args: &["--json"],
    },
    Case {
        id: "startup/sp-conf-query",
        binary: "sp-conf",
        args: &["-s", "node-1", "--query", "SP_OURID"],
    },
    Case {
        id: "startup/sp-volume-help",
        binary: "sp-volume",
        args: &["--help"],
    },
    // A local call: reads storpool.conf, asks the simulator, prints.
    Case {
        id: "startup/sp-volume-stats",
        binary: "sp-volume",
        args: &["stats"],
    },
];

fn run(binary: &Path, args: &[&str], conf: &Path) -> Result<(), String> {
    let out = Command::new(binary)
        .args(args)
        .env("STORPOOL_CONF", conf)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .output()
        .map_err(|e| e.to_string())?;
    if out.status.success() {
        Ok(())
    } else {
        let stderr = String::from_utf8_lossy(&out.stderr);
        Err(format!(
            "{}: {}",
            out.status,
            stderr.lines().next().unwrap_or_default()
        ))
    }
}

fn main() {
    let args = BenchArgs::from_env();
    let sim = SimTarget::named(&args, "close", Sim::start).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let conf = dir.path().join("storpool.conf");
    let url = sim.url();
    let (host, port) = url.trim_start_matches("http://").rsplit_once(':').unwrap();
    let text = storpool_sim::storpool_conf_text(host, port.parse().unwrap(), &sim.token(), Some(1));
    std::fs::write(&conf, format!("{text}[node-1]\nSP_CACHE_SIZE=4096\n")).unwrap();

    let runs = args.pick(200, 3);
    let rows: Vec<Row> = CASES
        .iter()
        .map(|case| {
            let name = format!("{} {}", case.binary, case.args.join(" "));
            let name = name.trim_end().to_owned();
            let Some(binary) = release_binary(case.binary) else {
                return Row::skipped(case.id, name, "not built: cargo build --release --bins");
            };
            if let Err(e) = run(&binary, case.args, &conf) {
                return Row::skipped(case.id, name, format!("failed: {e}"));
            }
            let stats = Stats::measure(&name, runs, || run(&binary, case.args, &conf).unwrap());
            Row::time(case.id, name, stats.samples)
        })
        .collect();
    Report::new(&args).table(
        &format!(
            "Process start to exit (release builds; STORPOOL_CONF -> {})",
            sim.describe()
        ),
        &rows,
    );
}
