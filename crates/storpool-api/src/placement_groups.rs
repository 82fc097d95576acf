//! Placement group calls: `client.placement_groups()`.

use std::collections::BTreeMap;

use crate::client::Client;
use crate::error::ApiError;
use crate::models::{ApiOk, PlacementGroup, PlacementGroupUpdate};
use crate::names::PlacementGroupName;

/// Placement group calls; see [`Client::placement_groups`].
#[derive(Clone, Copy, Debug)]
pub struct PlacementGroups<'a> {
    client: &'a Client,
}

impl Client {
    /// Placement group calls.
    pub fn placement_groups(&self) -> PlacementGroups<'_> {
        PlacementGroups { client: self }
    }
}

impl PlacementGroups<'_> {
    /// `GET PlacementGroupsList`: every group by name.
    pub async fn list(&self) -> Result<BTreeMap<String, PlacementGroup>, ApiError> {
        self.client.get("PlacementGroupsList", &[], false).await
    }

    /// `GET PlacementGroupDescribe/NAME`.
    pub async fn describe(&self, group: &PlacementGroupName) -> Result<PlacementGroup, ApiError> {
        self.client
            .get("PlacementGroupDescribe", &[group.as_str()], false)
            .await
    }

    /// `POST PlacementGroupUpdate/NAME`: add or remove disks, rename; creates the group when it
    /// does not exist.
    pub async fn update(
        &self,
        group: &PlacementGroupName,
        request: &PlacementGroupUpdate,
    ) -> Result<ApiOk, ApiError> {
        self.client
            .post(
                "PlacementGroupUpdate",
                &[group.as_str()],
                false,
                Some(request),
            )
            .await
    }

    /// `POST PlacementGroupDelete/NAME`.
    pub async fn delete(&self, group: &PlacementGroupName) -> Result<ApiOk, ApiError> {
        self.client
            .post::<_, ()>("PlacementGroupDelete", &[group.as_str()], false, None)
            .await
    }
}
