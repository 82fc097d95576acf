//! Managing existing volumes: list the ones that are not ours, adopt one, release one.

use std::collections::BTreeSet;

use storpool_api::{VolumeRef, VolumeUpdate};
use tracing::Instrument;

use crate::driver::{Driver, Op, volume_name, volume_ref};
use crate::error::{DriverError, Object};
use crate::naming::IdKind;
use crate::types::{GIB, ManageableVolume, Unmanaged, Volume, gib_ceil, non_empty};

impl Driver {
    /// The cluster's volumes that are not the driver's (outside its `{prefix}--` namespace),
    /// sorted by name. System volumes (`#`-names) and attached volumes are listed as not safe
    /// to manage.
    ///
    /// ```no_run
    /// # async fn run(driver: storpool_driver_core::Driver) -> Result<(), Box<dyn std::error::Error>> {
    /// for candidate in driver.manageable_volumes().await? {
    ///     println!("{} safe: {}", candidate.name, candidate.safe_to_manage);
    /// }
    /// # Ok(())
    /// # }
    /// ```
    pub async fn manageable_volumes(&self) -> Result<Vec<ManageableVolume>, DriverError> {
        let mut op = Op::new("list manageable volumes", self.naming.prefix());
        let span = op.span();
        let result = async {
            let object = Object::new(IdKind::Cluster, self.client.base_url(), None);
            let volumes = op
                .run(&object, "VolumesList", self.client.volumes().list())
                .await?;
            let attached: BTreeSet<String> = op
                .run(&object, "AttachmentsList", self.client.attachments().list())
                .await?
                .into_iter()
                .filter(|a| !a.snapshot)
                .flat_map(|a| [a.volume, a.global_id.unwrap_or_default()])
                .collect();
            let mut manageable: Vec<ManageableVolume> = volumes
                .iter()
                .filter(|v| !self.naming.is_ours(&v.name))
                .map(|v| {
                    let reason = if v.name.starts_with('#') {
                        Some("a StorPool system volume")
                    } else if attached.contains(&v.name) || attached.contains(&v.global_id) {
                        Some("attached to a client")
                    } else {
                        None
                    };
                    ManageableVolume {
                        name: v.name.clone(),
                        global_id: v.global_id.clone(),
                        size_gib: gib_ceil(v.size),
                        size_bytes: v.size,
                        template: non_empty(&v.template_name),
                        safe_to_manage: reason.is_none(),
                        reason_not_safe: reason.map(str::to_owned),
                    }
                })
                .collect();
            manageable.sort_by(|a, b| a.name.cmp(&b.name));
            Ok(manageable)
        }
        .instrument(span)
        .await;
        op.finish(result)
    }

    /// Adopts the existing volume `existing_name` (a name or `~globalId`) as volume `id`: it
    /// is renamed to `{prefix}--volume-{id}` and, when its size is not a whole number of GiB,
    /// grown to the next GiB (the size the orchestrator records). Managing a volume that is
    /// already volume `id` is success; names in the driver's namespace and system volumes are
    /// refused.
    ///
    /// ```no_run
    /// # async fn run(driver: storpool_driver_core::Driver) -> Result<(), Box<dyn std::error::Error>> {
    /// // Adopt the cluster's volume "legacy-db" as volume "1234".
    /// let volume = driver.manage_volume("1234", "legacy-db").await?;
    /// assert_eq!(volume.name, "os--volume-1234");
    /// # Ok(())
    /// # }
    /// ```
    pub async fn manage_volume(
        &self,
        id: &str,
        existing_name: &str,
    ) -> Result<Volume, DriverError> {
        let mut op = Op::new("manage volume", id);
        let span = op.span();
        let result = self
            .manage_in(&mut op, id, existing_name)
            .instrument(span)
            .await;
        op.finish(result)
    }

    async fn manage_in(
        &self,
        op: &mut Op,
        id: &str,
        existing_name: &str,
    ) -> Result<Volume, DriverError> {
        let (name, object) = self.volume(id)?;
        let refuse = |reason: &str| DriverError::InvalidName {
            name: existing_name.to_owned(),
            reason: reason.to_owned(),
        };
        if existing_name != name.as_str() {
            if self.naming.is_ours(existing_name) {
                return Err(refuse(&format!(
                    "it is in this driver's namespace (`{}--`): it is managed already",
                    self.naming.prefix()
                )));
            }
            if existing_name.starts_with('#') {
                return Err(refuse("StorPool system volumes cannot be managed"));
            }
            let existing = VolumeRef::new(existing_name).map_err(|err| refuse(&err.to_string()))?;
            let existing_object = Object::new(IdKind::Volume, existing_name, None);
            self.rename(op, &existing, &name)
                .await
                .map_err(|err| op.fail(&existing_object, err))?;
        }
        let volume = self.read_volume(op, id, &name, &object).await?;
        if volume.size_bytes.is_multiple_of(GIB) {
            return Ok(volume);
        }
        let request = VolumeUpdate {
            size: Some(volume.size_gib.saturating_mul(GIB)),
            ..VolumeUpdate::default()
        };
        op.run(
            &object,
            "VolumeUpdate",
            self.client.volumes().update(&volume_ref(&name), &request),
        )
        .await?;
        self.read_volume(op, id, &name, &object).await
    }

    /// Releases volume `id`: the driver forgets it, the data stays. It is renamed out of the
    /// driver's namespace to `unmanaged--{prefix}--volume-{id}` (so it shows in
    /// [`Driver::manageable_volumes`] and can be managed again). Releasing a volume already
    /// released is success.
    ///
    /// ```no_run
    /// # async fn run(driver: storpool_driver_core::Driver) -> Result<(), Box<dyn std::error::Error>> {
    /// let released = driver.unmanage_volume("1234").await?;
    /// println!("now {}", released.name);
    /// # Ok(())
    /// # }
    /// ```
    pub async fn unmanage_volume(&self, id: &str) -> Result<Unmanaged, DriverError> {
        let mut op = Op::new("unmanage volume", id);
        let span = op.span();
        let result = async {
            let (name, object) = self.volume(id)?;
            let target = volume_name(self.naming.unmanaged(id)?)?;
            self.rename(&mut op, &volume_ref(&name), &target)
                .await
                .map_err(|err| op.fail(&object, err))?;
            Ok(Unmanaged {
                id: id.to_owned(),
                name: target.into_string(),
            })
        }
        .instrument(span)
        .await;
        op.finish(result)
    }
}
