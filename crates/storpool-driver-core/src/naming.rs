//! Names of OpenStack-style objects on the cluster: `{prefix}--volume-{id}` and
//! `{prefix}--{kind}--{more}--snapshot-{id}`.

use crate::error::DriverError;

/// Longest volume or snapshot name the cluster accepts (names are shorter than 200 characters).
pub const MAX_NAME_LEN: usize = 199;

/// The suffix of a migration intermediate name.
pub const MIGRATION_SUFFIX: &str = "--temp--mig";

/// The prefix a released (unmanaged) volume's name gets.
pub const UNMANAGED_PREFIX: &str = "unmanaged--";

/// What an id or cluster object names, for error messages.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum IdKind {
    /// A volume.
    Volume,
    /// A snapshot.
    Snapshot,
    /// A group snapshot.
    GroupSnapshot,
    /// A template.
    Template,
    /// The cluster as a whole (listings, capacity).
    Cluster,
}

impl std::fmt::Display for IdKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            IdKind::Volume => "volume",
            IdKind::Snapshot => "snapshot",
            IdKind::GroupSnapshot => "group snapshot",
            IdKind::Template => "template",
            IdKind::Cluster => "cluster",
        })
    }
}

/// Maps orchestrator ids to cluster names under one prefix (`SP_OPENSTACK_VOLUME_PREFIX`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Naming {
    prefix: String,
}

fn is_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.' | ':')
}

impl Naming {
    /// Names under `prefix`, which must itself be usable in a volume name.
    pub fn new(prefix: impl Into<String>) -> Result<Self, DriverError> {
        let prefix = prefix.into();
        if prefix.is_empty() || !prefix.chars().all(is_name_char) {
            return Err(DriverError::InvalidPrefix { prefix });
        }
        Ok(Self { prefix })
    }

    /// The prefix.
    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    fn checked(kind: IdKind, id: &str, name: String) -> Result<String, DriverError> {
        let reason = if id.is_empty() {
            "it is empty"
        } else if !id.chars().all(is_name_char) {
            "only letters, digits and `_`, `-`, `.`, `:` are allowed"
        } else if name.len() > MAX_NAME_LEN {
            "the cluster name it makes would be longer than 199 characters"
        } else {
            return Ok(name);
        };
        Err(DriverError::InvalidId {
            kind,
            id: id.to_owned(),
            reason,
        })
    }

    /// `{prefix}--volume-{id}`.
    pub fn volume(&self, id: &str) -> Result<String, DriverError> {
        let name = format!("{}--volume-{id}", self.prefix);
        Self::checked(IdKind::Volume, id, name)
    }

    /// `{prefix}--snap--none--snapshot-{id}`: an orchestrator's snapshot.
    pub fn snapshot(&self, id: &str) -> Result<String, DriverError> {
        self.tagged_snapshot(IdKind::Snapshot, "snap", id)
    }

    /// `{prefix}--clone--none--snapshot-{id}`: the transient snapshot behind a clone across
    /// templates, named after the new volume's id.
    pub fn clone_snapshot(&self, volume_id: &str) -> Result<String, DriverError> {
        self.tagged_snapshot(IdKind::Volume, "clone", volume_id)
    }

    /// `{prefix}--group--none--snapshot-{group}-{volume}`: one member of a group snapshot.
    pub fn group_member_snapshot(
        &self,
        group_id: &str,
        volume_id: &str,
    ) -> Result<String, DriverError> {
        let name = format!("{}--group--{group_id}--snapshot-{volume_id}", self.prefix);
        Self::checked(IdKind::GroupSnapshot, group_id, name.clone())?;
        Self::checked(IdKind::Volume, volume_id, name)
    }

    fn tagged_snapshot(&self, kind: IdKind, tag: &str, id: &str) -> Result<String, DriverError> {
        let name = format!("{}--{tag}--none--snapshot-{id}", self.prefix);
        Self::checked(kind, id, name)
    }

    /// `{temp}--temp--mig`: the intermediate name of a three-way migration swap.
    pub fn migration_intermediate(temp_volume_name: &str) -> String {
        format!("{temp_volume_name}{MIGRATION_SUFFIX}")
    }

    /// Whether a name is a migration intermediate (`...--temp--mig`).
    pub fn is_migration_intermediate(name: &str) -> bool {
        name.ends_with(MIGRATION_SUFFIX)
    }

    /// `{prefix}--group--{group}--snapshot-`: the start of every member of a group snapshot.
    pub fn group_snapshot_prefix(&self, group_id: &str) -> Result<String, DriverError> {
        let name = format!("{}--group--{group_id}--snapshot-", self.prefix);
        Self::checked(IdKind::GroupSnapshot, group_id, name)
    }

    /// `unmanaged--{volume name}`: where a released volume goes, outside every prefix's
    /// namespace.
    pub fn unmanaged(&self, id: &str) -> Result<String, DriverError> {
        let name = format!("{UNMANAGED_PREFIX}{}", self.volume(id)?);
        Self::checked(IdKind::Volume, id, name)
    }

    /// The volume id a cluster name stands for, if it is one of our volume names.
    pub fn volume_id_of<'a>(&self, name: &'a str) -> Option<&'a str> {
        name.strip_prefix(self.prefix.as_str())?
            .strip_prefix("--volume-")
            .filter(|id| !id.is_empty())
    }

    /// The snapshot id a cluster name stands for, if it is one of our snapshot names.
    pub fn snapshot_id_of<'a>(&self, name: &'a str) -> Option<&'a str> {
        name.strip_prefix(self.prefix.as_str())?
            .strip_prefix("--snap--none--snapshot-")
            .filter(|id| !id.is_empty())
    }

    /// Whether a cluster name belongs to this prefix's namespace (volumes, snapshots, clone and
    /// group snapshots, migration intermediates).
    pub fn is_ours(&self, name: &str) -> bool {
        name.strip_prefix(self.prefix.as_str())
            .is_some_and(|rest| rest.starts_with("--"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_the_reference_driver() {
        let naming = Naming::new("os").unwrap();
        let id = "5f0c2c3e-8d9a-4a1b-9b8f-0a1b2c3d4e5f";
        assert_eq!(naming.volume(id).unwrap(), format!("os--volume-{id}"));
        assert_eq!(
            naming.snapshot("77").unwrap(),
            "os--snap--none--snapshot-77"
        );
        assert_eq!(
            naming.clone_snapshot("9").unwrap(),
            "os--clone--none--snapshot-9"
        );
        assert_eq!(
            Naming::migration_intermediate("os--volume-2"),
            "os--volume-2--temp--mig"
        );
    }

    #[test]
    fn group_members_unmanaged_and_intermediate_names() {
        let naming = Naming::new("os").unwrap();
        assert_eq!(
            naming.group_member_snapshot("g1", "v1").unwrap(),
            "os--group--g1--snapshot-v1"
        );
        assert_eq!(
            naming.group_snapshot_prefix("g1").unwrap(),
            "os--group--g1--snapshot-"
        );
        assert_eq!(naming.unmanaged("7").unwrap(), "unmanaged--os--volume-7");
        assert!(!naming.is_ours(&naming.unmanaged("7").unwrap()));
        assert!(Naming::is_migration_intermediate("os--volume-2--temp--mig"));
        assert!(!Naming::is_migration_intermediate("os--volume-2"));
        assert!(naming.unmanaged(&"x".repeat(180)).is_err());
    }

    #[test]
    fn names_map_back_to_ids() {
        let naming = Naming::new("lab").unwrap();
        assert_eq!(naming.volume_id_of("lab--volume-abc"), Some("abc"));
        assert_eq!(naming.volume_id_of("os--volume-abc"), None);
        assert_eq!(naming.volume_id_of("lab--volume-"), None);
        assert_eq!(
            naming.snapshot_id_of("lab--snap--none--snapshot-1"),
            Some("1")
        );
        assert!(naming.is_ours("lab--clone--none--snapshot-3"));
        assert!(!naming.is_ours("labx--volume-1"));
        assert!(!naming.is_ours("other"));
    }

    #[test]
    fn bad_ids_are_refused_with_the_id_named() {
        let naming = Naming::new("os").unwrap();
        for bad in ["", "a/b", "a b", "x#y", "é"] {
            let err = naming.volume(bad).unwrap_err();
            assert!(
                matches!(&err, DriverError::InvalidId { id, kind: IdKind::Volume, .. } if id == bad),
                "{bad:?}: {err}"
            );
        }
        let long = "x".repeat(190);
        assert!(naming.volume(&long).is_err());
        assert!(naming.volume(&"x".repeat(188)).is_ok());
        assert!(Naming::new("o s").is_err());
        assert!(Naming::new("").is_err());
    }
}
