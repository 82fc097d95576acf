//! The one error type of the driver, and how to classify it.

use std::fmt;

use storpool_api::{ApiError, ServerError};

use crate::naming::IdKind;

/// The cluster object an operation was working on: its name on the cluster and, when it
/// stands for one, the orchestrator's id.
///
/// ```
/// use storpool_driver_core::{IdKind, Object};
///
/// let object = Object::new(IdKind::Volume, "os--volume-1", Some("1"));
/// assert_eq!(object.to_string(), "volume `os--volume-1` (id `1`)");
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Object {
    /// What the object is.
    pub kind: IdKind,
    /// The name on the cluster, e.g. `os--volume-1`.
    pub name: String,
    /// The orchestrator's id, e.g. `1`, when the name stands for one.
    pub id: Option<String>,
}

impl Object {
    /// An object of `kind` named `name` on the cluster, standing for the orchestrator's `id`.
    ///
    /// ```
    /// use storpool_driver_core::{IdKind, Object};
    ///
    /// let template = Object::new(IdKind::Template, "ssd", None);
    /// assert_eq!((template.name.as_str(), template.id.as_deref()), ("ssd", None));
    /// assert_eq!(template.to_string(), "template `ssd`");
    /// ```
    pub fn new(kind: IdKind, name: impl Into<String>, id: Option<&str>) -> Self {
        Self {
            kind,
            name: name.into(),
            id: id.map(str::to_owned),
        }
    }
}

impl fmt::Display for Object {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} `{}`", self.kind, self.name)?;
        if let Some(id) = &self.id {
            write!(f, " (id `{id}`)")?;
        }
        Ok(())
    }
}

/// What kind of failure an error is, for callers that branch on it (a command-line tool
/// maps [`ErrorKind::is_user_error`] to its usage/configuration exit code and the rest to
/// "the operation failed").
///
/// ```
/// use storpool_driver_core::{ErrorKind, Naming};
///
/// let err = Naming::new("my cloud").unwrap_err();
/// let exit_code = match err.kind() {
///     kind if kind.is_user_error() => 2,
///     ErrorKind::Timeout => 75,
///     _ => 1,
/// };
/// assert_eq!((err.kind(), exit_code), (ErrorKind::Configuration, 2));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// A value given to the driver is not acceptable (id, size, volume-type spec, name);
    /// nothing was asked of the cluster.
    InvalidInput,
    /// The driver's own settings or storpool.conf are wrong.
    Configuration,
    /// The cluster says the volume, snapshot or template does not exist.
    NotFound,
    /// An object of that name exists and is not the one asked for.
    Conflict,
    /// The cluster refused the request (invalid parameter, busy, out of space, ...).
    Refused,
    /// A request timed out; the cluster may still carry it out.
    Timeout,
    /// The cluster could not be reached, or kept answering with transient errors until the
    /// retries ran out.
    Unavailable,
    /// The cluster's answer could not be understood.
    Protocol,
}

impl ErrorKind {
    /// Bad input or configuration: fixing the call, not retrying it, is the cure.
    ///
    /// ```
    /// use storpool_driver_core::ErrorKind;
    ///
    /// assert!(ErrorKind::InvalidInput.is_user_error());
    /// assert!(ErrorKind::Configuration.is_user_error());
    /// assert!(!ErrorKind::Timeout.is_user_error());
    /// ```
    pub fn is_user_error(self) -> bool {
        matches!(self, Self::InvalidInput | Self::Configuration)
    }

    /// The operation failed on (or on the way to) the cluster: refused, not found, conflict,
    /// timed out, unreachable.
    ///
    /// ```
    /// use storpool_driver_core::ErrorKind;
    ///
    /// assert!(ErrorKind::NotFound.is_cluster_failure());
    /// assert!(ErrorKind::Unavailable.is_cluster_failure());
    /// assert!(!ErrorKind::InvalidInput.is_cluster_failure());
    /// assert!(!ErrorKind::Protocol.is_cluster_failure()); // neither: an answer not understood
    /// ```
    pub fn is_cluster_failure(self) -> bool {
        matches!(
            self,
            Self::NotFound | Self::Conflict | Self::Refused | Self::Timeout | Self::Unavailable
        )
    }

    fn of_api(err: &ApiError) -> Self {
        match err {
            ApiError::Server(server) if server.transient => Self::Unavailable,
            ApiError::Server(server) if server.is_object_not_found() => Self::NotFound,
            ApiError::Server(server) if server.is_object_exists() => Self::Conflict,
            ApiError::Server(_) => Self::Refused,
            ApiError::Timeout { .. } => Self::Timeout,
            ApiError::Transport { .. } => Self::Unavailable,
            ApiError::InvalidArgument { .. } => Self::InvalidInput,
            ApiError::Config(_) | ApiError::HttpClient(_) => Self::Configuration,
            _ => Self::Protocol,
        }
    }
}

/// Everything a driver operation can fail with.
///
/// `Display` says what the driver was doing (lowercase, one line); the cluster's answer, with
/// its error name and description, is the [`std::error::Error::source`] (see also
/// [`DriverError::cluster_error`]). Use [`DriverError::kind`] to branch.
///
/// ```
/// use storpool_driver_core::{DriverError, ErrorKind, Naming};
///
/// let err = Naming::new("os")?.volume("a/b").unwrap_err();
/// assert!(matches!(&err, DriverError::InvalidId { id, .. } if id == "a/b"));
/// assert!(err.to_string().starts_with("invalid volume id `a/b`"));
/// assert_eq!(err.kind(), ErrorKind::InvalidInput);
/// # Ok::<(), storpool_driver_core::DriverError>(())
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DriverError {
    /// An orchestrator id cannot be turned into a cluster name.
    #[error("invalid {kind} id `{id}`: {reason}")]
    InvalidId {
        /// What the id names.
        kind: IdKind,
        /// The id as given.
        id: String,
        /// Why it is refused.
        reason: &'static str,
    },

    /// The volume prefix (`SP_OPENSTACK_VOLUME_PREFIX`) cannot start a volume name.
    #[error(
        "invalid volume prefix `{prefix}`: only letters, digits and `_`, `-`, `.`, `:` are allowed"
    )]
    InvalidPrefix {
        /// The prefix as configured.
        prefix: String,
    },

    /// A volume-type spec has a value the driver cannot use.
    #[error("invalid volume-type spec {key}={value}: {reason}")]
    InvalidSpec {
        /// The spec's key.
        key: String,
        /// Its value.
        value: String,
        /// Why it is refused.
        reason: String,
    },

    /// A size in GiB is 0 or too large to express in bytes. Checked before the cluster is
    /// asked anything.
    #[error("invalid size {gib} GiB for {object}: {reason}")]
    InvalidSize {
        /// The object the size was for.
        object: Object,
        /// The size as given.
        gib: u64,
        /// Why it is refused.
        reason: &'static str,
    },

    /// A name given by the caller (e.g. of an existing volume to manage) is not a valid
    /// cluster name, or is one the operation cannot take.
    #[error("invalid volume name `{name}`: {reason}")]
    InvalidName {
        /// The name as given.
        name: String,
        /// Why it is refused.
        reason: String,
    },

    /// A group snapshot request lists no volume, or a volume twice.
    #[error("invalid group snapshot `{id}`: {reason}")]
    InvalidGroup {
        /// The group snapshot id.
        id: String,
        /// What is wrong.
        reason: String,
    },

    /// A driver setting is out of range.
    #[error("invalid driver option {option} `{value}`: {reason}")]
    InvalidOption {
        /// The option.
        option: &'static str,
        /// Its value.
        value: String,
        /// What is expected.
        reason: &'static str,
    },

    /// storpool.conf could not be read, or lacks what the API client needs.
    #[error("could not read the StorPool configuration")]
    Config(#[source] Box<storpool_conf::ConfError>),

    /// The API client could not be built from the configuration.
    #[error("could not set up the StorPool API client")]
    ClientSetup(#[source] Box<ApiError>),

    /// A host's client id (`SP_OURID` in its storpool.conf section) could not be read.
    #[error(
        "cannot read {variable} of host `{section}` (its `[{section}]` section) from the StorPool configuration"
    )]
    ClientId {
        /// The section (host name) that was read.
        section: String,
        /// The variable, `SP_OURID`.
        variable: &'static str,
        /// What was wrong.
        #[source]
        source: Box<storpool_conf::ConfError>,
    },

    /// The cluster answered a request of the operation with an error, or could not be asked.
    #[error("{operation} failed on {object}")]
    Api {
        /// The driver operation, e.g. `create volume`.
        operation: &'static str,
        /// The object the failing request was about.
        object: Object,
        /// The API error: the call, the HTTP status, StorPool's error name and description.
        #[source]
        source: Box<ApiError>,
    },

    /// The blocking driver (feature `blocking`) could not run the operation: it was called
    /// inside a Tokio runtime, or its runtime could not be started. Of kind
    /// [`ErrorKind::Configuration`]: the program, not the cluster, must change.
    #[cfg(feature = "blocking")]
    #[error("cannot run the blocking StorPool driver")]
    Blocking(#[source] storpool_api::blocking::BlockingError),

    /// An object of the requested name exists but is not what the operation would have made
    /// (e.g. a retried create that finds a volume of another size or template).
    #[error("{operation} failed on {object}: {reason}")]
    Conflict {
        /// The driver operation.
        operation: &'static str,
        /// The object.
        object: Object,
        /// How the existing object differs.
        reason: String,
    },
}

impl DriverError {
    /// The kind of failure.
    ///
    /// ```
    /// use storpool_driver_core::{Client, Driver, DriverOptions, ErrorKind};
    ///
    /// let client = Client::builder().base_url("http://10.0.0.5:81").token("1234").build()?;
    /// let err = Driver::new(client, DriverOptions::new().default_replication(4)).unwrap_err();
    /// assert_eq!(err.kind(), ErrorKind::Configuration);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn kind(&self) -> ErrorKind {
        match self {
            Self::InvalidId { .. }
            | Self::InvalidSpec { .. }
            | Self::InvalidSize { .. }
            | Self::InvalidName { .. }
            | Self::InvalidGroup { .. } => ErrorKind::InvalidInput,
            Self::InvalidPrefix { .. }
            | Self::InvalidOption { .. }
            | Self::Config(_)
            | Self::ClientSetup(_)
            | Self::ClientId { .. } => ErrorKind::Configuration,
            #[cfg(feature = "blocking")]
            Self::Blocking(_) => ErrorKind::Configuration,
            Self::Api { source, .. } => ErrorKind::of_api(source),
            Self::Conflict { .. } => ErrorKind::Conflict,
        }
    }

    /// Bad input or configuration (see [`ErrorKind::is_user_error`]).
    ///
    /// ```
    /// let err = storpool_driver_core::Naming::new("os")?.volume("a/b").unwrap_err();
    /// assert!(err.is_user_error()); // fix the id: retrying cannot help
    /// # Ok::<(), storpool_driver_core::DriverError>(())
    /// ```
    pub fn is_user_error(&self) -> bool {
        self.kind().is_user_error()
    }

    /// The operation failed on the cluster (see [`ErrorKind::is_cluster_failure`]).
    ///
    /// ```
    /// let err = storpool_driver_core::Naming::new("my cloud").unwrap_err();
    /// assert!(!err.is_cluster_failure()); // a bad prefix: the cluster was not even asked
    /// ```
    pub fn is_cluster_failure(&self) -> bool {
        self.kind().is_cluster_failure()
    }

    /// The API error behind the failure, when the cluster was asked.
    ///
    /// ```no_run
    /// # async fn run(driver: storpool_driver_core::Driver) -> Result<(), Box<dyn std::error::Error>> {
    /// use storpool_driver_core::ApiError;
    ///
    /// if let Err(err) = driver.get_volume("1234").await {
    ///     if let Some(ApiError::Timeout { call, .. }) = err.api_error() {
    ///         eprintln!("{call} timed out; the cluster may still carry it out");
    ///     }
    /// }
    /// # Ok(())
    /// # }
    /// ```
    pub fn api_error(&self) -> Option<&ApiError> {
        match self {
            Self::Api { source, .. } => Some(source),
            _ => None,
        }
    }

    /// The cluster's error answer, when there was one: its `name`, `descr`, `transient`.
    ///
    /// ```no_run
    /// # async fn run(driver: storpool_driver_core::Driver) -> Result<(), Box<dyn std::error::Error>> {
    /// if let Err(err) = driver.delete_snapshot("77").await {
    ///     if let Some(answer) = err.cluster_error() {
    ///         eprintln!("{}: {} (transient: {})", answer.name, answer.descr, answer.transient);
    ///     }
    /// }
    /// # Ok(())
    /// # }
    /// ```
    pub fn cluster_error(&self) -> Option<&ServerError> {
        match self {
            Self::Api { source, .. } => source.server(),
            _ => None,
        }
    }

    /// The cluster's description of the error, when it answered with one.
    ///
    /// ```no_run
    /// # async fn run(driver: storpool_driver_core::Driver) -> Result<(), Box<dyn std::error::Error>> {
    /// if let Err(err) = driver.delete_volume("1234").await {
    ///     eprintln!("{err}: {}", err.cluster_description().unwrap_or("no answer"));
    /// }
    /// # Ok(())
    /// # }
    /// ```
    pub fn cluster_description(&self) -> Option<&str> {
        self.cluster_error().map(|err| err.descr.as_str())
    }

    /// The driver operation that failed, when the error came from one.
    ///
    /// ```no_run
    /// # async fn run(driver: storpool_driver_core::Driver) -> Result<(), Box<dyn std::error::Error>> {
    /// if let Err(err) = driver.extend_volume("1234", 20).await {
    ///     assert_eq!(err.operation(), Some("extend volume"));
    /// }
    /// # Ok(())
    /// # }
    /// ```
    pub fn operation(&self) -> Option<&'static str> {
        match self {
            Self::Api { operation, .. } | Self::Conflict { operation, .. } => Some(operation),
            _ => None,
        }
    }

    /// The object the failure is about, when known.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use storpool_driver_core::{Client, Driver, DriverOptions, IdKind, Specs};
    ///
    /// let client = Client::builder().base_url("http://10.0.0.5:81").token("1234").build()?;
    /// let driver = Driver::new(client, DriverOptions::new())?;
    /// // A size of 0 is refused before the cluster is asked anything.
    /// let err = driver.create_volume("1", 0, &Specs::new()).await.unwrap_err();
    /// let object = err.object().unwrap();
    /// assert_eq!((object.kind, object.name.as_str()), (IdKind::Volume, "os--volume-1"));
    /// # Ok(())
    /// # }
    /// ```
    pub fn object(&self) -> Option<&Object> {
        match self {
            Self::Api { object, .. }
            | Self::Conflict { object, .. }
            | Self::InvalidSize { object, .. } => Some(object),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use std::error::Error as _;

    use super::*;

    fn invalid_argument() -> ApiError {
        ApiError::InvalidArgument {
            field: "size",
            value: "0".to_owned(),
            reason: "must be positive".to_owned(),
        }
    }

    #[test]
    fn display_names_the_operation_and_object_and_keeps_the_cause_in_source() {
        let err = DriverError::Api {
            operation: "create volume",
            object: Object::new(IdKind::Volume, "os--volume-1", Some("1")),
            source: Box::new(invalid_argument()),
        };
        assert_eq!(
            err.to_string(),
            "create volume failed on volume `os--volume-1` (id `1`)"
        );
        assert_eq!(
            err.source().map(ToString::to_string).as_deref(),
            Some("invalid size `0`: must be positive")
        );
        assert_eq!(err.kind(), ErrorKind::InvalidInput);
        assert!(err.is_user_error());
        assert!(!err.is_cluster_failure());
        assert_eq!(err.operation(), Some("create volume"));
        assert!(err.cluster_error().is_none());
    }

    #[test]
    fn user_errors_and_cluster_failures_do_not_overlap() {
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
        ] {
            assert!(
                !(kind.is_user_error() && kind.is_cluster_failure()),
                "{kind:?}"
            );
        }
        assert!(!Protocol.is_user_error() && !Protocol.is_cluster_failure());
    }
}
