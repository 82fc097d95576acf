//! Snapshots: listings, details, space, and the create/update/group requests.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::volumes::check_policy;
use crate::Tags;
use crate::error::ApiError;
use crate::models::{ChainStat, Limit};
use crate::names::{PlacementGroupName, SnapshotName, TemplateName, VolumeRef, check_tags};

snapshot_object! {
    /// One snapshot as listed by `SnapshotsList`, `Snapshot/NAME` and `VolumeListSnapshots`
    /// (`SnapshotSummary`).
    pub struct SnapshotSummary {}
}

snapshot_object! {
    /// `SnapshotDescribe/NAME`: the summary plus where the data lives (`Snapshot`).
    pub struct SnapshotDescription {
        /// The sets of disks the data should be stored on.
        pub target_disk_sets: Vec<Vec<u32>>,
        /// For each object, the disks it is stored on.
        pub objects: Vec<Vec<u32>>,
    }
}

snapshot_object! {
    /// `SnapshotGetInfo/NAME`: the summary plus how the objects spread over disks
    /// (`SnapshotInfo`).
    pub struct SnapshotInfo {
        /// Number of disks holding the snapshot's objects.
        pub disks_count: u64,
        /// Objects per disk id.
        pub objects_per_disk: BTreeMap<u32, u64>,
        /// Objects per replication chain.
        pub objects_per_chain: Vec<ChainStat>,
        /// Objects per disk set.
        pub objects_per_disk_set: Vec<ChainStat>,
    }
}

snapshot_object! {
    /// `SnapshotsSpace`: the summary plus space estimates (`SnapshotSpace`).
    pub struct SnapshotSpace {
        /// Bytes of client data in this snapshot.
        pub stored_size: u64,
        /// Bytes freed if this snapshot were deleted.
        pub space_used: u64,
    }
}

/// `VolumeSnapshot` request (`VolumeSnapshotDesc`); every member is optional.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SnapshotCreate {
    /// The snapshot's name; without one the server makes an anonymous `VOLUME@N`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<SnapshotName>,
    /// Collect the snapshot once it has no children and is not attached.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bind: Option<bool>,
    /// Absolute unix time of automatic deletion (not in the past).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target_delete_date: Option<i64>,
    /// Seconds from now until automatic deletion.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub delete_after: Option<i64>,
    /// Tags of the snapshot (a volume's tags are not copied to its snapshots).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tags: Option<Tags>,
}

impl SnapshotCreate {
    /// A request for a snapshot named `name`.
    pub fn named(name: SnapshotName) -> Self {
        Self {
            name: Some(name),
            ..Self::default()
        }
    }

    /// Checks the tags.
    pub fn validate(&self) -> Result<(), ApiError> {
        check_policy(None, self.tags.as_ref())
    }
}

/// The answer to `VolumeSnapshot` (`ApiOkSnapshotCreate`).
#[derive(Clone, Debug, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct SnapshotCreated {
    /// Always `true`.
    pub ok: bool,
    /// The cluster generation after the change.
    pub generation: u64,
    /// Extra information.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub info: Option<String>,
    /// The generated name, when none was given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auto_name: Option<String>,
    /// The snapshot's global id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub snapshot_global_id: Option<String>,
    /// The snapshot's visible id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub snapshot_visible_volume_id: Option<u64>,
}

/// `SnapshotUpdate` request (`SnapshotUpdateDesc`); every member is optional.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SnapshotUpdate {
    /// New name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rename: Option<SnapshotName>,
    /// Switch to this template.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub template: Option<TemplateName>,
    /// `true` binds the snapshot, `false` unbinds it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bind: Option<bool>,
    /// Absolute unix time of automatic deletion; 0 cancels it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target_delete_date: Option<i64>,
    /// Seconds from now until automatic deletion; 0 cancels it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub delete_after: Option<i64>,
    /// Tags to set; an empty value removes a tag.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tags: Option<Tags>,
    /// Placement group of all but the last replica.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub place_all: Option<PlacementGroupName>,
    /// Placement group of the last replica.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub place_tail: Option<PlacementGroupName>,
    /// Placement group of the first replica.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub place_head: Option<PlacementGroupName>,
    /// Number of copies, 1..=3.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub replication: Option<u8>,
    /// Bandwidth limit.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bw: Option<Limit>,
    /// IOPS limit.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub iops: Option<Limit>,
    /// Whether several replicas may be placed on one server.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reuse_server: Option<bool>,
}

impl SnapshotUpdate {
    /// Checks replication and tags.
    pub fn validate(&self) -> Result<(), ApiError> {
        check_policy(self.replication, self.tags.as_ref())
    }
}

/// `VolumesGroupSnapshot` request (`GroupSnapshotsSpec`): snapshots of several volumes taken
/// at the same instant.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct GroupSnapshot {
    /// The volumes, each with an optional snapshot name and tags.
    pub volumes: Vec<GroupSnapshotVolume>,
    /// Tags given to every snapshot.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tags: Option<Tags>,
}

impl GroupSnapshot {
    /// Checks that there is at least one volume, and every tag.
    pub fn validate(&self) -> Result<(), ApiError> {
        if self.volumes.is_empty() {
            return Err(ApiError::invalid(
                "volumes",
                "[]",
                "a group snapshot needs at least one volume",
            ));
        }
        if let Some(tags) = &self.tags {
            check_tags(tags)?;
        }
        for volume in &self.volumes {
            if let Some(tags) = &volume.tags {
                check_tags(tags)?;
            }
        }
        Ok(())
    }
}

/// One volume of a [`GroupSnapshot`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct GroupSnapshotVolume {
    /// The volume to snapshot.
    pub volume: VolumeRef,
    /// The snapshot's name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<SnapshotName>,
    /// The snapshot's own tags.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tags: Option<Tags>,
}

impl GroupSnapshotVolume {
    /// A snapshot of `volume` named `name`.
    pub fn new(volume: impl Into<VolumeRef>, name: Option<SnapshotName>) -> Self {
        Self {
            volume: volume.into(),
            name,
            tags: None,
        }
    }
}

/// The answer to `VolumesGroupSnapshot` (`GroupSnapshotsResult`).
#[derive(Clone, Debug, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct GroupSnapshotCreated {
    /// `true` when the server sends it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ok: Option<bool>,
    /// The cluster generation after the change, when the server sends it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub generation: Option<u64>,
    /// One entry per volume.
    pub snapshots: Vec<GroupSnapshotItem>,
}

/// One snapshot made by `VolumesGroupSnapshot`.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct GroupSnapshotItem {
    /// The source volume's name.
    pub volume: String,
    /// The source volume's global id.
    pub volume_global_id: String,
    /// The new snapshot's name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub snapshot: Option<String>,
    /// The new snapshot's global id.
    pub snapshot_global_id: String,
    /// Same as the snapshot's global id (kept for compatibility).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remote_id: Option<String>,
}
