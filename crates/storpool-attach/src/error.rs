//! The one error type of this crate.

use std::fmt;
use std::io;
use std::path::PathBuf;
use std::time::Duration;

use storpool_api::{ApiError, ClientId};
use storpool_conf::ConfError;

use crate::device::Holder;
use crate::target::ObjectKind;

/// Everything that can go wrong while attaching, detaching or resizing on this node.
///
/// [`AttachError::is_usage`] tells a bad request or configuration (a command-line tool exits
/// 2) from an operation that was tried and failed (exit 1).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AttachError {
    /// storpool.conf cannot be used on this node: `SP_OURID` is missing (the node cannot
    /// attach anything without its client id) or invalid.
    #[error("the StorPool configuration cannot be used to attach volumes on this node")]
    Config(#[source] ConfError),

    /// The volume prefix (`SP_OPENSTACK_VOLUME_PREFIX`) cannot be part of a cluster name.
    #[error(
        "invalid volume prefix `{prefix}` (SP_OPENSTACK_VOLUME_PREFIX): it must be non-empty \
         and hold only letters, digits and `_`, `-`, `.`, `:`"
    )]
    InvalidPrefix {
        /// The prefix.
        prefix: String,
    },

    /// An orchestrator id cannot make a cluster name.
    #[error("invalid {kind} id `{id}`: {reason}")]
    InvalidId {
        /// Volume or snapshot.
        kind: ObjectKind,
        /// The id.
        id: String,
        /// What is wrong with it.
        reason: &'static str,
    },

    /// A connection property the operation needs is missing.
    #[error("invalid StorPool connection data: no `{field}`")]
    MissingField {
        /// The property, e.g. `volume`.
        field: &'static str,
    },

    /// A connection property has a value that cannot be used.
    #[error("invalid StorPool connection data: `{field}` is {value}: {reason}")]
    InvalidField {
        /// The property, e.g. `access_mode`.
        field: &'static str,
        /// The value as given (JSON), or a description of it.
        value: String,
        /// What is expected instead.
        reason: String,
    },

    /// A device path that is not directly in `DEVROOT/storpool` or `DEVROOT/storpool-byid`.
    #[error(
        "{} is not a StorPool device path: expected {}/NAME or {}/GLOBALID",
        path.display(),
        root.join(crate::device::BY_NAME_DIR).display(),
        root.join(crate::device::BY_ID_DIR).display()
    )]
    UnexpectedDevicePath {
        /// The path given.
        path: PathBuf,
        /// The device root.
        root: PathBuf,
    },

    /// The `device_path` of the connection data is not the volume's device.
    #[error(
        "the device path {} does not match the volume's path {}",
        given.display(),
        expected.display()
    )]
    PathMismatch {
        /// The volume's path, `DEVROOT/storpool/NAME`.
        expected: PathBuf,
        /// The path given.
        given: PathBuf,
    },

    /// A snapshot was asked for read-write access.
    #[error("snapshot `{id}` cannot be attached read-write: snapshots are read-only")]
    SnapshotReadOnly {
        /// The snapshot's orchestrator id.
        id: String,
    },

    /// A StorPool API call failed (refused by the cluster, unreachable, not found).
    #[error("{action}")]
    Api {
        /// What this crate was doing, e.g. "cannot attach volume `os--volume-1` to client 3".
        action: String,
        /// The API error.
        #[source]
        source: Box<ApiError>,
    },

    /// The cluster gave a global id that cannot name a device (`[a-z0-9]+` tokens, three
    /// of them, dot-separated).
    #[error("the cluster gave `{name}` the global id `{global_id}`, which cannot name a device")]
    InvalidGlobalId {
        /// The cluster name.
        name: String,
        /// The global id as the cluster gave it.
        global_id: String,
    },

    /// A detach was refused because the device is open, after every retry the policy allows.
    #[error(
        "cannot detach `{name}` from client {client}: the device is still open after {attempts} \
         attempts{}",
        HeldBy(holders)
    )]
    Busy {
        /// The cluster name (or `~GLOBALID`) of the volume or snapshot.
        name: String,
        /// Our client id.
        client: ClientId,
        /// How many times the detach was sent.
        attempts: u32,
        /// The local processes that have the device open, as far as `/proc` shows.
        holders: Vec<Holder>,
        /// The last answer of the cluster.
        #[source]
        source: Box<ApiError>,
    },

    /// A deadline passed: the device did not appear (or go away).
    #[error("gave up after {:.1} s waiting for {waiting_for}", waited.as_secs_f64())]
    Timeout {
        /// What was awaited.
        waiting_for: String,
        /// How long it waited.
        waited: Duration,
    },

    /// The StorPool API did not answer a call before the deadline (the device side never
    /// got its turn).
    #[error(
        "gave up after {:.1} s waiting for the StorPool API to answer `{call}`",
        waited.as_secs_f64()
    )]
    ApiTimeout {
        /// The API call, e.g. `VolumesReassignWait`.
        call: String,
        /// How long it waited.
        waited: Duration,
    },

    /// A volume that should be attached here has no device on this node.
    #[error("`{name}` is not attached on this node: {} does not exist", path.display())]
    NotAttached {
        /// The cluster name.
        name: String,
        /// The device link looked for.
        path: PathBuf,
    },

    /// After a resize, the local device did not show the cluster's size before the deadline.
    #[error(
        "the local device {} of `{name}` shows {} instead of the cluster's {expected} bytes \
         after {:.1} s",
        path.display(),
        LocalSize(*local),
        waited.as_secs_f64()
    )]
    SizeMismatch {
        /// The cluster name.
        name: String,
        /// The local device.
        path: PathBuf,
        /// The size the cluster reports.
        expected: u64,
        /// The local device's size at the end (`None` when it could not be read).
        local: Option<u64>,
        /// How long it waited.
        waited: Duration,
    },

    /// The blocking connector (feature `blocking`) could not run the operation: it was called
    /// inside a Tokio runtime, or its runtime could not be started. A usage error: the
    /// program must change.
    #[cfg(feature = "blocking")]
    #[error("cannot run the blocking StorPool connector")]
    Blocking(#[source] storpool_api::blocking::BlockingError),

    /// A device folder or device could not be read.
    #[error("cannot read {}", path.display())]
    Device {
        /// The folder or device.
        path: PathBuf,
        /// What the operating system said.
        #[source]
        source: io::Error,
    },
}

impl AttachError {
    /// Whether the request or the configuration is at fault (bad id, bad connection data,
    /// unknown device folder, missing `SP_OURID`): retrying the same request cannot succeed.
    /// Otherwise the operation was tried and failed (timeout, busy, not found, refused).
    pub fn is_usage(&self) -> bool {
        match self {
            Self::Config(_)
            | Self::InvalidPrefix { .. }
            | Self::InvalidId { .. }
            | Self::MissingField { .. }
            | Self::InvalidField { .. }
            | Self::UnexpectedDevicePath { .. }
            | Self::PathMismatch { .. }
            | Self::SnapshotReadOnly { .. } => true,
            #[cfg(feature = "blocking")]
            Self::Blocking(_) => true,
            Self::Api { source, .. } => source.is_invalid_argument(),
            Self::Busy { .. }
            | Self::InvalidGlobalId { .. }
            | Self::Timeout { .. }
            | Self::ApiTimeout { .. }
            | Self::NotAttached { .. }
            | Self::SizeMismatch { .. }
            | Self::Device { .. } => false,
        }
    }

    /// Whether a deadline passed ([`AttachError::Timeout`], [`AttachError::ApiTimeout`] or
    /// [`AttachError::SizeMismatch`]).
    pub fn is_timeout(&self) -> bool {
        matches!(
            self,
            Self::Timeout { .. } | Self::ApiTimeout { .. } | Self::SizeMismatch { .. }
        )
    }

    /// Whether a detach was refused because the device is open ([`AttachError::Busy`]).
    pub fn is_busy(&self) -> bool {
        matches!(self, Self::Busy { .. })
    }

    /// The API error behind this one, if any.
    pub fn api_error(&self) -> Option<&ApiError> {
        match self {
            Self::Api { source, .. } | Self::Busy { source, .. } => Some(source.as_ref()),
            _ => None,
        }
    }
}

/// Formats ` (held by qemu (pid 12), pid 14)` or ` (no process of this node holds it open)`.
struct HeldBy<'a>(&'a [Holder]);

impl fmt::Display for HeldBy<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_empty() {
            return f.write_str(" (no process of this node was found holding it)");
        }
        f.write_str(" (held open by ")?;
        for (i, holder) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            write!(f, "{holder}")?;
        }
        f.write_str(")")
    }
}

struct LocalSize(Option<u64>);

impl fmt::Display for LocalSize {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Some(size) => write!(f, "{size} bytes"),
            None => f.write_str("no readable size"),
        }
    }
}

/// The holders list as it appears in messages and logs.
pub(crate) fn describe_holders(holders: &[Holder]) -> String {
    HeldBy(holders).to_string().trim().to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn busy_names_the_holders() {
        let source = Box::new(storpool_api::ClientId::new(0).unwrap_err());
        let err = AttachError::Busy {
            name: "os--volume-1".into(),
            client: ClientId::new(3).unwrap(),
            attempts: 11,
            holders: vec![
                Holder {
                    pid: 12,
                    command: Some("qemu-kvm".into()),
                },
                Holder {
                    pid: 14,
                    command: None,
                },
            ],
            source,
        };
        assert_eq!(
            err.to_string(),
            "cannot detach `os--volume-1` from client 3: the device is still open after 11 \
             attempts (held open by qemu-kvm (pid 12), pid 14)"
        );
        assert!(!err.is_usage());
        assert!(err.is_busy());
    }

    #[test]
    fn timeouts_say_what_was_awaited() {
        let err = AttachError::Timeout {
            waiting_for: "/dev/storpool-byid/d.n.x to appear".into(),
            waited: Duration::from_millis(1520),
        };
        assert_eq!(
            err.to_string(),
            "gave up after 1.5 s waiting for /dev/storpool-byid/d.n.x to appear"
        );
        assert!(err.is_timeout() && !err.is_usage());
        let err = AttachError::SizeMismatch {
            name: "v".into(),
            path: "/dev/storpool/v".into(),
            expected: 2048,
            local: Some(1024),
            waited: Duration::from_secs(2),
        };
        assert!(
            err.to_string()
                .contains("shows 1024 bytes instead of the cluster's 2048")
        );
    }

    #[test]
    fn the_error_stays_small() {
        assert!(
            size_of::<AttachError>() <= 96,
            "{}",
            size_of::<AttachError>()
        );
    }

    #[test]
    fn invalid_arguments_from_the_client_are_usage_errors() {
        let err = AttachError::Api {
            action: "x".into(),
            source: Box::new(storpool_api::VolumeRef::new("a/b").unwrap_err()),
        };
        assert!(err.is_usage());
    }
}
