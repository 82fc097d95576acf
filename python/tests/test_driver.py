"""storpool_rs.Driver against a real storpool-sim process."""

from __future__ import annotations

import os
import threading
import time

import pytest

import storpool_rs
from simulator import Simulator

VOLUME_KEYS = {
    "id", "name", "size_gib", "size_bytes", "template", "replication", "global_id",
    "parent_snapshot", "iops", "bw", "tags",
}


def test_a_volumes_life_returns_plain_dicts_with_the_rust_field_names(driver, sim):
    volume = driver.create_volume("v1", 2, {"storpool_template": "hdd"})
    assert set(volume) == VOLUME_KEYS
    assert volume["name"] == "os--volume-v1"
    assert (volume["size_gib"], volume["size_bytes"]) == (2, 2 << 30)
    assert (volume["template"], volume["replication"]) == ("hdd", 2)
    assert driver.get_volume("v1") == volume
    assert driver.find_volume("v1") == volume
    assert driver.find_volume("nope") is None
    assert [v["id"] for v in driver.list_volumes()] == ["v1"]
    grown = driver.extend_volume("v1", 3)
    assert grown["size_bytes"] == 3 << 30
    assert driver.delete_volume("v1") == {"id": "v1", "name": "os--volume-v1", "existed": True}
    assert driver.delete_volume("v1")["existed"] is False
    assert sim.volume_names() == []


def test_a_type_chooses_template_or_replication_and_qos(driver, sim):
    driver.create_volume("a", 1, {"storpool_replication": 2, "total_iops_sec": "500"})
    on_cluster = sim.volume("os--volume-a")
    assert (on_cluster["templateName"], on_cluster["replication"]) == ("", 2)
    assert on_cluster["iops"] == 500
    assert driver.pool_name({"storpool_replication": "2"}) == "replication_2"
    assert driver.pool_name({"storpool_template": "ssd"}) == "template_ssd"
    assert driver.pool_name() == "default"
    assert driver.pool_of(driver.get_volume("a")) == "replication_2"


def test_snapshots_clones_and_reverts(driver, sim):
    driver.create_volume("base", 1, {"storpool_template": "ssd"})
    snapshot = driver.create_snapshot("base", "golden")
    assert snapshot["name"] == "os--snap--none--snapshot-golden"
    assert snapshot["volume"] == "os--volume-base"
    child = driver.create_volume_from_snapshot("vm-1", "golden", 2, {"storpool_template": "hdd"})
    assert (child["parent_snapshot"], child["template"]) == (snapshot["name"], "hdd")
    clone = driver.clone_volume("copy", "base", 1, {"storpool_template": "hdd"})
    assert clone["template"] == "hdd"
    # Across templates, the clone's parent is a snapshot bound to it: it goes with the clone.
    assert clone["parent_snapshot"] == "os--clone--none--snapshot-copy"
    assert sim.snapshot_names() == [clone["parent_snapshot"], snapshot["name"]]
    reverted = driver.revert_volume("base", "golden")
    assert reverted["id"] == "base"
    for volume_id in ("vm-1", "copy", "base"):
        driver.delete_volume(volume_id)
    driver.delete_snapshot("golden")
    assert sim.volume_names() == [] and sim.snapshot_names() == []


def test_retype_and_moves_between_pools_change_the_volume_in_place(driver, sim):
    created = driver.create_volume("v", 1, {"storpool_template": "ssd"})
    outcome = driver.retype_volume("v", {"storpool_template": "hdd"})
    assert outcome == {"retyped": True, "refused": None, "changed": ["template"]}
    refused = driver.retype_volume("v", {"storpool_template": "ssd"}, encryption_changed=True)
    assert refused["retyped"] is False
    assert refused["refused"] == {"reason": "encryption_change"}
    moved = driver.move_to_pool("v", "replication_1")
    assert moved["changed"] == ["replication"]
    unknown = driver.move_to_pool("v", "nowhere")
    assert unknown["refused"] == {"reason": "unknown_pool", "pool": "nowhere"}
    after = sim.volume("os--volume-v")
    assert after["globalId"] == created["global_id"]
    assert after["replication"] == 1


def test_group_snapshots_are_one_instant_and_their_members_are_snapshots(driver, sim):
    for volume_id in ("a", "b"):
        driver.create_volume(volume_id, 1)
    group = driver.create_group_snapshot_of("cg", [("a", "sa"), ("b", "sb")])
    assert [s["id"] for s in group["snapshots"]] == ["sa", "sb"]
    driver.create_volume_from_snapshot("c", "sb", 1)
    by_group = driver.create_group_snapshot("g2", ["a", "b"])
    assert [s["name"] for s in by_group["snapshots"]] == [
        "os--group--g2--snapshot-a", "os--group--g2--snapshot-b"]
    assert driver.delete_group_snapshot("g2")["deleted"] == [
        "os--group--g2--snapshot-a", "os--group--g2--snapshot-b"]


def test_manage_and_unmanage(driver, sim):
    sim.call("VolumeCreate", {"name": "legacy", "size": 1 << 30, "replication": 2})
    manageable = driver.manageable_volumes()
    assert [(v["name"], v["safe_to_manage"]) for v in manageable] == [("legacy", True)]
    managed = driver.manage_volume("m1", "legacy")
    assert managed["name"] == "os--volume-m1"
    released = driver.unmanage_volume("m1")
    assert released == {"id": "m1", "name": "unmanaged--os--volume-m1"}


def test_stats_have_cinders_shape_and_connection_info_the_hosts_client_id(driver):
    stats = driver.stats()
    assert stats["vendor_name"] == "StorPool"
    assert [p["pool_name"] for p in stats["pools"]] == [
        "default", "replication_1", "replication_2", "template_ssd", "template_hdd"]
    assert driver.connection_info("v1", "compute-1") == {
        "driver_volume_type": "storpool",
        "data": {"client_id": 7, "volume": "v1", "access_mode": "rw"},
    }
    assert driver.client_id("compute-2") == 8
    assert driver.validate_connector("compute-1") is True


def test_errors_are_typed_and_carry_the_clusters_answer(driver):
    with pytest.raises(storpool_rs.NotFoundError) as not_found:
        driver.get_volume("missing")
    err = not_found.value
    assert isinstance(err, storpool_rs.StorPoolError)
    assert (err.kind, err.name) == ("not_found", "objectDoesNotExist")
    assert "os--volume-missing" in err.descr
    assert err.operation == "read volume"
    assert err.object == "os--volume-missing"
    assert err.transient is False

    with pytest.raises(storpool_rs.InvalidInputError) as zero:
        driver.create_volume("z", 0)
    assert zero.value.kind == "invalid_input"
    assert zero.value.name is None
    assert "0 GiB" in str(zero.value)

    for bad_specs, text in [
        ({"storpool_template": "no.dots"}, "storpool_template"),
        ({"storpool_replication": "9"}, "storpool_replication"),
        ({"total_iops_sec": 1.5}, "total_iops_sec"),
        (["not", "a", "mapping"], "mapping"),
        ({1: "x"}, "keys must be str"),
    ]:
        with pytest.raises(storpool_rs.InvalidInputError, match=text):
            driver.create_volume("bad", 1, bad_specs)

    driver.create_volume("taken", 1, {"storpool_template": "ssd"})
    with pytest.raises(storpool_rs.ConflictError) as conflict:
        driver.create_volume("taken", 2, {"storpool_template": "ssd"})
    assert conflict.value.kind == "conflict"


def test_configuration_errors_name_the_file(tmp_path):
    missing = tmp_path / "none.conf"
    with pytest.raises(storpool_rs.ConfigurationError, match="none.conf"):
        storpool_rs.Driver(str(missing))
    bad = tmp_path / "bad.conf"
    bad.write_text("SP_API_HTTP_HOST=127.0.0.1\n")
    with pytest.raises(storpool_rs.ConfigurationError) as err:
        storpool_rs.Driver(str(bad))
    assert err.value.kind == "configuration"
    with pytest.raises(storpool_rs.InvalidInputError, match="api_timeout"):
        storpool_rs.Driver(str(bad), api_timeout=-1)


def test_the_token_is_in_no_error_and_no_repr(sim, driver):
    assert sim.token not in repr(driver)
    sim.conf.write_text(sim.conf.read_text().replace("SP_API_HTTP_PORT", "SP_API_HTTP_PORT=1\n#"))
    broken = storpool_rs.Driver(str(sim.conf), api_timeout=2, api_retries=0)
    with pytest.raises(storpool_rs.ClusterError) as err:
        broken.list_volumes()
    assert err.value.kind == "unavailable"
    assert sim.token not in str(err.value) and sim.token not in repr(err.value)


def test_calls_from_many_threads_run_at_once_on_one_driver(driver, sim):
    errors = []

    def work(n):
        try:
            driver.create_volume(f"t{n}", 1)
            driver.create_snapshot(f"t{n}", f"s{n}")
            driver.delete_snapshot(f"s{n}")
            driver.delete_volume(f"t{n}")
        except Exception as err:  # pragma: no cover - reported below
            errors.append(err)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert sim.volume_names() == [] and sim.snapshot_names() == []


def test_a_call_releases_the_gil_so_other_threads_run_meanwhile():
    # Every answer of this simulator takes 300 ms: a call holding the GIL would stop the
    # counting thread for that long.
    with Simulator(extra_args=["--fault-latency-ms", "300"]) as slow:
        driver = storpool_rs.Driver(str(slow.conf))
        ticks = []
        running = threading.Event()
        stop = threading.Event()

        def count():
            running.set()
            while not stop.is_set():
                ticks.append(time.monotonic())
                time.sleep(0.005)

        counter = threading.Thread(target=count)
        counter.start()
        running.wait()
        started = time.monotonic()
        driver.list_volumes()
        ended = time.monotonic()
        stop.set()
        counter.join()
    during = [t for t in ticks if started < t < ended]
    assert during, "no other thread ran while the call waited"


def test_a_forked_process_builds_its_own_runtime_and_driver(driver, sim):
    # As Cinder's launcher does: the parent used the driver, then forks workers.
    driver.create_volume("before-fork", 1)
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child reports through its exit status
        try:
            ok = [v["id"] for v in driver.list_volumes()] == ["before-fork"]
            driver.create_volume("in-child", 1)
            os._exit(0 if ok else 1)
        except BaseException:
            os._exit(2)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    assert sim.volume_names() == ["os--volume-before-fork", "os--volume-in-child"]
    assert len(driver.list_volumes()) == 2, "the parent's driver still works"


def test_snapshots_group_snapshots_and_templates_are_listed(driver):
    for volume_id in ("a", "b"):
        driver.create_volume(volume_id, 1)
    driver.create_snapshot("a", "s2")
    driver.create_snapshot("b", "s1")
    driver.create_group_snapshot("g1", ["a", "b"])
    assert [s["id"] for s in driver.list_snapshots()] == ["s1", "s2"]
    assert [s["id"] for s in driver.list_snapshots("a")] == ["s2"]
    with pytest.raises(storpool_rs.NotFoundError):
        driver.list_snapshots("nope")
    assert driver.get_snapshot("s2") == driver.list_snapshots("a")[0]
    assert driver.find_snapshot("s1")["volume"] == "os--volume-b"
    assert driver.find_snapshot("nope") is None
    with pytest.raises(storpool_rs.NotFoundError):
        driver.get_snapshot("nope")
    groups = driver.list_group_snapshots()
    assert [(g["id"], [s["id"] for s in g["snapshots"]]) for g in groups] == [("g1", ["a", "b"])]
    templates = {t["name"]: t for t in driver.list_templates()}
    assert {name: t["replication"] for name, t in templates.items()} == {"hdd": 2, "ssd": 3}
    assert templates["ssd"]["volumes"] == 0
