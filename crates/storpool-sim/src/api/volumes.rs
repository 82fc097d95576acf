//! Volume calls: listings, create, update, delete, freeze, revert, rebase.

use std::collections::BTreeMap;

use serde_json::{Map, Value, json};

use super::placement::{self, check_placeable};
use super::render;
use super::snapshots::{SnapOpts, take_snapshot};
use crate::args::Args;
use crate::engine::{Ctx, find_snapshot, find_volume};
use crate::error::ApiErr;
use crate::model::{Cluster, DataOp, Obj, Template, Txn};
use crate::names;

/// Replication, placement and limits of an object.
#[derive(Clone, Debug)]
pub(crate) struct Policy {
    pub(crate) replication: Option<u8>,
    pub(crate) place_all: crate::model::Short,
    pub(crate) place_tail: crate::model::Short,
    pub(crate) place_head: crate::model::Short,
    pub(crate) bw: Option<u64>,
    pub(crate) iops: Option<u64>,
    pub(crate) reuse_server: bool,
    pub(crate) template: Option<u64>,
}

impl Policy {
    pub(crate) fn default_policy() -> Self {
        let d = crate::model::Short::from(crate::DEFAULT_PLACEMENT_GROUP);
        Self {
            replication: None,
            place_all: d.clone(),
            place_tail: d.clone(),
            place_head: d,
            bw: None,
            iops: None,
            reuse_server: false,
            template: None,
        }
    }

    pub(crate) fn of(o: &Obj) -> Self {
        Self {
            replication: Some(o.replication),
            place_all: o.place_all.clone(),
            place_tail: o.place_tail.clone(),
            place_head: o.place_head.clone(),
            bw: o.bw,
            iops: o.iops,
            reuse_server: o.reuse_server,
            template: o.template,
        }
    }

    /// Take the template's settings (the ones it defines).
    pub(crate) fn apply_template(&mut self, t: &Template) {
        self.template = Some(t.id);
        if let Some(r) = t.replication {
            self.replication = Some(r);
        }
        self.place_all = t.all().into();
        self.place_tail = t.tail().into();
        self.place_head = t.head().into();
        if t.bw.is_some() {
            self.bw = t.bw;
        }
        if t.iops.is_some() {
            self.iops = t.iops;
        }
        if let Some(r) = t.reuse_server {
            self.reuse_server = r;
        }
    }

    /// Apply the explicit policy members of a request. A lone `placeAll` also moves the
    /// tail and head unless they are given.
    pub(crate) fn apply_args(&mut self, a: &Args, max_replication: u8) -> Result<(), ApiErr> {
        if let Some(r) = a.u64("replication")? {
            self.replication = Some(names::replication(r, max_replication)?);
        }
        for k in ["placeAll", "placeTail", "placeHead"] {
            if let Some(g) = a.str(k)? {
                names::placement_group_name(g)?;
            }
        }
        if let Some(g) = a.str("placeAll")? {
            if self.place_tail == self.place_all && !a.has("placeTail") {
                self.place_tail = g.into();
            }
            if self.place_head == self.place_all && !a.has("placeHead") {
                self.place_head = g.into();
            }
            self.place_all = g.into();
        }
        if let Some(g) = a.str("placeTail")? {
            self.place_tail = g.into();
        }
        if let Some(g) = a.str("placeHead")? {
            self.place_head = g.into();
        }
        if let Some(l) = a.limit("bw")? {
            self.bw = l;
        }
        if let Some(l) = a.limit("iops")? {
            self.iops = l;
        }
        if let Some(r) = a.bool("reuseServer")? {
            self.reuse_server = r;
        }
        Ok(())
    }

    pub(crate) fn check_groups(&self, cl: &Cluster) -> Result<(), ApiErr> {
        for g in [&self.place_all, &self.place_tail, &self.place_head] {
            if cl.pg_by_name(g).is_none() {
                return Err(ApiErr::not_found(format!(
                    "placement group {g} does not exist"
                )));
            }
        }
        Ok(())
    }

    pub(crate) fn groups(&self) -> (&str, &str, &str) {
        (&self.place_all, &self.place_tail, &self.place_head)
    }

    pub(crate) fn store_into(&self, o: &mut Obj) {
        if let Some(r) = self.replication {
            o.replication = r;
        }
        o.place_all.clone_from(&self.place_all);
        o.place_tail.clone_from(&self.place_tail);
        o.place_head.clone_from(&self.place_head);
        o.bw = self.bw;
        o.iops = self.iops;
        o.reuse_server = self.reuse_server;
        o.template = self.template;
    }
}

/// Merge tags: a given empty value removes the tag.
pub(crate) fn merge_tags(into: &mut crate::model::TagList, given: &BTreeMap<String, String>) {
    for (k, v) in given {
        into.merge(k, v);
    }
}

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
    Ok(render::summaries(cl, ctx, false, out))
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
        find_volume(cl, arg(args))?,
        out,
    ))
}

pub(crate) fn describe(
    cl: &Cluster,
    ctx: &Ctx<'_>,
    args: &[String],
    _: Option<Value>,
) -> Result<Value, ApiErr> {
    Ok(render::describe(cl, ctx, find_volume(cl, arg(args))?))
}

pub(crate) fn info(
    cl: &Cluster,
    ctx: &Ctx<'_>,
    args: &[String],
    _: Option<Value>,
) -> Result<Value, ApiErr> {
    Ok(render::info(cl, ctx, find_volume(cl, arg(args))?))
}

pub(crate) fn list_snapshots(
    cl: &Cluster,
    ctx: &Ctx<'_>,
    args: &[String],
    _: Option<Value>,
) -> Result<Value, ApiErr> {
    let v = find_volume(cl, arg(args))?;
    Ok(Value::Array(
        cl.ancestors(v)
            .into_iter()
            .map(|s| Value::Object(render::summary(cl, ctx, s)))
            .collect(),
    ))
}

fn status_map(cl: &Cluster, ctx: &Ctx<'_>, quick: bool) -> Value {
    Value::Object(
        cl.objects
            .values()
            .map(|o| (o.display_name(), render::status(cl, ctx, o, quick)))
            .collect(),
    )
}

pub(crate) fn status(
    cl: &Cluster,
    ctx: &Ctx<'_>,
    _: &[String],
    _: Option<Value>,
) -> Result<Value, ApiErr> {
    Ok(status_map(cl, ctx, false))
}

pub(crate) fn status_quick(
    cl: &Cluster,
    ctx: &Ctx<'_>,
    _: &[String],
    _: Option<Value>,
) -> Result<Value, ApiErr> {
    Ok(status_map(cl, ctx, true))
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
            .filter(|o| !o.snapshot)
            .map(|o| render::space(cl, ctx, o))
            .collect(),
    ))
}

pub(crate) fn volumes_and_snapshots(
    cl: &Cluster,
    ctx: &Ctx<'_>,
    _: &[String],
    _: Option<Value>,
) -> Result<Value, ApiErr> {
    let mut volumes = Vec::new();
    let mut snapshots = Vec::new();
    for o in cl.objects.values() {
        let mut m = render::summary(cl, ctx, o);
        m.insert("storedSize".into(), placement::own_bytes(cl, ctx, o).into());
        if o.snapshot {
            snapshots.push(Value::Object(m));
        } else {
            volumes.push(Value::Object(m));
        }
    }
    Ok(json!({"volumes": volumes, "snapshots": snapshots}))
}

// ---- create ----

const CREATE_MEMBERS: &[&str] = &[
    "name",
    "size",
    "parent",
    "baseOn",
    "template",
    "replication",
    "placeAll",
    "placeTail",
    "placeHead",
    "bw",
    "iops",
    "reuseServer",
    "tags",
];

pub(crate) fn create(
    txn: &mut Txn<'_>,
    ctx: &Ctx<'_>,
    _: &[String],
    body: Option<Value>,
) -> Result<Map<String, Value>, ApiErr> {
    let a = Args::object(body, "VolumeCreate", CREATE_MEMBERS)?;
    let name = match a.str("name")? {
        None | Some("") => None,
        Some(n) => {
            names::volume_name(n)?;
            if txn.cl.name_taken(n) {
                return Err(ApiErr::exists(format!(
                    "volume or snapshot {n} already exists"
                )));
            }
            Some(n.to_owned())
        }
    };
    if a.has("parent") && a.has("baseOn") {
        return Err(ApiErr::invalid(
            "VolumeCreate: `parent` and `baseOn` cannot both be given",
        ));
    }
    let template = match a.str("template")? {
        Some(t) => {
            names::template_name(t)?;
            Some(
                txn.cl
                    .template_by_name(t)
                    .cloned()
                    .ok_or_else(|| ApiErr::not_found(format!("template {t} does not exist")))?,
            )
        }
        None => None,
    };
    // The source of the data: a parent snapshot, or a volume to base on.
    let mut parent: Option<u64> = match a.str("parent")? {
        Some(p) => {
            let s = find_snapshot(txn.cl, p)?;
            if s.deleted {
                return Err(ApiErr::not_found(format!("snapshot {p} does not exist")));
            }
            Some(s.id)
        }
        None => None,
    };
    let base_on: Option<u64> = match a.str("baseOn")? {
        Some(b) => Some(find_volume(txn.cl, b)?.id),
        None => None,
    };
    if parent.is_none()
        && base_on.is_none()
        && let Some(p) = template.as_ref().and_then(|t| t.parent)
    {
        parent = Some(p);
    }
    let source = parent.or(base_on).and_then(|id| txn.cl.obj(id)).cloned();
    let mut policy = source
        .as_ref()
        .map_or_else(Policy::default_policy, Policy::of);
    if let Some(t) = &template {
        policy.apply_template(t);
    }
    policy.apply_args(&a, ctx.settings.max_replication)?;
    if policy.replication.is_none() {
        policy.replication = ctx.settings.default_replication;
    }
    let Some(replication) = policy.replication else {
        return Err(ApiErr::invalid(
            "VolumeCreate: no replication given and none comes from a template or a parent",
        ));
    };
    let size = match a.u64("size")?.or(template.as_ref().and_then(|t| t.size)) {
        Some(s) => s,
        None => source.as_ref().map(|s| s.size).ok_or_else(|| {
            ApiErr::invalid(
                "VolumeCreate: no size given and none comes from a template or a parent",
            )
        })?,
    };
    names::size("size", size)?;
    if let Some(src) = &source
        && size < src.size
    {
        return Err(ApiErr::invalid(format!(
            "VolumeCreate: size {size} is smaller than the {} bytes of its parent {}",
            src.size,
            src.display_name()
        )));
    }
    policy.check_groups(txn.cl)?;
    check_placeable(
        txn.cl,
        size,
        replication,
        policy.groups(),
        policy.reuse_server,
    )?;
    let mut tags = template
        .as_ref()
        .map(|t| t.tags.clone())
        .unwrap_or_default();
    if let Some(given) = a.tags("tags")? {
        merge_tags(&mut tags, &given);
    }

    let mut extra = Map::new();
    if let Some(b) = base_on {
        let sid = take_snapshot(
            txn,
            b,
            SnapOpts {
                name: None,
                transient: true,
                ..SnapOpts::default()
            },
        )?;
        let s = txn
            .cl
            .obj(sid)
            .cloned()
            .ok_or_else(|| ApiErr::not_found("snapshot vanished"))?;
        extra.insert("autoName".into(), s.display_name().into());
        parent = Some(sid);
    }
    let parent_obj = parent.and_then(|p| txn.cl.obj(p)).cloned();
    let id = txn.next_object_id();
    let gid = txn.new_gid(id);
    let mut v = Obj {
        id,
        gid: gid.clone().into(),
        name,
        snapshot: false,
        parent,
        original_parent: parent,
        size,
        replication,
        place_all: crate::model::Short::default(),
        place_tail: crate::model::Short::default(),
        place_head: crate::model::Short::default(),
        template: None,
        bw: None,
        iops: None,
        reuse_server: false,
        tags,
        created: txn.now,
        auto_name: false,
        bound: false,
        transient: false,
        deleted: false,
        target_delete_date: 0,
        on_volume: None,
        attachments: BTreeMap::new(),
    };
    policy.store_into(&mut v);
    if v.name.is_none() {
        extra.insert("name".into(), v.display_name().into());
    }
    txn.put(v);
    if let Some(p) = parent_obj {
        txn.data_ops.push(DataOp::CopyNew {
            from: p.gid.to_string(),
            to: gid.clone(),
            size,
        });
    }
    extra.insert("globalId".into(), gid.into());
    Ok(extra)
}

// ---- update ----

const UPDATE_MEMBERS: &[&str] = &[
    "rename",
    "size",
    "sizeAdd",
    "shrinkOk",
    "template",
    "replication",
    "placeAll",
    "placeTail",
    "placeHead",
    "bw",
    "iops",
    "reuseServer",
    "tags",
];

pub(crate) fn update(
    txn: &mut Txn<'_>,
    ctx: &Ctx<'_>,
    args: &[String],
    body: Option<Value>,
) -> Result<Map<String, Value>, ApiErr> {
    let a = Args::object(body, "VolumeUpdate", UPDATE_MEMBERS)?;
    let mut v = find_volume(txn.cl, arg(args))?.clone();
    let mut policy = Policy::of(&v);
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
    if a.has("size") && a.has("sizeAdd") {
        return Err(ApiErr::invalid(
            "VolumeUpdate: `size` and `sizeAdd` cannot both be given",
        ));
    }
    let mut size = v.size;
    if let Some(s) = a.u64("size")? {
        names::size("size", s)?;
        size = s;
    }
    if let Some(add) = a.u64("sizeAdd")? {
        names::size("sizeAdd", add)?;
        size = v
            .size
            .checked_add(add)
            .ok_or_else(|| ApiErr::invalid("VolumeUpdate: the new size is too large"))?;
    }
    if size < v.size && !a.bool("shrinkOk")?.unwrap_or(false) {
        return Err(ApiErr::invalid(format!(
            "VolumeUpdate: shrinking volume {} from {} to {size} bytes needs `shrinkOk`",
            v.display_name(),
            v.size
        )));
    }
    let replication = policy.replication.unwrap_or(v.replication);
    // Thin provisioning: only a change that asks for more room, or for other disks, must fit;
    // a rename, tags or limits of a volume that no longer fits (a disk failed) still work.
    let wants_room = size > v.size
        || replication != v.replication
        || policy.groups()
            != (
                v.place_all.as_str(),
                v.place_tail.as_str(),
                v.place_head.as_str(),
            )
        || policy.reuse_server != v.reuse_server;
    if wants_room {
        check_placeable(
            txn.cl,
            size,
            replication,
            policy.groups(),
            policy.reuse_server,
        )?;
    }
    if let Some(new) = a.str("rename")? {
        names::volume_name(new)?;
        if v.name.as_deref() != Some(new) {
            if txn.cl.name_taken(new) {
                return Err(ApiErr::exists(format!(
                    "volume or snapshot {new} already exists"
                )));
            }
            v.name = Some(new.to_owned());
        }
    }
    if let Some(t) = a.tags("tags")? {
        merge_tags(&mut v.tags, &t);
    }
    policy.store_into(&mut v);
    if size != v.size {
        v.size = size;
        txn.data_ops.push(DataOp::Resize {
            gid: v.gid.to_string(),
            size,
        });
    }
    txn.put(v);
    Ok(Map::new())
}

// ---- delete ----

pub(crate) fn delete(
    txn: &mut Txn<'_>,
    ctx: &Ctx<'_>,
    args: &[String],
    body: Option<Value>,
) -> Result<Map<String, Value>, ApiErr> {
    let a = Args::object(body, "VolumeDelete", &["onAttached"])?;
    let v = find_volume(txn.cl, arg(args))?.clone();
    if !v.attachments.is_empty() {
        match a.str("onAttached")?.unwrap_or("fail") {
            "fail" | "export" => {
                return Err(ApiErr::busy(format!(
                    "volume {} is attached to client(s) {}",
                    v.display_name(),
                    client_list(&v)
                )));
            }
            "detach" => {
                for c in v.attachments.keys() {
                    super::attach::check_not_open(ctx, &v, *c)?;
                }
            }
            "detachForce" => {}
            other => {
                return Err(ApiErr::invalid(format!(
                    "VolumeDelete: invalid onAttached `{}`",
                    names::shorten(other)
                )));
            }
        }
    }
    txn.remove(v.id);
    txn.data_ops.push(DataOp::Remove {
        gid: v.gid.to_string(),
    });
    Ok(Map::new())
}

pub(crate) fn client_list(o: &Obj) -> String {
    o.attachments
        .keys()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

// ---- freeze, revert, rebase ----

/// Read `targetDeleteDate`/`deleteAfter` into an absolute date (0 = none).
pub(crate) fn delete_date(a: &Args, now: i64) -> Result<Option<i64>, ApiErr> {
    let target = a.i64("targetDeleteDate")?;
    let after = a.i64("deleteAfter")?;
    match (target, after) {
        (Some(t), Some(d)) if t != 0 && d != 0 => Err(ApiErr::invalid(
            "`targetDeleteDate` and `deleteAfter` cannot both be given",
        )),
        (Some(t), _) if t != 0 => {
            if t < now {
                Err(ApiErr::invalid(format!(
                    "targetDeleteDate {t} is in the past (now {now})"
                )))
            } else {
                Ok(Some(t))
            }
        }
        (_, Some(d)) if d != 0 => {
            if d < 0 {
                Err(ApiErr::invalid(format!("deleteAfter {d} is negative")))
            } else {
                Ok(Some(now.saturating_add(d)))
            }
        }
        (None, None) => Ok(None),
        _ => Ok(Some(0)),
    }
}

pub(crate) fn freeze(
    txn: &mut Txn<'_>,
    _: &Ctx<'_>,
    args: &[String],
    body: Option<Value>,
) -> Result<Map<String, Value>, ApiErr> {
    let a = Args::object(body, "VolumeFreeze", &["targetDeleteDate", "deleteAfter"])?;
    let date = delete_date(&a, txn.now)?;
    let v = find_volume(txn.cl, arg(args))?.clone();
    if !v.attachments.is_empty() {
        return Err(ApiErr::busy(format!(
            "volume {} is attached to client(s) {}",
            v.display_name(),
            client_list(&v)
        )));
    }
    txn.update(v.id, |o| {
        o.snapshot = true;
        o.on_volume = None;
        o.target_delete_date = date.unwrap_or(0);
    })?;
    Ok(Map::new())
}

pub(crate) fn revert(
    txn: &mut Txn<'_>,
    _: &Ctx<'_>,
    args: &[String],
    body: Option<Value>,
) -> Result<Map<String, Value>, ApiErr> {
    let a = Args::object(body, "VolumeRevert", &["toSnapshot", "revertSize"])?;
    let v = find_volume(txn.cl, arg(args))?.clone();
    let s = find_snapshot(txn.cl, a.required_str("toSnapshot")?)?.clone();
    if !txn.cl.ancestors(&v).iter().any(|p| p.id == s.id) {
        return Err(ApiErr::invalid(format!(
            "snapshot {} is not a parent of volume {}",
            s.display_name(),
            v.display_name()
        )));
    }
    if !v.attachments.is_empty() {
        return Err(ApiErr::busy(format!(
            "volume {} is attached to client(s) {}",
            v.display_name(),
            client_list(&v)
        )));
    }
    let size = if a.bool("revertSize")?.unwrap_or(false) {
        s.size
    } else {
        v.size.max(s.size)
    };
    txn.update(v.id, |o| {
        o.parent = Some(s.id);
        o.size = size;
    })?;
    txn.data_ops.push(DataOp::Replace {
        from: s.gid.to_string(),
        to: v.gid.to_string(),
        size,
    });
    Ok(Map::new())
}

/// Re-parent an object onto one of its ancestors, or onto nothing.
pub(crate) fn rebase_obj(txn: &mut Txn<'_>, o: &Obj, a: &Args) -> Result<(), ApiErr> {
    let parent = match a.str("parentName")? {
        Some(p) => {
            let s = find_snapshot(txn.cl, p)?;
            if !txn.cl.ancestors(o).iter().any(|x| x.id == s.id) {
                return Err(ApiErr::invalid(format!(
                    "snapshot {} is not a parent of {}",
                    s.display_name(),
                    o.display_name()
                )));
            }
            Some(s.id)
        }
        None => None,
    };
    txn.update(o.id, |x| x.parent = parent)
}

pub(crate) fn rebase(
    txn: &mut Txn<'_>,
    _: &Ctx<'_>,
    args: &[String],
    body: Option<Value>,
) -> Result<Map<String, Value>, ApiErr> {
    let a = Args::object(body, "VolumeRebase", &["parentName"])?;
    let v = find_volume(txn.cl, arg(args))?.clone();
    rebase_obj(txn, &v, &a)?;
    Ok(Map::new())
}
