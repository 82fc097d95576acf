//! Attachments: `AttachmentsList`, `VolumesReassign`, `VolumesReassignWait`.

use std::time::Duration;

use serde_json::{Map, Value};

use super::render;
use crate::args::Args;
use crate::engine::{Ctx, find_snapshot, find_volume};
use crate::error::ApiErr;
use crate::model::{Att, Cluster, Obj, Txn};
use crate::names;

pub(crate) fn list(
    cl: &Cluster,
    _: &Ctx<'_>,
    _: &[String],
    _: Option<Value>,
) -> Result<Value, ApiErr> {
    Ok(Value::Array(
        cl.attached_objects()
            .flat_map(render::attachments)
            .collect(),
    ))
}

/// Refuse to detach a device that is open on the client (the os-brick retry matches
/// `is open at`).
pub(crate) fn check_not_open(ctx: &Ctx<'_>, o: &Obj, client: u16) -> Result<(), ApiErr> {
    let names = [o.display_name(), format!("~{}", o.gid), o.gid.to_string()];
    if names
        .iter()
        .any(|n| ctx.open.contains(&(n.clone(), client)))
    {
        return Err(ApiErr::busy(format!(
            "'{}' is open at client {client}",
            o.display_name()
        )));
    }
    Ok(())
}

enum Detach {
    None,
    All,
    Some(Vec<u16>),
}

fn clients(a: &Args, k: &str) -> Result<Vec<u16>, ApiErr> {
    a.id_list(k)?
        .unwrap_or_default()
        .into_iter()
        .map(names::client_id)
        .collect()
}

/// Apply one reassign entry; returns the clients it touched.
fn apply_entry(txn: &mut Txn<'_>, ctx: &Ctx<'_>, e: Value) -> Result<Vec<u16>, ApiErr> {
    let is_snapshot = match &e {
        Value::Object(m) => match (m.contains_key("volume"), m.contains_key("snapshot")) {
            (true, false) => false,
            (false, true) => true,
            _ => {
                return Err(ApiErr::invalid(
                    "reassign entry: exactly one of `volume` and `snapshot` must be given",
                ));
            }
        },
        other => {
            return Err(ApiErr::invalid(format!(
                "reassign entry: expected an object, got {}",
                crate::args::type_name(other)
            )));
        }
    };
    let a = if is_snapshot {
        Args::from_value(
            e,
            "SnapshotReassignDesc",
            &["snapshot", "detach", "ro", "force"],
        )?
    } else {
        Args::from_value(
            e,
            "VolumeReassignDesc",
            &[
                "volume",
                "detach",
                "ro",
                "rw",
                "force",
                "allowRemoteExported",
                "onRemoteAttached",
                "mcMode",
            ],
        )?
    };
    let o = if is_snapshot {
        find_snapshot(txn.cl, a.required_str("snapshot")?)?.clone()
    } else {
        find_volume(txn.cl, a.required_str("volume")?)?.clone()
    };
    let detach = match a.value("detach") {
        None => Detach::None,
        Some(Value::String(s)) if s == "all" => Detach::All,
        Some(Value::String(s)) => {
            return Err(ApiErr::invalid(format!(
                "reassign entry: `detach` must be a list of client ids or \"all\", got `{}`",
                names::shorten(s)
            )));
        }
        Some(_) => Detach::Some(clients(&a, "detach")?),
    };
    let ro = clients(&a, "ro")?;
    let rw = clients(&a, "rw")?;
    let force = a.bool("force")?.unwrap_or(false);
    a.bool("allowRemoteExported")?;
    if let Some(m) = a.str("onRemoteAttached")?
        && !["fail", "detach", "detachForce", "export"].contains(&m)
    {
        return Err(ApiErr::invalid(format!(
            "invalid onRemoteAttached `{}`",
            names::shorten(m)
        )));
    }
    if let Some(m) = a.str("mcMode")?
        && !["move", "export"].contains(&m)
    {
        return Err(ApiErr::invalid(format!(
            "invalid mcMode `{}`",
            names::shorten(m)
        )));
    }
    if let Some(c) = ro.iter().find(|c| rw.contains(c)) {
        return Err(ApiErr::invalid(format!(
            "client {c} is given both `ro` and `rw` for {}",
            o.display_name()
        )));
    }
    if (!ro.is_empty() || !rw.is_empty()) && (o.transient || o.deleted) {
        return Err(ApiErr::invalid(format!(
            "snapshot {} is transient or being deleted and cannot be attached",
            o.display_name()
        )));
    }
    for c in ro.iter().chain(&rw) {
        if !txn.cl.clients.contains_key(c) {
            return Err(ApiErr::invalid(format!("No such client registered: {c}")));
        }
    }
    let mut touched = Vec::new();
    let mut new = o.clone();
    let to_detach: Vec<u16> = match &detach {
        Detach::None => Vec::new(),
        Detach::All => new.attachments.keys().copied().collect(),
        Detach::Some(list) => list
            .iter()
            .copied()
            .filter(|c| new.attachments.contains_key(c))
            .collect(),
    };
    for c in to_detach {
        if !force {
            check_not_open(ctx, &o, c)?;
        }
        new.attachments.remove(&c);
        touched.push(c);
    }
    // Write the detach first so that freed slots can be reused.
    txn.put(new.clone());
    for (list, rights) in [(&ro, false), (&rw, true)] {
        for c in list {
            let mut cur = txn.cl.obj(o.id).cloned().unwrap_or_else(|| new.clone());
            if let Some(att) = cur.attachments.get_mut(c) {
                att.rw = rights;
            } else {
                let pos = txn.cl.free_pos(*c).ok_or_else(|| {
                    ApiErr::invalid(format!("no free attachment slot on client {c}"))
                })?;
                cur.attachments.insert(*c, Att { rw: rights, pos });
            }
            txn.put(cur);
            touched.push(*c);
        }
    }
    Ok(touched)
}

fn reassign_entries(
    txn: &mut Txn<'_>,
    ctx: &Ctx<'_>,
    entries: Vec<Value>,
) -> Result<Vec<u16>, ApiErr> {
    let mut touched = Vec::new();
    for e in entries {
        touched.extend(apply_entry(txn, ctx, e)?);
    }
    touched.sort_unstable();
    touched.dedup();
    Ok(touched)
}

pub(crate) fn reassign(
    txn: &mut Txn<'_>,
    ctx: &Ctx<'_>,
    _: &[String],
    body: Option<Value>,
) -> Result<Map<String, Value>, ApiErr> {
    let entries = match body {
        Some(Value::Array(a)) => a,
        None => Vec::new(),
        Some(other) => {
            return Err(ApiErr::invalid(format!(
                "VolumesReassign: expected a list of entries, got {}",
                crate::args::type_name(&other)
            )));
        }
    };
    reassign_entries(txn, ctx, entries)?;
    Ok(Map::new())
}

pub(crate) fn reassign_wait(
    txn: &mut Txn<'_>,
    ctx: &Ctx<'_>,
    _: &[String],
    body: Option<Value>,
) -> Result<Map<String, Value>, ApiErr> {
    let (entries, timeout) = match body {
        Some(Value::Array(a)) => (a, None),
        other => {
            let a = Args::object(other, "VolumesReassignWait", &["reassign", "attachTimeout"])?;
            let entries = a
                .array("reassign")?
                .ok_or_else(|| {
                    ApiErr::invalid("VolumesReassignWait: member `reassign` is required")
                })?
                .clone();
            (entries, a.u64("attachTimeout")?.map(Duration::from_secs))
        }
    };
    let touched = reassign_entries(txn, ctx, entries)?;
    txn.wait.clients = touched;
    txn.wait.timeout = timeout;
    Ok(Map::new())
}
