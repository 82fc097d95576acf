//! Where an object's data lives: deterministic replica placement over the placement groups,
//! and the space figures that follow from the data actually stored.

use std::collections::{BTreeMap, BTreeSet};

use crate::engine::Ctx;
use crate::error::ApiErr;
use crate::model::{Cluster, Obj};

/// Objects are up to 32 MiB.
pub(crate) const OBJECT_SIZE: u64 = 32 << 20;
/// Allocation groups are 512 MiB.
pub(crate) const AG_SIZE: u64 = 512 << 20;

pub(crate) fn objects_count(size: u64) -> u64 {
    size.div_ceil(OBJECT_SIZE)
}

/// Up disks of a placement group: (disk id, server id).
fn group_disks(cl: &Cluster, group: &str) -> Vec<(u32, u32)> {
    let Some(pg) = cl.pg_by_name(group) else {
        return Vec::new();
    };
    pg.disks
        .iter()
        .filter_map(|d| cl.disks.get(d))
        .filter(|d| d.down_since.is_none())
        .map(|d| (d.id, d.server))
        .collect()
}

/// Pick one disk set (chain) for replica set number `k`. `None`: the policy cannot be met.
fn pick_set(
    cl: &Cluster,
    replication: u8,
    groups: (&str, &str, &str),
    reuse_server: bool,
    k: u64,
) -> Option<Vec<u32>> {
    let (all, tail, head) = groups;
    let r = usize::from(replication);
    let mut chosen: Vec<(u32, u32)> = Vec::with_capacity(r);
    for i in 0..r {
        let group = if i + 1 == r {
            tail
        } else if i == 0 {
            head
        } else {
            all
        };
        let cands = group_disks(cl, group);
        if cands.is_empty() {
            return None;
        }
        let n = cands.len() as u64;
        let start = k.wrapping_mul(7).wrapping_add(i as u64 * 3) % n;
        let pick = (0..n)
            .map(|j| cands[usize::try_from((start + j) % n).unwrap_or(0)])
            .find(|(disk, server)| {
                !chosen.iter().any(|(d, _)| d == disk)
                    && (reuse_server || !chosen.iter().any(|(_, s)| s == server))
            })?;
        chosen.push(pick);
    }
    Some(chosen.into_iter().map(|(d, _)| d).collect())
}

/// The capacity of a disk as `DisksList` reports it: its whole allocation groups.
pub(crate) fn disk_capacity(d: &crate::model::Disk) -> u64 {
    d.size / AG_SIZE * AG_SIZE
}

/// Check that an object with this policy can be placed, and that its size can fit at all.
///
/// Provisioning is thin: free space never refuses an object (the sum of sizes may exceed the
/// cluster); only one object whose replicas exceed the capacity of its placement groups' up
/// disks (as `DisksList` reports it: whole allocation groups) could never be stored.
pub(crate) fn check_placeable(
    cl: &Cluster,
    size: u64,
    replication: u8,
    groups: (&str, &str, &str),
    reuse_server: bool,
) -> Result<(), ApiErr> {
    if pick_set(cl, replication, groups, reuse_server, 0).is_none() {
        let how = if reuse_server { "disks" } else { "servers" };
        return Err(ApiErr::insufficient(format!(
            "cannot place {replication} replicas on distinct {how} of placement groups {}/{}/{}",
            groups.0, groups.1, groups.2
        )));
    }
    let mut groups_seen = BTreeSet::new();
    groups_seen.insert(groups.0);
    groups_seen.insert(groups.1);
    groups_seen.insert(groups.2);
    let capacity: u64 = groups_seen
        .iter()
        .flat_map(|g| group_disks(cl, g))
        .collect::<BTreeSet<_>>()
        .iter()
        .filter_map(|(d, _)| cl.disks.get(d))
        .map(disk_capacity)
        .fold(0u64, u64::saturating_add);
    if size.saturating_mul(u64::from(replication)) > capacity {
        return Err(ApiErr::insufficient(format!(
            "a volume of {size} bytes with replication {replication} does not fit in the {capacity} bytes of its placement groups"
        )));
    }
    Ok(())
}

/// The disk sets of an object (`targetDiskSets`), and the set of each of its objects.
pub(crate) fn disk_sets(cl: &Cluster, o: &Obj) -> (Vec<Vec<u32>>, Vec<usize>) {
    let count = objects_count(o.size);
    let groups = (
        o.place_all.as_str(),
        o.place_tail.as_str(),
        o.place_head.as_str(),
    );
    let n_all = group_disks(cl, &o.place_all).len().max(1) as u64;
    let n_sets = count.clamp(1, n_all);
    let mut sets = Vec::new();
    for k in 0..n_sets {
        match pick_set(
            cl,
            o.replication,
            groups,
            o.reuse_server,
            o.id.wrapping_add(k),
        ) {
            Some(s) => sets.push(s),
            None => break,
        }
    }
    if sets.is_empty() {
        return (Vec::new(), Vec::new());
    }
    let per_object = (0..count)
        .map(|i| usize::try_from(i % sets.len() as u64).unwrap_or(0))
        .collect();
    (sets, per_object)
}

/// Bytes allocated in an object's data file (its whole visible image).
pub(crate) fn image_bytes(ctx: &Ctx<'_>, o: &Obj) -> u64 {
    ctx.data.map_or(0, |d| d.allocated(&o.gid)).min(o.size)
}

/// Estimated client data stored by the object itself (not by its parents): the allocated bytes of
/// its image beyond those of its parent's image.
pub(crate) fn own_bytes(cl: &Cluster, ctx: &Ctx<'_>, o: &Obj) -> u64 {
    let mine = image_bytes(ctx, o);
    if mine == 0 {
        return 0;
    }
    let parent = o
        .parent
        .and_then(|p| cl.obj(p))
        .map_or(0, |p| image_bytes(ctx, p));
    mine.saturating_sub(parent)
}

/// Per-disk usage that follows from the stored data: (bytes, objects with data) per disk.
pub(crate) fn disk_usage(cl: &Cluster, ctx: &Ctx<'_>) -> BTreeMap<u32, (u64, u64)> {
    let mut usage: BTreeMap<u32, (u64, u64)> = BTreeMap::new();
    let Some(data) = ctx.data else {
        return usage;
    };
    for gid in data.gids_with_data() {
        let Some(o) = cl.by_gid(&gid) else { continue };
        let own = own_bytes(cl, ctx, o);
        if own == 0 {
            continue;
        }
        let (sets, per_object) = disk_sets(cl, o);
        if sets.is_empty() || per_object.is_empty() {
            continue;
        }
        // Spread the stored bytes over the objects that hold data, at most one object per
        // 32 MiB stored.
        let used_objects = own
            .div_ceil(OBJECT_SIZE)
            .min(per_object.len() as u64)
            .max(1);
        let per = own.div_ceil(used_objects);
        for set in per_object
            .iter()
            .take(usize::try_from(used_objects).unwrap_or(0))
        {
            for disk in &sets[*set] {
                let e = usage.entry(*disk).or_default();
                e.0 += per;
                e.1 += 1;
            }
        }
    }
    usage
}
