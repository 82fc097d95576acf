//! Cluster names of the objects a node attaches: the shared formats of
//! [`storpool_api::naming`] (`{prefix}--volume-{id}`, `{prefix}--snap--none--snapshot-{id}`),
//! chosen by [`Target`] kind, with errors in this crate's terms.

use storpool_api::naming::{Naming as ApiNaming, NamingError};

use crate::error::AttachError;
use crate::target::{ObjectKind, Target};

/// Maps orchestrator ids to cluster names under one prefix (`SP_OPENSTACK_VOLUME_PREFIX`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Naming {
    names: ApiNaming,
}

fn invalid(kind: ObjectKind, err: NamingError) -> AttachError {
    match err {
        NamingError::InvalidPrefix { prefix } => AttachError::InvalidPrefix { prefix },
        NamingError::InvalidId { id, reason } => AttachError::InvalidId { kind, id, reason },
    }
}

impl Naming {
    /// Names under `prefix`, which must itself be usable in a volume name.
    pub(crate) fn new(prefix: &str) -> Result<Self, AttachError> {
        let names = ApiNaming::new(prefix).map_err(|err| invalid(ObjectKind::Volume, err))?;
        Ok(Self { names })
    }

    pub(crate) fn prefix(&self) -> &str {
        self.names.prefix()
    }

    /// What a volume's name starts with: `{prefix}--volume-`.
    pub(crate) fn volume_name_start(&self) -> String {
        self.names.volume_name_start()
    }

    /// The cluster name of a volume or snapshot.
    pub(crate) fn name(&self, target: &Target) -> Result<String, AttachError> {
        let id = target.id.as_str();
        match target.kind {
            ObjectKind::Volume => self.names.volume(id),
            ObjectKind::Snapshot => self.names.snapshot(id),
        }
        .map_err(|err| invalid(target.kind, err))
    }

    /// The orchestrator id a cluster name stands for, when it is one of our names of that kind.
    pub(crate) fn id_of<'a>(&self, kind: ObjectKind, name: &'a str) -> Option<&'a str> {
        match kind {
            ObjectKind::Volume => self.names.volume_id_of(name),
            ObjectKind::Snapshot => self.names.snapshot_id_of(name),
        }
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
    fn bad_ids_and_prefixes_are_usage_errors_of_their_kind() {
        let naming = Naming::new("os").unwrap();
        for target in [Target::volume("a/b"), Target::snapshot("")] {
            let err = naming.name(&target).unwrap_err();
            assert!(
                matches!(&err, AttachError::InvalidId { kind, .. } if *kind == target.kind),
                "{err}"
            );
            assert!(err.is_usage());
        }
        let err = Naming::new("o s").unwrap_err();
        assert!(matches!(err, AttachError::InvalidPrefix { .. }) && err.is_usage());
    }
}
