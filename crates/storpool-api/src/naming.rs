//! The names OpenStack-style integrations give their volumes and snapshots on the cluster:
//! `{prefix}--volume-{id}` and `{prefix}--{kind}--{more or "none"}--snapshot-{id}`.
//!
//! Both the volume driver and the attach side of a node derive cluster names from orchestrator
//! ids with these formats (os-brick keeps them next to its API client for the same reason), so
//! they live here, beside the name types they produce, in one place.

use crate::names::NAME_SIZE;

/// Longest volume or snapshot name the cluster accepts.
pub const MAX_NAME_LEN: usize = NAME_SIZE - 1;

/// Why an id or a prefix cannot form a cluster name.
///
/// ```
/// use storpool_api::naming::{Naming, NamingError};
///
/// assert!(matches!(Naming::new("o s"), Err(NamingError::InvalidPrefix { .. })));
/// let err = Naming::default().volume("a/b").unwrap_err();
/// assert!(matches!(&err, NamingError::InvalidId { id, .. } if id == "a/b"));
/// ```
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum NamingError {
    /// The prefix (`SP_OPENSTACK_VOLUME_PREFIX`) cannot start a volume name.
    #[error(
        "invalid volume prefix `{prefix}`: only letters, digits and `_`, `-`, `.`, `:` are allowed"
    )]
    InvalidPrefix {
        /// The prefix as given.
        prefix: String,
    },
    /// An orchestrator id cannot be part of a cluster name.
    #[error("invalid id `{id}`: {reason}")]
    InvalidId {
        /// The id as given.
        id: String,
        /// Why it is refused.
        reason: &'static str,
    },
}

/// Maps orchestrator ids to cluster names under one prefix.
///
/// ```
/// let naming = storpool_api::naming::Naming::new("os")?;
/// assert_eq!(naming.volume("42")?, "os--volume-42");
/// assert_eq!(naming.snapshot("7")?, "os--snap--none--snapshot-7");
/// assert_eq!(naming.volume_id_of("os--volume-42"), Some("42"));
/// # Ok::<(), storpool_api::naming::NamingError>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Naming {
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
    ///
    /// ```
    /// use storpool_api::naming::Naming;
    ///
    /// assert_eq!(Naming::new("cloud2")?.volume("1")?, "cloud2--volume-1");
    /// assert!(Naming::new("").is_err() && Naming::new("a/b").is_err());
    /// # Ok::<(), storpool_api::naming::NamingError>(())
    /// ```
    pub fn new(prefix: impl Into<String>) -> Result<Self, NamingError> {
        let prefix = prefix.into();
        if prefix.is_empty() || !prefix.chars().all(crate::names::is_base_char) {
            return Err(NamingError::InvalidPrefix { prefix });
        }
        Ok(Self { prefix })
    }

    /// The prefix.
    ///
    /// ```
    /// use storpool_api::naming::Naming;
    ///
    /// assert_eq!(Naming::default().prefix(), "os");
    /// assert_eq!(Naming::new("lab")?.prefix(), "lab");
    /// # Ok::<(), storpool_api::naming::NamingError>(())
    /// ```
    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    /// Returns `name` if `id` may be part of a cluster name and `name` is short enough.
    ///
    /// ```
    /// use storpool_api::naming::Naming;
    ///
    /// assert_eq!(Naming::checked("42", "os--volume-42".to_owned())?, "os--volume-42");
    /// assert!(Naming::checked("a b", "os--volume-a b".to_owned()).is_err());
    /// assert!(Naming::checked("x", "x".repeat(200)).is_err()); // longer than MAX_NAME_LEN
    /// # Ok::<(), storpool_api::naming::NamingError>(())
    /// ```
    pub fn checked(id: &str, name: String) -> Result<String, NamingError> {
        let reason = if id.is_empty() {
            "it is empty"
        } else if !id.chars().all(crate::names::is_base_char) {
            "only letters, digits and `_`, `-`, `.`, `:` are allowed"
        } else if name.len() > MAX_NAME_LEN {
            "the cluster name it makes would be longer than 199 characters"
        } else {
            return Ok(name);
        };
        Err(NamingError::InvalidId {
            id: id.to_owned(),
            reason,
        })
    }

    /// What every volume name starts with: `{prefix}--volume-`.
    ///
    /// ```
    /// let naming = storpool_api::naming::Naming::default();
    /// assert_eq!(naming.volume_name_start(), "os--volume-");
    /// ```
    pub fn volume_name_start(&self) -> String {
        format!("{}--volume-", self.prefix)
    }

    /// What the names of snapshots of `kind` start with: `{prefix}--{kind}--{more|none}--snapshot-`.
    ///
    /// ```
    /// let naming = storpool_api::naming::Naming::default();
    /// assert_eq!(naming.snapshot_name_start("snap", None), "os--snap--none--snapshot-");
    /// assert_eq!(naming.snapshot_name_start("group", Some("g1")), "os--group--g1--snapshot-");
    /// ```
    pub fn snapshot_name_start(&self, kind: &str, more: Option<&str>) -> String {
        format!(
            "{}--{kind}--{}--snapshot-",
            self.prefix,
            more.unwrap_or("none")
        )
    }

    /// `{prefix}--volume-{id}`.
    ///
    /// ```
    /// let naming = storpool_api::naming::Naming::default();
    /// assert_eq!(naming.volume("5f0c2c3e")?, "os--volume-5f0c2c3e");
    /// assert!(naming.volume("").is_err());
    /// # Ok::<(), storpool_api::naming::NamingError>(())
    /// ```
    pub fn volume(&self, id: &str) -> Result<String, NamingError> {
        Self::checked(id, format!("{}{id}", self.volume_name_start()))
    }

    /// `{prefix}--snap--none--snapshot-{id}`: an orchestrator's snapshot.
    ///
    /// ```
    /// let naming = storpool_api::naming::Naming::default();
    /// assert_eq!(naming.snapshot("77")?, "os--snap--none--snapshot-77");
    /// # Ok::<(), storpool_api::naming::NamingError>(())
    /// ```
    pub fn snapshot(&self, id: &str) -> Result<String, NamingError> {
        self.snapshot_of_kind("snap", None, id)
    }

    /// The general snapshot form `{prefix}--{kind}--{more|none}--snapshot-{id}`; `kind` and
    /// `more` are the caller's own constants or checked ids.
    ///
    /// ```
    /// let naming = storpool_api::naming::Naming::default();
    /// assert_eq!(naming.snapshot_of_kind("clone", None, "9")?, "os--clone--none--snapshot-9");
    /// assert_eq!(naming.snapshot_of_kind("group", Some("g1"), "9")?, "os--group--g1--snapshot-9");
    /// assert!(naming.snapshot_of_kind("group", Some("a b"), "9").is_err());
    /// # Ok::<(), storpool_api::naming::NamingError>(())
    /// ```
    pub fn snapshot_of_kind(
        &self,
        kind: &str,
        more: Option<&str>,
        id: &str,
    ) -> Result<String, NamingError> {
        if let Some(more) = more {
            Self::checked(more, more.to_owned())?;
        }
        Self::checked(id, format!("{}{id}", self.snapshot_name_start(kind, more)))
    }

    /// The volume id a cluster name stands for, if it is one of our volume names.
    ///
    /// ```
    /// let naming = storpool_api::naming::Naming::default();
    /// assert_eq!(naming.volume_id_of("os--volume-42"), Some("42"));
    /// assert_eq!(naming.volume_id_of("os--snap--none--snapshot-42"), None);
    /// assert_eq!(naming.volume_id_of("lab--volume-42"), None);
    /// ```
    pub fn volume_id_of<'a>(&self, name: &'a str) -> Option<&'a str> {
        self.id_after(name, "--volume-")
    }

    /// The snapshot id a cluster name stands for, if it is one of our snapshot names.
    ///
    /// ```
    /// let naming = storpool_api::naming::Naming::default();
    /// assert_eq!(naming.snapshot_id_of("os--snap--none--snapshot-7"), Some("7"));
    /// assert_eq!(naming.snapshot_id_of("os--volume-7"), None);
    /// ```
    pub fn snapshot_id_of<'a>(&self, name: &'a str) -> Option<&'a str> {
        self.id_after(name, "--snap--none--snapshot-")
    }

    /// The non-empty rest of `name` after the prefix and then `form` (no allocation: this
    /// runs for every entry of a listing).
    fn id_after<'a>(&self, name: &'a str, form: &str) -> Option<&'a str> {
        name.strip_prefix(self.prefix.as_str())?
            .strip_prefix(form)
            .filter(|id| !id.is_empty())
    }

    /// Whether a cluster name belongs to this prefix's namespace (`{prefix}--...`).
    ///
    /// ```
    /// let naming = storpool_api::naming::Naming::default();
    /// assert!(naming.is_ours("os--clone--none--snapshot-3"));
    /// assert!(!naming.is_ours("osx--volume-1") && !naming.is_ours("scratch"));
    /// ```
    pub fn is_ours(&self, name: &str) -> bool {
        name.strip_prefix(self.prefix.as_str())
            .is_some_and(|rest| rest.starts_with("--"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_the_reference_formats() {
        let naming = Naming::new("os").unwrap();
        let id = "5f0c2c3e-8d9a-4a1b-9b8f-0a1b2c3d4e5f";
        assert_eq!(naming.volume(id).unwrap(), format!("os--volume-{id}"));
        assert_eq!(
            naming.snapshot("77").unwrap(),
            "os--snap--none--snapshot-77"
        );
        assert_eq!(
            naming.snapshot_of_kind("clone", None, "9").unwrap(),
            "os--clone--none--snapshot-9"
        );
        assert_eq!(
            naming.snapshot_of_kind("group", Some("g1"), "9").unwrap(),
            "os--group--g1--snapshot-9"
        );
        assert_eq!(Naming::default().prefix(), "os");
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
        assert_eq!(naming.volume_id_of("lab--snap--none--snapshot-1"), None);
        assert!(naming.is_ours("lab--clone--none--snapshot-3"));
        assert!(!naming.is_ours("labx--volume-1"));
        assert!(!naming.is_ours("other"));
    }

    #[test]
    fn bad_ids_and_prefixes_are_refused_naming_the_value() {
        let naming = Naming::new("os").unwrap();
        for bad in ["", "a/b", "a b", "x#y", "é", "../x"] {
            let err = naming.volume(bad).unwrap_err();
            assert!(
                matches!(&err, NamingError::InvalidId { id, .. } if id == bad),
                "{err}"
            );
        }
        assert!(naming.volume(&"x".repeat(188)).is_ok());
        assert!(naming.volume(&"x".repeat(189)).is_err());
        assert!(naming.snapshot_of_kind("group", Some("a b"), "1").is_err());
        for bad in ["", "o s", "a/b"] {
            let err = Naming::new(bad).unwrap_err();
            assert!(err.to_string().contains(&format!("`{bad}`")), "{err}");
        }
    }
}
