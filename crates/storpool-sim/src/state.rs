//! A typed, read-only copy of the cluster state for test assertions.

use std::collections::BTreeMap;
use std::path::PathBuf;

use crate::model::{Cluster, Obj};

/// The cluster at one instant (see [`crate::SimHandle::state`]).
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct ClusterState {
    /// The configuration generation.
    pub generation: u64,
    /// Volumes, in creation order.
    pub volumes: Vec<VolumeState>,
    /// Snapshots (including anonymous, transient and pending-deletion ones), in creation order.
    pub snapshots: Vec<SnapshotState>,
    /// Attachments.
    pub attachments: Vec<AttachmentState>,
    /// Templates.
    pub templates: Vec<TemplateState>,
    /// Placement groups: name to disk ids.
    pub placement_groups: BTreeMap<String, Vec<u32>>,
}

impl ClusterState {
    /// The volume of that name (or `~globalId`).
    pub fn volume(&self, name: &str) -> Option<&VolumeState> {
        self.volumes.iter().find(|v| v.name == name)
    }

    /// The snapshot of that name (or `~globalId`, or `*name` while its deletion is pending).
    pub fn snapshot(&self, name: &str) -> Option<&SnapshotState> {
        self.snapshots.iter().find(|s| s.name == name)
    }

    /// The template of that name.
    pub fn template(&self, name: &str) -> Option<&TemplateState> {
        self.templates.iter().find(|t| t.name == name)
    }
}

/// A volume.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct VolumeState {
    /// Name as listed (`~globalId` for unnamed volumes).
    pub name: String,
    /// Global id.
    pub global_id: String,
    /// Size in bytes.
    pub size: u64,
    /// Parent snapshot name.
    pub parent: Option<String>,
    /// Template name.
    pub template: Option<String>,
    /// Replication.
    pub replication: u8,
    /// Placement groups (all, tail, head).
    pub placement: (String, String, String),
    /// Tags.
    pub tags: BTreeMap<String, String>,
    /// The data file, if the volume holds data.
    pub data_path: Option<PathBuf>,
}

/// A snapshot.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
#[allow(clippy::struct_excessive_bools)] // the API's own flags
pub struct SnapshotState {
    /// Name as listed.
    pub name: String,
    /// Global id.
    pub global_id: String,
    /// Size in bytes.
    pub size: u64,
    /// Parent snapshot name.
    pub parent: Option<String>,
    /// Template name.
    pub template: Option<String>,
    /// Replication.
    pub replication: u8,
    /// Tags.
    pub tags: BTreeMap<String, String>,
    /// Generated name.
    pub auto_name: bool,
    /// Collected when childless.
    pub bound: bool,
    /// Internal (e.g. made by `baseOn`).
    pub transient: bool,
    /// Deletion pending.
    pub deleted: bool,
    /// Unix time of the automatic deletion, 0 for none.
    pub target_delete_date: i64,
    /// Names of the volumes and snapshots whose parent this is.
    pub children: Vec<String>,
}

/// An attachment.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct AttachmentState {
    /// Volume or snapshot name.
    pub name: String,
    /// Global id.
    pub global_id: String,
    /// A snapshot?
    pub snapshot: bool,
    /// Client id.
    pub client: u16,
    /// Read-write?
    pub rw: bool,
    /// Slot on the client.
    pub pos: u16,
}

/// A template.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct TemplateState {
    /// Name.
    pub name: String,
    /// Replication, if the template sets one.
    pub replication: Option<u8>,
    /// Placement groups (all, tail, head).
    pub placement: (String, String, String),
    /// Default size.
    pub size: Option<u64>,
}

fn parent(cl: &Cluster, o: &Obj) -> Option<String> {
    let p = cl.parent_name(o);
    (!p.is_empty()).then_some(p)
}

fn template(cl: &Cluster, o: &Obj) -> Option<String> {
    let t = cl.template_name(o.template);
    (!t.is_empty()).then_some(t)
}

pub(crate) fn capture(cl: &Cluster, data_path: impl Fn(&str) -> Option<PathBuf>) -> ClusterState {
    let mut volumes = Vec::new();
    let mut snapshots = Vec::new();
    let mut attachments = Vec::new();
    for o in cl.objects.values() {
        for (client, att) in &o.attachments {
            attachments.push(AttachmentState {
                name: o.display_name(),
                global_id: o.gid.to_string(),
                snapshot: o.snapshot,
                client: *client,
                rw: att.rw,
                pos: att.pos,
            });
        }
        if o.snapshot {
            snapshots.push(SnapshotState {
                name: o.display_name(),
                global_id: o.gid.to_string(),
                size: o.size,
                parent: parent(cl, o),
                template: template(cl, o),
                replication: o.replication,
                tags: o.tags.to_map(),
                auto_name: o.auto_name,
                bound: o.bound,
                transient: o.transient,
                deleted: o.deleted,
                target_delete_date: o.target_delete_date,
                children: cl.children(o.id).map(Obj::display_name).collect(),
            });
        } else {
            volumes.push(VolumeState {
                name: o.display_name(),
                global_id: o.gid.to_string(),
                size: o.size,
                parent: parent(cl, o),
                template: template(cl, o),
                replication: o.replication,
                placement: (
                    o.place_all.to_string(),
                    o.place_tail.to_string(),
                    o.place_head.to_string(),
                ),
                tags: o.tags.to_map(),
                data_path: data_path(&o.gid),
            });
        }
    }
    ClusterState {
        generation: cl.meta.generation,
        volumes,
        snapshots,
        attachments,
        templates: cl
            .templates
            .values()
            .map(|t| TemplateState {
                name: t.name.clone(),
                replication: t.replication,
                placement: (t.all().to_owned(), t.tail().to_owned(), t.head().to_owned()),
                size: t.size,
            })
            .collect(),
        placement_groups: cl
            .pgs
            .values()
            .map(|p| (p.name.clone(), p.disks.iter().copied().collect()))
            .collect(),
    }
}
