//! Snapshots: create, delete, create a volume from one, and consistent group snapshots.

use std::collections::BTreeSet;

use storpool_api::{
    GroupSnapshot as GroupRequest, GroupSnapshotVolume, ReassignEntry, SnapshotCreate,
    SnapshotName, SnapshotRef, VolumeCreate,
};
use tracing::Instrument;

use super::volumes::qos_members;
use crate::driver::{Driver, Op, Specs, bytes, snapshot_name, snapshot_ref, volume_ref};
use crate::error::{DriverError, Object};
use crate::naming::IdKind;
use crate::types::{Deletion, GroupDeletion, GroupSnapshot, Snapshot, Volume};

impl Driver {
    /// Snapshots volume `volume_id` as `snapshot_id` (`{prefix}--snap--none--snapshot-{id}`).
    ///
    /// Idempotent: if the snapshot already exists as a snapshot of this volume (a retry
    /// after a lost answer), that is success; a name taken by anything else is a conflict.
    pub async fn create_snapshot(
        &self,
        volume_id: &str,
        snapshot_id: &str,
    ) -> Result<Snapshot, DriverError> {
        let mut op = Op::new("create snapshot", snapshot_id);
        let span = op.span();
        let result = async {
            let (volume, volume_object) = self.volume(volume_id)?;
            let (name, object) = self.snapshot(snapshot_id)?;
            let request = SnapshotCreate::named(name.clone());
            match op
                .call(
                    "VolumeSnapshot",
                    self.client
                        .snapshots()
                        .create(&volume_ref(&volume), &request),
                )
                .await
            {
                Ok(_) => {}
                Err(err) if err.is_object_exists() => {
                    let chain = op
                        .run(
                            &volume_object,
                            "VolumeListSnapshots",
                            self.client.volumes().list_snapshots(&volume_ref(&volume)),
                        )
                        .await?;
                    if !chain.iter().any(|s| s.name == name.as_str()) {
                        return Err(op.conflict(
                            &object,
                            format!(
                                "the name is taken by an object that is not a snapshot of \
                                 volume `{volume}`"
                            ),
                        ));
                    }
                    tracing::info!(snapshot = %name, "the snapshot already exists: done");
                }
                Err(err) => return Err(op.fail(&volume_object, err)),
            }
            self.read_snapshot(&mut op, snapshot_id, &name, &object)
                .await
        }
        .instrument(span)
        .await;
        op.finish(result)
    }

    /// Deletes snapshot `snapshot_id`: detaches it everywhere, then deletes it. Already gone
    /// is success (`existed: false`).
    pub async fn delete_snapshot(&self, snapshot_id: &str) -> Result<Deletion, DriverError> {
        let mut op = Op::new("delete snapshot", snapshot_id);
        let span = op.span();
        let result = async {
            let (name, object) = self.snapshot(snapshot_id)?;
            let existed = self.remove_snapshot(&mut op, &name, &object).await?;
            Ok(Deletion {
                id: snapshot_id.to_owned(),
                name: name.into_string(),
                existed,
            })
        }
        .instrument(span)
        .await;
        op.finish(result)
    }

    /// Detach everywhere, then delete; `false` when it was already gone.
    pub(crate) async fn remove_snapshot(
        &self,
        op: &mut Op,
        name: &SnapshotName,
        object: &Object,
    ) -> Result<bool, DriverError> {
        let sref = snapshot_ref(name);
        let detach = [ReassignEntry::detach_snapshot_everywhere(sref.clone())];
        match op
            .call(
                "VolumesReassign",
                self.client.attachments().reassign(&detach),
            )
            .await
        {
            Ok(_) => {}
            Err(err) if err.is_object_not_found() => return Ok(false),
            Err(err) => return Err(op.fail(object, err)),
        }
        // It was there when the detach went through: a delete that now finds it gone is a
        // retry of our own delete whose answer was lost.
        match op
            .call("SnapshotDelete", self.client.snapshots().delete(&sref))
            .await
        {
            Ok(_) => Ok(true),
            Err(err) if err.is_object_not_found() => Ok(true),
            Err(err) => Err(op.fail(object, err)),
        }
    }

    /// Creates volume `volume_id` of `size_gib` GiB from snapshot `snapshot_id`.
    ///
    /// Beyond the reference (which always inherits the snapshot's template): when the type
    /// (or the backend default) names a template, the new volume gets it; otherwise it
    /// inherits the snapshot's. QoS limits of the type are applied. Idempotent like
    /// [`Driver::create_volume`].
    pub async fn create_volume_from_snapshot(
        &self,
        volume_id: &str,
        snapshot_id: &str,
        size_gib: u64,
        specs: &Specs,
    ) -> Result<Volume, DriverError> {
        let mut op = Op::new("create volume from snapshot", volume_id);
        let span = op.span();
        let result = async {
            let (snapshot, _) = self.snapshot(snapshot_id)?;
            self.create_from(&mut op, volume_id, &snapshot, size_gib, specs)
                .await
        }
        .instrument(span)
        .await;
        op.finish(result)
    }

    /// Creates volume `volume_id` from the member of group snapshot `group_id` taken of
    /// volume `source_volume_id`; otherwise as [`Driver::create_volume_from_snapshot`].
    pub async fn create_volume_from_group_snapshot(
        &self,
        volume_id: &str,
        group_id: &str,
        source_volume_id: &str,
        size_gib: u64,
        specs: &Specs,
    ) -> Result<Volume, DriverError> {
        let mut op = Op::new("create volume from group snapshot", volume_id);
        let span = op.span();
        let result = async {
            let member = self
                .naming
                .group_member_snapshot(group_id, source_volume_id)?;
            let snapshot = snapshot_name(member)?;
            self.create_from(&mut op, volume_id, &snapshot, size_gib, specs)
                .await
        }
        .instrument(span)
        .await;
        op.finish(result)
    }

    async fn create_from(
        &self,
        op: &mut Op,
        volume_id: &str,
        snapshot: &SnapshotName,
        size_gib: u64,
        specs: &Specs,
    ) -> Result<Volume, DriverError> {
        let (name, object) = self.volume(volume_id)?;
        let size = bytes(size_gib, &object)?;
        let wanted = self.wanted(specs)?;
        let (iops, bw) = qos_members(&wanted);
        let request = VolumeCreate {
            name: Some(name.clone()),
            size: Some(size),
            parent: Some(snapshot_ref(snapshot)),
            template: wanted.template.clone(),
            iops,
            bw,
            ..VolumeCreate::default()
        };
        match op
            .call("VolumeCreate", self.client.volumes().create(&request))
            .await
        {
            Ok(_) => self.read_volume(op, volume_id, &name, &object).await,
            Err(err) if err.is_object_exists() => {
                let existing = self
                    .existing_as_created(op, &name, &object, size, &wanted)
                    .await?;
                Ok(Volume::from_summary(volume_id, &existing))
            }
            Err(err) if err.is_object_not_found() => {
                let snapshot_object = Object::new(IdKind::Snapshot, snapshot.as_str(), None);
                Err(op.fail(&snapshot_object, err))
            }
            Err(err) => Err(op.fail(&object, err)),
        }
    }

    /// Takes a crash-consistent snapshot of several volumes at one instant
    /// (`VolumesGroupSnapshot`): one snapshot per volume, named
    /// `{prefix}--group--{group_id}--snapshot-{volume_id}`.
    ///
    /// Idempotent: when every member already exists (a retry after a lost answer), that is
    /// success.
    pub async fn create_group_snapshot<S: AsRef<str>>(
        &self,
        group_id: &str,
        volume_ids: &[S],
    ) -> Result<GroupSnapshot, DriverError> {
        let mut op = Op::new("create group snapshot", group_id);
        let span = op.span();
        let result = self
            .create_group_in(&mut op, group_id, volume_ids)
            .instrument(span)
            .await;
        op.finish(result)
    }

    async fn create_group_in<S: AsRef<str>>(
        &self,
        op: &mut Op,
        group_id: &str,
        volume_ids: &[S],
    ) -> Result<GroupSnapshot, DriverError> {
        let object = Object::new(
            IdKind::GroupSnapshot,
            self.naming.group_snapshot_prefix(group_id)?,
            Some(group_id),
        );
        let invalid = |reason: &str| DriverError::InvalidGroup {
            id: group_id.to_owned(),
            reason: reason.to_owned(),
        };
        if volume_ids.is_empty() {
            return Err(invalid("a group snapshot needs at least one volume"));
        }
        let mut members = Vec::with_capacity(volume_ids.len());
        let mut seen = BTreeSet::new();
        for volume_id in volume_ids {
            let volume_id = volume_id.as_ref();
            if !seen.insert(volume_id) {
                return Err(invalid(&format!("volume `{volume_id}` is listed twice")));
            }
            let (volume, _) = self.volume(volume_id)?;
            let snapshot = snapshot_name(self.naming.group_member_snapshot(group_id, volume_id)?)?;
            members.push((volume_id, volume, snapshot));
        }
        let request = GroupRequest {
            volumes: members
                .iter()
                .map(|(_, volume, snapshot)| {
                    GroupSnapshotVolume::new(volume_ref(volume), Some(snapshot.clone()))
                })
                .collect(),
            tags: None,
        };
        match op
            .call(
                "VolumesGroupSnapshot",
                self.client.snapshots().create_group(&request),
            )
            .await
        {
            Ok(_) => {}
            Err(err) if err.is_object_exists() => {
                tracing::info!("a member exists: checking for a completed earlier attempt");
            }
            Err(err) => return Err(op.fail(&object, err)),
        }
        let all = op
            .run(&object, "SnapshotsList", self.client.snapshots().list())
            .await?;
        let mut snapshots = Vec::with_capacity(members.len());
        for (volume_id, volume, snapshot) in &members {
            let found = all
                .iter()
                .find(|s| s.name == snapshot.as_str() && !s.deleted)
                .ok_or_else(|| {
                    op.conflict(
                        &object,
                        format!(
                            "the group snapshot is incomplete: `{snapshot}` of volume \
                             `{volume}` is missing while other members exist"
                        ),
                    )
                })?;
            snapshots.push(Snapshot::from_summary(volume_id, found));
        }
        Ok(GroupSnapshot {
            id: group_id.to_owned(),
            snapshots,
        })
    }

    /// Deletes every member of group snapshot `group_id` (detaching each first). Nothing
    /// left is success.
    pub async fn delete_group_snapshot(
        &self,
        group_id: &str,
    ) -> Result<GroupDeletion, DriverError> {
        let mut op = Op::new("delete group snapshot", group_id);
        let span = op.span();
        let result = async {
            let prefix = self.naming.group_snapshot_prefix(group_id)?;
            let object = Object::new(IdKind::GroupSnapshot, prefix.clone(), Some(group_id));
            let all = op
                .run(&object, "SnapshotsList", self.client.snapshots().list())
                .await?;
            let mut deleted = Vec::new();
            for summary in all
                .iter()
                .filter(|s| s.name.starts_with(&prefix) && !s.deleted)
            {
                let name = snapshot_name(summary.name.clone())?;
                let member = Object::new(IdKind::Snapshot, summary.name.clone(), None);
                if self.remove_snapshot(&mut op, &name, &member).await? {
                    deleted.push(summary.name.clone());
                }
            }
            Ok(GroupDeletion {
                id: group_id.to_owned(),
                deleted,
            })
        }
        .instrument(span)
        .await;
        op.finish(result)
    }

    /// Reads one of our snapshots back.
    pub(crate) async fn read_snapshot(
        &self,
        op: &mut Op,
        id: &str,
        name: &SnapshotName,
        object: &Object,
    ) -> Result<Snapshot, DriverError> {
        let summary = op
            .run(
                object,
                "Snapshot",
                self.client.snapshots().get(&SnapshotRef::from(name)),
            )
            .await?;
        Ok(Snapshot::from_summary(id, &summary))
    }
}
