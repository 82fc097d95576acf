//! storpool-driver-core: the StorPool volume driver (work in progress: naming, specs, capacity).

pub mod capacity;
pub mod error;
pub mod naming;
pub mod specs;

pub use error::DriverError;
