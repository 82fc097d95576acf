//! `sp-attach disconnect`.

use crate::{DisconnectJson, ID, OTHER, node};

#[test]
fn disconnect_by_id_and_by_path_prints_nothing_and_detaches() {
    let node = node();
    let gid = node.volume("v1");
    node.volume("v2");
    node.run(&["connect", "v1"]).ok();
    node.run(&["connect", "v2"]).ok();
    assert_eq!(node.run(&["disconnect", "v1"]).ok(), "");
    assert!(node.attachments_of("os--volume-v1").is_empty());
    assert!(!node.root().join("storpool-byid").join(&gid).exists());
    let by_name = node.root().join("storpool/os--volume-v2");
    node.run(&["disconnect", "--path", by_name.to_str().unwrap()])
        .ok();
    assert!(node.sim.state().attachments.is_empty());
}

#[test]
fn disconnect_json_and_idempotency() {
    let node = node();
    let gid = node.volume("v1");
    node.run(&["connect", "v1"]).ok();
    let by_id = node.root().join("storpool-byid").join(&gid);
    let detached: DisconnectJson = node
        .run(&["--json", "disconnect", "--path", by_id.to_str().unwrap()])
        .json();
    assert!(detached.changed);
    assert!(!detached.forced);
    assert_eq!(detached.attempts, 1);
    assert_eq!(detached.name, "os--volume-v1");
    assert_eq!(detached.global_id.as_deref(), Some(gid.as_str()));
    assert_eq!(detached.kind, "volume");
    // Not attached here (any more, or ever): success, nothing changed.
    let again: DisconnectJson = node.run(&["--json", "disconnect", "v1"]).json();
    assert!(!again.changed);
    assert_eq!(again.attempts, 0);
    let never: DisconnectJson = node.run(&["--json", "disconnect", "never"]).json();
    assert!(!never.changed);
}

#[test]
fn disconnect_a_snapshot() {
    let node = node();
    node.volume("v1");
    node.snapshot("v1", "s1");
    node.run(&["connect", "--snapshot", "s1"]).ok();
    let detached: DisconnectJson = node
        .run(&["--json", "disconnect", "--snapshot", "s1"])
        .json();
    assert!(detached.changed);
    assert_eq!(detached.kind, "snapshot");
    assert!(node.sim.state().attachments.is_empty());
}

#[test]
fn an_open_device_is_retried_then_forced_and_the_warning_says_so() {
    let node = node();
    node.volume("v1");
    node.run(&["connect", "v1"]).ok();
    node.sim.set_device_open("os--volume-v1", ID, true);
    let run = node.run(&["--json", "disconnect", "v1", "--retry-delay", "0"]);
    let detached: DisconnectJson = run.json();
    assert!(detached.forced);
    assert_eq!(detached.attempts, 11);
    assert!(node.attachments_of("os--volume-v1").is_empty());
    let warnings: Vec<&str> = run
        .stderr
        .lines()
        .filter(|l| l.contains("WARN") && l.contains("forcing the detach"))
        .collect();
    assert_eq!(warnings.len(), 1, "{}", run.stderr);
}

#[test]
fn without_forcing_an_open_device_fails_with_exit_1_and_a_hint() {
    let node = node();
    node.volume("v1");
    node.run(&["connect", "v1"]).ok();
    node.sim.set_device_open("os--volume-v1", ID, true);
    let run = node.run(&[
        "disconnect",
        "v1",
        "--retries",
        "2",
        "--retry-delay",
        "0",
        "--no-force-last",
    ]);
    let line = run.failed(1);
    assert!(
        line.contains(
            "cannot detach `os--volume-v1` from client 7: the device is still open after 3 attempts"
        ),
        "{line}"
    );
    assert!(line.contains("is open at client 7"), "{line}");
    assert!(run.stderr.contains("hint: "), "{}", run.stderr);
    assert_eq!(node.attachments_of("os--volume-v1"), [(ID, true)]);
    // --force detaches at once.
    let detached: DisconnectJson = node
        .run(&["--json", "disconnect", "v1", "--force", "--retries", "0"])
        .json();
    assert!(detached.forced);
    assert_eq!(detached.attempts, 1);
}

#[test]
fn paths_outside_the_device_folders_are_usage_errors() {
    let node = node();
    let run = node.run(&["disconnect", "--path", "/dev/sda"]);
    let line = run.failed(2);
    assert!(
        line.contains("/dev/sda is not a StorPool device path"),
        "{line}"
    );
    assert!(
        run.stderr
            .contains("hint: devices are looked for under `--dev-root")
    );
    let other = node.root().join("mapper/os--volume-v1");
    node.run(&["disconnect", "--path", other.to_str().unwrap()])
        .failed(2);
}

#[test]
fn a_detach_leaves_other_clients_alone() {
    let node = node();
    node.volume("v1");
    node.sim
        .call(
            "POST",
            "VolumesReassign",
            Some(serde_json::json!([{"volume": "os--volume-v1", "ro": [OTHER]}])),
        )
        .unwrap();
    node.run(&["connect", "v1", "--mode", "ro"]).ok();
    node.run(&["disconnect", "v1"]).ok();
    assert_eq!(node.attachments_of("os--volume-v1"), [(OTHER, false)]);
}
