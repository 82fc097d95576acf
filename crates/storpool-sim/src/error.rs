//! Errors: [`SimError`] for the library's own operations, and the API error objects the
//! simulated server answers with.

use std::fmt;
use std::path::PathBuf;

/// The error names the simulator answers with (spec section 5). The set is closed.
pub mod names {
    /// The named object does not exist.
    pub const OBJECT_DOES_NOT_EXIST: &str = "objectDoesNotExist";
    /// An object with that name already exists.
    pub const OBJECT_EXISTS: &str = "objectExists";
    /// Invalid or unacceptable parameters (also: bad token, unknown call).
    pub const INVALID_PARAM: &str = "invalidParam";
    /// The object is in use (attached, open, or used by other objects).
    pub const BUSY: &str = "busy";
    /// Not enough space or disks to place the data.
    pub const INSUFFICIENT_RESOURCES: &str = "insufficientResources";
}

/// An error object as the StorPool API returns it in `{"error": {...}}`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ApiErr {
    /// The machine-readable name (see [`names`]).
    pub name: String,
    /// The human-readable description.
    pub descr: String,
    /// Whether a retry may succeed.
    pub transient: bool,
    /// HTTP status override; `None` uses the server's configured error status.
    pub(crate) status: Option<u16>,
}

impl ApiErr {
    pub(crate) fn new(name: &str, descr: impl Into<String>) -> Self {
        Self {
            name: name.to_owned(),
            descr: descr.into(),
            transient: false,
            status: None,
        }
    }

    pub(crate) fn not_found(descr: impl Into<String>) -> Self {
        Self::new(names::OBJECT_DOES_NOT_EXIST, descr)
    }

    pub(crate) fn exists(descr: impl Into<String>) -> Self {
        Self::new(names::OBJECT_EXISTS, descr)
    }

    pub(crate) fn invalid(descr: impl Into<String>) -> Self {
        Self::new(names::INVALID_PARAM, descr)
    }

    pub(crate) fn busy(descr: impl Into<String>) -> Self {
        Self::new(names::BUSY, descr)
    }

    pub(crate) fn insufficient(descr: impl Into<String>) -> Self {
        Self::new(names::INSUFFICIENT_RESOURCES, descr)
    }

    pub(crate) fn with_status(mut self, status: u16) -> Self {
        self.status = Some(status);
        self
    }

    /// The JSON envelope `{"error": {...}}`.
    pub(crate) fn envelope(&self) -> serde_json::Value {
        serde_json::json!({
            "error": { "name": self.name, "descr": self.descr, "transient": self.transient }
        })
    }
}

impl fmt::Display for ApiErr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.name, self.descr)
    }
}

impl std::error::Error for ApiErr {}

/// Why the simulator could not start or do what the library caller asked.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SimError {
    /// A file or folder of the state or device root could not be used.
    #[error("cannot use {}", path.display())]
    Io {
        /// The file or folder.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// The state database could not be opened, read or written.
    #[error("state database {}", path.display())]
    Store {
        /// The database file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: rusqlite::Error,
    },
    /// The state database holds something this version cannot read.
    #[error("state database {} is corrupt: {what}", path.display())]
    Corrupt {
        /// The database file.
        path: PathBuf,
        /// What was wrong.
        what: String,
    },
    /// The listening socket could not be opened.
    #[error("cannot listen on {addr}")]
    Listen {
        /// The address.
        addr: String,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// The state directory is in use by another simulator (in this or another process), and
    /// it did not let go within [`crate::SimBuilder::lock_wait`].
    #[error(
        "the state directory {} is in use by another simulator{} (waited {:.1} s)",
        dir.display(),
        holder.map_or_else(String::new, |pid| format!(" (process {pid})")),
        waited.as_secs_f64()
    )]
    Locked {
        /// The state directory.
        dir: PathBuf,
        /// The process id the holder recorded, when known.
        holder: Option<u32>,
        /// How long it waited.
        waited: std::time::Duration,
    },
    /// The state directory holds something that is not a simulator's: it is refused, and
    /// nothing in it is created, changed or removed.
    #[error(
        "the state directory {} is not a simulator's state: it holds {what}; give a new or \
         empty folder",
        dir.display()
    )]
    NotState {
        /// The state directory.
        dir: PathBuf,
        /// What in it is not the simulator's.
        what: String,
    },
    /// The server thread or its runtime could not be started.
    #[error("cannot start the simulator's runtime")]
    Runtime(#[source] std::io::Error),
    /// An option has a value the simulator cannot use.
    #[error("invalid option: {0}")]
    Option(String),
    /// An in-process API call ([`crate::SimHandle::call`]) was answered with an error.
    #[error("API call failed: {0}")]
    Api(ApiErr),
}
