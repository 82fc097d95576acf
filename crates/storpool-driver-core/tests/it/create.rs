//! Create and delete: the reference's type/template/replication combinations, sizes,
//! idempotency, QoS.

use storpool_driver_core::{DriverOptions, ErrorKind, Specs};

use crate::{GIB, env, env_with, specs, template, vol, volume_types};

#[tokio::test]
async fn create_uses_the_types_template_or_the_default_replication() {
    let env = env();
    for (n, (template, specs)) in volume_types().into_iter().enumerate() {
        let id = format!("{}", n + 1);
        let size = u64::try_from(n).unwrap() + 1;
        let volume = env.driver.create_volume(&id, size, &specs).await.unwrap();
        assert_eq!(volume.name, vol(&id));
        assert_eq!(volume.size_bytes, size * GIB);
        assert_eq!(volume.size_gib, size);
        assert_eq!(volume.template.as_deref(), template);
        let state = env.state();
        let on_cluster = state.volume(&vol(&id)).unwrap();
        assert_eq!(on_cluster.size, size * GIB);
        assert_eq!(on_cluster.template.as_deref(), template);
        // No template: the default replication 3; `ssd` has 3, `hdd` 2.
        let replication = if template == Some("hdd") { 2 } else { 3 };
        assert_eq!(on_cluster.replication, replication, "{template:?}");
    }
    assert_eq!(env.volumes(), [vol("1"), vol("2"), vol("3")]);
    for id in ["1", "2", "3"] {
        let deleted = env.driver.delete_volume(id).await.unwrap();
        assert!(deleted.existed);
    }
    env.assert_empty();
}

#[tokio::test]
async fn the_configured_replication_applies_without_a_template() {
    let env = env();
    let driver = env.driver_with(DriverOptions::new().default_replication(2));
    let volume = driver
        .create_volume("cfgrepl2", 1, &Specs::new())
        .await
        .unwrap();
    assert_eq!(volume.replication, 2);
    assert_eq!(volume.template, None);
    let ssd = driver
        .create_volume("cfgrepl3", 1, &specs(&[("storpool_template", "ssd")]))
        .await
        .unwrap();
    assert_eq!(ssd.template.as_deref(), Some("ssd"));
    assert_eq!(
        ssd.replication, 3,
        "the template's replication, not the default"
    );
    driver.delete_volume("cfgrepl2").await.unwrap();
    driver.delete_volume("cfgrepl3").await.unwrap();
    env.assert_empty();
}

#[tokio::test]
async fn the_configured_template_applies_when_the_type_names_none() {
    let env = env();
    let driver = env.driver_with(DriverOptions::new().default_template(Some(template("hdd"))));
    let plain = driver
        .create_volume("cfgtempl3", 1, &Specs::new())
        .await
        .unwrap();
    assert_eq!(plain.template.as_deref(), Some("hdd"));
    let ssd = driver
        .create_volume("cfgtempl4", 1, &specs(&[("storpool_template", "ssd")]))
        .await
        .unwrap();
    assert_eq!(ssd.template.as_deref(), Some("ssd"));
    for id in ["cfgtempl3", "cfgtempl4"] {
        driver.delete_volume(id).await.unwrap();
    }
    env.assert_empty();
}

#[tokio::test]
async fn size_zero_is_refused_before_asking_the_cluster() {
    let env = env();
    let generation = env.state().generation;
    let err = env
        .driver
        .create_volume("1", 0, &Specs::new())
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
    assert!(err.is_user_error());
    assert!(err.to_string().contains("0 GiB"), "{err}");
    assert_eq!(env.state().generation, generation);
    env.assert_empty();
}

#[tokio::test]
async fn delete_is_idempotent_and_detaches_first() {
    let env = env();
    env.driver
        .create_volume("1", 1, &Specs::new())
        .await
        .unwrap();
    env.sim
        .call(
            "POST",
            "VolumesReassign",
            Some(serde_json::json!([{"volume": vol("1"), "rw": [3]}])),
        )
        .unwrap();
    assert_eq!(env.state().attachments.len(), 1);
    let first = env.driver.delete_volume("1").await.unwrap();
    assert!(first.existed);
    let again = env.driver.delete_volume("1").await.unwrap();
    assert!(!again.existed, "already gone is success");
    assert_eq!(again.name, vol("1"));
    env.assert_empty();
    assert!(env.state().attachments.is_empty());
}

#[tokio::test]
async fn a_retried_create_of_the_same_volume_succeeds() {
    let env = env();
    let ssd = specs(&[("storpool_template", "ssd")]);
    let first = env.driver.create_volume("1", 2, &ssd).await.unwrap();
    let generation = env.state().generation;
    let again = env.driver.create_volume("1", 2, &ssd).await.unwrap();
    assert_eq!(first, again);
    assert_eq!(env.state().generation, generation, "nothing changed");
    let plain = env
        .driver
        .create_volume("2", 1, &Specs::new())
        .await
        .unwrap();
    assert_eq!(
        env.driver
            .create_volume("2", 1, &Specs::new())
            .await
            .unwrap(),
        plain
    );
}

#[tokio::test]
async fn a_create_that_finds_another_size_or_template_says_how_it_differs() {
    let env = env();
    let ssd = specs(&[("storpool_template", "ssd")]);
    env.driver.create_volume("1", 2, &ssd).await.unwrap();
    let err = env.driver.create_volume("1", 3, &ssd).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Conflict);
    let text = err.to_string();
    assert!(text.contains("2 GiB") && text.contains("3 GiB"), "{text}");
    let err = env
        .driver
        .create_volume("1", 2, &specs(&[("storpool_template", "hdd")]))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Conflict);
    let text = err.to_string();
    assert!(text.contains("`ssd`") && text.contains("`hdd`"), "{text}");
    let err = env
        .driver
        .create_volume("1", 2, &Specs::new())
        .await
        .unwrap_err();
    assert!(err.to_string().contains("no template"), "{err}");
    // The volume is untouched.
    let state = env.state();
    let volume = state.volume(&vol("1")).unwrap();
    assert_eq!(
        (volume.size, volume.template.as_deref()),
        (2 * GIB, Some("ssd"))
    );
}

#[tokio::test]
async fn a_create_whose_name_is_taken_by_a_snapshot_is_a_conflict() {
    let env = env();
    env.sim.seed_volume("other", GIB, None).unwrap();
    env.sim
        .call(
            "POST",
            "VolumeSnapshot/other",
            Some(serde_json::json!({"name": vol("1")})),
        )
        .unwrap();
    let err = env
        .driver
        .create_volume("1", 1, &Specs::new())
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Conflict);
    assert!(err.to_string().contains("snapshot"), "{err}");
}

#[tokio::test]
async fn qos_specs_set_the_volume_limits() {
    let env = env();
    let cinder = specs(&[
        ("qos:total_iops_sec", "5000"),
        ("total_bytes_sec", "104857600"),
    ]);
    let volume = env.driver.create_volume("1", 1, &cinder).await.unwrap();
    assert_eq!((volume.iops, volume.bw), (Some(5000), Some(100)));
    let storpool = specs(&[
        ("storpool_template", "ssd"),
        ("storpool:iops", "300"),
        ("storpool:bw", "-"),
    ]);
    let volume = env.driver.create_volume("2", 1, &storpool).await.unwrap();
    assert_eq!((volume.iops, volume.bw), (Some(300), None));
    let plain = env
        .driver
        .create_volume("3", 1, &Specs::new())
        .await
        .unwrap();
    assert_eq!((plain.iops, plain.bw), (None, None));
}

#[tokio::test]
async fn bad_specs_and_ids_are_refused_with_the_value_named() {
    let env = env();
    let err = env
        .driver
        .create_volume("1", 1, &specs(&[("total_iops_sec", "fast")]))
        .await
        .unwrap_err();
    assert!(err.is_user_error());
    assert!(err.to_string().contains("total_iops_sec=fast"), "{err}");
    let err = env
        .driver
        .create_volume("1", 1, &specs(&[("storpool_template", "no.dots")]))
        .await
        .unwrap_err();
    assert!(err.to_string().contains("no.dots"), "{err}");
    let err = env
        .driver
        .create_volume("a/b", 1, &Specs::new())
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
    assert!(err.to_string().contains("`a/b`"), "{err}");
    env.assert_empty();
}

#[tokio::test]
async fn a_missing_template_is_reported_as_not_found() {
    let env = env();
    let err = env
        .driver
        .create_volume("1", 1, &specs(&[("storpool_template", "nvme")]))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound);
    assert!(
        err.cluster_description().unwrap().contains("nvme"),
        "{err:?}"
    );
    env.assert_empty();
}

#[tokio::test]
async fn extend_grows_the_volume_and_a_smaller_size_is_refused_by_the_cluster() {
    let env = env();
    env.driver
        .create_volume("1", 1, &Specs::new())
        .await
        .unwrap();
    let grown = env.driver.extend_volume("1", 2).await.unwrap();
    assert_eq!(grown.size_bytes, 2 * GIB);
    assert_eq!(env.state().volume(&vol("1")).unwrap().size, 2 * GIB);
    let err = env.driver.extend_volume("1", 1).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Refused);
    assert_eq!(env.state().volume(&vol("1")).unwrap().size, 2 * GIB);
    let err = env.driver.extend_volume("missing", 3).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound);
}

#[tokio::test]
async fn list_shows_only_the_drivers_volumes_and_find_tells_a_missing_one() {
    let env = env();
    env.driver
        .create_volume("b", 1, &Specs::new())
        .await
        .unwrap();
    env.driver
        .create_volume("a", 2, &Specs::new())
        .await
        .unwrap();
    env.sim.seed_volume("foreign", GIB, None).unwrap();
    env.sim.seed_volume("other--volume-1", GIB, None).unwrap();
    let listed = env.driver.list_volumes().await.unwrap();
    let ids: Vec<&str> = listed.iter().map(|v| v.id.as_str()).collect();
    assert_eq!(ids, ["a", "b"]);
    assert_eq!(listed[0].size_gib, 2);
    let one = env.driver.get_volume("b").await.unwrap();
    assert_eq!(one, listed[1]);
    assert_eq!(env.driver.find_volume("b").await.unwrap(), Some(one));
    assert_eq!(env.driver.find_volume("missing").await.unwrap(), None);
    let err = env.driver.get_volume("missing").await.unwrap_err();
    assert_eq!(err.kind(), storpool_driver_core::ErrorKind::NotFound);
    assert!(
        env.driver
            .find_volume("a/b")
            .await
            .unwrap_err()
            .is_user_error()
    );
}

#[tokio::test]
async fn without_multi_cluster_the_same_operations_work() {
    let env = env_with(
        storpool_sim::Sim::builder(),
        DriverOptions::new().multi_cluster(false),
    );
    assert!(!env.driver.client().is_multi_cluster());
    env.driver
        .create_volume("1", 1, &Specs::new())
        .await
        .unwrap();
    env.driver.create_snapshot("1", "s").await.unwrap();
    env.driver.delete_snapshot("s").await.unwrap();
    env.driver.delete_volume("1").await.unwrap();
    env.assert_empty();
}

#[tokio::test]
async fn operation_futures_can_be_spawned() {
    fn spawnable<T: Send + 'static>(_: &T) {}
    let env = env();
    let driver = env.driver.clone();
    let task = async move {
        let specs = Specs::new();
        driver.create_volume("1", 1, &specs).await?;
        driver.clone_volume("2", "1", 1, &specs).await?;
        driver.retype_volume("2", &specs, false).await?;
        driver.finish_migration("1", "2", None).await?;
        driver.create_group_snapshot("g", &["1", "2"]).await?;
        driver.stats().await.map(drop)
    };
    spawnable(&task);
    tokio::spawn(task).await.unwrap().unwrap();
}

#[tokio::test]
async fn a_types_storpool_replication_applies_without_a_template_and_names_its_pool() {
    let env = crate::env();
    let two = crate::specs(&[("storpool_replication", "2")]);
    let volume = env.driver.create_volume("r2", 1, &two).await.unwrap();
    assert_eq!(volume.replication, 2);
    assert_eq!(volume.template, None);
    assert_eq!(env.driver.pool_of(&volume), "replication_2");
    assert_eq!(env.driver.pool_name(&two).unwrap(), "replication_2");
    let three = crate::specs(&[("storpool_replication", "3")]);
    assert_eq!(env.driver.pool_name(&three).unwrap(), "default");
    let both = crate::specs(&[("storpool_replication", "1"), ("storpool_template", "hdd")]);
    let volume = env.driver.create_volume("both", 1, &both).await.unwrap();
    assert_eq!(volume.template.as_deref(), Some("hdd"));
    assert_eq!(volume.replication, 2, "the template wins");
    assert_eq!(env.driver.pool_of(&volume), "template_hdd");
    let plain = env
        .driver
        .create_volume("plain", 1, &Specs::new())
        .await
        .unwrap();
    assert_eq!(env.driver.pool_of(&plain), "default");
    assert_eq!(env.driver.pool_name(&both).unwrap(), "template_hdd");
    let bad = crate::specs(&[("storpool_replication", "5")]);
    let err = env.driver.create_volume("bad", 1, &bad).await.unwrap_err();
    assert!(err.is_user_error());
    assert!(err.to_string().contains("storpool_replication=5"), "{err}");
    for id in ["r2", "both", "plain"] {
        env.driver.delete_volume(id).await.unwrap();
    }
    env.assert_empty();
}

#[tokio::test]
async fn pool_names_map_back_to_their_placement() {
    use storpool_driver_core::Placement;
    let env = crate::env();
    let driver = &env.driver;
    assert_eq!(
        driver.pool_placement("default"),
        Some(Placement::Replication(3))
    );
    assert_eq!(
        driver.pool_placement("replication_1"),
        Some(Placement::Replication(1))
    );
    assert_eq!(
        driver.pool_placement("template_ssd"),
        Some(Placement::Template(crate::template("ssd")))
    );
    for unknown in ["", "replication_0", "replication_x", "template_", "other"] {
        assert_eq!(driver.pool_placement(unknown), None, "{unknown}");
    }
}
