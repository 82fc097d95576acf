//! Services (`ServicesList`, `ServersList`) and client configuration status
//! (`ClientsConfigDump`, `ClientConfigWait`).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// The services of the cluster (`ClusterStatus`).
#[derive(Clone, Debug, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct ClusterStatus {
    /// `running`, `waiting` or `down`.
    pub cluster_status: String,
    /// Management services by id.
    pub mgmt: BTreeMap<u32, Service>,
    /// Clients by id (absent from `ServersList`).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub clients: BTreeMap<u32, Service>,
    /// Servers by id.
    pub servers: BTreeMap<u32, Service>,
    /// Remote-cluster bridges by id.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub bridges: BTreeMap<u32, Service>,
    /// iSCSI targets by id.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub iscsi_targets: BTreeMap<u32, Service>,
}

impl ClusterStatus {
    /// Whether the cluster says it is running.
    pub fn is_running(&self) -> bool {
        self.cluster_status == "running"
    }
}

/// One StorPool service (management, client, server, bridge, iSCSI target).
#[derive(Clone, Debug, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct Service {
    /// The service id (for clients: the client id).
    pub id: u32,
    /// The node it runs on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub node_id: Option<u32>,
    /// The running StorPool version.
    pub version: String,
    /// Start time, unix seconds (`null` when not running).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_time: Option<i64>,
    /// `running`, `down`, and per kind `waiting`, `booting`, `joining`.
    pub status: String,
    /// Management only: internal priority.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prio: Option<i64>,
    /// Management only: whether this instance is the active one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub active: Option<bool>,
    /// Servers only: disks the cluster waits for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub missing_disks: Option<Vec<u32>>,
    /// Servers only: disks ready and waiting for the missing ones.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pending_disks: Option<Vec<u32>>,
}

impl Service {
    /// Whether the status is `running`.
    pub fn is_running(&self) -> bool {
        self.status == "running"
    }
}

/// How far a client has applied the cluster configuration (`ClientConfigStatus`).
#[derive(Clone, Debug, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct ClientConfigStatus {
    /// The client id.
    pub id: u32,
    /// The cluster generation.
    pub generation: u64,
    /// The generation the client has applied.
    pub client_generation: u64,
    /// Whether an update is in progress.
    pub config_status: ConfigStatus,
    /// Time the client took to catch up (`ClientConfigWait` only; 0 in the dump).
    #[serde(default)]
    pub delay: i64,
}

/// A client's configuration state.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum ConfigStatus {
    /// Up to date.
    Ok,
    /// Applying a change.
    Updating,
    /// The client is down.
    Down,
    /// A value this client does not know.
    #[serde(other)]
    Unknown,
}
