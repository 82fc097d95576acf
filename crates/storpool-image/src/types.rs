//! What the operations are asked, what they report while they run, and what they return.

use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;

use serde::Serialize;
use storpool_driver_core::{Specs, Volume};
use tokio_util::sync::CancellationToken;

/// What `qemu-img info` says about an image.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct ImageInfo {
    /// The file.
    pub path: PathBuf,
    /// Its format (`raw`, `qcow2`, ...).
    pub format: String,
    /// The size of the disk it holds, in bytes.
    pub virtual_size: u64,
}

/// The formats image files are written in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum ImageFormat {
    /// A raw disk image, written sparsely.
    Raw,
    /// A qcow2 image.
    Qcow2,
}

impl ImageFormat {
    /// The name `qemu-img` uses: `raw`, `qcow2`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Raw => "raw",
            Self::Qcow2 => "qcow2",
        }
    }
}

impl fmt::Display for ImageFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An image file to copy into a volume: [`crate::Images::import`].
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct ImportRequest {
    /// The volume's orchestrator id. A volume of that id that exists and is big enough is
    /// written into; one that is too small is refused; otherwise it is created (and deleted
    /// again if the copy does not complete).
    pub volume_id: String,
    /// The image: a regular file, or a block device.
    pub image: PathBuf,
    /// The size of a volume to create, in GiB; default: the image's virtual size rounded up
    /// to whole GiB (at least 1). An existing volume of another size is refused
    /// ([`crate::ImageError::SizeMismatch`]).
    pub size_gib: Option<u64>,
    /// The image's format; default: detected by `qemu-img`. Give it for images from untrusted
    /// sources (a raw image can otherwise pass for another format).
    pub image_format: Option<String>,
    /// The volume type's specs of a volume to create (template, QoS).
    pub specs: Specs,
}

impl ImportRequest {
    /// Import `image` into the volume `volume_id`, with the defaults: the image's size, its
    /// detected format, no type specs.
    pub fn new(volume_id: impl Into<String>, image: impl Into<PathBuf>) -> Self {
        Self {
            volume_id: volume_id.into(),
            image: image.into(),
            size_gib: None,
            image_format: None,
            specs: Specs::new(),
        }
    }
}

/// A volume to copy into an image file: [`crate::Images::export`].
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct ExportRequest {
    /// The volume's orchestrator id.
    pub volume_id: String,
    /// The file to write. Its folder must exist. Only a regular file is ever replaced (with
    /// [`ExportRequest::replace`]): folders, devices (block devices too: this crate does not
    /// write through to them), FIFOs and sockets are refused before anything is made, as is
    /// a link to one of them.
    pub file: PathBuf,
    /// The format to write.
    pub format: ImageFormat,
    /// Replace `file` if it exists.
    pub replace: bool,
}

impl ExportRequest {
    /// Export the volume `volume_id` to `file` as a raw image, not replacing an existing file.
    pub fn new(volume_id: impl Into<String>, file: impl Into<PathBuf>) -> Self {
        Self {
            volume_id: volume_id.into(),
            file: file.into(),
            format: ImageFormat::Raw,
            replace: false,
        }
    }
}

/// One image file to convert into another: [`crate::convert`].
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct ConvertRequest {
    /// The image to read: a regular file, or a block device.
    pub source: PathBuf,
    /// Its format; default: detected by `qemu-img`.
    pub source_format: Option<String>,
    /// The file to write (the same rules as [`ExportRequest::file`]).
    pub target: PathBuf,
    /// The format to write.
    pub format: ImageFormat,
    /// Replace `target` if it exists.
    pub replace: bool,
}

impl ConvertRequest {
    /// Convert `source` (of the detected format) into `target` as `format`, not replacing an
    /// existing file.
    pub fn new(
        source: impl Into<PathBuf>,
        target: impl Into<PathBuf>,
        format: ImageFormat,
    ) -> Self {
        Self {
            source: source.into(),
            source_format: None,
            target: target.into(),
            format,
            replace: false,
        }
    }
}

/// What an import did. Serialized with these field names (`sp-volume import-image --json`).
#[derive(Clone, Debug, Serialize)]
#[non_exhaustive]
pub struct Imported {
    /// The volume holding the image.
    pub volume: Volume,
    /// Whether the volume was created (false: an existing one was written).
    pub created: bool,
    /// The image.
    pub image: ImageInfo,
    /// The device the image was written to.
    pub device: PathBuf,
    /// How long it took, in seconds.
    pub seconds: f64,
}

/// What an export did. Serialized with these field names (`sp-volume export-image --json`).
#[derive(Clone, Debug, Serialize)]
#[non_exhaustive]
pub struct Exported {
    /// The volume's orchestrator id.
    pub id: String,
    /// The volume's cluster name.
    pub name: String,
    /// The file written.
    pub file: PathBuf,
    /// Its format.
    pub format: ImageFormat,
    /// The size of the disk it holds (the volume's size), in bytes.
    pub virtual_size: u64,
    /// The file's size, in bytes.
    pub file_size: u64,
    /// The cluster name of the temporary snapshot it was copied from (deleted again).
    pub snapshot: String,
    /// How long it took, in seconds.
    pub seconds: f64,
}

/// What a conversion did.
#[derive(Clone, Debug, Serialize)]
#[non_exhaustive]
pub struct Converted {
    /// The image read.
    pub image: ImageInfo,
    /// The file written.
    pub file: PathBuf,
    /// Its format.
    pub format: ImageFormat,
    /// The file's size, in bytes.
    pub file_size: u64,
}

/// What an operation reports while it runs, to the [`CopyOptions::progress`] callback.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum Progress {
    /// An import writes into a volume that exists (it is overwritten, not created); reported
    /// before the copy starts.
    ExistingVolume {
        /// The volume's orchestrator id.
        id: String,
        /// Its size in GiB.
        size_gib: u64,
    },
    /// An import makes a new volume for the image (none of that id exists); reported before
    /// the volume is created.
    NewVolume {
        /// The volume's orchestrator id.
        id: String,
        /// Its size in GiB.
        size_gib: u64,
    },
    /// `qemu-img convert` starts: the copy covers this many bytes of disk (the image's virtual
    /// size, or the volume's size for an export). [`Progress::Copied`] reports follow.
    Copying {
        /// The disk's size in bytes.
        total_bytes: u64,
    },
    /// `qemu-img convert` has done this share of the copy: 0.0 to 1.0, rising. The last report
    /// of a copy that completed is 1.0.
    Copied {
        /// The share done.
        fraction: f64,
    },
}

/// The progress callback: called on the task running the operation, so it should return
/// quickly (draw, log, or send the value elsewhere).
pub type ProgressFn = Arc<dyn Fn(&Progress) + Send + Sync>;

/// How an operation runs: who hears its progress, what stops it, and which `qemu-img` it
/// runs.
///
/// Cancelling `cancel` (from any thread) stops the operation at once, whatever it is doing:
/// `qemu-img` is killed and waited for, the step under way is abandoned, and then the same
/// cleanup as after a failure runs (detach, delete what the operation made, remove the partial
/// file) before it returns [`crate::ImageError::Interrupted`]. The cleanup itself is not
/// cancelled; it is bounded by the connector's and the API client's timeouts.
#[derive(Clone)]
#[non_exhaustive]
pub struct CopyOptions {
    /// Called with each [`Progress`] report; `None`: no reports (and `qemu-img` is run without
    /// `-p`).
    pub progress: Option<ProgressFn>,
    /// Stops the operation when cancelled.
    pub cancel: CancellationToken,
    /// The `qemu-img` program: a name looked up on `PATH` (default [`crate::QEMU_IMG`]) or a
    /// path.
    pub qemu_img: PathBuf,
}

impl Default for CopyOptions {
    fn default() -> Self {
        Self::new(CancellationToken::new())
    }
}

impl CopyOptions {
    /// No progress reports; stopped by `cancel`; `qemu-img` from `PATH`.
    pub fn new(cancel: CancellationToken) -> Self {
        Self {
            progress: None,
            cancel,
            qemu_img: PathBuf::from(crate::QEMU_IMG),
        }
    }

    /// Runs `program` as `qemu-img`.
    #[must_use]
    pub fn with_qemu_img(mut self, program: impl Into<PathBuf>) -> Self {
        self.qemu_img = program.into();
        self
    }

    /// Reports progress to `progress`.
    #[must_use]
    pub fn with_progress(mut self, progress: impl Fn(&Progress) + Send + Sync + 'static) -> Self {
        self.progress = Some(Arc::new(progress));
        self
    }

    pub(crate) fn report(&self, progress: &Progress) {
        if let Some(callback) = &self.progress {
            callback(progress);
        }
    }
}

impl fmt::Debug for CopyOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CopyOptions")
            .field("progress", &self.progress.as_ref().map(|_| "Fn(&Progress)"))
            .field("cancel", &self.cancel)
            .field("qemu_img", &self.qemu_img)
            .finish()
    }
}
