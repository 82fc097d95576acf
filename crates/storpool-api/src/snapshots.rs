//! Snapshot calls: `client.snapshots()`.

use crate::client::Client;
use crate::error::ApiError;
use crate::models::{
    ApiOk, GroupSnapshot, GroupSnapshotCreated, One, Rebase, SnapshotCreate, SnapshotCreated,
    SnapshotDescription, SnapshotInfo, SnapshotSpace, SnapshotSummary, SnapshotUpdate,
};
use crate::names::{GlobalId, SnapshotRef, VolumeRef};

/// Snapshot calls; see [`Client::snapshots`]. Calls marked MC use `MultiCluster/` when the
/// client is in multicluster mode.
#[derive(Clone, Copy, Debug)]
pub struct Snapshots<'a> {
    client: &'a Client,
}

impl Client {
    /// Snapshot calls.
    ///
    /// ```
    /// # let client = storpool_api::Client::builder().base_url("http://127.0.0.1:81").token("t").build()?;
    /// let snapshots = client.snapshots(); // the calls on snapshots
    /// # Ok::<(), storpool_api::ApiError>(())
    /// ```
    pub fn snapshots(&self) -> Snapshots<'_> {
        Snapshots { client: self }
    }
}

impl Snapshots<'_> {
    /// `GET SnapshotsList` (MC): every snapshot, including anonymous, bound, transient and
    /// `*`-deleted ones.
    ///
    /// ```no_run
    /// # async fn run(client: storpool_api::Client) -> Result<(), storpool_api::ApiError> {
    /// for snapshot in client.snapshots().list().await? {
    ///     println!("{} of {}", snapshot.name, snapshot.on_volume);
    /// }
    /// # Ok(())
    /// # }
    /// ```
    pub async fn list(&self) -> Result<Vec<SnapshotSummary>, ApiError> {
        self.client.get_listing("SnapshotsList", &[], true).await
    }

    /// `GET Snapshot/NAME` (MC): one snapshot; `objectDoesNotExist` when there is none.
    ///
    /// ```no_run
    /// # async fn run(client: storpool_api::Client) -> Result<(), storpool_api::ApiError> {
    /// use storpool_api::SnapshotRef;
    ///
    /// let snapshot = client.snapshots().get(&SnapshotRef::new("os--snap--none--snapshot-s1")?).await?;
    /// # Ok(())
    /// # }
    /// ```
    pub async fn get(&self, snapshot: &SnapshotRef) -> Result<SnapshotSummary, ApiError> {
        let One(summary) = self
            .client
            .get("Snapshot", &[snapshot.as_str()], true)
            .await?;
        Ok(summary)
    }

    /// `GET SnapshotDescribe/NAME` (MC): the snapshot and where its objects are.
    ///
    /// ```no_run
    /// # async fn run(client: storpool_api::Client) -> Result<(), storpool_api::ApiError> {
    /// use storpool_api::SnapshotRef;
    ///
    /// let described = client.snapshots().describe(&SnapshotRef::new("os--snap--none--snapshot-s1")?).await?;
    /// # Ok(())
    /// # }
    /// ```
    pub async fn describe(&self, snapshot: &SnapshotRef) -> Result<SnapshotDescription, ApiError> {
        self.client
            .get("SnapshotDescribe", &[snapshot.as_str()], true)
            .await
    }

    /// `GET SnapshotGetInfo/NAME` (MC): the snapshot and how its objects spread over disks.
    ///
    /// ```no_run
    /// # async fn run(client: storpool_api::Client) -> Result<(), storpool_api::ApiError> {
    /// use storpool_api::SnapshotRef;
    ///
    /// let info = client.snapshots().info(&SnapshotRef::new("os--snap--none--snapshot-s1")?).await?;
    /// # Ok(())
    /// # }
    /// ```
    pub async fn info(&self, snapshot: &SnapshotRef) -> Result<SnapshotInfo, ApiError> {
        self.client
            .get("SnapshotGetInfo", &[snapshot.as_str()], true)
            .await
    }

    /// `GET SnapshotsSpace` (MC): space estimates of every snapshot.
    ///
    /// ```no_run
    /// # async fn run(client: storpool_api::Client) -> Result<(), storpool_api::ApiError> {
    /// let space = client.snapshots().space().await?;
    /// # Ok(())
    /// # }
    /// ```
    pub async fn space(&self) -> Result<Vec<SnapshotSpace>, ApiError> {
        self.client.get_listing("SnapshotsSpace", &[], true).await
    }

    /// `POST VolumeSnapshot/VOLUME` (MC): snapshot a volume; the snapshot becomes the volume's
    /// parent. `objectExists` when the name is taken.
    ///
    /// ```no_run
    /// # async fn run(client: storpool_api::Client) -> Result<(), storpool_api::ApiError> {
    /// use storpool_api::{SnapshotCreate, SnapshotName, VolumeRef};
    ///
    /// let request = SnapshotCreate::named(SnapshotName::new("os--snap--none--snapshot-s1")?);
    /// let created = client.snapshots().create(&VolumeRef::new("os--volume-1")?, &request).await?;
    /// # Ok(())
    /// # }
    /// ```
    pub async fn create(
        &self,
        volume: &VolumeRef,
        request: &SnapshotCreate,
    ) -> Result<SnapshotCreated, ApiError> {
        request.validate()?;
        self.client
            .post("VolumeSnapshot", &[volume.as_str()], true, Some(request))
            .await
    }

    /// `POST VolumesGroupSnapshot` (MC): crash-consistent snapshots of several volumes.
    ///
    /// ```no_run
    /// # async fn run(client: storpool_api::Client) -> Result<(), storpool_api::ApiError> {
    /// use storpool_api::{GroupSnapshot, GroupSnapshotVolume, SnapshotName, VolumeRef};
    ///
    /// let group = GroupSnapshot {
    ///     volumes: vec![
    ///         GroupSnapshotVolume::new(VolumeRef::new("os--volume-a")?, Some(SnapshotName::new("g1-a")?)),
    ///         GroupSnapshotVolume::new(VolumeRef::new("os--volume-b")?, Some(SnapshotName::new("g1-b")?)),
    ///     ],
    ///     ..GroupSnapshot::default()
    /// };
    /// let created = client.snapshots().create_group(&group).await?;
    /// # Ok(())
    /// # }
    /// ```
    pub async fn create_group(
        &self,
        request: &GroupSnapshot,
    ) -> Result<GroupSnapshotCreated, ApiError> {
        request.validate()?;
        self.client
            .post("VolumesGroupSnapshot", &[], true, Some(request))
            .await
    }

    /// `POST SnapshotUpdate/NAME`: rename, retemplate, bind, deletion date, tags.
    ///
    /// ```no_run
    /// # async fn run(client: storpool_api::Client) -> Result<(), storpool_api::ApiError> {
    /// use storpool_api::{SnapshotName, SnapshotRef, SnapshotUpdate};
    ///
    /// let rename = SnapshotUpdate { rename: Some(SnapshotName::new("golden")?), ..SnapshotUpdate::default() };
    /// client.snapshots().update(&SnapshotRef::new("os--snap--none--snapshot-s1")?, &rename).await?;
    /// # Ok(())
    /// # }
    /// ```
    pub async fn update(
        &self,
        snapshot: &SnapshotRef,
        request: &SnapshotUpdate,
    ) -> Result<ApiOk, ApiError> {
        request.validate()?;
        self.client
            .post("SnapshotUpdate", &[snapshot.as_str()], false, Some(request))
            .await
    }

    /// `POST SnapshotRebase/NAME`: re-parent onto an ancestor or onto nothing.
    ///
    /// ```no_run
    /// # async fn run(client: storpool_api::Client) -> Result<(), storpool_api::ApiError> {
    /// use storpool_api::{Rebase, SnapshotRef};
    ///
    /// client.snapshots().rebase(&SnapshotRef::new("golden")?, &Rebase::default()).await?;
    /// # Ok(())
    /// # }
    /// ```
    pub async fn rebase(
        &self,
        snapshot: &SnapshotRef,
        request: &Rebase,
    ) -> Result<ApiOk, ApiError> {
        self.client
            .post("SnapshotRebase", &[snapshot.as_str()], false, Some(request))
            .await
    }

    /// `POST SnapshotDelete/NAME` (MC): `objectDoesNotExist` when already gone.
    ///
    /// ```no_run
    /// # async fn run(client: storpool_api::Client) -> Result<(), storpool_api::ApiError> {
    /// use storpool_api::SnapshotRef;
    ///
    /// client.snapshots().delete(&SnapshotRef::new("os--snap--none--snapshot-s1")?).await?;
    /// # Ok(())
    /// # }
    /// ```
    pub async fn delete(&self, snapshot: &SnapshotRef) -> Result<ApiOk, ApiError> {
        self.client
            .post::<_, ()>("SnapshotDelete", &[snapshot.as_str()], true, None)
            .await
    }

    /// `POST SnapshotDeleteById/GLOBALID`: delete by bare global id.
    ///
    /// ```no_run
    /// # async fn run(client: storpool_api::Client) -> Result<(), storpool_api::ApiError> {
    /// use storpool_api::GlobalId;
    ///
    /// client.snapshots().delete_by_id(&GlobalId::new("d.n.a1z")?).await?;
    /// # Ok(())
    /// # }
    /// ```
    pub async fn delete_by_id(&self, id: &GlobalId) -> Result<ApiOk, ApiError> {
        self.client
            .post::<_, ()>("SnapshotDeleteById", &[id.as_str()], false, None)
            .await
    }
}
