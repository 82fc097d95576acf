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
    ///
    /// ```
    /// # let client = storpool_api::Client::builder().base_url("http://127.0.0.1:81").token("t").build()?;
    /// let groups = client.placement_groups(); // the calls on placement groups
    /// # Ok::<(), storpool_api::ApiError>(())
    /// ```
    pub fn placement_groups(&self) -> PlacementGroups<'_> {
        PlacementGroups { client: self }
    }
}

impl PlacementGroups<'_> {
    /// `GET PlacementGroupsList`: every group by name.
    ///
    /// ```no_run
    /// # async fn run(client: storpool_api::Client) -> Result<(), storpool_api::ApiError> {
    /// for name in client.placement_groups().list().await?.keys() {
    ///     println!("{name}");
    /// }
    /// # Ok(())
    /// # }
    /// ```
    pub async fn list(&self) -> Result<BTreeMap<String, PlacementGroup>, ApiError> {
        self.client.get("PlacementGroupsList", &[], false).await
    }

    /// `GET PlacementGroupDescribe/NAME`.
    ///
    /// ```no_run
    /// # async fn run(client: storpool_api::Client) -> Result<(), storpool_api::ApiError> {
    /// use storpool_api::PlacementGroupName;
    ///
    /// let group = client.placement_groups().describe(&PlacementGroupName::new("ssd")?).await?;
    /// # Ok(())
    /// # }
    /// ```
    pub async fn describe(&self, group: &PlacementGroupName) -> Result<PlacementGroup, ApiError> {
        self.client
            .get("PlacementGroupDescribe", &[group.as_str()], false)
            .await
    }

    /// `POST PlacementGroupUpdate/NAME`: add or remove disks, rename; creates the group when it
    /// does not exist.
    ///
    /// ```no_run
    /// # async fn run(client: storpool_api::Client) -> Result<(), storpool_api::ApiError> {
    /// use storpool_api::{DiskId, PlacementGroupName, PlacementGroupUpdate};
    ///
    /// let add = PlacementGroupUpdate { add_disks: vec![DiskId::new(101)?], ..PlacementGroupUpdate::default() };
    /// client.placement_groups().update(&PlacementGroupName::new("ssd")?, &add).await?;
    /// # Ok(())
    /// # }
    /// ```
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
    ///
    /// ```no_run
    /// # async fn run(client: storpool_api::Client) -> Result<(), storpool_api::ApiError> {
    /// use storpool_api::PlacementGroupName;
    ///
    /// client.placement_groups().delete(&PlacementGroupName::new("old")?).await?;
    /// # Ok(())
    /// # }
    /// ```
    pub async fn delete(&self, group: &PlacementGroupName) -> Result<ApiOk, ApiError> {
        self.client
            .post::<_, ()>("PlacementGroupDelete", &[group.as_str()], false, None)
            .await
    }
}
