//! Attachments: the listing and the reassign requests.

use serde::{Deserialize, Serialize, Serializer};

use crate::error::ApiError;
use crate::models::OnAttached;
use crate::names::{ClientId, SnapshotRef, VolumeRef};

/// One attachment of a volume or snapshot to a client (`AttachmentDesc`).
#[derive(Clone, Debug, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct Attachment {
    /// The volume's or snapshot's name (or `~GLOBALID`).
    pub volume: String,
    /// Whether it is a snapshot.
    pub snapshot: bool,
    /// The client id.
    pub client: u32,
    /// Read-write or read-only (always read-only for snapshots).
    pub rights: Rights,
    /// The attachment slot on the client, 0..=1023.
    pub pos: u32,
    /// The global id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub global_id: Option<String>,
    /// The cluster's name (multicluster calls only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cluster: Option<String>,
    /// The cluster's id (multicluster calls only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cluster_id: Option<String>,
}

/// Access rights of an attachment.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum Rights {
    /// Read-write.
    Rw,
    /// Read-only.
    Ro,
    /// A value this client does not know.
    #[serde(other)]
    Unknown,
}

/// Which clients to detach from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Detach {
    /// Every client (`"all"`); harmless when the object is not attached anywhere.
    All,
    /// These clients.
    Clients(Vec<ClientId>),
}

impl Serialize for Detach {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Self::All => serializer.serialize_str("all"),
            Self::Clients(clients) => clients.serialize(serializer),
        }
    }
}

/// Multicluster handling of a remote volume on attach.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum McMode {
    /// Move the volume to the local cluster (the server's default).
    Move,
    /// Leave it where it is and export it.
    Export,
}

/// One volume entry of a reassign request (`VolumeReassignDesc`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct VolumeReassign {
    /// The volume.
    pub volume: VolumeRef,
    /// Attach read-write on these clients.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rw: Option<Vec<ClientId>>,
    /// Attach read-only on these clients.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ro: Option<Vec<ClientId>>,
    /// Detach from these clients.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detach: Option<Detach>,
    /// Detach even if the device is open.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub force: Option<bool>,
    /// Allow attaching a volume exported from another cluster.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub allow_remote_exported: Option<bool>,
    /// Multicluster: what to do if the volume is attached in the remote cluster.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub on_remote_attached: Option<OnAttached>,
    /// Multicluster: move a remote volume here or export it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mc_mode: Option<McMode>,
}

impl VolumeReassign {
    /// An entry for `volume` that changes nothing yet.
    pub fn new(volume: impl Into<VolumeRef>) -> Self {
        Self {
            volume: volume.into(),
            rw: None,
            ro: None,
            detach: None,
            force: None,
            allow_remote_exported: None,
            on_remote_attached: None,
            mc_mode: None,
        }
    }
}

/// One snapshot entry of a reassign request (`SnapshotReassignDesc`); snapshots are always
/// attached read-only.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SnapshotReassign {
    /// The snapshot.
    pub snapshot: SnapshotRef,
    /// Attach read-only on these clients.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ro: Option<Vec<ClientId>>,
    /// Detach from these clients.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detach: Option<Detach>,
    /// Detach even if the device is open.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub force: Option<bool>,
}

impl SnapshotReassign {
    /// An entry for `snapshot` that changes nothing yet.
    pub fn new(snapshot: impl Into<SnapshotRef>) -> Self {
        Self {
            snapshot: snapshot.into(),
            ro: None,
            detach: None,
            force: None,
        }
    }
}

/// One entry of `VolumesReassign` / `VolumesReassignWait`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum ReassignEntry {
    /// A volume.
    Volume(VolumeReassign),
    /// A snapshot.
    Snapshot(SnapshotReassign),
}

impl ReassignEntry {
    /// Attach `volume` to `client` read-write (`rights` = [`Rights::Rw`]) or read-only.
    pub fn attach_volume(volume: impl Into<VolumeRef>, client: ClientId, rights: Rights) -> Self {
        let mut entry = VolumeReassign::new(volume);
        if rights == Rights::Rw {
            entry.rw = Some(vec![client]);
        } else {
            entry.ro = Some(vec![client]);
        }
        Self::Volume(entry)
    }

    /// Detach `volume` from `client`; `force` detaches even an open device.
    pub fn detach_volume(volume: impl Into<VolumeRef>, client: ClientId, force: bool) -> Self {
        Self::Volume(VolumeReassign {
            detach: Some(Detach::Clients(vec![client])),
            force: Some(force),
            ..VolumeReassign::new(volume)
        })
    }

    /// Detach `volume` from every client (what Cinder does before deleting).
    pub fn detach_volume_everywhere(volume: impl Into<VolumeRef>) -> Self {
        Self::Volume(VolumeReassign {
            detach: Some(Detach::All),
            ..VolumeReassign::new(volume)
        })
    }

    /// Attach `snapshot` to `client` read-only.
    pub fn attach_snapshot(snapshot: impl Into<SnapshotRef>, client: ClientId) -> Self {
        Self::Snapshot(SnapshotReassign {
            ro: Some(vec![client]),
            ..SnapshotReassign::new(snapshot)
        })
    }

    /// Detach `snapshot` from every client.
    pub fn detach_snapshot_everywhere(snapshot: impl Into<SnapshotRef>) -> Self {
        Self::Snapshot(SnapshotReassign {
            detach: Some(Detach::All),
            ..SnapshotReassign::new(snapshot)
        })
    }

    /// Checks that no client is asked for both read-write and read-only access.
    pub fn validate(&self) -> Result<(), ApiError> {
        if let Self::Volume(entry) = self
            && let (Some(rw), Some(ro)) = (&entry.rw, &entry.ro)
            && let Some(both) = rw.iter().find(|client| ro.contains(client))
        {
            return Err(ApiError::invalid(
                "client id",
                both.to_string(),
                format!(
                    "cannot be in both `rw` and `ro` for volume `{}`",
                    entry.volume
                ),
            ));
        }
        Ok(())
    }
}

impl From<VolumeReassign> for ReassignEntry {
    fn from(entry: VolumeReassign) -> Self {
        Self::Volume(entry)
    }
}

impl From<SnapshotReassign> for ReassignEntry {
    fn from(entry: SnapshotReassign) -> Self {
        Self::Snapshot(entry)
    }
}

/// `VolumesReassignWait` request (`VolumesReassignWaitDesc`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ReassignWait {
    /// The changes, applied in order.
    pub reassign: Vec<ReassignEntry>,
    /// Seconds to wait for missing clients: absent waits as long as needed, 0 does not wait.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub attach_timeout: Option<u64>,
}

impl ReassignWait {
    /// A request for these entries without `attachTimeout`.
    pub fn new(reassign: Vec<ReassignEntry>) -> Self {
        Self {
            reassign,
            attach_timeout: None,
        }
    }

    /// Checks every entry.
    pub fn validate(&self) -> Result<(), ApiError> {
        self.reassign.iter().try_for_each(ReassignEntry::validate)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn client(id: u64) -> ClientId {
        ClientId::new(id).unwrap()
    }

    #[test]
    fn entries_serialize_like_the_official_clients() {
        let volume = VolumeRef::new("os--volume-1").unwrap();
        let entries = vec![
            ReassignEntry::detach_volume_everywhere(volume.clone()),
            ReassignEntry::attach_volume(volume.clone(), client(3), Rights::Rw),
            ReassignEntry::detach_volume(VolumeRef::new("~d.n.a1z").unwrap(), client(3), false),
            ReassignEntry::attach_snapshot(SnapshotRef::new("s@1").unwrap(), client(4)),
            ReassignEntry::detach_snapshot_everywhere(SnapshotRef::new("s").unwrap()),
        ];
        assert_eq!(
            serde_json::to_value(&entries).unwrap(),
            serde_json::json!([
                {"volume": "os--volume-1", "detach": "all"},
                {"volume": "os--volume-1", "rw": [3]},
                {"volume": "~d.n.a1z", "detach": [3], "force": false},
                {"snapshot": "s@1", "ro": [4]},
                {"snapshot": "s", "detach": "all"},
            ])
        );
    }

    #[test]
    fn the_same_client_cannot_be_rw_and_ro() {
        let entry = ReassignEntry::Volume(VolumeReassign {
            rw: Some(vec![client(1), client(2)]),
            ro: Some(vec![client(2)]),
            ..VolumeReassign::new(VolumeRef::new("v").unwrap())
        });
        let err = ReassignWait::new(vec![entry]).validate().unwrap_err();
        assert_eq!(
            err.to_string(),
            "invalid client id `2`: cannot be in both `rw` and `ro` for volume `v`"
        );
    }
}
