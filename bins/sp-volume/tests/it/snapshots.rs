//! Snapshots: create, delete, volumes from them, revert, group snapshots.

use crate::{DeletionJson, GIB, GroupDeletionJson, GroupJson, SnapshotJson, VolumeJson, node};

#[test]
fn snapshot_create_from_it_and_delete() {
    let node = node();
    node.run(&["create", "v1", "--size", "1"]).ok();
    let snapshot: SnapshotJson = node.run(&["snapshot", "v1", "s1", "--json"]).json();
    assert_eq!(snapshot.id, "s1");
    assert_eq!(snapshot.name, "os--snap--none--snapshot-s1");
    assert_eq!(snapshot.volume.as_deref(), Some("os--volume-v1"));
    assert_eq!(snapshot.size_bytes, GIB);
    assert!(
        node.sim
            .state()
            .snapshot("os--snap--none--snapshot-s1")
            .is_some()
    );

    let child: VolumeJson = node
        .run(&["create-from-snapshot", "v2", "s1", "--size", "3", "--json"])
        .json();
    assert_eq!(
        child.parent_snapshot.as_deref(),
        Some("os--snap--none--snapshot-s1")
    );
    assert_eq!(child.size_gib, 3);

    let text = node.run(&["snapshot", "v1", "s2"]).ok().to_owned();
    assert!(
        text.contains("name       os--snap--none--snapshot-s2\n"),
        "{text}"
    );

    let deleted: DeletionJson = node.run(&["delete-snapshot", "s2", "--json"]).json();
    assert!(deleted.existed);
    let again: DeletionJson = node.run(&["delete-snapshot", "s2", "--json"]).json();
    assert!(!again.existed);
    let line = node
        .run(&["create-from-snapshot", "v3", "s2", "--size", "1"])
        .failed(1)
        .to_owned();
    assert!(line.contains("os--snap--none--snapshot-s2"), "{line}");
}

#[test]
fn revert_goes_back_to_the_snapshot_and_can_keep_a_larger_size() {
    let node = node();
    node.run(&["create", "v1", "--size", "1"]).ok();
    node.run(&["snapshot", "v1", "s1"]).ok();
    node.run(&["extend", "v1", "--size", "2"]).ok();
    let kept: VolumeJson = node
        .run(&["revert", "v1", "s1", "--keep-size", "--json"])
        .json();
    assert_eq!(kept.size_gib, 2);
    let reverted: VolumeJson = node.run(&["revert", "v1", "s1", "--json"]).json();
    assert_eq!(reverted.size_gib, 1);
    node.run(&["create", "other", "--size", "1"]).ok();
    let line = node.run(&["revert", "other", "s1"]).failed(1).to_owned();
    assert!(
        line.contains("revert volume failed on volume `os--volume-other`"),
        "{line}"
    );
}

#[test]
fn group_snapshots_are_taken_used_and_deleted_together() {
    let node = node();
    node.run(&["create", "a", "--size", "1"]).ok();
    node.run(&["create", "b", "--size", "2"]).ok();
    let group: GroupJson = node
        .run(&["group-snapshot", "g1", "a", "b", "--json"])
        .json();
    assert_eq!(group.id, "g1");
    let names: Vec<&str> = group.snapshots.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(
        names,
        ["os--group--g1--snapshot-a", "os--group--g1--snapshot-b"]
    );
    let from: VolumeJson = node
        .run(&[
            "create-from-group-snapshot",
            "c",
            "g1",
            "b",
            "--size",
            "2",
            "--json",
        ])
        .json();
    assert_eq!(
        from.parent_snapshot.as_deref(),
        Some("os--group--g1--snapshot-b")
    );
    let deleted: GroupDeletionJson = node.run(&["delete-group-snapshot", "g1", "--json"]).json();
    assert_eq!(deleted.id, "g1");
    assert_eq!(deleted.deleted.len(), 2);
    // A volume twice, or one that does not exist.
    let line = node
        .run(&["group-snapshot", "g2", "a", "a"])
        .failed(2)
        .to_owned();
    assert!(line.contains("invalid group snapshot `g2`"), "{line}");
    node.run(&["group-snapshot", "g3", "a", "missing"])
        .failed(1);
    assert!(
        node.sim
            .state()
            .snapshot("os--group--g3--snapshot-a")
            .is_none(),
        "all or nothing"
    );
}
