//! Existing volumes (manageable, manage, unmanage) and migrations.

use crate::{GIB, ManageableListJson, UnmanagedJson, VolumeJson, node};

#[test]
fn foreign_volumes_can_be_listed_adopted_and_released() {
    let node = node();
    let gid = node.sim.seed_volume("legacy", GIB + 512, None).unwrap();
    node.run(&["create", "mine", "--size", "1"]).ok();
    let list: ManageableListJson = node.run(&["manageable", "--json"]).json();
    assert_eq!(list.volumes.len(), 1);
    let legacy = &list.volumes[0];
    assert_eq!(legacy.name, "legacy");
    assert_eq!(legacy.size_gib, 2, "rounded up");
    assert_eq!(
        (legacy.global_id.as_str(), legacy.size_bytes),
        (gid.as_str(), GIB + 512)
    );
    assert_eq!(legacy.template, None);
    assert!(legacy.safe_to_manage);
    assert_eq!(legacy.reason_not_safe, None);
    assert!(node.run(&["manageable"]).ok().contains("legacy  2 GiB"));

    let managed: VolumeJson = node.run(&["manage", "adopted", "legacy", "--json"]).json();
    assert_eq!(managed.name, "os--volume-adopted");
    assert_eq!(managed.size_bytes, 2 * GIB, "grown to whole GiB");
    assert!(node.volume("legacy").is_none());

    let released: UnmanagedJson = node.run(&["unmanage", "adopted", "--json"]).json();
    assert_eq!(released.id, "adopted");
    assert_eq!(released.name, "unmanaged--os--volume-adopted");
    assert!(node.volume("unmanaged--os--volume-adopted").is_some());
    let line = node
        .run(&["manage", "x", "os--volume-mine"])
        .failed(2)
        .to_owned();
    assert!(line.contains("os--volume-mine"), "{line}");
}

#[test]
fn finish_migration_prints_the_model_update() {
    let node = node();
    node.run(&["create", "orig", "--size", "1"]).ok();
    node.run(&["create", "temp", "--size", "2"]).ok();
    let temp_gid = node.volume("os--volume-temp").unwrap().global_id;
    // Both exist: the names are swapped.
    let run = node.run(&["finish-migration", "orig", "temp", "--json"]);
    assert_eq!(run.ok(), "{\"_name_id\":null}\n");
    assert_eq!(node.volume("os--volume-orig").unwrap().global_id, temp_gid);
    // The temporary volume is gone: the update names the id that holds the data.
    let run = node.run(&[
        "finish-migration",
        "orig",
        "gone",
        "--temp-name-id",
        "n1",
        "--json",
    ]);
    assert_eq!(run.ok(), "{\"_name_id\":\"n1\"}\n");
    let update: crate::MigrationJson = run.json();
    assert_eq!(update.name_id.as_deref(), Some("n1"));
    let text = node
        .run(&["finish-migration", "orig", "gone"])
        .ok()
        .to_owned();
    assert!(text.contains("(_name_id: gone)"), "{text}");
    let line = node
        .run(&["finish-migration", "orig", "orig"])
        .failed(2)
        .to_owned();
    assert!(line.contains("the same"), "{line}");
}

#[test]
fn finish_migration_run_again_keeps_the_migrated_data_under_the_original_name() {
    let node = node();
    node.run(&["create", "orig", "--size", "1"]).ok();
    node.run(&["create", "temp", "--size", "2"]).ok();
    let temp_gid = node.volume("os--volume-temp").unwrap().global_id;
    for _ in 0..2 {
        let run = node.run(&["finish-migration", "orig", "temp", "--json"]);
        assert_eq!(run.ok(), "{\"_name_id\":null}\n");
        assert_eq!(node.volume("os--volume-orig").unwrap().global_id, temp_gid);
    }
}
