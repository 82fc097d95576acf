#![doc = include_str!("../README.md")]

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
