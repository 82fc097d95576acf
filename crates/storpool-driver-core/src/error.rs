//! The one error type of the driver.

use crate::naming::IdKind;

/// Everything a driver operation can fail with.
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
}
