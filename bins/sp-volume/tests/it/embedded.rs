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
    let volume: VolumeJson = created.embedded_json();
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
    let list: ListJson =
        run(tmp.path(), &["list", "--json", "--embedded", dir_arg]).embedded_json();
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
        "{\"cluster\":\"embedded\",\"driver_volume_type\":\"storpool\",\"data\":{\"client_id\":1,\"volume\":\"v1\",\"access_mode\":\"rw\"}}\n"
    );
    let info: crate::ConnectionInfoJson = info.embedded_json();
    assert_eq!(
        (info.driver_volume_type.as_str(), info.data.client_id),
        ("storpool", 1)
    );
    assert_eq!(
        (info.data.volume.as_str(), info.data.access_mode.as_str()),
        ("v1", "rw")
    );
    assert!(dir.join("hosts.conf").exists());
    assert!(dir.join("state/state.db").exists());
}

#[test]
fn with_nothing_configured_a_command_fails_naming_embedded_issue_14() {
    if Path::new("/etc/storpool.conf").exists() {
        eprintln!("skipped: this machine has /etc/storpool.conf, so a cluster is configured");
        return;
    }
    // A compute node whose storpool.conf went missing: no silent simulator.
    let home = tempfile::tempdir().unwrap();
    let run = run(home.path(), &["-q", "create", "prod-db", "--size", "100"]);
    let line = run.failed(2);
    assert!(line.contains("no StorPool cluster configured"), "{line}");
    assert!(line.contains("`--embedded`"), "{line}");
    assert!(line.contains("`STORPOOL_EMBEDDED=DIR`"), "{line}");
    assert_eq!(run.stderr.lines().count(), 1, "{run:#?}");
    assert!(!home.path().join(".local").exists(), "nothing made");
    let run = self::run(home.path(), &["--json", "list"]);
    run.failed(2);
}

#[test]
fn storpool_embedded_names_the_folder_and_every_output_says_embedded() {
    let home = tempfile::tempdir().unwrap();
    let dir = home.path().join("cluster");
    let env_run = |args: &[&str]| {
        Run::from(
            command(home.path())
                .env("STORPOOL_EMBEDDED", &dir)
                .args(args)
                .output()
                .unwrap(),
        )
    };
    // -q does not hide the notice, and the JSON says where it ran.
    let created = env_run(&["-q", "create", "v1", "--size", "1", "--json"]);
    let doc: serde_json::Value = serde_json::from_str(created.ok()).unwrap();
    assert_eq!(doc["cluster"], "embedded", "{doc}");
    assert_eq!(doc["id"], "v1", "{doc}");
    assert_eq!(
        created.stderr,
        format!(
            "sp-volume: using the embedded simulator in {} (`STORPOOL_EMBEDDED`)\n",
            dir.display()
        )
    );
    assert!(dir.join("state/state.db").exists());
    // Text output too: the notice on stderr, the data alone on stdout.
    let listed = env_run(&["list"]);
    assert!(listed.ok().starts_with("ID "), "{listed:#?}");
    assert!(
        listed.stderr.contains("using the embedded simulator in"),
        "{listed:#?}"
    );
    // Every JSON document, lists included, carries the field first.
    for args in [
        &["list", "--json"][..],
        &["stats", "--json"],
        &["show", "v1", "--json"],
    ] {
        let out = env_run(args);
        assert!(
            out.ok().starts_with("{\"cluster\":\"embedded\","),
            "{args:?}: {out:#?}"
        );
    }
    // `--config` beats the variable; a configured cluster's JSON has no such field.
    let node = crate::node();
    let mut cmd = command(home.path());
    cmd.env("STORPOOL_EMBEDDED", &dir)
        .arg("--config")
        .arg(node.conf())
        .args(["list", "--json"]);
    let run = node.checked(cmd, &["list"]);
    assert_eq!(run.ok(), "{\"volumes\":[]}\n");
    assert_eq!(run.stderr, "");
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
    let list: ListJson =
        run(tmp.path(), &[embedded.as_str(), "list", "--json", "-q"]).embedded_json();
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

#[test]
fn a_fresh_embedded_cluster_has_the_ssd_and_hdd_templates_issue_14() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("cluster");
    let dir_arg = dir.to_str().unwrap();
    for (id, template, replication) in [("a", "ssd", 3), ("b", "hdd", 2)] {
        let spec = format!("storpool_template={template}");
        let volume: VolumeJson = run(
            tmp.path(),
            &[
                "--embedded",
                dir_arg,
                "create",
                id,
                "--size",
                "10",
                "--type-spec",
                &spec,
                "--json",
            ],
        )
        .embedded_json();
        assert_eq!(volume.template.as_deref(), Some(template));
        assert_eq!(volume.replication, replication);
    }
}
