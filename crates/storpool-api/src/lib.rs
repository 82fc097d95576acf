#![doc = include_str!("../README.md")]

mod attachments;
#[cfg(feature = "blocking")]
pub mod blocking;
mod client;
mod disks;
mod error;
#[doc(hidden)]
pub mod fuzzing;
mod listing;
pub mod models;
mod names;
pub mod naming;
mod placement_groups;
mod retry;
mod services;
mod snapshots;
mod tags;
mod templates;
mod transport;
mod volumes;

pub use attachments::Attachments;
pub use client::{API_PREFIX, Client, ClientBuilder, DEFAULT_TIMEOUT, Method};
pub use disks::Disks;
pub use error::{ApiError, ServerError, error_name};
pub use models::*;
pub use names::{
    CLUSTER_NAME_SIZE, ClientId, ClusterName, DiskId, GlobalId, NAME_SIZE,
    PLACEMENT_GROUP_NAME_SIZE, PlacementGroupName, REPLICATION_RANGE, SECTOR_SIZE, ServerId,
    SnapshotName, SnapshotRef, TemplateName, VolumeName, VolumeRef, check_replication, check_size,
    check_tags,
};
pub use placement_groups::PlacementGroups;
pub use retry::RetryPolicy;
pub use services::{Clients, Services};
pub use snapshots::Snapshots;
/// The JSON library of [`Client::raw_sonic`]'s value, for its traits
/// (`JsonValueTrait`, `JsonContainerTrait`); with the `sonic` feature.
#[cfg(feature = "sonic")]
pub use sonic_rs;
pub use storpool_conf::AuthToken;
pub use tags::Tags;
pub use templates::Templates;
pub use transport::TransportError;
pub use volumes::Volumes;
