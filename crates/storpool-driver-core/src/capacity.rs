//! Capacity arithmetic of the reference driver, from the cluster's disk figures.

/// StorPool's allocation group: the unit of `agCount`, `agAllocated` and `agFree`.
pub const ALLOCATION_GROUP: u64 = 512 << 20;

/// One disk's figures from `DisksList`.
///
/// ```
/// use storpool_driver_core::capacity::{ALLOCATION_GROUP, DiskFigures};
///
/// // A 7 GiB disk (14 allocation groups of 512 MiB), 6 GiB of it free.
/// let disk = DiskFigures { up: true, ag_count: 14, ag_allocated: 1, ag_free: 12 };
/// assert_eq!(disk.ag_count * ALLOCATION_GROUP, 7 << 30);
/// assert_eq!(disk.ag_free * ALLOCATION_GROUP, 6 << 30);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DiskFigures {
    /// Whether the disk is up and in service (`generationLeft == -1`); only those count.
    pub up: bool,
    /// Allocation groups on the disk.
    pub ag_count: u64,
    /// Allocation groups in use.
    pub ag_allocated: u64,
    /// Free allocation groups.
    pub ag_free: u64,
}

/// Cluster-wide capacity in GiB, as the reference driver computes it.
///
/// ```
/// use storpool_driver_core::capacity::{Capacity, DiskFigures, cluster_capacity};
///
/// let disk = DiskFigures { up: true, ag_count: 4, ag_allocated: 2, ag_free: 2 };
/// let Capacity { total_gb, used_gb, free_gb } = cluster_capacity([disk], 1);
/// assert_eq!((total_gb, used_gb), (2.0, 1.0));
/// assert!(free_gb < 1.0); // 1 GiB free, less the metadata overhead
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Capacity {
    /// Raw capacity of the disks that are up.
    pub total_gb: f64,
    /// Raw space in use on them.
    pub used_gb: f64,
    /// Space new volumes can use: free allocation groups, less StorPool's 128/4224 metadata
    /// overhead, divided by the replication new volumes get.
    pub free_gb: f64,
}

/// Bytes in GiB, as a float (Cinder reports capacities in floating-point GiB).
///
/// ```
/// use storpool_driver_core::capacity::gib;
///
/// assert_eq!(gib(3 << 29), 1.5);
/// ```
#[allow(clippy::cast_precision_loss)] // byte counts far below 2^53
pub fn gib(bytes: u64) -> f64 {
    bytes as f64 / crate::types::GIB as f64
}

/// Sums the disks that are up: total and used are allocation groups x 512 MiB; free is
/// `agFree x 512 MiB x 4096/(4096+128)`, divided by `replication` (at least 1).
///
/// ```
/// use storpool_driver_core::capacity::{DiskFigures, cluster_capacity};
///
/// let disk = DiskFigures { up: true, ag_count: 14, ag_allocated: 1, ag_free: 12 };
/// let down = DiskFigures { up: false, ..disk };
/// let capacity = cluster_capacity([disk, disk, disk, down], 3);
/// assert_eq!(capacity.total_gb, 21.0); // 3 disks that are up, 7 GiB each
/// assert!((capacity.free_gb - 5.818).abs() < 1e-3); // 18 GiB less metadata, 3 copies
/// ```
pub fn cluster_capacity(
    disks: impl IntoIterator<Item = DiskFigures>,
    replication: u32,
) -> Capacity {
    // Saturating: the figures come from the server and must never cause a panic.
    let bytes = |ags: u64| ags.saturating_mul(ALLOCATION_GROUP);
    let (mut total, mut used, mut free) = (0u64, 0u64, 0f64);
    for disk in disks.into_iter().filter(|d| d.up) {
        total = total.saturating_add(bytes(disk.ag_count));
        used = used.saturating_add(bytes(disk.ag_allocated));
        free += gib(bytes(disk.ag_free)) * 4096.0 / (4096.0 + 128.0);
    }
    Capacity {
        total_gb: gib(total),
        used_gb: gib(used),
        free_gb: free / f64::from(replication.max(1)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reference_cluster() -> Vec<DiskFigures> {
        let disk = DiskFigures {
            up: true,
            ag_count: 14,
            ag_allocated: 1,
            ag_free: 12,
        };
        vec![disk, disk, disk, DiskFigures { up: false, ..disk }]
    }

    #[test]
    fn the_reference_test_cluster_gives_the_reference_figures() {
        let at3 = cluster_capacity(reference_cluster(), 3);
        assert!((at3.total_gb - 21.0).abs() < 1e-9);
        assert!((at3.used_gb - 1.5).abs() < 1e-9);
        assert!((at3.free_gb - 18.0 * 4096.0 / 4224.0 / 3.0).abs() < 1e-9);
        assert!((at3.free_gb - 5.818).abs() < 1e-3);
        let at2 = cluster_capacity(reference_cluster(), 2);
        assert!((at2.free_gb - 8.727).abs() < 1e-3);
    }

    #[test]
    fn absurd_figures_from_the_server_saturate_instead_of_panicking() {
        let huge = DiskFigures {
            up: true,
            ag_count: u64::MAX,
            ag_allocated: u64::MAX,
            ag_free: u64::MAX,
        };
        let capacity = cluster_capacity([huge, huge], 0);
        assert!(capacity.total_gb > 0.0 && capacity.free_gb.is_finite());
    }

    #[test]
    fn disks_that_are_down_do_not_count() {
        let down = DiskFigures {
            up: false,
            ag_count: 100,
            ag_allocated: 0,
            ag_free: 100,
        };
        assert_eq!(cluster_capacity([down], 3), Capacity::default());
    }
}
