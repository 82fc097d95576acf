//! Volume templates: list, status, describe, create, update, delete.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Map, Value, json};

use super::cluster::group_space;
use super::placement;
use super::render;
use super::volumes::{Policy, merge_tags};
use crate::args::Args;
use crate::engine::{Ctx, find_snapshot};
use crate::error::ApiErr;
use crate::model::{Cluster, Template, Txn};
use crate::names;

fn arg(args: &[String]) -> &str {
    args.first().map_or("", String::as_str)
}

fn find<'c>(cl: &'c Cluster, name: &str) -> Result<&'c Template, ApiErr> {
    names::template_name(name)?;
    cl.template_by_name(name)
        .ok_or_else(|| ApiErr::not_found(format!("template {name} does not exist")))
}

pub(crate) fn list(
    cl: &Cluster,
    _: &Ctx<'_>,
    _: &[String],
    _: Option<Value>,
) -> Result<Value, ApiErr> {
    Ok(Value::Array(
        cl.templates
            .values()
            .map(|t| render::template(cl, t))
            .collect(),
    ))
}

pub(crate) fn describe(
    cl: &Cluster,
    _: &Ctx<'_>,
    args: &[String],
    _: Option<Value>,
) -> Result<Value, ApiErr> {
    Ok(render::template(cl, find(cl, arg(args))?))
}

#[derive(Default)]
struct Usage {
    volumes: u64,
    snapshots: u64,
    removing: u64,
    size: u64,
    total: u64,
    stored: u64,
    on_disk: u64,
    volumes_size: u64,
    snaps_without: u64,
    snaps_with: u64,
}

pub(crate) fn status(
    cl: &Cluster,
    ctx: &Ctx<'_>,
    _: &[String],
    _: Option<Value>,
) -> Result<Value, ApiErr> {
    let mut usage: BTreeMap<u64, Usage> = BTreeMap::new();
    for o in cl.objects.values() {
        let Some(t) = o.template else { continue };
        let u = usage.entry(t).or_default();
        let r = u64::from(o.replication);
        let stored = placement::own_bytes(cl, ctx, o);
        u.stored += stored;
        u.on_disk += stored * r;
        if o.snapshot {
            u.snapshots += 1;
            if o.deleted {
                u.removing += 1;
            }
            if cl.child_count(o.id) == 0 {
                u.snaps_without += o.size;
            } else {
                u.snaps_with += o.size;
            }
        } else {
            u.volumes += 1;
            u.size += o.size;
            u.total += o.size * r;
            u.volumes_size += o.size;
        }
    }
    let space = group_space(cl, ctx);
    let mut out = Vec::new();
    for t in cl.templates.values() {
        let u = usage.remove(&t.id).unwrap_or_default();
        let r = u64::from(t.replication.unwrap_or(3)).max(1);
        let groups = [t.all(), t.tail(), t.head()];
        let (cap, free): (Vec<u64>, Vec<u64>) = groups
            .iter()
            .map(|g| space.get(*g).copied().unwrap_or((0, 0)))
            .unzip();
        // Client data capacity: every replica needs room, the tightest group decides.
        let union: BTreeSet<&str> = groups.iter().copied().collect();
        let (ucap, ufree) = union
            .iter()
            .map(|g| space.get(*g).copied().unwrap_or((0, 0)))
            .fold((0, 0), |(a, b), (c, f)| (a + c, b + f));
        let entry = |c: u64, f: u64| json!({"capacity": c / r, "free": f / r, "internal": {"u1": 0, "u2": 0, "u3": 0}});
        out.push(json!({
            "id": t.id,
            "name": t.name,
            "placeAll": t.all(),
            "placeTail": t.tail(),
            "placeHead": t.head(),
            "replication": t.replication.map_or_else(|| Value::String("-".into()), Value::from),
            "volumesCount": u.volumes,
            "snapshotsCount": u.snapshots,
            "removingSnapshotsCount": u.removing,
            "size": u.size,
            "totalSize": u.total,
            "onDiskSize": u.on_disk,
            "storedSize": u.stored,
            "volumesSize": u.volumes_size,
            "snapshotsWithoutChildrenSize": u.snaps_without,
            "snapshotsWithChildrenSize": u.snaps_with,
            "availablePlaceAll": free[0],
            "availablePlaceTail": free[1],
            "availablePlaceHead": free[2],
            "capacityPlaceAll": cap[0],
            "capacityPlaceTail": cap[1],
            "capacityPlaceHead": cap[2],
            "stored": {
                "capacity": ucap / r,
                "free": ufree / r,
                "internal": {"u1": 0, "u2": 0, "u3": 0},
                "placeAll": entry(cap[0], free[0]),
                "placeTail": entry(cap[1], free[1]),
                "placeHead": entry(cap[2], free[2]),
            },
        }));
    }
    Ok(Value::Array(out))
}

const POLICY: &[&str] = &[
    "placeAll",
    "placeTail",
    "placeHead",
    "replication",
    "bw",
    "iops",
    "reuseServer",
    "tags",
];

/// Apply the policy members and `parent`/`size` of a create/update request to a template.
fn apply(cl: &Cluster, ctx: &Ctx<'_>, t: &mut Template, a: &Args) -> Result<(), ApiErr> {
    if let Some(r) = a.u64("replication")? {
        t.replication = Some(names::replication(r, ctx.settings.max_replication)?);
    }
    for (k, slot) in [
        ("placeAll", &mut t.place_all),
        ("placeTail", &mut t.place_tail),
        ("placeHead", &mut t.place_head),
    ] {
        if let Some(g) = a.str(k)? {
            names::placement_group_name(g)?;
            if cl.pg_by_name(g).is_none() {
                return Err(ApiErr::not_found(format!(
                    "placement group {g} does not exist"
                )));
            }
            *slot = Some(g.to_owned());
        }
    }
    if let Some(l) = a.limit("bw")? {
        t.bw = l;
    }
    if let Some(l) = a.limit("iops")? {
        t.iops = l;
    }
    if let Some(r) = a.bool("reuseServer")? {
        t.reuse_server = Some(r);
    }
    if let Some(tags) = a.tags("tags")? {
        merge_tags(&mut t.tags, &tags);
    }
    if let Some(s) = a.u64("size")? {
        names::size("size", s)?;
        t.size = Some(s);
    }
    if let Some(p) = a.str("parent")? {
        t.parent = if p.is_empty() {
            None
        } else {
            Some(find_snapshot(cl, p)?.id)
        };
    }
    Ok(())
}

pub(crate) fn create(
    txn: &mut Txn<'_>,
    ctx: &Ctx<'_>,
    _: &[String],
    body: Option<Value>,
) -> Result<Map<String, Value>, ApiErr> {
    let mut allowed = vec!["name", "parent", "size"];
    allowed.extend_from_slice(POLICY);
    let a = Args::object(body, "VolumeTemplateCreate", &allowed)?;
    let name = a.required_str("name")?;
    names::template_name(name)?;
    if txn.cl.template_by_name(name).is_some() {
        return Err(ApiErr::exists(format!("template {name} already exists")));
    }
    txn.meta_mut().next_template += 1;
    let mut t = Template {
        id: txn.cl.meta.next_template,
        name: name.to_owned(),
        parent: None,
        size: None,
        replication: None,
        place_all: None,
        place_tail: None,
        place_head: None,
        bw: None,
        iops: None,
        reuse_server: None,
        tags: crate::model::TagList::default(),
    };
    apply(txn.cl, ctx, &mut t, &a)?;
    if t.place_all.is_none() && txn.cl.pg_by_name(crate::DEFAULT_PLACEMENT_GROUP).is_none() {
        return Err(ApiErr::not_found(format!(
            "placement group {} does not exist",
            crate::DEFAULT_PLACEMENT_GROUP
        )));
    }
    txn.put_template(t);
    Ok(Map::new())
}

pub(crate) fn update(
    txn: &mut Txn<'_>,
    ctx: &Ctx<'_>,
    args: &[String],
    body: Option<Value>,
) -> Result<Map<String, Value>, ApiErr> {
    let mut allowed = vec!["rename", "parent", "size", "propagate"];
    allowed.extend_from_slice(POLICY);
    let a = Args::object(body, "VolumeTemplateUpdate", &allowed)?;
    let mut t = find(txn.cl, arg(args))?.clone();
    apply(txn.cl, ctx, &mut t, &a)?;
    if let Some(new) = a.str("rename")? {
        names::template_name(new)?;
        if new != t.name {
            if txn.cl.template_by_name(new).is_some() {
                return Err(ApiErr::exists(format!("template {new} already exists")));
            }
            t.name = new.to_owned();
        }
    }
    if a.bool("propagate")?.unwrap_or(false) {
        let users: Vec<u64> = txn
            .cl
            .objects
            .values()
            .filter(|o| o.template == Some(t.id))
            .map(|o| o.id)
            .collect();
        for id in users {
            let mut o = txn
                .cl
                .obj(id)
                .cloned()
                .ok_or_else(|| ApiErr::not_found("object vanished"))?;
            let mut p = Policy::of(&o);
            p.apply_template(&t);
            p.store_into(&mut o);
            txn.put(o);
        }
    }
    txn.put_template(t);
    Ok(Map::new())
}

pub(crate) fn delete(
    txn: &mut Txn<'_>,
    _: &Ctx<'_>,
    args: &[String],
    body: Option<Value>,
) -> Result<Map<String, Value>, ApiErr> {
    Args::object(body, "VolumeTemplateDelete", &[])?;
    let t = find(txn.cl, arg(args))?.clone();
    let (v, s) = txn
        .cl
        .objects
        .values()
        .filter(|o| o.template == Some(t.id))
        .fold(
            (0, 0),
            |(v, s), o| if o.snapshot { (v, s + 1) } else { (v + 1, s) },
        );
    if v + s > 0 {
        return Err(ApiErr::busy(format!(
            "template {} is used by {v} volume(s) and {s} snapshot(s)",
            t.name
        )));
    }
    txn.remove_template(t.id);
    Ok(Map::new())
}
