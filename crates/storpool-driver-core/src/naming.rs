//! Names of OpenStack-style objects on the cluster: `{prefix}--volume-{id}` and
//! `{prefix}--{kind}--{more}--snapshot-{id}`.

use storpool_api::naming::{Naming as ApiNaming, NamingError};

use crate::error::DriverError;

/// The suffix of a migration intermediate name.
pub const MIGRATION_SUFFIX: &str = "--temp--mig";

/// The prefix a released (unmanaged) volume's name gets.
pub const UNMANAGED_PREFIX: &str = "unmanaged--";

/// What an id or cluster object names, for error messages.
///
/// ```
/// use storpool_driver_core::{DriverError, IdKind, Naming};
///
/// let err = Naming::new("os")?.snapshot("").unwrap_err();
/// assert!(matches!(err, DriverError::InvalidId { kind: IdKind::Snapshot, .. }));
/// assert_eq!(IdKind::GroupSnapshot.to_string(), "group snapshot");
/// # Ok::<(), storpool_driver_core::DriverError>(())
/// ```
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

/// Maps orchestrator ids to cluster names under one prefix (`SP_OPENSTACK_VOLUME_PREFIX`): the
/// shared formats of [`storpool_api::naming`] plus the driver's own (clone, group and migration
/// snapshots, released volumes).
///
/// ```
/// use storpool_driver_core::Naming;
///
/// let naming = Naming::new("os")?; // or `driver.naming()`
/// let name = naming.volume("1234")?;
/// assert_eq!(name, "os--volume-1234");
/// assert_eq!(naming.volume_id_of(&name), Some("1234"));
/// # Ok::<(), storpool_driver_core::DriverError>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Naming {
    names: ApiNaming,
}

fn invalid(kind: IdKind, err: NamingError) -> DriverError {
    match err {
        NamingError::InvalidPrefix { prefix } => DriverError::InvalidPrefix { prefix },
        NamingError::InvalidId { id, reason } => DriverError::InvalidId { kind, id, reason },
    }
}

impl Naming {
    /// Names under `prefix`, which must itself be usable in a volume name.
    ///
    /// ```
    /// use storpool_driver_core::{ErrorKind, Naming};
    ///
    /// assert_eq!(Naming::new("cloud2")?.volume("1")?, "cloud2--volume-1");
    /// let err = Naming::new("my cloud").unwrap_err(); // no spaces in volume names
    /// assert_eq!(err.kind(), ErrorKind::Configuration);
    /// # Ok::<(), storpool_driver_core::DriverError>(())
    /// ```
    pub fn new(prefix: impl Into<String>) -> Result<Self, DriverError> {
        let names = ApiNaming::new(prefix).map_err(|err| invalid(IdKind::Volume, err))?;
        Ok(Self { names })
    }

    /// The prefix.
    ///
    /// ```
    /// let naming = storpool_driver_core::Naming::new("cloud2")?;
    /// assert_eq!(naming.prefix(), "cloud2");
    /// # Ok::<(), storpool_driver_core::DriverError>(())
    /// ```
    pub fn prefix(&self) -> &str {
        self.names.prefix()
    }

    /// `{prefix}--volume-{id}`.
    ///
    /// ```
    /// let naming = storpool_driver_core::Naming::new("os")?;
    /// assert_eq!(naming.volume("1234")?, "os--volume-1234");
    /// assert!(naming.volume("a/b").is_err());
    /// # Ok::<(), storpool_driver_core::DriverError>(())
    /// ```
    pub fn volume(&self, id: &str) -> Result<String, DriverError> {
        self.names
            .volume(id)
            .map_err(|err| invalid(IdKind::Volume, err))
    }

    /// `{prefix}--snap--none--snapshot-{id}`: an orchestrator's snapshot.
    ///
    /// ```
    /// let naming = storpool_driver_core::Naming::new("os")?;
    /// assert_eq!(naming.snapshot("77")?, "os--snap--none--snapshot-77");
    /// # Ok::<(), storpool_driver_core::DriverError>(())
    /// ```
    pub fn snapshot(&self, id: &str) -> Result<String, DriverError> {
        self.names
            .snapshot(id)
            .map_err(|err| invalid(IdKind::Snapshot, err))
    }

    /// `{prefix}--clone--none--snapshot-{id}`: the transient snapshot behind a clone across
    /// templates, named after the new volume's id.
    ///
    /// ```
    /// let naming = storpool_driver_core::Naming::new("os")?;
    /// assert_eq!(naming.clone_snapshot("9")?, "os--clone--none--snapshot-9");
    /// # Ok::<(), storpool_driver_core::DriverError>(())
    /// ```
    pub fn clone_snapshot(&self, volume_id: &str) -> Result<String, DriverError> {
        self.names
            .snapshot_of_kind("clone", None, volume_id)
            .map_err(|err| invalid(IdKind::Volume, err))
    }

    /// `{prefix}--group--{group}--snapshot-{volume}`: one member of a group snapshot.
    ///
    /// ```
    /// let naming = storpool_driver_core::Naming::new("os")?;
    /// assert_eq!(naming.group_member_snapshot("g1", "v1")?, "os--group--g1--snapshot-v1");
    /// # Ok::<(), storpool_driver_core::DriverError>(())
    /// ```
    pub fn group_member_snapshot(
        &self,
        group_id: &str,
        volume_id: &str,
    ) -> Result<String, DriverError> {
        self.group_snapshot_prefix(group_id)?;
        self.names
            .snapshot_of_kind("group", Some(group_id), volume_id)
            .map_err(|err| invalid(IdKind::Volume, err))
    }

    /// `{temp}--temp--mig`: the intermediate name of a three-way migration swap.
    ///
    /// ```
    /// use storpool_driver_core::Naming;
    ///
    /// assert_eq!(Naming::migration_intermediate("os--volume-2"), "os--volume-2--temp--mig");
    /// ```
    pub fn migration_intermediate(temp_volume_name: &str) -> String {
        format!("{temp_volume_name}{MIGRATION_SUFFIX}")
    }

    /// Whether a name is a migration intermediate (`...--temp--mig`).
    ///
    /// ```
    /// use storpool_driver_core::Naming;
    ///
    /// assert!(Naming::is_migration_intermediate("os--volume-2--temp--mig"));
    /// assert!(!Naming::is_migration_intermediate("os--volume-2"));
    /// ```
    pub fn is_migration_intermediate(name: &str) -> bool {
        name.ends_with(MIGRATION_SUFFIX)
    }

    /// `{prefix}--group--{group}--snapshot-`: the start of every member of a group snapshot.
    ///
    /// ```
    /// let naming = storpool_driver_core::Naming::new("os")?;
    /// let start = naming.group_snapshot_prefix("g1")?;
    /// assert_eq!(start, "os--group--g1--snapshot-");
    /// assert!(naming.group_member_snapshot("g1", "v1")?.starts_with(&start));
    /// # Ok::<(), storpool_driver_core::DriverError>(())
    /// ```
    pub fn group_snapshot_prefix(&self, group_id: &str) -> Result<String, DriverError> {
        let start = self.names.snapshot_name_start("group", Some(group_id));
        ApiNaming::checked(group_id, start).map_err(|err| invalid(IdKind::GroupSnapshot, err))
    }

    /// `unmanaged--{volume name}`: where a released volume goes, outside every prefix's
    /// namespace.
    ///
    /// ```
    /// let naming = storpool_driver_core::Naming::new("os")?;
    /// let released = naming.unmanaged("7")?;
    /// assert_eq!(released, "unmanaged--os--volume-7");
    /// assert!(!naming.is_ours(&released));
    /// # Ok::<(), storpool_driver_core::DriverError>(())
    /// ```
    pub fn unmanaged(&self, id: &str) -> Result<String, DriverError> {
        let name = format!("{UNMANAGED_PREFIX}{}", self.volume(id)?);
        ApiNaming::checked(id, name).map_err(|err| invalid(IdKind::Volume, err))
    }

    /// The volume id a cluster name stands for, if it is one of our volume names.
    ///
    /// ```
    /// let naming = storpool_driver_core::Naming::new("os")?;
    /// assert_eq!(naming.volume_id_of("os--volume-1234"), Some("1234"));
    /// assert_eq!(naming.volume_id_of("os--snap--none--snapshot-77"), None);
    /// assert_eq!(naming.volume_id_of("cloud2--volume-1234"), None);
    /// # Ok::<(), storpool_driver_core::DriverError>(())
    /// ```
    pub fn volume_id_of<'a>(&self, name: &'a str) -> Option<&'a str> {
        self.names.volume_id_of(name)
    }

    /// The snapshot id a cluster name stands for, if it is one of our snapshot names.
    ///
    /// ```
    /// let naming = storpool_driver_core::Naming::new("os")?;
    /// assert_eq!(naming.snapshot_id_of("os--snap--none--snapshot-77"), Some("77"));
    /// assert_eq!(naming.snapshot_id_of("os--volume-77"), None);
    /// # Ok::<(), storpool_driver_core::DriverError>(())
    /// ```
    pub fn snapshot_id_of<'a>(&self, name: &'a str) -> Option<&'a str> {
        self.names.snapshot_id_of(name)
    }

    /// The group snapshot id and the volume id a cluster name stands for, if it is a member of
    /// one of our group snapshots (`{prefix}--group--{group}--snapshot-{volume}`; a group id
    /// holding `--snapshot-` is read up to its first occurrence).
    ///
    /// ```
    /// let naming = storpool_driver_core::Naming::new("os")?;
    /// assert_eq!(naming.group_member_of("os--group--g1--snapshot-v1"), Some(("g1", "v1")));
    /// assert_eq!(naming.group_member_of("os--snap--none--snapshot-77"), None);
    /// # Ok::<(), storpool_driver_core::DriverError>(())
    /// ```
    pub fn group_member_of<'a>(&self, name: &'a str) -> Option<(&'a str, &'a str)> {
        let rest = name
            .strip_prefix(self.prefix())?
            .strip_prefix("--group--")?;
        let (group, volume) = rest.split_once("--snapshot-")?;
        (!group.is_empty() && !volume.is_empty()).then_some((group, volume))
    }

    /// Whether a cluster name belongs to this prefix's namespace (volumes, snapshots, clone and
    /// group snapshots, migration intermediates).
    ///
    /// ```
    /// let naming = storpool_driver_core::Naming::new("os")?;
    /// assert!(naming.is_ours("os--volume-1") && naming.is_ours("os--snap--none--snapshot-77"));
    /// assert!(!naming.is_ours("cloud2--volume-1"));
    /// assert!(!naming.is_ours("unmanaged--os--volume-1"));
    /// # Ok::<(), storpool_driver_core::DriverError>(())
    /// ```
    pub fn is_ours(&self, name: &str) -> bool {
        self.names.is_ours(name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn group_members_read_back_as_group_and_volume() {
        let naming = Naming::new("os").unwrap();
        let name = naming.group_member_snapshot("g1", "v-2").unwrap();
        assert_eq!(naming.group_member_of(&name), Some(("g1", "v-2")));
        assert_eq!(naming.group_member_of("os--snap--none--snapshot-1"), None);
        assert_eq!(naming.group_member_of("xs--group--g--snapshot-v"), None);
        assert_eq!(naming.group_member_of("os--group----snapshot-v"), None);
    }

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
    fn bad_ids_name_what_they_identify() {
        let naming = Naming::new("os").unwrap();
        let kind_of = |err: DriverError| match err {
            DriverError::InvalidId { kind, .. } => kind,
            other => panic!("{other}"),
        };
        assert_eq!(kind_of(naming.volume("a/b").unwrap_err()), IdKind::Volume);
        assert_eq!(kind_of(naming.snapshot("").unwrap_err()), IdKind::Snapshot);
        assert_eq!(
            kind_of(naming.group_member_snapshot("g 1", "v").unwrap_err()),
            IdKind::GroupSnapshot
        );
        assert_eq!(
            kind_of(naming.group_member_snapshot("g", "v#").unwrap_err()),
            IdKind::Volume
        );
        assert!(matches!(
            Naming::new("o s").unwrap_err(),
            DriverError::InvalidPrefix { .. }
        ));
    }
}
