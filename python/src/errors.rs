//! The exception hierarchy, and the mapping from the crates' typed errors to it.
//!
//! Every error becomes one `StorPoolError` subclass chosen from the error's kind (never from
//! its text), carrying `kind`, `name` and `descr` (the cluster's error name and description,
//! when the cluster answered with one), `transient`, `operation` and `object`.

use pyo3::exceptions::PyException;
use pyo3::prelude::*;
use pyo3::{PyErr, create_exception};
use storpool_api::ApiError;
use storpool_attach::AttachError;
use storpool_driver_core::{DriverError, ErrorKind};

create_exception!(
    storpool_rs,
    StorPoolError,
    PyException,
    "Base of every storpool_rs error. Attributes: `kind` (one of `invalid_input`, \
     `configuration`, `not_found`, `conflict`, `refused`, `timeout`, `unavailable`, \
     `protocol`, `busy`; for image copies also `missing_tool`, `copy_failed`, \
     `interrupted`), `name` and `descr` (the cluster's error name and description, or \
     None), `transient` (whether the cluster called it transient), `operation` (the driver \
     operation, or None), `object` (the cluster name it concerned, or None) and `hints` (what \
     an image copy left behind and how to undo it)."
);
create_exception!(
    storpool_rs,
    InvalidInputError,
    StorPoolError,
    "A value given is not acceptable (id, size, volume-type spec, connection data); nothing \
     was asked of the cluster. Fix the call, do not retry it."
);
create_exception!(
    storpool_rs,
    ConfigurationError,
    StorPoolError,
    "storpool.conf or the driver's options are wrong or missing (no API endpoint, no token, \
     no SP_OURID for this node, a bad prefix)."
);
create_exception!(
    storpool_rs,
    NotFoundError,
    StorPoolError,
    "The cluster says the volume, snapshot or template does not exist."
);
create_exception!(
    storpool_rs,
    ConflictError,
    StorPoolError,
    "An object of that name exists and is not the one asked for (a retried create that finds \
     another size or template)."
);
create_exception!(
    storpool_rs,
    ClusterError,
    StorPoolError,
    "The cluster refused the request, did not answer in time, could not be reached, or gave \
     an answer that could not be understood (`kind` says which); a device did not appear or \
     stayed busy."
);

/// What an exception carries besides its message.
pub(crate) struct Details {
    pub(crate) kind: &'static str,
    pub(crate) name: Option<String>,
    pub(crate) descr: Option<String>,
    pub(crate) transient: bool,
    pub(crate) operation: Option<&'static str>,
    pub(crate) object: Option<String>,
}

/// The Python name of a driver error kind.
fn kind_name(kind: ErrorKind) -> &'static str {
    match kind {
        ErrorKind::InvalidInput => "invalid_input",
        ErrorKind::Configuration => "configuration",
        ErrorKind::NotFound => "not_found",
        ErrorKind::Conflict => "conflict",
        ErrorKind::Refused => "refused",
        ErrorKind::Timeout => "timeout",
        ErrorKind::Unavailable => "unavailable",
        _ => "protocol",
    }
}

/// The message: the error and each of its causes, joined by `: `.
pub(crate) fn chain(err: &dyn std::error::Error) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        // Some layers repeat their cause's text; say it once.
        if !text.ends_with(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
    text
}

/// The exception of `details.kind`, with its attributes set (`hints` empty).
pub(crate) fn build(py: Python<'_>, message: String, details: Details) -> PyErr {
    let err = match details.kind {
        "invalid_input" => InvalidInputError::new_err(message),
        // A missing `qemu-img` is the node's configuration.
        "configuration" | "missing_tool" => ConfigurationError::new_err(message),
        "not_found" => NotFoundError::new_err(message),
        "conflict" => ConflictError::new_err(message),
        _ => ClusterError::new_err(message),
    };
    let value = err.value(py);
    // Setting attributes on a fresh exception instance cannot fail short of memory errors;
    // should it, the exception still says what happened.
    let _ = value.setattr("kind", details.kind);
    let _ = value.setattr("name", details.name);
    let _ = value.setattr("descr", details.descr);
    let _ = value.setattr("transient", details.transient);
    let _ = value.setattr("operation", details.operation);
    let _ = value.setattr("object", details.object);
    let _ = value.setattr("hints", Vec::<String>::new());
    err
}

fn api_details(api: Option<&ApiError>) -> (Option<String>, Option<String>, bool) {
    match api.and_then(ApiError::server) {
        Some(server) => (
            Some(server.name.clone()),
            Some(server.descr.clone()),
            server.transient,
        ),
        None => (None, None, api.is_some_and(ApiError::is_transient)),
    }
}

/// A driver error as the matching exception.
pub(crate) fn driver_error(err: &DriverError) -> PyErr {
    Python::attach(|py| {
        let (name, descr, transient) = api_details(err.api_error());
        build(
            py,
            chain(err),
            Details {
                kind: kind_name(err.kind()),
                name,
                descr,
                transient,
                operation: err.operation(),
                object: err.object().map(|o| o.name.clone()),
            },
        )
    })
}

/// An attach error as the matching exception.
pub(crate) fn attach_error(err: &AttachError) -> PyErr {
    let api = err.api_error();
    let kind = if err.is_usage() {
        match err {
            AttachError::Config(_) | AttachError::InvalidPrefix { .. } => "configuration",
            _ => "invalid_input",
        }
    } else if err.is_busy() {
        "busy"
    } else if err.is_timeout() {
        "timeout"
    } else if matches!(err, AttachError::NotAttached { .. }) {
        "not_found"
    } else {
        match api {
            Some(api) if api.is_object_not_found() => "not_found",
            Some(api) if api.is_transient() => "unavailable",
            Some(ApiError::Timeout { .. }) => "timeout",
            Some(ApiError::Transport { .. }) => "unavailable",
            _ => "refused",
        }
    };
    Python::attach(|py| {
        let (name, descr, transient) = api_details(api);
        build(
            py,
            chain(err),
            Details {
                kind,
                name,
                descr,
                transient,
                operation: None,
                object: None,
            },
        )
    })
}

/// A configuration error (storpool.conf, options) as `ConfigurationError`.
pub(crate) fn config_error(err: &dyn std::error::Error) -> PyErr {
    Python::attach(|py| {
        build(
            py,
            chain(err),
            Details {
                kind: "configuration",
                name: None,
                descr: None,
                transient: false,
                operation: None,
                object: None,
            },
        )
    })
}

/// A bad argument (wrong type or value, found while converting) as `InvalidInputError`.
pub(crate) fn invalid_input(message: String) -> PyErr {
    Python::attach(|py| {
        build(
            py,
            message,
            Details {
                kind: "invalid_input",
                name: None,
                descr: None,
                transient: false,
                operation: None,
                object: None,
            },
        )
    })
}

/// Adds the exception classes to the module.
pub(crate) fn register(module: &Bound<'_, PyModule>) -> PyResult<()> {
    let py = module.py();
    module.add("StorPoolError", py.get_type::<StorPoolError>())?;
    module.add("InvalidInputError", py.get_type::<InvalidInputError>())?;
    module.add("ConfigurationError", py.get_type::<ConfigurationError>())?;
    module.add("NotFoundError", py.get_type::<NotFoundError>())?;
    module.add("ConflictError", py.get_type::<ConflictError>())?;
    module.add("ClusterError", py.get_type::<ClusterError>())?;
    Ok(())
}
