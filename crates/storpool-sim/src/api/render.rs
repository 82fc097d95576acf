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
    tags: Option<&'a crate::model::TagList>,
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

/// A JSON array of the summary of `o` alone (`Volume/NAME`, `Snapshot/NAME`), written into
/// `out` as the listings are, so the member order is the listing's too. Building it as a JSON
/// value first (a map with a key and often a string allocated per member, serialized in
/// alphabetical order) took the simulator to 68,000 lookups/s from 16 keep-alive clients,
/// against 84,000-92,000/s this way (`bench sim -- throughput`).
pub(crate) fn one_summary(cl: &Cluster, ctx: &Ctx<'_>, o: &Obj, mut out: Vec<u8>) -> Vec<u8> {
    out.push(b'[');
    write_summary(&mut out, &summary_ref(cl, ctx, o));
    out.push(b']');
    out
}

/// A JSON array of the summaries of every volume (or, with `snapshots`, every snapshot),
/// written without building JSON values (large listings), into `out` (empty; any room it has
/// is used first).
pub(crate) fn summaries(cl: &Cluster, ctx: &Ctx<'_>, snapshots: bool, out: Vec<u8>) -> Vec<u8> {
    summaries_from(cl, ctx, snapshots, out, PARALLEL_FROM)
}

/// [`summaries`], on several threads when the cluster holds at least `parallel_from` objects.
fn summaries_from(
    cl: &Cluster,
    ctx: &Ctx<'_>,
    snapshots: bool,
    mut out: Vec<u8>,
    parallel_from: usize,
) -> Vec<u8> {
    let wanted = move |o: &&Obj| o.snapshot == snapshots;
    // About 490 bytes per volume: one allocation for most listings.
    out.reserve(512 * cl.objects.len() + 2);
    out.push(b'[');
    let threads = if cl.objects.len() < parallel_from {
        1
    } else {
        render_threads()
    };
    let (Some(&first), Some(&last)) = (cl.objects.keys().next(), cl.objects.keys().next_back())
    else {
        out.push(b']');
        return out;
    };
    if threads < 2 {
        write_summaries(&mut out, cl, ctx, cl.objects.values().filter(wanted));
    } else {
        // Each thread walks its own range of ids (ids are dense: about even shares) and
        // renders into its own buffer, the later ones appended: a `VolumesList` of 100,000
        // right after a change was answered in 46-53 ms instead of 64-88 on two cores
        // (`bench sim -- scale`). Walking the ranges instead of collecting the objects first
        // (5 ms on one thread) took it to 38-44 ms from 42-51 (medians of 15, three runs each).
        let step = (last - first) / threads as u64 + 1;
        let range = |part: u64| {
            let from = first.saturating_add(step.saturating_mul(part));
            let to = from.saturating_add(step);
            cl.objects.range(from..to).map(|(_, o)| o).filter(wanted)
        };
        let rest: Vec<Vec<u8>> = std::thread::scope(|scope| {
            let workers: Vec<_> = (1..threads as u64)
                .map(|part| {
                    let objs = range(part);
                    scope.spawn(move || {
                        let mut buffer = Vec::with_capacity(512 * cl.objects.len() / threads);
                        write_summaries(&mut buffer, cl, ctx, objs);
                        buffer
                    })
                })
                .collect();
            write_summaries(&mut out, cl, ctx, range(0));
            workers
                .into_iter()
                .map(|worker| {
                    worker
                        .join()
                        .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
                })
                .collect()
        });
        for buffer in rest.iter().filter(|buffer| !buffer.is_empty()) {
            if out.len() > 1 {
                out.push(b',');
            }
            out.extend_from_slice(buffer);
        }
    }
    out.push(b']');
    out
}

/// How many threads a long listing is rendered on: the cores this process may use, at most
/// four. Asked once: `available_parallelism` reads the cgroup's CPU quota from files.
fn render_threads() -> usize {
    static THREADS: std::sync::OnceLock<usize> = std::sync::OnceLock::new();
    *THREADS.get_or_init(|| {
        std::thread::available_parallelism()
            .map_or(1, usize::from)
            .min(4)
    })
}

/// Listings at least this long are rendered on several threads (a thread costs tens of
/// microseconds; 20,000 summaries take about 8 ms).
const PARALLEL_FROM: usize = 20_000;

/// The summaries of `objs`, separated by commas.
fn write_summaries<'a>(
    out: &mut Vec<u8>,
    cl: &Cluster,
    ctx: &Ctx<'_>,
    objs: impl Iterator<Item = &'a Obj>,
) {
    for (i, o) in objs.enumerate() {
        if i > 0 {
            out.push(b',');
        }
        write_summary(out, &summary_ref(cl, ctx, o));
    }
}

/// Writes `s` as `serde_json::to_writer` does (the same members in the same order, the same
/// bytes), by hand: `serde_json` checks every byte of every key and string value against its
/// escape table one at a time, which was half of the instructions of a listing (callgrind:
/// 223 of 443 million for 60,000 volumes). Keys here are constants, and a value that needs no
/// escaping (every name the simulator accepts) is copied whole.
fn write_summary(out: &mut Vec<u8>, s: &SummaryRef<'_>) {
    let mut itoa = itoa::Buffer::new();
    let mut number = |out: &mut Vec<u8>, key: &[u8], v: Num| {
        out.extend_from_slice(key);
        let text = match v {
            Num::U(v) => itoa.format(v),
            Num::I(v) => itoa.format(v),
        };
        out.extend_from_slice(text.as_bytes());
    };
    out.extend_from_slice(b"{\"name\":");
    json_str(out, &s.name);
    number(out, b",\"id\":", s.id.into());
    out.extend_from_slice(b",\"parentName\":");
    json_str(out, &s.parent_name);
    out.extend_from_slice(b",\"templateName\":");
    json_str(out, s.template_name);
    number(out, b",\"size\":", s.size.into());
    number(out, b",\"replication\":", s.replication.into());
    for (key, value) in [
        (&b",\"globalId\":"[..], s.global_id),
        (b",\"placeAll\":", s.place_all),
        (b",\"placeTail\":", s.place_tail),
        (b",\"placeHead\":", s.place_head),
    ] {
        out.extend_from_slice(key);
        json_str(out, value);
    }
    number(out, b",\"parentVolumeId\":", s.parent_volume_id.into());
    number(
        out,
        b",\"originalParentVolumeId\":",
        s.original_parent_volume_id.into(),
    );
    number(out, b",\"visibleVolumeId\":", s.visible_volume_id.into());
    number(out, b",\"templateId\":", s.template_id.into());
    number(out, b",\"objectsCount\":", s.objects_count.into());
    number(out, b",\"creationTimestamp\":", s.creation_timestamp.into());
    number(out, b",\"flags\":", s.flags.into());
    for (key, limit) in [(&b",\"bw\":"[..], &s.bw), (b",\"iops\":", &s.iops)] {
        if let Some(v) = limit.0 {
            number(out, key, v.into());
        } else {
            out.extend_from_slice(key);
            out.extend_from_slice(b"\"-\"");
        }
    }
    out.extend_from_slice(b",\"limitType\":");
    json_str(out, s.limit_type);
    json_bool(out, b",\"reuseServer\":", s.reuse_server);
    number(
        out,
        b",\"firstNotParentObjectId\":",
        s.first_not_parent_object_id.into(),
    );
    if let Some(tags) = s.tags {
        out.extend_from_slice(b",\"tags\":{");
        for (i, (k, v)) in tags.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            json_str(out, k);
            out.push(b':');
            json_str(out, v);
        }
        out.push(b'}');
    }
    if let Some(snap) = &s.snap {
        out.extend_from_slice(b",\"onVolume\":");
        json_str(out, &snap.on_volume);
        json_bool(out, b",\"autoName\":", snap.auto_name);
        json_bool(out, b",\"bound\":", snap.bound);
        json_bool(out, b",\"deleted\":", snap.deleted);
        json_bool(out, b",\"transient\":", snap.transient);
        json_bool(
            out,
            b",\"recoveringFromRemote\":",
            snap.recovering_from_remote,
        );
        if snap.target_delete_date != 0 {
            number(
                out,
                b",\"targetDeleteDate\":",
                snap.target_delete_date.into(),
            );
        }
        if let Some(blocked) = snap.delete_blocked {
            out.extend_from_slice(b",\"deleteBlocked\":");
            json_str(out, blocked);
        }
    }
    out.push(b'}');
}

/// An integer member of [`write_summary`].
#[derive(Clone, Copy)]
enum Num {
    U(u64),
    I(i64),
}

impl From<u64> for Num {
    fn from(v: u64) -> Self {
        Self::U(v)
    }
}

impl From<u8> for Num {
    fn from(v: u8) -> Self {
        Self::U(v.into())
    }
}

impl From<i64> for Num {
    fn from(v: i64) -> Self {
        Self::I(v)
    }
}

/// A JSON string: copied whole when nothing in it needs escaping, else through `serde_json`.
fn json_str(out: &mut Vec<u8>, s: &str) {
    // A fold without an early exit, which the compiler turns into vector instructions.
    let escapes = s.bytes().fold(0u8, |bad, b| {
        bad | u8::from(b < 0x20) | u8::from(b == b'"') | u8::from(b == b'\\')
    });
    if escapes == 0 {
        out.reserve(s.len() + 2);
        out.push(b'"');
        out.extend_from_slice(s.as_bytes());
        out.push(b'"');
    } else if serde_json::to_writer(&mut *out, s).is_err() {
        // Writing to a `Vec` cannot fail.
        out.extend_from_slice(b"null");
    }
}

fn json_bool(out: &mut Vec<u8>, key: &[u8], v: bool) {
    out.extend_from_slice(key);
    out.extend_from_slice(if v { b"true" } else { b"false" });
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

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;

    /// A listing rendered on several threads is the one rendered on one, byte for byte.
    #[test]
    fn listings_rendered_in_parts_are_the_same_bytes() {
        let mut cluster = crate::fuzzing::FuzzCluster::new();
        for i in 0..9 {
            let body = format!(
                r#"{{"name":"v{i}","size":1073741824,"replication":3,"tags":{{"n":"{i}"}}}}"#
            );
            let (status, _) = cluster.request("POST", "/ctrl/1.0/VolumeCreate", body.as_bytes());
            assert_eq!(status, 200);
        }
        // Ids 10-21: with two threads, the second range holds snapshots only.
        for i in 0..12 {
            let body = format!(r#"{{"name":"s{i}"}}"#);
            let (status, _) =
                cluster.request("POST", "/ctrl/1.0/VolumeSnapshot/v8", body.as_bytes());
            assert_eq!(status, 200);
        }
        let core = &cluster.core;
        let ctx = core.ctx();
        let render = |snapshots, parallel_from| {
            summaries_from(&core.cl, &ctx, snapshots, Vec::new(), parallel_from)
        };
        let one = render(false, usize::MAX);
        assert_eq!(render(false, 1), one);
        assert_eq!(render(false, 2), one);
        let listed: Vec<Value> = serde_json::from_slice(&one).unwrap();
        assert_eq!(listed.len(), 9);
        let snapshots = render(true, usize::MAX);
        assert_eq!(render(true, 1), snapshots);
        let listed: Vec<Value> = serde_json::from_slice(&snapshots).unwrap();
        assert_eq!(listed.len(), 12);
        let empty = crate::fuzzing::FuzzCluster::new();
        let empty_ctx = empty.core.ctx();
        for parallel_from in [0, usize::MAX] {
            let none = summaries_from(&empty.core.cl, &empty_ctx, false, Vec::new(), parallel_from);
            assert_eq!(none, b"[]");
        }
    }

    /// The hand-written listing writes exactly what `serde_json` writes.
    #[test]
    fn summaries_are_written_byte_for_byte_as_serde_json_writes_them() {
        let tags: BTreeMap<String, String> = [
            ("owner".to_owned(), "project-7".to_owned()),
            (
                "quote\"and\\slash".to_owned(),
                "line\nbreak\u{1}é".to_owned(),
            ),
        ]
        .into();
        let tags = crate::model::TagList::from(tags);
        let empty = crate::model::TagList::default();
        let summary = |tags, snap| SummaryRef {
            name: Cow::Borrowed("os--volume-1"),
            id: 17,
            parent_name: Cow::Owned("*snap@3".to_owned()),
            template_name: "hybrid",
            size: 10 << 30,
            replication: 3,
            global_id: "d.n.a1z",
            place_all: "hdd",
            place_tail: "ssd",
            place_head: "",
            parent_volume_id: 5,
            original_parent_volume_id: 0,
            visible_volume_id: 17,
            template_id: u64::MAX,
            objects_count: 320,
            creation_timestamp: -1,
            flags: 0,
            bw: LimitSer(Some(200)),
            iops: LimitSer(None),
            limit_type: "total",
            reuse_server: true,
            first_not_parent_object_id: 0,
            tags,
            snap,
        };
        let snap = |deleted: bool, date| SnapRef {
            on_volume: Cow::Borrowed("-"),
            auto_name: false,
            bound: true,
            deleted,
            transient: false,
            recovering_from_remote: false,
            target_delete_date: date,
            delete_blocked: deleted.then_some("multiple children"),
        };
        for s in [
            summary(Some(&tags), None),
            summary(Some(&empty), None),
            summary(None, None),
            summary(Some(&tags), Some(snap(true, 1_800_000_000))),
            summary(None, Some(snap(false, 0))),
        ] {
            let mut ours = Vec::new();
            write_summary(&mut ours, &s);
            let theirs = serde_json::to_vec(&s).unwrap();
            assert_eq!(
                String::from_utf8(ours).unwrap(),
                String::from_utf8(theirs).unwrap()
            );
        }
    }
}
