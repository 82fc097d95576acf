"""StorPool volumes for OpenStack and Python programs, on the storpool-rs Rust core.

- :class:`Driver`: the volume driver (create, delete, snapshot, clone, extend, revert,
  retype, migrate, group snapshots, manage, stats, connection info), one synchronous method
  per operation; the GIL is released while it works.
- :class:`Connector`: this node's side (attach, detach, resize, list) for hosts that run
  ``storpool_block``.
- :func:`import_image`, :func:`export_image`, :func:`image_info`: disk images into volumes
  and out of them with ``qemu-img`` (attach, copy, detach; Ctrl-C cleans up).
- :mod:`storpool_rs.cinder`: the Cinder volume driver class
  (``volume_driver = storpool_rs.cinder.StorPoolDriver``).
- :mod:`storpool_rs.os_brick`: an os-brick connector on :class:`Connector`.

Both classes read storpool.conf as the StorPool tools do (``$STORPOOL_CONF`` or
``/etc/storpool.conf``, its drop-ins, this node's section, the environment). Every error is
a :class:`StorPoolError` subclass with ``kind``, ``name`` and ``descr``. Log records go to
the ``storpool_rs`` logger.

Each call runs to its end on the calling thread, which drives its sockets itself; calls from
several threads run in parallel. One thread makes one call at a time: a call from a signal
handler that runs while the same thread waits in another call (an image copy) raises
``RuntimeError``.

Example::

    import storpool_rs

    driver = storpool_rs.Driver(template="ssd")
    volume = driver.create_volume("base", 10)
    driver.create_snapshot("base", "golden")
    driver.create_volume_from_snapshot("vm-1", "golden", 20)
    print(driver.connection_info("vm-1", "compute-1"))
"""

from storpool_rs._native import (
    ClusterError,
    ConfigurationError,
    ConflictError,
    Connector,
    Driver,
    InvalidInputError,
    NotFoundError,
    StorPoolError,
    __version__,
    export_image,
    image_info,
    import_image,
)

__all__ = [
    "ClusterError",
    "ConfigurationError",
    "ConflictError",
    "Connector",
    "Driver",
    "InvalidInputError",
    "NotFoundError",
    "StorPoolError",
    "__version__",
    "export_image",
    "image_info",
    "import_image",
]
