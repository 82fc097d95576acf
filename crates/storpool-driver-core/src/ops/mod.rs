//! The operations, one module per area; each adds methods to [`crate::Driver`].

pub(crate) mod clone;
mod connection;
mod listings;
mod manage;
pub(crate) mod migration;
mod retype;
mod snapshots;
mod stats;
pub(crate) mod volumes;
