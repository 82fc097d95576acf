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
    ///
    /// ```
    /// # let client = storpool_api::Client::builder().base_url("http://127.0.0.1:81").token("t").build()?;
    /// let volumes = client.volumes(); // the calls on volumes
    /// # Ok::<(), storpool_api::ApiError>(())
    /// ```
    pub fn volumes(&self) -> Volumes<'_> {
        Volumes { client: self }
    }
}

impl Volumes<'_> {
    /// `GET VolumesList` (MC): every volume.
    ///
    /// ```no_run
    /// # async fn run(client: storpool_api::Client) -> Result<(), storpool_api::ApiError> {
    /// for volume in client.volumes().list().await? {
    ///     println!("{} {} bytes, template {:?}", volume.name, volume.size, volume.template_name);
    /// }
    /// # Ok(())
    /// # }
    /// ```
    pub async fn list(&self) -> Result<Vec<VolumeSummary>, ApiError> {
        self.client.get_listing("VolumesList", &[], true).await
    }

    /// `GET Volume/NAME` (MC): one volume; `objectDoesNotExist` when there is none.
    ///
    /// ```no_run
    /// # async fn run(client: storpool_api::Client) -> Result<(), storpool_api::ApiError> {
    /// use storpool_api::VolumeRef;
    ///
    /// let volume = client.volumes().get(&VolumeRef::new("os--volume-1")?).await?;
    /// println!("{}", volume.global_id);
    /// # Ok(())
    /// # }
    /// ```
    pub async fn get(&self, volume: &VolumeRef) -> Result<VolumeSummary, ApiError> {
        let One(summary) = self.client.get("Volume", &[volume.as_str()], true).await?;
        Ok(summary)
    }

    /// `GET VolumeDescribe/NAME` (MC): the volume and where its objects are.
    ///
    /// ```no_run
    /// # async fn run(client: storpool_api::Client) -> Result<(), storpool_api::ApiError> {
    /// use storpool_api::VolumeRef;
    ///
    /// let described = client.volumes().describe(&VolumeRef::new("os--volume-1")?).await?;
    /// # Ok(())
    /// # }
    /// ```
    pub async fn describe(&self, volume: &VolumeRef) -> Result<VolumeDescription, ApiError> {
        self.client
            .get("VolumeDescribe", &[volume.as_str()], true)
            .await
    }

    /// `GET VolumeGetInfo/NAME` (MC): the volume and how its objects spread over disks.
    ///
    /// ```no_run
    /// # async fn run(client: storpool_api::Client) -> Result<(), storpool_api::ApiError> {
    /// use storpool_api::VolumeRef;
    ///
    /// let info = client.volumes().info(&VolumeRef::new("os--volume-1")?).await?;
    /// # Ok(())
    /// # }
    /// ```
    pub async fn info(&self, volume: &VolumeRef) -> Result<VolumeInfo, ApiError> {
        self.client
            .get("VolumeGetInfo", &[volume.as_str()], true)
            .await
    }

    /// `GET VolumeListSnapshots/NAME`: the volume's parent snapshots.
    ///
    /// ```no_run
    /// # async fn run(client: storpool_api::Client) -> Result<(), storpool_api::ApiError> {
    /// use storpool_api::VolumeRef;
    ///
    /// let chain = client.volumes().list_snapshots(&VolumeRef::new("os--volume-1")?).await?;
    /// println!("{} snapshots in its chain", chain.len());
    /// # Ok(())
    /// # }
    /// ```
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
    ///
    /// ```no_run
    /// # async fn run(client: storpool_api::Client) -> Result<(), storpool_api::ApiError> {
    /// for (name, status) in client.volumes().status().await? {
    ///     println!("{name}: {status:?}");
    /// }
    /// # Ok(())
    /// # }
    /// ```
    pub async fn status(&self) -> Result<BTreeMap<String, VolumeStatus>, ApiError> {
        self.client.get("VolumesGetStatus", &[], true).await
    }

    /// `GET VolumesGetStatusQuick` (MC): like [`Volumes::status`] without the sizes.
    ///
    /// ```no_run
    /// # async fn run(client: storpool_api::Client) -> Result<(), storpool_api::ApiError> {
    /// let quick = client.volumes().status_quick().await?;
    /// # Ok(())
    /// # }
    /// ```
    pub async fn status_quick(&self) -> Result<BTreeMap<String, VolumeStatus>, ApiError> {
        self.client.get("VolumesGetStatusQuick", &[], true).await
    }

    /// `GET VolumesSpace` (MC): space estimates of every volume (may be slow on big clusters).
    ///
    /// ```no_run
    /// # async fn run(client: storpool_api::Client) -> Result<(), storpool_api::ApiError> {
    /// for space in client.volumes().space().await? {
    ///     println!("{space:?}");
    /// }
    /// # Ok(())
    /// # }
    /// ```
    pub async fn space(&self) -> Result<Vec<VolumeSpace>, ApiError> {
        self.client.get_listing("VolumesSpace", &[], true).await
    }

    /// `POST VolumeCreate` (MC). The request is validated first.
    ///
    /// ```no_run
    /// # async fn run(client: storpool_api::Client) -> Result<(), storpool_api::ApiError> {
    /// use storpool_api::{TemplateName, VolumeCreate, VolumeName};
    ///
    /// let created = client
    ///     .volumes()
    ///     .create(&VolumeCreate {
    ///         name: Some(VolumeName::new("os--volume-1")?),
    ///         size: Some(10 << 30),
    ///         template: Some(TemplateName::new("ssd")?),
    ///         ..VolumeCreate::default()
    ///     })
    ///     .await?;
    /// println!("{:?}", created.global_id);
    /// # Ok(())
    /// # }
    /// ```
    pub async fn create(&self, request: &VolumeCreate) -> Result<VolumeCreated, ApiError> {
        request.validate()?;
        self.client
            .post("VolumeCreate", &[], true, Some(request))
            .await
    }

    /// `POST VolumeUpdate/NAME` (MC): resize, rename, retype, limits, tags.
    ///
    /// ```no_run
    /// # async fn run(client: storpool_api::Client) -> Result<(), storpool_api::ApiError> {
    /// use storpool_api::{VolumeRef, VolumeUpdate};
    ///
    /// let grow = VolumeUpdate { size: Some(20 << 30), ..VolumeUpdate::default() };
    /// client.volumes().update(&VolumeRef::new("os--volume-1")?, &grow).await?;
    /// # Ok(())
    /// # }
    /// ```
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
    ///
    /// ```no_run
    /// # async fn run(client: storpool_api::Client) -> Result<(), storpool_api::ApiError> {
    /// use storpool_api::{VolumeFreeze, VolumeRef};
    ///
    /// client.volumes().freeze(&VolumeRef::new("os--volume-1")?, &VolumeFreeze::default()).await?;
    /// # Ok(())
    /// # }
    /// ```
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
    ///
    /// ```no_run
    /// # async fn run(client: storpool_api::Client) -> Result<(), storpool_api::ApiError> {
    /// use storpool_api::{SnapshotRef, VolumeRef, VolumeRevert};
    ///
    /// let to = VolumeRevert::to(SnapshotRef::new("os--snap--none--snapshot-s1")?);
    /// client.volumes().revert(&VolumeRef::new("os--volume-1")?, &to).await?;
    /// # Ok(())
    /// # }
    /// ```
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
    ///
    /// ```no_run
    /// # async fn run(client: storpool_api::Client) -> Result<(), storpool_api::ApiError> {
    /// use storpool_api::{Rebase, VolumeRef};
    ///
    /// // No parent: the volume keeps all its data itself.
    /// client.volumes().rebase(&VolumeRef::new("os--volume-1")?, &Rebase::default()).await?;
    /// # Ok(())
    /// # }
    /// ```
    pub async fn rebase(&self, volume: &VolumeRef, request: &Rebase) -> Result<ApiOk, ApiError> {
        self.client
            .post("VolumeRebase", &[volume.as_str()], false, Some(request))
            .await
    }

    /// `POST VolumeDelete/NAME` (MC) with no body: `busy` when attached,
    /// `objectDoesNotExist` when already gone.
    ///
    /// ```no_run
    /// # async fn run(client: storpool_api::Client) -> Result<(), storpool_api::ApiError> {
    /// use storpool_api::VolumeRef;
    ///
    /// match client.volumes().delete(&VolumeRef::new("os--volume-1")?).await {
    ///     Err(err) if err.is_object_not_found() => println!("already gone"),
    ///     other => { other?; }
    /// }
    /// # Ok(())
    /// # }
    /// ```
    pub async fn delete(&self, volume: &VolumeRef) -> Result<ApiOk, ApiError> {
        self.client
            .post::<_, ()>("VolumeDelete", &[volume.as_str()], true, None)
            .await
    }

    /// `POST VolumeDelete/NAME` (MC) with options (`onAttached`).
    ///
    /// ```no_run
    /// # async fn run(client: storpool_api::Client) -> Result<(), storpool_api::ApiError> {
    /// use storpool_api::{OnAttached, VolumeDelete, VolumeRef};
    ///
    /// let detach_first = VolumeDelete { on_attached: Some(OnAttached::Detach) };
    /// client.volumes().delete_with(&VolumeRef::new("os--volume-1")?, &detach_first).await?;
    /// # Ok(())
    /// # }
    /// ```
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
