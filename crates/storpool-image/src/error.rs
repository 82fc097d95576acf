//! The one error type of this crate, its classification, and what cleanup left behind.

use std::fmt;
use std::fs::{FileType, Metadata};
use std::io;
use std::os::unix::fs::FileTypeExt as _;
use std::path::PathBuf;

use storpool_attach::AttachError;
use storpool_driver_core::DriverError;

/// What kind of failure an [`ImageError`] is, for callers that branch on it: a command-line
/// tool maps [`ErrorKind::is_user_error`] to its usage exit code, [`ErrorKind::Interrupted`] to
/// 128 + the signal, the rest to "the operation failed"; a Python binding maps each kind to an
/// exception class.
///
/// The first eight kinds are those of [`storpool_driver_core::ErrorKind`], with the same
/// meaning (cluster failures of the connector are classified the same way); the last three are
/// this crate's own.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// A value given is not acceptable: the image (missing, not an image, a FIFO, not
    /// self-contained), a size, the file to write, an id. Nothing was made.
    InvalidInput,
    /// The settings or storpool.conf are wrong (e.g. no `SP_OURID` to attach with).
    Configuration,
    /// The cluster says the volume does not exist.
    NotFound,
    /// An object of that name exists and is not what the operation needs (e.g. a volume too
    /// small for the image).
    Conflict,
    /// The cluster refused a request (out of space, busy device, ...).
    Refused,
    /// A request or a device wait timed out.
    Timeout,
    /// The cluster could not be reached.
    Unavailable,
    /// The cluster's answer could not be understood.
    Protocol,
    /// `qemu-img` is not installed, or cannot be started.
    MissingTool,
    /// The copy failed: `qemu-img` reported an error, or a local file could not be written.
    CopyFailed,
    /// The operation was cancelled through [`crate::CopyOptions::cancel`].
    Interrupted,
}

impl ErrorKind {
    /// Bad input, configuration or a missing tool: fixing the call or the node, not
    /// retrying, is the cure.
    pub fn is_user_error(self) -> bool {
        matches!(
            self,
            Self::InvalidInput | Self::Configuration | Self::MissingTool
        )
    }

    /// The operation failed on (or on the way to) the cluster: refused, not found, conflict,
    /// timed out, unreachable.
    pub fn is_cluster_failure(self) -> bool {
        matches!(
            self,
            Self::NotFound | Self::Conflict | Self::Refused | Self::Timeout | Self::Unavailable
        )
    }

    /// How an [`AttachError`] counts.
    fn of_attach(err: &AttachError) -> Self {
        if matches!(
            err,
            AttachError::Config(_) | AttachError::InvalidPrefix { .. }
        ) {
            return Self::Configuration;
        }
        if err.is_usage() {
            return Self::InvalidInput;
        }
        if err.is_timeout() {
            return Self::Timeout;
        }
        if err.is_busy() {
            return Self::Refused;
        }
        match err.api_error() {
            Some(api) if api.is_object_not_found() => Self::NotFound,
            Some(api) if api.is_transient() => Self::Unavailable,
            Some(api) if api.is_timeout() => Self::Timeout,
            Some(api) if api.server().is_some() => Self::Refused,
            Some(_) => Self::Protocol,
            // No device, or a device that cannot be read.
            None => Self::CopyFailed,
        }
    }
}

impl From<storpool_driver_core::ErrorKind> for ErrorKind {
    fn from(kind: storpool_driver_core::ErrorKind) -> Self {
        use storpool_driver_core::ErrorKind as Driver;
        match kind {
            Driver::InvalidInput => Self::InvalidInput,
            Driver::Configuration => Self::Configuration,
            Driver::NotFound => Self::NotFound,
            Driver::Conflict => Self::Conflict,
            Driver::Timeout => Self::Timeout,
            Driver::Unavailable => Self::Unavailable,
            Driver::Protocol => Self::Protocol,
            // `Refused`, and any kind the driver may add: the cluster did not do it.
            _ => Self::Refused,
        }
    }
}

/// What a path is, when it is not a regular file.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum FileKind {
    /// A folder.
    Folder,
    /// A FIFO (named pipe).
    Fifo,
    /// A Unix socket.
    Socket,
    /// A character device (`/dev/null`, `/dev/zero`, a tty).
    CharDevice,
    /// A block device.
    BlockDevice,
    /// Something else that is not a regular file.
    Other,
}

impl FileKind {
    /// The kind of a file type; `None` for a regular file.
    pub(crate) fn of(file_type: FileType) -> Option<Self> {
        if file_type.is_file() {
            None
        } else if file_type.is_dir() {
            Some(Self::Folder)
        } else if file_type.is_fifo() {
            Some(Self::Fifo)
        } else if file_type.is_socket() {
            Some(Self::Socket)
        } else if file_type.is_char_device() {
            Some(Self::CharDevice)
        } else if file_type.is_block_device() {
            Some(Self::BlockDevice)
        } else {
            Some(Self::Other)
        }
    }

    /// The kind of what `meta` describes; `None` for a regular file.
    pub(crate) fn of_meta(meta: &Metadata) -> Option<Self> {
        Self::of(meta.file_type())
    }
}

impl fmt::Display for FileKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Folder => "a folder",
            Self::Fifo => "a FIFO",
            Self::Socket => "a socket",
            Self::CharDevice => "a character device",
            Self::BlockDevice => "a block device",
            Self::Other => "not a regular file",
        })
    }
}

/// Why a file cannot be written as an image.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum TargetProblem {
    /// It exists and is not a regular file: writing would replace (or write through) a
    /// folder, device, FIFO or socket.
    NotAFile(FileKind),
    /// The path has no file name (`/`, `..`).
    NoFileName,
    /// Its folder does not exist.
    NoFolder(PathBuf),
}

impl fmt::Display for TargetProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NotAFile(kind) => write!(f, "it is {kind}"),
            Self::NoFileName => f.write_str("no file name"),
            Self::NoFolder(dir) => write!(f, "the folder {} does not exist", dir.display()),
        }
    }
}

/// Why `qemu-img` did not do its job.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum QemuImgError {
    /// `qemu-img` is not on `PATH` (or not at the path given).
    #[error("`{}` is not installed (or not on `PATH`)", program.display())]
    Missing {
        /// The program looked for.
        program: PathBuf,
    },
    /// `qemu-img` could not be started.
    #[error("`qemu-img` could not be started")]
    Spawn(#[source] io::Error),
    /// Reading its output or waiting for it failed.
    #[error("lost track of `qemu-img`")]
    Wait(#[source] io::Error),
    /// It ran and failed.
    #[error("{message}")]
    Failed {
        /// How it ended.
        status: std::process::ExitStatus,
        /// Its error output, lines joined with `; ` (or its exit status when it printed
        /// nothing).
        message: String,
    },
}

/// Something an operation that did not complete left behind, or undid, on its way out.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum CleanupNote {
    /// The volume created for the image was deleted again.
    VolumeDeleted {
        /// Its orchestrator id.
        id: String,
    },
    /// The volume created for the image could not be deleted: it holds part of the image.
    VolumeLeft {
        /// Its orchestrator id.
        id: String,
        /// Why the delete failed.
        error: String,
    },
    /// The temporary snapshot of an export could not be deleted.
    SnapshotLeft {
        /// Its orchestrator id.
        id: String,
        /// Its cluster name.
        name: String,
        /// Why the delete failed.
        error: String,
    },
    /// A volume or snapshot this operation attached could not be detached from this node.
    LeftAttached {
        /// Its cluster name.
        name: String,
        /// Why the detach failed.
        error: String,
    },
}

impl CleanupNote {
    /// The note as a sentence for a person.
    pub fn hint(&self) -> String {
        match self {
            Self::VolumeDeleted { id } => {
                format!("the volume `{id}` created for the image was deleted again")
            }
            Self::VolumeLeft { id, error } => format!(
                "the volume `{id}` created for the image could not be deleted ({error}): it \
                 holds part of the image; delete it"
            ),
            Self::SnapshotLeft { id, name, error } => format!(
                "the temporary snapshot `{id}` ({name}) could not be deleted ({error}): delete it"
            ),
            Self::LeftAttached { name, error } => {
                format!("`{name}` could not be detached from this node ({error}): detach it")
            }
        }
    }
}

/// Everything an image operation can fail with.
///
/// `Display` says what was being done (lowercase, one line); the cause is the
/// [`std::error::Error::source`]: the [`DriverError`], the [`AttachError`], the
/// [`QemuImgError`] or the [`io::Error`]. [`ImageError::kind`] classifies it,
/// [`ImageError::hints`] says what to do about it, and [`ImageError::cleanup`] what the
/// operation undid or left behind on its way out.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ImageError {
    /// The image cannot be looked at: it does not exist, or cannot be read.
    #[error("cannot read the image {}", path.display())]
    Source {
        /// The image.
        path: PathBuf,
        /// What the operating system said.
        #[source]
        source: io::Error,
    },

    /// The image is not a regular file or a block device (a folder, a FIFO, a socket, a
    /// character device such as `/dev/zero`): `qemu-img` would hang on it, or copy nothing.
    #[error("cannot read the image {}: it is {kind}", path.display())]
    NotAnImage {
        /// The image.
        path: PathBuf,
        /// What it is.
        kind: FileKind,
    },

    /// `qemu-img info` cannot read the image (not of the format given, damaged), or answered
    /// something unusable.
    #[error("cannot read the image {}: {reason}", path.display())]
    InvalidImage {
        /// The image.
        path: PathBuf,
        /// `qemu-img`'s message, or what was wrong with its answer.
        reason: String,
    },

    /// The image depends on another file: it is not one self-contained disk.
    #[error("cannot read the image {}: it has the backing file `{backing}`", path.display())]
    BackingFile {
        /// The image.
        path: PathBuf,
        /// The backing file it names.
        backing: String,
    },

    /// The image reads data from another file of this node: a qcow2 external data file, a
    /// vmdk extent. Copying it would copy that file (whatever it holds) into the volume.
    #[error("cannot read the image {}: it reads the other file `{other}`", path.display())]
    ExternalFile {
        /// The image.
        path: PathBuf,
        /// The other file it names.
        other: String,
    },

    /// The image is encrypted.
    #[error("cannot read the image {}: it is encrypted", path.display())]
    Encrypted {
        /// The image.
        path: PathBuf,
    },

    /// The size asked for the new volume is smaller than the image's disk.
    #[error(
        "the size of {size_gib} GiB is smaller than the image {}: it holds a {needed_gib} GiB \
         disk ({virtual_size} bytes)",
        path.display()
    )]
    SizeTooSmall {
        /// The image.
        path: PathBuf,
        /// The size asked for.
        size_gib: u64,
        /// The image's disk, rounded up to whole GiB.
        needed_gib: u64,
        /// The image's disk, in bytes.
        virtual_size: u64,
    },

    /// The volume to import into exists and is smaller than the image's disk.
    #[error(
        "volume `{id}` exists and holds {size_gib} GiB, less than the {needed_gib} GiB disk of \
         the image {}",
        path.display()
    )]
    VolumeTooSmall {
        /// The volume's orchestrator id.
        id: String,
        /// The image.
        path: PathBuf,
        /// The volume's size.
        size_gib: u64,
        /// The image's disk, rounded up to whole GiB.
        needed_gib: u64,
    },

    /// The volume to import into exists with another size than the one asked for (an import
    /// writes into an existing volume as it is; it never resizes or replaces it).
    #[error(
        "volume `{id}` exists with {size_gib} GiB, not the {requested_gib} GiB asked for the \
         image {}",
        path.display()
    )]
    SizeMismatch {
        /// The volume's orchestrator id.
        id: String,
        /// The image.
        path: PathBuf,
        /// The volume's size.
        size_gib: u64,
        /// The size asked for.
        requested_gib: u64,
    },

    /// The file to write exists, and replacing it was not asked for.
    #[error("{action}: the file exists")]
    TargetExists {
        /// What was being done, e.g. "cannot export volume `1` to out.raw".
        action: String,
        /// The file.
        path: PathBuf,
    },

    /// The file to write cannot be an image file (see [`TargetProblem`]). Nothing was
    /// touched.
    #[error("{action}: {problem}")]
    InvalidTarget {
        /// What was being done.
        action: String,
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        problem: TargetProblem,
    },

    /// A request to the cluster through the volume driver failed.
    #[error("{action}")]
    Driver {
        /// What was being done.
        action: String,
        /// The driver's error: the operation, the object, the cluster's answer.
        #[source]
        source: Box<DriverError>,
        /// What was undone or left behind.
        cleanup: Vec<CleanupNote>,
    },

    /// Attaching the volume or snapshot here (or detaching it) failed.
    #[error("{action}")]
    Attach {
        /// What was being done.
        action: String,
        /// The connector's error.
        #[source]
        source: Box<AttachError>,
        /// What was undone or left behind.
        cleanup: Vec<CleanupNote>,
    },

    /// `qemu-img` is missing or failed.
    #[error("{action}")]
    QemuImg {
        /// What was being done.
        action: String,
        /// What went wrong with `qemu-img`.
        #[source]
        source: QemuImgError,
        /// What was undone or left behind.
        cleanup: Vec<CleanupNote>,
    },

    /// A local file could not be written, renamed or read.
    #[error("{action}")]
    Io {
        /// What was being done.
        action: String,
        /// What the operating system said.
        #[source]
        source: io::Error,
        /// What was undone or left behind.
        cleanup: Vec<CleanupNote>,
    },

    /// The operation was cancelled ([`crate::CopyOptions::cancel`]); `qemu-img` was stopped
    /// and the cleanup ran.
    #[error("{action}: interrupted")]
    Interrupted {
        /// What was being done.
        action: String,
        /// What was undone or left behind.
        cleanup: Vec<CleanupNote>,
    },

    /// The export's file is complete, but its temporary snapshot could not be deleted.
    #[error(
        "exported volume `{id}` to {}, but the temporary snapshot could not be deleted",
        file.display()
    )]
    SnapshotNotDeleted {
        /// The volume's orchestrator id.
        id: String,
        /// The file written.
        file: PathBuf,
        /// The snapshot's orchestrator id.
        snapshot_id: String,
        /// Why the delete failed.
        #[source]
        source: Box<DriverError>,
    },
}

impl ImageError {
    /// The kind of failure.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Self::Source { .. }
            | Self::NotAnImage { .. }
            | Self::InvalidImage { .. }
            | Self::BackingFile { .. }
            | Self::ExternalFile { .. }
            | Self::Encrypted { .. }
            | Self::SizeTooSmall { .. }
            | Self::TargetExists { .. }
            | Self::InvalidTarget { .. } => ErrorKind::InvalidInput,
            Self::VolumeTooSmall { .. } | Self::SizeMismatch { .. } => ErrorKind::Conflict,
            Self::Driver { source, .. } | Self::SnapshotNotDeleted { source, .. } => {
                source.kind().into()
            }
            Self::Attach { source, .. } => ErrorKind::of_attach(source),
            Self::QemuImg { source, .. } => match source {
                QemuImgError::Missing { .. } | QemuImgError::Spawn(_) => ErrorKind::MissingTool,
                QemuImgError::Wait(_) | QemuImgError::Failed { .. } => ErrorKind::CopyFailed,
            },
            Self::Io { .. } => ErrorKind::CopyFailed,
            Self::Interrupted { .. } => ErrorKind::Interrupted,
        }
    }

    /// Whether the operation was cancelled.
    pub fn is_interrupted(&self) -> bool {
        matches!(self, Self::Interrupted { .. })
    }

    /// What the operation undid or left behind on its way out (empty when it made nothing).
    pub fn cleanup(&self) -> &[CleanupNote] {
        match self {
            Self::Driver { cleanup, .. }
            | Self::Attach { cleanup, .. }
            | Self::QemuImg { cleanup, .. }
            | Self::Io { cleanup, .. }
            | Self::Interrupted { cleanup, .. } => cleanup,
            _ => &[],
        }
    }

    /// The driver's error behind this one, if any.
    pub fn driver_error(&self) -> Option<&DriverError> {
        match self {
            Self::Driver { source, .. } | Self::SnapshotNotDeleted { source, .. } => Some(source),
            _ => None,
        }
    }

    /// The connector's error behind this one, if any.
    pub fn attach_error(&self) -> Option<&AttachError> {
        match self {
            Self::Attach { source, .. } => Some(source),
            _ => None,
        }
    }

    /// What to do about the error (a hint of its own, when it has one), then what the
    /// cleanup undid or left behind ([`ImageError::cleanup`]), one sentence each.
    pub fn hints(&self) -> Vec<String> {
        let own = match self {
            Self::NotAnImage { .. } => {
                Some("only regular files and block devices can be imported".to_owned())
            }
            Self::BackingFile { .. } | Self::ExternalFile { .. } => Some(
                "make a self-contained copy first: `qemu-img convert -O qcow2 IMAGE COPY`"
                    .to_owned(),
            ),
            Self::VolumeTooSmall { needed_gib, .. } => Some(format!(
                "grow it to {needed_gib} GiB or more, or import under another id"
            )),
            Self::SizeMismatch { .. } => Some(
                "ask for the size it has (or none) to write the image into it, or import under \
                 another id"
                    .to_owned(),
            ),
            Self::TargetExists { .. } => Some("allow replacing it".to_owned()),
            Self::InvalidTarget {
                problem: TargetProblem::NotAFile(_),
                ..
            } => Some("image files are written to regular files only".to_owned()),
            Self::QemuImg {
                source: QemuImgError::Missing { .. },
                ..
            } => Some(
                "install it: `apt-get install qemu-utils` (Debian, Ubuntu) or `dnf install \
                 qemu-img` (Fedora, RHEL)"
                    .to_owned(),
            ),
            Self::Attach { source, .. } => match &**source {
                AttachError::Config(_) => Some(
                    "set `SP_OURID` (this node's StorPool client id) in storpool.conf to copy \
                     images"
                        .to_owned(),
                ),
                AttachError::Timeout { .. } | AttachError::ApiTimeout { .. } => {
                    Some("is `storpool_block` running on this node?".to_owned())
                }
                _ => None,
            },
            Self::SnapshotNotDeleted { snapshot_id, .. } => {
                Some(format!("delete the snapshot `{snapshot_id}`"))
            }
            _ => None,
        };
        own.into_iter()
            .chain(self.cleanup().iter().map(CleanupNote::hint))
            .collect()
    }

    /// Adds cleanup notes to an error that carries them (others are returned unchanged).
    pub(crate) fn with_cleanup(mut self, notes: Vec<CleanupNote>) -> Self {
        match &mut self {
            Self::Driver { cleanup, .. }
            | Self::Attach { cleanup, .. }
            | Self::QemuImg { cleanup, .. }
            | Self::Io { cleanup, .. }
            | Self::Interrupted { cleanup, .. } => cleanup.extend(notes),
            _ => {
                if !notes.is_empty() {
                    tracing::warn!(error = %self, ?notes, "cleanup notes on an error without room for them");
                }
            }
        }
        self
    }

    pub(crate) fn driver(action: impl Into<String>, source: DriverError) -> Self {
        Self::Driver {
            action: action.into(),
            source: Box::new(source),
            cleanup: Vec::new(),
        }
    }

    pub(crate) fn attach(action: impl Into<String>, source: AttachError) -> Self {
        Self::Attach {
            action: action.into(),
            source: Box::new(source),
            cleanup: Vec::new(),
        }
    }

    pub(crate) fn qemu_img(action: impl Into<String>, source: QemuImgError) -> Self {
        Self::QemuImg {
            action: action.into(),
            source,
            cleanup: Vec::new(),
        }
    }

    pub(crate) fn io(action: impl Into<String>, source: io::Error) -> Self {
        Self::Io {
            action: action.into(),
            source,
            cleanup: Vec::new(),
        }
    }

    pub(crate) fn interrupted(action: impl Into<String>) -> Self {
        Self::Interrupted {
            action: action.into(),
            cleanup: Vec::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::error::Error as _;

    use super::*;

    #[test]
    fn display_says_what_was_done_and_the_cause_stays_in_source() {
        let err = ImageError::qemu_img(
            "cannot copy the image a.raw into volume `v`",
            QemuImgError::Missing {
                program: "qemu-img".into(),
            },
        );
        assert_eq!(
            err.to_string(),
            "cannot copy the image a.raw into volume `v`"
        );
        assert_eq!(
            err.source().map(ToString::to_string).as_deref(),
            Some("`qemu-img` is not installed (or not on `PATH`)")
        );
        assert_eq!(err.kind(), ErrorKind::MissingTool);
        assert!(err.kind().is_user_error());
        assert!(err.hints()[0].contains("apt-get install qemu-utils"));
    }

    #[test]
    fn cleanup_notes_follow_the_hint() {
        let err = ImageError::interrupted("cannot copy the image a.raw into volume `v`")
            .with_cleanup(vec![CleanupNote::VolumeDeleted { id: "v".into() }]);
        assert_eq!(
            err.to_string(),
            "cannot copy the image a.raw into volume `v`: interrupted"
        );
        assert_eq!(err.kind(), ErrorKind::Interrupted);
        assert!(err.is_interrupted());
        assert_eq!(
            err.hints(),
            ["the volume `v` created for the image was deleted again"]
        );
        // Errors made before anything existed have no room for notes, and need none.
        let err = ImageError::Encrypted { path: "x".into() }
            .with_cleanup(vec![CleanupNote::VolumeDeleted { id: "v".into() }]);
        assert!(err.cleanup().is_empty());
    }

    #[test]
    fn kinds_do_not_overlap_and_follow_the_driver() {
        use ErrorKind::*;
        for kind in [
            InvalidInput,
            Configuration,
            NotFound,
            Conflict,
            Refused,
            Timeout,
            Unavailable,
            Protocol,
            MissingTool,
            CopyFailed,
            Interrupted,
        ] {
            assert!(
                !(kind.is_user_error() && kind.is_cluster_failure()),
                "{kind:?}"
            );
        }
        assert_eq!(
            ErrorKind::from(storpool_driver_core::ErrorKind::NotFound),
            NotFound
        );
        assert_eq!(
            ErrorKind::from(storpool_driver_core::ErrorKind::Refused),
            Refused
        );
        let err = ImageError::VolumeTooSmall {
            id: "v".into(),
            path: "a".into(),
            size_gib: 1,
            needed_gib: 2,
        };
        assert!(err.kind().is_cluster_failure());
    }

    #[test]
    fn the_error_stays_small() {
        assert!(size_of::<ImageError>() <= 96, "{}", size_of::<ImageError>());
    }

    #[test]
    fn file_kinds_read_as_words() {
        assert_eq!(
            TargetProblem::NotAFile(FileKind::CharDevice).to_string(),
            "it is a character device"
        );
        assert_eq!(FileKind::Fifo.to_string(), "a FIFO");
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(
            FileKind::of_meta(&std::fs::metadata(dir.path()).unwrap()),
            Some(FileKind::Folder)
        );
        let file = dir.path().join("f");
        std::fs::write(&file, b"x").unwrap();
        assert_eq!(FileKind::of_meta(&std::fs::metadata(&file).unwrap()), None);
    }
}
