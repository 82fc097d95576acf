//! Injected faults during every operation: transient errors and dropped connections are
//! ridden out; answers lost after the cluster acted do not make an operation fail or
//! repeat; persistent failures leave nothing behind.

use storpool_api::{Client, RetryPolicy};
use storpool_driver_core::{Driver, DriverOptions, ErrorKind, Specs};
use storpool_sim::{Faults, InjectedError, Sim};

use crate::proxy::Proxy;
use crate::{Env, GIB, clone_snap, env, env_with, specs, vol};

/// Every operation once, checking each result; ends with everything deleted.
async fn lifecycle(driver: &Driver, env: &Env) {
    let ssd = specs(&[("storpool_template", "ssd")]);
    let hdd_qos = specs(&[("storpool_template", "hdd"), ("total_iops_sec", "500")]);
    let plain = Specs::new();

    let a = driver.create_volume("a", 1, &plain).await.unwrap();
    assert_eq!(a.size_bytes, GIB);
    let b = driver.create_volume("b", 2, &ssd).await.unwrap();
    assert_eq!(b.template.as_deref(), Some("ssd"));
    driver.extend_volume("a", 2).await.unwrap();
    driver.create_snapshot("a", "s1").await.unwrap();
    driver.extend_volume("a", 3).await.unwrap();
    let reverted = driver.revert_volume("a", "s1", false).await.unwrap();
    assert_eq!(reverted.size_bytes, 2 * GIB);
    let from = driver
        .create_volume_from_snapshot("c", "s1", 2, &ssd)
        .await
        .unwrap();
    assert_eq!(from.template.as_deref(), Some("ssd"));
    let same = driver.clone_volume("d", "b", 2, &ssd).await.unwrap();
    assert_eq!(same.template.as_deref(), Some("ssd"));
    let across = driver.clone_volume("e", "a", 2, &hdd_qos).await.unwrap();
    assert_eq!(
        (across.template.as_deref(), across.iops),
        (Some("hdd"), Some(500))
    );
    let retyped = driver.retype_volume("d", &hdd_qos, false).await.unwrap();
    assert!(retyped.retyped);
    let group = driver
        .create_group_snapshot("g", &["a", "b"])
        .await
        .unwrap();
    assert_eq!(group.snapshots.len(), 2);
    driver
        .create_volume_from_group_snapshot("f", "g", "b", 2, &plain)
        .await
        .unwrap();
    let migrated = driver.finish_migration("c", "f", None).await.unwrap();
    assert_eq!(migrated.name_id, None);
    driver.manage_volume("m", "foreign").await.unwrap();
    driver.unmanage_volume("m").await.unwrap();
    let stats = driver.stats().await.unwrap();
    // default, replication_1, replication_2, template_ssd, template_hdd.
    assert_eq!(stats.pools.len(), 5);
    let listed = driver.list_volumes().await.unwrap();
    let ids: Vec<&str> = listed.iter().map(|v| v.id.as_str()).collect();
    assert_eq!(ids, ["a", "b", "c", "d", "e", "f"]);

    driver.delete_group_snapshot("g").await.unwrap();
    driver.delete_snapshot("s1").await.unwrap();
    for id in ["a", "b", "c", "d", "e", "f"] {
        driver.delete_volume(id).await.unwrap();
    }
    assert_eq!(env.volumes(), ["unmanaged--os--volume-m"]);
    assert!(env.snapshots().is_empty(), "{:?}", env.snapshots());
}

fn patient_driver(sim: &Sim) -> Driver {
    let client = Client::builder()
        .base_url(sim.base_url())
        .token(sim.token())
        .retry(RetryPolicy::immediate(15))
        .build()
        .unwrap();
    Driver::new(client, DriverOptions::new()).unwrap()
}

#[tokio::test]
async fn every_operation_completes_without_faults() {
    let env = env();
    env.sim.seed_volume("foreign", GIB, None).unwrap();
    lifecycle(&env.driver, &env).await;
}

#[tokio::test]
async fn every_operation_completes_through_transient_errors_and_dropped_connections() {
    let env = env_with(
        Sim::builder().faults(Faults {
            seed: 20_240_501,
            error_rate: 0.25,
            drop_rate: 0.1,
            ..Faults::default()
        }),
        DriverOptions::new(),
    );
    env.sim
        .call(
            "POST",
            "VolumeCreate",
            Some(serde_json::json!({
                "name": "foreign", "size": GIB, "replication": 2
            })),
        )
        .unwrap();
    lifecycle(&patient_driver(&env.sim), &env).await;
    assert!(env.sim.faults().error_rate > 0.0);
}

#[tokio::test]
async fn answers_lost_after_the_cluster_acted_neither_fail_nor_repeat_operations() {
    let env = env();
    env.sim.seed_volume("foreign", GIB, None).unwrap();
    let proxy = Proxy::start(&env.sim).await;
    for call in [
        "VolumeCreate",
        "VolumeUpdate",
        "VolumeSnapshot",
        "VolumeRevert",
        "SnapshotUpdate",
        "SnapshotDelete",
        "VolumeDelete",
        "VolumesReassign",
        "VolumesGroupSnapshot",
    ] {
        // The first and the fourth call of each kind lose their answers.
        proxy.drop_answers(call, 0, 1);
        proxy.drop_answers(call, 2, 1);
    }
    let driver = proxy.driver(&env.sim, DriverOptions::new());
    lifecycle(&driver, &env).await;
    let seen = proxy.seen();
    // Each lost answer cost exactly one retry, which found the work done.
    assert_eq!(
        seen.iter().filter(|c| *c == "POST VolumeCreate").count(),
        8,
        "{seen:?}"
    );
}

#[tokio::test]
async fn a_create_whose_answer_was_lost_is_not_an_error() {
    let env = env();
    let proxy = Proxy::start(&env.sim).await;
    proxy.drop_answers("VolumeCreate", 0, 1);
    let driver = proxy.driver(&env.sim, DriverOptions::new());
    let volume = driver
        .create_volume("1", 4, &specs(&[("storpool_template", "hdd")]))
        .await
        .unwrap();
    assert_eq!(volume.size_bytes, 4 * GIB);
    assert_eq!(
        proxy.seen(),
        ["POST VolumeCreate", "POST VolumeCreate", "GET Volume"],
        "the retry found the volume and checked it"
    );
    assert_eq!(env.volumes(), [vol("1")]);
}

#[tokio::test]
async fn persistent_failures_of_each_step_leave_nothing_behind() {
    for (call, across) in [
        ("VolumeCreate", false),
        ("VolumeCreate", true),
        ("VolumeSnapshot", true),
        ("SnapshotUpdate", true),
        ("Snapshot", true),
    ] {
        let env = env();
        env.driver
            .create_volume("src", 1, &Specs::new())
            .await
            .unwrap();
        let before = (env.volumes(), env.snapshots());
        env.sim.inject_error(InjectedError {
            call: Some(call.to_owned()),
            times: u32::MAX,
            name: "invalidParam".to_owned(),
            descr: format!("{call} refused"),
            transient: false,
            status: 500,
        });
        let target = if across {
            specs(&[("storpool_template", "ssd")])
        } else {
            Specs::new()
        };
        let err = env
            .driver
            .clone_volume("dst", "src", 1, &target)
            .await
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Refused, "{call}");
        assert_eq!(
            err.cluster_description(),
            Some(format!("{call} refused").as_str())
        );
        env.sim.set_faults(Faults::default());
        assert_eq!(
            (env.volumes(), env.snapshots()),
            before,
            "{call} across={across}"
        );
        assert!(env.state().snapshot(&clone_snap("dst")).is_none());
    }
}

#[tokio::test]
async fn a_failed_group_snapshot_or_create_from_snapshot_leaves_nothing() {
    let env = env();
    env.driver
        .create_volume("a", 1, &Specs::new())
        .await
        .unwrap();
    env.driver.create_snapshot("a", "s").await.unwrap();
    env.sim.inject_error(InjectedError {
        call: Some("VolumesGroupSnapshot".to_owned()),
        times: 1,
        name: "insufficientResources".to_owned(),
        descr: "full".to_owned(),
        transient: false,
        status: 500,
    });
    let err = env
        .driver
        .create_group_snapshot("g", &["a"])
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Refused);
    env.sim.inject_error(InjectedError {
        call: Some("VolumeCreate".to_owned()),
        times: 1,
        name: "insufficientResources".to_owned(),
        descr: "full".to_owned(),
        transient: false,
        status: 500,
    });
    let err = env
        .driver
        .create_volume_from_snapshot("b", "s", 1, &Specs::new())
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Refused);
    assert_eq!(env.volumes(), [vol("a")]);
    assert_eq!(env.snapshots(), [crate::snap("s")]);
}
