//! Retype from the new type's specs alone, with the current state read from the cluster.

use serde_json::json;
use storpool_driver_core::{DriverOptions, ErrorKind, RetypeRefusal, Specs};

use crate::{env, specs, template, vol};

#[tokio::test]
async fn retype_changes_the_template_the_reference_would_crash_on() {
    let env = env();
    env.driver
        .create_volume("1", 1, &Specs::new())
        .await
        .unwrap();
    let outcome = env
        .driver
        .retype_volume("1", &specs(&[("storpool_template", "hdd")]), false)
        .await
        .unwrap();
    assert!(outcome.retyped);
    assert_eq!(outcome.changed, ["template"]);
    let state = env.state();
    let volume = state.volume(&vol("1")).unwrap();
    assert_eq!(volume.template.as_deref(), Some("hdd"));
    assert_eq!(
        volume.replication, 2,
        "the template's settings were applied"
    );
    let outcome = env
        .driver
        .retype_volume("1", &specs(&[("storpool_template", "ssd")]), false)
        .await
        .unwrap();
    assert_eq!(outcome.changed, ["template"]);
    assert_eq!(env.state().volume(&vol("1")).unwrap().replication, 3);
}

#[tokio::test]
async fn retype_to_a_type_without_template_uses_the_default_template_or_replication() {
    let env = env();
    env.driver
        .create_volume("1", 1, &specs(&[("storpool_template", "ssd")]))
        .await
        .unwrap();
    let with_default =
        env.driver_with(DriverOptions::new().default_template(Some(template("hdd"))));
    let outcome = with_default
        .retype_volume("1", &Specs::new(), false)
        .await
        .unwrap();
    assert_eq!(outcome.changed, ["template"]);
    assert_eq!(
        env.state().volume(&vol("1")).unwrap().template.as_deref(),
        Some("hdd")
    );
    let replication_one = env.driver_with(DriverOptions::new().default_replication(1));
    let outcome = replication_one
        .retype_volume("1", &Specs::new(), false)
        .await
        .unwrap();
    assert_eq!(outcome.changed, ["replication"]);
    assert_eq!(env.state().volume(&vol("1")).unwrap().replication, 1);
}

#[tokio::test]
async fn retype_to_what_the_volume_already_is_changes_nothing() {
    let env = env();
    let ssd = specs(&[("storpool_template", "ssd")]);
    env.driver.create_volume("1", 1, &ssd).await.unwrap();
    let generation = env.state().generation;
    let outcome = env.driver.retype_volume("1", &ssd, false).await.unwrap();
    assert!(outcome.retyped);
    assert!(outcome.changed.is_empty());
    env.driver
        .create_volume("2", 1, &Specs::new())
        .await
        .unwrap();
    let generation2 = env.state().generation;
    assert!(generation2 > generation);
    let outcome = env
        .driver
        .retype_volume("2", &Specs::new(), false)
        .await
        .unwrap();
    assert!(
        outcome.changed.is_empty(),
        "no template before or after: replication kept"
    );
    assert_eq!(env.state().generation, generation2);
}

#[tokio::test]
async fn retype_refuses_encryption_and_backend_changes_without_touching_the_volume() {
    let env = env();
    env.driver
        .create_volume("1", 1, &Specs::new())
        .await
        .unwrap();
    let generation = env.state().generation;
    let outcome = env
        .driver
        .retype_volume("1", &specs(&[("storpool_template", "ssd")]), true)
        .await
        .unwrap();
    assert!(!outcome.retyped);
    assert_eq!(outcome.refused, Some(RetypeRefusal::EncryptionChange));
    let outcome = env
        .driver
        .retype_volume("1", &specs(&[("volume_backend_name", "lvm")]), false)
        .await
        .unwrap();
    assert!(!outcome.retyped);
    assert_eq!(
        outcome.refused,
        Some(RetypeRefusal::BackendChange {
            current: "storpool".to_owned(),
            requested: "lvm".to_owned()
        })
    );
    assert_eq!(
        serde_json::to_value(&outcome).unwrap(),
        json!({"retyped": false, "refused": {"reason": "backend_change", "current": "storpool",
               "requested": "lvm"}, "changed": []})
    );
    assert_eq!(env.state().generation, generation);
    let same_backend = env
        .driver
        .retype_volume("1", &specs(&[("volume_backend_name", "storpool")]), false)
        .await
        .unwrap();
    assert!(same_backend.retyped);
}

#[tokio::test]
async fn retype_sets_and_clears_qos_limits() {
    let env = env();
    env.sim
        .call(
            "POST",
            "VolumeTemplateCreate",
            Some(json!({"name": "capped", "replication": 2, "iops": 700})),
        )
        .unwrap();
    env.driver
        .create_volume("1", 1, &Specs::new())
        .await
        .unwrap();
    let outcome = env
        .driver
        .retype_volume(
            "1",
            &specs(&[("total_iops_sec", "100"), ("total_bytes_sec", "2097152")]),
            false,
        )
        .await
        .unwrap();
    assert_eq!(outcome.changed, ["iops", "bw"]);
    let volume = env.driver.get_volume("1").await.unwrap();
    assert_eq!((volume.iops, volume.bw), (Some(100), Some(2)));
    // A type without QoS: back to unlimited.
    let outcome = env
        .driver
        .retype_volume("1", &Specs::new(), false)
        .await
        .unwrap();
    assert_eq!(outcome.changed, ["iops", "bw"]);
    let volume = env.driver.get_volume("1").await.unwrap();
    assert_eq!((volume.iops, volume.bw), (None, None));
    // A template with limits and no QoS in the type: the template's limits.
    let outcome = env
        .driver
        .retype_volume("1", &specs(&[("storpool_template", "capped")]), false)
        .await
        .unwrap();
    assert_eq!(outcome.changed, ["template", "iops"]);
    let volume = env.driver.get_volume("1").await.unwrap();
    assert_eq!((volume.iops, volume.bw), (Some(700), None));
    // The type's QoS wins over the template's.
    env.driver
        .retype_volume(
            "1",
            &specs(&[("storpool_template", "capped"), ("storpool:iops", "5")]),
            false,
        )
        .await
        .unwrap();
    assert_eq!(env.driver.get_volume("1").await.unwrap().iops, Some(5));
}

#[tokio::test]
async fn retype_of_a_missing_volume_or_to_a_missing_template_fails_cleanly() {
    let env = env();
    let err = env
        .driver
        .retype_volume("nope", &specs(&[("storpool_template", "ssd")]), false)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound);
    env.driver
        .create_volume("1", 1, &Specs::new())
        .await
        .unwrap();
    let err = env
        .driver
        .retype_volume("1", &specs(&[("storpool_template", "nvme")]), false)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound);
    assert!(err.to_string().contains("nvme"), "{err}");
    assert_eq!(env.state().volume(&vol("1")).unwrap().template, None);
}

#[tokio::test]
async fn retype_back_to_a_template_reapplies_it_when_the_replication_drifted_issue_14() {
    // hdd (replication 2) -> a type without template (replication 3) -> hdd again: the
    // volume keeps the name `hdd` on the cluster in between, so comparing names alone left
    // it at replication 3 while the template says 2.
    let env = env();
    let hdd = specs(&[("storpool_template", "hdd")]);
    env.driver.create_volume("t2", 1, &hdd).await.unwrap();
    env.driver
        .retype_volume("t2", &Specs::new(), false)
        .await
        .unwrap();
    assert_eq!(env.state().volume(&vol("t2")).unwrap().replication, 3);
    let outcome = env.driver.retype_volume("t2", &hdd, false).await.unwrap();
    assert!(outcome.retyped);
    assert_eq!(outcome.changed, ["template"]);
    let state = env.state();
    let volume = state.volume(&vol("t2")).unwrap();
    assert_eq!(volume.template.as_deref(), Some("hdd"));
    assert_eq!(volume.replication, 2, "the template's replication");
    // And now it matches: nothing more to do.
    let again = env.driver.retype_volume("t2", &hdd, false).await.unwrap();
    assert!(again.changed.is_empty(), "{again:?}");
}

#[tokio::test]
async fn retype_to_a_type_with_storpool_replication_sets_it_and_a_template_wins() {
    let env = env();
    env.driver
        .create_volume("1", 1, &Specs::new())
        .await
        .unwrap();
    let two = specs(&[("storpool_replication", "2")]);
    let outcome = env.driver.retype_volume("1", &two, false).await.unwrap();
    assert_eq!(outcome.changed, ["replication"]);
    assert_eq!(env.state().volume(&vol("1")).unwrap().replication, 2);
    assert!(
        env.driver
            .retype_volume("1", &two, false)
            .await
            .unwrap()
            .changed
            .is_empty()
    );
    let both = specs(&[("storpool_replication", "1"), ("storpool_template", "ssd")]);
    let outcome = env.driver.retype_volume("1", &both, false).await.unwrap();
    assert_eq!(outcome.changed, ["template"]);
    let state = env.state();
    let volume = state.volume(&vol("1")).unwrap();
    assert_eq!(volume.template.as_deref(), Some("ssd"));
    assert_eq!(
        volume.replication, 3,
        "the template wins over the type's replication"
    );
}

#[tokio::test]
async fn move_to_pool_changes_the_template_or_replication_in_place_and_keeps_the_qos() {
    let env = env();
    let typed = specs(&[("total_iops_sec", "500")]);
    let created = env.driver.create_volume("1", 1, &typed).await.unwrap();
    let global_id = created.global_id;
    let moved = env
        .driver
        .move_to_pool("1", "template_hdd", &typed)
        .await
        .unwrap();
    assert!(moved.retyped);
    assert_eq!(moved.changed, ["template"]);
    let state = env.state();
    let volume = state.volume(&vol("1")).unwrap();
    assert_eq!(volume.template.as_deref(), Some("hdd"));
    assert_eq!(volume.replication, 2);
    assert_eq!(volume.global_id, global_id, "the same volume, not a copy");
    assert_eq!(
        env.driver.get_volume("1").await.unwrap().iops,
        Some(500),
        "the type's QoS stays"
    );
    let moved = env
        .driver
        .move_to_pool("1", "replication_1", &typed)
        .await
        .unwrap();
    assert_eq!(moved.changed, ["replication"]);
    assert_eq!(env.state().volume(&vol("1")).unwrap().replication, 1);
    let moved = env
        .driver
        .move_to_pool("1", "default", &typed)
        .await
        .unwrap();
    assert_eq!(moved.changed, ["replication"]);
    assert_eq!(env.state().volume(&vol("1")).unwrap().replication, 3);
    let generation = env.state().generation;
    for unknown in ["nowhere", "replication_4", "template_", "template_a.b"] {
        let refused = env.driver.move_to_pool("1", unknown, &typed).await.unwrap();
        assert!(!refused.retyped, "{unknown}");
        assert_eq!(
            refused.refused,
            Some(RetypeRefusal::UnknownPool {
                pool: unknown.to_owned()
            })
        );
    }
    assert_eq!(
        env.state().generation,
        generation,
        "refusals change nothing"
    );
}
