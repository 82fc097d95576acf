"""An os-brick connector for StorPool volumes on the storpool-rs core.

:class:`StorPoolConnector` has the interface of os-brick's own StorPool connector
(``os_brick.initiator.connectors.storpool.StorPoolConnector``) and takes the same connection
data, the ``data`` member of what a StorPool Cinder driver's ``initialize_connection``
returns (``client_id``, ``volume``, ``access_mode``):

- ``connect_volume`` attaches the volume to this node and waits for its device, returning
  ``{"type": "block", "path": "/dev/storpool-byid/GLOBALID"}``;
- ``disconnect_volume`` detaches it, retrying while the device is still open (the last
  attempt forced, as os-brick does; ``force=True`` forces at once);
- ``extend_volume`` waits until the local device shows the new size and returns it;
- ``get_volume_paths``, ``get_search_path``, ``get_all_available_volumes`` and
  ``check_valid_device`` answer from the device links.

Unlike os-brick's, it reads ``$STORPOOL_CONF`` as well as ``/etc/storpool.conf``, waits for
the device link to appear instead of trusting the API alone, and says which field of bad
connection data is wrong. Calls run in eventlet's native thread pool when the process is
monkey-patched, so a device wait does not stall other greenthreads.

Nova and Cinder pick os-brick's connector by protocol name. :func:`register` makes the
``STORPOOL`` protocol use this class in the calling process (see docs/openstack.md for
how to do that in nova-compute).
"""

from __future__ import annotations

import errno
import logging
import os
from typing import Any, Optional

from os_brick import exception
from os_brick import initiator
from os_brick.initiator import connector as brick_connector
from os_brick.initiator.connectors import base
from os_brick import utils as brick_utils

import storpool_rs
from storpool_rs import _green

LOG = logging.getLogger(__name__)

#: The import path os-brick's connector mapping takes.
CLASS_PATH = "storpool_rs.os_brick.StorPoolConnector"

#: How many bytes :meth:`StorPoolConnector.check_valid_device` reads.
_PROBE_BYTES = 4096

#: Defaults for connectors built without these arguments (set by :func:`register`).
_DEFAULTS: dict = {}


def _brick_error(err: storpool_rs.StorPoolError) -> exception.BrickException:
    return exception.BrickException(str(err))


class StorPoolConnector(base.BaseLinuxConnector):
    """Attaches and detaches StorPool volumes on this node through the storpool-rs core."""

    def __init__(
        self,
        root_helper: Optional[str] = None,
        driver: Any = None,
        execute: Any = None,
        *args: Any,
        config: Optional[str] = None,
        device_root: Optional[str] = None,
        attach_timeout: Optional[float] = None,
        **kwargs: Any,
    ) -> None:
        """Reads storpool.conf (``config``, else ``$STORPOOL_CONF``, else
        ``/etc/storpool.conf``); this node's section must set ``SP_OURID``.

        ``device_root`` replaces ``/dev`` and ``attach_timeout`` (seconds, default 60)
        bounds the wait for a device; os-brick's own arguments are accepted as its
        connectors accept them.
        """
        super().__init__(root_helper, driver=driver, execute=execute, *args, **kwargs)
        if config is None:
            config = _DEFAULTS.get("config")
        if device_root is None:
            device_root = _DEFAULTS.get("device_root")
        if attach_timeout is None:
            attach_timeout = _DEFAULTS.get("attach_timeout")
        try:
            native = storpool_rs.Connector(
                config, device_root=device_root, attach_timeout=attach_timeout
            )
        except storpool_rs.StorPoolError as err:
            raise exception.BrickException(
                f"Could not initialize the StorPool connector: {err}"
            ) from err
        self._native = native
        self._calls = _green.offload(native)

    @staticmethod
    def get_connector_properties(root_helper: Optional[str], *args: Any, **kwargs: Any) -> dict:
        """Nothing beyond the generic properties: the client id comes from storpool.conf."""
        return {}

    def get_search_path(self) -> str:
        """Where volumes' name links appear: ``DEVROOT/storpool``."""
        return str(self._native.search_path())

    @brick_utils.connect_volume_prepare_result
    def connect_volume(self, connection_properties: dict) -> dict:
        """Attaches the volume the data names (``client_id``, ``volume``,
        ``access_mode``) and returns ``{"type": "block", "path": DEVICE}``."""
        try:
            attached = self._calls.connect_properties(connection_properties)
        except storpool_rs.StorPoolError as err:
            raise _brick_error(err) from err
        return {"type": "block", "path": attached["path"]}

    @brick_utils.connect_volume_undo_prepare_result(unlink_after=True)
    def disconnect_volume(
        self,
        connection_properties: dict,
        device_info: Optional[dict],
        force: bool = False,
        ignore_errors: bool = False,
    ) -> None:
        """Detaches the volume of ``device_path`` in the data, else of
        ``device_info["path"]``. Not attached here is success. With ``ignore_errors``
        (and ``force``), a failure is logged instead of raised."""
        try:
            self._calls.disconnect_properties(connection_properties, device_info, force)
        except storpool_rs.StorPoolError as err:
            if force and ignore_errors:
                LOG.warning("Ignoring a failed StorPool detach: %s", err)
                return
            raise _brick_error(err) from err

    @brick_utils.connect_volume_undo_prepare_result
    def extend_volume(self, connection_properties: dict) -> Optional[int]:
        """Waits until the local device shows the size the cluster reports and returns
        it; None (logged) when it never does."""
        volume = connection_properties.get("volume")
        if volume is None:
            raise exception.BrickException(
                "Invalid StorPool connection data: no `volume`"
            )
        try:
            return int(self._calls.extend(volume)["size_bytes"])
        except storpool_rs.ClusterError as err:
            if err.kind == "timeout":
                LOG.warning("The StorPool device did not show the new size: %s", err)
                return None
            raise _brick_error(err) from err
        except storpool_rs.StorPoolError as err:
            raise _brick_error(err) from err

    def get_volume_paths(self, connection_properties: dict) -> list:
        """The volume's name link, ``DEVROOT/storpool/NAME``, as a one-element list."""
        try:
            return [str(path) for path in self._native.volume_paths(connection_properties)]
        except storpool_rs.StorPoolError as err:
            raise _brick_error(err) from err

    def get_all_available_volumes(self, connection_properties: Optional[dict] = None) -> list:
        """The OpenStack ids of the volumes whose name links exist here."""
        try:
            return list(self._native.available_volumes())
        except storpool_rs.StorPoolError as err:
            raise _brick_error(err) from err

    def check_valid_device(self, path: str, run_as_root: bool = True) -> bool:
        """Whether the device can be read: its first 4 KiB, directly (falling back to
        os-brick's root-helper check when this process may not open it)."""
        try:
            fd = os.open(path, os.O_RDONLY | getattr(os, "O_CLOEXEC", 0))
        except PermissionError:
            return bool(super().check_valid_device(path, run_as_root))
        except OSError as err:
            LOG.debug("Device %s cannot be opened: %s", path, err)
            return False
        try:
            os.read(fd, _PROBE_BYTES)
            return True
        except OSError as err:
            if err.errno == errno.EACCES:
                return bool(super().check_valid_device(path, run_as_root))
            LOG.debug("Device %s cannot be read: %s", path, err)
            return False
        finally:
            os.close(fd)


def register(
    *,
    config: Optional[str] = None,
    device_root: Optional[str] = None,
    attach_timeout: Optional[float] = None,
) -> None:
    """Makes os-brick's ``STORPOOL`` protocol use :class:`StorPoolConnector` in this
    process (``InitiatorConnector.factory``, which Nova's and Cinder's attach code call),
    on every architecture os-brick supports StorPool on.

    The arguments given become the defaults of the connectors built from then on (the
    factory passes none of them): another storpool.conf, another device root than ``/dev``
    (a simulator's), another attach timeout. The Cinder driver calls it when it starts.
    """
    _DEFAULTS.update(
        (key, value)
        for key, value in (
            ("config", config),
            ("device_root", device_root),
            ("attach_timeout", attach_timeout),
        )
        if value is not None
    )
    for arch in (None, initiator.S390X, initiator.PPC64LE):
        mapping = brick_connector.get_connector_mapping(arch)
        if initiator.STORPOOL in mapping:
            mapping[initiator.STORPOOL] = CLASS_PATH
