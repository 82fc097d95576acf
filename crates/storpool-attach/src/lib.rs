#![doc = include_str!("../README.md")]

#[cfg(feature = "blocking")]
pub mod blocking;
mod connector;
pub mod device;
mod error;
mod naming;
mod options;
mod props;
mod target;
pub mod wait;

pub use connector::{Attached, ClusterAttachment, Connector, Detached, Extended, NodeAttachment};
pub use device::{DeviceRoot, DeviceTarget, Holder};
pub use error::AttachError;
pub use options::{DetachOptions, DetachRetry};
pub use props::{ConnectionProperties, DRIVER_VOLUME_TYPE, DeviceInfo};
pub use storpool_api::ClientId;
pub use target::{AccessMode, ObjectKind, Target};
pub use wait::{TimedOut, WaitOptions};
