//! What the operations return: plain serializable types with stable `snake_case` field names
//! (they deserialize too, for programs that read the JSON a tool printed).

use serde::{Deserialize, Serialize};
use storpool_api::{Limit, SnapshotSummary, Tags, VolumeSummary};

/// Bytes in one GiB (`2^30`): Cinder sizes are whole GiB.
pub const GIB: u64 = 1 << 30;

/// Whole GiB holding `bytes`, rounded up.
///
/// ```
/// use storpool_driver_core::{GIB, types::gib_ceil};
///
/// assert_eq!(gib_ceil(10 * GIB), 10);
/// assert_eq!(gib_ceil(10 * GIB + 1), 11);
/// assert_eq!(gib_ceil(0), 0);
/// ```
pub fn gib_ceil(bytes: u64) -> u64 {
    bytes.div_ceil(GIB)
}

/// A name the cluster reports as `""` when there is none (template, parent).
pub(crate) fn non_empty(name: &str) -> Option<String> {
    (!name.is_empty()).then(|| name.to_owned())
}

/// One of the driver's volumes as the cluster has it.
///
/// ```
/// use storpool_driver_core::Volume;
///
/// // What `sp-volume show --json` prints.
/// let json = r#"{"id": "1234", "name": "os--volume-1234", "size_gib": 10,
///     "size_bytes": 10737418240, "template": "ssd", "replication": 3, "global_id": "d.n.bsd",
///     "parent_snapshot": null, "iops": 5000, "bw": null, "tags": {}}"#;
/// let volume: Volume = serde_json::from_str(json)?;
/// assert_eq!((volume.size_gib, volume.template.as_deref()), (10, Some("ssd")));
/// assert_eq!(volume.bw, None); // unlimited
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Volume {
    /// The orchestrator's volume id.
    pub id: String,
    /// The name on the cluster, `{prefix}--volume-{id}`.
    pub name: String,
    /// The size in GiB (rounded up when it is not a whole number of GiB).
    pub size_gib: u64,
    /// The size in bytes.
    pub size_bytes: u64,
    /// The StorPool template, if the volume has one.
    pub template: Option<String>,
    /// Number of copies kept.
    pub replication: u8,
    /// The global id, stable across renames (`/dev/storpool-byid/{global_id}`).
    pub global_id: String,
    /// The parent snapshot's name on the cluster, if any.
    pub parent_snapshot: Option<String>,
    /// IOPS limit; `None` when unlimited.
    pub iops: Option<u64>,
    /// Bandwidth limit in MiB/s; `None` when unlimited.
    pub bw: Option<u64>,
    /// The volume's tags.
    pub tags: Tags,
}

impl Volume {
    /// [`Volume::from_summary`], taking the summary's strings instead of copying them.
    pub(crate) fn from_summary_owned(id: String, v: VolumeSummary) -> Self {
        Self {
            id,
            size_gib: gib_ceil(v.size),
            size_bytes: v.size,
            template: (!v.template_name.is_empty()).then_some(v.template_name),
            replication: v.replication,
            global_id: v.global_id,
            parent_snapshot: (!v.parent_name.is_empty()).then_some(v.parent_name),
            iops: Limit::value(v.iops),
            bw: Limit::value(v.bw),
            tags: v.tags,
            name: v.name,
        }
    }

    pub(crate) fn from_summary(id: &str, v: &VolumeSummary) -> Self {
        Self {
            id: id.to_owned(),
            name: v.name.clone(),
            size_gib: gib_ceil(v.size),
            size_bytes: v.size,
            template: non_empty(&v.template_name),
            replication: v.replication,
            global_id: v.global_id.clone(),
            parent_snapshot: non_empty(&v.parent_name),
            iops: Limit::value(v.iops),
            bw: Limit::value(v.bw),
            tags: v.tags.clone(),
        }
    }
}

/// One of the driver's snapshots as the cluster has it.
///
/// ```
/// use storpool_driver_core::Snapshot;
///
/// let json = r#"{"id": "77", "name": "os--snap--none--snapshot-77", "volume": "os--volume-1234",
///     "size_gib": 10, "size_bytes": 10737418240, "template": "ssd", "global_id": "d.n.bsx"}"#;
/// let snapshot: Snapshot = serde_json::from_str(json)?;
/// assert_eq!(snapshot.volume.as_deref(), Some("os--volume-1234"));
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Snapshot {
    /// The orchestrator's snapshot id (for a member of a group snapshot: the volume id).
    pub id: String,
    /// The name on the cluster.
    pub name: String,
    /// The volume (cluster name) it was taken of, while that volume still exists.
    pub volume: Option<String>,
    /// The size in GiB (rounded up).
    pub size_gib: u64,
    /// The size in bytes.
    pub size_bytes: u64,
    /// The StorPool template, if any.
    pub template: Option<String>,
    /// The global id.
    pub global_id: String,
}

impl Snapshot {
    pub(crate) fn from_summary(id: &str, s: &SnapshotSummary) -> Self {
        Self {
            id: id.to_owned(),
            name: s.name.clone(),
            volume: (s.on_volume != "-" && !s.on_volume.is_empty()).then(|| s.on_volume.clone()),
            size_gib: gib_ceil(s.size),
            size_bytes: s.size,
            template: non_empty(&s.template_name),
            global_id: s.global_id.clone(),
        }
    }
}

/// A StorPool template as the cluster has it, with its figures from `VolumeTemplatesStatus`
/// when the cluster gave them.
///
/// ```
/// use storpool_driver_core::{Template, capacity::gib};
///
/// // One of `sp-volume list-templates --json`; what the cluster did not give may be left out.
/// let json = r#"{"name": "hdd", "replication": 3, "place_all": "hdd", "free_bytes": 5368709120}"#;
/// let template: Template = serde_json::from_str(json)?;
/// assert_eq!(template.free_bytes.map(gib), Some(5.0));
/// assert_eq!(template.iops, None); // unlimited
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Template {
    /// The template's name.
    pub name: String,
    /// The replication of its volumes, when it sets one.
    pub replication: Option<u8>,
    /// The placement group of all replicas but the last, when it sets one.
    pub place_all: Option<String>,
    /// The placement group of the last replica (the one reads come from), when it sets one.
    pub place_tail: Option<String>,
    /// The placement group of the first replica, when it sets one.
    pub place_head: Option<String>,
    /// Its IOPS limit; `None` when unlimited.
    pub iops: Option<u64>,
    /// Its bandwidth limit in MiB/s; `None` when unlimited.
    pub bw: Option<u64>,
    /// How many volumes use it.
    pub volumes: Option<u64>,
    /// How many snapshots use it.
    pub snapshots: Option<u64>,
    /// What its placement groups can hold at its replication, in bytes of data.
    pub capacity_bytes: Option<u64>,
    /// What new volumes of it can still store, in bytes of data.
    pub free_bytes: Option<u64>,
    /// The sum of the sizes of its volumes, in bytes (thin provisioning: may exceed the
    /// capacity).
    pub provisioned_bytes: Option<u64>,
}

/// The result of a delete: done either way; `existed` tells whether there was anything to
/// delete.
///
/// ```
/// use storpool_driver_core::Deletion;
///
/// let json = r#"{"id": "1234", "name": "os--volume-1234", "existed": false}"#;
/// let deletion: Deletion = serde_json::from_str(json)?;
/// assert!(!deletion.existed); // it was already gone: still a success
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Deletion {
    /// The orchestrator's id.
    pub id: String,
    /// The name on the cluster.
    pub name: String,
    /// Whether the object existed when the call began (false: it was already gone). A delete
    /// retried after its answer was lost still reports true.
    pub existed: bool,
}

/// A consistent snapshot of several volumes, taken at one instant.
///
/// ```
/// use storpool_driver_core::GroupSnapshot;
///
/// let json = r#"{"id": "g1", "snapshots": [{"id": "v1", "name": "os--group--g1--snapshot-v1",
///     "volume": "os--volume-v1", "size_gib": 1, "size_bytes": 1073741824, "template": null,
///     "global_id": "d.n.bsy"}]}"#;
/// let group: GroupSnapshot = serde_json::from_str(json)?;
/// assert_eq!(group.snapshots[0].id, "v1"); // a member's id is its volume's id
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct GroupSnapshot {
    /// The orchestrator's group snapshot id.
    pub id: String,
    /// One snapshot per volume; each member's `id` is its volume's id.
    pub snapshots: Vec<Snapshot>,
}

/// The result of deleting a group snapshot.
///
/// ```
/// use storpool_driver_core::GroupDeletion;
///
/// let json = r#"{"id": "g1",
///     "deleted": ["os--group--g1--snapshot-v1", "os--group--g1--snapshot-v2"]}"#;
/// let deletion: GroupDeletion = serde_json::from_str(json)?;
/// assert_eq!(deletion.deleted.len(), 2);
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct GroupDeletion {
    /// The orchestrator's group snapshot id.
    pub id: String,
    /// The member snapshots that were deleted (cluster names).
    pub deleted: Vec<String>,
}

/// The answer to "finish a migration": Cinder's model update.
///
/// Serializes to `{"_name_id": null}` on success (the volume's data is under its own name
/// again), else to the id whose name still holds the data.
///
/// ```
/// use storpool_driver_core::MigrationUpdate;
///
/// let update: MigrationUpdate = serde_json::from_str(r#"{"_name_id": null}"#)?;
/// assert_eq!(update.name_id, None); // the data is under the volume's own name again
/// assert_eq!(serde_json::to_string(&update)?, r#"{"_name_id":null}"#);
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct MigrationUpdate {
    /// `None` on success; else the id that still holds the data.
    #[serde(rename = "_name_id")]
    pub name_id: Option<String>,
}

/// Why a retype or a move to another pool was refused (the orchestrator must migrate
/// instead).
///
/// ```
/// use storpool_driver_core::RetypeRefusal;
///
/// let json = r#"{"reason": "backend_change", "current": "storpool", "requested": "lvm"}"#;
/// match serde_json::from_str(json)? {
///     RetypeRefusal::BackendChange { requested, .. } => assert_eq!(requested, "lvm"),
///     other => panic!("another refusal: {other:?}"),
/// }
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "reason", rename_all = "snake_case")]
#[non_exhaustive]
pub enum RetypeRefusal {
    /// The encryption changes: data would have to be re-encrypted.
    EncryptionChange,
    /// The new type belongs to another backend.
    BackendChange {
        /// This driver's backend name.
        current: String,
        /// The backend the new type names.
        requested: String,
    },
    /// The destination is not a pool of this backend.
    UnknownPool {
        /// The pool asked for.
        pool: String,
    },
}

/// The outcome of a retype.
///
/// ```
/// use storpool_driver_core::{RetypeOutcome, RetypeRefusal};
///
/// let json = r#"{"retyped": false, "refused": {"reason": "encryption_change"}, "changed": []}"#;
/// let outcome: RetypeOutcome = serde_json::from_str(json)?;
/// assert_eq!(outcome.refused, Some(RetypeRefusal::EncryptionChange)); // migrate instead
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct RetypeOutcome {
    /// Whether the volume now matches the new type (false: refused, nothing was changed).
    pub retyped: bool,
    /// Why it was refused.
    pub refused: Option<RetypeRefusal>,
    /// What was changed on the cluster (`template`, `replication`, `iops`, `bw`); empty when
    /// the volume already matched.
    pub changed: Vec<String>,
}

/// A volume on the cluster that the driver does not manage (see `Driver::manageable`).
///
/// ```
/// use storpool_driver_core::ManageableVolume;
///
/// let json = r#"{"name": "legacy-db", "global_id": "d.n.bsz", "size_gib": 2,
///     "size_bytes": 1610612736, "template": null, "safe_to_manage": false,
///     "reason_not_safe": "attached to a client"}"#;
/// let candidate: ManageableVolume = serde_json::from_str(json)?;
/// assert_eq!(candidate.size_gib, 2); // 1.5 GiB, rounded up
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ManageableVolume {
    /// Its name on the cluster (or `~globalId` for an unnamed volume).
    pub name: String,
    /// Its global id.
    pub global_id: String,
    /// The size in GiB, rounded up: the size it gets when managed.
    pub size_gib: u64,
    /// The size in bytes.
    pub size_bytes: u64,
    /// Its template, if any.
    pub template: Option<String>,
    /// Whether managing it is safe.
    pub safe_to_manage: bool,
    /// Why not, when it is not safe.
    pub reason_not_safe: Option<String>,
}

/// The result of releasing a volume from the driver.
///
/// ```
/// use storpool_driver_core::{Naming, Unmanaged};
///
/// let json = r#"{"id": "1234", "name": "unmanaged--os--volume-1234"}"#;
/// let released: Unmanaged = serde_json::from_str(json)?;
/// assert_eq!(released.name, Naming::new("os")?.unmanaged(&released.id)?);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Unmanaged {
    /// The orchestrator's volume id it had.
    pub id: String,
    /// Its name on the cluster now, outside the driver's namespace.
    pub name: String,
}

/// What an orchestrator needs to attach a volume on a host (Cinder's `connection_info`):
/// serializes to `{"driver_volume_type": "storpool", "data": {"client_id": N, "volume": ID,
/// "access_mode": "rw"}}`.
///
/// ```
/// use storpool_driver_core::ConnectionInfo;
///
/// let json = r#"{"driver_volume_type": "storpool",
///     "data": {"client_id": 3, "volume": "1234", "access_mode": "rw"}}"#;
/// let info: ConnectionInfo = serde_json::from_str(json)?;
/// assert_eq!((info.data.client_id, info.data.volume.as_str()), (3, "1234"));
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ConnectionInfo {
    /// Always `storpool`.
    pub driver_volume_type: String,
    /// The connection data.
    pub data: ConnectionData,
}

/// The `data` member of [`ConnectionInfo`].
///
/// ```no_run
/// # async fn run(driver: storpool_driver_core::Driver) -> Result<(), Box<dyn std::error::Error>> {
/// let data = driver.connection_info("1234", "compute-1").await?.data;
/// // compute-1 attaches volume `data.volume` as StorPool client `data.client_id`.
/// assert_eq!(data.access_mode, "rw");
/// # Ok(())
/// # }
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ConnectionData {
    /// The host's StorPool client id (`SP_OURID` of its storpool.conf section).
    pub client_id: u16,
    /// The orchestrator's volume id.
    pub volume: String,
    /// Always `rw`.
    pub access_mode: String,
}

/// The backend's capabilities and capacity, in Cinder's stats shape.
///
/// ```no_run
/// # async fn run(driver: storpool_driver_core::Driver) -> Result<(), Box<dyn std::error::Error>> {
/// let stats = driver.stats().await?;
/// let default = stats.pools.iter().find(|pool| pool.pool_name == "default");
/// println!("{}: {:?} GiB free", stats.volume_backend_name, default.map(|p| p.free_capacity_gb));
/// # Ok(())
/// # }
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Stats {
    /// The backend name (the configured one, else `storpool`).
    pub volume_backend_name: String,
    /// Always `StorPool`.
    pub vendor_name: String,
    /// This crate's version.
    pub driver_version: String,
    /// Always `storpool`.
    pub storage_protocol: String,
    /// Volumes can be cloned across pools (templates): true.
    pub clone_across_pools: bool,
    /// Copies may skip zeroes: true.
    pub sparse_copy_volume: bool,
    /// `default`, `replication_{n}` for the other replications, and one pool per template
    /// (see [`crate::Driver::stats`]).
    pub pools: Vec<Pool>,
}

/// One pool: `default` (no template, the default replication), `replication_{n}` (no
/// template, another replication) or `template_{name}`.
///
/// ```no_run
/// # async fn run(driver: storpool_driver_core::Driver) -> Result<(), Box<dyn std::error::Error>> {
/// for pool in driver.stats().await?.pools {
///     // A template pool also knows what its own placement groups can still hold.
///     let free = pool.template_free_capacity_gb.unwrap_or(pool.free_capacity_gb);
///     println!("{}: {free:.1} GiB free", pool.pool_name);
/// }
/// # Ok(())
/// # }
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
#[allow(clippy::struct_excessive_bools)] // Cinder's capability flags
pub struct Pool {
    /// `default` or `template_{name}`.
    pub pool_name: String,
    /// Raw capacity of the disks that are up, GiB (the reference driver's cluster-wide
    /// figure, the same for every pool).
    pub total_capacity_gb: f64,
    /// Free space for new volumes, GiB: free allocation groups less metadata, divided by the
    /// default replication (the reference driver's cluster-wide figure).
    pub free_capacity_gb: f64,
    /// Always 0.
    pub reserved_percentage: u8,
    /// Volumes can be attached to several hosts: true.
    pub multiattach: bool,
    /// QoS limits from volume-type specs are supported: true (the reference says false).
    #[serde(rename = "QoS_support")]
    pub qos_support: bool,
    /// false.
    pub thick_provisioning_support: bool,
    /// true.
    pub thin_provisioning_support: bool,
    /// Group snapshots are taken at one instant (`VolumesGroupSnapshot`): true. Cinder's
    /// scheduler matches a group type's `consistent_group_snapshot_enabled` against it.
    pub consistent_group_snapshot_enabled: bool,
    /// The template of a `template_{name}` pool.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub storpool_template: Option<String>,
    /// The replication of the pool's volumes, as a string because Cinder's scheduler
    /// matches a type's `storpool_replication` spec (a string) against it; the template's
    /// own replication for a template pool (absent when the template sets none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub storpool_replication: Option<String>,
    /// Template pools: client-data capacity of the template's placement, GiB
    /// (`VolumeTemplatesStatus` `stored.capacity`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub template_total_capacity_gb: Option<f64>,
    /// Template pools: client-data free space of the template's placement, GiB
    /// (`stored.free`): what new volumes of this template can really still use.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub template_free_capacity_gb: Option<f64>,
    /// Template pools: provisioned size of the template's volumes, GiB (`size`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub template_provisioned_capacity_gb: Option<f64>,
}
