"""storpool_rs.Connector and storpool_rs.os_brick against a real storpool-sim process."""

from __future__ import annotations

import os
import pathlib

import pytest

import storpool_rs


def test_connect_and_disconnect_a_volume_and_a_snapshot(driver, connector, sim):
    volume = driver.create_volume("v1", 1)
    attached = connector.connect("v1")
    assert attached["type"] == "block"
    assert attached["path"] == str(sim.dev_root / "storpool-byid" / volume["global_id"])
    assert attached["name_path"] == str(sim.dev_root / "storpool" / "os--volume-v1")
    assert (attached["access_mode"], attached["changed"]) == ("rw", True)
    assert os.path.exists(attached["path"])
    with open(attached["path"], "r+b") as device:
        device.write(b"hello")
    listed = connector.list()
    assert [(a["id"], a["access_mode"], a["present"]) for a in listed] == [("v1", "rw", True)]
    assert connector.available_volumes() == ["v1"]
    detached = connector.disconnect("v1")
    assert detached["changed"] is True
    assert not os.path.exists(attached["path"])
    assert connector.disconnect("v1")["changed"] is False

    driver.create_snapshot("v1", "s1")
    snap = connector.connect_snapshot("s1")
    assert snap["access_mode"] == "ro"
    with open(snap["path"], "rb") as device:
        assert device.read(5) == b"hello"
    connector.disconnect_snapshot("s1")
    assert sim.attachments() == []


def test_connection_properties_as_cinder_hands_them(driver, connector, sim):
    driver.create_volume("v2", 1)
    info = driver.connection_info("v2", "cinder-volume-host")
    attached = connector.connect_properties(info["data"])
    assert connector.volume_paths(info["data"]) == [str(sim.dev_root / "storpool" / "os--volume-v2")]
    connector.disconnect_properties(info["data"], {"type": "block", "path": attached["path"]})
    assert sim.attachments() == []
    with pytest.raises(storpool_rs.InvalidInputError, match="access_mode"):
        connector.connect_properties({"client_id": 1, "volume": "v2", "access_mode": "rx"})
    with pytest.raises(storpool_rs.InvalidInputError, match="volume"):
        connector.connect_properties({"client_id": 1, "access_mode": "rw"})


def test_extend_waits_for_the_local_device(driver, connector):
    driver.create_volume("v3", 1)
    connector.connect("v3")
    driver.extend_volume("v3", 2)
    extended = connector.extend("v3")
    assert extended["size_bytes"] == 2 << 30
    connector.disconnect("v3")


def test_a_node_without_sp_ourid_cannot_attach(sim, tmp_path):
    conf = tmp_path / "storpool.conf"
    conf.write_text("".join(
        line + "\n" for line in sim.conf.read_text().splitlines()
        if not line.startswith("SP_OURID") and not line.startswith("[")))
    with pytest.raises(storpool_rs.ConfigurationError, match="SP_OURID"):
        storpool_rs.Connector(str(conf))


def test_a_device_that_never_appears_is_a_timeout(driver, sim):
    driver.create_volume("v4", 1)
    # Client 1 is served (links appear) but this connector looks under another root.
    elsewhere = sim.folder / "elsewhere"
    elsewhere.mkdir()
    connector = storpool_rs.Connector(str(sim.conf), device_root=str(elsewhere),
                                      attach_timeout=0.5)
    with pytest.raises(storpool_rs.ClusterError) as err:
        connector.connect("v4")
    assert err.value.kind == "timeout"


os_brick = pytest.importorskip("storpool_rs.os_brick", reason="os-brick is not installed")


def test_the_os_brick_connector_attaches_as_os_bricks_own_does(driver, sim):
    volume = driver.create_volume("v5", 1)
    brick = os_brick.StorPoolConnector(None, config=str(sim.conf), device_root=str(sim.dev_root))
    data = driver.connection_info("v5", "cinder-volume-host")["data"]
    device = brick.connect_volume(data)
    assert device == {"type": "block",
                      "path": str(sim.dev_root / "storpool-byid" / volume["global_id"])}
    assert brick.check_valid_device(device["path"]) is True
    assert brick.get_search_path() == str(sim.dev_root / "storpool")
    assert brick.get_volume_paths(data) == [str(sim.dev_root / "storpool" / "os--volume-v5")]
    assert brick.get_all_available_volumes() == ["v5"]
    driver.extend_volume("v5", 2)
    assert brick.extend_volume(data) == 2 << 30
    brick.disconnect_volume(data, device)
    assert sim.attachments() == []
    assert brick.check_valid_device(device["path"]) is False
    assert os_brick.StorPoolConnector.get_connector_properties(None) == {}


def test_os_brick_errors_are_brick_exceptions(sim):
    from os_brick import exception

    brick = os_brick.StorPoolConnector(None, config=str(sim.conf), device_root=str(sim.dev_root))
    with pytest.raises(exception.BrickException, match="volume"):
        brick.connect_volume({"client_id": 1, "access_mode": "rw"})
    with pytest.raises(exception.BrickException, match="StorPool"):
        os_brick.StorPoolConnector(None, config=str(sim.folder / "missing.conf"))


def test_register_makes_os_bricks_factory_build_ours(sim, monkeypatch):
    from os_brick.initiator import connector as brick_connector

    monkeypatch.setenv("STORPOOL_CONF", str(sim.conf))
    mapping = brick_connector.get_connector_mapping()
    monkeypatch.setitem(mapping, "STORPOOL", mapping["STORPOOL"])
    os_brick.register()
    built = brick_connector.InitiatorConnector.factory("STORPOOL", None)
    assert isinstance(built, os_brick.StorPoolConnector)
    assert pathlib.Path(built.get_search_path()) == pathlib.Path("/dev/storpool")
