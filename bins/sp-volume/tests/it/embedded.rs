//! The embedded simulator: `--embedded[=DIR]`, and the default when nothing is configured.

use std::path::Path;
use std::process::Stdio;

use crate::{ListJson, Run, VolumeJson, command};

/// `sp-volume ARGS...` with nothing configured and `HOME` in `home`.
fn run(home: &Path, args: &[&str]) -> Run {
    Run::from(command(home).args(args).output().unwrap())
}

#[test]
fn embedded_dir_keeps_one_cluster_across_commands() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("cluster");
    let dir_arg = dir.to_str().unwrap();
    let created = run(
        tmp.path(),
        &[
            "--embedded",
            dir_arg,
            "create",
            "v1",
            "--size",
            "1",
            "--json",
        ],
    );
    let volume: VolumeJson = created.json();
    assert_eq!(
        created.stderr,
        format!("sp-volume: using the embedded simulator in {dir_arg}\n")
    );
    run(
        tmp.path(),
        &[
            "snapshot",
            "v1",
            "s1",
            &format!("--embedded={dir_arg}"),
            "-q",
        ],
    )
    .ok();
    let list: ListJson = run(tmp.path(), &["list", "--json", "--embedded", dir_arg]).json();
    assert_eq!(list.volumes.len(), 1);
    assert_eq!(list.volumes[0].global_id, volume.global_id);
    assert_eq!(
        list.volumes[0].parent_snapshot.as_deref(),
        Some("os--snap--none--snapshot-s1")
    );
    // Its host sections answer connection-info: client 1, the embedded node.
    let info = run(
        tmp.path(),
        &[
            "--embedded",
            dir_arg,
            "connection-info",
            "v1",
            "--host",
            "any",
            "--json",
        ],
    );
    assert_eq!(
        info.ok(),
        "{\"driver_volume_type\":\"storpool\",\"data\":{\"client_id\":1,\"volume\":\"v1\",\"access_mode\":\"rw\"}}\n"
    );
    assert!(dir.join("hosts.conf").exists());
    assert!(dir.join("state/state.db").exists());
}

#[test]
fn with_nothing_configured_the_default_folder_is_used_and_said_once() {
    if Path::new("/etc/storpool.conf").exists() {
        eprintln!("skipped: this machine has /etc/storpool.conf, so a cluster is configured");
        return;
    }
    let home = tempfile::tempdir().unwrap();
    let first = run(home.path(), &["create", "v1", "--size", "1"]);
    first.ok();
    let dir = home.path().join(".local/share/storpool-rs/embedded");
    assert_eq!(
        first.stderr,
        format!(
            "sp-volume: no StorPool cluster configured (no /etc/storpool.conf, `STORPOOL_CONF` \
             or `SP_API_HTTP_HOST`): using the embedded simulator in {}\n",
            dir.display()
        )
    );
    let list: ListJson = run(home.path(), &["list", "--json"]).json();
    assert_eq!(list.volumes.len(), 1);
    // XDG_DATA_HOME moves it.
    let xdg = home.path().join("xdg");
    let run = Run::from(
        command(home.path())
            .env("XDG_DATA_HOME", &xdg)
            .args(["list", "--json"])
            .output()
            .unwrap(),
    );
    assert!(run.json::<ListJson>().volumes.is_empty());
    assert!(xdg.join("storpool-rs/embedded/state/state.db").exists());
}

#[test]
fn concurrent_commands_on_one_folder_take_turns() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("cluster");
    let embedded = format!("--embedded={}", dir.display());
    let children: Vec<_> = (0..4)
        .map(|n| {
            command(tmp.path())
                .args([
                    embedded.as_str(),
                    "create",
                    &format!("v{n}"),
                    "--size",
                    "1",
                    "-q",
                ])
                .stdout(Stdio::null())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    for child in children {
        let output = child.wait_with_output().unwrap();
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    let list: ListJson = run(tmp.path(), &[embedded.as_str(), "list", "--json", "-q"]).json();
    let ids: Vec<&str> = list.volumes.iter().map(|v| v.id.as_str()).collect();
    assert_eq!(ids, ["v0", "v1", "v2", "v3"]);
}

#[test]
fn an_embedded_folder_whose_state_holds_files_of_others_is_refused_with_exit_2() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("cluster");
    let notes = dir.join("state/data/notes.txt");
    std::fs::create_dir_all(notes.parent().unwrap()).unwrap();
    std::fs::write(&notes, "mine").unwrap();
    let run = run(
        tmp.path(),
        &["--embedded", dir.to_str().unwrap(), "list", "-q"],
    );
    let line = run.failed(2);
    assert!(
        line.contains(&dir.join("state").display().to_string()),
        "{line}"
    );
    assert_eq!(std::fs::read_to_string(&notes).unwrap(), "mine");
}
