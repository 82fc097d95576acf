//! Image copies (`storpool-image`) for Python: `image_info`, `import_image`, `export_image`.
//!
//! A copy can take minutes. While it runs, the calling thread looks for Python signals every
//! 100 ms; a `KeyboardInterrupt` (Ctrl-C on the main thread) cancels the copy, waits for its
//! cleanup (`qemu-img` stopped, detached, what it made deleted) and is then raised.

use std::path::PathBuf;
use std::time::Duration;

use pyo3::prelude::*;
use storpool_image::{
    CancellationToken, CopyOptions, ErrorKind, ExportRequest, ImageError, ImageFormat, Images,
    ImportRequest,
};

use crate::connector::PyConnector;
use crate::convert::{specs, to_py};
use crate::driver::PyDriver;
use crate::errors::{Details, build, chain};
use crate::runtime;

/// How often a copy looks for a pending Python signal.
const SIGNAL_CHECK: Duration = Duration::from_millis(100);

/// The Python name of an image error's kind.
fn kind_name(kind: ErrorKind) -> &'static str {
    match kind {
        ErrorKind::InvalidInput => "invalid_input",
        ErrorKind::Configuration => "configuration",
        ErrorKind::NotFound => "not_found",
        ErrorKind::Conflict => "conflict",
        ErrorKind::Refused => "refused",
        ErrorKind::Timeout => "timeout",
        ErrorKind::Unavailable => "unavailable",
        ErrorKind::MissingTool => "missing_tool",
        ErrorKind::CopyFailed => "copy_failed",
        ErrorKind::Interrupted => "interrupted",
        _ => "protocol",
    }
}

fn image_error(err: &ImageError) -> PyErr {
    let kind = kind_name(err.kind());
    let server = err
        .driver_error()
        .and_then(storpool_driver_core::DriverError::cluster_error)
        .or_else(|| {
            err.attach_error()
                .and_then(|a| a.api_error())
                .and_then(|a| a.server())
        });
    Python::attach(|py| {
        let exception = build(
            py,
            chain(err),
            Details {
                kind,
                name: server.map(|s| s.name.clone()),
                descr: server.map(|s| s.descr.clone()),
                transient: server.is_some_and(|s| s.transient),
                operation: None,
                object: None,
            },
        );
        // What was left behind and how to undo it, one sentence each.
        let _ = exception.value(py).setattr("hints", err.hints());
        exception
    })
}

/// Runs a copy on this thread's runtime with the GIL released, cancelling it when a Python
/// signal handler raises (the exception is raised once the copy has cleaned up).
fn run_copy<T: Send>(
    py: Python<'_>,
    cancel: &CancellationToken,
    copy: impl Future<Output = Result<T, ImageError>> + Send,
) -> PyResult<T> {
    let (result, signal) = runtime::block_on(py, async {
        tokio::pin!(copy);
        let mut tick = tokio::time::interval(SIGNAL_CHECK);
        let mut signal: Option<PyErr> = None;
        loop {
            tokio::select! {
                result = &mut copy => return (result, signal),
                _ = tick.tick(), if signal.is_none() => {
                    // A closure, not the method: `attach` needs a callback for any lifetime.
                    #[allow(clippy::redundant_closure_for_method_calls)]
                    let checked = Python::attach(|py| py.check_signals());
                    if let Err(err) = checked {
                        signal = Some(err);
                        cancel.cancel();
                    }
                }
            }
        }
    })?;
    match (result, signal) {
        (_, Some(signal)) => Err(signal),
        (Ok(value), None) => Ok(value),
        (Err(err), None) => Err(image_error(&err)),
    }
}

fn format(name: &str) -> PyResult<ImageFormat> {
    match name {
        "raw" => Ok(ImageFormat::Raw),
        "qcow2" => Ok(ImageFormat::Qcow2),
        other => Err(crate::errors::invalid_input(format!(
            "invalid image format `{other}`: expected `raw` or `qcow2`"
        ))),
    }
}

/// What `qemu-img info` says of an image file: `{"path", "format", "virtual_size"}`. An
/// image with a backing file or encryption, or a file that is not a regular file or block
/// device, is refused (`InvalidInputError`).
#[pyfunction]
#[pyo3(signature = (path, image_format=None))]
pub(crate) fn image_info(
    py: Python<'_>,
    path: PathBuf,
    image_format: Option<String>,
) -> PyResult<Py<PyAny>> {
    let cancel = CancellationToken::new();
    let options = CopyOptions::new(cancel.clone());
    let info = run_copy(py, &cancel, async move {
        storpool_image::info(&path, image_format.as_deref(), &options).await
    })?;
    to_py(py, &info)
}

/// Copies the image file `image` into volume `volume_id`: a new volume of the image's size
/// (or `size_gib`) for a type with `specs`, deleted again if the copy fails; or the existing
/// volume of that id when it is big enough. The volume is attached here through
/// `connector`, written with `qemu-img convert` (runs of zeros skipped on a new volume),
/// and detached. `image_format` (e.g. Glance's `disk_format`) stops `qemu-img` from guessing.
/// Returns `{"volume", "created", "image", "device", "seconds"}`.
#[pyfunction]
#[pyo3(signature = (driver, connector, volume_id, image, *, size_gib=None, image_format=None,
    specs=None))]
#[allow(clippy::too_many_arguments)] // Python keyword arguments
pub(crate) fn import_image(
    py: Python<'_>,
    driver: &PyDriver,
    connector: &PyConnector,
    volume_id: String,
    image: PathBuf,
    size_gib: Option<u64>,
    image_format: Option<String>,
    specs: Option<&Bound<'_, PyAny>>,
) -> PyResult<Py<PyAny>> {
    let mut request = ImportRequest::new(volume_id, image);
    request.size_gib = size_gib;
    request.image_format = image_format;
    request.specs = self::specs(specs)?;
    let images = Images::new(driver.native()?, connector.native()?);
    let cancel = CancellationToken::new();
    let options = CopyOptions::new(cancel.clone());
    let imported = run_copy(py, &cancel, async move {
        images.import(&request, &options).await
    })?;
    to_py(py, &imported)
}

/// Copies volume `volume_id` into the image file `file` (`image_format` `raw` or `qcow2`)
/// through a temporary snapshot attached read-only here (the volume may stay in use); the
/// file appears only when complete, and the snapshot is always deleted. An existing `file`
/// is replaced only with `replace`; devices, FIFOs and folders are refused. Returns
/// `{"id", "name", "file", "format", "virtual_size", "file_size", "snapshot", "seconds"}`.
#[pyfunction]
#[pyo3(signature = (driver, connector, volume_id, file, *, image_format="raw", replace=false))]
pub(crate) fn export_image(
    py: Python<'_>,
    driver: &PyDriver,
    connector: &PyConnector,
    volume_id: String,
    file: PathBuf,
    image_format: &str,
    replace: bool,
) -> PyResult<Py<PyAny>> {
    let mut request = ExportRequest::new(volume_id, file);
    request.format = format(image_format)?;
    request.replace = replace;
    let images = Images::new(driver.native()?, connector.native()?);
    let cancel = CancellationToken::new();
    let options = CopyOptions::new(cancel.clone());
    let exported = run_copy(py, &cancel, async move {
        images.export(&request, &options).await
    })?;
    to_py(py, &exported)
}
