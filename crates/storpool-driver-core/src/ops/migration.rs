//! Finishing a migration: give the migrated data the original volume's name.
//!
//! A finish may be run again (a retry after a lost answer, a process killed half-way), so it
//! must be recoverable from every point between its calls. The renames alone cannot tell a
//! swap not begun from a swap completed (both leave the original and the temporary name), so
//! before renaming anything the volume holding the migrated data is tagged
//! [`MIGRATION_TAG`]` = <temporary volume id>`. Tags stay with the volume through renames: a
//! finish that finds the tag on the volume under the original name (and no intermediate name)
//! knows the data is where it belongs and changes nothing.

use storpool_api::{ApiError, Tags, VolumeName, VolumeRef, VolumeSummary, VolumeUpdate};
use tracing::Instrument;

use crate::driver::{Driver, Op, volume_name, volume_ref};
use crate::error::{DriverError, Object};
use crate::naming::{IdKind, Naming};
use crate::types::{Deletion, MigrationUpdate};

/// The tag on the volume that holds a migration's data, set before the names are swapped: its
/// value is the temporary volume's id (`finish_migration`'s `temp_volume_id`).
pub const MIGRATION_TAG: &str = "migrated-from";

/// The three renames of a swap, in order: original -> intermediate, temporary -> original,
/// intermediate -> temporary.
struct Swap {
    original: VolumeName,
    temporary: VolumeName,
    intermediate: VolumeName,
}

impl Swap {
    fn step(&self, n: usize) -> (&VolumeName, &VolumeName) {
        match n {
            0 => (&self.original, &self.intermediate),
            1 => (&self.temporary, &self.original),
            _ => (&self.intermediate, &self.temporary),
        }
    }
}

impl Driver {
    /// After a migration copied volume `volume_id`'s data into the temporary volume
    /// `temp_volume_id`, gives the data the original's cluster name (Cinder's
    /// `update_migrated_volume`).
    ///
    /// With no volume under the original name, the temporary one is renamed to it; when both
    /// exist, the names are swapped through `{temp}--temp--mig` (three renames). Success is
    /// `{"_name_id": null}`. If the temporary volume does not exist, or a rename fails, the
    /// answer is the id whose name still holds the data: `temp_name_id` when given (Cinder's
    /// `new_volume._name_id`), else `temp_volume_id`. A failed swap is rolled back; a swap an
    /// earlier call left half-done (the intermediate name exists) is completed.
    ///
    /// Running it again is safe at any point: before the first rename the migrated data's
    /// volume is tagged [`MIGRATION_TAG`]` = temp_volume_id`, and a call that finds that tag on
    /// the volume under the original name answers success without renaming anything (even
    /// once the temporary volume, by then holding the old data, was deleted).
    ///
    /// ```no_run
    /// # async fn run(driver: storpool_driver_core::Driver) -> Result<(), Box<dyn std::error::Error>> {
    /// // The migration copied volume "1234" into the temporary volume "tmp-9".
    /// let update = driver.finish_migration("1234", "tmp-9", None).await?;
    /// println!("{}", serde_json::to_string(&update)?); // {"_name_id":null}
    /// # Ok(())
    /// # }
    /// ```
    pub async fn finish_migration(
        &self,
        volume_id: &str,
        temp_volume_id: &str,
        temp_name_id: Option<&str>,
    ) -> Result<MigrationUpdate, DriverError> {
        let mut op = Op::new("finish migration", volume_id);
        let span = op.span();
        let result = self
            .finish_migration_in(&mut op, volume_id, temp_volume_id, temp_name_id)
            .instrument(span)
            .await;
        op.finish(result)
    }

    async fn finish_migration_in(
        &self,
        op: &mut Op,
        volume_id: &str,
        temp_volume_id: &str,
        temp_name_id: Option<&str>,
    ) -> Result<MigrationUpdate, DriverError> {
        let (original, object) = self.volume(volume_id)?;
        let (temporary, _) = self.volume(temp_volume_id)?;
        if volume_id == temp_volume_id {
            return Err(DriverError::InvalidId {
                kind: IdKind::Volume,
                id: volume_id.to_owned(),
                reason: "the migrated volume and the temporary volume are the same",
            });
        }
        let intermediate = volume_name(Naming::migration_intermediate(temporary.as_str()))?;
        let failed = MigrationUpdate {
            name_id: Some(temp_name_id.unwrap_or(temp_volume_id).to_owned()),
        };
        let done = MigrationUpdate { name_id: None };
        let swap = Swap {
            original,
            temporary,
            intermediate,
        };
        let (o, t, i) = (
            self.lookup(op, &object, &swap.original).await?,
            self.lookup(op, &object, &swap.temporary).await?,
            self.lookup(op, &object, &swap.intermediate).await?,
        );
        if i.is_none() && o.as_ref().is_some_and(|v| is_marked(v, temp_volume_id)) {
            tracing::info!(
                original = %swap.original,
                "the migrated data already has the original name: an earlier call finished"
            );
            return Ok(done);
        }
        let first_step = match (o.is_some(), t.is_some(), i.is_some()) {
            (true, true, false) => 0,
            (false, true, true) => 1,
            (true, false, true) => 2,
            (false, true, false) => {
                if !self.mark(op, t.as_ref(), temp_volume_id).await {
                    return Ok(failed);
                }
                return Ok(
                    match self
                        .rename(op, &volume_ref(&swap.temporary), &swap.original)
                        .await
                    {
                        Ok(()) => done,
                        Err(err) => {
                            tracing::error!(
                                from = %swap.temporary, to = %swap.original, error = %err,
                                "could not rename the migrated volume"
                            );
                            failed
                        }
                    },
                );
            }
            (false, false, true) => {
                tracing::error!(
                    intermediate = %swap.intermediate,
                    "the migrated volume is gone while an interrupted swap left the original \
                     under the intermediate name: restoring the original name"
                );
                if let Err(err) = self
                    .rename(op, &volume_ref(&swap.intermediate), &swap.original)
                    .await
                {
                    tracing::error!(error = %err, "could not restore the original name");
                }
                return Ok(failed);
            }
            (true, true, true) => {
                tracing::error!(
                    original = %swap.original, temporary = %swap.temporary,
                    intermediate = %swap.intermediate,
                    "the original, temporary and intermediate names all exist: leaving them"
                );
                return Ok(failed);
            }
            (_, false, false) => {
                tracing::error!(
                    temporary = %swap.temporary, original = %swap.original,
                    "the temporary volume was not created as part of the migration"
                );
                return Ok(failed);
            }
        };
        // The migrated data is under the temporary name until the second rename, then under the
        // original one.
        let holder = if first_step == 2 { &o } else { &t };
        if !self.mark(op, holder.as_ref(), temp_volume_id).await {
            return Ok(failed);
        }
        Ok(if self.swap(op, &swap, first_step).await {
            done
        } else {
            failed
        })
    }

    /// Runs the swap's renames from `first_step` on; on a failure, undoes every step done so
    /// far (by this call or an earlier one) and answers false.
    async fn swap(&self, op: &mut Op, swap: &Swap, first_step: usize) -> bool {
        if first_step > 0 {
            tracing::info!(
                completed_steps = first_step,
                "completing a name swap an earlier call began"
            );
        }
        for step in first_step..3 {
            let (from, to) = swap.step(step);
            if let Err(err) = self.rename(op, &volume_ref(from), to).await {
                tracing::error!(%from, %to, error = %err, "could not rename a volume: rolling the swap back");
                for undo in (0..step).rev() {
                    let (from, to) = swap.step(undo);
                    if let Err(err) = self.rename(op, &volume_ref(to), from).await {
                        tracing::error!(
                            from = %to, to = %from, error = %err,
                            "could not roll the swap back; the next call completes it"
                        );
                        break;
                    }
                }
                return false;
            }
        }
        true
    }

    /// Deletes what the migration source stands for (Cinder's last step of a generic
    /// migration: the record with the temporary volume's id `id` and the original's id as
    /// its name id `name_id`). After [`Driver::finish_migration`] swapped the names, the old
    /// data is under `id`'s name and `name_id`'s name holds the migrated data (tagged
    /// [`MIGRATION_TAG`]` = id`): the volume under `id`'s name is deleted. Otherwise (the
    /// finish failed and renamed nothing) the old data is under `name_id`'s name, which is
    /// deleted. Either way the migrated data is never touched; as
    /// [`Driver::delete_volume`], already gone is success.
    pub async fn delete_migration_source(
        &self,
        id: &str,
        name_id: &str,
    ) -> Result<Deletion, DriverError> {
        let mut op = Op::new("delete migration source", id);
        let span = op.span();
        let result = async {
            if id == name_id {
                return self.delete_volume_in(&mut op, id).await;
            }
            let (name, object) = self.volume(name_id)?;
            let swapped = self
                .lookup(&mut op, &object, &name)
                .await?
                .is_some_and(|volume| is_marked(&volume, id));
            if swapped {
                tracing::info!(
                    migrated = %name,
                    "the migrated data has the original name: deleting the old data under the \
                     temporary name"
                );
                self.delete_volume_in(&mut op, id).await
            } else {
                self.delete_volume_in(&mut op, name_id).await
            }
        }
        .instrument(span)
        .await;
        op.finish(result)
    }

    /// Volume `name`, if it exists (one lookup, not a listing of the whole cluster).
    async fn lookup(
        &self,
        op: &mut Op,
        object: &Object,
        name: &VolumeName,
    ) -> Result<Option<VolumeSummary>, DriverError> {
        match op
            .call("Volume", self.client.volumes().get(&volume_ref(name)))
            .await
        {
            Ok(volume) => Ok(Some(volume)),
            Err(err) if err.is_object_not_found() => Ok(None),
            Err(err) => Err(op.fail(object, err)),
        }
    }

    /// Tags the volume holding the migrated data (by global id, which renames keep) with
    /// [`MIGRATION_TAG`], unless it is tagged already. False (logged) when it cannot be.
    async fn mark(
        &self,
        op: &mut Op,
        holder: Option<&VolumeSummary>,
        temp_volume_id: &str,
    ) -> bool {
        let Some(volume) = holder else {
            return false;
        };
        if is_marked(volume, temp_volume_id) {
            return true;
        }
        let target = match storpool_api::GlobalId::new(volume.global_id.clone()) {
            Ok(id) => VolumeRef::from(id),
            Err(err) => {
                tracing::error!(volume = %volume.name, error = %err, "the volume has no usable global id");
                return false;
            }
        };
        let request = VolumeUpdate {
            tags: Some(Tags::from([(MIGRATION_TAG, temp_volume_id)])),
            ..VolumeUpdate::default()
        };
        match op
            .call(
                "VolumeUpdate",
                self.client.volumes().update(&target, &request),
            )
            .await
        {
            Ok(_) => true,
            Err(err) => {
                tracing::error!(
                    volume = %volume.name, error = %err,
                    "could not tag the migrated volume before renaming it: nothing was renamed"
                );
                false
            }
        }
    }

    /// Renames `from` (a name or `~GLOBALID`) to `to`, a name that is free. When `from` is not
    /// found but `to` exists, an earlier attempt whose answer was lost did the rename: that is
    /// success.
    pub(crate) async fn rename(
        &self,
        op: &mut Op,
        from: &VolumeRef,
        to: &VolumeName,
    ) -> Result<(), ApiError> {
        let request = VolumeUpdate {
            rename: Some(to.clone()),
            ..VolumeUpdate::default()
        };
        match op
            .call("VolumeUpdate", self.client.volumes().update(from, &request))
            .await
        {
            Ok(_) => Ok(()),
            Err(err) if err.is_object_not_found() => {
                match op
                    .call("Volume", self.client.volumes().get(&volume_ref(to)))
                    .await
                {
                    Ok(_) => {
                        tracing::info!(%from, %to, "the rename was done by an earlier attempt");
                        Ok(())
                    }
                    Err(_) => Err(err),
                }
            }
            Err(err) => Err(err),
        }
    }
}

/// Whether `volume` holds the data of the migration whose temporary volume is
/// `temp_volume_id`.
fn is_marked(volume: &VolumeSummary, temp_volume_id: &str) -> bool {
    volume.tags.get(MIGRATION_TAG) == Some(temp_volume_id)
}
