#![doc = include_str!("../README.md")]

#[cfg(feature = "blocking")]
pub mod blocking;
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
pub use specs::{Qos, SpecsExt, VolumeTypeSpecs};
pub use types::{
    ConnectionData, ConnectionInfo, Deletion, GIB, GroupDeletion, GroupSnapshot, ManageableVolume,
    MigrationUpdate, Pool, RetypeOutcome, RetypeRefusal, Snapshot, Stats, Template, Unmanaged,
    Volume,
};

// What the constructors take and the errors carry, so that one dependency is enough.
pub use storpool_api::{ApiError, Client, ClientBuilder, Limit, RetryPolicy, Tags, TemplateName};
pub use storpool_conf::{Config, Loader};
