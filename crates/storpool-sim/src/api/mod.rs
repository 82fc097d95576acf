//! The API calls: the call table and its handlers.
// Handlers share one signature (some never fail), and read as step lists.
#![allow(
    clippy::unnecessary_wraps,
    clippy::assigning_clones,
    clippy::too_many_lines
)]

pub(crate) mod attach;
pub(crate) mod cluster;
pub(crate) mod gc;
pub(crate) mod placement;
pub(crate) mod render;
pub(crate) mod snapshots;
pub(crate) mod templates;
pub(crate) mod volumes;

use crate::engine::{CallDef, Handler, Method};

const fn get(name: &'static str, mc: bool, nargs: usize, f: crate::engine::ReadFn) -> CallDef {
    CallDef {
        name,
        method: Method::Get,
        multi_cluster: mc,
        nargs,
        handler: Handler::Read(f),
    }
}

const fn get_raw(name: &'static str, mc: bool, nargs: usize, f: crate::engine::RawFn) -> CallDef {
    CallDef {
        name,
        method: Method::Get,
        multi_cluster: mc,
        nargs,
        handler: Handler::Raw(f),
    }
}

const fn post(name: &'static str, mc: bool, nargs: usize, f: crate::engine::WriteFn) -> CallDef {
    CallDef {
        name,
        method: Method::Post,
        multi_cluster: mc,
        nargs,
        handler: Handler::Write(f),
    }
}

/// Every call the simulator answers.
pub(crate) const CALLS: &[CallDef] = &[
    // Volumes.
    get_raw("VolumesList", true, 0, volumes::list),
    get_raw("Volume", true, 1, volumes::one),
    get("VolumeDescribe", true, 1, volumes::describe),
    get("VolumeGetInfo", true, 1, volumes::info),
    get("VolumeListSnapshots", false, 1, volumes::list_snapshots),
    get("VolumesGetStatus", true, 0, volumes::status),
    get("VolumesGetStatusQuick", true, 0, volumes::status_quick),
    get("VolumesSpace", true, 0, volumes::space),
    // Not in the bindings; the spec gives it no MultiCluster/ form.
    get(
        "VolumesAndSnapshotsList",
        false,
        0,
        volumes::volumes_and_snapshots,
    ),
    post("VolumeCreate", true, 0, volumes::create),
    post("VolumeUpdate", true, 1, volumes::update),
    post("VolumeDelete", true, 1, volumes::delete),
    post("VolumeFreeze", true, 1, volumes::freeze),
    post("VolumeRevert", true, 1, volumes::revert),
    post("VolumeRebase", false, 1, volumes::rebase),
    // Snapshots.
    get_raw("SnapshotsList", true, 0, snapshots::list),
    get("SnapshotsSpace", true, 0, snapshots::space),
    get_raw("Snapshot", true, 1, snapshots::one),
    get("SnapshotDescribe", true, 1, snapshots::describe),
    get("SnapshotGetInfo", true, 1, snapshots::info),
    post("VolumeSnapshot", true, 1, snapshots::create),
    post("SnapshotUpdate", false, 1, snapshots::update),
    post("SnapshotRebase", false, 1, snapshots::rebase),
    post("SnapshotDelete", true, 1, snapshots::delete),
    post("SnapshotDeleteById", false, 1, snapshots::delete_by_id),
    post("VolumesGroupSnapshot", true, 0, snapshots::group),
    // Attachments.
    get("AttachmentsList", true, 0, attach::list),
    post("VolumesReassign", true, 0, attach::reassign),
    post("VolumesReassignWait", true, 0, attach::reassign_wait),
    // Templates.
    get("VolumeTemplatesList", false, 0, templates::list),
    get("VolumeTemplatesStatus", false, 0, templates::status),
    get("VolumeTemplateDescribe", false, 1, templates::describe),
    post("VolumeTemplateCreate", false, 0, templates::create),
    post("VolumeTemplateUpdate", false, 1, templates::update),
    post("VolumeTemplateDelete", false, 1, templates::delete),
    // Disks and placement groups.
    get("DisksList", false, 0, cluster::disks_list),
    get("ServerDisksList", false, 1, cluster::server_disks_list),
    get("DiskDescribe", false, 1, cluster::disk_describe),
    get(
        "ServerDiskDescribe",
        false,
        2,
        cluster::server_disk_describe,
    ),
    post("DiskEject", false, 1, cluster::disk_eject),
    post("DiskForget", false, 1, cluster::disk_forget),
    post(
        "DiskSetDescription",
        false,
        1,
        cluster::disk_set_description,
    ),
    get("PlacementGroupsList", false, 0, cluster::pg_list),
    get("PlacementGroupDescribe", false, 1, cluster::pg_describe),
    post("PlacementGroupUpdate", false, 1, cluster::pg_update),
    post("PlacementGroupDelete", false, 1, cluster::pg_delete),
    get("FaultSetsList", false, 0, cluster::fault_sets),
    // Services and clients.
    get("ServicesList", false, 0, cluster::services_list),
    get("ServersList", false, 0, cluster::servers_list),
    get("ServersListBlocked", false, 0, cluster::servers_list),
    get("ClientsConfigDump", false, 0, cluster::clients_config_dump),
    get("ClientConfigWait", false, 1, cluster::client_config_wait),
    get("iSCSIConfig", false, 0, cluster::iscsi_config),
];

/// Look a call up by name and method.
pub(crate) fn find_call(name: &str, method: Method) -> Option<&'static CallDef> {
    CALLS.iter().find(|c| c.name == name && c.method == method)
}

/// Is there a call of that name with any method?
pub(crate) fn call_exists(name: &str) -> bool {
    CALLS.iter().any(|c| c.name == name)
}
