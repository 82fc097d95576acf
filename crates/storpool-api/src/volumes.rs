//! Volume calls: `client.volumes()`.

use std::collections::BTreeMap;

use crate::client::Client;
use crate::error::ApiError;
use crate::models::{
    ApiOk, One, Rebase, SnapshotSummary, VolumeCreate, VolumeCreated, VolumeDelete,
    VolumeDescription, VolumeFreeze, VolumeInfo, VolumeRevert, VolumeSpace, VolumeStatus,
    VolumeSummary, VolumeUpdate,
};
use crate::names::VolumeRef;

/// Volume calls; see [`Client::volumes`]. Calls marked MC use `MultiCluster/` when the client
/// is in multicluster mode.
#[derive(Clone, Copy, Debug)]
pub struct Volumes<'a> {
    client: &'a Client,
}

impl Client {
    /// Volume calls.
    pub fn volumes(&self) -> Volumes<'_> {
        Volumes { client: self }
    }
}

impl Volumes<'_> {
    /// `GET VolumesList` (MC): every volume.
    pub async fn list(&self) -> Result<Vec<VolumeSummary>, ApiError> {
        self.client.get("VolumesList", &[], true).await
    }

    /// `GET Volume/NAME` (MC): one volume; `objectDoesNotExist` when there is none.
    pub async fn get(&self, volume: &VolumeRef) -> Result<VolumeSummary, ApiError> {
        let One(summary) = self.client.get("Volume", &[volume.as_str()], true).await?;
        Ok(summary)
    }

    /// `GET VolumeDescribe/NAME` (MC): the volume and where its objects are.
    pub async fn describe(&self, volume: &VolumeRef) -> Result<VolumeDescription, ApiError> {
        self.client
            .get("VolumeDescribe", &[volume.as_str()], true)
            .await
    }

    /// `GET VolumeGetInfo/NAME` (MC): the volume and how its objects spread over disks.
    pub async fn info(&self, volume: &VolumeRef) -> Result<VolumeInfo, ApiError> {
        self.client
            .get("VolumeGetInfo", &[volume.as_str()], true)
            .await
    }

    /// `GET VolumeListSnapshots/NAME`: the volume's parent snapshots.
    pub async fn list_snapshots(
        &self,
        volume: &VolumeRef,
    ) -> Result<Vec<SnapshotSummary>, ApiError> {
        self.client
            .get("VolumeListSnapshots", &[volume.as_str()], false)
            .await
    }

    /// `GET VolumesGetStatus` (MC): health and stored size of every volume and snapshot, by
    /// name.
    pub async fn status(&self) -> Result<BTreeMap<String, VolumeStatus>, ApiError> {
        self.client.get("VolumesGetStatus", &[], true).await
    }

    /// `GET VolumesGetStatusQuick` (MC): like [`Volumes::status`] without the sizes.
    pub async fn status_quick(&self) -> Result<BTreeMap<String, VolumeStatus>, ApiError> {
        self.client.get("VolumesGetStatusQuick", &[], true).await
    }

    /// `GET VolumesSpace` (MC): space estimates of every volume (may be slow on big clusters).
    pub async fn space(&self) -> Result<Vec<VolumeSpace>, ApiError> {
        self.client.get("VolumesSpace", &[], true).await
    }

    /// `POST VolumeCreate` (MC). The request is validated first.
    pub async fn create(&self, request: &VolumeCreate) -> Result<VolumeCreated, ApiError> {
        request.validate()?;
        self.client
            .post("VolumeCreate", &[], true, Some(request))
            .await
    }

    /// `POST VolumeUpdate/NAME` (MC): resize, rename, retype, limits, tags.
    pub async fn update(
        &self,
        volume: &VolumeRef,
        request: &VolumeUpdate,
    ) -> Result<ApiOk, ApiError> {
        request.validate()?;
        self.client
            .post("VolumeUpdate", &[volume.as_str()], true, Some(request))
            .await
    }

    /// `POST VolumeFreeze/NAME` (MC): turn the volume into a snapshot.
    pub async fn freeze(
        &self,
        volume: &VolumeRef,
        request: &VolumeFreeze,
    ) -> Result<ApiOk, ApiError> {
        let body = (!request.is_empty()).then_some(request);
        self.client
            .post("VolumeFreeze", &[volume.as_str()], true, body)
            .await
    }

    /// `POST VolumeRevert/NAME` (MC): replace the volume's content with a snapshot's.
    pub async fn revert(
        &self,
        volume: &VolumeRef,
        request: &VolumeRevert,
    ) -> Result<ApiOk, ApiError> {
        self.client
            .post("VolumeRevert", &[volume.as_str()], true, Some(request))
            .await
    }

    /// `POST VolumeRebase/NAME`: re-parent onto an ancestor or onto nothing.
    pub async fn rebase(&self, volume: &VolumeRef, request: &Rebase) -> Result<ApiOk, ApiError> {
        self.client
            .post("VolumeRebase", &[volume.as_str()], false, Some(request))
            .await
    }

    /// `POST VolumeDelete/NAME` (MC) with no body: `busy` when attached,
    /// `objectDoesNotExist` when already gone.
    pub async fn delete(&self, volume: &VolumeRef) -> Result<ApiOk, ApiError> {
        self.client
            .post::<_, ()>("VolumeDelete", &[volume.as_str()], true, None)
            .await
    }

    /// `POST VolumeDelete/NAME` (MC) with options (`onAttached`).
    pub async fn delete_with(
        &self,
        volume: &VolumeRef,
        request: &VolumeDelete,
    ) -> Result<ApiOk, ApiError> {
        self.client
            .post("VolumeDelete", &[volume.as_str()], true, Some(request))
            .await
    }
}
