//! Disk calls: `client.disks()`.

use std::collections::BTreeMap;

use crate::client::Client;
use crate::error::ApiError;
use crate::models::{DiskDescription, DiskSummary};
use crate::names::{DiskId, ServerId};

/// Disk calls; see [`Client::disks`].
#[derive(Clone, Copy, Debug)]
pub struct Disks<'a> {
    client: &'a Client,
}

impl Client {
    /// Disk calls.
    pub fn disks(&self) -> Disks<'_> {
        Disks { client: self }
    }
}

impl Disks<'_> {
    /// `GET DisksList`: every disk by id, up and down ([`DiskSummary::is_up`]).
    pub async fn list(&self) -> Result<BTreeMap<u32, DiskSummary>, ApiError> {
        self.client.get("DisksList", &[], false).await
    }

    /// `GET ServerDisksList/SERVER`: the disks of one server.
    pub async fn list_on_server(
        &self,
        server: ServerId,
    ) -> Result<BTreeMap<u32, DiskSummary>, ApiError> {
        self.client
            .get("ServerDisksList", &[&server.to_string()], false)
            .await
    }

    /// `GET DiskDescribe/ID`: one disk and the objects on it.
    pub async fn describe(&self, disk: DiskId) -> Result<DiskDescription, ApiError> {
        self.client
            .get("DiskDescribe", &[&disk.to_string()], false)
            .await
    }
}
