//! Clones: `baseOn` within a template, a transient snapshot across templates.

use storpool_api::{
    SnapshotCreate, SnapshotName, SnapshotUpdate, Tags, TemplateName, VolumeCreate, VolumeName,
    VolumeSummary,
};
use tracing::Instrument;

use super::volumes::qos_members;
use crate::driver::{
    Driver, Op, Specs, Wanted, bytes, mismatch, snapshot_name, snapshot_ref, volume_ref,
};
use crate::error::{DriverError, Object};
use crate::naming::IdKind;
use crate::types::Volume;

/// The tag the reference driver puts on its clone snapshot so the cluster collects it.
pub const TRANSIENT_TAG: (&str, &str) = ("transient", "1.0");

fn transient_tags() -> Tags {
    Tags::from([(TRANSIENT_TAG.0.to_owned(), TRANSIENT_TAG.1.to_owned())])
}

/// What a clone works with.
struct CloneJob<'a> {
    id: &'a str,
    name: VolumeName,
    object: Object,
    source: VolumeName,
    source_object: Object,
    size: u64,
    wanted: Wanted,
}

impl Driver {
    /// Creates volume `volume_id` of `size_gib` GiB as a copy of volume `source_volume_id`.
    ///
    /// The source's template is read from the cluster. Same template as the new type's:
    /// one `VolumeCreate` with `baseOn`. Different: the source is snapshotted as
    /// `{prefix}--clone--none--snapshot-{volume_id}` (bound to its children and tagged
    /// `transient=1.0`, so the cluster collects it once nothing depends on it), the snapshot
    /// is moved to the new template, and the volume is created from it; if a step fails the
    /// snapshot is deleted again. A clone interrupted half-way (process killed, connection
    /// lost) is finished or rolled back by the next call for the same volume id; deleting
    /// the volume removes the snapshot too. Idempotent like [`Driver::create_volume`].
    ///
    /// ```no_run
    /// # async fn run(driver: storpool_driver_core::Driver) -> Result<(), Box<dyn std::error::Error>> {
    /// use storpool_driver_core::{Specs, SpecsExt as _};
    ///
    /// // Into another template: through a snapshot that is deleted again.
    /// let hdd = Specs::from_pairs([("storpool_template", "hdd")]);
    /// let clone = driver.clone_volume("5678", "1234", 20, &hdd).await?;
    /// # Ok(())
    /// # }
    /// ```
    pub async fn clone_volume(
        &self,
        volume_id: &str,
        source_volume_id: &str,
        size_gib: u64,
        specs: &Specs,
    ) -> Result<Volume, DriverError> {
        let mut op = Op::new("clone volume", volume_id);
        let span = op.span();
        let result = async {
            let (name, object) = self.volume(volume_id)?;
            let (source, source_object) = self.volume(source_volume_id)?;
            if volume_id == source_volume_id {
                return Err(DriverError::InvalidId {
                    kind: IdKind::Volume,
                    id: volume_id.to_owned(),
                    reason: "a volume cannot be cloned onto itself",
                });
            }
            let job = CloneJob {
                id: volume_id,
                size: bytes(size_gib, &object)?,
                wanted: self.wanted(specs)?,
                name,
                object,
                source,
                source_object,
            };
            let summary = op
                .run(
                    &job.source_object,
                    "Volume",
                    self.client.volumes().get(&volume_ref(&job.source)),
                )
                .await?;
            let source_template =
                (!summary.template_name.is_empty()).then_some(summary.template_name.as_str());
            let wanted_template = job.wanted.template.as_ref().map(TemplateName::as_str);
            if source_template == wanted_template {
                tracing::debug!(template = ?wanted_template, "same template: cloning with baseOn");
                self.clone_based_on(&mut op, &job).await
            } else {
                tracing::info!(
                    from = ?source_template,
                    to = ?wanted_template,
                    "template change: cloning through a transient snapshot"
                );
                self.clone_across(&mut op, &job).await
            }
        }
        .instrument(span)
        .await;
        op.finish(result)
    }

    async fn clone_based_on(&self, op: &mut Op, job: &CloneJob<'_>) -> Result<Volume, DriverError> {
        let (iops, bw) = qos_members(&job.wanted);
        let request = VolumeCreate {
            name: Some(job.name.clone()),
            size: Some(job.size),
            base_on: Some(volume_ref(&job.source)),
            iops,
            bw,
            ..VolumeCreate::default()
        };
        match self.create_clone(op, job, &request).await? {
            None => self.read_volume(op, job.id, &job.name, &job.object).await,
            Some(existing) => Ok(Volume::from_summary(job.id, &existing)),
        }
    }

    /// `VolumeCreate`; an existing volume of that name is fine when it is what the clone
    /// would have made. Returns the existing volume when it was already there.
    async fn create_clone(
        &self,
        op: &mut Op,
        job: &CloneJob<'_>,
        request: &VolumeCreate,
    ) -> Result<Option<VolumeSummary>, DriverError> {
        match op
            .call("VolumeCreate", self.client.volumes().create(request))
            .await
        {
            Ok(_) => Ok(None),
            Err(err) if err.is_object_exists() => self
                .existing_as_created(op, &job.name, &job.object, job.size, &job.wanted)
                .await
                .map(Some),
            Err(err) => Err(op.fail(&job.object, err)),
        }
    }

    /// After a create answered `objectExists` (a retry of a create whose answer was lost):
    /// the volume that is there, if it is what the create would have made (size; template
    /// per [`Wanted::template_check`]), else a conflict saying how it differs.
    pub(crate) async fn existing_as_created(
        &self,
        op: &mut Op,
        name: &VolumeName,
        object: &Object,
        size: u64,
        wanted: &Wanted,
    ) -> Result<VolumeSummary, DriverError> {
        let existing = op
            .run(
                object,
                "Volume",
                self.client.volumes().get(&volume_ref(name)),
            )
            .await?;
        match mismatch(&existing, size, wanted.template_check(), None) {
            Some(reason) => Err(op.conflict(object, reason)),
            None => Ok(existing),
        }
    }

    async fn clone_across(&self, op: &mut Op, job: &CloneJob<'_>) -> Result<Volume, DriverError> {
        let snapshot = snapshot_name(self.naming.clone_snapshot(job.id)?)?;
        let snapshot_object = Object::new(IdKind::Snapshot, snapshot.as_str(), Some(job.id));
        if let Some(done) = self
            .resume_clone(op, job, &snapshot, &snapshot_object)
            .await?
        {
            return Ok(done);
        }
        let request = SnapshotCreate {
            name: Some(snapshot.clone()),
            bind: Some(true),
            tags: Some(transient_tags()),
            ..SnapshotCreate::default()
        };
        match op
            .call(
                "VolumeSnapshot",
                self.client
                    .snapshots()
                    .create(&volume_ref(&job.source), &request),
            )
            .await
        {
            Ok(_) => {}
            // Our own snapshot, when an attempt's answer was lost and the client retried.
            Err(err) if err.is_object_exists() => {
                tracing::info!(snapshot = %snapshot, "the clone snapshot exists already");
            }
            Err(err) => return Err(op.fail(&job.source_object, err)),
        }
        match self
            .clone_from_snapshot(op, job, &snapshot, &snapshot_object)
            .await
        {
            Ok(None) => self.read_volume(op, job.id, &job.name, &job.object).await,
            Ok(Some(existing)) => {
                if existing.parent_name != snapshot.as_str() {
                    // The volume was there already, not made from this snapshot.
                    self.discard_clone_snapshot(op, &snapshot).await;
                }
                Ok(Volume::from_summary(job.id, &existing))
            }
            Err(err) => {
                tracing::warn!(snapshot = %snapshot, "the clone failed: removing the transient snapshot");
                self.discard_clone_snapshot(op, &snapshot).await;
                Err(err)
            }
        }
    }

    /// Moves the snapshot to the new template and creates the volume from it.
    async fn clone_from_snapshot(
        &self,
        op: &mut Op,
        job: &CloneJob<'_>,
        snapshot: &SnapshotName,
        snapshot_object: &Object,
    ) -> Result<Option<VolumeSummary>, DriverError> {
        if let Some(template) = &job.wanted.template {
            let update = SnapshotUpdate {
                template: Some(template.clone()),
                ..SnapshotUpdate::default()
            };
            op.run(
                snapshot_object,
                "SnapshotUpdate",
                self.client
                    .snapshots()
                    .update(&snapshot_ref(snapshot), &update),
            )
            .await?;
        }
        let (iops, bw) = qos_members(&job.wanted);
        let request = VolumeCreate {
            name: Some(job.name.clone()),
            size: Some(job.size),
            parent: Some(snapshot_ref(snapshot)),
            template: job.wanted.template.clone(),
            replication: job.wanted.replication,
            iops,
            bw,
            ..VolumeCreate::default()
        };
        self.create_clone(op, job, &request).await
    }

    /// Handles what an interrupted earlier call left: with the volume already made from the
    /// snapshot, makes sure the snapshot collects itself and returns the volume; with only
    /// the snapshot, deletes it so the clone starts over from the source's current data.
    async fn resume_clone(
        &self,
        op: &mut Op,
        job: &CloneJob<'_>,
        snapshot: &SnapshotName,
        snapshot_object: &Object,
    ) -> Result<Option<Volume>, DriverError> {
        match op
            .call(
                "Snapshot",
                self.client.snapshots().get(&snapshot_ref(snapshot)),
            )
            .await
        {
            Ok(_) => {}
            Err(err) if err.is_object_not_found() => return Ok(None),
            Err(err) => return Err(op.fail(snapshot_object, err)),
        }
        match op
            .call("Volume", self.client.volumes().get(&volume_ref(&job.name)))
            .await
        {
            Ok(existing) => {
                let chain = op
                    .run(
                        &job.object,
                        "VolumeListSnapshots",
                        self.client.volumes().list_snapshots(&volume_ref(&job.name)),
                    )
                    .await?;
                if chain.iter().any(|s| s.name == snapshot.as_str()) {
                    tracing::info!(snapshot = %snapshot, "finishing a clone an earlier call began");
                    let update = SnapshotUpdate {
                        bind: Some(true),
                        tags: Some(transient_tags()),
                        ..SnapshotUpdate::default()
                    };
                    op.run(
                        snapshot_object,
                        "SnapshotUpdate",
                        self.client
                            .snapshots()
                            .update(&snapshot_ref(snapshot), &update),
                    )
                    .await?;
                } else {
                    // The volume does not come from this snapshot: it is a leftover.
                    self.discard_clone_snapshot(op, snapshot).await;
                }
                let template = job.wanted.template_check();
                if let Some(reason) = mismatch(&existing, job.size, template, None) {
                    return Err(op.conflict(&job.object, reason));
                }
                Ok(Some(Volume::from_summary(job.id, &existing)))
            }
            Err(err) if err.is_object_not_found() => {
                tracing::info!(snapshot = %snapshot, "rolling back a clone an earlier call began");
                match op
                    .call(
                        "SnapshotDelete",
                        self.client.snapshots().delete(&snapshot_ref(snapshot)),
                    )
                    .await
                {
                    Ok(_) => Ok(None),
                    Err(err) if err.is_object_not_found() => Ok(None),
                    Err(err) => Err(op.fail(snapshot_object, err)),
                }
            }
            Err(err) => Err(op.fail(&job.object, err)),
        }
    }

    /// Deletes a clone snapshot that is not needed, logging (not failing) if that fails.
    async fn discard_clone_snapshot(&self, op: &mut Op, snapshot: &SnapshotName) {
        match op
            .call(
                "SnapshotDelete",
                self.client.snapshots().delete(&snapshot_ref(snapshot)),
            )
            .await
        {
            Ok(_) => {}
            Err(err) if err.is_object_not_found() => {}
            Err(err) => tracing::error!(
                snapshot = %snapshot,
                error = %err,
                "could not delete the transient clone snapshot; it is bound and tagged \
                 transient, so the cluster collects it once nothing depends on it"
            ),
        }
    }

    /// After volume `id` is gone: its clone snapshot, if an interrupted clone left one (or
    /// the volume was its last child besides the source), is deleted; its data merges into
    /// the source's chain. Failures are logged only.
    pub(crate) async fn drop_clone_snapshot(&self, op: &mut Op, id: &str) {
        let Ok(snapshot) = self.naming.clone_snapshot(id).and_then(snapshot_name) else {
            return;
        };
        self.discard_clone_snapshot(op, &snapshot).await;
    }
}
