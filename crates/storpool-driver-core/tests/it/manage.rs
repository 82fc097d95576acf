//! Managing existing volumes.

use serde_json::json;
use storpool_driver_core::{ErrorKind, Specs};

use crate::{GIB, env, vol};

#[tokio::test]
async fn manageable_lists_foreign_volumes_with_safety_flags() {
    let env = env();
    env.driver
        .create_volume("ours", 1, &Specs::new())
        .await
        .unwrap();
    env.sim
        .seed_volume("plain", 3 * GIB / 2, Some("ssd"))
        .unwrap();
    env.sim.seed_volume("busy-one", GIB, None).unwrap();
    env.sim
        .call(
            "POST",
            "VolumesReassign",
            Some(json!([{"volume": "busy-one", "rw": [2]}])),
        )
        .unwrap();
    let listed = env.driver.manageable_volumes().await.unwrap();
    let names: Vec<&str> = listed.iter().map(|v| v.name.as_str()).collect();
    assert_eq!(names, ["busy-one", "plain"]);
    assert!(!listed[0].safe_to_manage);
    assert_eq!(
        listed[0].reason_not_safe.as_deref(),
        Some("attached to a client")
    );
    assert!(listed[1].safe_to_manage);
    assert_eq!(listed[1].size_gib, 2);
    assert_eq!(listed[1].size_bytes, 3 * GIB / 2);
    assert_eq!(listed[1].template.as_deref(), Some("ssd"));
}

#[tokio::test]
async fn manage_adopts_a_volume_rounding_its_size_up_and_unmanage_releases_it() {
    let env = env();
    let gid = env.sim.seed_volume("legacy", 3 * GIB / 2, None).unwrap();
    let managed = env.driver.manage_volume("7", "legacy").await.unwrap();
    assert_eq!(managed.name, vol("7"));
    assert_eq!(managed.global_id, gid);
    assert_eq!(managed.size_bytes, 2 * GIB, "grown to a whole GiB");
    assert_eq!(env.volumes(), [vol("7")]);
    // Retried (the answer was lost): the volume is already ours.
    let again = env.driver.manage_volume("7", "legacy").await.unwrap();
    assert_eq!(again, managed);
    let released = env.driver.unmanage_volume("7").await.unwrap();
    assert_eq!(released.name, "unmanaged--os--volume-7");
    assert_eq!(env.volumes(), ["unmanaged--os--volume-7"]);
    assert!(env.driver.list_volumes().await.unwrap().is_empty());
    let listed = env.driver.manageable_volumes().await.unwrap();
    assert_eq!(listed[0].name, "unmanaged--os--volume-7");
    // Releasing again is fine; managing it again works.
    env.driver.unmanage_volume("7").await.unwrap();
    let back = env
        .driver
        .manage_volume("8", "unmanaged--os--volume-7")
        .await
        .unwrap();
    assert_eq!(back.global_id, gid);
}

#[tokio::test]
async fn manage_by_global_id_works_and_refusals_name_the_volume() {
    let env = env();
    let gid = env.sim.seed_volume("by-gid", GIB, None).unwrap();
    let managed = env
        .driver
        .manage_volume("1", &format!("~{gid}"))
        .await
        .unwrap();
    assert_eq!(managed.name, vol("1"));
    let err = env.driver.manage_volume("2", &vol("1")).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
    assert!(err.to_string().contains(&vol("1")), "{err}");
    let err = env.driver.manage_volume("2", "#system").await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
    let err = env.driver.manage_volume("2", "missing").await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound);
    assert!(err.to_string().contains("missing"), "{err}");
    env.sim.seed_volume("taken", GIB, None).unwrap();
    let err = env.driver.manage_volume("1", "taken").await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Conflict);
    let err = env.driver.unmanage_volume("nope").await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound);
}
