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
    ///
    /// ```
    /// # let client = storpool_api::Client::builder().base_url("http://127.0.0.1:81").token("t").build()?;
    /// let disks = client.disks(); // the calls on disks
    /// # Ok::<(), storpool_api::ApiError>(())
    /// ```
    pub fn disks(&self) -> Disks<'_> {
        Disks { client: self }
    }
}

impl Disks<'_> {
    /// `GET DisksList`: every disk by id, up and down ([`DiskSummary::is_up`]).
    ///
    /// ```no_run
    /// # async fn run(client: storpool_api::Client) -> Result<(), storpool_api::ApiError> {
    /// for (id, disk) in client.disks().list().await? {
    ///     println!("disk {id}: {disk:?}");
    /// }
    /// # Ok(())
    /// # }
    /// ```
    pub async fn list(&self) -> Result<BTreeMap<u32, DiskSummary>, ApiError> {
        self.client.get("DisksList", &[], false).await
    }

    /// `GET ServerDisksList/SERVER`: the disks of one server.
    ///
    /// ```no_run
    /// # async fn run(client: storpool_api::Client) -> Result<(), storpool_api::ApiError> {
    /// use storpool_api::ServerId;
    ///
    /// let disks = client.disks().list_on_server(ServerId::new(1)?).await?;
    /// # Ok(())
    /// # }
    /// ```
    pub async fn list_on_server(
        &self,
        server: ServerId,
    ) -> Result<BTreeMap<u32, DiskSummary>, ApiError> {
        self.client
            .get("ServerDisksList", &[&server.to_string()], false)
            .await
    }

    /// `GET DiskDescribe/ID`: one disk and the objects on it.
    ///
    /// ```no_run
    /// # async fn run(client: storpool_api::Client) -> Result<(), storpool_api::ApiError> {
    /// use storpool_api::DiskId;
    ///
    /// let disk = client.disks().describe(DiskId::new(101)?).await?;
    /// # Ok(())
    /// # }
    /// ```
    pub async fn describe(&self, disk: DiskId) -> Result<DiskDescription, ApiError> {
        self.client
            .get("DiskDescribe", &[&disk.to_string()], false)
            .await
    }
}
