//! Validation of names, references and numeric ranges (spec 2.1-2.6, 6).

use crate::error::ApiErr;

/// Names of volumes, snapshots, templates and tags must be shorter than this.
pub(crate) const NAME_SIZE: usize = 200;
/// Placement group names must be shorter than this.
pub(crate) const PG_NAME_SIZE: usize = 128;
/// Highest client id.
pub(crate) const MAX_CLIENT_ID: u64 = 4095;
/// Highest disk id.
pub(crate) const MAX_DISK_ID: u64 = 4095;
/// Attachment slots per client.
pub(crate) const MAX_CLIENT_ATTACHMENTS: u16 = 1024;
/// Names no volume or snapshot can have: the API's own words, and the names of the device
/// folder itself and its parent (`/dev/storpool/..` is no device).
const RESERVED_OBJECT_NAMES: [&str; 4] = ["list", "status", ".", ".."];

fn name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.' | ':')
}

fn check_len(kind: &str, name: &str, size: usize) -> Result<(), ApiErr> {
    if name.len() >= size {
        return Err(ApiErr::invalid(format!(
            "{kind} is too long: {} characters, the maximum is {}",
            name.len(),
            size - 1
        )));
    }
    Ok(())
}

fn check_reserved(kind: &str, name: &str, reserved: &[&str]) -> Result<(), ApiErr> {
    if reserved.contains(&name) {
        return Err(ApiErr::invalid(format!(
            "{kind} `{name}` is reserved and cannot be used"
        )));
    }
    Ok(())
}

/// Is `s` a bare global id `loc.sub.obj`?
pub(crate) fn is_global_id(s: &str) -> bool {
    let mut parts = 0;
    for part in s.split('.') {
        parts += 1;
        if part.is_empty()
            || !part
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
        {
            return false;
        }
    }
    parts == 3
}

/// A volume name as accepted by create and rename.
pub(crate) fn volume_name(name: &str) -> Result<(), ApiErr> {
    let body = name.strip_prefix('#').unwrap_or(name);
    if body.is_empty() || !body.chars().all(name_char) {
        return Err(ApiErr::invalid(format!(
            "invalid volume name `{}`: must match ^#?[A-Za-z0-9_\\-.:]+$",
            shorten(name)
        )));
    }
    check_len("volume name", name, NAME_SIZE)?;
    check_reserved("volume name", name, &RESERVED_OBJECT_NAMES)
}

/// A snapshot name as accepted by create and rename.
pub(crate) fn snapshot_name(name: &str) -> Result<(), ApiErr> {
    let body = name.strip_prefix('*').unwrap_or(name);
    if body.is_empty() || !body.chars().all(|c| name_char(c) || c == '@') {
        return Err(ApiErr::invalid(format!(
            "invalid snapshot name `{}`: must match ^\\*?[A-Za-z0-9_\\-.:@]+$",
            shorten(name)
        )));
    }
    check_len("snapshot name", name, NAME_SIZE)?;
    check_reserved("snapshot name", name, &RESERVED_OBJECT_NAMES)
}

/// A reference to a volume: a volume name or `~globalId`.
pub(crate) fn volume_ref(r: &str) -> Result<(), ApiErr> {
    if let Some(gid) = r.strip_prefix('~') {
        if is_global_id(gid) {
            return Ok(());
        }
        return Err(ApiErr::invalid(format!(
            "invalid global id reference `{}`",
            shorten(r)
        )));
    }
    volume_name(r)
}

/// A reference to a snapshot: a snapshot name or `~globalId`.
pub(crate) fn snapshot_ref(r: &str) -> Result<(), ApiErr> {
    if let Some(gid) = r.strip_prefix('~') {
        if is_global_id(gid) {
            return Ok(());
        }
        return Err(ApiErr::invalid(format!(
            "invalid global id reference `{}`",
            shorten(r)
        )));
    }
    snapshot_name(r)
}

fn simple_name(kind: &str, name: &str, size: usize) -> Result<(), ApiErr> {
    if name.is_empty()
        || !name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
    {
        return Err(ApiErr::invalid(format!(
            "invalid {kind} `{}`: must match ^[A-Za-z0-9_\\-]+$",
            shorten(name)
        )));
    }
    check_len(kind, name, size)?;
    check_reserved(kind, name, &["list"])
}

/// A template name.
pub(crate) fn template_name(name: &str) -> Result<(), ApiErr> {
    simple_name("template name", name, NAME_SIZE)
}

/// A placement group name.
pub(crate) fn placement_group_name(name: &str) -> Result<(), ApiErr> {
    simple_name("placement group name", name, PG_NAME_SIZE)
}

/// A tag name and its value.
pub(crate) fn tag(name: &str, value: &str) -> Result<(), ApiErr> {
    if name.is_empty() || !name.chars().all(name_char) {
        return Err(ApiErr::invalid(format!(
            "invalid tag name `{}`: must match ^[A-Za-z0-9_\\-.:]+$",
            shorten(name)
        )));
    }
    if !value.chars().all(name_char) {
        return Err(ApiErr::invalid(format!(
            "invalid value `{}` of tag `{name}`: must match ^[A-Za-z0-9_\\-.:]*$",
            shorten(value)
        )));
    }
    check_len("tag name", name, NAME_SIZE)?;
    check_len("tag value", value, NAME_SIZE)
}

/// A volume size: positive multiple of 512.
pub(crate) fn size(what: &str, size: u64) -> Result<(), ApiErr> {
    if size == 0 {
        return Err(ApiErr::invalid(format!(
            "invalid {what} 0: must be positive"
        )));
    }
    if !size.is_multiple_of(512) {
        return Err(ApiErr::invalid(format!(
            "invalid {what} {size}: must be a multiple of 512"
        )));
    }
    Ok(())
}

/// A replication factor in `1..=max`.
pub(crate) fn replication(r: u64, max: u8) -> Result<u8, ApiErr> {
    match u8::try_from(r) {
        Ok(v) if (1..=max).contains(&v) => Ok(v),
        _ => Err(ApiErr::invalid(format!(
            "invalid replication {r}: must be between 1 and {max}"
        ))),
    }
}

/// A client id in `1..=4095`.
pub(crate) fn client_id(id: u64) -> Result<u16, ApiErr> {
    match u16::try_from(id) {
        Ok(v) if v >= 1 && u64::from(v) <= MAX_CLIENT_ID => Ok(v),
        _ => Err(ApiErr::invalid(format!(
            "invalid client id {id}: must be between 1 and {MAX_CLIENT_ID}"
        ))),
    }
}

/// A disk id in `0..=4095`.
pub(crate) fn disk_id(id: u64) -> Result<u32, ApiErr> {
    match u32::try_from(id) {
        Ok(v) if u64::from(v) <= MAX_DISK_ID => Ok(v),
        _ => Err(ApiErr::invalid(format!(
            "invalid disk id {id}: must be between 0 and {MAX_DISK_ID}"
        ))),
    }
}

/// Cut long user input before echoing it in an error description.
pub(crate) fn shorten(s: &str) -> String {
    const MAX: usize = 64;
    if s.chars().count() <= MAX {
        s.to_owned()
    } else {
        let mut out: String = s.chars().take(MAX).collect();
        out.push_str("...");
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn volume_names_follow_the_bindings_regex() {
        assert!(volume_name("os--volume-1").is_ok());
        assert!(volume_name("#sys").is_ok());
        assert!(volume_name("a:b.c_d-e").is_ok());
        assert!(volume_name("").is_err());
        assert!(volume_name("a@1").is_err());
        assert!(volume_name("~a.b.c").is_err());
        assert!(volume_name("list").is_err());
        assert!(volume_name(".").is_err() && volume_name("..").is_err());
        assert!(snapshot_name(".").is_err() && snapshot_name("..").is_err());
        assert!(volume_name("...").is_ok() && volume_name(".a").is_ok());
        assert!(volume_name(&"a".repeat(199)).is_ok());
        assert!(volume_name(&"a".repeat(200)).is_err());
    }

    #[test]
    fn snapshot_names_allow_at_and_star() {
        assert!(snapshot_name("vol@12").is_ok());
        assert!(snapshot_name("*vol@12").is_ok());
        assert!(snapshot_name("status").is_err());
        assert!(snapshot_name("a b").is_err());
    }

    #[test]
    fn global_id_references() {
        assert!(volume_ref("~d.n.a1z").is_ok());
        assert!(snapshot_ref("~fir.b.qrd").is_ok());
        assert!(volume_ref("~d.n").is_err());
        assert!(volume_ref("~D.n.a").is_err());
        assert!(!is_global_id("a..b"));
    }

    #[test]
    fn numeric_ranges() {
        assert!(client_id(0).is_err());
        assert_eq!(client_id(4095).unwrap(), 4095);
        assert!(client_id(4096).is_err());
        assert!(size("size", 512).is_ok());
        assert!(size("size", 513).is_err());
        assert!(replication(4, 3).is_err());
        assert!(tag("qc", "").is_ok());
        assert!(tag("q c", "x").is_err());
    }
}
