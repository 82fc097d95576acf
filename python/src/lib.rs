//! The Python extension module `storpool_rs._native`: thin wrappers that convert Python
//! values, release the GIL, and call `storpool-driver-core`, `storpool-attach` and
//! `storpool-image` on one
//! Tokio runtime. Policy lives in the crates; the Python package `storpool_rs` re-exports
//! these classes and adds the Cinder driver and the os-brick connector on top.
//!
//! The doc comments of the `#[pyclass]`/`#[pymethods]` items are Python docstrings (what
//! `help()` shows), written with Python's names and markup, hence no rustdoc markdown lint.
#![allow(clippy::doc_markdown)]

mod config;
mod connector;
mod convert;
mod driver;
mod errors;
mod images;
mod logging;
mod runtime;

use pyo3::prelude::*;

/// The StorPool volume driver and connector of storpool-rs, on its Rust core.
#[pymodule]
#[pyo3(name = "_native")]
fn storpool_rs_native(module: &Bound<'_, PyModule>) -> PyResult<()> {
    module.add("__version__", env!("CARGO_PKG_VERSION"))?;
    module.add_class::<driver::PyDriver>()?;
    module.add_class::<connector::PyConnector>()?;
    module.add_function(wrap_pyfunction!(images::image_info, module)?)?;
    module.add_function(wrap_pyfunction!(images::import_image, module)?)?;
    module.add_function(wrap_pyfunction!(images::export_image, module)?)?;
    errors::register(module)?;
    logging::register(module);
    Ok(())
}
