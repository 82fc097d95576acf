//! One library call per subcommand, then its output.

use storpool_cli::Failure;
use storpool_driver_core::RetypeRefusal;

use crate::cli::Command;
use crate::settings::{Ctx, driver_failure};
use crate::{demo, image, output};

/// Runs `command` on the context's cluster and prints its result.
#[allow(clippy::too_many_lines)] // one short arm per subcommand
pub(crate) async fn execute(ctx: &Ctx, command: &Command) -> Result<(), Failure> {
    let json = ctx.settings.json;
    let driver = &ctx.driver;
    match command {
        Command::Create { id, size, specs: s } => {
            let volume = driver
                .create_volume(id, size.size, &ctx.specs(s)?)
                .await
                .map_err(driver_failure)?;
            output::volume(&volume, json)
        }
        Command::Delete { id } => {
            let deletion = driver.delete_volume(id).await.map_err(driver_failure)?;
            output::deletion("volume", &deletion, json)
        }
        Command::Extend { id, size } => {
            let volume = driver
                .extend_volume(id, size.size)
                .await
                .map_err(driver_failure)?;
            output::volume(&volume, json)
        }
        Command::Snapshot {
            volume_id,
            snapshot_id,
        } => {
            let snapshot = driver
                .create_snapshot(volume_id, snapshot_id)
                .await
                .map_err(driver_failure)?;
            output::snapshot(&snapshot, json)
        }
        Command::DeleteSnapshot { snapshot_id } => {
            let deletion = driver
                .delete_snapshot(snapshot_id)
                .await
                .map_err(driver_failure)?;
            output::deletion("snapshot", &deletion, json)
        }
        Command::CreateFromSnapshot {
            id,
            snapshot_id,
            size,
            specs: s,
        } => {
            let volume = driver
                .create_volume_from_snapshot(id, snapshot_id, size.size, &ctx.specs(s)?)
                .await
                .map_err(driver_failure)?;
            output::volume(&volume, json)
        }
        Command::Clone {
            id,
            source_id,
            size,
            specs: s,
        } => {
            let volume = driver
                .clone_volume(id, source_id, size.size, &ctx.specs(s)?)
                .await
                .map_err(driver_failure)?;
            output::volume(&volume, json)
        }
        Command::Revert {
            id,
            snapshot_id,
            keep_size,
        } => {
            let volume = driver
                .revert_volume(id, snapshot_id, *keep_size)
                .await
                .map_err(driver_failure)?;
            output::volume(&volume, json)
        }
        Command::Retype {
            id,
            specs: s,
            encryption_changed,
        } => {
            let outcome = driver
                .retype_volume(id, &ctx.specs(s)?, *encryption_changed)
                .await
                .map_err(driver_failure)?;
            output::retype(id, &outcome, json).map_err(output::failed)?;
            return match &outcome.refused {
                None => Ok(()),
                Some(refusal) => Err(Failure::operation(anyhow::anyhow!(
                    "retype of volume `{id}` refused: {}",
                    describe_refusal(refusal)
                ))
                .with_hint("migrate the volume to the new type instead")),
            };
        }
        Command::FinishMigration {
            id,
            temp_id,
            temp_name_id,
        } => {
            let update = driver
                .finish_migration(id, temp_id, temp_name_id.as_deref())
                .await
                .map_err(driver_failure)?;
            output::migration(id, &update, json)
        }
        Command::GroupSnapshot {
            group_id,
            volume_ids,
        } => {
            let group = driver
                .create_group_snapshot(group_id, volume_ids)
                .await
                .map_err(driver_failure)?;
            output::group_snapshot(&group, json)
        }
        Command::DeleteGroupSnapshot { group_id } => {
            let deletion = driver
                .delete_group_snapshot(group_id)
                .await
                .map_err(driver_failure)?;
            output::group_deletion(&deletion, json)
        }
        Command::CreateFromGroupSnapshot {
            id,
            group_id,
            source_id,
            size,
            specs: s,
        } => {
            let volume = driver
                .create_volume_from_group_snapshot(
                    id,
                    group_id,
                    source_id,
                    size.size,
                    &ctx.specs(s)?,
                )
                .await
                .map_err(driver_failure)?;
            output::volume(&volume, json)
        }
        Command::Manageable => {
            let volumes = driver.manageable_volumes().await.map_err(driver_failure)?;
            output::manageable(&volumes, json)
        }
        Command::Manage { id, existing_name } => {
            let volume = driver
                .manage_volume(id, existing_name)
                .await
                .map_err(driver_failure)?;
            output::volume(&volume, json)
        }
        Command::Unmanage { id } => {
            let unmanaged = driver.unmanage_volume(id).await.map_err(driver_failure)?;
            output::unmanaged(&unmanaged, json)
        }
        Command::Stats => {
            let stats = driver.stats().await.map_err(driver_failure)?;
            output::stats(&stats, json)
        }
        Command::ConnectionInfo { id, host } => {
            let info = driver
                .connection_info(id, host)
                .await
                .map_err(driver_failure)?;
            output::connection_info(&info, json)
        }
        Command::List => {
            let volumes = driver.list_volumes().await.map_err(driver_failure)?;
            let printed = output::volumes(&volumes, json);
            // The process ends right after this: freeing 100,000 volumes one by one took
            // about 15 ms of a 270 ms `--json list` (perf), for nothing.
            std::mem::forget(volumes);
            printed
        }
        Command::Show { id } => {
            let volume = driver.get_volume(id).await.map_err(driver_failure)?;
            output::volume(&volume, json)
        }
        Command::ListSnapshots { volume_id } => {
            let snapshots = driver
                .list_snapshots(volume_id.as_deref())
                .await
                .map_err(driver_failure)?;
            output::snapshots(&snapshots, json)
        }
        Command::ShowSnapshot { snapshot_id } => {
            let snapshot = driver
                .get_snapshot(snapshot_id)
                .await
                .map_err(driver_failure)?;
            output::snapshot(&snapshot, json)
        }
        Command::ListTemplates => {
            let templates = driver.list_templates().await.map_err(driver_failure)?;
            output::templates(&templates, json)
        }
        Command::ListGroupSnapshots => {
            let groups = driver
                .list_group_snapshots()
                .await
                .map_err(driver_failure)?;
            output::group_snapshots(&groups, json)
        }
        Command::Doctor | Command::Completions(_) | Command::Man(_) => {
            unreachable!("these run before a cluster is chosen")
        }
        Command::ImportImage {
            id,
            image: path,
            size,
            image_format,
            specs: s,
        } => {
            let imported = image::import(
                ctx,
                image::ImportArgs {
                    id,
                    image: path,
                    size: *size,
                    image_format: image_format.as_deref(),
                    specs: ctx.specs(s)?,
                },
            )
            .await?;
            output::imported(&imported, json)
        }
        Command::ExportImage {
            id,
            file,
            format,
            force,
        } => {
            let exported = image::export(ctx, id, file, *format, *force).await?;
            output::exported(&exported, json)
        }
        Command::Demo {
            image_mib,
            instances,
        } => {
            let report = demo::run(ctx, *image_mib, *instances).await?;
            output::demo_report(&report, json)
        }
    }
    .map_err(output::failed)
}

fn describe_refusal(refusal: &RetypeRefusal) -> String {
    match refusal {
        RetypeRefusal::EncryptionChange => "the encryption changes".to_owned(),
        RetypeRefusal::BackendChange { current, requested } => {
            format!("the new type belongs to backend `{requested}`, this one is `{current}`")
        }
        other => format!("{other:?}"),
    }
}
