//! JSON shapes of the responses (spec section 3), built by hand.

use std::borrow::Cow;
use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::{Map, Value, json};

use super::placement::{self, objects_count};
use crate::engine::Ctx;
use crate::model::{Cluster, Obj, Template};

pub(crate) fn limit(v: Option<u64>) -> Value {
    v.map_or_else(|| Value::String("-".into()), Value::from)
}

/// `bw`/`iops`: a number or `"-"`.
struct LimitSer(Option<u64>);

impl Serialize for LimitSer {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self.0 {
            Some(v) => s.serialize_u64(v),
            None => s.serialize_str("-"),
        }
    }
}

#[allow(clippy::trivially_copy_pass_by_ref)] // serde's skip_serializing_if signature
fn is_zero(v: &i64) -> bool {
    *v == 0
}

/// `VolumeSummary` / `SnapshotSummary`, serialized straight from the model.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SummaryRef<'a> {
    name: Cow<'a, str>,
    id: u64,
    parent_name: Cow<'a, str>,
    template_name: &'a str,
    size: u64,
    replication: u8,
    global_id: &'a str,
    place_all: &'a str,
    place_tail: &'a str,
    place_head: &'a str,
    parent_volume_id: u64,
    original_parent_volume_id: u64,
    visible_volume_id: u64,
    template_id: u64,
    objects_count: u64,
    creation_timestamp: i64,
    flags: u8,
    bw: LimitSer,
    iops: LimitSer,
    limit_type: &'static str,
    reuse_server: bool,
    first_not_parent_object_id: u8,
    #[serde(skip_serializing_if = "Option::is_none")]
    tags: Option<&'a BTreeMap<String, String>>,
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    snap: Option<SnapRef<'a>>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
#[allow(clippy::struct_excessive_bools)] // the API's own flags
struct SnapRef<'a> {
    on_volume: Cow<'a, str>,
    auto_name: bool,
    bound: bool,
    deleted: bool,
    transient: bool,
    recovering_from_remote: bool,
    #[serde(skip_serializing_if = "is_zero")]
    target_delete_date: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    delete_blocked: Option<&'static str>,
}

fn summary_ref<'a>(cl: &'a Cluster, ctx: &Ctx<'_>, o: &'a Obj) -> SummaryRef<'a> {
    let snap = o.snapshot.then(|| SnapRef {
        on_volume: o
            .on_volume
            .and_then(|v| cl.obj(v))
            .filter(|v| !v.snapshot)
            .map_or(Cow::Borrowed("-"), Obj::display_name_ref),
        auto_name: o.auto_name,
        bound: o.bound,
        deleted: o.deleted,
        transient: o.transient,
        recovering_from_remote: false,
        target_delete_date: o.target_delete_date,
        delete_blocked: o.deleted.then_some("multiple children"),
    });
    SummaryRef {
        name: o.display_name_ref(),
        id: o.id,
        parent_name: o
            .parent
            .and_then(|p| cl.objects.get(&p))
            .map_or(Cow::Borrowed(""), Obj::display_name_ref),
        template_name: o
            .template
            .and_then(|t| cl.templates.get(&t))
            .map_or("", |t| t.name.as_str()),
        size: o.size,
        replication: o.replication,
        global_id: &o.gid,
        place_all: &o.place_all,
        place_tail: &o.place_tail,
        place_head: &o.place_head,
        parent_volume_id: o.parent.unwrap_or(0),
        original_parent_volume_id: o.original_parent.unwrap_or(0),
        visible_volume_id: o.id,
        template_id: o.template.unwrap_or(0),
        objects_count: objects_count(o.size),
        creation_timestamp: o.created,
        flags: 0,
        bw: LimitSer(o.bw),
        iops: LimitSer(o.iops),
        limit_type: "total",
        reuse_server: o.reuse_server,
        first_not_parent_object_id: 0,
        tags: (!(o.tags.is_empty() && ctx.settings.omit_empty_tags)).then_some(&o.tags),
        snap,
    }
}

/// `VolumeSummary` / `SnapshotSummary` as a JSON object.
pub(crate) fn summary(cl: &Cluster, ctx: &Ctx<'_>, o: &Obj) -> Map<String, Value> {
    match serde_json::to_value(summary_ref(cl, ctx, o)) {
        Ok(Value::Object(m)) => m,
        _ => Map::new(),
    }
}

/// A JSON array of summaries, written without building JSON values (large listings), into
/// `out` (empty; any room it has is used first).
pub(crate) fn summaries<'a>(
    cl: &'a Cluster,
    ctx: &Ctx<'_>,
    objs: impl Iterator<Item = &'a Obj>,
    mut out: Vec<u8>,
) -> Vec<u8> {
    // About 490 bytes per volume: one allocation for most listings.
    out.reserve(512 * cl.objects.len() + 2);
    out.push(b'[');
    let mut first = true;
    for o in objs {
        if !first {
            out.push(b',');
        }
        first = false;
        if serde_json::to_writer(&mut out, &summary_ref(cl, ctx, o)).is_err() {
            out.extend_from_slice(b"null");
        }
    }
    out.push(b']');
    out
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
