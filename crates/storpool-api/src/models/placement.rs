//! Placement groups.

use serde::{Deserialize, Serialize};

use crate::names::{DiskId, PlacementGroupName};

/// A placement group: a named set of disks (`PlacementGroup`).
#[derive(Clone, Debug, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct PlacementGroup {
    /// Internal id.
    #[serde(default)]
    pub id: u64,
    /// The group's name.
    pub name: String,
    /// The disk ids in the group.
    pub disks: Vec<u32>,
}

/// `PlacementGroupUpdate` request (`PlacementGroupUpdateDesc`); creates the group when it does
/// not exist. `addDisks` and `rmDisks` are always sent (empty when unset), as the official
/// bindings do.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PlacementGroupUpdate {
    /// New name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rename: Option<PlacementGroupName>,
    /// Disks to add.
    pub add_disks: Vec<DiskId>,
    /// Disks to remove.
    pub rm_disks: Vec<DiskId>,
}
