"""Run the official StorPool Python bindings and os-brick's StorPool client against storpool-sim.

Usage: compat.py STORPOOL_CONF DEV_ROOT

STORPOOL_CONF is the file `storpool-sim --write-config` wrote; DEV_ROOT is the simulator's
`--dev-root`. Every response is validated against the bindings' own types (strictly: a missing
or mistyped field is an error, not a partial object). Exits non-zero on the first failure.
"""

import configparser
import pathlib
import sys
import threading
import time

from storpool import spapi
from storpool import sptypes as sp
from storpool.sptype import spType, either

from os_brick.initiator import storpool_utils
from os_brick.initiator.connectors import storpool as sp_connector

CONF, DEV_ROOT = sys.argv[1], pathlib.Path(sys.argv[2])
GIB = 1 << 30
checks = 0


def read_conf(path):
    parser = configparser.ConfigParser(strict=False, allow_no_value=True)
    parser.optionxform = str
    parser.read_string("[U]\n" + pathlib.Path(path).read_text())
    return dict(parser["U"])


conf = read_conf(CONF)
HOST, PORT, TOKEN = conf["SP_API_HTTP_HOST"], int(conf["SP_API_HTTP_PORT"]), conf["SP_AUTH_TOKEN"]
OURID = conf["SP_OURID"]

api = spapi.Api(host=HOST, port=PORT, auth=TOKEN, transientRetries=0)
mc = spapi.Api(host=HOST, port=PORT, auth=TOKEN, transientRetries=0, multiCluster=True)


def strict(name, raw, typ):
    """Validate raw data against a bindings type; raise on any problem."""
    global checks
    try:
        spType(typ).handleVal(raw)
    except Exception as e:  # noqa: BLE001
        raise SystemExit(f"FAIL {name}: response does not match {typ}: {e}\n{raw!r}")
    checks += 1
    return raw


def call(name, fn, typ, *args):
    raw = fn(*args, returnRawAPIData=True)
    return strict(name, raw, typ)


def expect_error(name, fn, err_name, *args):
    global checks
    try:
        fn(*args)
    except spapi.ApiError as e:
        if e.name != err_name:
            raise SystemExit(f"FAIL {name}: expected {err_name}, got {e.name}: {e.desc}")
        checks += 1
        return e
    raise SystemExit(f"FAIL {name}: expected error {err_name}, got success")


OK = spapi.ApiOk
# ---------------------------------------------------------------- the official bindings
# The validator itself must reject a wrong shape.
try:
    spType(sp.VolumeSummary).handleVal({"name": "x"})
    raise SystemExit("FAIL the strict validator accepted a bad object")
except SystemExit:
    raise
except Exception:  # noqa: BLE001
    pass
call("ServicesList", api.servicesList, sp.ClusterStatus)
call("ServersList", api.serversList, sp.ClusterStatus)
call("DisksList", api.disksList, {sp.DiskId: sp.DiskSummary})
call("ServerDisksList", api.serverDisksList, {sp.DiskId: sp.DiskSummary}, 1)
call("DiskDescribe", api.diskDescribe, sp.Disk, 101)
call("PlacementGroupsList", api.placementGroupsList, {sp.PlacementGroupName: sp.PlacementGroup})
call("PlacementGroupUpdate", api.placementGroupUpdate, OK, "ssd", {"addDisks": [101, 201, 301], "rmDisks": []})
call("PlacementGroupDescribe", api.placementGroupDescribe, sp.PlacementGroup, "ssd")
call("ClientsConfigDump", api.clientsConfigDump, [sp.ClientConfigStatus])
call("ClientConfigWait", api.clientConfigWait, [sp.ClientConfigStatus], int(OURID))
call("FaultSetsList", api.faultSetsList, {sp.FaultSetName: sp.FaultSet})
call("iSCSIConfig", api.iSCSIConfig, sp.iSCSIConfig)

call("VolumeTemplateCreate", api.volumeTemplateCreate, OK, {"name": "hybrid", "replication": 3, "placeAll": "default", "placeTail": "ssd"})
call("VolumeTemplateCreate", api.volumeTemplateCreate, OK, {"name": "two", "replication": 2, "size": GIB})
call("VolumeTemplateUpdate", api.volumeTemplateUpdate, OK, "two", {"bw": 1000, "iops": "-"})
call("VolumeTemplatesList", api.volumeTemplatesList, [sp.VolumeTemplateDesc])
call("VolumeTemplateDescribe", api.volumeTemplateDescribe, sp.VolumeTemplateDesc, "hybrid")

r = call("VolumeCreate", mc.volumeCreate, spapi.ApiOkVolumeCreate, {"name": "os--volume-1", "size": GIB, "template": "hybrid", "tags": {"qc": "tier1"}})
gid1 = r["globalId"]
call("VolumeCreate", mc.volumeCreate, spapi.ApiOkVolumeCreate, {"name": "os--volume-2", "size": 2 * GIB, "replication": 2})
r = call("VolumeCreate unnamed", mc.volumeCreate, spapi.ApiOkVolumeCreate, {"template": "two"})
assert r["name"] == "~" + r["globalId"], r
expect_error("VolumeCreate exists", mc.volumeCreate, "objectExists", {"name": "os--volume-1", "size": GIB, "replication": 3})
expect_error("Volume missing", mc.volumeList, "objectDoesNotExist", "os--volume-none")

call("VolumesList", mc.volumesList, [sp.VolumeSummary])
v = call("Volume", mc.volumeList, [sp.VolumeSummary], "os--volume-1")[0]
assert v["templateName"] == "hybrid" and v["placeTail"] == "ssd", v
call("Volume by gid", mc.volumeList, [sp.VolumeSummary], "~" + gid1)
call("VolumeDescribe", mc.volumeDescribe, sp.Volume, "os--volume-1")
call("VolumeGetInfo", mc.volumeInfo, sp.VolumeInfo, "os--volume-1")

r = call("VolumeSnapshot", mc.snapshotCreate, spapi.ApiOkSnapshotCreate, "os--volume-1", {"name": "os--snap--none--snapshot-1"})
assert r["snapshotGlobalId"]
r = call("VolumeSnapshot anon", mc.snapshotCreate, spapi.ApiOkSnapshotCreate, "os--volume-2", {"bind": True, "deleteAfter": 3600})
anon = r["autoName"]
call("SnapshotsList", mc.snapshotsList, [sp.SnapshotSummary])
call("Snapshot", mc.snapshotList, [sp.SnapshotSummary], anon)
call("SnapshotDescribe", mc.snapshotDescribe, sp.Snapshot, "os--snap--none--snapshot-1")
call("SnapshotGetInfo", mc.snapshotInfo, sp.SnapshotInfo, "os--snap--none--snapshot-1")
call("VolumeListSnapshots", api.volumeListSnapshots, [sp.SnapshotSummary], "os--volume-1")
call("SnapshotUpdate", api.snapshotUpdate, OK, "os--snap--none--snapshot-1", {"template": "two", "tags": {"k": "v"}})

call("VolumeCreate parent", mc.volumeCreate, spapi.ApiOkVolumeCreate, {"name": "os--volume-3", "size": 2 * GIB, "parent": "os--snap--none--snapshot-1"})
r = call("VolumeCreate baseOn", mc.volumeCreate, spapi.ApiOkVolumeCreate, {"name": "os--volume-4", "baseOn": "os--volume-1"})
assert r["autoName"], r
call("VolumeUpdate size", mc.volumeUpdate, OK, "os--volume-1", {"size": 3 * GIB})
call("VolumeUpdate template", mc.volumeUpdate, OK, "os--volume-2", {"template": "two"})
call("VolumeUpdate tags", mc.volumeUpdate, OK, "os--volume-2", {"tags": {"qc": ""}})
expect_error("shrink", mc.volumeUpdate, "invalidParam", "os--volume-1", {"size": GIB})
call("VolumeRevert", mc.volumeRevert, OK, "os--volume-1", {"toSnapshot": "os--snap--none--snapshot-1"})
r = call("VolumesGroupSnapshot", mc.snapshotCreateGroup, sp.GroupSnapshotsResult,
         {"volumes": [{"volume": "os--volume-1", "name": "cg-1"}, {"volume": "os--volume-2"}], "tags": {"cg": "x"}})

call("VolumesReassign", mc.volumesReassign, OK, [{"volume": "os--volume-2", "rw": [int(OURID)]}, {"snapshot": "cg-1", "ro": [2]}])
call("VolumesReassignWait", mc.volumesReassignWait, OK, {"reassign": [{"volume": "os--volume-3", "ro": [3]}], "attachTimeout": 10})
call("AttachmentsList", mc.attachmentsList, [sp.AttachmentDesc])
call("VolumesGetStatus", mc.volumesStatus,
     {either(sp.SnapshotNameOrGlobalId, sp.VolumeNameOrGlobalId): either(sp.SnapshotStatus, sp.VolumeStatus)})
call("VolumesGetStatusQuick", mc.volumesQuickStatus,
     {either(sp.SnapshotNameOrGlobalId, sp.VolumeNameOrGlobalId): either(sp.SnapshotStatusQuick, sp.VolumeStatusQuick)})
call("VolumesSpace", mc.volumesSpace, [sp.VolumeSpace])
call("SnapshotsSpace", mc.snapshotsSpace, [sp.SnapshotSpace])
call("VolumeTemplatesStatus", api.volumeTemplatesStatus, [sp.VolumeTemplateStatusDesc])
call("DisksList after", api.disksList, {sp.DiskId: sp.DiskSummary})

expect_error("delete attached", mc.volumeDelete, "busy", "os--volume-2")
call("detach all", mc.volumesReassign, OK, [{"volume": "os--volume-2", "detach": "all"}, {"snapshot": "cg-1", "detach": "all"},
                                             {"volume": "os--volume-3", "detach": "all"}])
call("VolumeUpdate rename", mc.volumeUpdate, OK, "os--volume-3", {"rename": "os--volume-3--temp--mig"})
call("VolumeDelete", mc.volumeDelete, OK, "os--volume-3--temp--mig")
call("SnapshotDelete", mc.snapshotDelete, OK, "cg-1")
expect_error("SnapshotDelete missing", mc.snapshotDelete, "objectDoesNotExist", "cg-1")
call("VolumeTemplateDelete unused", api.volumeTemplateCreate, OK, {"name": "gone"})
call("VolumeTemplateDelete", api.volumeTemplateDelete, OK, "gone")
print(f"bindings: {checks} checks passed")

# ---------------------------------------------------------------- os-brick's client
osb = storpool_utils.StorPoolAPI(HOST, PORT, TOKEN)
osb.disks_list()
osb.volume_templates_list()
osb.volume_create({"name": "os--volume-b1", "size": GIB, "template": "hybrid"})
osb.volumes_reassign_wait({"reassign": [{"volume": "os--volume-b1", "rw": [OURID]}]})
info = osb.volume_get_info("os--volume-b1")
dev = DEV_ROOT / "storpool-byid" / info["globalId"]
assert dev.exists(), dev
with open(dev, "r+b") as f:
    f.seek(4096)
    f.write(b"os-brick")
osb.snapshot_create("os--volume-b1", {"name": "os--snap--none--snapshot-b1"})
osb.snapshot_update("os--snap--none--snapshot-b1", {"tags": {"transient": "1.0"}})
osb.volume_update("os--volume-b1", {"size": 2 * GIB})
assert osb.volume("os--volume-b1")[0]["size"] == 2 * GIB
assert dev.stat().st_size == 2 * GIB
osb.volume_create({"name": "os--volume-b2", "size": 2 * GIB, "parent": "os--snap--none--snapshot-b1"})
osb.volumes_reassign_wait({"reassign": [{"volume": "os--volume-b2", "ro": [OURID]}]})
clone_dev = DEV_ROOT / "storpool" / "os--volume-b2"
with open(clone_dev, "rb") as f:
    f.seek(4096)
    assert f.read(8) == b"os-brick"

try:
    osb.volumes_reassign_wait({"reassign": [{"volume": "~" + info["globalId"], "detach": [OURID], "force": False}]})
except storpool_utils.StorPoolAPIError as e:
    raise SystemExit(f"FAIL unexpected detach error {e}")
osb.volumes_reassign([{"volume": "os--volume-b2", "detach": "all"}])
assert not dev.exists()
try:
    osb.volume_get_info("os--volume-none")
    raise SystemExit("FAIL expected objectDoesNotExist")
except storpool_utils.StorPoolAPIError as e:
    assert e.name == "objectDoesNotExist" and e.status != 200, (e.name, e.status)
osb.volume_revert("os--volume-b1", {"toSnapshot": "os--snap--none--snapshot-b1"})
osb.volume_delete("os--volume-b1")
osb.volume_delete("os--volume-b2")
names = [v["name"] for v in osb.volumes_list()]
assert "os--volume-b1" not in names, names
osb.get_iscsi_config()
print("os-brick StorPoolAPI: scenario passed")

# ---------------------------------------------------------------- os-brick's connector
sp_connector.storpool_utils.get_conf = lambda section=None, use_env=True: dict(conf)
sp_connector.DEV_STORPOOL = DEV_ROOT / "storpool"
sp_connector.DEV_STORPOOL_BYID = DEV_ROOT / "storpool-byid"
sp_connector.storpool_utils.DEV_STORPOOL_BYID = DEV_ROOT / "storpool-byid"
conn = sp_connector.StorPoolConnector(root_helper=None)
osb.volume_create({"name": "os--volume-c1", "size": GIB, "replication": 3})
res = conn.connect_volume({"client_id": int(OURID), "volume": "c1", "access_mode": "rw"})
path = pathlib.Path(res["path"])
assert path.exists(), path
conn._detach_retry(OURID, "~" + path.name)
assert not path.exists()
print("os-brick connector: attach/detach passed")
print(f"ALL OK ({checks} typed checks)")
