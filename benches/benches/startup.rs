//! Process start to exit of the workspace binaries (release builds), the way shell scripts
//! call them (item 3 of the benchmark issue), with `STORPOOL_CONF` pointing at a simulator.
//!
//! Each row is one entry of [`CASES`]; a row whose binary is not built (yet) is printed as
//! skipped, so the rows of binaries still being written (`sp-volume`) are already listed and
//! start being measured as soon as `cargo build --release --bins` builds them. Given
//! `-- --token T --sim close=URL` it uses that running simulator instead of an in-process one.
//!
//! Then `sp-volume --json list` of 100,000 volumes in a fresh process (`--sim list-100000=URL`,
//! or an in-process simulator seeded with them).
#![allow(clippy::unwrap_used, clippy::print_stdout)]
// Byte counts far below 2^52 convert to f64 exactly.
#![allow(clippy::cast_precision_loss)]

use std::path::Path;
use std::process::{Command, Stdio};

use storpool_benches::{
    BenchArgs, Check, Report, Row, SimTarget, Stats, release_binary, seed_volumes,
};
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

/// A `storpool.conf` in `dir` pointing at `sim`.
fn write_conf(dir: &Path, sim: &SimTarget) -> std::path::PathBuf {
    let conf = dir.join("storpool.conf");
    let url = sim.url();
    let (host, port) = url.trim_start_matches("http://").rsplit_once(':').unwrap();
    let text = storpool_sim::storpool_conf_text(host, port.parse().unwrap(), &sim.token(), Some(1));
    std::fs::write(&conf, format!("{text}[node-1]\nSP_CACHE_SIZE=4096\n")).unwrap();
    conf
}

fn main() {
    let args = BenchArgs::from_env();
    let sim = SimTarget::named(&args, "close", Sim::start).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let conf = write_conf(dir.path(), &sim);

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
    let mut report = Report::new(&args);
    report.table(
        &format!(
            "Process start to exit (release builds; STORPOOL_CONF -> {})",
            sim.describe()
        ),
        &rows,
    );
    drop(sim);
    fresh_list(&args, &mut report);
}

/// `sp-volume --json list` of every volume in a fresh process, its output read from a pipe
/// (item 3 of issue 16); `benches/reference/bench.py` has os-brick's `volumes_list()` in a
/// fresh Python process under the same id.
fn fresh_list(args: &BenchArgs, report: &mut Report) {
    let count = args.pick(100_000, 1_000);
    let id = format!("list/{count}/fresh-process");
    let name = format!("sp-volume --json list, {count} volumes, fresh process");
    let Some(binary) = release_binary("sp-volume") else {
        let row = Row::skipped(id, name, "not built: cargo build --release --bins");
        return report.table("VolumesList in a fresh process", &[row]);
    };
    let sim = SimTarget::named(args, &format!("list-{count}"), || {
        let sim = Sim::builder().start()?;
        seed_volumes(&sim, 0, count)?;
        Ok(sim)
    })
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let conf = write_conf(dir.path(), &sim);
    let list = || {
        let out = Command::new(&binary)
            .args(["--json", "list"])
            .env("STORPOOL_CONF", &conf)
            .stderr(Stdio::inherit())
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "sp-volume --json list: {}",
            out.status
        );
        out.stdout.len()
    };
    let size = list();
    let stats = Stats::measure(&name, args.pick(10, 2), || {
        assert_eq!(list(), size);
    });
    let rows = [Row::time(&id, &name, stats.samples)];
    report.table(
        &format!(
            "VolumesList in a fresh process ({:.1} MB of output; {})",
            size as f64 / 1e6,
            sim.describe()
        ),
        &rows,
    );
    if args.full {
        println!(
            "\nTarget (issue 16, item 3): at least 5x faster than os-brick's volumes_list() in a \
             fresh Python process; scripts/bench-reference.sh compares the two (about 860 ms \
             on the development machine, so at most about 172 ms)"
        );
        Report::target(&rows, &id, "sp-volume --json list", Check::AtMost(0.172));
    }
}
