#![doc = include_str!("../README.md")]

pub mod capacity;
mod driver;
pub mod error;
pub mod naming;
mod ops;
pub mod specs;
pub mod types;

pub use driver::{
    DEFAULT_BACKEND_NAME, DEFAULT_REPLICATION, Driver, DriverOptions, FALLBACK_CLIENT_ID,
    Placement, Specs, pool,
};
pub use error::{DriverError, ErrorKind, Object};
pub use naming::{IdKind, Naming};
pub use ops::clone::TRANSIENT_TAG;
pub use ops::migration::MIGRATION_TAG;
pub use specs::{Qos, VolumeTypeSpecs};
pub use types::{
    ConnectionData, ConnectionInfo, Deletion, GIB, GroupDeletion, GroupSnapshot, ManageableVolume,
    MigrationUpdate, Pool, RetypeOutcome, RetypeRefusal, Snapshot, Stats, Template, Unmanaged,
    Volume,
};
