//! Disks: `DisksList`, `ServerDisksList`, `DiskDescribe`.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// Defines a disk struct: the members of every disk (down disks have only these), the ones of
/// up disks as `Option`s, then the given ones.
macro_rules! disk_object {
    (
        $(#[$meta:meta])*
        pub struct $name:ident {
            $( $(#[$fmeta:meta])* pub $field:ident : $ty:ty, )*
        }
    ) => {
        $(#[$meta])*
        #[derive(Clone, Debug, PartialEq, Eq, Deserialize, Serialize)]
        #[serde(rename_all = "camelCase")]
        #[non_exhaustive]
        pub struct $name {
            /// Disk id, 0..=4095.
            pub id: u32,
            /// The server the disk is on (the last known one when it is down).
            pub server_id: u32,
            /// Whether it is an SSD.
            pub ssd: bool,
            /// `-1` when the disk is up; else the last cluster generation it was active in.
            pub generation_left: i64,
            /// Drive model.
            pub model: String,
            /// Drive serial number.
            pub serial: String,
            /// User description.
            pub description: String,
            /// Soft-eject state: `on`, `off` or `paused`.
            pub soft_eject: String,
            /// Up disks: 512-byte sectors on the device.
            #[serde(default, skip_serializing_if = "Option::is_none")]
            pub sectors_count: Option<u64>,
            /// Up disks: Whether no volume or snapshot data is on it.
            #[serde(default, skip_serializing_if = "Option::is_none")]
            pub empty: Option<bool>,
            /// Up disks: Whether FUA writes are disabled.
            #[serde(default, skip_serializing_if = "Option::is_none")]
            pub no_fua: Option<bool>,
            /// Up disks: Whether write-back cache flushes are disabled.
            #[serde(default, skip_serializing_if = "Option::is_none")]
            pub no_flush: Option<bool>,
            /// Up disks: Whether trim is disabled.
            #[serde(default, skip_serializing_if = "Option::is_none")]
            pub no_trim: Option<bool>,
            /// Up disks: Whether the write-back cache is on.
            #[serde(default, skip_serializing_if = "Option::is_none")]
            pub is_wbc: Option<bool>,
            /// Up disks: Whether StorPool journaling is on.
            #[serde(default, skip_serializing_if = "Option::is_none")]
            pub journaled: Option<bool>,
            /// Up disks: The device on the server, e.g. `/dev/sdb`.
            #[serde(default, skip_serializing_if = "Option::is_none")]
            pub device: Option<String>,
            /// Up disks: Allocation groups (of 512 MiB) on the disk.
            #[serde(default, skip_serializing_if = "Option::is_none")]
            pub ag_count: Option<u64>,
            /// Up disks: Allocation groups in use.
            #[serde(default, skip_serializing_if = "Option::is_none")]
            pub ag_allocated: Option<u64>,
            /// Up disks: Free allocation groups.
            #[serde(default, skip_serializing_if = "Option::is_none")]
            pub ag_free: Option<u64>,
            /// Up disks: Internal.
            #[serde(default, skip_serializing_if = "Option::is_none")]
            pub ag_full: Option<u64>,
            /// Up disks: Internal.
            #[serde(default, skip_serializing_if = "Option::is_none")]
            pub ag_partial: Option<u64>,
            /// Up disks: Internal.
            #[serde(default, skip_serializing_if = "Option::is_none")]
            pub ag_freeing: Option<u64>,
            /// Up disks: Internal.
            #[serde(default, skip_serializing_if = "Option::is_none")]
            pub ag_max_size_full: Option<u64>,
            /// Up disks: Internal.
            #[serde(default, skip_serializing_if = "Option::is_none")]
            pub ag_max_size_partial: Option<u64>,
            /// Up disks: Internal (seen in captured server output).
            #[serde(default, skip_serializing_if = "Option::is_none")]
            pub ag_free_not_trimmed: Option<u64>,
            /// Up disks: Metadata entries the disk can hold.
            #[serde(default, skip_serializing_if = "Option::is_none")]
            pub entries_count: Option<u64>,
            /// Up disks: Metadata entries in use.
            #[serde(default, skip_serializing_if = "Option::is_none")]
            pub entries_allocated: Option<u64>,
            /// Up disks: Metadata entries left.
            #[serde(default, skip_serializing_if = "Option::is_none")]
            pub entries_free: Option<u64>,
            /// Up disks: Objects the disk can hold.
            #[serde(default, skip_serializing_if = "Option::is_none")]
            pub objects_count: Option<u64>,
            /// Up disks: Objects in use.
            #[serde(default, skip_serializing_if = "Option::is_none")]
            pub objects_allocated: Option<u64>,
            /// Up disks: Objects left.
            #[serde(default, skip_serializing_if = "Option::is_none")]
            pub objects_free: Option<u64>,
            /// Up disks: Bytes taken by objects.
            #[serde(default, skip_serializing_if = "Option::is_none")]
            pub objects_on_disk_size: Option<u64>,
            /// Up disks: Write-back cache statistics (internal; `null` when off).
            #[serde(default, skip_serializing_if = "Option::is_none")]
            pub wbc: Option<DiskWbc>,
            /// Up disks: Internal scores.
            #[serde(default, skip_serializing_if = "Option::is_none")]
            pub aggregate_score: Option<AggregateScore>,
            /// Up disks: Seconds since the current scrub started.
            #[serde(default, skip_serializing_if = "Option::is_none")]
            pub scrubbing_started_before: Option<u64>,
            /// Up disks: Bytes scrubbed in the current run.
            #[serde(default, skip_serializing_if = "Option::is_none")]
            pub scrubbed_bytes: Option<u64>,
            /// Up disks: Scrub bandwidth estimate, bytes/s.
            #[serde(default, rename = "scrubbingBW", skip_serializing_if = "Option::is_none")]
            pub scrubbing_bw: Option<u64>,
            /// Up disks: Estimate of when the scrub finishes.
            #[serde(default, skip_serializing_if = "Option::is_none")]
            pub scrubbing_finish_after: Option<u64>,
            /// Up disks: Seconds the current scrub has been paused.
            #[serde(default, skip_serializing_if = "Option::is_none")]
            pub scrubbing_paused_for: Option<u64>,
            /// Up disks: Whether scrubbing is paused.
            #[serde(default, skip_serializing_if = "Option::is_none")]
            pub scrubbing_paused: Option<bool>,
            /// Up disks: Whether a scrub is running (seen in captured server output).
            #[serde(default, skip_serializing_if = "Option::is_none")]
            pub scrubbing: Option<bool>,
            /// Up disks: Unix time the last scrub completed.
            #[serde(default, skip_serializing_if = "Option::is_none")]
            pub last_scrub_completed: Option<i64>,
            /// Up disks: Internal (seen in captured server output).
            #[serde(default, skip_serializing_if = "Option::is_none")]
            pub pending_error_recoveries: Option<u64>,
            /// Up disks: Errors detected (seen in captured server output).
            #[serde(default, skip_serializing_if = "Option::is_none")]
            pub total_errors_detected: Option<u64>,
            $( $(#[$fmeta])* pub $field : $ty, )*
        }

        impl $name {
            /// Whether the disk is up and in service (`generationLeft == -1`).
            pub fn is_up(&self) -> bool {
                self.generation_left == -1
            }
        }
    };
}

disk_object! {
    /// One disk of `DisksList` / `ServerDisksList` (`DiskSummary`): an up disk has every
    /// member, a down disk only the first eight.
    pub struct DiskSummary {}
}

disk_object! {
    /// `DiskDescribe/ID`: an up disk with the objects stored on it (`Disk`).
    pub struct DiskDescription {
        /// The objects on the disk, by object number.
        #[serde(default)]
        pub objects: BTreeMap<u32, DiskObject>,
    }
}

/// Write-back cache statistics of a disk.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct DiskWbc {
    /// Pages in the cache.
    pub pages: u64,
    /// Pages waiting to be written.
    pub pages_pending: u64,
    /// Cache size in pages.
    pub max_pages: u64,
}

/// Internal placement scores of a disk.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize, Serialize)]
#[non_exhaustive]
pub struct AggregateScore {
    /// Entries score.
    pub entries: i64,
    /// Space score.
    pub space: i64,
    /// Total score.
    pub total: i64,
}

/// One object stored on a disk (`DiskObject`).
#[derive(Clone, Debug, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct DiskObject {
    /// Internal id.
    #[serde(default)]
    pub object_id: u64,
    /// Generation of the last write.
    pub generation: u64,
    /// Write version.
    pub version: u64,
    /// The volume whose data this is.
    pub volume: String,
    /// The parent snapshot's name.
    pub parent_volume: String,
    /// Bytes allocated on the disk (up to 32 MiB).
    pub on_disk_size: u64,
    /// Bytes of data in the object.
    pub stored_size: u64,
    /// State 0..=9: undef, ok, outdated, in recovery, waiting for version, waiting for disk,
    /// data not present, data lost, waiting for chain, wait idle.
    pub state: u8,
    /// Internal id of the volume.
    #[serde(default)]
    pub volume_id: u64,
}

impl DiskObject {
    /// Whether the object's state is "ok" (1).
    pub fn is_ok(&self) -> bool {
        self.state == 1
    }
}
