"""Cinder 29.0.0's own functional tests with storpool_rs.cinder.StorPoolDriver as the backend.

Cinder's functional harness runs its REST API, scheduler and volume service in this process
(an SQLite database, fake RPC); the driver talks to a real `storpool-sim` process through
storpool.conf (``$STORPOOL_CONF``). Run with ``python -m unittest`` from this folder (the
harness's tests do not collect under pytest); ``scripts/cinder-functional.sh`` sets up the
virtualenv and runs it.

- :class:`StorPoolVolumesTest` is Cinder's ``VolumesTest``, unchanged but for the driver.
- :class:`StorPoolScenarios` drives our scenarios through Cinder's REST API: volume types with
  templates and replication, the boot-from-volume flow, clones, extend, revert, retype and
  migration across templates in place, consistent group snapshots, manage/unmanage, QoS,
  attachments, pools. After each test the cluster must hold exactly what Cinder's database
  says it holds: nothing leaked, nothing lost.
"""

from __future__ import annotations

import io
import os
import pathlib
import subprocess
import sys
import tempfile
import time
import unittest
from unittest import mock

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))

from cinder import context as cinder_context  # noqa: E402
from cinder import objects  # noqa: E402
from cinder import privsep  # noqa: E402
from os_brick import privileged as brick_privileged  # noqa: E402
from os_brick.initiator import connector as brick_connector  # noqa: E402
from cinder.tests.functional.api import client  # noqa: E402
from cinder.tests.functional import functional_helpers  # noqa: E402
from cinder.tests.functional import test_volumes  # noqa: E402
from cinder.tests.unit.image import fake as fake_image  # noqa: E402
from cinder.image import glance  # noqa: E402 - after the harness (import cycle)
from cinder.volume import configuration  # noqa: E402

from simulator import Simulator  # noqa: E402
from storpool_rs import os_brick  # noqa: E402

DRIVER = "storpool_rs.cinder.StorPoolDriver"
BACKEND = "storpool-sim"
HOSTS = {"compute-1": 7, "compute-2": 8}
#: How long an asynchronous Cinder operation may take, and how often to look.
DEADLINE = 60.0
POLL = 0.05
#: The states of an operation in progress.
PASSING = {"creating", "deleting", "extending", "retyping", "reverting", "downloading",
           "uploading", "attaching", "detaching", "backing-up", "restoring-backup"}

SIM: Simulator = None  # type: ignore[assignment]


def setUpModule() -> None:  # noqa: N802 - unittest's name
    global SIM
    SIM = Simulator(hosts=HOSTS)
    SIM.create_template("ssd", 3)
    SIM.create_template("hdd", 2)
    os.environ["STORPOOL_CONF"] = str(SIM.conf)


def tearDownModule() -> None:  # noqa: N802 - unittest's name
    if SIM is not None:
        SIM.stop()


def _storpool_flags(flags: dict) -> dict:
    flags["volume_driver"] = {"v": DRIVER, "g": configuration.SHARED_CONF_GROUP}
    return flags


class ImageService(fake_image._FakeImageService):
    """Cinder's fake Glance, keeping what is uploaded (its own `update` drops the data)."""

    def update(self, context, image_id, metadata, data=None, **kwargs):
        image = super().update(context, image_id, metadata, **kwargs)
        if data is not None:
            self._imagedata[image_id] = data.read()
        return image


class ClusterChecks:
    """Checks of the cluster against Cinder's database, shared by both classes."""

    def _cinder_volume_names(self) -> set:
        """The cluster names of every volume Cinder's database holds."""
        ctx = cinder_context.get_admin_context()
        driver = self.volume.manager.driver  # type: ignore[attr-defined]
        return {
            driver._native.volume_name(v.name_id)
            for v in objects.VolumeList.get_all(ctx)
        }

    def _cinder_snapshot_names(self) -> set:
        ctx = cinder_context.get_admin_context()
        driver = self.volume.manager.driver  # type: ignore[attr-defined]
        return {
            driver._native.snapshot_name(s.id)
            for s in objects.SnapshotList.get_all(ctx, None)
        }

    def settle(self) -> None:
        """Waits until no volume or snapshot of Cinder's is in a passing state (a test may
        end while an operation it started is still running in the volume service)."""
        ctx = cinder_context.get_admin_context()
        deadline = time.monotonic() + DEADLINE
        while time.monotonic() < deadline:
            busy = [v.id for v in objects.VolumeList.get_all(ctx) if v.status in PASSING]
            busy += [s.id for s in objects.SnapshotList.get_all(ctx, None)
                     if s.status in PASSING]
            if not busy:
                return
            time.sleep(POLL)
        self.fail(f"still busy after {DEADLINE} s: {busy}")  # type: ignore[attr-defined]

    def assert_cluster_matches_cinder(self) -> None:
        """Every `os--` volume and snapshot on the cluster is one Cinder knows (once
        Cinder's own operations have finished)."""
        self.settle()
        ours = [n for n in SIM.volume_names() if n.startswith("os--")]
        snaps = [n for n in SIM.snapshot_names() if n.startswith("os--")]
        self.assertEqual(  # type: ignore[attr-defined]
            sorted(self._cinder_volume_names() & set(ours)), sorted(ours),
            f"volumes on the cluster that Cinder does not know: {ours}",
        )
        self.assertEqual(  # type: ignore[attr-defined]
            sorted(self._cinder_snapshot_names() & set(snaps)), sorted(snaps),
            f"snapshots on the cluster that Cinder does not know: {snaps}",
        )

    def clear_cluster(self) -> None:
        """Removes what a test left, so the next one starts from an empty cluster."""
        for name in SIM.all_snapshot_names():
            SIM.call("VolumesReassign", [{"snapshot": name, "detach": "all"}])
            SIM.call(f"SnapshotDelete/{name}", {})
        for name in SIM.volume_names():
            SIM.call("VolumesReassign", [{"volume": name, "detach": "all"}])
            SIM.call(f"VolumeDelete/{name}", {})


class StorPoolVolumesTest(test_volumes.VolumesTest, ClusterChecks):
    """Cinder's ``VolumesTest``, unchanged, with the storpool-rs driver on the simulator."""

    def _get_flags(self) -> dict:
        return _storpool_flags(super()._get_flags())

    def setUp(self) -> None:
        super().setUp()
        self.addCleanup(self.clear_cluster)

    def tearDown(self) -> None:
        self.assert_cluster_matches_cinder()
        super().tearDown()


class StorPoolScenarios(functional_helpers._FunctionalTestBase, ClusterChecks):
    """Our scenarios, through Cinder's REST API."""

    _osapi_version = "3.60"
    _vol_type_name = "storpool_plain"

    def _get_flags(self) -> dict:
        flags = _storpool_flags(super()._get_flags())
        flags["default_volume_type"] = {"v": self._vol_type_name}
        # As a real deployment does: the types name the backend, which is what lets Cinder
        # create a volume of another type from a snapshot or volume of this backend.
        flags["volume_backend_name"] = {"v": BACKEND, "g": configuration.SHARED_CONF_GROUP}
        return flags

    def setUp(self) -> None:
        # One image service for the whole test (the harness's fake makes one per call), in
        # place before the API service starts (it keeps the one it finds).
        self.images = ImageService()
        self.mock_object(glance, "get_remote_image_service",
                         lambda ctx, ref: (self.images, ref))
        self.mock_object(glance, "get_default_image_service", lambda: self.images)
        super().setUp()
        # Cinder and os-brick run some steps (image checks, connector properties) through a
        # privileged helper (privsep), which the harness forbids starting as a daemon: run
        # them in this process instead.
        for context in (privsep.sys_admin_pctxt, brick_privileged.default):
            context.set_client_mode(False)
            self.addCleanup(context.set_client_mode, True)
        self.addCleanup(self.clear_cluster)
        self.plain = self.api.create_type(self._vol_type_name)
        self.api.create_volume_type_extra_specs(
            self.plain["id"], {"volume_backend_name": BACKEND})
        self.ssd = self.make_type("storpool_ssd", {"storpool_template": "ssd"})
        self.hdd = self.make_type("storpool_hdd", {"storpool_template": "hdd"})
        self.rep2 = self.make_type("storpool_rep2", {"storpool_replication": "2"})
        self.driver = self.volume.manager.driver
        # Attaches on this node (image copies, migrations) find the simulator's devices.
        mapping = brick_connector.get_connector_mapping()
        restore = mock.patch.dict(mapping)
        restore.start()
        self.addCleanup(restore.stop)
        defaults = mock.patch.dict(os_brick._DEFAULTS)
        defaults.start()
        self.addCleanup(defaults.stop)
        os_brick.register(device_root=str(SIM.dev_root))

    def tearDown(self) -> None:
        self.assert_cluster_matches_cinder()
        super().tearDown()

    # Helpers -----------------------------------------------------------------------

    def make_type(self, name: str, extra_specs: dict) -> dict:
        """A volume type with extra specs (the harness's `create_type` drops them)."""
        volume_type = self.api.create_type(name)
        self.api.create_volume_type_extra_specs(
            volume_type["id"], {"volume_backend_name": BACKEND, **extra_specs})
        return volume_type

    def wait(self, get, until, what: str) -> dict:
        """Polls ``get()`` until ``until(resource)``; fails with the last state seen."""
        deadline = time.monotonic() + DEADLINE
        last = None
        while time.monotonic() < deadline:
            try:
                last = get()
            except client.OpenStackApiException404:
                last = None
            if until(last):
                return last
            time.sleep(POLL)
        self.fail(f"{what}: still {last!r} after {DEADLINE} s")

    def wait_volume(self, volume_id: str, status: str = "available") -> dict:
        volume = self.wait(
            lambda: self.api.get_volume(volume_id),
            lambda v: v is not None and v["status"] not in PASSING | {"maintenance"}
            and v.get("migration_status") in (None, "success", "error"),
            f"volume {volume_id}",
        )
        self.assertEqual(status, volume["status"], volume)
        return volume

    def wait_gone(self, get, what: str) -> None:
        self.wait(get, lambda r: r is None, f"{what} to be deleted")

    def create_volume(self, size: int = 1, **fields) -> dict:
        body = {"size": size, **fields}
        created = self.api.post_volume({"volume": body})
        return self.wait_volume(created["id"])

    def delete_volume(self, volume_id: str) -> None:
        self.api.delete_volume(volume_id)
        self.wait_gone(lambda: self.api.get_volume(volume_id), f"volume {volume_id}")

    def create_snapshot(self, volume_id: str) -> dict:
        created = self.api.post_snapshot({"snapshot": {"volume_id": volume_id}})
        snapshot = self.wait(
            lambda: self.api.get_snapshot(created["id"]),
            lambda s: s is not None and s["status"] != "creating",
            f"snapshot {created['id']}",
        )
        self.assertEqual("available", snapshot["status"], snapshot)
        return snapshot

    def delete_snapshot(self, snapshot_id: str) -> None:
        self.api.delete_snapshot(snapshot_id)
        self.wait_gone(lambda: self.api.get_snapshot(snapshot_id), f"snapshot {snapshot_id}")

    def action(self, volume_id: str, body: dict) -> None:
        self.api.api_post(f"/volumes/{volume_id}/action", body,
                          check_response_status=[200, 202])

    def cluster_volume(self, volume_id: str) -> dict:
        return SIM.volume(self.driver._native.volume_name(volume_id))

    def pool_of(self, volume_id: str) -> str:
        return self.api.get_volume(volume_id)["os-vol-host-attr:host"].split("#", 1)[1]

    def write_device(self, volume_id: str, data: bytes) -> None:
        """Writes through the simulator's emulated device of this node (client 1)."""
        name = self.driver._native.volume_name(volume_id)
        SIM.call("VolumesReassign", [{"volume": name, "rw": [1]}])
        with open(SIM.dev_root / "storpool" / name, "r+b") as device:
            device.write(data)
        SIM.call("VolumesReassign", [{"volume": name, "detach": "all"}])

    def read_device(self, volume_id: str, length: int) -> bytes:
        name = self.driver._native.volume_name(volume_id)
        SIM.call("VolumesReassign", [{"volume": name, "ro": [1]}])
        with open(SIM.dev_root / "storpool" / name, "rb") as device:
            data = device.read(length)
        SIM.call("VolumesReassign", [{"volume": name, "detach": "all"}])
        return data

    # Scenarios ---------------------------------------------------------------------

    def test_pools_report_templates_and_replications_for_the_scheduler(self):
        pools = self.api.api_get("/scheduler-stats/get_pools?detail=True")["pools"]
        by_pool = {p["name"].split("#", 1)[1]: p["capabilities"] for p in pools}
        self.assertEqual(
            sorted(by_pool),
            ["default", "replication_1", "replication_2", "template_hdd", "template_ssd"],
        )
        self.assertEqual("ssd", by_pool["template_ssd"]["storpool_template"])
        self.assertEqual("2", by_pool["template_hdd"]["storpool_replication"])
        self.assertEqual("3", by_pool["default"]["storpool_replication"])
        self.assertEqual("2", by_pool["replication_2"]["storpool_replication"])
        for capabilities in by_pool.values():
            self.assertEqual("StorPool", capabilities["vendor_name"])
            self.assertEqual("storpool", capabilities["storage_protocol"])
            self.assertTrue(capabilities["thin_provisioning_support"])
            self.assertTrue(capabilities["QoS_support"])
            self.assertGreater(capabilities["free_capacity_gb"], 0)

    def test_volume_types_choose_template_or_replication_and_the_pool(self):
        cases = [
            (self.ssd, "template_ssd", "ssd", 3),
            (self.hdd, "template_hdd", "hdd", 2),
            (self.rep2, "replication_2", "", 2),
            (self.plain, "default", "", 3),
        ]
        for volume_type, pool, template, replication in cases:
            volume = self.create_volume(1, volume_type=volume_type["id"])
            on_cluster = self.cluster_volume(volume["id"])
            self.assertEqual(template, on_cluster["templateName"], volume_type["name"])
            self.assertEqual(replication, on_cluster["replication"], volume_type["name"])
            self.assertEqual(pool, self.pool_of(volume["id"]))
            self.delete_volume(volume["id"])
        self.assertEqual([], SIM.volume_names())

    def test_boot_from_volume_flow_snapshot_then_instance_volumes(self):
        base = self.create_volume(1, volume_type=self.ssd["id"])
        self.write_device(base["id"], b"bootable image")
        golden = self.create_snapshot(base["id"])
        instances = [self.create_volume(2, snapshot_id=golden["id"]) for _ in range(3)]
        snapshot_name = self.driver._native.snapshot_name(golden["id"])
        for instance in instances:
            on_cluster = self.cluster_volume(instance["id"])
            self.assertEqual(snapshot_name, on_cluster["parentName"])
            self.assertEqual("ssd", on_cluster["templateName"], "the snapshot's template")
            self.assertEqual("template_ssd", self.pool_of(instance["id"]))
            self.assertEqual(2 << 30, on_cluster["size"])
            self.assertEqual(b"bootable image", self.read_device(instance["id"], 14))
        # Cinder's scheduler keeps a volume made from a snapshot in its source's pool, so a
        # type of another template is refused there; a retype afterwards moves it in place.
        refused = self.api.post_volume({"volume": {"size": 2, "snapshot_id": golden["id"],
                                                   "volume_type": self.hdd["id"]}})
        self.wait_volume(refused["id"], status="error")
        self.delete_volume(refused["id"])
        self.action(instances[0]["id"], {"os-retype": {"new_type": self.hdd["id"],
                                                       "migration_policy": "on-demand"}})
        self.wait(lambda: self.api.get_volume(instances[0]["id"]),
                  lambda v: v["status"] == "available" and v["volume_type"] == "storpool_hdd",
                  "the retype of an instance volume")
        self.assertEqual("hdd", self.cluster_volume(instances[0]["id"])["templateName"])
        self.assertEqual(b"bootable image", self.read_device(instances[0]["id"], 14))
        for instance in instances:
            self.delete_volume(instance["id"])
        self.delete_snapshot(golden["id"])
        self.delete_volume(base["id"])
        self.assertEqual([], SIM.volume_names())
        self.assertEqual([], SIM.snapshot_names())

    def test_clone_across_templates_leaves_no_transient_snapshot_and_extend_grows(self):
        source = self.create_volume(1, volume_type=self.ssd["id"])
        self.write_device(source["id"], b"source data")
        same = self.create_volume(1, source_volid=source["id"], volume_type=self.ssd["id"])
        self.assertEqual(b"source data", self.read_device(same["id"], 11))
        self.assertEqual([], SIM.snapshot_names(), "a clone within a template takes none")
        self.action(same["id"], {"os-extend": {"new_size": 3}})
        extended = self.wait_volume(same["id"])
        self.assertEqual(3, extended["size"])
        self.assertEqual(3 << 30, self.cluster_volume(same["id"])["size"])
        for volume_id in (same["id"], source["id"]):
            self.delete_volume(volume_id)

    def test_revert_to_the_latest_snapshot_brings_its_data_back(self):
        volume = self.create_volume(1)
        self.write_device(volume["id"], b"before")
        snapshot = self.create_snapshot(volume["id"])
        self.write_device(volume["id"], b"after!")
        self.action(volume["id"], {"revert": {"snapshot_id": snapshot["id"]}})
        self.wait_volume(volume["id"])
        self.assertEqual(b"before", self.read_device(volume["id"], 6))
        self.delete_snapshot(snapshot["id"])
        self.delete_volume(volume["id"])

    def test_retype_across_templates_changes_the_volume_in_place(self):
        volume = self.create_volume(1, volume_type=self.ssd["id"])
        before = self.cluster_volume(volume["id"])
        self.write_device(volume["id"], b"keep me")
        self.action(volume["id"], {"os-retype": {"new_type": self.hdd["id"],
                                                 "migration_policy": "on-demand"}})
        retyped = self.wait(
            lambda: self.api.get_volume(volume["id"]),
            lambda v: v["status"] == "available" and v["volume_type"] == "storpool_hdd",
            "the retype",
        )
        self.assertEqual("template_hdd", self.pool_of(volume["id"]))
        after = self.cluster_volume(volume["id"])
        self.assertEqual(before["globalId"], after["globalId"], "not copied: the same volume")
        self.assertEqual("hdd", after["templateName"])
        self.assertEqual(2, after["replication"])
        self.assertEqual(b"keep me", self.read_device(volume["id"], 7))
        # To a type that names a replication only: the volume keeps its template (a
        # template cannot be taken off a StorPool volume) and gets the replication.
        self.action(volume["id"], {"os-retype": {"new_type": self.plain["id"],
                                                 "migration_policy": "on-demand"}})
        self.wait(
            lambda: self.api.get_volume(volume["id"]),
            lambda v: v["status"] == "available" and v["volume_type"] == self._vol_type_name,
            "the second retype",
        )
        after = self.cluster_volume(volume["id"])
        self.assertEqual(before["globalId"], after["globalId"])
        self.assertEqual(3, after["replication"])
        self.assertEqual("template_hdd", self.pool_of(volume["id"]), "where it really is")
        self.assertEqual(retyped["id"], volume["id"])
        self.delete_volume(volume["id"])

    def test_migration_to_another_pool_of_the_backend_is_done_in_place(self):
        volume = self.create_volume(1, volume_type=self.plain["id"])
        before = self.cluster_volume(volume["id"])
        host = self.api.get_volume(volume["id"])["os-vol-host-attr:host"].split("#")[0]
        self.action(volume["id"], {"os-migrate_volume": {"host": f"{host}#template_hdd"}})
        migrated = self.wait(
            lambda: self.api.get_volume(volume["id"]),
            lambda v: v.get("migration_status") in ("success", "error"),
            "the migration",
        )
        self.assertEqual("success", migrated["migration_status"])
        self.assertEqual("template_hdd", self.pool_of(volume["id"]))
        after = self.cluster_volume(volume["id"])
        self.assertEqual(before["globalId"], after["globalId"], "moved in place, not copied")
        self.assertEqual("hdd", after["templateName"])
        self.delete_volume(volume["id"])

    def test_consistent_group_snapshots_and_groups_from_them(self):
        group_type = self.api.create_group_type("storpool_cg")
        self.api.create_group_type_specs(
            group_type["id"], {"consistent_group_snapshot_enabled": "<is> True"})
        group = self.api.post_group({"group": {"group_type": group_type["id"],
                                               "volume_types": [self.ssd["id"]]}})
        self.wait(lambda: self.api.get_group(group["id"]),
                  lambda g: g["status"] == "available", "the group")
        members = [self.create_volume(1, group_id=group["id"], volume_type=self.ssd["id"])
                   for _ in range(2)]
        for index, member in enumerate(members):
            self.write_device(member["id"], f"member {index}".encode())
        created = self.api.post_group_snapshot({"group_snapshot": {"group_id": group["id"]}})
        group_snapshot = self.wait(
            lambda: self.api.get_group_snapshot(created["id"]),
            lambda g: g["status"] != "creating",
            "the group snapshot",
        )
        self.assertEqual("available", group_snapshot["status"])
        snapshots = self.api.api_get(
            f"/snapshots/detail?group_snapshot_id={created['id']}")["snapshots"]
        self.assertEqual(2, len(snapshots))
        self.assertEqual(
            sorted(self.driver._native.snapshot_name(s["id"]) for s in snapshots),
            SIM.snapshot_names(),
        )
        copy = self.api.post_group_from_src(
            {"create-from-src": {"group_snapshot_id": created["id"]}})
        self.wait(lambda: self.api.get_group(copy["id"]),
                  lambda g: g["status"] != "creating", "the group from the snapshot")
        copies = self.api.api_get(f"/volumes/detail?group_id={copy['id']}")["volumes"]
        self.assertEqual(2, len(copies))
        contents = sorted(self.read_device(v["id"], 8) for v in copies)
        self.assertEqual([b"member 0", b"member 1"], contents)
        for group_id in (copy["id"],):
            self.api.delete_group(group_id, {"delete": {"delete-volumes": True}})
            self.wait_gone(lambda: self.api.get_group(group_id), "the copied group")
        self.api.delete_group_snapshot(created["id"])
        self.wait_gone(lambda: self.api.get_group_snapshot(created["id"]), "the group snapshot")
        self.api.delete_group(group["id"], {"delete": {"delete-volumes": True}})
        self.wait_gone(lambda: self.api.get_group(group["id"]), "the group")
        self.assertEqual([], SIM.volume_names())
        self.assertEqual([], SIM.snapshot_names())

    def test_manage_and_unmanage_an_existing_volume(self):
        SIM.call("VolumeCreate", {"name": "legacy-db", "size": 3 << 29, "replication": 2})
        host = self.volume.host
        listed = self.api.api_get(f"/manageable_volumes/detail?host={host}")
        names = [v["reference"]["source-name"] for v in listed["manageable-volumes"]]
        self.assertIn("legacy-db", names)
        entry = listed["manageable-volumes"][names.index("legacy-db")]
        self.assertEqual(2, entry["size"], "1.5 GiB is managed as 2 GiB")
        self.assertTrue(entry["safe_to_manage"])
        managed = self.api.post_manage_volume(
            host=f"{host}#default", ref={"source-name": "legacy-db"})["volume"]
        volume = self.wait_volume(managed["id"])
        self.assertEqual(2, volume["size"])
        on_cluster = self.cluster_volume(managed["id"])
        self.assertEqual(2 << 30, on_cluster["size"])
        self.assertNotIn("legacy-db", SIM.volume_names())
        self.action(managed["id"], {"os-unmanage": {}})
        self.wait_gone(lambda: self.api.get_volume(managed["id"]), "the unmanaged volume")
        self.assertEqual([f"unmanaged--{self.driver._native.volume_name(managed['id'])}"],
                         SIM.volume_names())

    def test_qos_specs_of_the_type_become_the_volumes_limits(self):
        qos = self.api.api_post("/qos-specs", {"qos_specs": {
            "name": "gold", "consumer": "back-end", "total_iops_sec": "5000",
            "total_bytes_sec": str(100 << 20)}})["qos_specs"]
        self.api.api_request(f"/qos-specs/{qos['id']}/associate?vol_type_id={self.ssd['id']}",
                             check_response_status=[202])
        volume = self.create_volume(1, volume_type=self.ssd["id"])
        on_cluster = self.cluster_volume(volume["id"])
        self.assertEqual(5000, on_cluster["iops"])
        self.assertEqual(100, on_cluster["bw"])
        self.delete_volume(volume["id"])

    def test_attachments_carry_the_compute_hosts_client_id(self):
        volume = self.create_volume(1)
        connector = {"host": "compute-1", "initiator": "iqn.unused", "ip": "10.0.0.7",
                     "platform": "x86_64", "os_type": "linux", "multipath": False}
        attachment = self.api.api_post("/attachments", {"attachment": {
            "volume_uuid": volume["id"], "connector": connector}})["attachment"]
        info = attachment["connection_info"]
        self.assertEqual("storpool", info["driver_volume_type"])
        self.assertEqual(7, info["client_id"])
        self.assertEqual(volume["id"], info["volume"])
        self.assertEqual("rw", info["access_mode"])
        self.api.api_delete(f"/attachments/{attachment['id']}")
        self.wait_volume(volume["id"])
        self.delete_volume(volume["id"])

    def test_generic_attach_on_the_volume_node_uses_the_storpool_rs_connector(self):
        volume = self.create_volume(1)
        ctx = cinder_context.get_admin_context()
        cinder_volume = objects.Volume.get_by_id(ctx, volume["id"])
        # What Cinder's generic copies (other image formats, migrations) do on this node.
        attach_info, _ = self.driver._attach_volume(
            ctx, cinder_volume, {"host": self.driver.host, "multipath": False})
        path = attach_info["device"]["path"]
        self.assertTrue(path.startswith(str(SIM.dev_root / "storpool-byid")), path)
        with open(path, "r+b") as device:
            device.write(b"copied image")
        self.driver._detach_volume(ctx, attach_info, cinder_volume, {})
        self.assertEqual([], SIM.attachments())
        self.assertEqual(b"copied image", self.read_device(volume["id"], 12))
        self.delete_volume(volume["id"])

    @unittest.skipUnless(os.geteuid() == 0, "Cinder runs qemu-img as root (its root helper)")
    def test_volume_from_an_image_and_upload_of_a_volume_as_an_image(self):
        with tempfile.TemporaryDirectory() as folder:
            raw = pathlib.Path(folder) / "disk.raw"
            with open(raw, "wb") as disk:
                disk.truncate(64 << 20)
                disk.write(b"cirros boot sector")
            qcow2 = pathlib.Path(folder) / "disk.qcow2"
            subprocess.run(["qemu-img", "convert", "-q", "-O", "qcow2", raw, qcow2], check=True)
            image = self.images.create(cinder_context.get_admin_context(), {
                "name": "cirros", "disk_format": "qcow2", "container_format": "bare",
                "status": "active", "visibility": "public", "min_disk": 0,
                "size": qcow2.stat().st_size}, data=io.BytesIO(qcow2.read_bytes()))
        volume = self.create_volume(1, imageRef=image["id"])
        self.assertEqual("true", volume["bootable"])
        self.assertEqual(b"cirros boot sector", self.read_device(volume["id"], 18))
        self.assertEqual([], SIM.attachments())

        self.write_device(volume["id"], b"changed by the instance")
        self.action(volume["id"], {"os-volume_upload_image": {
            "image_name": "saved", "disk_format": "qcow2", "container_format": "bare"}})
        self.wait_volume(volume["id"])
        saved = next(i for i in self.images.images.values() if i.get("name") == "saved")
        with tempfile.TemporaryDirectory() as folder:
            uploaded = pathlib.Path(folder) / "saved.qcow2"
            uploaded.write_bytes(self.images._imagedata[saved["id"]])
            back = pathlib.Path(folder) / "saved.raw"
            subprocess.run(["qemu-img", "convert", "-q", "-f", "qcow2", "-O", "raw",
                            uploaded, back], check=True)
            with open(back, "rb") as disk:
                self.assertEqual(b"changed by the instance", disk.read(23))
        self.assertEqual([], SIM.snapshot_names(), "the upload's temporary snapshot is gone")
        self.assertEqual([], SIM.attachments())
        self.delete_volume(volume["id"])

    @unittest.skipUnless(os.geteuid() == 0, "Cinder copies volumes with dd as root (its root helper)")
    def test_a_migration_with_a_host_copy_ends_with_the_data_under_the_original_name(self):
        # Cinder's generic migration: a new volume in the destination pool, the data copied
        # through attaches on this node, then update_migrated_volume renames it into place.
        volume = self.create_volume(1, volume_type=self.plain["id"])
        self.write_device(volume["id"], b"migrated data")
        before = self.cluster_volume(volume["id"])
        host = self.api.get_volume(volume["id"])["os-vol-host-attr:host"].split("#")[0]
        self.action(volume["id"], {"os-migrate_volume": {
            "host": f"{host}#template_hdd", "force_host_copy": True}})
        migrated = self.wait(
            lambda: self.api.get_volume(volume["id"]),
            lambda v: v.get("migration_status") in ("success", "error"),
            "the migration",
        )
        self.assertEqual("success", migrated["migration_status"])
        self.assertIsNone(migrated["os-vol-mig-status-attr:name_id"], "renamed into place")
        after = self.cluster_volume(volume["id"])
        self.assertNotEqual(before["globalId"], after["globalId"], "a copy, as asked")
        self.assertEqual("hdd", after["templateName"])
        self.assertEqual(b"migrated data", self.read_device(volume["id"], 13))
        # Cinder marks the migration a success before it asks for the source's deletion, which
        # it casts (asynchronously) to the volume service.
        expected = [self.driver._native.volume_name(volume["id"])]
        self.wait(SIM.volume_names, lambda names: names == expected,
                  "the source and the temporary volume gone")
        self.assertEqual([], SIM.attachments())
        self.delete_volume(volume["id"])
