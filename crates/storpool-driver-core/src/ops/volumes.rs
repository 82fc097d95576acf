//! Volumes: create, delete, extend, revert, read and list.

use storpool_api::{Limit, ReassignEntry, VolumeCreate, VolumeRevert, VolumeUpdate};
use tracing::Instrument;

use crate::driver::{
    Driver, Op, Specs, TemplateCheck, Wanted, bytes, mismatch, snapshot_ref, volume_ref,
};
use crate::error::{DriverError, Object};
use crate::naming::{IdKind, Naming};
use crate::types::{Deletion, Volume};

/// The `iops`/`bw` members a type's QoS asks for.
pub(crate) fn qos_members(wanted: &Wanted) -> (Option<Limit>, Option<Limit>) {
    (wanted.qos.iops, wanted.qos.bw)
}

impl Driver {
    /// Creates volume `id` of `size_gib` GiB with the type's template (else the default
    /// template, else the default replication) and QoS limits.
    ///
    /// Idempotent: a retried create (for instance after a connection dropped while the
    /// cluster was creating it) that finds the volume already there with the same size and
    /// template succeeds; with another size or template it is a [`DriverError::Conflict`]
    /// saying how it differs.
    ///
    /// ```no_run
    /// # async fn run(driver: storpool_driver_core::Driver) -> Result<(), Box<dyn std::error::Error>> {
    /// use storpool_driver_core::{Specs, SpecsExt as _};
    ///
    /// let ssd = Specs::from_pairs([("storpool_template", "ssd"), ("total_iops_sec", "5000")]);
    /// let volume = driver.create_volume("1234", 10, &ssd).await?;
    /// assert_eq!(volume.name, "os--volume-1234");
    /// # Ok(())
    /// # }
    /// ```
    pub async fn create_volume(
        &self,
        id: &str,
        size_gib: u64,
        specs: &Specs,
    ) -> Result<Volume, DriverError> {
        let mut op = Op::new("create volume", id);
        let span = op.span();
        let result = self
            .create_volume_in(&mut op, id, size_gib, specs)
            .instrument(span)
            .await;
        op.finish(result)
    }

    async fn create_volume_in(
        &self,
        op: &mut Op,
        id: &str,
        size_gib: u64,
        specs: &Specs,
    ) -> Result<Volume, DriverError> {
        let (name, object) = self.volume(id)?;
        let size = bytes(size_gib, &object)?;
        let wanted = self.wanted(specs)?;
        let (iops, bw) = qos_members(&wanted);
        let replication = wanted.replication;
        let request = VolumeCreate {
            name: Some(name.clone()),
            size: Some(size),
            template: wanted.template.clone(),
            replication,
            iops,
            bw,
            ..VolumeCreate::default()
        };
        match op
            .call("VolumeCreate", self.client.volumes().create(&request))
            .await
        {
            Ok(_) => self.read_volume(op, id, &name, &object).await,
            Err(err) if err.is_object_exists() => {
                let existing = op
                    .call("Volume", self.client.volumes().get(&volume_ref(&name)))
                    .await
                    .map_err(|source| {
                        if source.is_object_not_found() {
                            op.conflict(&object, "the name is taken by a snapshot".to_owned())
                        } else {
                            op.fail(&object, source)
                        }
                    })?;
                if let Some(reason) = mismatch(
                    &existing,
                    size,
                    TemplateCheck::Is(wanted.template.as_ref()),
                    replication,
                ) {
                    return Err(op.conflict(&object, reason));
                }
                tracing::info!(volume = %name, "the volume already exists as asked: done");
                Ok(Volume::from_summary(id, &existing))
            }
            Err(err) => Err(op.fail(&object, err)),
        }
    }

    /// Deletes volume `id`: detaches it from every client, then deletes it. A volume that is
    /// already gone is success (`existed: false`). A transient clone snapshot left behind
    /// for this id by an interrupted clone is deleted too.
    ///
    /// ```no_run
    /// # async fn run(driver: storpool_driver_core::Driver) -> Result<(), Box<dyn std::error::Error>> {
    /// let deleted = driver.delete_volume("1234").await?;
    /// if !deleted.existed {
    ///     println!("{} was already gone", deleted.name);
    /// }
    /// # Ok(())
    /// # }
    /// ```
    pub async fn delete_volume(&self, id: &str) -> Result<Deletion, DriverError> {
        let mut op = Op::new("delete volume", id);
        let span = op.span();
        let result = self.delete_volume_in(&mut op, id).instrument(span).await;
        op.finish(result)
    }

    pub(crate) async fn delete_volume_in(
        &self,
        op: &mut Op,
        id: &str,
    ) -> Result<Deletion, DriverError> {
        let (name, object) = self.volume(id)?;
        let vref = volume_ref(&name);
        let detach = [ReassignEntry::detach_volume_everywhere(vref.clone())];
        let existed = match op
            .call(
                "VolumesReassign",
                self.client.attachments().reassign(&detach),
            )
            .await
        {
            // It was there when the detach went through: a delete that now finds it gone is
            // a retry of our own delete whose answer was lost.
            Ok(_) => match op
                .call("VolumeDelete", self.client.volumes().delete(&vref))
                .await
            {
                Ok(_) => true,
                Err(err) if err.is_object_not_found() => true,
                Err(err) => return Err(op.fail(&object, err)),
            },
            Err(err) if err.is_object_not_found() => false,
            Err(err) => return Err(op.fail(&object, err)),
        };
        self.drop_clone_snapshot(op, id).await;
        Ok(Deletion {
            id: id.to_owned(),
            name: name.into_string(),
            existed,
        })
    }

    /// Grows volume `id` to `size_gib` GiB (a smaller size is refused by the cluster).
    ///
    /// ```no_run
    /// # async fn run(driver: storpool_driver_core::Driver) -> Result<(), Box<dyn std::error::Error>> {
    /// let volume = driver.extend_volume("1234", 20).await?;
    /// assert_eq!(volume.size_gib, 20);
    /// # Ok(())
    /// # }
    /// ```
    pub async fn extend_volume(&self, id: &str, size_gib: u64) -> Result<Volume, DriverError> {
        let mut op = Op::new("extend volume", id);
        let span = op.span();
        let result = async {
            let (name, object) = self.volume(id)?;
            let size = bytes(size_gib, &object)?;
            let request = VolumeUpdate {
                size: Some(size),
                ..VolumeUpdate::default()
            };
            op.run(
                &object,
                "VolumeUpdate",
                self.client.volumes().update(&volume_ref(&name), &request),
            )
            .await?;
            self.read_volume(&mut op, id, &name, &object).await
        }
        .instrument(span)
        .await;
        op.finish(result)
    }

    /// Reverts volume `id` to its snapshot `snapshot_id`. By default the volume takes the
    /// snapshot's size (`revertSize`), as the reference's tests expect; with `keep_size` a
    /// volume that grew after the snapshot keeps its larger size. Errors (no such volume or
    /// snapshot, not a snapshot of this volume, volume attached) carry the cluster's
    /// description.
    ///
    /// ```no_run
    /// # async fn run(driver: storpool_driver_core::Driver) -> Result<(), Box<dyn std::error::Error>> {
    /// // Back to snapshot `s1`, keeping a size the volume grew to since.
    /// let volume = driver.revert_volume("1234", "s1", true).await?;
    /// # Ok(())
    /// # }
    /// ```
    pub async fn revert_volume(
        &self,
        id: &str,
        snapshot_id: &str,
        keep_size: bool,
    ) -> Result<Volume, DriverError> {
        let mut op = Op::new("revert volume", id);
        let span = op.span();
        let result = async {
            let (name, object) = self.volume(id)?;
            let (snapshot, _) = self.snapshot(snapshot_id)?;
            let request = VolumeRevert {
                revert_size: Some(!keep_size),
                ..VolumeRevert::to(snapshot_ref(&snapshot))
            };
            op.run(
                &object,
                "VolumeRevert",
                self.client.volumes().revert(&volume_ref(&name), &request),
            )
            .await?;
            self.read_volume(&mut op, id, &name, &object).await
        }
        .instrument(span)
        .await;
        op.finish(result)
    }

    /// Reads volume `id` from the cluster.
    ///
    /// ```no_run
    /// # async fn run(driver: storpool_driver_core::Driver) -> Result<(), Box<dyn std::error::Error>> {
    /// let volume = driver.get_volume("1234").await?;
    /// println!("{} GiB, template {:?}", volume.size_gib, volume.template);
    /// # Ok(())
    /// # }
    /// ```
    pub async fn get_volume(&self, id: &str) -> Result<Volume, DriverError> {
        let mut op = Op::new("read volume", id);
        let span = op.span();
        let result = async {
            let (name, object) = self.volume(id)?;
            self.read_volume(&mut op, id, &name, &object).await
        }
        .instrument(span)
        .await;
        op.finish(result)
    }

    /// Reads volume `id` from the cluster, or `None` when it does not exist (a normal
    /// answer here, logged at `info`, where [`Driver::get_volume`] fails with
    /// [`crate::ErrorKind::NotFound`] and logs a warning).
    ///
    /// ```no_run
    /// # async fn run(driver: storpool_driver_core::Driver) -> Result<(), Box<dyn std::error::Error>> {
    /// if let Some(volume) = driver.find_volume("1234").await? {
    ///     println!("{} exists", volume.name);
    /// }
    /// # Ok(())
    /// # }
    /// ```
    pub async fn find_volume(&self, id: &str) -> Result<Option<Volume>, DriverError> {
        let mut op = Op::new("find volume", id);
        let span = op.span();
        let result = async {
            let (name, object) = self.volume(id)?;
            match op
                .call("Volume", self.client.volumes().get(&volume_ref(&name)))
                .await
            {
                Ok(summary) => Ok(Some(Volume::from_summary(id, &summary))),
                Err(err) if err.is_object_not_found() => Ok(None),
                Err(err) => Err(op.fail(&object, err)),
            }
        }
        .instrument(span)
        .await;
        op.finish(result)
    }

    /// The driver's volumes: every volume named `{prefix}--volume-{id}` (not the
    /// intermediates of a migration in progress), sorted by name.
    ///
    /// ```no_run
    /// # async fn run(driver: storpool_driver_core::Driver) -> Result<(), Box<dyn std::error::Error>> {
    /// for volume in driver.list_volumes().await? {
    ///     println!("{} {} GiB", volume.id, volume.size_gib);
    /// }
    /// # Ok(())
    /// # }
    /// ```
    pub async fn list_volumes(&self) -> Result<Vec<Volume>, DriverError> {
        let mut op = Op::new("list volumes", self.naming.prefix());
        let span = op.span();
        let result = async {
            let object = Object::new(IdKind::Cluster, self.client.base_url(), None);
            let all = op
                .run(&object, "VolumesList", self.client.volumes().list())
                .await?;
            // The summaries are moved, not copied: 100,000 of them hold 86 MiB.
            let mut ours: Vec<Volume> = all
                .into_iter()
                .filter(|v| !Naming::is_migration_intermediate(&v.name))
                .filter_map(|v| {
                    let id = self.naming.volume_id_of(&v.name)?.to_owned();
                    Some(Volume::from_summary_owned(id, v))
                })
                .collect();
            ours.sort_by(|a, b| a.name.cmp(&b.name));
            Ok(ours)
        }
        .instrument(span)
        .await;
        op.finish(result)
    }
}
