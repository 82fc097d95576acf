//! `sp-attach connect`.

use std::path::PathBuf;

use crate::{ConnectJson, ID, node};

#[test]
fn connect_prints_the_device_path_and_the_device_is_there() {
    let node = node();
    let gid = node.volume("v1");
    let stdout = node.run(&["connect", "v1"]).ok().to_owned();
    let path = node.root().join("storpool-byid").join(&gid);
    assert_eq!(stdout, format!("{}\n", path.display()));
    assert!(std::fs::OpenOptions::new().write(true).open(&path).is_ok());
    assert_eq!(node.attachments_of("os--volume-v1"), [(ID, true)]);
}

#[test]
fn connect_json_is_the_os_brick_result_plus_what_happened() {
    let node = node();
    let gid = node.volume("v1");
    let first: ConnectJson = node.run(&["--json", "connect", "v1"]).json();
    assert_eq!(first.device_type, "block");
    assert_eq!(first.path, node.root().join("storpool-byid").join(&gid));
    assert_eq!(first.name_path, node.root().join("storpool/os--volume-v1"));
    assert_eq!(first.name, "os--volume-v1");
    assert_eq!(first.global_id, gid);
    assert_eq!(first.kind, "volume");
    assert_eq!(first.access_mode, "rw");
    assert!(first.changed);
    assert!(first.wait_seconds >= 0.0 && first.wait_seconds <= first.elapsed_seconds);
    // Global options may follow the subcommand too.
    let again: ConnectJson = node.run(&["connect", "v1", "--json"]).json();
    assert!(!again.changed);
    assert_eq!(again.path, first.path);
}

#[test]
fn connect_read_only_and_upgrade() {
    let node = node();
    node.volume("v1");
    let ro: ConnectJson = node
        .run(&["connect", "v1", "--mode", "ro", "--json"])
        .json();
    assert_eq!(ro.access_mode, "ro");
    assert_eq!(node.attachments_of("os--volume-v1"), [(ID, false)]);
    let rw: ConnectJson = node
        .run(&["connect", "v1", "--mode", "rw", "--json"])
        .json();
    assert!(rw.changed);
    assert_eq!(rw.access_mode, "rw");
    assert_eq!(node.attachments_of("os--volume-v1"), [(ID, true)]);
}

#[test]
fn snapshots_connect_read_only_and_never_read_write() {
    let node = node();
    node.volume("v1");
    node.snapshot("v1", "s1");
    let attached: ConnectJson = node.run(&["connect", "s1", "--snapshot", "--json"]).json();
    assert_eq!(attached.kind, "snapshot");
    assert_eq!(attached.access_mode, "ro");
    assert_eq!(attached.name, "os--snap--none--snapshot-s1");
    assert!(PathBuf::from(&attached.path).exists());
    let line = node
        .run(&["connect", "s1", "--snapshot", "--mode", "rw"])
        .failed(2)
        .to_owned();
    assert!(
        line.contains("snapshot `s1` cannot be attached read-write"),
        "{line}"
    );
}

#[test]
fn a_device_that_does_not_appear_fails_with_exit_1_and_a_hint() {
    // This node's id is one the simulator does not serve: no device will show up.
    let node = crate::node_with_id(Some(crate::OTHER));
    let gid = node.volume("v1");
    let run = node.run(&["connect", "v1", "--attach-timeout", "0.3"]);
    let line = run.failed(1);
    assert!(
        line.starts_with("sp-attach: error: gave up after"),
        "{line}"
    );
    assert!(line.contains(&gid), "{line}");
    assert!(
        run.stderr.contains("hint: is `storpool_block` running"),
        "{}",
        run.stderr
    );
}

#[test]
fn a_missing_volume_fails_with_exit_1_naming_it() {
    let node = node();
    let line = node.run(&["connect", "nope"]).failed(1).to_owned();
    assert!(
        line.starts_with("sp-attach: error: cannot attach volume `os--volume-nope` to client 7: "),
        "{line}"
    );
    assert!(line.contains("objectDoesNotExist"), "{line}");
}

#[test]
fn the_token_shows_nowhere_even_at_the_most_verbose_level() {
    let node = node();
    node.volume("v1");
    // `run` checks stdout and stderr for the token on every call.
    let run = node.run(&["-vvv", "connect", "v1"]);
    run.ok();
    assert!(run.stderr.contains("attached"), "{}", run.stderr);
    node.run(&["-vvv", "connect", "nope"]).failed(1);
    node.run(&["-vvv", "--json", "list"]).ok();
    node.run(&["-vvv", "disconnect", "v1"]).ok();
}

#[test]
fn a_connect_whose_device_never_appears_says_the_volume_stays_attached_and_how_to_detach_it() {
    // Issue 13, defect 17: the failed connect left the volume attached without a word.
    let node = crate::node_with_id(Some(crate::OTHER));
    node.volume("v1");
    let run = node.run(&["connect", "v1", "--attach-timeout", "0.3"]);
    run.failed(1);
    assert_eq!(node.sim.state().attachments.len(), 1);
    assert!(
        run.stderr.contains(&format!(
            "hint: volume `v1` stays attached to this node (client {}): detach it with \
             `sp-attach disconnect v1`",
            crate::OTHER
        )),
        "{}",
        run.stderr
    );
    node.run(&["disconnect", "v1"]).ok();
    assert!(node.sim.state().attachments.is_empty());
}

#[test]
fn read_only_asked_of_a_volume_attached_read_write_is_refused_issue_14() {
    let node = crate::node();
    node.volume("v1");
    node.run(&["connect", "v1"]).ok();
    let run = node.run(&["connect", "v1", "--mode", "ro", "--json"]);
    let line = run.failed(1);
    assert!(
        line.contains("volume `v1` is attached read-write to this node (client 7)"),
        "{line}"
    );
    assert!(
        run.stderr
            .contains("hint: disconnect it first to attach it read-only"),
        "{run:#?}"
    );
    assert_eq!(node.attachments_of("os--volume-v1"), [(crate::ID, true)]);
    // Read-write again: fine, nothing changes, and the mode in effect is reported.
    let again: crate::ConnectJson = node
        .run(&["connect", "v1", "--mode", "rw", "--json"])
        .json();
    assert_eq!((again.access_mode.as_str(), again.changed), ("rw", false));
    // Read-only first, then read-write: upgraded, and reported as such.
    node.volume("v2");
    let ro: crate::ConnectJson = node
        .run(&["connect", "v2", "--mode", "ro", "--json"])
        .json();
    assert_eq!(ro.access_mode, "ro");
    let rw: crate::ConnectJson = node.run(&["connect", "v2", "--json"]).json();
    assert_eq!((rw.access_mode.as_str(), rw.changed), ("rw", true));
    assert_eq!(node.attachments_of("os--volume-v2"), [(crate::ID, true)]);
}

#[test]
fn verbose_logs_show_the_volume_client_and_device_wait() {
    let node = crate::node();
    node.volume("v1");
    let run = node.run(&["-vvv", "connect", "v1"]);
    run.ok();
    let line = run
        .stderr
        .lines()
        .find(|l| l.contains("wait{"))
        .unwrap_or_else(|| panic!("{run:#?}"));
    assert!(
        line.contains("connect{volume=v1 kind=volume client=7 mode=rw}"),
        "{line}"
    );
    assert!(line.contains("storpool_attach::wait"), "{line}");
    assert!(run.stderr.contains("ready"), "{run:#?}");
}
