"""A `storpool-sim` process for tests: a real StorPool API on a loopback port.

The binary comes from ``$STORPOOL_SIM`` or the workspace's ``target/{debug,release}``;
``scripts/python-tests.sh`` builds it. Each :class:`Simulator` has its own state, device
root and storpool.conf in a temporary folder, serves client 1 (this node) and knows the
extra host sections it was given.
"""

from __future__ import annotations

import json
import os
import pathlib
import shutil
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from typing import Any, Iterable, Mapping, Optional

REPO = pathlib.Path(__file__).resolve().parents[2]
START_TIMEOUT = 30.0


def simulator_binary() -> pathlib.Path:
    """The `storpool-sim` binary to run."""
    given = os.environ.get("STORPOOL_SIM")
    if given:
        return pathlib.Path(given)
    target = pathlib.Path(os.environ.get("CARGO_TARGET_DIR", REPO / "target"))
    candidates = [target / profile / "storpool-sim" for profile in ("debug", "release")]
    existing = [path for path in candidates if path.exists()]
    if not existing:
        raise RuntimeError(
            "no storpool-sim binary: run `cargo build -p storpool-sim-bin` "
            "or set STORPOOL_SIM"
        )
    return max(existing, key=lambda path: path.stat().st_mtime)


class Simulator:
    """A running simulator; use as a context manager, or call :meth:`stop`."""

    def __init__(
        self,
        hosts: Optional[Mapping[str, int]] = None,
        extra_args: Iterable[str] = (),
    ) -> None:
        self.folder = pathlib.Path(tempfile.mkdtemp(prefix="storpool-sim-"))
        self.state = self.folder / "state"
        self.dev_root = self.folder / "dev"
        self.dev_root.mkdir()
        self.conf = self.folder / "storpool.conf"
        self.log = self.folder / "sim.log"
        generated = self.folder / "generated.conf"
        args = [
            str(simulator_binary()),
            "--listen", "127.0.0.1:0",
            "--state", str(self.state),
            "--dev-root", str(self.dev_root),
            "--serve-client", "1",
            "--write-config", str(generated),
            "--no-sync",
            *extra_args,
        ]
        self._log_file = open(self.log, "wb")
        self.process = subprocess.Popen(
            args, stdout=subprocess.DEVNULL, stderr=self._log_file
        )
        deadline = time.monotonic() + START_TIMEOUT
        while not generated.exists() or not generated.read_text().endswith("\n"):
            if self.process.poll() is not None:
                raise RuntimeError(
                    f"storpool-sim exited with {self.process.returncode}: "
                    f"{self.log.read_text()}"
                )
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError("storpool-sim did not start in time")
            time.sleep(0.02)
        text = generated.read_text()
        self.vars = dict(
            line.split("=", 1)
            for line in text.splitlines()
            if "=" in line and not line.startswith("#")
        )
        sections = "".join(
            f"\n[{host}]\nSP_OURID={client_id}\n"
            for host, client_id in (hosts or {}).items()
        )
        self.conf.write_text(text + sections)
        self.url = (
            f"http://{self.vars['SP_API_HTTP_HOST']}:{self.vars['SP_API_HTTP_PORT']}"
        )
        self.token = self.vars["SP_AUTH_TOKEN"]

    def __enter__(self) -> "Simulator":
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def stop(self) -> None:
        """Stops the process and removes its folder."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._log_file.close()
        shutil.rmtree(self.folder, ignore_errors=True)

    def call(self, name: str, body: Any = None) -> Any:
        """One API call (GET without a body, POST with one); the answer's ``data``."""
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(
            f"{self.url}/ctrl/1.0/{name}",
            data=data,
            method="GET" if body is None else "POST",
            headers={"Authorization": f"Storpool v1:{self.token}"},
        )
        try:
            with urllib.request.urlopen(request, timeout=30) as answer:
                return json.load(answer)["data"]
        except urllib.error.HTTPError as err:
            raise RuntimeError(f"{name}: {err.code} {err.read().decode()}") from err

    def create_template(self, name: str, replication: int, placement: str = "default") -> None:
        """Creates template `name` with this replication on one placement group."""
        self.call(
            "VolumeTemplateCreate",
            {
                "name": name,
                "replication": replication,
                "placeAll": placement,
                "placeTail": placement,
                "placeHead": placement,
            },
        )

    def volume_names(self) -> list:
        """The names of every volume on the cluster."""
        return sorted(v["name"] for v in self.call("VolumesList"))

    def snapshot_names(self) -> list:
        """The names of the snapshots on the cluster, but those being deleted and the
        transient ones the cluster makes (for `baseOn`) and collects by itself."""
        return sorted(
            s["name"]
            for s in self.call("SnapshotsList")
            if not s.get("deleted") and not s.get("transient")
        )

    def all_snapshot_names(self) -> list:
        """The names of every snapshot on the cluster."""
        return sorted(s["name"] for s in self.call("SnapshotsList"))

    def volume(self, name: str) -> dict:
        """One volume as the cluster describes it."""
        return self.call(f"Volume/{name}")[0]

    def attachments(self) -> list:
        """What is attached where."""
        return self.call("AttachmentsList")
