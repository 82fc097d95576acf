//! The embedded simulator: `--embedded[=DIR]`, and the default when no cluster is configured.

use std::path::Path;
use std::process::Command;

use storpool_sim::Sim;

use crate::{ConnectJson, GIB, ListJson, Run};

/// Runs `sp-attach ARGS...` with no StorPool configuration in its environment and `HOME`
/// pointing into `home`.
fn run_unconfigured(home: &Path, args: &[&str]) -> Run {
    Run::from(
        Command::new(env!("CARGO_BIN_EXE_sp-attach"))
            .args(args)
            .env_remove("STORPOOL_CONF")
            .env_remove("STORPOOL_EMBEDDED")
            .env_remove("SP_API_HTTP_HOST")
            .env_remove("SP_API_HTTP_PORT")
            .env_remove("SP_AUTH_TOKEN")
            .env_remove("XDG_DATA_HOME")
            .env_remove("RUST_LOG")
            .env("HOME", home)
            .env("NO_COLOR", "1")
            .output()
            .unwrap(),
    )
}

/// Makes `os--volume-{id}` in the embedded cluster of `dir`, as another tool would (the
/// simulator library on the same state, while no command runs).
fn seed_volume(dir: &Path, id: &str) -> String {
    let sim = Sim::builder()
        .state_dir(dir.join("state"))
        .dev_root(dir.join("dev"))
        .serve_client(1)
        .start()
        .unwrap();
    sim.seed_volume(&format!("os--volume-{id}"), GIB, None)
        .unwrap()
}

#[test]
fn embedded_dir_attaches_under_its_device_root_and_keeps_the_attachment() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("cluster");
    let gid = seed_volume(&dir, "v1");
    let dir_arg = dir.to_str().unwrap();
    let run = run_unconfigured(
        tmp.path(),
        &["--embedded", dir_arg, "connect", "v1", "--json"],
    );
    let attached: ConnectJson = run.embedded_json();
    assert_eq!(attached.path, dir.join("dev/storpool-byid").join(&gid));
    assert!(attached.path.exists());
    assert_eq!(
        run.stderr.lines().next(),
        Some(format!("sp-attach: using the embedded simulator in {dir_arg}").as_str()),
        "{run:#?}"
    );
    // A later command sees the same cluster, attachment and device.
    let list: ListJson =
        run_unconfigured(tmp.path(), &["list", "--json", "--embedded", dir_arg]).embedded_json();
    assert_eq!(list.client_id, 1);
    assert_eq!(list.attachments.len(), 1);
    assert_eq!(list.attachments[0].id.as_deref(), Some("v1"));
    assert!(list.attachments[0].present);
    let run = run_unconfigured(
        tmp.path(),
        &[&format!("--embedded={dir_arg}"), "disconnect", "v1", "-q"],
    );
    assert_eq!(run.ok(), "");
    assert_eq!(
        run.stderr,
        format!("sp-attach: using the embedded simulator in {dir_arg}\n"),
        "-q does not silence the notice"
    );
    assert!(!attached.path.exists());
}

#[test]
fn without_any_configuration_connect_fails_naming_embedded_issue_14() {
    if Path::new("/etc/storpool.conf").exists() {
        eprintln!("skipped: this machine has /etc/storpool.conf, so a cluster is configured");
        return;
    }
    // A compute node whose storpool.conf went missing: no fake device path.
    let home = tempfile::tempdir().unwrap();
    let run = run_unconfigured(home.path(), &["-q", "connect", "prod-db"]);
    let line = run.failed(2);
    assert!(line.contains("no StorPool cluster configured"), "{line}");
    assert!(line.contains("`--embedded`"), "{line}");
    assert!(line.contains("`STORPOOL_EMBEDDED=DIR`"), "{line}");
    assert_eq!(run.stderr.lines().count(), 1, "{run:#?}");
    assert!(!home.path().join(".local").exists(), "nothing made");
    // `--embedded` alone uses the folder under the user's data directory.
    let run = run_unconfigured(home.path(), &["--embedded", "list"]);
    assert_eq!(run.ok(), "ID  NAME  KIND  RIGHTS  PRESENT  PATH\n");
    let dir = home.path().join(".local/share/storpool-rs/embedded");
    assert_eq!(
        run.stderr,
        format!(
            "sp-attach: using the embedded simulator in {}\n",
            dir.display()
        )
    );
    assert!(dir.join("state/state.db").exists());
    // A configuration named but missing is an error, never a silent fallback.
    let missing = home.path().join("missing.conf");
    let run = Run::from(
        Command::new(env!("CARGO_BIN_EXE_sp-attach"))
            .arg("list")
            .env("STORPOOL_CONF", &missing)
            .env("HOME", home.path())
            .output()
            .unwrap(),
    );
    let line = run.failed(2);
    assert!(line.contains(&missing.display().to_string()), "{line}");
    assert!(
        run.stderr.contains("hint: `STORPOOL_CONF` names"),
        "{run:#?}"
    );
}

#[test]
fn storpool_embedded_is_used_and_said_even_with_q_and_in_json() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("cluster");
    seed_volume(&dir, "v1");
    let run = Run::from(
        Command::new(env!("CARGO_BIN_EXE_sp-attach"))
            .args(["-q", "connect", "v1", "--json"])
            .env_remove("STORPOOL_CONF")
            .env_remove("SP_API_HTTP_HOST")
            .env("STORPOOL_EMBEDDED", &dir)
            .env("HOME", tmp.path())
            .env("NO_COLOR", "1")
            .output()
            .unwrap(),
    );
    let text = run.ok();
    assert!(
        text.starts_with("{\"cluster\":\"embedded\",\"type\":\"block\","),
        "{text}"
    );
    assert_eq!(
        run.stderr,
        format!(
            "sp-attach: using the embedded simulator in {} (`STORPOOL_EMBEDDED`)\n",
            dir.display()
        )
    );
}

#[test]
fn a_relative_embedded_folder_gives_device_links_that_resolve() {
    let tmp = tempfile::tempdir().unwrap();
    seed_volume(&tmp.path().join("relemb"), "v1");
    let run = Run::from(
        Command::new(env!("CARGO_BIN_EXE_sp-attach"))
            .current_dir(tmp.path())
            .args(["--embedded", "relemb", "connect", "v1", "--json"])
            .args(["--attach-timeout", "10", "-q"])
            .env("HOME", tmp.path())
            .env("NO_COLOR", "1")
            .output()
            .unwrap(),
    );
    let attached: ConnectJson = run.embedded_json();
    let link = tmp.path().join("relemb/dev/storpool/os--volume-v1");
    let target = std::fs::read_link(&link).unwrap();
    assert!(target.is_absolute(), "{}", target.display());
    assert!(
        std::fs::metadata(&link).unwrap().is_file(),
        "the link resolves"
    );
    assert!(attached.path.is_absolute(), "{}", attached.path.display());
}
