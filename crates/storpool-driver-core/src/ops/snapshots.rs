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
    /// `{prefix}--group--{group_id}--snapshot-{volume_id}`; each member's `id` is its
    /// volume's id ([`Driver::create_volume_from_group_snapshot`] and
    /// [`Driver::delete_group_snapshot`] find them by the group id).
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
        let result = async {
            let mut members = Vec::with_capacity(volume_ids.len());
            for volume_id in volume_ids {
                let volume_id = volume_id.as_ref();
                let snapshot =
                    snapshot_name(self.naming.group_member_snapshot(group_id, volume_id)?)?;
                members.push(Member {
                    id: volume_id,
                    volume_id,
                    snapshot,
                });
            }
            self.create_group_in(&mut op, group_id, members).await
        }
        .instrument(span)
        .await;
        op.finish(result)
    }

    /// Takes a crash-consistent snapshot of several volumes at one instant, as
    /// [`Driver::create_group_snapshot`], but each member is an ordinary snapshot of the
    /// orchestrator's own id: `members` pairs each volume id with its snapshot id (Cinder's
    /// group snapshots, whose member snapshots have ids of their own), so every snapshot
    /// operation ([`Driver::create_volume_from_snapshot`], [`Driver::revert_volume`],
    /// [`Driver::delete_snapshot`]) works on them. Each member's `id` is its snapshot id.
    ///
    /// Idempotent like [`Driver::create_group_snapshot`].
    pub async fn create_group_snapshot_of<V: AsRef<str>, S: AsRef<str>>(
        &self,
        group_id: &str,
        members: &[(V, S)],
    ) -> Result<GroupSnapshot, DriverError> {
        let mut op = Op::new("create group snapshot", group_id);
        let span = op.span();
        let result = async {
            let mut named = Vec::with_capacity(members.len());
            let mut snapshot_ids = BTreeSet::new();
            for (volume_id, snapshot_id) in members {
                let (volume_id, snapshot_id) = (volume_id.as_ref(), snapshot_id.as_ref());
                if !snapshot_ids.insert(snapshot_id) {
                    return Err(DriverError::InvalidGroup {
                        id: group_id.to_owned(),
                        reason: format!("snapshot `{snapshot_id}` is listed twice"),
                    });
                }
                let (snapshot, _) = self.snapshot(snapshot_id)?;
                named.push(Member {
                    id: snapshot_id,
                    volume_id,
                    snapshot,
                });
            }
            self.create_group_in(&mut op, group_id, named).await
        }
        .instrument(span)
        .await;
        op.finish(result)
    }

    async fn create_group_in(
        &self,
        op: &mut Op,
        group_id: &str,
        members: Vec<Member<'_>>,
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
        if members.is_empty() {
            return Err(invalid("a group snapshot needs at least one volume"));
        }
        let mut seen = BTreeSet::new();
        let mut volumes = Vec::with_capacity(members.len());
        for member in &members {
            if !seen.insert(member.volume_id) {
                return Err(invalid(&format!(
                    "volume `{}` is listed twice",
                    member.volume_id
                )));
            }
            volumes.push(self.volume(member.volume_id)?.0);
        }
        let members: Vec<_> = members.into_iter().zip(volumes).collect();
        let request = GroupRequest {
            volumes: members
                .iter()
                .map(|(member, volume)| {
                    GroupSnapshotVolume::new(volume_ref(volume), Some(member.snapshot.clone()))
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
        for (Member { id, snapshot, .. }, volume) in &members {
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
            snapshots.push(Snapshot::from_summary(id, found));
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

/// One member of a group snapshot being made.
struct Member<'a> {
    /// The id the result reports it under.
    id: &'a str,
    /// The volume's id.
    volume_id: &'a str,
    /// The snapshot's cluster name.
    snapshot: SnapshotName,
}
