//! `import-image` and `export-image`: requests for `storpool-image`, its progress drawn on
//! stderr, its errors as exit codes and hints that name this tool's commands.

use std::path::Path;

use storpool_cli::Failure;
use storpool_driver_core::Specs;
use storpool_image::{
    CleanupNote, CopyOptions, ErrorKind, ExportRequest, Exported, ImageError, Images,
    ImportRequest, Imported, Progress,
};

use crate::cli::ExportFormat;
use crate::output;
use crate::settings::{Ctx, attach_failure, driver_failure};

/// What `import-image` was asked.
pub(crate) struct ImportArgs<'a> {
    pub(crate) id: &'a str,
    pub(crate) image: &'a Path,
    pub(crate) size: Option<u64>,
    pub(crate) image_format: Option<&'a str>,
    pub(crate) specs: Specs,
}

/// The image copies of the context's cluster and node.
pub(crate) fn images(ctx: &Ctx) -> Result<Images, Failure> {
    Ok(Images::new(ctx.driver.clone(), ctx.connector()?))
}

/// The options of a copy: the command's cancellation, and progress drawn on stderr when it
/// may be (a terminal, no `--json`, `-q` or `--no-progress`); the note that an existing volume
/// is written into is shown unless `-q`.
pub(crate) fn copy_options(ctx: &Ctx) -> (CopyOptions, output::CopyProgress) {
    let line = output::CopyProgress::new(ctx.settings.progress);
    let drawn = line.clone();
    let quiet = ctx.settings.quiet;
    let options =
        CopyOptions::new(ctx.cancel.clone()).with_progress(move |progress| match progress {
            Progress::ExistingVolume { id, size_gib } if !quiet => {
                output::note(&format!(
                    "volume `{id}` exists ({size_gib} GiB): writing the image into it"
                ));
            }
            Progress::NewVolume { id, size_gib } if !quiet => {
                output::note(&format!(
                    "volume `{id}` does not exist: creating it ({size_gib} GiB) for the image"
                ));
            }
            Progress::Copying { total_bytes } => drawn.start(*total_bytes),
            Progress::Copied { fraction } => drawn.draw(*fraction),
            _ => {}
        });
    (options, line)
}

/// `import-image`.
pub(crate) async fn import(ctx: &Ctx, args: ImportArgs<'_>) -> Result<Imported, Failure> {
    let images = images(ctx)?;
    let mut request = ImportRequest::new(args.id, args.image);
    request.size_gib = args.size;
    request.image_format = args.image_format.map(str::to_owned);
    request.specs = args.specs;
    let (options, line) = copy_options(ctx);
    let result = images.import(&request, &options).await;
    line.finish();
    result.map_err(failure)
}

/// `export-image`.
pub(crate) async fn export(
    ctx: &Ctx,
    id: &str,
    file: &Path,
    format: ExportFormat,
    force: bool,
) -> Result<Exported, Failure> {
    let images = images(ctx)?;
    let mut request = ExportRequest::new(id, file);
    request.format = format.into();
    request.replace = force;
    let (options, line) = copy_options(ctx);
    let result = images.export(&request, &options).await;
    line.finish();
    result.map_err(failure)
}

/// Exit 2 for bad input, configuration or a missing `qemu-img`, 1 for an operation that
/// failed or was interrupted; hints in this tool's words, then what the cleanup did.
pub(crate) fn failure(err: ImageError) -> Failure {
    let kind = err.kind();
    let hint = match &err {
        ImageError::TargetExists { .. } => Some("give `--force` to replace it".to_owned()),
        ImageError::VolumeTooSmall { id, needed_gib, .. } => Some(format!(
            "grow it with `sp-volume extend {id} --size {needed_gib}`, or import under another id"
        )),
        ImageError::SizeMismatch { .. } => Some(
            "leave out `--size` to write the image into it, or import under another id".to_owned(),
        ),
        ImageError::SnapshotNotDeleted { snapshot_id, .. } => Some(format!(
            "delete it with `sp-volume delete-snapshot {snapshot_id}`"
        )),
        // `driver_failure` and `attach_failure` give these their hints.
        ImageError::Driver { .. } | ImageError::Attach { .. } => None,
        other if other.hints().len() > other.cleanup().len() => other.hints().into_iter().next(),
        _ => None,
    };
    let cleanup: Vec<String> = err.cleanup().iter().map(cleanup_hint).collect();
    let mut failure = match err {
        ImageError::SizeTooSmall {
            path,
            size_gib,
            needed_gib,
            virtual_size,
        } => Failure::usage(anyhow::anyhow!(
            "`--size {size_gib}` is smaller than the image {}: it holds a {needed_gib} GiB disk \
             ({virtual_size} bytes)",
            path.display()
        )),
        ImageError::Driver { action, source, .. } => driver_failure(*source).context(action),
        ImageError::Attach { action, source, .. } => attach_failure(*source).context(action),
        other if kind.is_user_error() || kind == ErrorKind::Protocol => Failure::usage(other),
        other => Failure::operation(other),
    };
    for hint in hint.into_iter().chain(cleanup) {
        failure = failure.with_hint(hint);
    }
    failure
}

/// A cleanup note in this tool's words.
fn cleanup_hint(note: &CleanupNote) -> String {
    match note {
        CleanupNote::VolumeLeft { id, error } => format!(
            "the volume `{id}` created for the image could not be deleted ({error}): \
             `sp-volume delete {id}`"
        ),
        CleanupNote::SnapshotLeft { id, error, .. } => format!(
            "the temporary snapshot could not be deleted ({error}): `sp-volume delete-snapshot \
             {id}`"
        ),
        other => other.hint(),
    }
}
