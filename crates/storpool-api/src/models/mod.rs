//! Serde models of requests and responses, one module per area.
//!
//! Responses ignore members they do not know (newer servers add fields) and keep names as
//! plain strings. Members the spec marks as always present are plain fields; optional ones are
//! `Option`s; the internal numbers (`id`, `flags`, ...) default to 0 when a server leaves them
//! out. Requests are plain structs with public fields and `Default` where every member is
//! optional; unset members are omitted, never sent as `null`.

/// Defines a volume-like response struct: the members common to volumes and snapshots
/// (`VolumeSummaryBase` and `VolumeLimits`) followed by the given ones.
macro_rules! volume_object {
    (
        $(#[$meta:meta])*
        pub struct $name:ident {
            $( $(#[$fmeta:meta])* pub $field:ident : $ty:ty, )*
        }
    ) => {
        $(#[$meta])*
        #[derive(Clone, Debug, PartialEq, serde::Deserialize, serde::Serialize)]
        #[serde(rename_all = "camelCase")]
        #[non_exhaustive]
        pub struct $name {
            /// Internal id (not to be relied upon).
            #[serde(default)]
            pub id: u64,
            /// The parent snapshot's name, `""` when there is none.
            pub parent_name: String,
            /// The template the settings come from, `""` when none.
            pub template_name: String,
            /// Size in bytes.
            pub size: u64,
            /// Number of copies kept.
            pub replication: u8,
            /// The global id (`d.n.a1z`), stable across renames.
            pub global_id: String,
            /// Placement group of all but the last replica.
            pub place_all: String,
            /// Placement group of the last replica (the one reads are served from).
            pub place_tail: String,
            /// Placement group of the first replica.
            pub place_head: String,
            /// Internal id of the parent snapshot.
            #[serde(default)]
            pub parent_volume_id: u64,
            /// Internal id of the original parent.
            #[serde(default)]
            pub original_parent_volume_id: u64,
            /// The id the object was created with.
            pub visible_volume_id: u64,
            /// Internal id of the template.
            #[serde(default)]
            pub template_id: u64,
            /// Number of objects (of up to 32 MiB) the data is split into.
            pub objects_count: u64,
            /// Creation time, unix seconds.
            pub creation_timestamp: i64,
            /// Internal flags.
            #[serde(default)]
            pub flags: u64,
            /// Tags (empty when the server leaves the member out).
            #[serde(default, skip_serializing_if = "crate::Tags::is_empty")]
            pub tags: crate::Tags,
            /// The cluster the object lives in (multicluster calls only).
            #[serde(default, skip_serializing_if = "Option::is_none")]
            pub cluster_name: Option<String>,
            /// The id of that cluster, e.g. `d.n` (multicluster calls only).
            #[serde(default, skip_serializing_if = "Option::is_none")]
            pub cluster_id: Option<String>,
            /// Whether several replicas may be placed on one server.
            #[serde(default, skip_serializing_if = "Option::is_none")]
            pub reuse_server: Option<bool>,
            /// Internal.
            #[serde(default)]
            pub first_not_parent_object_id: u64,
            /// Bandwidth limit.
            pub bw: crate::models::Limit,
            /// IOPS limit.
            pub iops: crate::models::Limit,
            /// How the limits are counted.
            #[serde(default, skip_serializing_if = "Option::is_none")]
            pub limit_type: Option<crate::models::LimitType>,
            $( $(#[$fmeta])* pub $field : $ty, )*
        }
    };
}

/// Defines a snapshot-like response struct: the volume members, the `SnapshotSummary`
/// members, then the given ones.
macro_rules! snapshot_object {
    (
        $(#[$meta:meta])*
        pub struct $name:ident {
            $( $(#[$fmeta:meta])* pub $field:ident : $ty:ty, )*
        }
    ) => {
        volume_object! {
            $(#[$meta])*
            pub struct $name {
                /// The snapshot's name: a name, a `*`-name while being deleted, an anonymous
                /// `VOLUME@N`, or `~GLOBALID` for unnamed snapshots.
                pub name: String,
                /// The volume this snapshot is the direct parent of, `"-"` when none.
                pub on_volume: String,
                /// Whether the name was generated (anonymous snapshot).
                pub auto_name: bool,
                /// Whether the snapshot is collected once it has no children and is not attached.
                pub bound: bool,
                /// Whether a deletion was requested but has not finished.
                pub deleted: bool,
                /// Whether the snapshot was created internally (e.g. for `baseOn`).
                pub transient: bool,
                /// Unix time at which StorPool deletes the snapshot by itself.
                #[serde(default, skip_serializing_if = "Option::is_none")]
                pub target_delete_date: Option<i64>,
                /// Whether its data is being transferred from a remote location.
                pub recovering_from_remote: bool,
                /// Whether it is a backup of a remote snapshot.
                #[serde(default, skip_serializing_if = "Option::is_none")]
                pub backup: Option<bool>,
                /// Visible id of the backed-up snapshot.
                #[serde(default, skip_serializing_if = "Option::is_none")]
                pub backup_of_visible_volume_id: Option<u64>,
                /// Global id of the backed-up volume.
                #[serde(default, skip_serializing_if = "Option::is_none")]
                pub backup_of_global_id: Option<String>,
                /// Internal.
                #[serde(default, skip_serializing_if = "Option::is_none")]
                pub created_from_visible_volume_id: Option<u64>,
                /// Internal.
                #[serde(default, skip_serializing_if = "Option::is_none")]
                pub created_from_global_id: Option<String>,
                /// Internal state of the data removal.
                #[serde(default, skip_serializing_if = "Option::is_none")]
                pub dematerialization_status: Option<String>,
                /// Why a requested deletion is pending (e.g. `multiple children`).
                #[serde(default, skip_serializing_if = "Option::is_none")]
                pub delete_blocked: Option<String>,
                /// Internal.
                #[serde(default, skip_serializing_if = "Option::is_none")]
                pub destroyed: Option<bool>,
                /// Internal.
                #[serde(default, skip_serializing_if = "Option::is_none")]
                pub volume_move_source: Option<bool>,
                /// Multicluster state (internal).
                #[serde(default, skip_serializing_if = "Option::is_none")]
                pub mc_state: Option<String>,
                /// Multicluster state value (internal).
                #[serde(default, skip_serializing_if = "Option::is_none")]
                pub mc_state_val: Option<i64>,
                $( $(#[$fmeta])* pub $field : $ty, )*
            }
        }
    };
}

mod attachments;
mod common;
mod disks;
mod placement;
mod services;
mod snapshots;
mod templates;
mod volumes;

pub use attachments::*;
pub(crate) use common::One;
pub use common::{ApiOk, Limit, LimitType, OnAttached, TemplateValue};
pub use disks::*;
pub use placement::*;
pub use services::*;
pub use snapshots::*;
pub use templates::*;
pub use volumes::*;
