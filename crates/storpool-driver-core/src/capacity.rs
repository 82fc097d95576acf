//! Capacity arithmetic of the reference driver, from the cluster's disk figures.

/// StorPool's allocation group: the unit of `agCount`, `agAllocated` and `agFree`.
pub const ALLOCATION_GROUP: u64 = 512 << 20;

/// One disk's figures from `DisksList`.
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

const GIB: f64 = 1_073_741_824.0;

#[allow(clippy::cast_precision_loss)] // byte counts far below 2^53
fn gib(bytes: u64) -> f64 {
    bytes as f64 / GIB
}

/// Sums the disks that are up: total and used are allocation groups x 512 MiB; free is
/// `agFree x 512 MiB x 4096/(4096+128)`, divided by `replication` (at least 1).
pub fn cluster_capacity(
    disks: impl IntoIterator<Item = DiskFigures>,
    replication: u32,
) -> Capacity {
    let (mut total, mut used, mut free) = (0u64, 0u64, 0f64);
    for disk in disks.into_iter().filter(|d| d.up) {
        total += disk.ag_count * ALLOCATION_GROUP;
        used += disk.ag_allocated * ALLOCATION_GROUP;
        free += gib(disk.ag_free * ALLOCATION_GROUP) * 4096.0 / (4096.0 + 128.0);
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
