//! Validated names, references and ids for requests and URL paths.
//!
//! Each type checks StorPool's rules (the official bindings' validators) when it is built, so a
//! request holding one cannot carry a bad value. Response models keep names as plain strings:
//! a listing must never fail because of a name the server made (`#`-system volumes, `*`-names
//! of snapshots being deleted, `~globalId` names of unnamed objects).

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::error::ApiError;
use crate::tags::Tags;

/// Names (volumes, snapshots, templates, tags) must be shorter than this many characters.
pub const NAME_SIZE: usize = 200;
/// Placement group names must be shorter than this many characters.
pub const PLACEMENT_GROUP_NAME_SIZE: usize = 128;
/// Cluster names (`RemoteCommand/<name>/`) must be shorter than this many characters.
pub const CLUSTER_NAME_SIZE: usize = 64;
/// Sizes are multiples of this many bytes.
pub const SECTOR_SIZE: u64 = 512;
/// The lowest and highest replication the bindings accept.
pub const REPLICATION_RANGE: std::ops::RangeInclusive<u8> = 1..=3;

/// `[A-Za-z0-9_\-.:]`: the characters of volume, snapshot and tag names.
pub(crate) fn is_base_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.' | ':')
}

fn is_template_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '_' | '-')
}

fn is_id_token(token: &str) -> bool {
    !token.is_empty()
        && token
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
}

/// `[a-z0-9]+` tokens joined by dots, exactly `count` of them.
fn is_dotted_id(s: &str, count: usize) -> bool {
    let mut n = 0;
    for token in s.split('.') {
        if !is_id_token(token) {
            return false;
        }
        n += 1;
    }
    n == count
}

fn check_length(name: &str, size: usize) -> Result<(), String> {
    if name.is_empty() {
        return Err("must not be empty".into());
    }
    if name.chars().count() >= size {
        return Err(format!("must be shorter than {size} characters"));
    }
    Ok(())
}

fn check_reserved(name: &str, reserved: &[&str]) -> Result<(), String> {
    if reserved.contains(&name) {
        return Err(format!("`{name}` is reserved"));
    }
    Ok(())
}

fn check_chars(body: &str, ok: fn(char) -> bool, rule: &str) -> Result<(), String> {
    if body.is_empty() {
        return Err(format!("must be {rule}"));
    }
    match body.chars().find(|&c| !ok(c)) {
        Some(c) => Err(format!("character `{c}` is not allowed: must be {rule}")),
        None => Ok(()),
    }
}

const VOLUME_RULE: &str = "letters, digits, `_`, `-`, `.`, `:` (with an optional leading `#`)";
const SNAPSHOT_RULE: &str =
    "letters, digits, `_`, `-`, `.`, `:`, `@` (with an optional leading `*`)";
const GLOBAL_ID_RULE: &str = "three dot-separated tokens of lowercase letters and digits";

/// Names no volume or snapshot can have: the API's own words, and `.` and `..`, which would
/// name the device folder or its parent (`/dev/storpool/..`).
const RESERVED_OBJECT_NAMES: [&str; 4] = ["list", "status", ".", ".."];

fn check_volume_name(name: &str) -> Result<(), String> {
    check_length(name, NAME_SIZE)?;
    check_reserved(name, &RESERVED_OBJECT_NAMES)?;
    let body = name.strip_prefix('#').unwrap_or(name);
    check_chars(body, is_base_char, VOLUME_RULE)
}

fn check_snapshot_name(name: &str) -> Result<(), String> {
    check_length(name, NAME_SIZE)?;
    check_reserved(name, &RESERVED_OBJECT_NAMES)?;
    let body = name.strip_prefix('*').unwrap_or(name);
    check_chars(body, |c| is_base_char(c) || c == '@', SNAPSHOT_RULE)
}

fn check_global_id(id: &str) -> Result<(), String> {
    if is_dotted_id(id, 3) {
        Ok(())
    } else {
        Err(format!("a global id is {GLOBAL_ID_RULE}, e.g. `d.n.a1z`"))
    }
}

fn check_global_ref(name: &str) -> Option<Result<(), String>> {
    let id = name.strip_prefix('~')?;
    Some(check_length(name, NAME_SIZE).and_then(|()| check_global_id(id)))
}

fn check_volume_ref(name: &str) -> Result<(), String> {
    check_global_ref(name).unwrap_or_else(|| check_volume_name(name))
}

fn check_snapshot_ref(name: &str) -> Result<(), String> {
    check_global_ref(name).unwrap_or_else(|| check_snapshot_name(name))
}

fn check_template_name(name: &str) -> Result<(), String> {
    check_length(name, NAME_SIZE)?;
    check_reserved(name, &["list"])?;
    check_chars(name, is_template_char, "letters, digits, `_` and `-`")
}

fn check_placement_group_name(name: &str) -> Result<(), String> {
    check_length(name, PLACEMENT_GROUP_NAME_SIZE)?;
    check_reserved(name, &["list"])?;
    check_chars(name, is_template_char, "letters, digits, `_` and `-`")
}

fn check_cluster_name(name: &str) -> Result<(), String> {
    if let Some(id) = name.strip_prefix('~') {
        return if is_dotted_id(id, 2) {
            Ok(())
        } else {
            Err("a cluster id is two dot-separated tokens of lowercase letters and digits, e.g. `~d.n`".into())
        };
    }
    check_length(name, CLUSTER_NAME_SIZE)?;
    check_chars(name, is_base_char, "letters, digits, `_`, `-`, `.`, `:`")
}

macro_rules! name_type {
    ($(#[$meta:meta])* $name:ident, $field:literal, $check:path) => {
        $(#[$meta])*
        #[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub struct $name(String);

        impl $name {
            #[doc = concat!("Checks `name` against the rules of a ", $field, ".")]
            pub fn new(name: impl Into<String>) -> Result<Self, ApiError> {
                let name = name.into();
                match $check(&name) {
                    Ok(()) => Ok(Self(name)),
                    Err(reason) => Err(ApiError::invalid($field, name, reason)),
                }
            }

            /// The name as sent on the wire.
            pub fn as_str(&self) -> &str {
                &self.0
            }

            /// The name as an owned string.
            pub fn into_string(self) -> String {
                self.0
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}({:?})", stringify!($name), self.0)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl FromStr for $name {
            type Err = ApiError;
            fn from_str(s: &str) -> Result<Self, ApiError> {
                Self::new(s)
            }
        }

        impl TryFrom<String> for $name {
            type Error = ApiError;
            fn try_from(s: String) -> Result<Self, ApiError> {
                Self::new(s)
            }
        }

        impl TryFrom<&str> for $name {
            type Error = ApiError;
            fn try_from(s: &str) -> Result<Self, ApiError> {
                Self::new(s)
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }

        impl From<$name> for String {
            fn from(name: $name) -> String {
                name.0
            }
        }

        impl PartialEq<str> for $name {
            fn eq(&self, other: &str) -> bool {
                self.0 == other
            }
        }

        impl PartialEq<&str> for $name {
            fn eq(&self, other: &&str) -> bool {
                self.0 == *other
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(&self.0)
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let name = String::deserialize(deserializer)?;
                Self::new(name).map_err(serde::de::Error::custom)
            }
        }
    };
}

name_type!(
    /// A volume name to create or rename to: `^#?[A-Za-z0-9_\-.:]+$`, fewer than 200
    /// characters, not `list` or `status`.
    VolumeName,
    "volume name",
    check_volume_name
);

name_type!(
    /// A snapshot name to create or rename to: `^\*?[A-Za-z0-9_\-.:@]+$`, fewer than 200
    /// characters, not `list` or `status`.
    SnapshotName,
    "snapshot name",
    check_snapshot_name
);

name_type!(
    /// A reference to an existing volume: a volume name or `~GLOBALID`.
    VolumeRef,
    "volume reference",
    check_volume_ref
);

name_type!(
    /// A reference to an existing snapshot: a snapshot name or `~GLOBALID`.
    SnapshotRef,
    "snapshot reference",
    check_snapshot_ref
);

name_type!(
    /// A global id (`d.n.a1z`): three dot-separated tokens of lowercase letters and digits,
    /// without the leading `~`. Survives renames; names the device
    /// `/dev/storpool-byid/<globalId>`.
    GlobalId,
    "global id",
    check_global_id
);

name_type!(
    /// A volume template name: `^[A-Za-z0-9_\-]+$`, fewer than 200 characters, not `list`.
    TemplateName,
    "template name",
    check_template_name
);

name_type!(
    /// A placement group name: `^[A-Za-z0-9_\-]+$`, fewer than 128 characters, not `list`.
    PlacementGroupName,
    "placement group name",
    check_placement_group_name
);

name_type!(
    /// The cluster a `RemoteCommand/<cluster>/` call is forwarded to: a cluster name
    /// (`^[A-Za-z0-9_\-.:]+$`, fewer than 64 characters) or `~CLUSTERID` (e.g. `~d.n`).
    ClusterName,
    "cluster name",
    check_cluster_name
);

impl From<VolumeName> for VolumeRef {
    fn from(name: VolumeName) -> Self {
        Self(name.0)
    }
}

impl From<&VolumeName> for VolumeRef {
    fn from(name: &VolumeName) -> Self {
        Self(name.0.clone())
    }
}

impl From<GlobalId> for VolumeRef {
    fn from(id: GlobalId) -> Self {
        Self(format!("~{}", id.0))
    }
}

impl From<&GlobalId> for VolumeRef {
    fn from(id: &GlobalId) -> Self {
        Self(format!("~{}", id.0))
    }
}

impl From<SnapshotName> for SnapshotRef {
    fn from(name: SnapshotName) -> Self {
        Self(name.0)
    }
}

impl From<&SnapshotName> for SnapshotRef {
    fn from(name: &SnapshotName) -> Self {
        Self(name.0.clone())
    }
}

impl From<GlobalId> for SnapshotRef {
    fn from(id: GlobalId) -> Self {
        Self(format!("~{}", id.0))
    }
}

impl From<&GlobalId> for SnapshotRef {
    fn from(id: &GlobalId) -> Self {
        Self(format!("~{}", id.0))
    }
}

impl VolumeRef {
    /// The global id when this reference is the `~GLOBALID` form.
    pub fn global_id(&self) -> Option<GlobalId> {
        self.0.strip_prefix('~').map(|id| GlobalId(id.to_owned()))
    }
}

impl SnapshotRef {
    /// The global id when this reference is the `~GLOBALID` form.
    pub fn global_id(&self) -> Option<GlobalId> {
        self.0.strip_prefix('~').map(|id| GlobalId(id.to_owned()))
    }
}

macro_rules! id_type {
    ($(#[$meta:meta])* $name:ident, $field:literal, $min:expr, $max:expr) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
        #[serde(transparent)]
        pub struct $name(u16);

        impl $name {
            /// The lowest valid id.
            pub const MIN: u16 = $min;
            /// The highest valid id.
            pub const MAX: u16 = $max;

            #[doc = concat!("Checks that `id` is a valid ", $field, ".")]
            pub fn new(id: u64) -> Result<Self, ApiError> {
                match u16::try_from(id) {
                    Ok(id @ $min..=$max) => Ok(Self(id)),
                    _ => Err(ApiError::invalid(
                        $field,
                        id.to_string(),
                        format!("must be between {} and {}", $min, $max),
                    )),
                }
            }

            /// The id.
            pub fn get(self) -> u16 {
                self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}", self.0)
            }
        }

        impl FromStr for $name {
            type Err = ApiError;
            fn from_str(s: &str) -> Result<Self, ApiError> {
                let trimmed = s.trim();
                if trimmed.is_empty() || !trimmed.bytes().all(|b| b.is_ascii_digit()) {
                    return Err(ApiError::invalid($field, s, "expected a decimal integer"));
                }
                trimmed
                    .parse::<u64>()
                    .map_err(|_| ApiError::invalid($field, s, "number too large"))
                    .and_then(Self::new)
            }
        }

        impl TryFrom<u16> for $name {
            type Error = ApiError;
            fn try_from(id: u16) -> Result<Self, ApiError> {
                Self::new(u64::from(id))
            }
        }

        impl TryFrom<u32> for $name {
            type Error = ApiError;
            fn try_from(id: u32) -> Result<Self, ApiError> {
                Self::new(u64::from(id))
            }
        }

        impl TryFrom<u64> for $name {
            type Error = ApiError;
            fn try_from(id: u64) -> Result<Self, ApiError> {
                Self::new(id)
            }
        }

        impl From<$name> for u16 {
            fn from(id: $name) -> u16 {
                id.0
            }
        }

        impl<'de> Deserialize<'de> for $name {
            /// Accepts a JSON number or a decimal string (as os-brick sends client ids).
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                #[derive(Deserialize)]
                #[serde(untagged)]
                enum Raw {
                    Number(u64),
                    Text(String),
                }
                match Raw::deserialize(deserializer)? {
                    Raw::Number(n) => Self::new(n),
                    Raw::Text(s) => s.parse(),
                }
                .map_err(serde::de::Error::custom)
            }
        }
    };
}

id_type!(
    /// A client id (`SP_OURID` of a node that attaches volumes): 1..=4095.
    ClientId,
    "client id",
    1,
    4095
);

id_type!(
    /// A disk id: 0..=4095.
    DiskId,
    "disk id",
    0,
    4095
);

id_type!(
    /// A server id: 1..=32767.
    ServerId,
    "server id",
    1,
    32767
);

/// Checks a size in bytes: positive and a multiple of 512.
pub fn check_size(field: &'static str, size: u64) -> Result<(), ApiError> {
    if size == 0 {
        Err(ApiError::invalid(field, "0", "must be positive"))
    } else if !size.is_multiple_of(SECTOR_SIZE) {
        Err(ApiError::invalid(
            field,
            size.to_string(),
            format!("must be a multiple of {SECTOR_SIZE} bytes"),
        ))
    } else {
        Ok(())
    }
}

/// Checks a replication count: 1..=3.
pub fn check_replication(replication: u8) -> Result<(), ApiError> {
    if REPLICATION_RANGE.contains(&replication) {
        Ok(())
    } else {
        Err(ApiError::invalid(
            "replication",
            replication.to_string(),
            format!(
                "must be between {} and {}",
                REPLICATION_RANGE.start(),
                REPLICATION_RANGE.end()
            ),
        ))
    }
}

/// Checks tag names (`^[A-Za-z0-9_\-.:]+$`) and values (`^[A-Za-z0-9_\-.:]*$`), each shorter
/// than 200 characters.
pub fn check_tags(tags: &Tags) -> Result<(), ApiError> {
    const RULE: &str = "letters, digits, `_`, `-`, `.`, `:`";
    for (name, value) in tags {
        check_length(name, NAME_SIZE)
            .and_then(|()| check_chars(name, is_base_char, RULE))
            .map_err(|reason| ApiError::invalid("tag name", name, reason))?;
        // An empty value is allowed (it removes the tag in updates).
        if !value.is_empty() {
            check_length(value, NAME_SIZE)
                .and_then(|()| check_chars(value, is_base_char, RULE))
                .map_err(|reason| ApiError::invalid("tag value", value, reason))?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn volume_names_follow_the_bindings_regex() {
        for ok in [
            "os--volume-1",
            "a",
            "#system",
            "a.b:c_d-e",
            &"x".repeat(199),
        ] {
            assert!(VolumeName::new(ok).is_ok(), "{ok}");
        }
        for bad in [
            "",
            "#",
            "a b",
            "a/b",
            "a@1",
            "~d.n.a",
            "*x",
            "list",
            "status",
            &"x".repeat(200),
            "é",
        ] {
            let err = VolumeName::new(bad).unwrap_err();
            assert!(
                matches!(err, ApiError::InvalidArgument { field: "volume name", ref value, .. } if value == bad)
            );
        }
    }

    #[test]
    fn dot_and_dot_dot_name_no_volume_or_snapshot() {
        for bad in [".", ".."] {
            assert!(VolumeName::new(bad).is_err(), "{bad}");
            assert!(SnapshotName::new(bad).is_err(), "{bad}");
            assert!(VolumeRef::new(bad).is_err(), "{bad}");
            assert!(SnapshotRef::new(bad).is_err(), "{bad}");
        }
        // Dots elsewhere are fine.
        for ok in ["...", ".a", "a.", "#.", "a..b"] {
            assert!(VolumeName::new(ok).is_ok(), "{ok}");
        }
        assert!(SnapshotName::new("*.").is_ok());
    }

    #[test]
    fn snapshot_names_allow_at_and_leading_star() {
        for ok in ["vol@1430", "*deleted", "os--snap--none--snapshot-1"] {
            assert!(SnapshotName::new(ok).is_ok(), "{ok}");
        }
        for bad in ["#x", "a*b", "~d.n.a", "", "list"] {
            assert!(SnapshotName::new(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn references_accept_global_ids() {
        assert!(VolumeRef::new("~d.n.a1z").is_ok());
        assert!(SnapshotRef::new("~fir.b.qrd").is_ok());
        assert!(VolumeRef::new("os--volume-1").is_ok());
        for bad in ["~d.n", "~D.n.a", "~d.n.a.b", "~", "~d..a"] {
            assert!(VolumeRef::new(bad).is_err(), "{bad}");
        }
        let id = GlobalId::new("d.n.a1z").unwrap();
        assert_eq!(VolumeRef::from(&id).as_str(), "~d.n.a1z");
        assert_eq!(VolumeRef::from(id.clone()).global_id(), Some(id));
        assert!(GlobalId::new("~d.n.a1z").is_err());
    }

    #[test]
    fn template_and_placement_group_names() {
        assert!(TemplateName::new("hybrid-ssd_1").is_ok());
        assert!(TemplateName::new("a.b").is_err());
        assert!(TemplateName::new("list").is_err());
        assert!(TemplateName::new("status").is_ok());
        assert!(PlacementGroupName::new("x".repeat(127)).is_ok());
        assert!(PlacementGroupName::new("x".repeat(128)).is_err());
    }

    #[test]
    fn cluster_names_and_ids() {
        assert!(ClusterName::new("backup").is_ok());
        assert!(ClusterName::new("~fir.b").is_ok());
        assert!(ClusterName::new("~fir").is_err());
        assert!(ClusterName::new("a/b").is_err());
        assert!(ClusterName::new("x".repeat(64)).is_err());
    }

    #[test]
    fn ids_are_range_checked_and_accept_strings_on_input() {
        assert_eq!(ClientId::new(1).unwrap().get(), 1);
        assert_eq!(ClientId::new(4095).unwrap().get(), 4095);
        assert!(ClientId::new(0).is_err());
        assert!(ClientId::new(4096).is_err());
        assert!(DiskId::new(0).is_ok());
        assert!(ServerId::new(32768).is_err());
        assert_eq!("17".parse::<ClientId>().unwrap().get(), 17);
        assert!("x".parse::<ClientId>().is_err());
        let id: ClientId = serde_json::from_str("\"7\"").unwrap();
        assert_eq!(serde_json::to_string(&id).unwrap(), "7");
        assert!(serde_json::from_str::<ClientId>("0").is_err());
    }

    #[test]
    fn names_deserialize_with_validation_and_serialize_as_strings() {
        let name: VolumeName = serde_json::from_str("\"v1\"").unwrap();
        assert_eq!(serde_json::to_string(&name).unwrap(), "\"v1\"");
        assert!(serde_json::from_str::<VolumeName>("\"a b\"").is_err());
    }

    #[test]
    fn sizes_replication_and_tags() {
        assert!(check_size("size", 512).is_ok());
        assert!(check_size("size", 0).is_err());
        assert!(check_size("size", 1000).is_err());
        assert!(check_replication(3).is_ok());
        assert!(check_replication(0).is_err());
        assert!(check_replication(4).is_err());
        let mut tags = Tags::new();
        tags.insert("qc", "");
        tags.insert("a.b:c", "1.0");
        assert!(check_tags(&tags).is_ok());
        tags.insert("bad tag", "x");
        let err = check_tags(&tags).unwrap_err();
        assert!(err.to_string().starts_with("invalid tag name `bad tag`"));
        let mut tags = Tags::new();
        tags.insert("k", "v v");
        assert!(check_tags(&tags).is_err());
    }
}
