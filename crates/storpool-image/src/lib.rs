#![doc = include_str!("../README.md")]
// Not `forbid`: one function starts `qemu-img` with a parent-death signal, which needs the
// unsafe `pre_exec` hook (see `qemu::die_with_parent` for why there is no safe way). Every
// other line of the crate stays free of unsafe code.
#![deny(unsafe_code)]

mod error;
mod images;
mod qemu;
mod types;

pub use error::{CleanupNote, ErrorKind, FileKind, ImageError, QemuImgError, TargetProblem};
pub use images::{Images, convert};
pub use qemu::{QEMU_IMG, info};
pub use tokio_util::sync::CancellationToken;
pub use types::{
    ConvertRequest, Converted, CopyOptions, ExportRequest, Exported, ImageFormat, ImageInfo,
    ImportRequest, Imported, Progress, ProgressFn,
};
