//! Attachment calls: `client.attachments()`.

use crate::client::Client;
use crate::error::ApiError;
use crate::models::{ApiOk, Attachment, ReassignEntry, ReassignWait};

/// Attachment calls; see [`Client::attachments`]. All of them use `MultiCluster/` when the
/// client is in multicluster mode.
#[derive(Clone, Copy, Debug)]
pub struct Attachments<'a> {
    client: &'a Client,
}

impl Client {
    /// Attachment calls.
    ///
    /// ```
    /// # let client = storpool_api::Client::builder().base_url("http://127.0.0.1:81").token("t").build()?;
    /// let attachments = client.attachments(); // attach, detach, list
    /// # Ok::<(), storpool_api::ApiError>(())
    /// ```
    pub fn attachments(&self) -> Attachments<'_> {
        Attachments { client: self }
    }
}

impl Attachments<'_> {
    /// `GET AttachmentsList` (MC): every attachment of every client.
    ///
    /// ```no_run
    /// # async fn run(client: storpool_api::Client) -> Result<(), storpool_api::ApiError> {
    /// for attachment in client.attachments().list().await? {
    ///     println!("{} on client {} ({:?})", attachment.volume, attachment.client, attachment.rights);
    /// }
    /// # Ok(())
    /// # }
    /// ```
    pub async fn list(&self) -> Result<Vec<Attachment>, ApiError> {
        self.client.get_listing("AttachmentsList", &[], true).await
    }

    /// `POST VolumesReassign` (MC): attach/detach without waiting for the clients.
    ///
    /// ```no_run
    /// # async fn run(client: storpool_api::Client) -> Result<(), storpool_api::ApiError> {
    /// use storpool_api::{ReassignEntry, VolumeRef};
    ///
    /// let detach = ReassignEntry::detach_volume_everywhere(VolumeRef::new("os--volume-1")?);
    /// client.attachments().reassign(&[detach]).await?;
    /// # Ok(())
    /// # }
    /// ```
    pub async fn reassign(&self, entries: &[ReassignEntry]) -> Result<ApiOk, ApiError> {
        entries.iter().try_for_each(ReassignEntry::validate)?;
        self.client
            .post("VolumesReassign", &[], true, Some(entries))
            .await
    }

    /// `POST VolumesReassignWait` (MC): attach/detach and return once the clients have applied
    /// the change. A detach of an open device fails with `busy` (or `invalidParam`) and
    /// `is open at` (see [`ApiError::is_open_at`]).
    ///
    /// ```no_run
    /// # async fn run(client: storpool_api::Client) -> Result<(), storpool_api::ApiError> {
    /// use storpool_api::{ClientId, ReassignEntry, ReassignWait, Rights, VolumeRef};
    ///
    /// let attach = ReassignEntry::attach_volume(VolumeRef::new("os--volume-1")?, ClientId::new(3)?, Rights::Rw);
    /// let request = ReassignWait { attach_timeout: Some(10), ..ReassignWait::new(vec![attach]) };
    /// client.attachments().reassign_wait(&request).await?;
    /// # Ok(())
    /// # }
    /// ```
    pub async fn reassign_wait(&self, request: &ReassignWait) -> Result<ApiOk, ApiError> {
        request.validate()?;
        self.client
            .post("VolumesReassignWait", &[], true, Some(request))
            .await
    }
}
