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
    pub fn attachments(&self) -> Attachments<'_> {
        Attachments { client: self }
    }
}

impl Attachments<'_> {
    /// `GET AttachmentsList` (MC): every attachment of every client.
    pub async fn list(&self) -> Result<Vec<Attachment>, ApiError> {
        self.client.get("AttachmentsList", &[], true).await
    }

    /// `POST VolumesReassign` (MC): attach/detach without waiting for the clients.
    pub async fn reassign(&self, entries: &[ReassignEntry]) -> Result<ApiOk, ApiError> {
        entries.iter().try_for_each(ReassignEntry::validate)?;
        self.client
            .post("VolumesReassign", &[], true, Some(entries))
            .await
    }

    /// `POST VolumesReassignWait` (MC): attach/detach and return once the clients have applied
    /// the change. A detach of an open device fails with `busy` (or `invalidParam`) and
    /// `is open at` (see [`ApiError::is_open_at`]).
    pub async fn reassign_wait(&self, request: &ReassignWait) -> Result<ApiOk, ApiError> {
        request.validate()?;
        self.client
            .post("VolumesReassignWait", &[], true, Some(request))
            .await
    }
}
