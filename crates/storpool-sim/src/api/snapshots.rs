//! Snapshot calls: listings, `VolumeSnapshot`, `SnapshotUpdate`, delete, group snapshots.

use std::collections::BTreeMap;

use serde_json::{Map, Value, json};

use super::render;
use super::volumes::{Policy, client_list, delete_date, merge_tags, rebase_obj};
use crate::args::Args;
use crate::engine::{Ctx, find_snapshot, find_volume};
use crate::error::ApiErr;
use crate::model::{Cluster, DataOp, Obj, Txn};
use crate::names;

fn arg(args: &[String]) -> &str {
    args.first().map_or("", String::as_str)
}

// ---- reads ----

pub(crate) fn list(
    cl: &Cluster,
    ctx: &Ctx<'_>,
    _: &[String],
    _: Option<Value>,
    out: Vec<u8>,
) -> Result<Vec<u8>, ApiErr> {
    Ok(render::summaries(cl, ctx, true, out))
}

pub(crate) fn one(
    cl: &Cluster,
    ctx: &Ctx<'_>,
    args: &[String],
    _: Option<Value>,
    out: Vec<u8>,
) -> Result<Vec<u8>, ApiErr> {
    Ok(render::one_summary(
        cl,
        ctx,
        find_snapshot(cl, arg(args))?,
        out,
    ))
}

pub(crate) fn describe(
    cl: &Cluster,
    ctx: &Ctx<'_>,
    args: &[String],
    _: Option<Value>,
) -> Result<Value, ApiErr> {
    Ok(render::describe(cl, ctx, find_snapshot(cl, arg(args))?))
}

pub(crate) fn info(
    cl: &Cluster,
    ctx: &Ctx<'_>,
    args: &[String],
    _: Option<Value>,
) -> Result<Value, ApiErr> {
    Ok(render::info(cl, ctx, find_snapshot(cl, arg(args))?))
}

pub(crate) fn space(
    cl: &Cluster,
    ctx: &Ctx<'_>,
    _: &[String],
    _: Option<Value>,
) -> Result<Value, ApiErr> {
    Ok(Value::Array(
        cl.objects
            .values()
            .filter(|o| o.snapshot)
            .map(|o| render::space(cl, ctx, o))
            .collect(),
    ))
}

// ---- create ----

/// How to take a snapshot.
#[derive(Default)]
pub(crate) struct SnapOpts {
    /// `None`: anonymous `<volume>@<n>`; `Some("")`: unnamed.
    pub(crate) name: Option<String>,
    pub(crate) bound: bool,
    pub(crate) transient: bool,
    pub(crate) target_delete_date: i64,
    pub(crate) tags: BTreeMap<String, String>,
}

/// Freeze a volume's content into a new snapshot that becomes the volume's parent.
pub(crate) fn take_snapshot(txn: &mut Txn<'_>, volume: u64, opts: SnapOpts) -> Result<u64, ApiErr> {
    let v = txn
        .cl
        .obj(volume)
        .cloned()
        .ok_or_else(|| ApiErr::not_found(format!("volume {volume} does not exist")))?;
    let id = txn.next_object_id();
    let gid = txn.new_gid(id);
    let (name, auto_name) = match opts.name {
        None => {
            let base = v.name.clone().unwrap_or_else(|| v.gid.to_string());
            let mut n = format!("{base}@{id}");
            let mut k = 1;
            while txn.cl.name_taken(&n) {
                n = format!("{base}@{id}.{k}");
                k += 1;
            }
            (Some(n), true)
        }
        Some(n) if n.is_empty() => (None, false),
        Some(n) => {
            names::snapshot_name(&n)?;
            if n.starts_with('*') {
                return Err(ApiErr::invalid(format!(
                    "snapshot name {n} cannot start with `*`"
                )));
            }
            if txn.cl.name_taken(&n) {
                return Err(ApiErr::exists(format!(
                    "volume or snapshot {n} already exists"
                )));
            }
            (Some(n), false)
        }
    };
    let s = Obj {
        id,
        gid: gid.clone().into(),
        name,
        snapshot: true,
        parent: v.parent,
        original_parent: v.parent,
        size: v.size,
        replication: v.replication,
        place_all: v.place_all.clone(),
        place_tail: v.place_tail.clone(),
        place_head: v.place_head.clone(),
        template: v.template,
        bw: v.bw,
        iops: v.iops,
        reuse_server: v.reuse_server,
        tags: opts.tags.into(),
        created: txn.now,
        auto_name,
        bound: opts.bound,
        transient: opts.transient,
        deleted: false,
        target_delete_date: opts.target_delete_date,
        on_volume: Some(volume),
        attachments: BTreeMap::new(),
    };
    txn.put(s);
    txn.update(volume, |o| {
        o.parent = Some(id);
        o.original_parent = Some(id);
    })?;
    txn.data_ops.push(DataOp::CopyNew {
        from: v.gid.to_string(),
        to: gid,
        size: v.size,
    });
    Ok(id)
}

fn created_answer(s: &Obj) -> Map<String, Value> {
    let mut m = Map::new();
    if s.auto_name {
        m.insert("autoName".into(), s.display_name().into());
    }
    m.insert("snapshotGlobalId".into(), s.gid.as_str().into());
    m.insert("snapshotVisibleVolumeId".into(), s.id.into());
    m
}

pub(crate) fn create(
    txn: &mut Txn<'_>,
    _: &Ctx<'_>,
    args: &[String],
    body: Option<Value>,
) -> Result<Map<String, Value>, ApiErr> {
    let a = Args::object(
        body,
        "VolumeSnapshot",
        &["name", "bind", "targetDeleteDate", "deleteAfter", "tags"],
    )?;
    let v = find_volume(txn.cl, arg(args))?.id;
    let opts = SnapOpts {
        name: a.str("name")?.map(str::to_owned),
        bound: a.bool("bind")?.unwrap_or(false),
        transient: false,
        target_delete_date: delete_date(&a, txn.now)?.unwrap_or(0),
        tags: a
            .tags("tags")?
            .unwrap_or_default()
            .into_iter()
            .filter(|(_, v)| !v.is_empty())
            .collect(),
    };
    let id = take_snapshot(txn, v, opts)?;
    let s = txn
        .cl
        .obj(id)
        .cloned()
        .ok_or_else(|| ApiErr::not_found("snapshot vanished"))?;
    Ok(created_answer(&s))
}

pub(crate) fn group(
    txn: &mut Txn<'_>,
    _: &Ctx<'_>,
    _: &[String],
    body: Option<Value>,
) -> Result<Map<String, Value>, ApiErr> {
    let a = Args::object(body, "VolumesGroupSnapshot", &["volumes", "tags"])?;
    let common = a.tags("tags")?.unwrap_or_default();
    let entries = a
        .array("volumes")?
        .ok_or_else(|| ApiErr::invalid("VolumesGroupSnapshot: member `volumes` is required"))?
        .clone();
    let mut out = Vec::new();
    let mut seen = std::collections::BTreeSet::new();
    for e in entries {
        let ea = Args::from_value(
            e,
            "VolumesGroupSnapshot volume",
            &["volume", "name", "tags"],
        )?;
        let v = find_volume(txn.cl, ea.required_str("volume")?)?.clone();
        if !seen.insert(v.id) {
            return Err(ApiErr::invalid(format!(
                "VolumesGroupSnapshot: volume {} is listed twice",
                v.display_name()
            )));
        }
        let mut tags = common.clone();
        if let Some(t) = ea.tags("tags")? {
            tags.extend(t);
        }
        tags.retain(|_, v| !v.is_empty());
        let id = take_snapshot(
            txn,
            v.id,
            SnapOpts {
                name: ea.str("name")?.map(str::to_owned),
                tags,
                ..SnapOpts::default()
            },
        )?;
        let s = txn
            .cl
            .obj(id)
            .cloned()
            .ok_or_else(|| ApiErr::not_found("snapshot vanished"))?;
        out.push(json!({
            "volume": v.display_name(),
            "volumeGlobalId": v.gid,
            "snapshot": s.display_name(),
            "snapshotGlobalId": s.gid,
            "remoteId": s.gid,
        }));
    }
    let mut m = Map::new();
    m.insert("snapshots".into(), Value::Array(out));
    Ok(m)
}

// ---- update ----

pub(crate) fn update(
    txn: &mut Txn<'_>,
    ctx: &Ctx<'_>,
    args: &[String],
    body: Option<Value>,
) -> Result<Map<String, Value>, ApiErr> {
    let a = Args::object(
        body,
        "SnapshotUpdate",
        &[
            "rename",
            "template",
            "bind",
            "targetDeleteDate",
            "deleteAfter",
            "tags",
            "placeAll",
            "placeTail",
            "placeHead",
            "replication",
            "bw",
            "iops",
            "reuseServer",
        ],
    )?;
    let mut s = find_snapshot(txn.cl, arg(args))?.clone();
    let mut policy = Policy::of(&s);
    if let Some(t) = a.str("template")? {
        names::template_name(t)?;
        let t = txn
            .cl
            .template_by_name(t)
            .ok_or_else(|| ApiErr::not_found(format!("template {t} does not exist")))?;
        policy.apply_template(t);
    }
    policy.apply_args(&a, ctx.settings.max_replication)?;
    policy.check_groups(txn.cl)?;
    if let Some(new) = a.str("rename")? {
        names::snapshot_name(new)?;
        if new.starts_with('*') {
            return Err(ApiErr::invalid(format!(
                "snapshot name {new} cannot start with `*`"
            )));
        }
        if s.name.as_deref() != Some(new) {
            if txn.cl.name_taken(new) {
                return Err(ApiErr::exists(format!(
                    "volume or snapshot {new} already exists"
                )));
            }
            s.name = Some(new.to_owned());
            s.auto_name = false;
        }
    }
    if let Some(b) = a.bool("bind")? {
        s.bound = b;
    }
    if let Some(d) = delete_date(&a, txn.now)? {
        s.target_delete_date = d;
    }
    if let Some(t) = a.tags("tags")? {
        merge_tags(&mut s.tags, &t);
    }
    policy.store_into(&mut s);
    txn.put(s);
    Ok(Map::new())
}

pub(crate) fn rebase(
    txn: &mut Txn<'_>,
    _: &Ctx<'_>,
    args: &[String],
    body: Option<Value>,
) -> Result<Map<String, Value>, ApiErr> {
    let a = Args::object(body, "SnapshotRebase", &["parentName"])?;
    let s = find_snapshot(txn.cl, arg(args))?.clone();
    rebase_obj(txn, &s, &a)?;
    Ok(Map::new())
}

// ---- delete ----

/// Delete a snapshot: gone at once without children; merged into its only child; kept as a
/// hidden `deleted` snapshot while it has several children.
pub(crate) fn delete_snapshot(
    txn: &mut Txn<'_>,
    id: u64,
    allow_attached: bool,
) -> Result<(), ApiErr> {
    let s = txn
        .cl
        .obj(id)
        .cloned()
        .ok_or_else(|| ApiErr::not_found(format!("snapshot {id} does not exist")))?;
    if !s.attachments.is_empty() && !allow_attached {
        return Err(ApiErr::busy(format!(
            "snapshot {} is attached to client(s) {}",
            s.display_name(),
            client_list(&s)
        )));
    }
    let children: Vec<u64> = txn.cl.children(id).map(|c| c.id).collect();
    match children.len() {
        0 => {
            txn.remove(id);
            txn.data_ops.push(DataOp::Remove {
                gid: s.gid.to_string(),
            });
        }
        1 => {
            txn.update(children[0], |c| c.parent = s.parent)?;
            txn.remove(id);
            txn.data_ops.push(DataOp::Remove {
                gid: s.gid.to_string(),
            });
        }
        _ => {
            if !s.deleted {
                let mut d = s.clone();
                d.deleted = true;
                d.attachments.clear();
                if txn.cl.name_taken(&d.display_name()) {
                    d.name = Some(format!(
                        "{}@{}",
                        d.name.clone().unwrap_or_else(|| d.gid.to_string()),
                        d.id
                    ));
                }
                txn.put(d);
            }
        }
    }
    Ok(())
}

pub(crate) fn delete(
    txn: &mut Txn<'_>,
    _: &Ctx<'_>,
    args: &[String],
    body: Option<Value>,
) -> Result<Map<String, Value>, ApiErr> {
    Args::object(body, "SnapshotDelete", &[])?;
    let s = find_snapshot(txn.cl, arg(args))?.id;
    delete_snapshot(txn, s, false)?;
    Ok(Map::new())
}

pub(crate) fn delete_by_id(
    txn: &mut Txn<'_>,
    _: &Ctx<'_>,
    args: &[String],
    body: Option<Value>,
) -> Result<Map<String, Value>, ApiErr> {
    Args::object(body, "SnapshotDeleteById", &[])?;
    let gid = arg(args);
    if !names::is_global_id(gid) {
        return Err(ApiErr::invalid(format!(
            "invalid global id `{}`",
            names::shorten(gid)
        )));
    }
    let s = match txn.cl.by_gid(gid) {
        Some(o) if o.snapshot => o.id,
        _ => return Err(ApiErr::not_found(format!("snapshot ~{gid} does not exist"))),
    };
    delete_snapshot(txn, s, false)?;
    Ok(Map::new())
}
