//! Cluster-level calls: disks, placement groups, services, client configuration, iSCSI.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Map, Value, json};

use super::placement::{self, AG_SIZE};
use crate::args::Args;
use crate::engine::Ctx;
use crate::error::ApiErr;
use crate::model::{Cluster, Disk, PlacementGroup, Txn};
use crate::names;

/// Internal marker: `ClientConfigWait` must wait for the client named in `descr`.
pub(crate) const WAIT_FOR_CLIENT: &str = "#waitForClient";

/// Bytes per metadata entry / object slot on a disk (a 10 GiB disk has about 30000).
const BYTES_PER_ENTRY: u64 = 358_400;

fn arg(args: &[String]) -> &str {
    args.first().map_or("", String::as_str)
}

fn parse_id(s: &str, what: &str) -> Result<u64, ApiErr> {
    s.parse::<u64>()
        .map_err(|_| ApiErr::invalid(format!("invalid {what} `{}`", names::shorten(s))))
}

/// Capacity and free bytes of every placement group (up disks only).
pub(crate) fn group_space(cl: &Cluster, ctx: &Ctx<'_>) -> BTreeMap<String, (u64, u64)> {
    let usage = placement::disk_usage(cl, ctx);
    cl.pgs
        .values()
        .map(|pg| {
            let (cap, used) = pg
                .disks
                .iter()
                .filter_map(|d| cl.disks.get(d))
                .filter(|d| d.down_since.is_none())
                .fold((0u64, 0u64), |(c, u), d| {
                    let used = usage.get(&d.id).map_or(0, |x| x.0);
                    (
                        c + ag_count(d) * AG_SIZE,
                        u + used.div_ceil(AG_SIZE) * AG_SIZE,
                    )
                });
            (pg.name.clone(), (cap, cap.saturating_sub(used)))
        })
        .collect()
}

fn ag_count(d: &Disk) -> u64 {
    placement::disk_capacity(d) / AG_SIZE
}

fn disk_json(cl: &Cluster, d: &Disk, usage: &BTreeMap<u32, (u64, u64)>) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert("id".into(), d.id.into());
    m.insert("serverId".into(), d.server.into());
    m.insert("ssd".into(), d.ssd.into());
    m.insert("model".into(), d.model.clone().into());
    m.insert("serial".into(), d.serial.clone().into());
    m.insert("description".into(), d.description.clone().into());
    m.insert("softEject".into(), "off".into());
    if let Some(g) = d.down_since {
        m.insert("generationLeft".into(), g.into());
        return m;
    }
    let (bytes, objects) = usage.get(&d.id).copied().unwrap_or((0, 0));
    let ag = ag_count(d);
    let ag_alloc = bytes.div_ceil(AG_SIZE).min(ag);
    let entries = (d.size / BYTES_PER_ENTRY).max(1);
    let objects = objects.min(entries);
    m.insert("generationLeft".into(), (-1).into());
    m.insert("sectorsCount".into(), (d.size / 512).into());
    m.insert("empty".into(), (objects == 0).into());
    for k in ["noFua", "noFlush", "noTrim", "isWbc", "journaled"] {
        m.insert(k.into(), false.into());
    }
    m.insert(
        "device".into(),
        format!("/dev/sd{}", disk_letter(d.id)).into(),
    );
    m.insert("agCount".into(), ag.into());
    m.insert("agAllocated".into(), ag_alloc.into());
    m.insert("agFree".into(), (ag - ag_alloc).into());
    m.insert("agFull".into(), (bytes / AG_SIZE).min(ag).into());
    m.insert("agPartial".into(), u64::from(bytes % AG_SIZE != 0).into());
    m.insert("agFreeing".into(), 0.into());
    m.insert("agMaxSizeFull".into(), 0.into());
    m.insert(
        "agMaxSizePartial".into(),
        u64::from(bytes % AG_SIZE != 0).into(),
    );
    m.insert("agFreeNotTrimmed".into(), 0.into());
    m.insert("entriesCount".into(), entries.into());
    m.insert("entriesAllocated".into(), objects.into());
    m.insert("entriesFree".into(), (entries - objects).into());
    m.insert("objectsCount".into(), entries.into());
    m.insert("objectsAllocated".into(), objects.into());
    m.insert("objectsFree".into(), (entries - objects).into());
    m.insert("objectsOnDiskSize".into(), bytes.into());
    m.insert("wbc".into(), Value::Null);
    m.insert(
        "aggregateScore".into(),
        json!({"entries": 0, "space": 0, "total": 0}),
    );
    m.insert("scrubbingStartedBefore".into(), 0.into());
    m.insert("scrubbedBytes".into(), 0.into());
    m.insert("scrubbingBW".into(), 0.into());
    m.insert("scrubbingFinishAfter".into(), 0.into());
    m.insert("scrubbingPausedFor".into(), 0.into());
    m.insert("scrubbingPaused".into(), false.into());
    m.insert("scrubbing".into(), false.into());
    m.insert("lastScrubCompleted".into(), cl.meta.created.into());
    m.insert("pendingErrorRecoveries".into(), 0.into());
    m.insert("totalErrorsDetected".into(), 0.into());
    m
}

fn disk_letter(id: u32) -> String {
    let n = id % 100 % 26;
    char::from(b'b' + u8::try_from(n % 25).unwrap_or(0)).to_string()
}

fn disks_where(cl: &Cluster, ctx: &Ctx<'_>, f: impl Fn(&Disk) -> bool) -> Value {
    let usage = placement::disk_usage(cl, ctx);
    Value::Object(
        cl.disks
            .values()
            .filter(|d| f(d))
            .map(|d| (d.id.to_string(), Value::Object(disk_json(cl, d, &usage))))
            .collect(),
    )
}

pub(crate) fn disks_list(
    cl: &Cluster,
    ctx: &Ctx<'_>,
    _: &[String],
    _: Option<Value>,
) -> Result<Value, ApiErr> {
    Ok(disks_where(cl, ctx, |_| true))
}

pub(crate) fn server_disks_list(
    cl: &Cluster,
    ctx: &Ctx<'_>,
    args: &[String],
    _: Option<Value>,
) -> Result<Value, ApiErr> {
    let server = parse_id(arg(args), "server id")?;
    if !cl.disks.values().any(|d| u64::from(d.server) == server) {
        return Err(ApiErr::not_found(format!("server {server} does not exist")));
    }
    Ok(disks_where(cl, ctx, |d| u64::from(d.server) == server))
}

fn describe_disk(cl: &Cluster, ctx: &Ctx<'_>, id: u32) -> Result<Value, ApiErr> {
    let d = cl
        .disks
        .get(&id)
        .ok_or_else(|| ApiErr::not_found(format!("disk {id} does not exist")))?;
    if d.down_since.is_some() {
        return Err(ApiErr::invalid(format!("disk {id} is down")));
    }
    let usage = placement::disk_usage(cl, ctx);
    let mut m = disk_json(cl, d, &usage);
    // The objects of every object (volume or snapshot) placed on this disk.
    let mut objects = Map::new();
    let mut n = 0u64;
    for o in cl.objects.values() {
        let (sets, per_object) = placement::disk_sets(cl, o);
        let stored = placement::own_bytes(cl, ctx, o);
        let per = stored.div_ceil(per_object.len().max(1) as u64);
        for s in &per_object {
            if sets[*s].contains(&id) {
                objects.insert(
                    n.to_string(),
                    json!({
                        "objectId": n, "generation": cl.meta.generation, "version": 1,
                        "volume": o.display_name(), "parentVolume": cl.parent_name(o),
                        "onDiskSize": per, "storedSize": per, "state": 1, "volumeId": o.id,
                    }),
                );
                n += 1;
            }
        }
        if n > 100_000 {
            break;
        }
    }
    m.insert("objects".into(), Value::Object(objects));
    Ok(Value::Object(m))
}

pub(crate) fn disk_describe(
    cl: &Cluster,
    ctx: &Ctx<'_>,
    args: &[String],
    _: Option<Value>,
) -> Result<Value, ApiErr> {
    let id = names::disk_id(parse_id(arg(args), "disk id")?)?;
    describe_disk(cl, ctx, id)
}

pub(crate) fn server_disk_describe(
    cl: &Cluster,
    ctx: &Ctx<'_>,
    args: &[String],
    _: Option<Value>,
) -> Result<Value, ApiErr> {
    let server = parse_id(arg(args), "server id")?;
    let id = names::disk_id(parse_id(args.get(1).map_or("", String::as_str), "disk id")?)?;
    match cl.disks.get(&id) {
        Some(d) if u64::from(d.server) == server => describe_disk(cl, ctx, id),
        _ => Err(ApiErr::not_found(format!(
            "disk {id} is not on server {server}"
        ))),
    }
}

/// `DiskEject`: the disk goes down (and stays listed as down).
pub(crate) fn disk_eject(
    txn: &mut Txn<'_>,
    _: &Ctx<'_>,
    args: &[String],
    body: Option<Value>,
) -> Result<Map<String, Value>, ApiErr> {
    Args::object(body, "DiskEject", &[])?;
    let id = names::disk_id(parse_id(arg(args), "disk id")?)?;
    let mut d = txn
        .cl
        .disks
        .get(&id)
        .cloned()
        .ok_or_else(|| ApiErr::not_found(format!("disk {id} does not exist")))?;
    if d.down_since.is_none() {
        d.down_since = Some(txn.cl.meta.generation);
        txn.put_disk(d);
    }
    Ok(Map::new())
}

/// `DiskForget`: a down disk is removed from the cluster and from its placement groups.
pub(crate) fn disk_forget(
    txn: &mut Txn<'_>,
    _: &Ctx<'_>,
    args: &[String],
    body: Option<Value>,
) -> Result<Map<String, Value>, ApiErr> {
    Args::object(body, "DiskForget", &[])?;
    let id = names::disk_id(parse_id(arg(args), "disk id")?)?;
    let d = txn
        .cl
        .disks
        .get(&id)
        .cloned()
        .ok_or_else(|| ApiErr::not_found(format!("disk {id} does not exist")))?;
    if d.down_since.is_none() {
        return Err(ApiErr::busy(format!("disk {id} is up; eject it first")));
    }
    let pgs: Vec<PlacementGroup> = txn
        .cl
        .pgs
        .values()
        .filter(|p| p.disks.contains(&id))
        .cloned()
        .collect();
    for mut p in pgs {
        p.disks.remove(&id);
        txn.put_pg(p);
    }
    txn.remove_disk(id);
    Ok(Map::new())
}

pub(crate) fn disk_set_description(
    txn: &mut Txn<'_>,
    _: &Ctx<'_>,
    args: &[String],
    body: Option<Value>,
) -> Result<Map<String, Value>, ApiErr> {
    let a = Args::object(body, "DiskSetDescription", &["description"])?;
    let id = names::disk_id(parse_id(arg(args), "disk id")?)?;
    let desc = a.required_str("description")?;
    if desc.len() > 30
        || !desc
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | ' '))
    {
        return Err(ApiErr::invalid(format!(
            "invalid disk description `{}`: must match ^[A-Za-z0-9_\\- ]{{0,30}}$",
            names::shorten(desc)
        )));
    }
    let mut d = txn
        .cl
        .disks
        .get(&id)
        .cloned()
        .ok_or_else(|| ApiErr::not_found(format!("disk {id} does not exist")))?;
    d.description = desc.to_owned();
    txn.put_disk(d);
    Ok(Map::new())
}

// ---- placement groups ----

fn pg_json(p: &PlacementGroup) -> Value {
    json!({"id": p.id, "name": p.name, "disks": p.disks})
}

pub(crate) fn pg_list(
    cl: &Cluster,
    _: &Ctx<'_>,
    _: &[String],
    _: Option<Value>,
) -> Result<Value, ApiErr> {
    Ok(Value::Object(
        cl.pgs
            .values()
            .map(|p| (p.name.clone(), pg_json(p)))
            .collect(),
    ))
}

pub(crate) fn pg_describe(
    cl: &Cluster,
    _: &Ctx<'_>,
    args: &[String],
    _: Option<Value>,
) -> Result<Value, ApiErr> {
    let name = arg(args);
    names::placement_group_name(name)?;
    cl.pg_by_name(name)
        .map(pg_json)
        .ok_or_else(|| ApiErr::not_found(format!("placement group {name} does not exist")))
}

pub(crate) fn pg_update(
    txn: &mut Txn<'_>,
    _: &Ctx<'_>,
    args: &[String],
    body: Option<Value>,
) -> Result<Map<String, Value>, ApiErr> {
    let a = Args::object(
        body,
        "PlacementGroupUpdate",
        &["rename", "addDisks", "rmDisks"],
    )?;
    let name = arg(args);
    names::placement_group_name(name)?;
    let mut p = if let Some(p) = txn.cl.pg_by_name(name) {
        p.clone()
    } else {
        txn.meta_mut().next_pg += 1;
        PlacementGroup {
            id: txn.cl.meta.next_pg,
            name: name.to_owned(),
            disks: BTreeSet::new(),
        }
    };
    for id in a.id_list("addDisks")?.unwrap_or_default() {
        let id = names::disk_id(id)?;
        if !txn.cl.disks.contains_key(&id) {
            return Err(ApiErr::not_found(format!("disk {id} does not exist")));
        }
        p.disks.insert(id);
    }
    for id in a.id_list("rmDisks")?.unwrap_or_default() {
        p.disks.remove(&names::disk_id(id)?);
    }
    if let Some(new) = a.str("rename")? {
        names::placement_group_name(new)?;
        if new != p.name {
            if txn.cl.pg_by_name(new).is_some() {
                return Err(ApiErr::exists(format!(
                    "placement group {new} already exists"
                )));
            }
            if pg_users(txn.cl, &p.name) > 0 {
                return Err(ApiErr::busy(format!(
                    "placement group {} is in use and cannot be renamed",
                    p.name
                )));
            }
            p.name = new.to_owned();
        }
    }
    txn.put_pg(p);
    Ok(Map::new())
}

fn pg_users(cl: &Cluster, name: &str) -> usize {
    let t = cl
        .templates
        .values()
        .filter(|t| [t.all(), t.tail(), t.head()].contains(&name))
        .count();
    let o = cl
        .objects
        .values()
        .filter(|o| o.place_all == name || o.place_tail == name || o.place_head == name)
        .count();
    t + o
}

pub(crate) fn pg_delete(
    txn: &mut Txn<'_>,
    _: &Ctx<'_>,
    args: &[String],
    body: Option<Value>,
) -> Result<Map<String, Value>, ApiErr> {
    Args::object(body, "PlacementGroupDelete", &[])?;
    let name = arg(args);
    names::placement_group_name(name)?;
    let p = txn
        .cl
        .pg_by_name(name)
        .cloned()
        .ok_or_else(|| ApiErr::not_found(format!("placement group {name} does not exist")))?;
    let users = pg_users(txn.cl, name);
    if users > 0 {
        return Err(ApiErr::busy(format!(
            "placement group {name} is used by {users} template(s), volume(s) or snapshot(s)"
        )));
    }
    txn.remove_pg(p.id);
    Ok(Map::new())
}

pub(crate) fn fault_sets(
    _: &Cluster,
    _: &Ctx<'_>,
    _: &[String],
    _: Option<Value>,
) -> Result<Value, ApiErr> {
    Ok(json!({}))
}

// ---- services and clients ----

fn services(cl: &Cluster, ctx: &Ctx<'_>, with_clients: bool) -> Value {
    let version = ctx.settings.version.clone();
    let start = cl.meta.created;
    let servers: BTreeSet<u32> = cl.disks.values().map(|d| d.server).collect();
    let servers: Map<String, Value> = servers
        .iter()
        .map(|s| {
            let missing: Vec<u32> = cl
                .disks
                .values()
                .filter(|d| d.server == *s && d.down_since.is_some())
                .map(|d| d.id)
                .collect();
            let up = cl
                .disks
                .values()
                .any(|d| d.server == *s && d.down_since.is_none());
            (
                s.to_string(),
                json!({"id": s, "version": version, "startTime": start,
                       "status": if up { "running" } else { "down" },
                       "missingDisks": missing, "pendingDisks": []}),
            )
        })
        .collect();
    let mut m = Map::new();
    m.insert("clusterStatus".into(), "running".into());
    m.insert(
        "mgmt".into(),
        json!({"1": {"id": 1, "version": version, "startTime": start, "status": "running", "prio": 0, "active": true}}),
    );
    if with_clients {
        let clients: Map<String, Value> = cl
            .clients
            .iter()
            .map(|(id, c)| {
                (
                    id.to_string(),
                    json!({"id": id, "version": version,
                           "startTime": if c.running { Value::from(start) } else { Value::Null },
                           "status": if c.running { "running" } else { "down" }}),
                )
            })
            .collect();
        m.insert("clients".into(), Value::Object(clients));
    }
    m.insert("servers".into(), Value::Object(servers));
    m.insert("bridges".into(), json!({}));
    m.insert("iscsiTargets".into(), json!({}));
    Value::Object(m)
}

pub(crate) fn services_list(
    cl: &Cluster,
    ctx: &Ctx<'_>,
    _: &[String],
    _: Option<Value>,
) -> Result<Value, ApiErr> {
    Ok(services(cl, ctx, true))
}

pub(crate) fn servers_list(
    cl: &Cluster,
    ctx: &Ctx<'_>,
    _: &[String],
    _: Option<Value>,
) -> Result<Value, ApiErr> {
    Ok(services(cl, ctx, false))
}

fn client_status(cl: &Cluster, id: u16) -> Value {
    let c = cl
        .clients
        .get(&id)
        .copied()
        .unwrap_or(crate::model::ClientState {
            running: false,
            applied: 0,
        });
    let status = if !c.running {
        "down"
    } else if c.applied < cl.meta.generation {
        "updating"
    } else {
        "ok"
    };
    json!({"id": id, "generation": cl.meta.generation, "clientGeneration": c.applied,
           "configStatus": status, "delay": 0})
}

pub(crate) fn clients_config_dump(
    cl: &Cluster,
    _: &Ctx<'_>,
    _: &[String],
    _: Option<Value>,
) -> Result<Value, ApiErr> {
    Ok(Value::Array(
        cl.clients.keys().map(|id| client_status(cl, *id)).collect(),
    ))
}

pub(crate) fn client_config_wait(
    cl: &Cluster,
    _: &Ctx<'_>,
    args: &[String],
    _: Option<Value>,
) -> Result<Value, ApiErr> {
    let id = names::client_id(parse_id(arg(args), "client id")?)?;
    match cl.clients.get(&id) {
        None => Err(ApiErr::invalid(format!("No such client registered: {id}"))),
        Some(c) if !c.running => Err(ApiErr::new(WAIT_FOR_CLIENT, id.to_string())),
        Some(_) => Ok(json!([client_status(cl, id)])),
    }
}

pub(crate) fn iscsi_config(
    _: &Cluster,
    _: &Ctx<'_>,
    _: &[String],
    _: Option<Value>,
) -> Result<Value, ApiErr> {
    Ok(
        json!({"iscsi": {"baseName": "iqn.2012-11.storpool:sim", "initiators": {}, "portalGroups": {}, "targets": {}}}),
    )
}
