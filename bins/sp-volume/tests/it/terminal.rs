//! What a person at a terminal sees (through `script`, which gives the command a pty): a
//! notice while another command holds the embedded cluster (the progress bar of copies is
//! tested with the images).

use std::fmt::Write as _;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::pause;

/// `script` (util-linux) runs a command on a pseudo-terminal; without it these tests skip.
#[allow(clippy::print_stderr)]
fn have_script() -> bool {
    let found = Command::new("script")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !found {
        eprintln!("skipped: `script` (util-linux) is not installed");
    }
    found
}

/// The shell command line of `sp-volume ARGS...` (arguments single-quoted).
fn shell_line(args: &[&str]) -> String {
    let mut line = format!("'{}'", env!("CARGO_BIN_EXE_sp-volume"));
    for arg in args {
        let _ = write!(line, " '{}'", arg.replace('\'', "'\\''"));
    }
    line
}

#[test]
fn waiting_for_another_command_is_said_on_a_terminal() {
    if !have_script() {
        return;
    }
    let home = tempfile::tempdir().unwrap();
    let dir = home.path().join("cluster");
    // This test process holds the cluster, as another command would.
    let holder = storpool_sim::Sim::builder()
        .state_dir(dir.join("state"))
        .start()
        .unwrap();
    let log = home.path().join("typescript");
    let args = ["--embedded", dir.to_str().unwrap(), "list"];
    let mut child = Command::new("script")
        .args(["-qfec", &shell_line(&args)])
        .arg(&log)
        .env("HOME", home.path())
        .env_remove("STORPOOL_CONF")
        .env_remove("STORPOOL_EMBEDDED")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let expected = format!(
        "sp-volume: waiting for PID {} to finish with {}",
        std::process::id(),
        dir.display()
    );
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let seen = std::fs::read_to_string(&log).unwrap_or_default();
        if seen.contains(&expected) {
            break;
        }
        assert!(Instant::now() < deadline, "no notice: {seen}");
        pause();
    }
    drop(holder);
    let status = child.wait().unwrap();
    let seen = std::fs::read_to_string(&log).unwrap();
    assert!(status.success(), "{seen}");
    assert!(seen.contains("ID  NAME"), "then the result: {seen}");
}
