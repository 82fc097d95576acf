//! Stats and connection info.

use crate::{ID, StatsJson, node};

#[test]
fn stats_are_cinders_shape_with_a_pool_per_template_and_per_other_replication() {
    let node = node();
    node.sim.seed_template("ssd", Some(3), None).unwrap();
    let stats: StatsJson = node.run(&["stats", "--json"]).json();
    assert_eq!(stats.volume_backend_name, "storpool");
    assert_eq!(stats.vendor_name, "StorPool");
    assert_eq!(stats.storage_protocol, "storpool");
    assert!(stats.clone_across_pools && stats.sparse_copy_volume);
    assert!(!stats.driver_version.is_empty());
    let names: Vec<&str> = stats.pools.iter().map(|p| p.pool_name.as_str()).collect();
    assert_eq!(
        names,
        ["default", "replication_1", "replication_2", "template_ssd"]
    );
    let default = &stats.pools[0];
    // 12 disks of 512 GiB.
    assert!(
        (default.total_capacity_gb - 6144.0).abs() < 1e-6,
        "{default:?}"
    );
    assert!(default.free_capacity_gb > 0.0 && default.free_capacity_gb < default.total_capacity_gb);
    assert!(default.multiattach && default.thin_provisioning_support && default.QoS_support);
    assert!(!default.thick_provisioning_support);
    assert_eq!(default.reserved_percentage, 0);
    assert_eq!(default.storpool_template, None);
    assert!(default.consistent_group_snapshot_enabled);
    // What a type's `storpool_replication` spec is matched against: text, as specs are.
    assert_eq!(default.storpool_replication.as_deref(), Some("3"));
    let two = &stats.pools[2];
    assert_eq!(two.storpool_replication.as_deref(), Some("2"));
    assert_eq!(two.storpool_template, None);
    // Free space is divided by the pool's own replication.
    assert!(
        (two.free_capacity_gb - default.free_capacity_gb * 1.5).abs() < 1e-6,
        "{two:?}"
    );
    let ssd = &stats.pools[3];
    assert_eq!(ssd.storpool_template.as_deref(), Some("ssd"));
    assert_eq!(ssd.storpool_replication.as_deref(), Some("3"));
    assert!(ssd.template_free_capacity_gb.is_some(), "{ssd:?}");
    assert!(ssd.template_total_capacity_gb.is_some(), "{ssd:?}");
    assert_eq!(ssd.template_provisioned_capacity_gb, Some(0.0));
    assert_eq!(default.template_total_capacity_gb, None);
    let text = node.run(&["stats"]).ok().to_owned();
    assert!(
        text.starts_with("backend storpool (StorPool storpool, driver "),
        "{text}"
    );
    assert!(text.contains("\ntemplate_ssd   6144.0"), "{text}");
}

#[test]
fn connection_info_is_exactly_cinders() {
    let node = node();
    std::fs::write(
        node.conf(),
        format!(
            "{}[compute-2]\nSP_OURID=12\n",
            node.sim.storpool_conf(Some(ID))
        ),
    )
    .unwrap();
    let run = node.run(&["connection-info", "v1", "--host", "compute-2", "--json"]);
    let info: serde_json::Value = serde_json::from_str(run.ok()).unwrap();
    assert_eq!(
        info,
        serde_json::json!({
            "driver_volume_type": "storpool",
            "data": {"client_id": 12, "volume": "v1", "access_mode": "rw"}
        })
    );
    // A host without a section of its own: the global SP_OURID.
    let run = node.run(&["connection-info", "v1", "--host", "elsewhere", "--json"]);
    let info: serde_json::Value = serde_json::from_str(run.ok()).unwrap();
    assert_eq!(info["data"]["client_id"], ID);
    let text = node
        .run(&["connection-info", "v1", "--host", "compute-2"])
        .ok()
        .to_owned();
    assert!(text.contains("client_id           12\n"), "{text}");
}

#[test]
fn a_non_numeric_sp_ourid_is_a_configuration_error_naming_section_and_variable() {
    let node = node();
    std::fs::write(
        node.conf(),
        format!(
            "{}[compute-3]\nSP_OURID=three\n",
            node.sim.storpool_conf(Some(ID))
        ),
    )
    .unwrap();
    let run = node.run(&["connection-info", "v1", "--host", "compute-3"]);
    let line = run.failed(2);
    assert!(
        line.contains("cannot read SP_OURID of host `compute-3` (its `[compute-3]` section)"),
        "{line}"
    );
    assert!(line.contains("`three`"), "{line}");
}
