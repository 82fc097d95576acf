//! What is attached (a volume or a snapshot, by orchestrator id) and how (read-write or
//! read-only).

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use storpool_api::Rights;

use crate::error::AttachError;

/// A volume or a snapshot.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ObjectKind {
    /// A volume (`{prefix}--volume-{id}`).
    Volume,
    /// A snapshot (`{prefix}--snap--none--snapshot-{id}`), always attached read-only.
    Snapshot,
}

impl ObjectKind {
    /// Whether this is [`ObjectKind::Snapshot`].
    pub fn is_snapshot(self) -> bool {
        self == Self::Snapshot
    }
}

impl fmt::Display for ObjectKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Volume => "volume",
            Self::Snapshot => "snapshot",
        })
    }
}

/// A volume or snapshot named by its orchestrator id (the OpenStack volume or snapshot id):
/// the cluster name is derived from it and the volume prefix.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Target {
    /// Volume or snapshot.
    pub kind: ObjectKind,
    /// The orchestrator id.
    pub id: String,
}

impl Target {
    /// The volume with orchestrator id `id`.
    pub fn volume(id: impl Into<String>) -> Self {
        Self {
            kind: ObjectKind::Volume,
            id: id.into(),
        }
    }

    /// The snapshot with orchestrator id `id`.
    pub fn snapshot(id: impl Into<String>) -> Self {
        Self {
            kind: ObjectKind::Snapshot,
            id: id.into(),
        }
    }
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} `{}`", self.kind, self.id)
    }
}

/// Access to an attached device: read-write or read-only (os-brick's `access_mode`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AccessMode {
    /// Read-write (`rw`).
    Rw,
    /// Read-only (`ro`).
    Ro,
}

impl AccessMode {
    /// Whether holding `self` is enough for a request of `wanted` (`rw` covers `ro`).
    pub fn covers(self, wanted: AccessMode) -> bool {
        self == Self::Rw || wanted == Self::Ro
    }

    /// The API's rights value.
    pub fn rights(self) -> Rights {
        match self {
            Self::Rw => Rights::Rw,
            Self::Ro => Rights::Ro,
        }
    }

    /// The mode of an API rights value; `None` for a value this client does not know.
    pub fn from_rights(rights: Rights) -> Option<Self> {
        match rights {
            Rights::Rw => Some(Self::Rw),
            Rights::Ro => Some(Self::Ro),
            _ => None,
        }
    }

    /// `rw` or `ro`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Rw => "rw",
            Self::Ro => "ro",
        }
    }
}

impl fmt::Display for AccessMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for AccessMode {
    type Err = AttachError;

    /// `rw` or `ro`; anything else is an [`AttachError::InvalidField`] for `access_mode`.
    fn from_str(s: &str) -> Result<Self, AttachError> {
        match s {
            "rw" => Ok(Self::Rw),
            "ro" => Ok(Self::Ro),
            other => Err(AttachError::InvalidField {
                field: "access_mode",
                value: format!("`{other}`"),
                reason: "expected `rw` or `ro`".to_owned(),
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rw_covers_ro_but_not_the_other_way() {
        assert!(AccessMode::Rw.covers(AccessMode::Ro));
        assert!(AccessMode::Rw.covers(AccessMode::Rw));
        assert!(AccessMode::Ro.covers(AccessMode::Ro));
        assert!(!AccessMode::Ro.covers(AccessMode::Rw));
    }

    #[test]
    fn access_modes_parse_and_name_the_field_when_invalid() {
        assert_eq!("rw".parse::<AccessMode>().unwrap(), AccessMode::Rw);
        assert_eq!("ro".parse::<AccessMode>().unwrap(), AccessMode::Ro);
        let err = "RW".parse::<AccessMode>().unwrap_err();
        assert_eq!(
            err.to_string(),
            "invalid StorPool connection data: `access_mode` is `RW`: expected `rw` or `ro`"
        );
        assert_eq!(AccessMode::from_rights(Rights::Unknown), None);
        assert_eq!(AccessMode::Ro.rights(), Rights::Ro);
    }
}
