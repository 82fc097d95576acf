//! Snapshots, volumes from snapshots, revert, group snapshots.

use serde_json::json;
use storpool_driver_core::{ErrorKind, Specs};

use crate::{GIB, env, snap, specs, vol};

#[tokio::test]
async fn snapshot_create_and_delete_are_idempotent() {
    let env = env();
    env.driver
        .create_volume("v", 1, &Specs::new())
        .await
        .unwrap();
    let snapshot = env.driver.create_snapshot("v", "s").await.unwrap();
    assert_eq!(snapshot.name, snap("s"));
    assert_eq!(snapshot.id, "s");
    assert_eq!(snapshot.volume.as_deref(), Some(vol("v").as_str()));
    assert_eq!(snapshot.size_bytes, GIB);
    let again = env.driver.create_snapshot("v", "s").await.unwrap();
    assert_eq!(again, snapshot);
    assert_eq!(env.snapshots(), [snap("s")]);
    let deleted = env.driver.delete_snapshot("s").await.unwrap();
    assert!(deleted.existed);
    let again = env.driver.delete_snapshot("s").await.unwrap();
    assert!(!again.existed);
    assert!(env.snapshots().is_empty());
    env.driver.delete_volume("v").await.unwrap();
    env.assert_empty();
}

#[tokio::test]
async fn a_snapshot_name_taken_by_another_volumes_snapshot_is_a_conflict() {
    let env = env();
    env.driver
        .create_volume("a", 1, &Specs::new())
        .await
        .unwrap();
    env.driver
        .create_volume("b", 1, &Specs::new())
        .await
        .unwrap();
    env.driver.create_snapshot("a", "s").await.unwrap();
    let err = env.driver.create_snapshot("b", "s").await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Conflict);
    assert!(err.to_string().contains(&vol("b")), "{err}");
    let err = env
        .driver
        .create_snapshot("missing", "t")
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound);
}

#[tokio::test]
async fn deleting_a_snapshot_detaches_it_first() {
    let env = env();
    env.driver
        .create_volume("v", 1, &Specs::new())
        .await
        .unwrap();
    env.driver.create_snapshot("v", "s").await.unwrap();
    env.sim
        .call(
            "POST",
            "VolumesReassign",
            Some(json!([{"snapshot": snap("s"), "ro": [2, 3]}])),
        )
        .unwrap();
    assert_eq!(env.state().attachments.len(), 2);
    env.driver.delete_snapshot("s").await.unwrap();
    assert!(env.state().attachments.is_empty());
    assert!(env.snapshots().is_empty());
}

#[tokio::test]
async fn a_volume_from_a_snapshot_inherits_its_template_unless_the_type_names_one() {
    let env = env();
    env.driver
        .create_volume("v", 1, &specs(&[("storpool_template", "hdd")]))
        .await
        .unwrap();
    env.driver.create_snapshot("v", "s").await.unwrap();
    let inherited = env
        .driver
        .create_volume_from_snapshot("a", "s", 2, &Specs::new())
        .await
        .unwrap();
    assert_eq!(inherited.template.as_deref(), Some("hdd"));
    assert_eq!(inherited.size_bytes, 2 * GIB);
    assert_eq!(
        inherited.parent_snapshot.as_deref(),
        Some(snap("s").as_str())
    );
    let honoured = env
        .driver
        .create_volume_from_snapshot(
            "b",
            "s",
            1,
            &specs(&[("storpool_template", "ssd"), ("total_iops_sec", "10")]),
        )
        .await
        .unwrap();
    assert_eq!(honoured.template.as_deref(), Some("ssd"));
    assert_eq!(honoured.replication, 3);
    assert_eq!(honoured.iops, Some(10));
    // Retried: same answer; other size: conflict.
    let again = env
        .driver
        .create_volume_from_snapshot("a", "s", 2, &Specs::new())
        .await
        .unwrap();
    assert_eq!(again, inherited);
    let err = env
        .driver
        .create_volume_from_snapshot("a", "s", 3, &Specs::new())
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Conflict);
    // The snapshot's data outlives the snapshot: deleting it keeps its children intact.
    env.driver.delete_snapshot("s").await.unwrap();
    for id in ["v", "a", "b"] {
        env.driver.delete_volume(id).await.unwrap();
    }
    env.assert_empty();
}

#[tokio::test]
async fn a_volume_from_a_missing_snapshot_is_not_found_naming_the_snapshot() {
    let env = env();
    let err = env
        .driver
        .create_volume_from_snapshot("a", "nope", 1, &Specs::new())
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound);
    assert!(err.to_string().contains(&snap("nope")), "{err}");
    env.assert_empty();
}

#[tokio::test]
async fn extend_then_revert_gives_the_snapshots_size_back() {
    let env = env();
    env.driver
        .create_volume("rev1", 1, &Specs::new())
        .await
        .unwrap();
    env.driver.create_snapshot("rev1", "rev-s1").await.unwrap();
    env.driver.extend_volume("rev1", 2).await.unwrap();
    let reverted = env
        .driver
        .revert_volume("rev1", "rev-s1", false)
        .await
        .unwrap();
    assert_eq!(reverted.size_bytes, GIB);
    assert_eq!(
        reverted.parent_snapshot.as_deref(),
        Some(snap("rev-s1").as_str())
    );
    env.driver.delete_snapshot("rev-s1").await.unwrap();
    env.driver.delete_volume("rev1").await.unwrap();
    env.assert_empty();
}

#[tokio::test]
async fn revert_can_keep_a_larger_size() {
    let env = env();
    env.driver
        .create_volume("v", 1, &Specs::new())
        .await
        .unwrap();
    env.driver.create_snapshot("v", "s").await.unwrap();
    env.driver.extend_volume("v", 3).await.unwrap();
    let reverted = env.driver.revert_volume("v", "s", true).await.unwrap();
    assert_eq!(reverted.size_bytes, 3 * GIB);
    assert_eq!(env.state().volume(&vol("v")).unwrap().size, 3 * GIB);
}

#[tokio::test]
async fn revert_errors_carry_the_clusters_description() {
    let env = env();
    env.driver
        .create_volume("rev1", 1, &Specs::new())
        .await
        .unwrap();
    env.driver.create_snapshot("rev1", "rev-s1").await.unwrap();
    env.driver.delete_snapshot("rev-s1").await.unwrap();
    let err = env
        .driver
        .revert_volume("rev1", "rev-s1", false)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound);
    let description = err.cluster_description().unwrap();
    assert!(description.contains(&snap("rev-s1")), "{description}");
    assert_eq!(err.cluster_error().unwrap().name, "objectDoesNotExist");
    env.driver.delete_volume("rev1").await.unwrap();
    let err = env
        .driver
        .revert_volume("rev1", "rev-s1", false)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound);
    assert!(
        err.cluster_description().unwrap().contains(&vol("rev1")),
        "{err:?}"
    );
    // Another volume's snapshot is refused.
    env.driver
        .create_volume("a", 1, &Specs::new())
        .await
        .unwrap();
    env.driver
        .create_volume("b", 1, &Specs::new())
        .await
        .unwrap();
    env.driver.create_snapshot("b", "of-b").await.unwrap();
    let err = env
        .driver
        .revert_volume("a", "of-b", false)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Refused);
    assert!(err.cluster_description().is_some());
}

#[tokio::test]
async fn a_group_snapshot_is_one_consistent_set_and_volumes_come_from_it() {
    let env = env();
    env.driver
        .create_volume("a", 1, &Specs::new())
        .await
        .unwrap();
    env.driver
        .create_volume("b", 2, &specs(&[("storpool_template", "ssd")]))
        .await
        .unwrap();
    let group = env
        .driver
        .create_group_snapshot("g1", &["a", "b"])
        .await
        .unwrap();
    assert_eq!(group.id, "g1");
    let names: Vec<&str> = group.snapshots.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(
        names,
        ["os--group--g1--snapshot-a", "os--group--g1--snapshot-b"]
    );
    assert_eq!(group.snapshots[1].id, "b");
    assert_eq!(group.snapshots[1].template.as_deref(), Some("ssd"));
    // A retry after a lost answer finds the same set.
    let again = env
        .driver
        .create_group_snapshot("g1", &["a", "b"])
        .await
        .unwrap();
    assert_eq!(again, group);
    let restored = env
        .driver
        .create_volume_from_group_snapshot("c", "g1", "b", 2, &Specs::new())
        .await
        .unwrap();
    assert_eq!(restored.template.as_deref(), Some("ssd"));
    assert_eq!(
        restored.parent_snapshot.as_deref(),
        Some("os--group--g1--snapshot-b")
    );
    let deleted = env.driver.delete_group_snapshot("g1").await.unwrap();
    assert_eq!(deleted.deleted.len(), 2);
    let again = env.driver.delete_group_snapshot("g1").await.unwrap();
    assert!(again.deleted.is_empty());
    for id in ["a", "b", "c"] {
        env.driver.delete_volume(id).await.unwrap();
    }
    env.assert_empty();
}

#[tokio::test]
async fn bad_group_snapshots_are_refused_and_leave_nothing() {
    let env = env();
    env.driver
        .create_volume("a", 1, &Specs::new())
        .await
        .unwrap();
    let none: [&str; 0] = [];
    let err = env
        .driver
        .create_group_snapshot("g", &none)
        .await
        .unwrap_err();
    assert!(err.is_user_error());
    let err = env
        .driver
        .create_group_snapshot("g", &["a", "a"])
        .await
        .unwrap_err();
    assert!(
        err.is_user_error() && err.to_string().contains("twice"),
        "{err}"
    );
    let err = env
        .driver
        .create_group_snapshot("g", &["a", "missing"])
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound);
    assert!(
        env.snapshots().is_empty(),
        "all or nothing: {:?}",
        env.snapshots()
    );
}

#[tokio::test]
async fn revert_brings_the_snapshots_data_back() {
    let env = crate::env_with(
        storpool_sim::Sim::builder().serve_client(1),
        storpool_driver_core::DriverOptions::new(),
    );
    env.driver
        .create_volume("v", 1, &Specs::new())
        .await
        .unwrap();
    crate::write_through_device(&env, &vol("v"), b"before");
    env.driver.create_snapshot("v", "s").await.unwrap();
    crate::write_through_device(&env, &vol("v"), b"after!");
    let from = env
        .driver
        .create_volume_from_snapshot("w", "s", 1, &Specs::new())
        .await
        .unwrap();
    assert_eq!(from.size_gib, 1);
    env.driver.revert_volume("v", "s", false).await.unwrap();
    assert_eq!(crate::read_through_device(&env, &vol("v"), 6), b"before");
    assert_eq!(crate::read_through_device(&env, &vol("w"), 6), b"before");
}

#[tokio::test]
async fn a_group_snapshot_of_named_members_gives_ordinary_snapshots_of_their_own_ids() {
    let env = env();
    let ssd = specs(&[("storpool_template", "ssd")]);
    for id in ["a", "b"] {
        env.driver.create_volume(id, 1, &ssd).await.unwrap();
    }
    let members = [("a", "snap-a"), ("b", "snap-b")];
    let group = env
        .driver
        .create_group_snapshot_of("cg", &members)
        .await
        .unwrap();
    let names: Vec<&str> = group.snapshots.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, [snap("snap-a"), snap("snap-b")]);
    assert_eq!(group.snapshots[0].id, "snap-a");
    assert_eq!(group.snapshots[0].volume.as_deref(), Some("os--volume-a"));
    // A retry after a lost answer finds the same set.
    let again = env
        .driver
        .create_group_snapshot_of("cg", &members)
        .await
        .unwrap();
    assert_eq!(again, group);
    // Every snapshot operation works on the members by their own ids.
    env.driver
        .create_volume_from_snapshot("c", "snap-b", 1, &Specs::new())
        .await
        .unwrap();
    env.driver
        .revert_volume("a", "snap-a", false)
        .await
        .unwrap();
    for id in ["snap-a", "snap-b"] {
        assert!(env.driver.delete_snapshot(id).await.unwrap().existed);
    }
    let twice = env
        .driver
        .create_group_snapshot_of("cg2", &[("a", "x"), ("b", "x")])
        .await
        .unwrap_err();
    assert!(twice.is_user_error());
    assert!(twice.to_string().contains("`x` is listed twice"), "{twice}");
    for id in ["a", "b", "c"] {
        env.driver.delete_volume(id).await.unwrap();
    }
    env.assert_empty();
}

#[tokio::test]
async fn snapshots_group_snapshots_and_templates_are_listed() {
    let env = env();
    env.sim.seed_template("fast", Some(2), None).unwrap();
    for id in ["a", "b"] {
        env.driver
            .create_volume(id, 1, &Specs::new())
            .await
            .unwrap();
    }
    env.driver.create_snapshot("a", "s1").await.unwrap();
    env.driver.create_snapshot("b", "s2").await.unwrap();
    env.driver
        .create_group_snapshot("g", &["a", "b"])
        .await
        .unwrap();
    let ids = |list: Vec<storpool_driver_core::Snapshot>| {
        list.into_iter().map(|s| s.id).collect::<Vec<_>>()
    };
    assert_eq!(
        ids(env.driver.list_snapshots(None).await.unwrap()),
        ["s1", "s2"]
    );
    assert_eq!(
        ids(env.driver.list_snapshots(Some("b")).await.unwrap()),
        ["s2"]
    );
    let err = env.driver.list_snapshots(Some("nope")).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound);
    let shown = env.driver.get_snapshot("s1").await.unwrap();
    assert_eq!(shown.volume.as_deref(), Some(vol("a").as_str()));
    assert_eq!(
        env.driver.get_snapshot("s9").await.unwrap_err().kind(),
        ErrorKind::NotFound
    );
    let groups = env.driver.list_group_snapshots().await.unwrap();
    assert_eq!(groups.len(), 1);
    assert_eq!(groups[0].id, "g");
    assert_eq!(ids(groups[0].snapshots.clone()), ["a", "b"]);
    let templates = env.driver.list_templates().await.unwrap();
    let names: Vec<&str> = templates.iter().map(|t| t.name.as_str()).collect();
    let mut sorted = names.clone();
    sorted.sort_unstable();
    assert_eq!(names, sorted);
    let fast = templates.iter().find(|t| t.name == "fast").unwrap();
    assert_eq!(fast.replication, Some(2));
    assert_eq!(fast.place_all.as_deref(), Some("default"));
    assert!(fast.capacity_bytes.unwrap() >= fast.free_bytes.unwrap());
    assert_eq!(fast.volumes, Some(0));
}
