"""pytest fixtures: a simulator per test, and storpool_rs objects aimed at it."""

from __future__ import annotations

import pytest

import storpool_rs
from simulator import Simulator

HOSTS = {"compute-1": 7, "compute-2": 8}

# Cinder's functional harness runs under `python -m unittest`, not pytest.
collect_ignore = ["functional"]


@pytest.fixture
def sim():
    """A fresh simulator serving client 1, with sections for compute-1 (7), compute-2 (8)."""
    with Simulator(hosts=HOSTS) as simulator:
        simulator.create_template("ssd", 3)
        simulator.create_template("hdd", 2)
        yield simulator


@pytest.fixture
def driver(sim):
    """A driver on `sim`, reading its storpool.conf."""
    return storpool_rs.Driver(str(sim.conf), own_hosts=["cinder-volume-host"])


@pytest.fixture
def connector(sim):
    """This node's connector on `sim` (client 1), devices under its device root."""
    return storpool_rs.Connector(
        str(sim.conf), device_root=str(sim.dev_root), attach_timeout=10
    )
