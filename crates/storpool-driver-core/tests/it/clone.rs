//! Clones: the reference's matrix across templates, clean-up, interrupted clones.

use serde_json::json;
use storpool_driver_core::{ErrorKind, Specs, TRANSIENT_TAG};
use storpool_sim::InjectedError;

use crate::{
    GIB, clone_snap, env, read_through_device, specs, vol, volume_types, write_through_device,
};

#[tokio::test]
async fn the_clone_matrix_uses_base_on_within_a_template_and_a_snapshot_across() {
    for (source_template, source_specs) in volume_types() {
        for (target_template, target_specs) in volume_types() {
            let env = env();
            env.driver
                .create_volume("1", 1, &source_specs)
                .await
                .unwrap();
            let clone = env
                .driver
                .clone_volume("2", "1", 2, &target_specs)
                .await
                .unwrap();
            let case = format!("{source_template:?} -> {target_template:?}");
            // A volume cannot leave its template: cloning to "no template" keeps the source's
            // (see docs/operations.md).
            let expected = target_template.or(source_template);
            assert_eq!(clone.template.as_deref(), expected, "{case}");
            assert_eq!(clone.size_bytes, 2 * GIB, "{case}");
            let state = env.state();
            let parent = state.volume(&vol("2")).unwrap().parent.clone().unwrap();
            if source_template == target_template {
                assert!(
                    state.snapshot(&clone_snap("2")).is_none(),
                    "{case}: no clone snapshot with baseOn"
                );
                let transient = state.snapshot(&parent).unwrap();
                assert!(
                    transient.transient,
                    "{case}: baseOn's own transient snapshot"
                );
            } else {
                assert_eq!(parent, clone_snap("2"), "{case}");
                let snapshot = state.snapshot(&clone_snap("2")).unwrap();
                assert!(snapshot.bound, "{case}: bound to its children");
                assert_eq!(
                    snapshot.tags.get(TRANSIENT_TAG.0).map(String::as_str),
                    Some(TRANSIENT_TAG.1),
                    "{case}"
                );
                if let Some(target) = target_template {
                    assert_eq!(snapshot.template.as_deref(), Some(target), "{case}");
                }
            }
            env.driver.delete_volume("1").await.unwrap();
            env.driver.delete_volume("2").await.unwrap();
            env.assert_empty();
        }
    }
}

#[tokio::test]
async fn a_clone_across_templates_leaves_nothing_when_the_clone_is_deleted_first() {
    let env = env();
    env.driver
        .create_volume("src", 1, &Specs::new())
        .await
        .unwrap();
    env.driver
        .clone_volume("dst", "src", 1, &specs(&[("storpool_template", "ssd")]))
        .await
        .unwrap();
    env.driver.delete_volume("dst").await.unwrap();
    assert_eq!(env.volumes(), [vol("src")]);
    assert!(
        env.snapshots().is_empty(),
        "the clone snapshot went with its clone: {:?}",
        env.snapshots()
    );
    env.driver.delete_volume("src").await.unwrap();
    env.assert_empty();
}

#[tokio::test]
async fn clone_then_extend_keeps_the_source() {
    let env = env();
    env.driver
        .create_volume("1", 1, &Specs::new())
        .await
        .unwrap();
    env.driver.extend_volume("1", 2).await.unwrap();
    env.driver
        .clone_volume("2", "1", 3, &Specs::new())
        .await
        .unwrap();
    let state = env.state();
    assert_eq!(state.volume(&vol("1")).unwrap().size, 2 * GIB);
    assert_eq!(state.volume(&vol("2")).unwrap().size, 3 * GIB);
    env.driver.delete_volume("1").await.unwrap();
    env.driver.delete_volume("2").await.unwrap();
    env.assert_empty();
}

#[tokio::test]
async fn the_source_template_is_read_from_the_cluster() {
    let env = env();
    // The source was created by someone else with template `hdd`; the caller's idea of its
    // type does not matter.
    env.sim.seed_volume(&vol("1"), GIB, Some("hdd")).unwrap();
    env.driver
        .clone_volume("2", "1", 1, &specs(&[("storpool_template", "hdd")]))
        .await
        .unwrap();
    assert!(
        env.state().snapshot(&clone_snap("2")).is_none(),
        "same template on the cluster: baseOn"
    );
}

#[tokio::test]
async fn a_clone_that_fails_half_way_removes_its_snapshot() {
    let env = env();
    env.driver
        .create_volume("1", 1, &Specs::new())
        .await
        .unwrap();
    env.sim.inject_error(InjectedError {
        call: Some("VolumeCreate".to_owned()),
        times: 1,
        name: "insufficientResources".to_owned(),
        descr: "no space left".to_owned(),
        transient: false,
        status: 500,
    });
    let err = env
        .driver
        .clone_volume("2", "1", 1, &specs(&[("storpool_template", "ssd")]))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Refused);
    assert_eq!(err.cluster_description(), Some("no space left"));
    assert_eq!(env.volumes(), [vol("1")]);
    assert!(env.snapshots().is_empty(), "{:?}", env.snapshots());
    // The source's data chain is intact and the clone can be retried.
    env.driver
        .clone_volume("2", "1", 1, &specs(&[("storpool_template", "ssd")]))
        .await
        .unwrap();
}

#[tokio::test]
async fn a_clone_failing_at_the_template_change_removes_its_snapshot() {
    let env = env();
    env.driver
        .create_volume("1", 1, &Specs::new())
        .await
        .unwrap();
    let err = env
        .driver
        .clone_volume("2", "1", 1, &specs(&[("storpool_template", "nvme")]))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound);
    assert!(err.to_string().contains(&clone_snap("2")), "{err}");
    assert_eq!(env.volumes(), [vol("1")]);
    assert!(env.snapshots().is_empty(), "{:?}", env.snapshots());
}

#[tokio::test]
async fn a_clone_interrupted_after_its_snapshot_is_rolled_back_by_the_next_call() {
    let env = env();
    env.driver
        .create_volume("1", 1, &Specs::new())
        .await
        .unwrap();
    // What a process killed after `VolumeSnapshot` leaves: the clone snapshot, no volume.
    env.sim
        .call(
            "POST",
            &format!("VolumeSnapshot/{}", vol("1")),
            Some(json!({"name": clone_snap("2")})),
        )
        .unwrap();
    let clone = env
        .driver
        .clone_volume("2", "1", 1, &specs(&[("storpool_template", "ssd")]))
        .await
        .unwrap();
    assert_eq!(clone.template.as_deref(), Some("ssd"));
    let state = env.state();
    let snapshot = state.snapshot(&clone_snap("2")).unwrap();
    assert!(snapshot.bound, "a fresh, self-collecting snapshot");
    assert_eq!(state.snapshots.len(), 1, "{:?}", env.snapshots());
    env.driver.delete_volume("2").await.unwrap();
    env.driver.delete_volume("1").await.unwrap();
    env.assert_empty();
}

#[tokio::test]
async fn a_clone_interrupted_after_its_volume_is_finished_by_the_next_call() {
    let env = env();
    env.driver
        .create_volume("1", 1, &Specs::new())
        .await
        .unwrap();
    // What the reference driver leaves when killed before its tagging step: snapshot moved to
    // the new template and the volume made from it, the snapshot neither bound nor tagged.
    env.sim
        .call(
            "POST",
            &format!("VolumeSnapshot/{}", vol("1")),
            Some(json!({"name": clone_snap("2")})),
        )
        .unwrap();
    env.sim
        .call(
            "POST",
            &format!("SnapshotUpdate/{}", clone_snap("2")),
            Some(json!({"template": "ssd"})),
        )
        .unwrap();
    env.sim
        .call(
            "POST",
            "VolumeCreate",
            Some(json!({"name": vol("2"), "size": GIB, "parent": clone_snap("2")})),
        )
        .unwrap();
    let clone = env
        .driver
        .clone_volume("2", "1", 1, &specs(&[("storpool_template", "ssd")]))
        .await
        .unwrap();
    assert_eq!(
        clone.parent_snapshot.as_deref(),
        Some(clone_snap("2").as_str())
    );
    let state = env.state();
    let snapshot = state.snapshot(&clone_snap("2")).unwrap();
    assert!(snapshot.bound);
    assert_eq!(
        snapshot.tags.get(TRANSIENT_TAG.0).map(String::as_str),
        Some(TRANSIENT_TAG.1)
    );
    env.driver.delete_volume("1").await.unwrap();
    env.driver.delete_volume("2").await.unwrap();
    env.assert_empty();
}

#[tokio::test]
async fn a_retried_clone_returns_the_same_volume_and_conflicts_are_reported() {
    let env = env();
    env.driver
        .create_volume("1", 1, &Specs::new())
        .await
        .unwrap();
    let ssd = specs(&[("storpool_template", "ssd")]);
    let first = env.driver.clone_volume("2", "1", 1, &ssd).await.unwrap();
    let again = env.driver.clone_volume("2", "1", 1, &ssd).await.unwrap();
    assert_eq!(first, again);
    assert_eq!(env.snapshots(), [clone_snap("2")]);
    let err = env
        .driver
        .clone_volume("2", "1", 5, &ssd)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Conflict);
    let same = env
        .driver
        .clone_volume("3", "1", 1, &Specs::new())
        .await
        .unwrap();
    assert_eq!(
        env.driver
            .clone_volume("3", "1", 1, &Specs::new())
            .await
            .unwrap(),
        same
    );
}

#[tokio::test]
async fn a_volume_cannot_be_cloned_onto_itself() {
    let env = env();
    env.driver
        .create_volume("1", 1, &Specs::new())
        .await
        .unwrap();
    let err = env
        .driver
        .clone_volume("1", "1", 1, &Specs::new())
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
    assert_eq!(env.volumes(), [vol("1")]);
}

#[tokio::test]
async fn cloning_a_missing_volume_is_not_found() {
    let env = env();
    let err = env
        .driver
        .clone_volume("2", "nope", 1, &Specs::new())
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound);
    assert!(err.to_string().contains(&vol("nope")), "{err}");
    env.assert_empty();
}

#[tokio::test]
async fn clone_applies_the_types_qos() {
    let env = env();
    env.driver
        .create_volume("1", 1, &Specs::new())
        .await
        .unwrap();
    let same = env
        .driver
        .clone_volume("2", "1", 1, &specs(&[("total_iops_sec", "100")]))
        .await
        .unwrap();
    assert_eq!(same.iops, Some(100));
    let across = env
        .driver
        .clone_volume(
            "3",
            "1",
            1,
            &specs(&[("storpool_template", "hdd"), ("storpool:bw", "50")]),
        )
        .await
        .unwrap();
    assert_eq!((across.iops, across.bw), (None, Some(50)));
}

#[tokio::test]
async fn clones_carry_the_data_and_removing_the_clone_snapshot_keeps_the_sources() {
    let env = crate::env_with(
        storpool_sim::Sim::builder().serve_client(1),
        storpool_driver_core::DriverOptions::new(),
    );
    env.driver
        .create_volume("src", 1, &Specs::new())
        .await
        .unwrap();
    write_through_device(&env, &vol("src"), b"first");
    env.driver
        .clone_volume("across", "src", 1, &specs(&[("storpool_template", "ssd")]))
        .await
        .unwrap();
    env.driver
        .clone_volume("same", "src", 1, &Specs::new())
        .await
        .unwrap();
    write_through_device(&env, &vol("src"), b"later");
    assert_eq!(read_through_device(&env, &vol("across"), 5), b"first");
    assert_eq!(read_through_device(&env, &vol("same"), 5), b"first");
    env.driver.delete_volume("across").await.unwrap();
    assert!(env.state().snapshot(&clone_snap("across")).is_none());
    assert_eq!(read_through_device(&env, &vol("src"), 5), b"later");
    assert_eq!(read_through_device(&env, &vol("same"), 5), b"first");
}
