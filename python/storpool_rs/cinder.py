"""A Cinder volume driver for StorPool on the storpool-rs core.

Configure a backend with ``volume_driver = storpool_rs.cinder.StorPoolDriver``; the options
are the in-tree StorPool driver's: ``storpool_template`` (the template of volumes whose type
names none) and ``storpool_replication`` (their chain replication when no template applies,
default 3). A volume type's extra specs may set ``storpool_template`` and
``storpool_replication`` (a template wins over a replication); QoS comes from the type's
specs or its associated QoS specs (``total_iops_sec``, ``total_bytes_sec``,
``storpool:iops``, ``storpool:bw``). storpool.conf is read as the StorPool tools read it
(``$STORPOOL_CONF`` or ``/etc/storpool.conf``, its drop-ins, this node's section, the
environment).

Every operation is one call of :class:`storpool_rs.Driver`, which holds the logic (naming,
idempotent retries, clones across templates without leaked snapshots, retype in place,
crash-safe migrations, consistent group snapshots). Under eventlet the calls run in native
threads, so a slow cluster does not stall the volume service. Raw and qcow2 image copies use
storpool-rs's own (``storpool_rs.import_image`` / ``export_image``, as ``sp-volume`` does);
other attaches on this node (other image formats, volume migrations) go through
:class:`storpool_rs.os_brick.StorPoolConnector`, which the driver registers as os-brick's
``STORPOOL`` connector in the volume service when it starts.

Pools: ``default`` (untemplated volumes of the default replication), ``replication_N``
(untemplated volumes of another replication) and ``template_NAME`` per template; each reports
the ``storpool_template`` / ``storpool_replication`` values its volumes get, so Cinder's
scheduler places a type's volumes in the right pool, and a retype or migration between pools
of this backend changes the volume in place without copying data.
"""

from __future__ import annotations

import os
from typing import Any, Optional

from oslo_config import cfg
from oslo_log import log as logging

from cinder import exception
from cinder.i18n import _
from cinder.image import image_utils
from cinder import interface
from cinder import utils as cinder_utils
from cinder.objects import fields
from cinder.volume import configuration
from cinder.volume import driver
from cinder.volume import volume_types
from cinder.volume import volume_utils

import storpool_rs
from storpool_rs import _green

LOG = logging.getLogger(__name__)

storpool_opts = [
    cfg.StrOpt(
        "storpool_template",
        default=None,
        help="StorPool template of volumes whose volume type names none "
        "(volume types may set their own with the storpool_template extra spec).",
    ),
    cfg.IntOpt(
        "storpool_replication",
        default=3,
        help="Chain replication of volumes when no template applies (volume types may "
        "set their own with the storpool_replication extra spec); also what the free "
        "space in the stats is divided by.",
    ),
]

CONF = cfg.CONF
for _opt in storpool_opts:
    try:
        CONF.register_opt(_opt, group=configuration.SHARED_CONF_GROUP)
    except cfg.DuplicateOptError:
        # The in-tree StorPool driver registered options of the same names and meaning.
        pass

#: QoS specs apply to the backend when their consumer is one of these.
_BACKEND_QOS_CONSUMERS = ("back-end", "both")

#: Glance disk formats the storpool-rs image copies read and write; other formats and
#: containers take Cinder's generic path.
_IMAGE_FORMATS = ("raw", "qcow2")


def _ref_name(existing_ref: dict) -> str:
    """The cluster name a manage reference names: ``source-name``, or ``~`` and the
    global id of ``source-id``."""
    if existing_ref.get("source-name"):
        return str(existing_ref["source-name"])
    if existing_ref.get("source-id"):
        return "~" + str(existing_ref["source-id"])
    raise exception.ManageExistingInvalidReference(
        existing_ref=existing_ref,
        reason=_("give the StorPool volume's name as source-name or its global id as "
                 "source-id"),
    )


@interface.volumedriver
class StorPoolDriver(driver.VolumeDriver):
    """The StorPool volume driver, on the storpool-rs core (``storpool_rs.Driver``)."""

    VERSION = storpool_rs.__version__
    CI_WIKI_NAME = "StorPool_distributed_storage_CI"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.configuration.append_config_values(storpool_opts)
        self._native: Optional[storpool_rs.Driver] = None
        self._sp: Any = None
        self._connector: Optional[Any] = None

    @staticmethod
    def get_driver_options() -> list:
        """The options this driver adds to its backend's section."""
        return storpool_opts

    # Set-up ---------------------------------------------------------------------------

    def do_setup(self, context: Any) -> None:
        """Reads storpool.conf and builds the driver; bad settings fail the start-up."""
        backend_name = self.configuration.safe_get("volume_backend_name")
        try:
            self._native = storpool_rs.Driver(
                template=self.configuration.storpool_template,
                replication=self.configuration.storpool_replication,
                backend_name=backend_name or None,
                own_hosts=[h for h in (self.host, CONF.host) if h],
            )
        except storpool_rs.StorPoolError as err:
            LOG.error("The StorPool driver cannot start: %s", err)
            raise exception.VolumeDriverException(message=str(err)) from err
        self._sp = _green.offload(self._native)
        # Every StorPool attach of this service (Cinder's own volume copies for migrations
        # included, which do not go through the driver) uses the storpool-rs connector.
        from storpool_rs import os_brick

        os_brick.register()

    def check_for_setup_error(self) -> None:
        """Fails when :meth:`do_setup` could not build the driver."""
        if self._sp is None:
            raise exception.VolumeDriverException(
                message=_("the StorPool driver was not set up")
            )

    def _call(self, method: str, *args: Any) -> Any:
        """One operation of the core; its errors as Cinder's exceptions."""
        try:
            return getattr(self._sp, method)(*args)
        except storpool_rs.InvalidInputError as err:
            raise exception.InvalidInput(reason=str(err)) from err
        except storpool_rs.StorPoolError as err:
            raise exception.VolumeBackendAPIException(data=str(err)) from err

    # Volume types ---------------------------------------------------------------------

    @staticmethod
    def _type_specs(type_id: Optional[str]) -> dict:
        """A volume type's extra specs plus its back-end QoS specs (as ``qos:KEY``)."""
        if not type_id:
            return {}
        specs = dict(volume_types.get_volume_type_extra_specs(type_id) or {})
        qos = volume_types.get_volume_type_qos_specs(type_id).get("qos_specs")
        if qos and qos.get("consumer") in _BACKEND_QOS_CONSUMERS:
            for key, value in (qos.get("specs") or {}).items():
                bare = key[len("qos:"):] if key.startswith("qos:") else key
                specs["qos:" + bare] = value
        return specs

    def _specs(self, volume: Any) -> dict:
        return self._type_specs(volume.get("volume_type_id"))

    @staticmethod
    def _name_id(volume: Any) -> str:
        """The id the volume's data is named by on the cluster (its ``_name_id`` after a
        migration whose rename failed, else its id)."""
        return str(volume.get("_name_id") or volume["id"])

    def get_pool(self, volume: Any) -> str:
        """The pool of the volume's type."""
        return self._call("pool_name", self._specs(volume))

    def _placed(self, host: Optional[str], on_cluster: dict) -> Optional[dict]:
        """A model update that records the pool the volume is really in, when Cinder has
        it in another: a type without StorPool specs matches every pool, and a clone or a
        volume from a snapshot keeps its source's template."""
        if not host:
            return None
        pool = self._call("pool_of", on_cluster)
        if volume_utils.extract_host(host, "pool") == pool:
            return None
        backend = volume_utils.extract_host(host, "backend")
        LOG.debug("Volume %s is in pool %s, not %s", on_cluster["id"], pool, host)
        return {"host": volume_utils.append_host(backend, pool)}

    # Volumes --------------------------------------------------------------------------

    def create_volume(self, volume: Any) -> Optional[dict]:
        """Creates the volume with its type's template or replication and QoS; the
        destination of a migration goes to the pool it was sent to."""
        specs = self._specs(volume)
        created = self._call("create_volume", self._name_id(volume), int(volume["size"]), specs)
        pool = volume_utils.extract_host(volume.get("host"), "pool")
        if pool and str(volume.get("migration_status") or "").startswith("target:"):
            # The pool was chosen by whoever migrates the volume, not matched to the type.
            moved = self._call("move_to_pool", self._name_id(volume), pool, specs)
            if moved["retyped"]:
                return None
        return self._placed(volume.get("host"), created)

    def delete_volume(self, volume: Any) -> None:
        """Detaches the volume everywhere and deletes it; already gone is success.

        A record whose data has another id's name (``_name_id``: a migration's source, or a
        volume whose migration could not rename its data into place) is deleted through
        the core's migration rule: the old data goes, under whichever name it has, and
        the data of a finished migration never does (Cinder points the source record at
        the original id, which holds the migrated data once the names were swapped).
        """
        name_id = volume.get("_name_id")
        if name_id and name_id != volume["id"]:
            self._call("delete_migration_source", str(volume["id"]), str(name_id))
        else:
            self._call("delete_volume", str(volume["id"]))

    def extend_volume(self, volume: Any, new_size: int) -> None:
        """Grows the volume to ``new_size`` GiB."""
        self._call("extend_volume", self._name_id(volume), int(new_size))

    def create_cloned_volume(self, volume: Any, src_vref: Any) -> Optional[dict]:
        """Clones ``src_vref`` (copy on write; across templates through a transient
        snapshot that is never left behind)."""
        created = self._call(
            "clone_volume",
            self._name_id(volume),
            self._name_id(src_vref),
            int(volume["size"]),
            self._specs(volume),
        )
        return self._placed(volume.get("host"), created)

    def create_volume_from_snapshot(self, volume: Any, snapshot: Any) -> Optional[dict]:
        """Creates the volume from the snapshot (copy on write), with the volume type's
        template when it names one."""
        created = self._call(
            "create_volume_from_snapshot",
            self._name_id(volume),
            str(snapshot["id"]),
            int(volume["size"]),
            self._specs(volume),
        )
        return self._placed(volume.get("host"), created)

    def revert_to_snapshot(self, context: Any, volume: Any, snapshot: Any) -> None:
        """Reverts the volume to the snapshot's data."""
        self._call("revert_volume", self._name_id(volume), str(snapshot["id"]))

    # Snapshots ------------------------------------------------------------------------

    def create_snapshot(self, snapshot: Any) -> None:
        """Snapshots the snapshot's volume."""
        self._call("create_snapshot", self._name_id(snapshot.volume), str(snapshot["id"]))

    def delete_snapshot(self, snapshot: Any) -> None:
        """Detaches and deletes the snapshot; already gone is success."""
        self._call("delete_snapshot", str(snapshot["id"]))

    # Exports and connections: the compute node attaches through the API ---------------

    def create_export(self, context: Any, volume: Any, connector: Any) -> None:
        """Nothing to export: the attaching node asks the cluster itself."""

    def ensure_export(self, context: Any, volume: Any) -> None:
        """Nothing to export."""

    def remove_export(self, context: Any, volume: Any) -> None:
        """Nothing to export."""

    def validate_connector(self, connector: dict) -> bool:
        """The connector's host must have a StorPool client id."""
        host = connector.get("host")
        if not host:
            raise exception.InvalidConnectorException(missing="host")
        try:
            return bool(self._sp.validate_connector(host))
        except storpool_rs.StorPoolError as err:
            raise exception.InvalidConnectorException(
                missing=f"the StorPool client id (SP_OURID) of host {host}: {err}"
            ) from err

    def initialize_connection(self, volume: Any, connector: dict) -> dict:
        """``{"driver_volume_type": "storpool", "data": {"client_id", "volume",
        "access_mode"}}`` for the connector's host."""
        self.validate_connector(connector)
        return self._call("connection_info", self._name_id(volume), connector["host"])

    def terminate_connection(self, volume: Any, connector: Any, **kwargs: Any) -> None:
        """Nothing to do: the node detaches the volume through the API."""

    def _brick_connector(self) -> Any:
        if self._connector is None:
            from storpool_rs import os_brick

            self._connector = os_brick.StorPoolConnector(cinder_utils.get_root_helper())
        return self._connector

    def _connect_device(self, conn: dict) -> dict:
        """Attaches a volume on this node for Cinder's generic copies (other image formats,
        volume migrations) through the storpool-rs connector."""
        connector = self._brick_connector()
        device = connector.connect_volume(conn["data"])
        attach_info = {"conn": conn, "device": device, "connector": connector}
        if not connector.check_valid_device(device["path"]):
            raise exception.DeviceUnavailable(
                path=device["path"],
                attach_info=attach_info,
                reason=_("cannot read the StorPool device"),
            )
        return attach_info

    # Image copies: storpool-rs's (as sp-volume's), Cinder's generic path otherwise ------

    def _image_connector(self) -> Any:
        return self._brick_connector()._native

    def _images(self, function: str, *args: Any, image_id: str = "", **kwargs: Any) -> Any:
        """One image copy of the core (in a native thread under eventlet)."""
        try:
            return _green.call(
                getattr(storpool_rs, function),
                self._native,
                self._image_connector(),
                *args,
                **kwargs,
            )
        except storpool_rs.InvalidInputError as err:
            raise exception.ImageUnacceptable(image_id=image_id, reason=str(err)) from err
        except storpool_rs.StorPoolError as err:
            raise exception.VolumeBackendAPIException(data=str(err)) from err

    def copy_image_to_volume(
        self,
        context: Any,
        volume: Any,
        image_service: Any,
        image_id: str,
        disable_sparse: bool = False,
    ) -> None:
        """Downloads a raw or qcow2 image and writes it into the volume through
        storpool-rs (its format taken from Glance, never guessed; images with backing or
        other files refused; attached, copied, detached); other formats go Cinder's generic
        way."""
        disk_format = (image_service.show(context, image_id) or {}).get("disk_format")
        if disk_format not in _IMAGE_FORMATS:
            super().copy_image_to_volume(
                context, volume, image_service, image_id, disable_sparse=disable_sparse
            )
            return
        with image_utils.temporary_file(prefix="storpool-image-") as path:
            image_utils.fetch(context, image_service, image_id, path, None, None)
            image_utils.verify_glance_image_signature(context, image_service, image_id, path)
            imported = self._images(
                "import_image",
                self._name_id(volume),
                path,
                image_format=disk_format,
                image_id=image_id,
            )
        LOG.info(
            "Image %s (%s, %d bytes) written into volume %s in %.1f s",
            image_id, disk_format, imported["image"]["virtual_size"], volume["id"],
            imported["seconds"],
        )

    def copy_volume_to_image(
        self, context: Any, volume: Any, image_service: Any, image_meta: dict
    ) -> None:
        """Uploads the volume as a raw or qcow2 image, read from a temporary snapshot (the
        volume may stay in use); other formats and containers go Cinder's generic way."""
        disk_format = image_meta.get("disk_format")
        container = image_meta.get("container_format")
        if disk_format not in _IMAGE_FORMATS or container not in (None, "bare"):
            super().copy_volume_to_image(context, volume, image_service, image_meta)
            return
        store_id = None
        if volume.get("volume_type"):
            store_id = volume.volume_type.extra_specs.get("image_service:store_id")
        base_image_ref = None
        if volume.get("glance_metadata"):
            base_image_ref = volume.glance_metadata.get("image_id")
        with image_utils.temporary_dir() as folder:
            path = os.path.join(folder, "image")
            exported = self._images(
                "export_image",
                self._name_id(volume),
                path,
                image_format=disk_format,
                image_id=image_meta["id"],
            )
            with open(path, "rb") as image_file:
                image_service.update(
                    context,
                    image_meta["id"],
                    {},
                    _green.offload(image_file),
                    store_id=store_id,
                    base_image_ref=base_image_ref,
                )
        LOG.info(
            "Volume %s uploaded as image %s (%s, %d bytes) in %.1f s",
            volume["id"], image_meta["id"], disk_format, exported["file_size"],
            exported["seconds"],
        )

    # Stats ----------------------------------------------------------------------------

    def _update_volume_stats(self) -> None:
        self._stats = self._call("stats")

    def get_volume_stats(self, refresh: bool = False) -> dict:
        """Capacity and capabilities: one pool for untemplated volumes of each
        replication and one per template."""
        if refresh or not self._stats:
            self._update_volume_stats()
        return self._stats

    # Retype and migration: in place, never a data copy within this backend ------------

    def retype(self, context: Any, volume: Any, new_type: Any, diff: dict, host: dict) -> Any:
        """Makes the volume match ``new_type`` in place (template or replication, QoS);
        False (Cinder migrates instead) for an encryption change or another backend."""
        name_id = self._name_id(volume)
        outcome = self._call(
            "retype_volume",
            name_id,
            self._type_specs(new_type["id"]),
            bool(diff.get("encryption")),
        )
        if not outcome["retyped"]:
            LOG.info("StorPool retype of %s refused: %s", volume["id"], outcome["refused"])
            return False
        return True, self._placed(host.get("host"), self._call("get_volume", name_id))

    def migrate_volume(self, context: Any, volume: Any, host: dict) -> tuple:
        """Moves the volume to another pool of this backend in place (its template or
        replication); any other destination is left to Cinder's generic migration."""
        destination = host.get("host") or ""
        ours = volume_utils.extract_host(volume["host"], "backend")
        if volume_utils.extract_host(destination, "backend") != ours:
            return False, None
        pool = volume_utils.extract_host(destination, "pool")
        if not pool:
            return False, None
        outcome = self._call("move_to_pool", self._name_id(volume), pool, self._specs(volume))
        return bool(outcome["retyped"]), None

    def update_migrated_volume(
        self, ctxt: Any, volume: Any, new_volume: Any, original_volume_status: str
    ) -> dict:
        """After a generic migration, gives the migrated data the original's name."""
        return self._call(
            "finish_migration",
            str(volume["id"]),
            str(new_volume["id"]),
            new_volume.get("_name_id"),
        )

    # Managing existing volumes --------------------------------------------------------

    def _existing(self, existing_ref: dict) -> dict:
        name = _ref_name(existing_ref)
        for candidate in self._call("manageable_volumes"):
            if candidate["name"] == name or "~" + candidate["global_id"] == name:
                return candidate
        raise exception.ManageExistingInvalidReference(
            existing_ref=existing_ref,
            reason=_("no StorPool volume of that name outside this driver's volumes"),
        )

    def manage_existing_get_size(self, volume: Any, existing_ref: dict) -> int:
        """The size (whole GiB, rounded up) the volume gets when managed."""
        return int(self._existing(existing_ref)["size_gib"])

    def manage_existing(self, volume: Any, existing_ref: dict) -> Optional[dict]:
        """Takes the StorPool volume over as this Cinder volume and gives it the type's
        template or replication and QoS."""
        found = self._existing(existing_ref)
        if not found["safe_to_manage"]:
            raise exception.ManageExistingInvalidReference(
                existing_ref=existing_ref, reason=found["reason_not_safe"]
            )
        self._call("manage_volume", str(volume["id"]), found["name"])
        self._call("retype_volume", str(volume["id"]), self._specs(volume), False)
        return self._placed(volume.get("host"), self._call("get_volume", str(volume["id"])))

    def unmanage(self, volume: Any) -> None:
        """Releases the volume: renamed out of this driver's names, its data kept."""
        self._call("unmanage_volume", self._name_id(volume))

    def get_manageable_volumes(
        self,
        cinder_volumes: list,
        marker: Any,
        limit: int,
        offset: int,
        sort_keys: list,
        sort_dirs: list,
    ) -> list:
        """The cluster's volumes outside this driver's names, with whether each is safe
        to manage."""
        entries = [
            {
                "reference": {"source-name": v["name"]},
                "size": v["size_gib"],
                "safe_to_manage": v["safe_to_manage"],
                "reason_not_safe": v["reason_not_safe"],
                "cinder_id": None,
                "extra_info": {"global_id": v["global_id"], "template": v["template"]},
            }
            for v in self._call("manageable_volumes")
        ]
        return volume_utils.paginate_entries_list(
            entries, marker, limit, offset, sort_keys, sort_dirs
        )

    # Groups: consistent group snapshots through VolumesGroupSnapshot -------------------

    @staticmethod
    def _consistent(group: Any) -> bool:
        return bool(volume_utils.is_group_a_cg_snapshot_type(group))

    def create_group(self, context: Any, group: Any) -> dict:
        """A consistent-snapshot group needs nothing on the cluster; other groups are
        Cinder's generic ones."""
        if not self._consistent(group):
            raise NotImplementedError()
        return {"status": fields.GroupStatus.AVAILABLE}

    def delete_group(self, context: Any, group: Any, volumes: list) -> tuple:
        """Deletes the group's volumes."""
        if not self._consistent(group):
            raise NotImplementedError()
        updates = []
        status = fields.GroupStatus.DELETED
        for volume in volumes:
            try:
                self.delete_volume(volume)
                updates.append({"id": volume["id"], "status": "deleted"})
            except exception.CinderException as err:
                LOG.error("Could not delete volume %s of group %s: %s",
                          volume["id"], group["id"], err)
                updates.append({"id": volume["id"], "status": "error_deleting"})
                status = fields.GroupStatus.ERROR_DELETING
        return {"status": status}, updates

    def update_group(
        self, context: Any, group: Any, add_volumes: Any = None, remove_volumes: Any = None
    ) -> tuple:
        """Membership lives in Cinder's database only."""
        if not self._consistent(group):
            raise NotImplementedError()
        return None, None, None

    def create_group_snapshot(self, context: Any, group_snapshot: Any, snapshots: list) -> tuple:
        """Snapshots every volume of the group at one instant; each member is an
        ordinary snapshot of its own id."""
        if not self._consistent(group_snapshot):
            raise NotImplementedError()
        members = [(self._name_id(s.volume), str(s["id"])) for s in snapshots]
        self._call("create_group_snapshot_of", str(group_snapshot["id"]), members)
        return (
            {"status": fields.GroupSnapshotStatus.AVAILABLE},
            [{"id": s["id"], "status": fields.SnapshotStatus.AVAILABLE} for s in snapshots],
        )

    def delete_group_snapshot(self, context: Any, group_snapshot: Any, snapshots: list) -> tuple:
        """Deletes the group snapshot's members."""
        if not self._consistent(group_snapshot):
            raise NotImplementedError()
        updates = []
        status = fields.GroupSnapshotStatus.DELETED
        for snapshot in snapshots:
            try:
                self.delete_snapshot(snapshot)
                updates.append({"id": snapshot["id"], "status": fields.SnapshotStatus.DELETED})
            except exception.CinderException as err:
                LOG.error("Could not delete snapshot %s: %s", snapshot["id"], err)
                updates.append({"id": snapshot["id"], "status": fields.SnapshotStatus.ERROR_DELETING})
                status = fields.GroupSnapshotStatus.ERROR_DELETING
        return {"status": status}, updates

    def create_group_from_src(
        self,
        context: Any,
        group: Any,
        volumes: list,
        group_snapshot: Any = None,
        snapshots: Optional[list] = None,
        source_group: Any = None,
        source_vols: Optional[list] = None,
    ) -> tuple:
        """Creates the group's volumes from a group snapshot's members or clones the
        source group's volumes."""
        if not self._consistent(group):
            raise NotImplementedError()
        # Cinder hands the sources in the order of the volumes made from them.
        if group_snapshot is not None and snapshots:
            for volume, snapshot in zip(volumes, snapshots):
                self.create_volume_from_snapshot(volume, snapshot)
        elif source_group is not None and source_vols:
            for volume, source in zip(volumes, source_vols):
                self.create_cloned_volume(volume, source)
        else:
            raise exception.InvalidInput(reason=_("no group snapshot or source group"))
        updates = [{"id": volume["id"], "status": "available"} for volume in volumes]
        return {"status": fields.GroupStatus.AVAILABLE}, updates

