//! Capacity stats: the reference's formula and pools, and the per-template figures.

use serde_json::json;
use storpool_driver_core::DriverOptions;
use storpool_sim::{ClusterLayout, Sim};

use crate::{env, env_with};

/// The reference test's cluster: four disks of 14 allocation groups (7 GiB), one not up.
fn reference_cluster(options: DriverOptions) -> crate::Env {
    let env = env_with(
        Sim::builder().layout(ClusterLayout {
            servers: 4,
            disks_per_server: 1,
            disk_size: 14 * (512 << 20),
            ..ClusterLayout::default()
        }),
        options,
    );
    env.sim.call("POST", "DiskEject/301", None).unwrap();
    env
}

#[tokio::test]
async fn stats_follow_the_reference_formula_without_the_disk_that_is_not_up() {
    let env = reference_cluster(DriverOptions::new());
    let stats = env.driver.stats().await.unwrap();
    assert_eq!(stats.vendor_name, "StorPool");
    assert_eq!(stats.storage_protocol, "storpool");
    assert_eq!(stats.volume_backend_name, "storpool");
    assert!(stats.clone_across_pools && stats.sparse_copy_volume);
    let mut names: Vec<&str> = stats.pools.iter().map(|p| p.pool_name.as_str()).collect();
    names.sort_unstable();
    assert_eq!(
        names,
        [
            "default",
            "replication_1",
            "replication_2",
            "template_hdd",
            "template_ssd"
        ]
    );
    // 3 disks up x 14 AG x 512 MiB = 21 GiB; nothing allocated: free = 21 x 4096/4224 / 3
    // (the reference's figure, for every pool but the other replications').
    let raw_free = 21.0 * 4096.0 / 4224.0;
    for pool in &stats.pools {
        let divisor = match pool.pool_name.as_str() {
            "replication_1" => 1.0,
            "replication_2" => 2.0,
            _ => 3.0,
        };
        assert!((pool.total_capacity_gb - 21.0).abs() < 1e-9, "{pool:?}");
        assert!(
            (pool.free_capacity_gb - raw_free / divisor).abs() < 1e-9,
            "{pool:?}"
        );
        assert!(pool.consistent_group_snapshot_enabled);
        assert_eq!(pool.reserved_percentage, 0);
        assert!(pool.multiattach && pool.qos_support && pool.thin_provisioning_support);
        assert!(!pool.thick_provisioning_support);
        if let Some(template) = pool.pool_name.strip_prefix("template_") {
            assert_eq!(pool.storpool_template.as_deref(), Some(template));
            let replication = if template == "ssd" { "3" } else { "2" };
            assert_eq!(pool.storpool_replication.as_deref(), Some(replication));
            assert!(pool.template_total_capacity_gb.is_some());
            assert!(pool.template_free_capacity_gb.is_some());
        } else {
            assert_eq!(pool.storpool_template, None);
            assert_eq!(pool.template_free_capacity_gb, None);
            assert_eq!(
                pool.storpool_replication.as_deref(),
                Some(divisor.to_string().as_str())
            );
        }
    }
    let replication_two = env.driver_with(DriverOptions::new().default_replication(2));
    let stats = replication_two.stats().await.unwrap();
    assert!((stats.pools[0].free_capacity_gb - 21.0 * 4096.0 / 4224.0 / 2.0).abs() < 1e-9);
    // The reference's test reads `int(free_capacity_gb)`: 6 at replication 3, 10 at 2 on this
    // cluster (nothing allocated; the reference's mock had one allocation group in use).
    assert!((10.0..11.0).contains(&stats.pools[0].free_capacity_gb));
}

#[tokio::test]
async fn stats_serialize_with_the_cinder_keys() {
    let env = env_with(
        Sim::builder(),
        DriverOptions::new().backend_name(Some("storpool_test".to_owned())),
    );
    let stats = env.driver.stats().await.unwrap();
    let value = serde_json::to_value(&stats).unwrap();
    assert_eq!(value["volume_backend_name"], "storpool_test");
    assert_eq!(value["driver_version"], env!("CARGO_PKG_VERSION"));
    let default = &value["pools"][0];
    let mut keys: Vec<&str> = default
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    keys.sort_unstable();
    assert_eq!(
        keys,
        [
            "QoS_support",
            "consistent_group_snapshot_enabled",
            "free_capacity_gb",
            "multiattach",
            "pool_name",
            "reserved_percentage",
            "storpool_replication",
            "thick_provisioning_support",
            "thin_provisioning_support",
            "total_capacity_gb",
        ]
    );
    let ssd = value["pools"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["pool_name"] == json!("template_ssd"))
        .unwrap();
    assert_eq!(ssd["storpool_template"], "ssd");
    assert!(ssd["template_free_capacity_gb"].as_f64().unwrap() > 0.0);
    // What a tool prints reads back as the same value.
    let back: storpool_driver_core::Stats = serde_json::from_value(value).unwrap();
    assert_eq!(back, stats);
}

#[tokio::test]
async fn per_template_free_space_follows_the_templates_placement() {
    let env = env();
    // A template placed on one server's disks only has a fraction of the cluster's space.
    env.sim
        .call(
            "POST",
            "PlacementGroupUpdate/one",
            Some(json!({"addDisks": [101, 102], "rmDisks": []})),
        )
        .unwrap();
    env.sim
        .call(
            "POST",
            "VolumeTemplateCreate",
            Some(json!({"name": "small", "replication": 1, "placeAll": "one"})),
        )
        .unwrap();
    let stats = env.driver.stats().await.unwrap();
    let pool = |name: &str| {
        stats
            .pools
            .iter()
            .find(|p| p.pool_name == name)
            .unwrap()
            .clone()
    };
    let small = pool("template_small");
    let ssd = pool("template_ssd");
    assert!(
        small.template_total_capacity_gb.unwrap() < ssd.template_total_capacity_gb.unwrap(),
        "{small:?} vs {ssd:?}"
    );
    assert!((small.total_capacity_gb - ssd.total_capacity_gb).abs() < 1e-9);
}
