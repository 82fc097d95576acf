//! What the driver has on the cluster: its snapshots, group snapshots, and the templates.

use std::collections::BTreeMap;

use storpool_api::{Limit, SnapshotRef};
use tracing::Instrument;

use crate::driver::{Driver, Op, volume_ref};
use crate::error::{DriverError, Object};
use crate::naming::IdKind;
use crate::types::{GroupSnapshot, Snapshot, Template, non_empty};

impl Driver {
    /// The driver's snapshots (`{prefix}--snap--none--snapshot-{id}`, the temporary snapshots
    /// of image exports included; not the members of group snapshots nor the transient
    /// snapshots behind clones), sorted by name. With `volume_id`, only those taken of that
    /// volume (which must exist).
    ///
    /// ```no_run
    /// # async fn run(driver: storpool_driver_core::Driver) -> Result<(), storpool_driver_core::DriverError> {
    /// for snapshot in driver.list_snapshots(None).await? {
    ///     println!("{} {}", snapshot.id, snapshot.name);
    /// }
    /// let of_vol_1 = driver.list_snapshots(Some("vol-1")).await?;
    /// # Ok(())
    /// # }
    /// ```
    pub async fn list_snapshots(
        &self,
        volume_id: Option<&str>,
    ) -> Result<Vec<Snapshot>, DriverError> {
        let mut op = Op::new("list snapshots", volume_id.unwrap_or(self.naming.prefix()));
        let span = op.span();
        let result = async {
            let of = match volume_id {
                Some(id) => {
                    let (name, object) = self.volume(id)?;
                    op.run(
                        &object,
                        "Volume",
                        self.client.volumes().get(&volume_ref(&name)),
                    )
                    .await?;
                    Some(name.into_string())
                }
                None => None,
            };
            let object = Object::new(IdKind::Cluster, self.client.base_url(), None);
            let all = op
                .run(&object, "SnapshotsList", self.client.snapshots().list())
                .await?;
            let mut ours: Vec<Snapshot> = all
                .iter()
                .filter(|s| !s.deleted)
                .filter(|s| of.as_deref().is_none_or(|volume| s.on_volume == volume))
                .filter_map(|s| {
                    self.naming
                        .snapshot_id_of(&s.name)
                        .map(|id| Snapshot::from_summary(id, s))
                })
                .collect();
            ours.sort_by(|a, b| a.name.cmp(&b.name));
            Ok(ours)
        }
        .instrument(span)
        .await;
        op.finish(result)
    }

    /// Reads snapshot `snapshot_id` from the cluster; a snapshot that does not exist is an
    /// error of kind [`crate::ErrorKind::NotFound`] (see [`Driver::find_snapshot`]).
    ///
    /// ```no_run
    /// # async fn run(driver: storpool_driver_core::Driver) -> Result<(), storpool_driver_core::DriverError> {
    /// let snapshot = driver.get_snapshot("s1").await?;
    /// println!("{} of {:?}, {} GiB", snapshot.name, snapshot.volume, snapshot.size_gib);
    /// # Ok(())
    /// # }
    /// ```
    pub async fn get_snapshot(&self, snapshot_id: &str) -> Result<Snapshot, DriverError> {
        let mut op = Op::new("read snapshot", snapshot_id);
        let span = op.span();
        let result = async {
            let (name, object) = self.snapshot(snapshot_id)?;
            let summary = op
                .run(
                    &object,
                    "Snapshot",
                    self.client.snapshots().get(&SnapshotRef::from(&name)),
                )
                .await?;
            Ok(Snapshot::from_summary(snapshot_id, &summary))
        }
        .instrument(span)
        .await;
        op.finish(result)
    }

    /// Reads snapshot `snapshot_id` from the cluster, or `None` when it does not exist.
    ///
    /// ```no_run
    /// # async fn run(driver: storpool_driver_core::Driver) -> Result<(), storpool_driver_core::DriverError> {
    /// if driver.find_snapshot("s1").await?.is_none() {
    ///     driver.create_snapshot("vol-1", "s1").await?;
    /// }
    /// # Ok(())
    /// # }
    /// ```
    pub async fn find_snapshot(&self, snapshot_id: &str) -> Result<Option<Snapshot>, DriverError> {
        let mut op = Op::new("find snapshot", snapshot_id);
        let span = op.span();
        let result = async {
            let (name, object) = self.snapshot(snapshot_id)?;
            match op
                .call(
                    "Snapshot",
                    self.client.snapshots().get(&SnapshotRef::from(&name)),
                )
                .await
            {
                Ok(summary) => Ok(Some(Snapshot::from_summary(snapshot_id, &summary))),
                Err(err) if err.is_object_not_found() => Ok(None),
                Err(err) => Err(op.fail(&object, err)),
            }
        }
        .instrument(span)
        .await;
        op.finish(result)
    }

    /// The driver's group snapshots (`{prefix}--group--{group}--snapshot-{volume}`), by group
    /// id; each member's `id` is its volume's id, as [`Driver::create_group_snapshot`] gives.
    ///
    /// ```no_run
    /// # async fn run(driver: storpool_driver_core::Driver) -> Result<(), storpool_driver_core::DriverError> {
    /// for group in driver.list_group_snapshots().await? {
    ///     println!("{}: {} volumes", group.id, group.snapshots.len());
    /// }
    /// # Ok(())
    /// # }
    /// ```
    pub async fn list_group_snapshots(&self) -> Result<Vec<GroupSnapshot>, DriverError> {
        let mut op = Op::new("list group snapshots", self.naming.prefix());
        let span = op.span();
        let result = async {
            let object = Object::new(IdKind::Cluster, self.client.base_url(), None);
            let all = op
                .run(&object, "SnapshotsList", self.client.snapshots().list())
                .await?;
            let mut groups: BTreeMap<String, Vec<Snapshot>> = BTreeMap::new();
            for summary in all.iter().filter(|s| !s.deleted) {
                if let Some((group, volume)) = self.naming.group_member_of(&summary.name) {
                    groups
                        .entry(group.to_owned())
                        .or_default()
                        .push(Snapshot::from_summary(volume, summary));
                }
            }
            Ok(groups
                .into_iter()
                .map(|(id, mut snapshots)| {
                    snapshots.sort_by(|a, b| a.id.cmp(&b.id));
                    GroupSnapshot { id, snapshots }
                })
                .collect())
        }
        .instrument(span)
        .await;
        op.finish(result)
    }

    /// The cluster's templates, sorted by name: replication, placement groups, limits, and
    /// (from `VolumeTemplatesStatus`; left out, with a warning, when that call fails) how
    /// many volumes and snapshots use each, its capacity and free space.
    ///
    /// ```no_run
    /// # async fn run(driver: storpool_driver_core::Driver) -> Result<(), storpool_driver_core::DriverError> {
    /// for template in driver.list_templates().await? {
    ///     println!("{}: replication {:?}, free {:?} bytes", template.name, template.replication, template.free_bytes);
    /// }
    /// # Ok(())
    /// # }
    /// ```
    pub async fn list_templates(&self) -> Result<Vec<Template>, DriverError> {
        let mut op = Op::new("list templates", self.backend_name());
        let span = op.span();
        let result = async {
            let object = Object::new(IdKind::Cluster, self.client.base_url(), None);
            let templates = op
                .run(
                    &object,
                    "VolumeTemplatesList",
                    self.client.templates().list(),
                )
                .await?;
            let status = self.template_status(&mut op).await;
            let bytes = |n: i64| u64::try_from(n).unwrap_or(0);
            let mut list: Vec<Template> = templates
                .iter()
                .map(|t| {
                    let figures = status.get(&t.name);
                    Template {
                        name: t.name.clone(),
                        replication: t.replication.value(),
                        place_all: non_empty(&t.place_all),
                        place_tail: non_empty(&t.place_tail),
                        place_head: non_empty(&t.place_head),
                        iops: Limit::value(t.iops),
                        bw: Limit::value(t.bw),
                        volumes: figures.map(|s| s.volumes_count),
                        snapshots: figures.map(|s| s.snapshots_count),
                        capacity_bytes: figures.map(|s| bytes(s.stored.capacity)),
                        free_bytes: figures.map(|s| bytes(s.stored.free)),
                        provisioned_bytes: figures.map(|s| s.size),
                    }
                })
                .collect();
            list.sort_by(|a, b| a.name.cmp(&b.name));
            Ok(list)
        }
        .instrument(span)
        .await;
        op.finish(result)
    }
}
