//! Import, export and conversion: the volume driver for the volume or a temporary snapshot,
//! this node's connector for the device, `qemu-img` for the copy, and cleanup on every path
//! out.

use std::ffi::OsString;
use std::future::Future;
use std::path::{Path, PathBuf};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use storpool_attach::{AccessMode, Attached, Connector, DetachOptions, ObjectKind, Target};
use storpool_driver_core::types::gib_ceil;
use storpool_driver_core::{Driver, DriverError};
use tokio_util::sync::CancellationToken;

use crate::error::{CleanupNote, FileKind, ImageError, TargetProblem};
use crate::qemu::{self, Destination};
use crate::types::{
    ConvertRequest, Converted, CopyOptions, ExportRequest, Exported, ImportRequest, Imported,
    Progress,
};

/// Image copies between files and the volumes of one cluster, through this node: the volume
/// driver makes (or finds) the volume, or a temporary snapshot of it; the connector attaches
/// it here; `qemu-img` copies; and every path out, failure and cancellation included,
/// detaches and removes what the operation made.
///
/// Cheap to clone (the driver and connector are).
#[derive(Clone, Debug)]
pub struct Images {
    driver: Driver,
    connector: Connector,
}

/// `fut`, unless `cancel` is cancelled first (`None`). The future is boxed: the cluster
/// calls' futures are large, and the operations hold several.
async fn cancellable<T>(cancel: &CancellationToken, fut: impl Future<Output = T>) -> Option<T> {
    let fut = Box::pin(fut);
    tokio::select! {
        biased;
        () = cancel.cancelled() => None,
        out = fut => Some(out),
    }
}

/// A short suffix that makes temporary names unique.
fn unique_suffix() -> String {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    format!("{:x}{:x}", std::process::id(), nanos)
}

/// An image file to write: its path, checked, and the hidden partial file it is written to
/// first.
struct FileTarget {
    file: PathBuf,
    dir: PathBuf,
    name: OsString,
}

impl FileTarget {
    /// Checks that `file` can be written as an image file: its folder exists, it has a file
    /// name, and it is absent or (with `replace`) a regular file. A link is judged by what it
    /// points to: one to a device or FIFO is refused too (the rename at the end would replace
    /// the link, but whoever made it meant the device).
    fn check(file: &Path, replace: bool, action: &str) -> Result<Self, ImageError> {
        let invalid = |problem| ImageError::InvalidTarget {
            action: action.to_owned(),
            path: file.to_owned(),
            problem,
        };
        if let Ok(link) = std::fs::symlink_metadata(file) {
            let kind = match std::fs::metadata(file) {
                Ok(meta) => FileKind::of_meta(&meta),
                // A dangling link: replacing it touches nothing else.
                Err(_) => FileKind::of(link.file_type()).filter(|_| !link.is_symlink()),
            };
            if let Some(kind) = kind {
                return Err(invalid(TargetProblem::NotAFile(kind)));
            }
            if !replace {
                return Err(ImageError::TargetExists {
                    action: action.to_owned(),
                    path: file.to_owned(),
                });
            }
        }
        let Some(name) = file.file_name() else {
            return Err(invalid(TargetProblem::NoFileName));
        };
        let dir = match file.parent() {
            Some(dir) if !dir.as_os_str().is_empty() => dir.to_owned(),
            _ => PathBuf::from("."),
        };
        if !dir.is_dir() {
            return Err(invalid(TargetProblem::NoFolder(dir)));
        }
        Ok(Self {
            file: file.to_owned(),
            dir,
            name: name.to_owned(),
        })
    }

    /// `DIR/.NAME.SUFFIX.partial`.
    fn partial(&self, suffix: &str) -> PathBuf {
        let mut partial = OsString::from(".");
        partial.push(&self.name);
        partial.push(format!(".{suffix}.partial"));
        self.dir.join(partial)
    }

    /// Moves the complete `partial` file into place, checking again that nothing but a
    /// regular file would be replaced.
    fn finish(&self, partial: &Path, replace: bool, action: &str) -> Result<u64, ImageError> {
        Self::check(&self.file, replace, action)?;
        std::fs::rename(partial, &self.file).map_err(|err| ImageError::io(action, err))?;
        Ok(std::fs::metadata(&self.file).map_or(0, |meta| meta.len()))
    }
}

/// Writes `source` into `target` through its partial file, removed on every path but success.
async fn write_file(
    source: &Path,
    source_format: &str,
    target: &FileTarget,
    request: (crate::ImageFormat, bool),
    options: &CopyOptions,
    action: &str,
) -> Result<u64, ImageError> {
    let (format, replace) = request;
    let partial = target.partial(&unique_suffix());
    let written = qemu::convert(
        source,
        source_format,
        &partial,
        format.as_str(),
        Destination::New,
        options,
    )
    .await
    .map_err(|stopped| stopped.into_error(action))
    .and_then(|()| target.finish(&partial, replace, action));
    if written.is_err()
        && let Err(err) = std::fs::remove_file(&partial)
        && err.kind() != std::io::ErrorKind::NotFound
    {
        tracing::warn!(path = %partial.display(), %err, "could not remove the partial file");
    }
    written
}

/// Converts one image file into another (`qemu-img convert`), through a hidden partial file
/// in the target's folder that is renamed at the end (and removed on failure or
/// cancellation). The source is checked as [`crate::info`] checks an image; the target as
/// [`ExportRequest::file`] says.
pub async fn convert(
    request: &ConvertRequest,
    options: &CopyOptions,
) -> Result<Converted, ImageError> {
    let action = format!(
        "cannot convert {} to {}",
        request.source.display(),
        request.format
    );
    let target = FileTarget::check(&request.target, request.replace, &action)?;
    let image = qemu::info(&request.source, request.source_format.as_deref(), options).await?;
    let file_size = write_file(
        &image.path,
        &image.format,
        &target,
        (request.format, request.replace),
        options,
        &action,
    )
    .await?;
    tracing::info!(
        source = %image.path.display(), target = %request.target.display(),
        format = %request.format, file_size, "converted"
    );
    Ok(Converted {
        image,
        file: request.target.clone(),
        format: request.format,
        file_size,
    })
}

impl Images {
    /// Image copies with `driver` (the cluster) and `connector` (this node).
    ///
    /// ```
    /// # let client = storpool_driver_core::Client::builder().base_url("http://127.0.0.1:81").token("t").build()?;
    /// # let driver = storpool_driver_core::Driver::new(client.clone(), storpool_driver_core::DriverOptions::new())?;
    /// # let connector = storpool_attach::Connector::new(&client, storpool_attach::ClientId::new(1)?);
    /// let images = storpool_image::Images::new(driver, connector);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn new(driver: Driver, connector: Connector) -> Self {
        Self { driver, connector }
    }

    /// The volume driver.
    ///
    /// ```
    /// # let client = storpool_driver_core::Client::builder().base_url("http://127.0.0.1:81").token("t").build()?;
    /// # let driver = storpool_driver_core::Driver::new(client.clone(), storpool_driver_core::DriverOptions::new())?;
    /// # let connector = storpool_attach::Connector::new(&client, storpool_attach::ClientId::new(1)?);
    /// let images = storpool_image::Images::new(driver, connector);
    /// assert_eq!(images.driver().backend_name(), "storpool");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn driver(&self) -> &Driver {
        &self.driver
    }

    /// This node's connector.
    ///
    /// ```
    /// # let client = storpool_driver_core::Client::builder().base_url("http://127.0.0.1:81").token("t").build()?;
    /// # let driver = storpool_driver_core::Driver::new(client.clone(), storpool_driver_core::DriverOptions::new())?;
    /// # let connector = storpool_attach::Connector::new(&client, storpool_attach::ClientId::new(1)?);
    /// let images = storpool_image::Images::new(driver, connector);
    /// assert_eq!(images.connector().our_id().get(), 1);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn connector(&self) -> &Connector {
        &self.connector
    }

    /// Copies an image file into a volume: into the existing volume of that id when it is at
    /// least as big as the image's disk (a smaller one is refused, and so is one of another
    /// size than [`ImportRequest::size_gib`] when that is given), else into a new one of the
    /// requested size (default: the image's, rounded up to whole GiB) and type.
    ///
    /// Steps: [`crate::info`] on the image; find or create the volume; attach it read-write
    /// here; `qemu-img convert -n [--target-is-zero] -f FORMAT -O raw [-p] IMAGE DEVICE`
    /// (`--target-is-zero` for a new volume, which reads as zeros, so runs of zeros are not
    /// written at all); detach it, unless it was attached here before. On failure or
    /// cancellation a volume created for the image is deleted again (half an image is no
    /// use); an existing one keeps what was written.
    ///
    /// ```no_run
    /// use storpool_image::{CopyOptions, ImportRequest};
    /// use tokio_util::sync::CancellationToken;
    ///
    /// # async fn run(images: storpool_image::Images) -> Result<(), Box<dyn std::error::Error>> {
    /// let options = CopyOptions::new(CancellationToken::new());
    /// let imported = images.import(&ImportRequest::new("base", "cirros.qcow2"), &options).await?;
    /// println!("{} GiB in {:.1} s", imported.volume.size_gib, imported.seconds);
    /// # Ok(())
    /// # }
    /// ```
    #[allow(clippy::too_many_lines)] // one story, step by step
    pub async fn import(
        &self,
        request: &ImportRequest,
        options: &CopyOptions,
    ) -> Result<Imported, ImageError> {
        let started = Instant::now();
        let id = request.volume_id.as_str();
        let action = format!(
            "cannot copy the image {} into volume `{id}`",
            request.image.display()
        );
        let cancel = &options.cancel;
        let info = qemu::info(&request.image, request.image_format.as_deref(), options).await?;
        let needed_gib = gib_ceil(info.virtual_size).max(1);
        if let Some(size_gib) = request.size_gib
            && size_gib < needed_gib
        {
            return Err(ImageError::SizeTooSmall {
                path: request.image.clone(),
                size_gib,
                needed_gib,
                virtual_size: info.virtual_size,
            });
        }
        let existing = match cancellable(cancel, self.driver.find_volume(id)).await {
            None => return Err(ImageError::interrupted(&action)),
            Some(found) => found.map_err(|err| ImageError::driver(&action, err))?,
        };
        let (volume, created) = match existing {
            Some(existing)
                if request
                    .size_gib
                    .is_some_and(|size_gib| size_gib != existing.size_gib) =>
            {
                return Err(ImageError::SizeMismatch {
                    id: id.to_owned(),
                    path: request.image.clone(),
                    size_gib: existing.size_gib,
                    requested_gib: request.size_gib.unwrap_or_default(),
                });
            }
            Some(existing) if existing.size_bytes >= info.virtual_size => {
                tracing::info!(volume = %existing.name, "the volume exists: writing the image into it");
                options.report(&Progress::ExistingVolume {
                    id: id.to_owned(),
                    size_gib: existing.size_gib,
                });
                (existing, false)
            }
            Some(existing) => {
                return Err(ImageError::VolumeTooSmall {
                    id: id.to_owned(),
                    path: request.image.clone(),
                    size_gib: existing.size_gib,
                    needed_gib,
                });
            }
            None => {
                let size = request.size_gib.unwrap_or(needed_gib);
                options.report(&Progress::NewVolume {
                    id: id.to_owned(),
                    size_gib: size,
                });
                let create = self.driver.create_volume(id, size, &request.specs);
                let Some(created) = cancellable(cancel, create).await else {
                    // The cluster may have made it before the answer was abandoned.
                    let notes = self.delete_created(id).await;
                    return Err(ImageError::interrupted(&action).with_cleanup(notes));
                };
                (
                    created.map_err(|err| ImageError::driver(&action, err))?,
                    true,
                )
            }
        };
        let destination = if created {
            Destination::Zeroed
        } else {
            Destination::Existing
        };
        let copied = self
            .with_device(
                &Target::volume(id),
                AccessMode::Rw,
                created,
                options,
                &action,
                |attached| {
                    let info = &info;
                    let action = &action;
                    async move {
                        options.report(&Progress::Copying {
                            total_bytes: info.virtual_size,
                        });
                        qemu::convert(
                            &info.path,
                            &info.format,
                            &attached.path,
                            "raw",
                            destination,
                            options,
                        )
                        .await
                        .map_err(|stopped| stopped.into_error(action))
                    }
                },
            )
            .await;
        match copied {
            Ok((attached, ())) => {
                let seconds = started.elapsed().as_secs_f64();
                tracing::info!(
                    image = %info.path.display(), volume = %volume.name, created, seconds,
                    "imported"
                );
                Ok(Imported {
                    volume,
                    created,
                    image: info,
                    device: attached.path,
                    seconds,
                })
            }
            Err(err) if created => Err(err.with_cleanup(self.delete_created(id).await)),
            Err(err) => Err(err),
        }
    }

    /// Copies a volume into an image file, through a temporary snapshot attached read-only
    /// here, so the volume may stay in use and the copy is one instant of it.
    ///
    /// Steps: check the file (see [`ExportRequest::file`]); find the volume; create the
    /// snapshot `export-{ID}-{unique}`; attach it read-only here; `qemu-img convert -f raw -O
    /// FORMAT [-p] DEVICE DIR/.FILE.{unique}.partial` (the device's format is never probed);
    /// detach; rename the partial file to the file; delete the snapshot. On failure or
    /// cancellation the partial file and the snapshot are removed; a snapshot that cannot be
    /// deleted is reported ([`CleanupNote::SnapshotLeft`], or
    /// [`ImageError::SnapshotNotDeleted`] after a complete copy).
    ///
    /// ```no_run
    /// use storpool_image::{CopyOptions, ExportRequest, ImageFormat};
    /// use tokio_util::sync::CancellationToken;
    ///
    /// # async fn run(images: storpool_image::Images) -> Result<(), Box<dyn std::error::Error>> {
    /// let mut request = ExportRequest::new("base", "base.qcow2");
    /// request.format = ImageFormat::Qcow2;
    /// let exported = images.export(&request, &CopyOptions::new(CancellationToken::new())).await?;
    /// println!("{} bytes", exported.file_size);
    /// # Ok(())
    /// # }
    /// ```
    pub async fn export(
        &self,
        request: &ExportRequest,
        options: &CopyOptions,
    ) -> Result<Exported, ImageError> {
        let started = Instant::now();
        let id = request.volume_id.as_str();
        let file = &request.file;
        let action = format!("cannot export volume `{id}` to {}", file.display());
        let cancel = &options.cancel;
        let target = FileTarget::check(file, request.replace, &action)?;
        let volume = match cancellable(cancel, self.driver.get_volume(id)).await {
            None => return Err(ImageError::interrupted(&action)),
            Some(volume) => volume.map_err(|err| ImageError::driver(&action, err))?,
        };
        let snapshot_id = format!("export-{id}-{}", unique_suffix());
        let create = self.driver.create_snapshot(id, &snapshot_id);
        let Some(snapshot) = cancellable(cancel, create).await else {
            // The cluster may have made it before the answer was abandoned.
            let notes = self.delete_snapshot(&snapshot_id).await;
            return Err(ImageError::interrupted(&action).with_cleanup(notes));
        };
        let snapshot = snapshot.map_err(|err| ImageError::driver(&action, err))?;
        let copied = self
            .with_device(
                &Target::snapshot(&snapshot_id),
                AccessMode::Ro,
                true,
                options,
                &action,
                |attached| {
                    let (target, action) = (&target, &action);
                    let total_bytes = snapshot.size_bytes;
                    async move {
                        options.report(&Progress::Copying { total_bytes });
                        write_file(
                            &attached.path,
                            "raw",
                            target,
                            (request.format, request.replace),
                            options,
                            action,
                        )
                        .await
                    }
                },
            )
            .await;
        let deleted = self.driver.delete_snapshot(&snapshot_id).await;
        let file_size = match (copied, deleted) {
            (Ok((_, file_size)), Ok(_)) => file_size,
            (Ok(_), Err(source)) => {
                // The file is complete; say so, and that the snapshot is left.
                return Err(ImageError::SnapshotNotDeleted {
                    id: id.to_owned(),
                    file: file.clone(),
                    snapshot_id,
                    source: Box::new(source),
                });
            }
            (Err(err), deleted) => {
                let notes = deleted
                    .err()
                    .map(|source| snapshot_left(&snapshot_id, &source))
                    .into_iter()
                    .collect();
                return Err(err.with_cleanup(notes));
            }
        };
        let seconds = started.elapsed().as_secs_f64();
        tracing::info!(
            volume = %volume.name, file = %file.display(), format = %request.format, file_size,
            seconds, "exported"
        );
        Ok(Exported {
            id: id.to_owned(),
            name: volume.name,
            file: file.clone(),
            format: request.format,
            virtual_size: snapshot.size_bytes,
            file_size,
            snapshot: snapshot.name,
            seconds,
        })
    }

    /// Attaches `target` here, runs `copy` on its device, and detaches it again on every path
    /// (a failed or cancelled attach included, since the cluster may have attached it though
    /// the device never showed up), unless it was attached here before: then it is left as
    /// it was. `ours` says the operation made the target (so it cannot have been attached
    /// here before); otherwise this node's attachments are looked up first.
    async fn with_device<F, Fut, T>(
        &self,
        target: &Target,
        mode: AccessMode,
        ours: bool,
        options: &CopyOptions,
        action: &str,
        copy: F,
    ) -> Result<(Attached, T), ImageError>
    where
        F: FnOnce(Attached) -> Fut,
        Fut: Future<Output = Result<T, ImageError>>,
    {
        let cancel = &options.cancel;
        let attached_before = if ours {
            false
        } else {
            match cancellable(cancel, self.attached_here(target)).await {
                None => return Err(ImageError::interrupted(action)),
                Some(held) => held.map_err(|err| ImageError::attach(action, err))?,
            }
        };
        let attached = match cancellable(cancel, self.connector.connect(target, mode)).await {
            Some(Ok(attached)) => attached,
            failed => {
                let err = match failed {
                    Some(Err(err)) => ImageError::attach(action, err),
                    _ => ImageError::interrupted(action),
                };
                let notes = if attached_before {
                    Vec::new()
                } else {
                    self.detach(target).await.err().into_iter().collect()
                };
                return Err(err.with_cleanup(notes));
            }
        };
        let copied = copy(attached.clone()).await;
        let detached = if attached.changed {
            self.connector
                .disconnect(target, DetachOptions::default())
                .await
                .map(|_| ())
        } else {
            tracing::info!(%target, "it was attached here before: left attached");
            Ok(())
        };
        match (copied, detached) {
            (Ok(value), Ok(())) => Ok((attached, value)),
            (Ok(_), Err(err)) => Err(ImageError::attach(action, err)),
            (Err(err), Ok(())) => Err(err),
            (Err(err), Err(detach)) => Err(err.with_cleanup(vec![CleanupNote::LeftAttached {
                name: attached.name.clone(),
                error: chain(&detach),
            }])),
        }
    }

    /// Whether `target` is attached to this node now.
    async fn attached_here(&self, target: &Target) -> Result<bool, storpool_attach::AttachError> {
        let name = self.connector.cluster_name(target)?;
        let snapshot = target.kind == ObjectKind::Snapshot;
        Ok(self
            .connector
            .list()
            .await?
            .iter()
            .any(|held| held.name == name && held.kind.is_snapshot() == snapshot))
    }

    /// Detaches `target` after a failed or cancelled attach; a note when it stays attached.
    async fn detach(&self, target: &Target) -> Result<(), CleanupNote> {
        match self
            .connector
            .disconnect(target, DetachOptions::default())
            .await
        {
            Ok(_) => Ok(()),
            Err(err) => {
                tracing::warn!(%target, error = %err, "could not detach after a failed attach");
                Err(CleanupNote::LeftAttached {
                    name: self
                        .connector
                        .cluster_name(target)
                        .unwrap_or_else(|_| target.id.clone()),
                    error: chain(&err),
                })
            }
        }
    }

    /// Deletes the volume created for an import that did not complete.
    async fn delete_created(&self, id: &str) -> Vec<CleanupNote> {
        match self.driver.delete_volume(id).await {
            Ok(_) => vec![CleanupNote::VolumeDeleted { id: id.to_owned() }],
            Err(err) => {
                tracing::warn!(volume = %id, error = %err, "could not delete the volume made for the image");
                vec![CleanupNote::VolumeLeft {
                    id: id.to_owned(),
                    error: chain(&err),
                }]
            }
        }
    }

    /// Deletes an export's temporary snapshot (gone already: nothing to say).
    async fn delete_snapshot(&self, id: &str) -> Vec<CleanupNote> {
        match self.driver.delete_snapshot(id).await {
            Ok(_) => Vec::new(),
            Err(err) => vec![snapshot_left(id, &err)],
        }
    }
}

/// The note for a temporary snapshot that could not be deleted.
fn snapshot_left(id: &str, err: &DriverError) -> CleanupNote {
    tracing::warn!(snapshot = %id, error = %err, "could not delete the temporary snapshot");
    CleanupNote::SnapshotLeft {
        id: id.to_owned(),
        name: err
            .object()
            .map_or_else(|| id.to_owned(), |object| object.name.clone()),
        error: chain(err),
    }
}

/// An error and its causes, `: `-separated, as one line.
pub(crate) fn chain(err: &dyn std::error::Error) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}
