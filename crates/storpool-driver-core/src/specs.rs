//! Volume-type specs ("extra specs" in Cinder): the template and the QoS limits a type asks for.

use std::collections::BTreeMap;

use crate::error::DriverError;

/// The spec naming the type's StorPool template (as Cinder's extra spec).
pub const TEMPLATE_KEY: &str = "storpool_template";
/// The spec naming the backend a type belongs to (a change needs a migration, not a retype).
pub const BACKEND_KEY: &str = "volume_backend_name";

/// Bytes in one unit of StorPool's `bw` limit (MB/s in StorPool's CLI reference; we read MB as
/// MiB, so `total_bytes_sec` is rounded up to whole MiB/s).
pub const BW_UNIT: u64 = 1 << 20;

/// The QoS limits a type asks for, in the cluster's units.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Qos {
    /// IOPS limit (`iops`), `None` when the type sets none.
    pub iops: Option<u64>,
    /// Bandwidth limit in MiB/s (`bw`), `None` when the type sets none.
    pub bw: Option<u64>,
}

impl Qos {
    /// Whether the type sets any limit.
    pub fn is_set(&self) -> bool {
        self.iops.is_some() || self.bw.is_some()
    }
}

/// What a volume type's specs mean to this driver.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct VolumeTypeSpecs {
    /// The type's template, if it names one.
    pub template: Option<String>,
    /// The type's backend name, if it names one.
    pub backend: Option<String>,
    /// The QoS limits.
    pub qos: Qos,
    /// Keys this driver does not use (other drivers' specs, or typos worth a warning).
    pub ignored: Vec<String>,
}

fn is_template_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_' || c == '-'
}

/// Checks a template name with the cluster's rule: `[A-Za-z0-9_-]`, 1..=199 characters, not
/// `list`.
pub fn check_template_name(name: &str) -> Result<(), DriverError> {
    let reason = if name.is_empty() {
        "it is empty"
    } else if !name.chars().all(is_template_char) {
        "only letters, digits, `_` and `-` are allowed"
    } else if name.len() > 199 {
        "it is longer than 199 characters"
    } else if name == "list" {
        "`list` is reserved"
    } else {
        return Ok(());
    };
    Err(DriverError::InvalidSpec {
        key: TEMPLATE_KEY.to_owned(),
        value: name.to_owned(),
        reason: reason.to_owned(),
    })
}

fn number(key: &str, value: &str) -> Result<u64, DriverError> {
    let invalid = |reason: &str| DriverError::InvalidSpec {
        key: key.to_owned(),
        value: value.to_owned(),
        reason: reason.to_owned(),
    };
    let trimmed = value.trim();
    if trimmed.is_empty() || !trimmed.bytes().all(|b| b.is_ascii_digit()) {
        return Err(invalid("expected a whole number"));
    }
    trimmed
        .parse()
        .map_err(|_| invalid("the number is too large"))
}

impl VolumeTypeSpecs {
    /// Reads a type's specs. Keys may carry Cinder's `qos:` scope. Understood keys:
    /// `storpool_template`, `volume_backend_name`, `total_iops_sec`, `total_bytes_sec`, and the
    /// StorPool-specific `storpool:iops` and `storpool:bw` (MiB/s). Per-direction limits
    /// (`read_*`, `write_*`) are refused: StorPool limits reads and writes together.
    pub fn parse<K, V>(specs: impl IntoIterator<Item = (K, V)>) -> Result<Self, DriverError>
    where
        K: AsRef<str>,
        V: AsRef<str>,
    {
        let specs: BTreeMap<String, String> = specs
            .into_iter()
            .map(|(k, v)| (k.as_ref().to_owned(), v.as_ref().to_owned()))
            .collect();
        let mut parsed = Self::default();
        for (key, value) in &specs {
            let bare = key.strip_prefix("qos:").unwrap_or(key);
            match bare {
                TEMPLATE_KEY => {
                    check_template_name(value)?;
                    parsed.template = Some(value.clone());
                }
                BACKEND_KEY => parsed.backend = Some(value.clone()),
                "total_iops_sec" | "storpool:iops" => {
                    set_once(&mut parsed.qos.iops, key, value, number(key, value)?)?;
                }
                "total_bytes_sec" => {
                    let mib = number(key, value)?.div_ceil(BW_UNIT);
                    set_once(&mut parsed.qos.bw, key, value, mib)?;
                }
                "storpool:bw" => set_once(&mut parsed.qos.bw, key, value, number(key, value)?)?,
                _ if bare.starts_with("read_") || bare.starts_with("write_") => {
                    return Err(DriverError::InvalidSpec {
                        key: key.clone(),
                        value: value.clone(),
                        reason: "StorPool limits reads and writes together: use total_iops_sec \
                                 or total_bytes_sec"
                            .to_owned(),
                    });
                }
                _ if bare.ends_with("_per_gb") => {
                    return Err(DriverError::InvalidSpec {
                        key: key.clone(),
                        value: value.clone(),
                        reason: "per-GB limits are not supported: use total_iops_sec or \
                                 total_bytes_sec"
                            .to_owned(),
                    });
                }
                _ => parsed.ignored.push(key.clone()),
            }
        }
        Ok(parsed)
    }
}

fn set_once(slot: &mut Option<u64>, key: &str, value: &str, new: u64) -> Result<(), DriverError> {
    match slot {
        Some(old) if *old != new => Err(DriverError::InvalidSpec {
            key: key.to_owned(),
            value: value.to_owned(),
            reason: "another spec already sets this limit to a different value".to_owned(),
        }),
        _ => {
            *slot = Some(new);
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(pairs: &[(&str, &str)]) -> Result<VolumeTypeSpecs, DriverError> {
        VolumeTypeSpecs::parse(pairs.iter().copied())
    }

    #[test]
    fn template_and_backend_are_read() {
        let specs = parse(&[("storpool_template", "ssd"), ("volume_backend_name", "sp")]).unwrap();
        assert_eq!(specs.template.as_deref(), Some("ssd"));
        assert_eq!(specs.backend.as_deref(), Some("sp"));
        assert!(!specs.qos.is_set());
    }

    #[test]
    fn qos_keys_map_to_iops_and_mib_per_second() {
        let specs = parse(&[
            ("total_iops_sec", "5000"),
            ("qos:total_bytes_sec", "104857601"),
        ])
        .unwrap();
        assert_eq!(
            specs.qos,
            Qos {
                iops: Some(5000),
                bw: Some(101)
            }
        );
        let specs = parse(&[("storpool:iops", "10"), ("storpool:bw", "20")]).unwrap();
        assert_eq!(
            specs.qos,
            Qos {
                iops: Some(10),
                bw: Some(20)
            }
        );
    }

    #[test]
    fn bad_values_name_the_key_and_value() {
        for (key, value) in [
            ("total_iops_sec", "fast"),
            ("total_iops_sec", "-1"),
            ("storpool_template", "bad.name"),
            ("storpool_template", ""),
            ("read_iops_sec", "10"),
            ("total_iops_sec_per_gb", "10"),
        ] {
            let err = parse(&[(key, value)]).unwrap_err();
            let text = err.to_string();
            assert!(text.contains(key) && text.contains(value), "{text}");
        }
    }

    #[test]
    fn conflicting_limits_are_refused_and_equal_ones_accepted() {
        assert!(parse(&[("total_iops_sec", "1"), ("storpool:iops", "2")]).is_err());
        assert!(parse(&[("total_iops_sec", "1"), ("storpool:iops", "1")]).is_ok());
    }

    #[test]
    fn unknown_keys_are_kept_for_a_warning() {
        let specs = parse(&[("capabilities:foo", "1"), ("storpool_templat", "x")]).unwrap();
        assert_eq!(specs.ignored, ["capabilities:foo", "storpool_templat"]);
    }
}
