//! JSON shapes of the responses (spec section 3), built by hand.

use std::collections::BTreeMap;

use serde_json::{Map, Value, json};

use super::placement::{self, objects_count};
use crate::engine::Ctx;
use crate::model::{Cluster, Obj, Template};

pub(crate) fn limit(v: Option<u64>) -> Value {
    v.map_or_else(|| Value::String("-".into()), Value::from)
}

fn tags(ctx: &Ctx<'_>, m: &mut Map<String, Value>, t: &BTreeMap<String, String>) {
    if t.is_empty() && ctx.settings.omit_empty_tags {
        return;
    }
    m.insert("tags".into(), json!(t));
}

/// `VolumeSummary` / `SnapshotSummary`.
pub(crate) fn summary(cl: &Cluster, ctx: &Ctx<'_>, o: &Obj) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert("name".into(), o.display_name().into());
    m.insert("id".into(), o.id.into());
    m.insert("parentName".into(), cl.parent_name(o).into());
    m.insert("templateName".into(), cl.template_name(o.template).into());
    m.insert("size".into(), o.size.into());
    m.insert("replication".into(), o.replication.into());
    m.insert("globalId".into(), o.gid.clone().into());
    m.insert("placeAll".into(), o.place_all.clone().into());
    m.insert("placeTail".into(), o.place_tail.clone().into());
    m.insert("placeHead".into(), o.place_head.clone().into());
    m.insert("parentVolumeId".into(), o.parent.unwrap_or(0).into());
    m.insert(
        "originalParentVolumeId".into(),
        o.original_parent.unwrap_or(0).into(),
    );
    m.insert("visibleVolumeId".into(), o.id.into());
    m.insert("templateId".into(), o.template.unwrap_or(0).into());
    m.insert("objectsCount".into(), objects_count(o.size).into());
    m.insert("creationTimestamp".into(), o.created.into());
    m.insert("flags".into(), 0.into());
    m.insert("bw".into(), limit(o.bw));
    m.insert("iops".into(), limit(o.iops));
    m.insert("limitType".into(), "total".into());
    m.insert("reuseServer".into(), o.reuse_server.into());
    m.insert("firstNotParentObjectId".into(), 0.into());
    tags(ctx, &mut m, &o.tags);
    if o.snapshot {
        let on_volume = o
            .on_volume
            .and_then(|v| cl.obj(v))
            .filter(|v| !v.snapshot)
            .map_or_else(|| "-".to_owned(), Obj::display_name);
        m.insert("onVolume".into(), on_volume.into());
        m.insert("autoName".into(), o.auto_name.into());
        m.insert("bound".into(), o.bound.into());
        m.insert("deleted".into(), o.deleted.into());
        m.insert("transient".into(), o.transient.into());
        m.insert("recoveringFromRemote".into(), false.into());
        if o.target_delete_date > 0 {
            m.insert("targetDeleteDate".into(), o.target_delete_date.into());
        }
        if o.deleted {
            m.insert("deleteBlocked".into(), "multiple children".into());
        }
    }
    m
}

/// Summary plus `targetDiskSets` and `objects` (`VolumeDescribe`, `SnapshotDescribe`).
pub(crate) fn describe(cl: &Cluster, ctx: &Ctx<'_>, o: &Obj) -> Value {
    let mut m = summary(cl, ctx, o);
    let (sets, per_object) = placement::disk_sets(cl, o);
    let objects: Vec<Value> = per_object.iter().map(|s| json!(sets[*s])).collect();
    m.insert("targetDiskSets".into(), json!(sets));
    m.insert("objects".into(), Value::Array(objects));
    Value::Object(m)
}

/// Summary plus the per-disk object statistics (`VolumeGetInfo`, `SnapshotGetInfo`).
pub(crate) fn info(cl: &Cluster, ctx: &Ctx<'_>, o: &Obj) -> Value {
    let mut m = summary(cl, ctx, o);
    let (sets, per_object) = placement::disk_sets(cl, o);
    let mut per_disk: BTreeMap<u32, u64> = BTreeMap::new();
    let mut per_set: BTreeMap<usize, u64> = BTreeMap::new();
    for s in &per_object {
        *per_set.entry(*s).or_default() += 1;
        for d in &sets[*s] {
            *per_disk.entry(*d).or_default() += 1;
        }
    }
    let chains: Vec<Value> = per_set
        .iter()
        .map(|(s, n)| json!({"disks": sets[*s], "count": n}))
        .collect();
    let mut sorted_sets: BTreeMap<Vec<u32>, u64> = BTreeMap::new();
    for (s, n) in &per_set {
        let mut k = sets[*s].clone();
        k.sort_unstable();
        *sorted_sets.entry(k).or_default() += n;
    }
    let disk_sets: Vec<Value> = sorted_sets
        .iter()
        .map(|(k, n)| json!({"disks": k, "count": n}))
        .collect();
    m.insert("disksCount".into(), per_disk.len().into());
    m.insert(
        "objectsPerDisk".into(),
        Value::Object(
            per_disk
                .iter()
                .map(|(d, n)| (d.to_string(), Value::from(*n)))
                .collect(),
        ),
    );
    m.insert("objectsPerChain".into(), Value::Array(chains));
    m.insert("objectsPerDiskSet".into(), Value::Array(disk_sets));
    Value::Object(m)
}

/// `VolumeStatus` / `SnapshotStatus` (quick: without the sizes).
pub(crate) fn status(cl: &Cluster, ctx: &Ctx<'_>, o: &Obj, quick: bool) -> Value {
    let mut m = summary(cl, ctx, o);
    m.insert("status".into(), "up".into());
    m.insert("snapshot".into(), o.snapshot.into());
    m.insert("migrating".into(), false.into());
    m.insert("decreasedRedundancy".into(), false.into());
    m.insert("balancerBlocked".into(), false.into());
    m.insert("syncingDataBytes".into(), 0.into());
    m.insert("syncingMetaObjects".into(), 0.into());
    m.insert("downBytes".into(), 0.into());
    m.insert("upSoonChainsCount".into(), 0.into());
    for k in [
        "downDrives",
        "missingDrives",
        "missingTargetDrives",
        "softEjectingDrives",
    ] {
        m.insert(k.into(), json!([]));
    }
    if !quick {
        let stored = placement::own_bytes(cl, ctx, o);
        m.insert("storedSize".into(), stored.into());
        m.insert(
            "onDiskSize".into(),
            (stored * u64::from(o.replication)).into(),
        );
    }
    Value::Object(m)
}

/// `VolumeSpace` / `SnapshotSpace`.
pub(crate) fn space(cl: &Cluster, ctx: &Ctx<'_>, o: &Obj) -> Value {
    let mut m = summary(cl, ctx, o);
    let own = placement::own_bytes(cl, ctx, o);
    m.insert("storedSize".into(), own.into());
    let used = if o.snapshot {
        own
    } else {
        placement::image_bytes(ctx, o)
    };
    m.insert("spaceUsed".into(), used.into());
    Value::Object(m)
}

/// `AttachmentDesc` entries of one object.
pub(crate) fn attachments(o: &Obj) -> impl Iterator<Item = Value> + '_ {
    o.attachments.iter().map(|(client, att)| {
        json!({
            "volume": o.display_name(),
            "snapshot": o.snapshot,
            "client": client,
            "rights": if att.rw { "rw" } else { "ro" },
            "pos": att.pos,
            "globalId": o.gid,
        })
    })
}

/// `VolumeTemplateDesc`.
pub(crate) fn template(cl: &Cluster, t: &Template) -> Value {
    json!({
        "id": t.id,
        "name": t.name,
        "parentName": t.parent.and_then(|p| cl.obj(p)).map(Obj::display_name).unwrap_or_default(),
        "placeAll": t.all(),
        "placeTail": t.tail(),
        "placeHead": t.head(),
        "size": t.size.map_or_else(|| Value::String("-".into()), Value::from),
        "replication": t.replication.map_or_else(|| Value::String("-".into()), Value::from),
        "bw": limit(t.bw),
        "iops": limit(t.iops),
        "limitType": "total",
        "reuseServer": t.reuse_server.unwrap_or(false),
    })
}
