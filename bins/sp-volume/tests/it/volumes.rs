//! Volumes: create, show, list, extend, clone, delete.

use crate::{DeletionJson, GIB, ListJson, VolumeJson, node};

#[test]
fn create_prints_the_volume_and_the_cluster_has_it() {
    let node = node();
    let volume: VolumeJson = node.run(&["--json", "create", "v1", "--size", "2"]).json();
    assert_eq!(volume.id, "v1");
    assert_eq!(volume.name, "os--volume-v1");
    assert_eq!((volume.size_gib, volume.size_bytes), (2, 2 * GIB));
    assert_eq!(volume.template, None);
    assert_eq!(volume.replication, 3);
    assert_eq!((volume.iops, volume.bw), (None, None));
    let state = node.volume("os--volume-v1").unwrap();
    assert_eq!(state.size, 2 * GIB);
    assert_eq!(state.global_id, volume.global_id);
    // Text: one `key value` line per field.
    let text = node.run(&["show", "v1"]).ok().to_owned();
    assert!(text.contains("name         os--volume-v1\n"), "{text}");
    assert!(
        text.contains("size         2 GiB (2147483648 bytes)\n"),
        "{text}"
    );
    assert!(text.contains("iops         unlimited\n"), "{text}");
}

#[test]
fn create_again_with_the_same_size_is_done_and_with_another_is_a_conflict() {
    let node = node();
    node.run(&["create", "v1", "--size", "1"]).ok();
    let again: VolumeJson = node.run(&["create", "v1", "--size", "1", "--json"]).json();
    assert_eq!(again.size_gib, 1);
    let run = node.run(&["create", "v1", "--size", "3"]);
    let line = run.failed(1);
    assert!(line.contains("already exists and differs"), "{line}");
    assert!(line.contains("not the 3 GiB asked for"), "{line}");
}

#[test]
fn list_shows_only_this_tools_volumes_in_a_table_or_json() {
    let node = node();
    node.run(&["create", "b", "--size", "1"]).ok();
    node.run(&["create", "a", "--size", "2"]).ok();
    node.sim.seed_volume("foreign", GIB, None).unwrap();
    let list: ListJson = node.run(&["list", "--json"]).json();
    let ids: Vec<&str> = list.volumes.iter().map(|v| v.id.as_str()).collect();
    assert_eq!(ids, ["a", "b"]);
    let text = node.run(&["list"]).ok().to_owned();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 3, "{text}");
    assert!(lines[0].starts_with("ID  NAME"), "{text}");
    assert!(lines[1].starts_with("a   os--volume-a  2 GiB"), "{text}");
    // Nothing at all: the header only, and an empty list.
    let empty = crate::node();
    assert_eq!(
        empty.run(&["list"]).ok(),
        "ID  NAME  SIZE  TEMPLATE  GLOBAL_ID  PARENT\n"
    );
    assert!(
        empty
            .run(&["list", "--json"])
            .json::<ListJson>()
            .volumes
            .is_empty()
    );
}

#[test]
fn extend_grows_and_a_smaller_size_is_refused_by_the_cluster() {
    let node = node();
    node.run(&["create", "v1", "--size", "1"]).ok();
    let grown: VolumeJson = node.run(&["extend", "v1", "--size", "4", "--json"]).json();
    assert_eq!(grown.size_bytes, 4 * GIB);
    assert_eq!(node.volume("os--volume-v1").unwrap().size, 4 * GIB);
    let line = node
        .run(&["extend", "v1", "--size", "2"])
        .failed(1)
        .to_owned();
    assert!(
        line.contains("extend volume failed on volume `os--volume-v1`"),
        "{line}"
    );
    assert_eq!(node.volume("os--volume-v1").unwrap().size, 4 * GIB);
    let line = node
        .run(&["extend", "nope", "--size", "2"])
        .failed(1)
        .to_owned();
    assert!(line.contains("objectDoesNotExist"), "{line}");
}

#[test]
fn clone_copies_a_volume_thinly() {
    let node = node();
    node.run(&["create", "src", "--size", "1"]).ok();
    let clone: VolumeJson = node
        .run(&["clone", "dst", "src", "--size", "2", "--json"])
        .json();
    assert_eq!(clone.name, "os--volume-dst");
    assert_eq!(clone.size_gib, 2);
    assert!(node.volume("os--volume-dst").is_some());
    let line = node
        .run(&["clone", "x", "missing", "--size", "1"])
        .failed(1)
        .to_owned();
    assert!(line.contains("os--volume-missing"), "{line}");
}

#[test]
fn delete_is_done_even_when_the_volume_is_already_gone() {
    let node = node();
    node.run(&["create", "v1", "--size", "1"]).ok();
    let gone: DeletionJson = node.run(&["delete", "v1", "--json"]).json();
    assert_eq!(
        gone,
        DeletionJson {
            id: "v1".to_owned(),
            name: "os--volume-v1".to_owned(),
            existed: true
        }
    );
    assert!(node.volume("os--volume-v1").is_none());
    let again: DeletionJson = node.run(&["delete", "v1", "--json"]).json();
    assert!(!again.existed);
    assert_eq!(
        node.run(&["delete", "v1"]).ok(),
        "volume `v1` (os--volume-v1) did not exist: nothing to delete\n"
    );
}

#[test]
fn global_options_work_before_and_after_the_subcommand() {
    let node = node();
    let before: VolumeJson = node
        .run(&[
            "--json",
            "-q",
            "--default-replication",
            "2",
            "create",
            "a",
            "--size",
            "1",
        ])
        .json();
    let after: VolumeJson = node
        .run(&[
            "create",
            "b",
            "--size",
            "1",
            "--default-replication",
            "2",
            "-q",
            "--json",
        ])
        .json();
    assert_eq!(before.replication, 2);
    assert_eq!(after.replication, 2);
}
