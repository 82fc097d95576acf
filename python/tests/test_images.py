"""Image copies (storpool_rs.import_image / export_image / image_info) with the real qemu-img."""

from __future__ import annotations

import os
import pathlib
import shutil
import signal
import subprocess
import threading
import time

import pytest

import storpool_rs

pytestmark = pytest.mark.skipif(shutil.which("qemu-img") is None, reason="no qemu-img")

MIB = 1 << 20


def make_qcow2(folder: pathlib.Path, data: bytes, size: int = 4 * MIB) -> pathlib.Path:
    raw = folder / "disk.raw"
    with open(raw, "wb") as disk:
        disk.truncate(size)
        disk.write(data)
    image = folder / "disk.qcow2"
    subprocess.run(["qemu-img", "convert", "-q", "-f", "raw", "-O", "qcow2", raw, image],
                   check=True)
    return image


def test_import_then_export_round_trips_the_data(driver, connector, sim, tmp_path):
    image = make_qcow2(tmp_path, b"boot sector" * 100)
    info = storpool_rs.image_info(image, "qcow2")
    assert (info["format"], info["virtual_size"]) == ("qcow2", 4 * MIB)
    imported = storpool_rs.import_image(driver, connector, "img", image, image_format="qcow2",
                                        specs={"storpool_template": "hdd"})
    assert imported["created"] is True
    assert imported["volume"]["template"] == "hdd"
    assert imported["volume"]["size_gib"] == 1
    assert sim.attachments() == [], "detached after the copy"

    raw = tmp_path / "out.raw"
    exported = storpool_rs.export_image(driver, connector, "img", raw)
    assert exported["format"] == "raw"
    assert raw.read_bytes()[:1100] == b"boot sector" * 100
    again = tmp_path / "out.qcow2"
    storpool_rs.export_image(driver, connector, "img", again, image_format="qcow2")
    assert storpool_rs.image_info(again)["format"] == "qcow2"
    with pytest.raises(storpool_rs.InvalidInputError, match="exists"):
        storpool_rs.export_image(driver, connector, "img", raw)
    storpool_rs.export_image(driver, connector, "img", raw, replace=True)
    assert sim.snapshot_names() == [], "the export's temporary snapshots are gone"
    assert sim.attachments() == []


def test_images_reading_other_files_are_refused_with_hints(driver, connector, sim, tmp_path):
    secret = tmp_path / "secret"
    secret.write_bytes(b"s" * MIB)
    image = tmp_path / "evil.qcow2"
    subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", "-o",
                    f"data_file={secret},data_file_raw=on", image, "1M"], check=True)
    with pytest.raises(storpool_rs.InvalidInputError) as err:
        storpool_rs.import_image(driver, connector, "evil", image, image_format="qcow2")
    assert str(secret) in str(err.value)
    assert err.value.hints, "says how to make a self-contained copy"
    assert sim.volume_names() == []


def test_a_missing_qemu_img_is_a_configuration_error(driver, connector, tmp_path, monkeypatch):
    image = make_qcow2(tmp_path, b"x")
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    with pytest.raises(storpool_rs.ConfigurationError) as err:
        storpool_rs.image_info(image)
    assert err.value.kind == "missing_tool"


def slow_copy_onto_devices(tmp_path, monkeypatch) -> pathlib.Path:
    """Puts a qemu-img on PATH that sleeps a minute when it copies onto a StorPool device;
    returns the file that holds its pid once it sleeps."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    pid_file = tmp_path / "qemu-img.pid"
    fake = bin_dir / "qemu-img"
    fake.write_text(
        "#!/bin/sh\n"
        'case "$*" in *storpool-byid*) echo $$ > "%s.tmp"; mv "%s.tmp" "%s"; exec sleep 60;; esac\n'
        'exec "%s" "$@"\n' % (pid_file, pid_file, pid_file, shutil.which("qemu-img")))
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}:{os.environ['PATH']}")
    return pid_file


def signal_once_copying(pid_file: pathlib.Path, signum: int) -> None:
    """Sends `signum` to this process from another thread once `pid_file` exists."""
    def send():
        deadline = time.monotonic() + 30
        while not pid_file.exists() and time.monotonic() < deadline:
            time.sleep(0.01)
        os.kill(os.getpid(), signum)

    threading.Thread(target=send, daemon=True).start()


def test_ctrl_c_during_an_import_cleans_up_then_raises_keyboard_interrupt(
        driver, connector, sim, tmp_path, monkeypatch):
    image = make_qcow2(tmp_path, b"data")
    pid_file = slow_copy_onto_devices(tmp_path, monkeypatch)
    # Python leaves SIGINT ignored when it starts ignored (a background job of a script):
    # make Ctrl-C raise KeyboardInterrupt here whatever started the tests.
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    signal_once_copying(pid_file, signal.SIGINT)
    try:
        with pytest.raises(KeyboardInterrupt):
            storpool_rs.import_image(driver, connector, "slow", image, image_format="qcow2")
    finally:
        signal.signal(signal.SIGINT, previous)
    child = int(pid_file.read_text())
    assert not pathlib.Path(f"/proc/{child}").exists() or \
        "zombie" in pathlib.Path(f"/proc/{child}/status").read_text(), "qemu-img is stopped"
    assert sim.volume_names() == [], "the volume made for the image is deleted"
    assert sim.attachments() == []


def test_a_call_from_a_signal_handler_during_a_copy_is_a_runtime_error(
        driver, connector, sim, tmp_path, monkeypatch):
    # Python runs signal handlers while a copy waits; a handler calling the driver again on
    # the same thread gets an exception it can handle (it was a Rust panic).
    image = make_qcow2(tmp_path, b"data")
    pid_file = slow_copy_onto_devices(tmp_path, monkeypatch)
    seen: list[BaseException] = []

    def handler(signum, frame):
        try:
            driver.find_volume("from-the-handler")
        except BaseException as err:  # a PanicException is a BaseException
            seen.append(err)
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGUSR1, handler)
    signal_once_copying(pid_file, signal.SIGUSR1)
    try:
        with pytest.raises(KeyboardInterrupt):
            storpool_rs.import_image(driver, connector, "slow", image, image_format="qcow2")
    finally:
        signal.signal(signal.SIGUSR1, previous)
    assert len(seen) == 1
    assert type(seen[0]) is RuntimeError, repr(seen[0])
    assert "another one runs on the same thread" in str(seen[0])
    assert sim.volume_names() == [], "the volume made for the image is deleted"
    # The thread's runtime serves calls again once the copy is over.
    assert driver.find_volume("from-the-handler") is None
