//! Reading the driver's snapshots and the cluster's templates.

use storpool_api::SnapshotRef;
use tracing::Instrument;

use crate::driver::{Driver, Op};
use crate::error::{DriverError, Object};
use crate::naming::IdKind;
use crate::types::{Snapshot, Template};

impl Driver {
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
            self.read_snapshot(&mut op, snapshot_id, &name, &object)
                .await
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

    /// The driver's snapshots: every snapshot named `{prefix}--snap--none--snapshot-{id}`
    /// (not the members of group snapshots, not the transient snapshots of clones, not
    /// snapshots being deleted), sorted by name.
    ///
    /// ```no_run
    /// # async fn run(driver: storpool_driver_core::Driver) -> Result<(), storpool_driver_core::DriverError> {
    /// for snapshot in driver.list_snapshots().await? {
    ///     println!("{} {}", snapshot.id, snapshot.name);
    /// }
    /// # Ok(())
    /// # }
    /// ```
    pub async fn list_snapshots(&self) -> Result<Vec<Snapshot>, DriverError> {
        let mut op = Op::new("list snapshots", self.naming.prefix());
        let span = op.span();
        let result = async {
            let object = Object::new(IdKind::Cluster, self.client.base_url(), None);
            let all = op
                .run(&object, "SnapshotsList", self.client.snapshots().list())
                .await?;
            let mut ours: Vec<Snapshot> = all
                .iter()
                .filter(|s| !s.deleted)
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

    /// The cluster's templates, sorted by name, each with the pool its volumes are in
    /// (`template_{name}`, see [`Driver::stats`]).
    ///
    /// ```no_run
    /// # async fn run(driver: storpool_driver_core::Driver) -> Result<(), storpool_driver_core::DriverError> {
    /// for template in driver.list_templates().await? {
    ///     println!("{}: replication {:?}, pool {}", template.name, template.replication, template.pool);
    /// }
    /// # Ok(())
    /// # }
    /// ```
    pub async fn list_templates(&self) -> Result<Vec<Template>, DriverError> {
        let mut op = Op::new("list templates", self.client.base_url());
        let span = op.span();
        let result = async {
            let object = Object::new(IdKind::Cluster, self.client.base_url(), None);
            let all = op
                .run(
                    &object,
                    "VolumeTemplatesList",
                    self.client.templates().list(),
                )
                .await?;
            let mut templates: Vec<Template> = all.iter().map(Template::from_api).collect();
            templates.sort_by(|a, b| a.name.cmp(&b.name));
            Ok(templates)
        }
        .instrument(span)
        .await;
        op.finish(result)
    }
}
