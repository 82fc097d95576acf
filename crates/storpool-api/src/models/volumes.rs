//! Volumes: listings, details, status, space, and the create/update/freeze/revert/rebase/delete
//! requests.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::Tags;
use crate::error::ApiError;
use crate::models::{Limit, OnAttached};
use crate::names::{
    PlacementGroupName, SnapshotRef, TemplateName, VolumeName, VolumeRef, check_replication,
    check_size, check_tags,
};

volume_object! {
    /// One volume as listed by `VolumesList` and `Volume/NAME` (`VolumeSummary`).
    pub struct VolumeSummary {
        /// The volume's name, or `~GLOBALID` for an unnamed volume.
        pub name: String,
    }
}

volume_object! {
    /// `VolumeDescribe/NAME`: the summary plus where the data lives (`Volume`).
    pub struct VolumeDescription {
        /// The volume's name, or `~GLOBALID`.
        pub name: String,
        /// The sets of disks the data should be stored on.
        pub target_disk_sets: Vec<Vec<u32>>,
        /// For each object, the disks it is stored on.
        pub objects: Vec<Vec<u32>>,
    }
}

volume_object! {
    /// `VolumeGetInfo/NAME`: the summary plus how the objects spread over disks
    /// (`VolumeInfo`).
    pub struct VolumeInfo {
        /// The volume's name, or `~GLOBALID`.
        pub name: String,
        /// Number of disks holding the volume's objects.
        pub disks_count: u64,
        /// Objects per disk id.
        pub objects_per_disk: BTreeMap<u32, u64>,
        /// Objects per replication chain.
        pub objects_per_chain: Vec<ChainStat>,
        /// Objects per disk set.
        pub objects_per_disk_set: Vec<ChainStat>,
    }
}

volume_object! {
    /// `VolumesSpace`: the summary plus space estimates (`VolumeSpace`).
    pub struct VolumeSpace {
        /// The volume's name, or `~GLOBALID`.
        pub name: String,
        /// Bytes of client data in the volume itself.
        pub stored_size: u64,
        /// Bytes of client data including all parents.
        pub space_used: u64,
    }
}

volume_object! {
    /// One entry of `VolumesGetStatus` / `VolumesGetStatusQuick`: a volume or (with
    /// `snapshot: true`) a snapshot, with its health.
    pub struct VolumeStatus {
        /// The name (including `*`-names and `~GLOBALID` names).
        pub name: String,
        /// Health of the data.
        pub status: ObjectStatus,
        /// Whether this entry is a snapshot.
        pub snapshot: bool,
        /// Whether the data is being relocated.
        pub migrating: bool,
        /// Whether some replicas are missing.
        pub decreased_redundancy: bool,
        /// Whether rebalancing is impossible with the current placement.
        pub balancer_blocked: bool,
        /// Bytes in objects being synchronized.
        pub syncing_data_bytes: u64,
        /// Objects being synchronized.
        pub syncing_meta_objects: u64,
        /// Bytes not accessible at the moment.
        pub down_bytes: u64,
        /// Objects that have to be transferred.
        pub up_soon_chains_count: u64,
        /// Disks needed by the volume that are down.
        pub down_drives: Vec<u32>,
        /// Disks that are missing (data still served from other replicas).
        pub missing_drives: Vec<u32>,
        /// Target disks that are missing.
        pub missing_target_drives: Vec<u32>,
        /// Disks being soft-ejected.
        pub soft_ejecting_drives: Vec<u32>,
        /// Bytes of client data (`VolumesGetStatus` only).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub stored_size: Option<u64>,
        /// Bytes used on disks including replication (`VolumesGetStatus` only).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub on_disk_size: Option<u64>,
        /// Snapshots only: the volume this snapshot is the direct parent of.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub on_volume: Option<String>,
        /// Snapshots only: whether the name was generated.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub auto_name: Option<bool>,
        /// Snapshots only: whether the snapshot is bound.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub bound: Option<bool>,
        /// Snapshots only: whether a deletion is pending.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub deleted: Option<bool>,
        /// Snapshots only: whether the snapshot is transient.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub transient: Option<bool>,
        /// Snapshots only: whether its data is coming from a remote location.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub recovering_from_remote: Option<bool>,
        /// Snapshots only: scheduled deletion time, unix seconds.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub target_delete_date: Option<i64>,
    }
}

/// Objects stored on one set of disks.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize, Serialize)]
#[non_exhaustive]
pub struct ChainStat {
    /// The disk ids.
    pub disks: Vec<u32>,
    /// Number of objects on them.
    pub count: u64,
}

/// Health of a volume's or snapshot's data.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Deserialize, Serialize)]
#[non_exhaustive]
pub enum ObjectStatus {
    /// Operational.
    #[serde(rename = "up")]
    Up,
    /// Synchronizing after a disk came back.
    #[serde(rename = "up soon")]
    UpSoon,
    /// The last copy of some data was lost.
    #[serde(rename = "data lost")]
    DataLost,
    /// Some objects are missing; not serving.
    #[serde(rename = "down")]
    Down,
    /// A value this client does not know.
    #[serde(other, rename = "unknown")]
    Unknown,
}

/// Validates the placement, limit and tag members shared by several requests.
pub(super) fn check_policy(replication: Option<u8>, tags: Option<&Tags>) -> Result<(), ApiError> {
    if let Some(replication) = replication {
        check_replication(replication)?;
    }
    if let Some(tags) = tags {
        check_tags(tags)?;
    }
    Ok(())
}

/// `VolumeCreate` request (`VolumeCreateDesc`). Every member is optional; without `name` the
/// volume is unnamed and reachable by its global id only.
///
/// ```
/// use storpool_api::{VolumeCreate, VolumeName, TemplateName};
///
/// let request = VolumeCreate {
///     name: Some(VolumeName::new("os--volume-1")?),
///     size: Some(10 << 30),
///     template: Some(TemplateName::new("hybrid")?),
///     ..VolumeCreate::default()
/// };
/// request.validate()?;
/// # Ok::<(), storpool_api::ApiError>(())
/// ```
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct VolumeCreate {
    /// The new volume's name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<VolumeName>,
    /// Size in bytes (positive multiple of 512); may come from the template or the parent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub size: Option<u64>,
    /// Create a thin child of this snapshot.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parent: Option<SnapshotRef>,
    /// Clone this volume (through a transient snapshot).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub base_on: Option<VolumeRef>,
    /// Take the defaults from this template.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub template: Option<TemplateName>,
    /// Number of copies, 1..=3.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub replication: Option<u8>,
    /// Placement group of all but the last replica.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub place_all: Option<PlacementGroupName>,
    /// Placement group of the last replica.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub place_tail: Option<PlacementGroupName>,
    /// Placement group of the first replica.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub place_head: Option<PlacementGroupName>,
    /// Bandwidth limit.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bw: Option<Limit>,
    /// IOPS limit.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub iops: Option<Limit>,
    /// Whether several replicas may be placed on one server.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reuse_server: Option<bool>,
    /// Tags of the new volume.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tags: Option<Tags>,
}

impl VolumeCreate {
    /// Checks the members names cannot check by their type: size, replication, tags, and that
    /// `parent` and `baseOn` are not both given.
    pub fn validate(&self) -> Result<(), ApiError> {
        if let Some(size) = self.size {
            check_size("size", size)?;
        }
        check_policy(self.replication, self.tags.as_ref())?;
        if let (Some(parent), Some(base_on)) = (&self.parent, &self.base_on) {
            return Err(ApiError::invalid(
                "baseOn",
                base_on.as_str(),
                format!("cannot be combined with `parent` (`{parent}`)"),
            ));
        }
        Ok(())
    }
}

/// The answer to `VolumeCreate` (`ApiOkVolumeCreate`).
#[derive(Clone, Debug, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct VolumeCreated {
    /// Always `true`.
    pub ok: bool,
    /// The cluster generation after the change.
    pub generation: u64,
    /// Extra information.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub info: Option<String>,
    /// The new volume's global id (servers with API 19.01 and later).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub global_id: Option<String>,
    /// The new volume's name when none was given: `~GLOBALID`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The transient snapshot made for `baseOn`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auto_name: Option<String>,
}

/// `VolumeUpdate` request (`VolumeUpdateDesc`); every member is optional.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct VolumeUpdate {
    /// New name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rename: Option<VolumeName>,
    /// New size in bytes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub size: Option<u64>,
    /// Grow by this many bytes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub size_add: Option<u64>,
    /// Must be `true` to make the volume smaller.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub shrink_ok: Option<bool>,
    /// Switch to this template (its settings are re-applied).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub template: Option<TemplateName>,
    /// Number of copies, 1..=3.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub replication: Option<u8>,
    /// Placement group of all but the last replica.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub place_all: Option<PlacementGroupName>,
    /// Placement group of the last replica.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub place_tail: Option<PlacementGroupName>,
    /// Placement group of the first replica.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub place_head: Option<PlacementGroupName>,
    /// Bandwidth limit.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bw: Option<Limit>,
    /// IOPS limit.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub iops: Option<Limit>,
    /// Whether several replicas may be placed on one server.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reuse_server: Option<bool>,
    /// Tags to set; an empty value removes a tag.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tags: Option<Tags>,
}

impl VolumeUpdate {
    /// Checks size, size increase, replication and tags, and that `size` and `sizeAdd` are not
    /// both given.
    pub fn validate(&self) -> Result<(), ApiError> {
        if let Some(size) = self.size {
            check_size("size", size)?;
        }
        if let Some(size_add) = self.size_add {
            check_size("sizeAdd", size_add)?;
            if self.size.is_some() {
                return Err(ApiError::invalid(
                    "sizeAdd",
                    size_add.to_string(),
                    "cannot be combined with `size`",
                ));
            }
        }
        check_policy(self.replication, self.tags.as_ref())
    }
}

/// `VolumeFreeze` request (`VolumeFreezeDesc`): optional automatic deletion of the snapshot
/// the volume becomes. With no member set, no body is sent.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct VolumeFreeze {
    /// Absolute unix time of the deletion (0: none).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target_delete_date: Option<i64>,
    /// Seconds from now until the deletion (0: none).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub delete_after: Option<i64>,
}

impl VolumeFreeze {
    pub(crate) fn is_empty(&self) -> bool {
        self.target_delete_date.is_none() && self.delete_after.is_none()
    }
}

/// `VolumeRevert` request (`VolumeRevertDesc`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct VolumeRevert {
    /// The snapshot whose content replaces the volume's.
    pub to_snapshot: SnapshotRef,
    /// Make the size equal to the snapshot's (newer servers).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub revert_size: Option<bool>,
}

impl VolumeRevert {
    /// Revert to `snapshot`, leaving `revertSize` unset.
    pub fn to(snapshot: impl Into<SnapshotRef>) -> Self {
        Self {
            to_snapshot: snapshot.into(),
            revert_size: None,
        }
    }
}

/// `VolumeRebase` / `SnapshotRebase` request (`VolumeRebaseDesc`): re-parent onto an ancestor,
/// or onto nothing without `parent_name`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Rebase {
    /// The new parent, one of the current ancestors.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parent_name: Option<SnapshotRef>,
}

/// `VolumeDelete` options (not in the official bindings; CloudStack sends `onAttached`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct VolumeDelete {
    /// What to do when the volume is attached (server default: fail with `busy`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub on_attached: Option<OnAttached>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unset_members_are_omitted() {
        assert_eq!(
            serde_json::to_string(&VolumeCreate::default()).unwrap(),
            "{}"
        );
        let request = VolumeCreate {
            name: Some(VolumeName::new("v").unwrap()),
            size: Some(1 << 30),
            base_on: Some(VolumeRef::new("~d.n.a").unwrap()),
            bw: Some(Limit::Unlimited),
            iops: Some(Limit::Value(100)),
            ..VolumeCreate::default()
        };
        assert_eq!(
            serde_json::to_value(&request).unwrap(),
            serde_json::json!({"name": "v", "size": 1_073_741_824_u64, "baseOn": "~d.n.a", "bw": "-", "iops": 100})
        );
    }

    #[test]
    fn create_validation_names_the_field() {
        let bad = VolumeCreate {
            size: Some(1000),
            ..VolumeCreate::default()
        };
        assert!(matches!(
            bad.validate(),
            Err(ApiError::InvalidArgument { field: "size", .. })
        ));
        let both = VolumeCreate {
            parent: Some(SnapshotRef::new("s").unwrap()),
            base_on: Some(VolumeRef::new("v").unwrap()),
            ..VolumeCreate::default()
        };
        assert!(matches!(
            both.validate(),
            Err(ApiError::InvalidArgument {
                field: "baseOn",
                ..
            })
        ));
        let replication = VolumeCreate {
            replication: Some(4),
            ..VolumeCreate::default()
        };
        assert!(matches!(
            replication.validate(),
            Err(ApiError::InvalidArgument {
                field: "replication",
                ..
            })
        ));
    }

    #[test]
    fn update_rejects_size_with_size_add() {
        let bad = VolumeUpdate {
            size: Some(512),
            size_add: Some(512),
            ..VolumeUpdate::default()
        };
        assert!(bad.validate().is_err());
        let ok = VolumeUpdate {
            size_add: Some(512),
            shrink_ok: Some(false),
            ..VolumeUpdate::default()
        };
        assert!(ok.validate().is_ok());
        assert_eq!(
            serde_json::to_value(&ok).unwrap(),
            serde_json::json!({"sizeAdd": 512, "shrinkOk": false})
        );
    }
}
