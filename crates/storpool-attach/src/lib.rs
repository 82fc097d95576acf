//! storpool-attach: the compute-node side of StorPool volumes (work in progress: the device layer).

pub mod device;
pub mod wait;
