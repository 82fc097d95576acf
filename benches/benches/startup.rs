//! Process start to exit of the workspace binaries (release builds), the way shell scripts
//! call them.
#![allow(clippy::unwrap_used, clippy::print_stdout)]

use std::process::{Command, Stdio};

use storpool_benches::{Stats, print_table, release_binary};

fn main() {
    let Some(sp_conf) = release_binary("sp-conf") else {
        println!("sp-conf is not built: run `cargo build --release --bins` first");
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let main = dir.path().join("storpool.conf");
    std::fs::write(
        &main,
        "SP_API_HTTP_HOST=10.0.0.5\nSP_AUTH_TOKEN=1\n[node-1]\nSP_OURID=1\n",
    )
    .unwrap();
    let run = |args: &[&str]| {
        let status = Command::new(&sp_conf)
            .arg("--config")
            .arg(&main)
            .args(args)
            .stdout(Stdio::null())
            .status()
            .unwrap();
        assert!(status.success());
    };
    let rows = [
        Stats::measure("sp-conf (all variables)", 200, || run(&[])),
        Stats::measure("sp-conf -q SP_OURID", 200, || {
            run(&["-s", "node-1", "-q", "SP_OURID"]);
        }),
        Stats::measure("sp-conf --json", 200, || run(&["--json"])),
    ];
    print_table("process start to exit", &rows);
}
