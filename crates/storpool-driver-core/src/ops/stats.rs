//! Capacity and capabilities in Cinder's stats shape.

use std::collections::BTreeMap;

use storpool_api::TemplateStatus;
use tracing::Instrument;

use crate::capacity::{DiskFigures, cluster_capacity, gib};
use crate::driver::{Driver, Op, pool};
use crate::error::{DriverError, Object};
use crate::naming::IdKind;
use crate::types::{Pool, Stats};

/// Bytes reported by the cluster as GiB; negative figures count as 0.
fn gib_of(bytes: i64) -> f64 {
    gib(u64::try_from(bytes).unwrap_or(0))
}

impl Driver {
    /// The backend's capabilities and capacity (Cinder's `get_volume_stats`): pool
    /// `default` (untemplated volumes of the default replication), `replication_{n}` for the
    /// two other replications (untemplated volumes of a type with `storpool_replication`),
    /// and `template_{name}` for every template. Each pool reports the reference driver's
    /// cluster-wide figures (disks that are up; allocation groups of 512 MiB; free space less
    /// metadata, divided by the default replication, or by `n` for `replication_{n}`), the
    /// capabilities a volume type's specs are matched against (`storpool_template`,
    /// `storpool_replication`), and, for template pools, the template's own capacity and
    /// free space from `VolumeTemplatesStatus` (omitted, with a warning, when that call
    /// fails).
    ///
    /// ```no_run
    /// # async fn run(driver: storpool_driver_core::Driver) -> Result<(), Box<dyn std::error::Error>> {
    /// let stats = driver.stats().await?;
    /// for pool in &stats.pools {
    ///     println!("{}: {} GiB free", pool.pool_name, pool.free_capacity_gb);
    /// }
    /// # Ok(())
    /// # }
    /// ```
    pub async fn stats(&self) -> Result<Stats, DriverError> {
        let mut op = Op::new("get stats", self.backend_name());
        let span = op.span();
        let result = async {
            let object = Object::new(IdKind::Cluster, self.client.base_url(), None);
            let disks = op
                .run(&object, "DisksList", self.client.disks().list())
                .await?;
            let templates = op
                .run(
                    &object,
                    "VolumeTemplatesList",
                    self.client.templates().list(),
                )
                .await?;
            let status = self.template_status(&mut op).await;
            let disks: Vec<DiskFigures> = disks
                .values()
                .map(|d| DiskFigures {
                    up: d.is_up(),
                    ag_count: d.ag_count.unwrap_or(0),
                    ag_allocated: d.ag_allocated.unwrap_or(0),
                    ag_free: d.ag_free.unwrap_or(0),
                })
                .collect();
            let default_replication = self.options.default_replication;
            let capacity = cluster_capacity(disks.iter().copied(), u32::from(default_replication));
            let pool = |name: String, replication: Option<u8>, template: Option<&str>| {
                let figures = template.and_then(|t| status.get(t));
                // An untemplated pool of another replication has its own free space.
                let free_capacity_gb = match replication {
                    Some(n) if template.is_none() && n != default_replication => {
                        cluster_capacity(disks.iter().copied(), u32::from(n)).free_gb
                    }
                    _ => capacity.free_gb,
                };
                Pool {
                    pool_name: name,
                    total_capacity_gb: capacity.total_gb,
                    free_capacity_gb,
                    reserved_percentage: 0,
                    multiattach: true,
                    qos_support: true,
                    thick_provisioning_support: false,
                    thin_provisioning_support: true,
                    consistent_group_snapshot_enabled: true,
                    storpool_template: template.map(str::to_owned),
                    storpool_replication: replication.map(|n| n.to_string()),
                    template_total_capacity_gb: figures.map(|s| gib_of(s.stored.capacity)),
                    template_free_capacity_gb: figures.map(|s| gib_of(s.stored.free)),
                    template_provisioned_capacity_gb: figures.map(|s| gib(s.size)),
                }
            };
            let mut pools = vec![pool(
                pool::DEFAULT.to_owned(),
                Some(default_replication),
                None,
            )];
            pools.extend(
                storpool_api::REPLICATION_RANGE
                    .filter(|n| *n != default_replication)
                    .map(|n| pool(pool::replication(n), Some(n), None)),
            );
            pools.extend(templates.iter().map(|t| {
                pool(
                    pool::template(&t.name),
                    t.replication.value(),
                    Some(&t.name),
                )
            }));
            Ok(Stats {
                volume_backend_name: self.backend_name().to_owned(),
                vendor_name: "StorPool".to_owned(),
                driver_version: env!("CARGO_PKG_VERSION").to_owned(),
                storage_protocol: "storpool".to_owned(),
                clone_across_pools: true,
                sparse_copy_volume: true,
                pools,
            })
        }
        .instrument(span)
        .await;
        op.finish(result)
    }

    /// `VolumeTemplatesStatus` by template name; empty, with a warning, when the call fails
    /// (the figures it adds to stats and listings are optional).
    pub(crate) async fn template_status(&self, op: &mut Op) -> BTreeMap<String, TemplateStatus> {
        match op
            .call("VolumeTemplatesStatus", self.client.templates().status())
            .await
        {
            Ok(status) => status.into_iter().map(|t| (t.name.clone(), t)).collect(),
            Err(err) => {
                tracing::warn!(error = %err, "no per-template capacity: VolumeTemplatesStatus failed");
                BTreeMap::new()
            }
        }
    }
}
