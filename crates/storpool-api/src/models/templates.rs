//! Volume templates: descriptions, status, and the create/update requests.

use serde::{Deserialize, Serialize};

use super::volumes::check_policy;
use crate::Tags;
use crate::error::ApiError;
use crate::models::{Limit, LimitType, TemplateValue};
use crate::names::{PlacementGroupName, SnapshotName, TemplateName, check_size};

/// A volume template (`VolumeTemplateDesc`), from `VolumeTemplatesList` and
/// `VolumeTemplateDescribe`.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct Template {
    /// Internal id.
    #[serde(default)]
    pub id: u64,
    /// The template's name.
    pub name: String,
    /// Snapshot new volumes are based on, `""` when none.
    pub parent_name: String,
    /// Placement group of all but the last replica.
    pub place_all: String,
    /// Placement group of the last replica.
    pub place_tail: String,
    /// Placement group of the first replica.
    pub place_head: String,
    /// Default size of new volumes, in bytes.
    pub size: TemplateValue<u64>,
    /// Default number of copies.
    pub replication: TemplateValue<u8>,
    /// Whether several replicas may be placed on one server.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reuse_server: Option<bool>,
    /// Bandwidth limit.
    pub bw: Limit,
    /// IOPS limit.
    pub iops: Limit,
    /// How the limits are counted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit_type: Option<LimitType>,
}

/// Usage and capacity of a template (`VolumeTemplateStatusDesc`), from
/// `VolumeTemplatesStatus`.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct TemplateStatus {
    /// Internal id.
    #[serde(default)]
    pub id: u64,
    /// The template's name.
    pub name: String,
    /// Placement group of all but the last replica.
    pub place_all: String,
    /// Placement group of the last replica.
    pub place_tail: String,
    /// Placement group of the first replica.
    pub place_head: String,
    /// Number of copies, when the template defines it.
    pub replication: TemplateValue<u8>,
    /// Volumes using the template.
    pub volumes_count: u64,
    /// Snapshots using it, including ones being deleted.
    pub snapshots_count: u64,
    /// Snapshots being deleted.
    pub removing_snapshots_count: u64,
    /// Provisioned bytes of its volumes, without replication.
    pub size: u64,
    /// Provisioned bytes including replication.
    pub total_size: u64,
    /// Bytes used on disks.
    pub on_disk_size: i64,
    /// Bytes of client data.
    pub stored_size: i64,
    /// Provisioned bytes of volumes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub volumes_size: Option<u64>,
    /// Provisioned bytes of snapshots without children.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub snapshots_without_children_size: Option<u64>,
    /// Provisioned bytes of snapshots with children.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub snapshots_with_children_size: Option<u64>,
    /// Free space estimate of the `placeAll` group.
    pub available_place_all: i64,
    /// Free space estimate of the `placeTail` group.
    pub available_place_tail: i64,
    /// Free space estimate of the `placeHead` group.
    pub available_place_head: i64,
    /// Physical capacity of the `placeAll` group.
    pub capacity_place_all: i64,
    /// Physical capacity of the `placeTail` group.
    pub capacity_place_tail: i64,
    /// Physical capacity of the `placeHead` group.
    pub capacity_place_head: i64,
    /// Client-data capacity and free space estimate.
    pub stored: SpaceEstimate,
}

/// Client-data capacity and free space of a template (`VolumeTemplateSpaceEst`).
#[derive(Clone, Debug, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct SpaceEstimate {
    /// Estimated client data capacity, bytes.
    pub capacity: i64,
    /// Estimated free space, bytes.
    pub free: i64,
    /// Internal numbers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub internal: Option<SpaceInternal>,
    /// Estimate for the `placeAll` group.
    pub place_all: SpaceEstimateEntry,
    /// Estimate for the `placeTail` group.
    pub place_tail: SpaceEstimateEntry,
    /// Estimate for the `placeHead` group.
    pub place_head: SpaceEstimateEntry,
}

/// Capacity and free space of one placement group of a template.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct SpaceEstimateEntry {
    /// Estimated client data capacity, bytes.
    pub capacity: i64,
    /// Estimated free space, bytes.
    pub free: i64,
    /// Internal numbers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub internal: Option<SpaceInternal>,
}

/// Internal members of a space estimate.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize, Serialize)]
#[non_exhaustive]
pub struct SpaceInternal {
    /// Internal.
    pub u1: i64,
    /// Internal.
    pub u2: i64,
    /// Internal.
    pub u3: i64,
}

/// `VolumeTemplateCreate` request (`VolumeTemplateCreateDesc`).
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TemplateCreate {
    /// The template's name.
    pub name: TemplateName,
    /// Snapshot new volumes are based on.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parent: Option<SnapshotName>,
    /// Default size of new volumes, in bytes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub size: Option<u64>,
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
    /// Tags given to volumes made from the template.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tags: Option<Tags>,
}

impl TemplateCreate {
    /// A request for a template named `name` with nothing else set.
    pub fn new(name: TemplateName) -> Self {
        Self {
            name,
            parent: None,
            size: None,
            place_all: None,
            place_tail: None,
            place_head: None,
            replication: None,
            bw: None,
            iops: None,
            reuse_server: None,
            tags: None,
        }
    }

    /// Checks size, replication and tags.
    pub fn validate(&self) -> Result<(), ApiError> {
        if let Some(size) = self.size {
            check_size("size", size)?;
        }
        check_policy(self.replication, self.tags.as_ref())
    }
}

/// `VolumeTemplateUpdate` request (`VolumeTemplateUpdateDesc`); every member is optional.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TemplateUpdate {
    /// New name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rename: Option<TemplateName>,
    /// Snapshot new volumes are based on.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parent: Option<SnapshotName>,
    /// Default size of new volumes, in bytes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub size: Option<u64>,
    /// Push the change to every volume and snapshot using the template.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub propagate: Option<bool>,
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
    /// Tags given to volumes made from the template.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tags: Option<Tags>,
}

impl TemplateUpdate {
    /// Checks size, replication and tags.
    pub fn validate(&self) -> Result<(), ApiError> {
        if let Some(size) = self.size {
            check_size("size", size)?;
        }
        check_policy(self.replication, self.tags.as_ref())
    }
}
