//! Image import and export: the volume driver for the volume, this node's connector for the
//! device, and `qemu-img` (run as a child process, never through a shell) for the copy, as
//! Cinder's generic copy-image-to-volume and copy-volume-to-image do.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use serde::Serialize;
use storpool_attach::{AccessMode, Attached, Connector, DetachOptions, Target};
use storpool_cli::Failure;
use storpool_driver_core::types::gib_ceil;
use storpool_driver_core::{Specs, Volume};

use crate::cli::ExportFormat;
use crate::output;
use crate::settings::{Ctx, attach_failure, driver_failure};

/// The program; found on `PATH`.
const QEMU_IMG: &str = "qemu-img";

/// What `qemu-img info` says about an image.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub(crate) struct ImageInfo {
    /// The file.
    pub(crate) path: PathBuf,
    /// Its format (`raw`, `qcow2`, ...).
    pub(crate) format: String,
    /// The size of the disk it holds, in bytes.
    pub(crate) virtual_size: u64,
}

/// What `import-image` was asked.
pub(crate) struct ImportRequest<'a> {
    pub(crate) id: &'a str,
    pub(crate) image: &'a Path,
    pub(crate) size: Option<u64>,
    pub(crate) image_format: Option<&'a str>,
    pub(crate) specs: &'a Specs,
}

/// What `import-image` did.
#[derive(Clone, Debug, Serialize)]
pub(crate) struct Imported {
    /// The volume holding the image.
    pub(crate) volume: Volume,
    /// Whether the volume was created (false: an existing one was written).
    pub(crate) created: bool,
    /// The image.
    pub(crate) image: ImageInfo,
    /// The device the image was written to.
    pub(crate) device: PathBuf,
    /// How long it took.
    pub(crate) seconds: f64,
}

/// What `export-image` did.
#[derive(Clone, Debug, Serialize)]
pub(crate) struct Exported {
    /// The volume's id.
    pub(crate) id: String,
    /// The volume's cluster name.
    pub(crate) name: String,
    /// The file written.
    pub(crate) file: PathBuf,
    /// Its format.
    pub(crate) format: &'static str,
    /// The size of the disk it holds (the volume's size), bytes.
    pub(crate) virtual_size: u64,
    /// The file's size, bytes.
    pub(crate) file_size: u64,
    /// The temporary snapshot it was copied from (deleted).
    pub(crate) snapshot: String,
    /// How long it took.
    pub(crate) seconds: f64,
}

/// Why `qemu-img` did not do its job.
enum QemuError {
    /// Not installed.
    Missing,
    /// Could not be started.
    Spawn(std::io::Error),
    /// It failed; its message.
    Failed(String),
    /// Ctrl-C.
    Interrupted,
}

impl QemuError {
    /// A failure saying what was being done; `usage` when the input is at fault.
    fn into_failure(self, doing: &str, usage: bool) -> Failure {
        match self {
            Self::Missing => Failure::usage(anyhow::anyhow!(
                "{doing}: `{QEMU_IMG}` is not installed (or not on `PATH`)"
            ))
            .with_hint(
                "install it: `apt-get install qemu-utils` (Debian, Ubuntu) or `dnf install \
                 qemu-img` (Fedora, RHEL)",
            ),
            Self::Spawn(err) => {
                Failure::usage(anyhow::Error::new(err).context(format!("{doing}: `{QEMU_IMG}`")))
            }
            Self::Failed(message) if usage => Failure::usage(anyhow::anyhow!("{doing}: {message}")),
            Self::Failed(message) => Failure::operation(anyhow::anyhow!("{doing}: {message}")),
            Self::Interrupted => Failure::operation(anyhow::anyhow!("{doing}: interrupted")),
        }
    }
}

fn words(words: &[&str]) -> Vec<OsString> {
    words.iter().map(OsString::from).collect()
}

/// Runs `qemu-img ARGS...` and returns its stdout. With `progress`, `-p` output goes to our
/// stderr; Ctrl-C kills it.
async fn qemu_img(args: &[OsString], progress: bool) -> Result<Vec<u8>, QemuError> {
    let mut command = tokio::process::Command::new(QEMU_IMG);
    command
        .args(args)
        .stdin(Stdio::null())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    if progress {
        command.stdout(std::io::stderr());
    } else {
        command.stdout(Stdio::piped());
    }
    tracing::debug!(command = ?args, "running qemu-img");
    let child = command.spawn().map_err(|err| match err.kind() {
        std::io::ErrorKind::NotFound => QemuError::Missing,
        _ => QemuError::Spawn(err),
    })?;
    let output = tokio::select! {
        output = child.wait_with_output() => output.map_err(QemuError::Spawn)?,
        _ = tokio::signal::ctrl_c() => return Err(QemuError::Interrupted),
    };
    if output.status.success() {
        return Ok(output.stdout);
    }
    let stderr = String::from_utf8_lossy(&output.stderr);
    let message = stderr
        .lines()
        .map(str::trim)
        .filter(|line| !line.is_empty())
        .collect::<Vec<_>>()
        .join("; ");
    Err(QemuError::Failed(if message.is_empty() {
        format!("`{QEMU_IMG}` failed ({})", output.status)
    } else {
        message
    }))
}

/// The format and virtual size of an image (`qemu-img info`). An image with a backing file
/// or encryption is refused: it would not copy as one self-contained disk.
pub(crate) async fn info(image: &Path, format: Option<&str>) -> Result<ImageInfo, Failure> {
    let doing = format!("cannot read the image {}", image.display());
    let meta = std::fs::metadata(image)
        .map_err(|err| Failure::usage(anyhow::Error::new(err).context(doing.clone())))?;
    if meta.is_dir() {
        return Err(Failure::usage(anyhow::anyhow!("{doing}: it is a folder")));
    }
    let mut args = words(&["info", "--output=json"]);
    if let Some(format) = format {
        args.extend(words(&["-f", format]));
    }
    args.push(image.into());
    let stdout = qemu_img(&args, false)
        .await
        .map_err(|err| err.into_failure(&doing, true))?;
    let parsed: serde_json::Value = serde_json::from_slice(&stdout).map_err(|err| {
        Failure::usage(anyhow::Error::new(err).context(format!(
            "{doing}: `{QEMU_IMG} info` printed something that is not JSON"
        )))
    })?;
    let format = parsed["format"].as_str();
    let virtual_size = parsed["virtual-size"].as_u64();
    let (Some(format), Some(virtual_size)) = (format, virtual_size) else {
        return Err(Failure::usage(anyhow::anyhow!(
            "{doing}: `{QEMU_IMG} info` gave no format or virtual size"
        )));
    };
    if let Some(backing) = parsed["backing-filename"].as_str() {
        return Err(Failure::usage(anyhow::anyhow!(
            "{doing}: it has the backing file `{backing}`"
        ))
        .with_hint("make a self-contained copy first: `qemu-img convert -O qcow2 IMAGE COPY`"));
    }
    if parsed["encrypted"].as_bool() == Some(true) {
        return Err(Failure::usage(anyhow::anyhow!("{doing}: it is encrypted")));
    }
    Ok(ImageInfo {
        path: image.to_owned(),
        format: format.to_owned(),
        virtual_size,
    })
}

/// `qemu-img convert`: `source` (of `source_format`) into `target` as `target_format`, the
/// target as `target_state` says.
async fn convert(
    source: &Path,
    source_format: &str,
    target: &Path,
    target_format: &str,
    target_state: Destination,
    progress: bool,
) -> Result<(), QemuError> {
    let mut args = words(&["convert"]);
    match target_state {
        Destination::Zeroed => args.extend(words(&["-n", "--target-is-zero"])),
        Destination::Existing => args.extend(words(&["-n"])),
        Destination::New => {}
    }
    args.extend(words(&["-f", source_format, "-O", target_format]));
    if progress {
        args.extend(words(&["-p"]));
    }
    args.extend([source.into(), target.into()]);
    qemu_img(&args, progress).await.map(|_| ())
}

/// What the target of a conversion is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Destination {
    /// A device that reads as zeros, a fresh volume (`-n --target-is-zero`: zero runs are not
    /// written at all).
    Zeroed,
    /// A device with unknown content (`-n`: zero runs are written as zeros).
    Existing,
    /// A file to create.
    New,
}

/// `qemu-img convert` of one file into a new one (the demo makes its qcow2 image so).
pub(crate) async fn convert_file(
    source: &Path,
    source_format: &str,
    target: &Path,
    target_format: &str,
) -> Result<(), Failure> {
    convert(
        source,
        source_format,
        target,
        target_format,
        Destination::New,
        false,
    )
    .await
    .map_err(|err| {
        err.into_failure(
            &format!("cannot convert {} to {target_format}", source.display()),
            false,
        )
    })
}

/// Attaches `target` here, runs `copy` on the device, and detaches it again, also when
/// `copy` fails, unless it was attached here before (then it is left as it was).
async fn with_device<F, Fut>(
    connector: &Connector,
    target: &Target,
    mode: AccessMode,
    copy: F,
) -> Result<Attached, Failure>
where
    F: FnOnce(Attached) -> Fut,
    Fut: std::future::Future<Output = Result<(), Failure>>,
{
    let attached = match connector.connect(target, mode).await {
        Ok(attached) => attached,
        Err(err) => {
            // It may be attached on the cluster though its device never showed up.
            if let Err(detach) = connector.disconnect(target, DetachOptions::default()).await {
                tracing::warn!(%target, error = %detach, "could not detach after a failed attach");
            }
            return Err(attach_failure(err));
        }
    };
    let copied = copy(attached.clone()).await;
    let detached = if attached.changed {
        connector
            .disconnect(target, DetachOptions::default())
            .await
            .map(|_| ())
    } else {
        tracing::info!(%target, "it was attached here before: left attached");
        Ok(())
    };
    copied?;
    detached.map_err(attach_failure)?;
    Ok(attached)
}

/// `import-image`: the image into a new volume (or an existing one that is big enough).
pub(crate) async fn import(ctx: &Ctx, req: &ImportRequest<'_>) -> Result<Imported, Failure> {
    let started = Instant::now();
    let connector = ctx.connector()?;
    let info = info(req.image, req.image_format).await?;
    let needed = gib_ceil(info.virtual_size).max(1);
    if let Some(size) = req.size
        && size < needed
    {
        return Err(Failure::usage(anyhow::anyhow!(
            "`--size {size}` is smaller than the image {}: it holds a {needed} GiB disk \
             ({} bytes)",
            req.image.display(),
            info.virtual_size
        )));
    }
    let (volume, created) = volume_for(ctx, req, &info, needed).await?;
    let progress = ctx.settings.progress;
    let target_state = if created {
        Destination::Zeroed
    } else {
        Destination::Existing
    };
    let result = with_device(
        &connector,
        &Target::volume(req.id),
        AccessMode::Rw,
        |attached| {
            let info = &info;
            async move {
                convert(
                    &info.path,
                    &info.format,
                    &attached.path,
                    "raw",
                    target_state,
                    progress,
                )
                .await
                .map_err(|err| {
                    err.into_failure(
                        &format!(
                            "cannot copy the image {} into volume `{}`",
                            info.path.display(),
                            req.id
                        ),
                        false,
                    )
                })
            }
        },
    )
    .await;
    match result {
        Ok(attached) => Ok(Imported {
            volume,
            created,
            image: info,
            device: attached.path,
            seconds: started.elapsed().as_secs_f64(),
        }),
        Err(failure) if created => {
            // Half an image is no use: the volume made for it goes.
            match ctx.driver.delete_volume(req.id).await {
                Ok(_) => Err(failure.with_hint(format!(
                    "the volume `{}` created for the image was deleted again",
                    req.id
                ))),
                Err(err) => Err(failure.with_hint(format!(
                    "the volume `{}` created for the image could not be deleted ({err}): \
                     `sp-volume delete {}`",
                    req.id, req.id
                ))),
            }
        }
        Err(failure) => Err(failure),
    }
}

/// The volume to write the image into: a new one, or the existing one of that id when it
/// is big enough; whether it was created.
async fn volume_for(
    ctx: &Ctx,
    req: &ImportRequest<'_>,
    info: &ImageInfo,
    needed: u64,
) -> Result<(Volume, bool), Failure> {
    let existing = ctx
        .driver
        .find_volume(req.id)
        .await
        .map_err(driver_failure)?;
    match existing {
        Some(existing) if existing.size_bytes >= info.virtual_size => {
            if !ctx.settings.quiet {
                output::note(&format!(
                    "volume `{}` exists ({} GiB): writing the image into it",
                    req.id, existing.size_gib
                ));
            }
            Ok((existing, false))
        }
        Some(existing) => Err(Failure::operation(anyhow::anyhow!(
            "volume `{}` exists and holds {} GiB, less than the {needed} GiB disk of the image {}",
            req.id,
            existing.size_gib,
            req.image.display()
        ))
        .with_hint(format!(
            "grow it with `sp-volume extend {} --size {needed}`, or import under another id",
            req.id
        ))),
        None => {
            let size = req.size.unwrap_or(needed);
            let volume = ctx
                .driver
                .create_volume(req.id, size, req.specs)
                .await
                .map_err(driver_failure)?;
            Ok((volume, true))
        }
    }
}

/// A short suffix that makes temporary names unique.
pub(crate) fn unique_suffix() -> String {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    format!("{:x}{:x}", std::process::id(), nanos)
}

/// `export-image`: the volume into an image file, through a temporary snapshot attached
/// read-only (the volume may stay in use). The file appears only when complete.
pub(crate) async fn export(
    ctx: &Ctx,
    id: &str,
    file: &Path,
    format: ExportFormat,
    force: bool,
) -> Result<Exported, Failure> {
    let started = Instant::now();
    let doing = format!("cannot export volume `{id}` to {}", file.display());
    if file.is_dir() {
        return Err(Failure::usage(anyhow::anyhow!("{doing}: it is a folder")));
    }
    if file.exists() && !force {
        return Err(Failure::usage(anyhow::anyhow!("{doing}: the file exists"))
            .with_hint("give `--force` to replace it"));
    }
    let Some(file_name) = file.file_name() else {
        return Err(Failure::usage(anyhow::anyhow!("{doing}: no file name")));
    };
    let dir = match file.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir.to_owned(),
        _ => PathBuf::from("."),
    };
    if !dir.is_dir() {
        return Err(Failure::usage(anyhow::anyhow!(
            "{doing}: the folder {} does not exist",
            dir.display()
        )));
    }
    let connector = ctx.connector()?;
    let volume = ctx.driver.get_volume(id).await.map_err(driver_failure)?;
    let suffix = unique_suffix();
    let snapshot_id = format!("export-{id}-{suffix}");
    let snapshot = ctx
        .driver
        .create_snapshot(id, &snapshot_id)
        .await
        .map_err(driver_failure)?;
    let mut partial_name = OsString::from(".");
    partial_name.push(file_name);
    partial_name.push(format!(".{suffix}.partial"));
    let partial = dir.join(partial_name);
    let progress = ctx.settings.progress;
    let copied = with_device(
        &connector,
        &Target::snapshot(&snapshot_id),
        AccessMode::Ro,
        |attached| {
            let partial = partial.clone();
            let doing = doing.clone();
            async move {
                convert(
                    &attached.path,
                    "raw",
                    &partial,
                    format.as_str(),
                    Destination::New,
                    progress,
                )
                .await
                .map_err(|err| err.into_failure(&doing, false))
            }
        },
    )
    .await
    .and_then(|_| {
        std::fs::rename(&partial, file)
            .map_err(|err| Failure::operation(anyhow::Error::new(err).context(doing.clone())))
    });
    if copied.is_err() {
        let _ = std::fs::remove_file(&partial);
    }
    let deleted = ctx.driver.delete_snapshot(&snapshot_id).await;
    copied?;
    if let Err(err) = deleted {
        return Err(driver_failure(err)
            .context(format!(
                "exported volume `{id}` to {}, but the temporary snapshot could not be deleted",
                file.display()
            ))
            .with_hint(format!(
                "delete it with `sp-volume delete-snapshot {snapshot_id}`"
            )));
    }
    let file_size = std::fs::metadata(file).map_or(0, |meta| meta.len());
    Ok(Exported {
        id: id.to_owned(),
        name: volume.name,
        file: file.to_owned(),
        format: format.as_str(),
        virtual_size: snapshot.size_bytes,
        file_size,
        snapshot: snapshot.name,
        seconds: started.elapsed().as_secs_f64(),
    })
}
