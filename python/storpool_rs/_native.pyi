"""Type stubs of the extension module `storpool_rs._native` (the Rust core's bindings)."""

from os import PathLike
from typing import Any, Mapping, Optional, Sequence, Tuple, TypedDict, Union

__version__: str

_Path = Union[str, "PathLike[str]"]
_Specs = Optional[Mapping[str, Union[str, int]]]

class Volume(TypedDict):
    """A volume as the cluster has it."""

    id: str
    name: str
    size_gib: int
    size_bytes: int
    template: Optional[str]
    replication: int
    global_id: str
    parent_snapshot: Optional[str]
    iops: Optional[int]
    bw: Optional[int]
    tags: dict[str, str]

class Snapshot(TypedDict):
    """A snapshot as the cluster has it."""

    id: str
    name: str
    volume: Optional[str]
    size_gib: int
    size_bytes: int
    template: Optional[str]
    global_id: str

class Deletion(TypedDict):
    """What a delete did: `existed` is False when it was already gone."""

    id: str
    name: str
    existed: bool

class GroupSnapshot(TypedDict):
    """A consistent snapshot of several volumes."""

    id: str
    snapshots: list[Snapshot]

class Template(TypedDict):
    """A StorPool template; the usage and capacity figures are None when the cluster did not
    report them."""

    name: str
    replication: Optional[int]
    place_all: Optional[str]
    place_tail: Optional[str]
    place_head: Optional[str]
    iops: Optional[int]
    bw: Optional[int]
    volumes: Optional[int]
    snapshots: Optional[int]
    capacity_bytes: Optional[int]
    free_bytes: Optional[int]
    provisioned_bytes: Optional[int]

class RetypeOutcome(TypedDict):
    """What a retype or a move to another pool did."""

    retyped: bool
    refused: Optional[dict[str, str]]
    changed: list[str]

class ConnectionInfo(TypedDict):
    """Cinder's connection info: `{"driver_volume_type": "storpool", "data": {...}}`."""

    driver_volume_type: str
    data: dict[str, Any]

class Attached(TypedDict):
    """What a connect did; `type` and `path` are os-brick's device info."""

    type: str
    path: str
    name_path: str
    object: str
    name: str
    global_id: str
    access_mode: str
    changed: bool
    waited_seconds: float
    elapsed_seconds: float

class Detached(TypedDict):
    """What a disconnect did; `changed` is False when it was not attached here."""

    object: str
    name: str
    global_id: Optional[str]
    changed: bool
    forced: bool
    attempts: int
    waited_seconds: float
    elapsed_seconds: float

class ImageInfo(TypedDict):
    """What `qemu-img info` says of an image."""

    path: str
    format: str
    virtual_size: int

class Imported(TypedDict):
    """What an import did: `created` is False when it wrote into an existing volume."""

    volume: Volume
    created: bool
    image: ImageInfo
    device: str
    seconds: float

class Exported(TypedDict):
    """What an export did."""

    id: str
    name: str
    file: str
    format: str
    virtual_size: int
    file_size: int
    snapshot: str
    seconds: float

class StorPoolError(Exception):
    """Base of every storpool_rs error."""

    kind: str
    name: Optional[str]
    descr: Optional[str]
    transient: bool
    operation: Optional[str]
    object: Optional[str]
    hints: list[str]

class InvalidInputError(StorPoolError):
    """A value given is not acceptable; nothing was asked of the cluster."""

class ConfigurationError(StorPoolError):
    """storpool.conf or the options are wrong or missing."""

class NotFoundError(StorPoolError):
    """The volume, snapshot or template does not exist."""

class ConflictError(StorPoolError):
    """An object of that name exists and is not the one asked for."""

class ClusterError(StorPoolError):
    """The cluster refused, timed out, could not be reached, or a device did not appear."""

class Driver:
    """The StorPool volume driver: one synchronous method per operation."""

    def __init__(
        self,
        config: Optional[_Path] = None,
        *,
        template: Optional[str] = None,
        replication: int = 3,
        prefix: Optional[str] = None,
        backend_name: Optional[str] = None,
        own_hosts: Optional[Sequence[str]] = None,
        node_name: Optional[str] = None,
        api_timeout: Optional[float] = None,
        api_retries: Optional[int] = None,
        multi_cluster: bool = True,
    ) -> None: ...
    @property
    def backend_name(self) -> str: ...
    @property
    def prefix(self) -> str: ...
    @property
    def api_url(self) -> str: ...
    def volume_name(self, volume_id: str) -> str: ...
    def snapshot_name(self, snapshot_id: str) -> str: ...
    def pool_name(self, specs: _Specs = None) -> str: ...
    def pool_of(self, volume: Mapping[str, Any]) -> str: ...
    def create_volume(self, volume_id: str, size_gib: int, specs: _Specs = None) -> Volume: ...
    def delete_volume(self, volume_id: str) -> Deletion: ...
    def extend_volume(self, volume_id: str, size_gib: int) -> Volume: ...
    def revert_volume(self, volume_id: str, snapshot_id: str, keep_size: bool = False) -> Volume: ...
    def get_volume(self, volume_id: str) -> Volume: ...
    def find_volume(self, volume_id: str) -> Optional[Volume]: ...
    def list_volumes(self) -> list[Volume]: ...
    def list_snapshots(self, volume_id: Optional[str] = None) -> list[Snapshot]: ...
    def get_snapshot(self, snapshot_id: str) -> Snapshot: ...
    def find_snapshot(self, snapshot_id: str) -> Optional[Snapshot]: ...
    def list_group_snapshots(self) -> list[GroupSnapshot]: ...
    def list_templates(self) -> list[Template]: ...
    def create_snapshot(self, volume_id: str, snapshot_id: str) -> Snapshot: ...
    def delete_snapshot(self, snapshot_id: str) -> Deletion: ...
    def create_volume_from_snapshot(
        self, volume_id: str, snapshot_id: str, size_gib: int, specs: _Specs = None
    ) -> Volume: ...
    def create_volume_from_group_snapshot(
        self,
        volume_id: str,
        group_id: str,
        source_volume_id: str,
        size_gib: int,
        specs: _Specs = None,
    ) -> Volume: ...
    def clone_volume(
        self, volume_id: str, source_volume_id: str, size_gib: int, specs: _Specs = None
    ) -> Volume: ...
    def retype_volume(
        self, volume_id: str, specs: _Specs = None, encryption_changed: bool = False
    ) -> RetypeOutcome: ...
    def move_to_pool(self, volume_id: str, pool: str, specs: _Specs = None) -> RetypeOutcome: ...
    def finish_migration(
        self, volume_id: str, temp_volume_id: str, temp_name_id: Optional[str] = None
    ) -> dict[str, Any]: ...
    def delete_migration_source(self, volume_id: str, name_id: str) -> Deletion: ...
    def create_group_snapshot(self, group_id: str, volume_ids: Sequence[str]) -> GroupSnapshot: ...
    def create_group_snapshot_of(
        self, group_id: str, members: Sequence[Tuple[str, str]]
    ) -> GroupSnapshot: ...
    def delete_group_snapshot(self, group_id: str) -> dict[str, Any]: ...
    def manageable_volumes(self) -> list[dict[str, Any]]: ...
    def manage_volume(self, volume_id: str, existing_name: str) -> Volume: ...
    def unmanage_volume(self, volume_id: str) -> dict[str, Any]: ...
    def stats(self) -> dict[str, Any]: ...
    def connection_info(self, volume_id: str, host: str) -> ConnectionInfo: ...
    def client_id(self, host: str) -> int: ...
    def validate_connector(self, host: str) -> bool: ...

class Connector:
    """This node's side: attach, detach, resize, list."""

    def __init__(
        self,
        config: Optional[_Path] = None,
        *,
        device_root: Optional[_Path] = None,
        attach_timeout: Optional[float] = None,
    ) -> None: ...
    @property
    def our_id(self) -> int: ...
    @property
    def device_root(self) -> str: ...
    def search_path(self) -> str: ...
    def connect(self, volume_id: str, mode: str = "rw") -> Attached: ...
    def connect_snapshot(self, snapshot_id: str) -> Attached: ...
    def connect_properties(self, properties: Mapping[str, Any]) -> Attached: ...
    def disconnect(self, volume_id: str, force: bool = False) -> Detached: ...
    def disconnect_snapshot(self, snapshot_id: str, force: bool = False) -> Detached: ...
    def disconnect_path(self, path: _Path, force: bool = False) -> Detached: ...
    def disconnect_properties(
        self,
        properties: Mapping[str, Any],
        device_info: Optional[Mapping[str, Any]] = None,
        force: bool = False,
    ) -> Detached: ...
    def extend(self, volume_id: str) -> dict[str, Any]: ...
    def volume_paths(self, properties: Mapping[str, Any]) -> list[str]: ...
    def available_volumes(self) -> list[str]: ...
    def list(self) -> list[dict[str, Any]]: ...

def image_info(path: _Path, image_format: Optional[str] = None) -> ImageInfo: ...
def import_image(
    driver: Driver,
    connector: Connector,
    volume_id: str,
    image: _Path,
    *,
    size_gib: Optional[int] = None,
    image_format: Optional[str] = None,
    specs: _Specs = None,
) -> Imported: ...
def export_image(
    driver: Driver,
    connector: Connector,
    volume_id: str,
    file: _Path,
    *,
    image_format: str = "raw",
    replace: bool = False,
) -> Exported: ...
