//! Cluster names of orchestrator objects: `{prefix}--volume-{id}` and
//! `{prefix}--snap--none--snapshot-{id}`.
//!
//! The same formats (and the same rules for prefixes and ids) live in the driver's naming
//! module, `crates/storpool-driver-core/src/naming.rs`. Attach must not depend on the driver,
//! so the two formats it needs are repeated here: keep both places in step.

use crate::error::AttachError;
use crate::target::{ObjectKind, Target};

/// Longest volume or snapshot name the cluster accepts (names are shorter than 200 characters).
const MAX_NAME_LEN: usize = 199;

fn is_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.' | ':')
}

/// Maps orchestrator ids to cluster names under one prefix (`SP_OPENSTACK_VOLUME_PREFIX`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Naming {
    prefix: String,
}

impl Default for Naming {
    /// The default prefix, `os`.
    fn default() -> Self {
        Self {
            prefix: storpool_conf::DEFAULT_VOLUME_PREFIX.to_owned(),
        }
    }
}

impl Naming {
    /// Names under `prefix`, which must itself be usable in a volume name.
    pub(crate) fn new(prefix: &str) -> Result<Self, AttachError> {
        if prefix.is_empty() || !prefix.chars().all(is_name_char) {
            return Err(AttachError::InvalidPrefix {
                prefix: prefix.to_owned(),
            });
        }
        Ok(Self {
            prefix: prefix.to_owned(),
        })
    }

    pub(crate) fn prefix(&self) -> &str {
        &self.prefix
    }

    /// What a volume's name starts with: `{prefix}--volume-`.
    pub(crate) fn volume_name_start(&self) -> String {
        format!("{}--volume-", self.prefix)
    }

    fn snapshot_name_start(&self) -> String {
        format!("{}--snap--none--snapshot-", self.prefix)
    }

    /// The cluster name of a volume or snapshot; the id must be non-empty, made of name
    /// characters, and short enough.
    pub(crate) fn name(&self, target: &Target) -> Result<String, AttachError> {
        let start = match target.kind {
            ObjectKind::Volume => self.volume_name_start(),
            ObjectKind::Snapshot => self.snapshot_name_start(),
        };
        let id = target.id.as_str();
        let name = format!("{start}{id}");
        let reason = if id.is_empty() {
            "it is empty"
        } else if !id.chars().all(is_name_char) {
            "only letters, digits and `_`, `-`, `.`, `:` are allowed"
        } else if name.len() > MAX_NAME_LEN {
            "the cluster name it makes would be longer than 199 characters"
        } else {
            return Ok(name);
        };
        Err(AttachError::InvalidId {
            kind: target.kind,
            id: id.to_owned(),
            reason,
        })
    }

    /// The orchestrator id a cluster name stands for, when it is one of our names of that kind.
    pub(crate) fn id_of<'a>(&self, kind: ObjectKind, name: &'a str) -> Option<&'a str> {
        let start = match kind {
            ObjectKind::Volume => self.volume_name_start(),
            ObjectKind::Snapshot => self.snapshot_name_start(),
        };
        name.strip_prefix(start.as_str())
            .filter(|id| !id.is_empty())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_the_reference_formats() {
        let naming = Naming::new("os").unwrap();
        let id = "5f0c2c3e-8d9a-4a1b-9b8f-0a1b2c3d4e5f";
        assert_eq!(
            naming.name(&Target::volume(id)).unwrap(),
            format!("os--volume-{id}")
        );
        assert_eq!(
            naming.name(&Target::snapshot("77")).unwrap(),
            "os--snap--none--snapshot-77"
        );
        assert_eq!(naming.volume_name_start(), "os--volume-");
    }

    #[test]
    fn names_map_back_to_ids_of_their_kind() {
        let naming = Naming::new("lab").unwrap();
        assert_eq!(
            naming.id_of(ObjectKind::Volume, "lab--volume-abc"),
            Some("abc")
        );
        assert_eq!(naming.id_of(ObjectKind::Volume, "os--volume-abc"), None);
        assert_eq!(naming.id_of(ObjectKind::Volume, "lab--volume-"), None);
        assert_eq!(
            naming.id_of(ObjectKind::Snapshot, "lab--snap--none--snapshot-1"),
            Some("1")
        );
        assert_eq!(
            naming.id_of(ObjectKind::Volume, "lab--snap--none--snapshot-1"),
            None
        );
    }

    #[test]
    fn bad_ids_and_prefixes_are_refused_naming_the_value() {
        let naming = Naming::new("os").unwrap();
        for bad in ["", "a/b", "a b", "x#y", "é", "../x"] {
            let err = naming.name(&Target::volume(bad)).unwrap_err();
            assert!(
                matches!(&err, AttachError::InvalidId { id, kind: ObjectKind::Volume, .. } if id == bad),
                "{bad:?}: {err}"
            );
            assert!(err.is_usage());
        }
        assert!(naming.name(&Target::volume("x".repeat(188))).is_ok());
        assert!(naming.name(&Target::volume("x".repeat(189))).is_err());
        for bad in ["", "o s", "a/b"] {
            let err = Naming::new(bad).unwrap_err();
            assert!(err.to_string().contains(&format!("`{bad}`")), "{err}");
        }
    }
}
