//! Volume-type specs ("extra specs" in Cinder): the template and the QoS limits a type asks for.

use std::collections::BTreeMap;

use storpool_api::{ApiError, Limit, TemplateName};

use crate::error::DriverError;

/// The spec naming the type's StorPool template (as Cinder's extra spec).
pub const TEMPLATE_KEY: &str = "storpool_template";
/// The spec naming the type's chain replication, used when no template applies (as Cinder's
/// backend option `storpool_replication`, per type).
pub const REPLICATION_KEY: &str = "storpool_replication";
/// The spec naming the backend a type belongs to (a change needs a migration, not a retype).
pub const BACKEND_KEY: &str = "volume_backend_name";

/// Bytes in one unit of StorPool's `bw` limit (MB/s in StorPool's CLI reference; we read MB as
/// MiB, so `total_bytes_sec` is rounded up to whole MiB/s).
pub const BW_UNIT: u64 = 1 << 20;

/// The QoS limits a type asks for, in the cluster's units.
///
/// ```
/// use storpool_driver_core::Limit;
/// use storpool_driver_core::VolumeTypeSpecs;
///
/// let specs = [("total_iops_sec", "5000"), ("total_bytes_sec", "104857600")];
/// let specs = VolumeTypeSpecs::parse(specs)?;
/// assert_eq!(specs.qos.iops, Some(Limit::Value(5000)));
/// assert_eq!(specs.qos.bw, Some(Limit::Value(100))); // MiB/s
/// # Ok::<(), storpool_driver_core::DriverError>(())
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Qos {
    /// IOPS limit (`iops`), `None` when the type sets none.
    pub iops: Option<Limit>,
    /// Bandwidth limit in MiB/s (`bw`), `None` when the type sets none.
    pub bw: Option<Limit>,
}

impl Qos {
    /// Whether the type sets any limit.
    ///
    /// ```
    /// use storpool_driver_core::VolumeTypeSpecs;
    ///
    /// assert!(!VolumeTypeSpecs::parse([("storpool_template", "ssd")])?.qos.is_set());
    /// // 0 means "no limit": the type still sets it (over the template's limit).
    /// assert!(VolumeTypeSpecs::parse([("total_iops_sec", "0")])?.qos.is_set());
    /// # Ok::<(), storpool_driver_core::DriverError>(())
    /// ```
    pub fn is_set(&self) -> bool {
        self.iops.is_some() || self.bw.is_some()
    }
}

/// What a volume type's specs mean to this driver.
///
/// ```
/// use storpool_driver_core::VolumeTypeSpecs;
///
/// let specs = [("storpool_template", "ssd"), ("multiattach", "<is> True")];
/// let specs = VolumeTypeSpecs::parse(specs)?;
/// assert_eq!(specs.template.as_ref().map(|t| t.as_str()), Some("ssd"));
/// assert_eq!(specs.ignored, ["multiattach"]); // another driver's: worth a warning
/// # Ok::<(), storpool_driver_core::DriverError>(())
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct VolumeTypeSpecs {
    /// The type's template, if it names one.
    pub template: Option<TemplateName>,
    /// The type's replication, if it names one (1..=3; a template, when there is one, wins).
    pub replication: Option<u8>,
    /// The type's backend name, if it names one.
    pub backend: Option<String>,
    /// The QoS limits.
    pub qos: Qos,
    /// Keys this driver does not use (other drivers' specs, or typos worth a warning).
    pub ignored: Vec<String>,
}

/// Checks a template name with the cluster's rule (`[A-Za-z0-9_-]`, 1..=199 characters, not
/// `list`); a bad one is an [`DriverError::InvalidSpec`] of `key`.
///
/// ```
/// use storpool_driver_core::specs::{TEMPLATE_KEY, template_name};
///
/// assert_eq!(template_name(TEMPLATE_KEY, "ssd")?.as_str(), "ssd");
/// let err = template_name(TEMPLATE_KEY, "bad.name").unwrap_err();
/// assert!(err.to_string().starts_with("invalid volume-type spec storpool_template=bad.name"));
/// # Ok::<(), storpool_driver_core::DriverError>(())
/// ```
pub fn template_name(key: &str, name: &str) -> Result<TemplateName, DriverError> {
    TemplateName::new(name).map_err(|err| DriverError::InvalidSpec {
        key: key.to_owned(),
        value: name.to_owned(),
        reason: match err {
            ApiError::InvalidArgument { reason, .. } => reason,
            other => other.to_string(),
        },
    })
}

fn invalid(key: &str, value: &str, reason: &str) -> DriverError {
    DriverError::InvalidSpec {
        key: key.to_owned(),
        value: value.to_owned(),
        reason: reason.to_owned(),
    }
}

fn number(key: &str, value: &str) -> Result<u64, DriverError> {
    let trimmed = value.trim();
    if trimmed.is_empty() || !trimmed.bytes().all(|b| b.is_ascii_digit()) {
        return Err(invalid(key, value, "expected a whole number"));
    }
    trimmed
        .parse()
        .map_err(|_| invalid(key, value, "the number is too large"))
}

/// A replication count, 1..=3 (what the cluster accepts).
fn replication(key: &str, value: &str) -> Result<u8, DriverError> {
    let n = number(key, value)?;
    u8::try_from(n)
        .ok()
        .filter(|n| storpool_api::REPLICATION_RANGE.contains(n))
        .ok_or_else(|| invalid(key, value, "must be between 1 and 3"))
}

/// A limit: a whole number, 0 meaning no limit (as in Cinder's QoS specs); with `dash_ok`
/// also `-` or `unlimited` (StorPool's own form).
fn limit(key: &str, value: &str, dash_ok: bool) -> Result<Limit, DriverError> {
    if dash_ok && matches!(value.trim(), "-" | "unlimited") {
        return Ok(Limit::Unlimited);
    }
    Ok(match number(key, value)? {
        0 => Limit::Unlimited,
        n => Limit::Value(n),
    })
}

impl VolumeTypeSpecs {
    /// Reads a type's specs. Keys may carry Cinder's `qos:` scope. Understood keys:
    /// `storpool_template`, `storpool_replication` (1..=3), `volume_backend_name`, Cinder's `total_iops_sec` and
    /// `total_bytes_sec` (0 means no limit; bytes are rounded up to whole MiB/s), and the
    /// StorPool-specific `storpool:iops` and `storpool:bw` (MiB/s; `-`, `unlimited` or 0 for no
    /// limit). Per-direction limits (`read_*`, `write_*`) and per-GB limits are refused:
    /// StorPool limits reads and writes of a volume together. A key within two edits of a
    /// known one (`storpool_tempalte`) is refused with a did-you-mean; other keys are kept in
    /// [`VolumeTypeSpecs::ignored`].
    ///
    /// ```
    /// use storpool_driver_core::VolumeTypeSpecs;
    ///
    /// let specs = [("qos:total_iops_sec", "500"), ("storpool_replication", "2")];
    /// let specs = VolumeTypeSpecs::parse(specs)?;
    /// assert_eq!(specs.replication, Some(2));
    /// assert!(specs.qos.is_set());
    /// let typo = VolumeTypeSpecs::parse([("storpool_tempalte", "ssd")]).unwrap_err();
    /// assert!(typo.to_string().contains("did you mean `storpool_template`?"));
    /// # Ok::<(), storpool_driver_core::DriverError>(())
    /// ```
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
                TEMPLATE_KEY => parsed.template = Some(template_name(key, value)?),
                REPLICATION_KEY => parsed.replication = Some(replication(key, value)?),
                BACKEND_KEY => parsed.backend = Some(value.clone()),
                "total_iops_sec" => {
                    set_once(&mut parsed.qos.iops, key, value, limit(key, value, false)?)?;
                }
                "storpool:iops" => {
                    set_once(&mut parsed.qos.iops, key, value, limit(key, value, true)?)?;
                }
                "total_bytes_sec" => {
                    let mib = match limit(key, value, false)? {
                        Limit::Value(bytes) => Limit::Value(bytes.div_ceil(BW_UNIT)),
                        Limit::Unlimited => Limit::Unlimited,
                    };
                    set_once(&mut parsed.qos.bw, key, value, mib)?;
                }
                "storpool:bw" => {
                    set_once(&mut parsed.qos.bw, key, value, limit(key, value, true)?)?;
                }
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
                _ => {
                    if let Some(meant) = resembles(bare) {
                        return Err(DriverError::InvalidSpec {
                            key: key.clone(),
                            value: value.clone(),
                            reason: format!("unknown key: did you mean `{meant}`?"),
                        });
                    }
                    parsed.ignored.push(key.clone());
                }
            }
        }
        Ok(parsed)
    }
}

/// The keys this driver reads (without Cinder's `qos:` scope).
pub const KNOWN_KEYS: [&str; 7] = [
    TEMPLATE_KEY,
    REPLICATION_KEY,
    BACKEND_KEY,
    "total_iops_sec",
    "total_bytes_sec",
    "storpool:iops",
    "storpool:bw",
];

/// The known key `key` is a misspelling of: one within two edits of it (case aside), but not
/// equal. Other systems' keys (`capabilities:...`, `multiattach`, ...) are further away.
fn resembles(key: &str) -> Option<&'static str> {
    let lower = key.to_ascii_lowercase();
    KNOWN_KEYS
        .into_iter()
        .filter(|known| *known != key)
        .map(|known| (strsim::damerau_levenshtein(&lower, known), known))
        .filter(|(distance, _)| *distance <= 2)
        .min_by_key(|(distance, _)| *distance)
        .map(|(_, known)| known)
}

fn set_once(
    slot: &mut Option<Limit>,
    key: &str,
    value: &str,
    new: Limit,
) -> Result<(), DriverError> {
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

/// Building [`crate::Specs`] (a `BTreeMap<String, String>`) from string slices.
///
/// `Specs` stays a plain map, so every existing way of building one keeps working; this trait
/// adds the short forms (a `FromIterator` of `(&str, &str)` cannot be added to a standard
/// map, and a new type would break every caller that passes a map it already has).
///
/// ```
/// use storpool_driver_core::{Specs, SpecsExt as _};
///
/// let ssd = Specs::from_pairs([("storpool_template", "ssd"), ("total_iops_sec", "5000")]);
/// let same = Specs::new()
///     .with("storpool_template", "ssd")
///     .with("total_iops_sec", "5000");
/// assert_eq!(ssd, same);
/// assert_eq!(ssd["storpool_template"], "ssd");
/// ```
pub trait SpecsExt: Sized {
    /// A map of these key/value pairs (a later duplicate key wins).
    ///
    /// ```
    /// use storpool_driver_core::{Specs, SpecsExt as _};
    ///
    /// let specs = Specs::from_pairs([("storpool_template", "ssd"), ("storpool_template", "hdd")]);
    /// assert_eq!(specs["storpool_template"], "hdd");
    /// ```
    fn from_pairs<K, V>(pairs: impl IntoIterator<Item = (K, V)>) -> Self
    where
        K: Into<String>,
        V: Into<String>;

    /// The map with `key` set to `value`.
    ///
    /// ```
    /// use storpool_driver_core::{Specs, SpecsExt as _};
    ///
    /// let specs = Specs::new().with("storpool_template", "ssd").with("total_iops_sec", "5000");
    /// assert_eq!(specs.len(), 2);
    /// assert_eq!(specs.with("total_iops_sec", "0")["total_iops_sec"], "0");
    /// ```
    #[must_use]
    fn with(self, key: impl Into<String>, value: impl Into<String>) -> Self;
}

impl SpecsExt for crate::Specs {
    fn from_pairs<K, V>(pairs: impl IntoIterator<Item = (K, V)>) -> Self
    where
        K: Into<String>,
        V: Into<String>,
    {
        pairs
            .into_iter()
            .map(|(key, value)| (key.into(), value.into()))
            .collect()
    }

    fn with(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.insert(key.into(), value.into());
        self
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
        assert_eq!(
            specs.template.as_ref().map(TemplateName::as_str),
            Some("ssd")
        );
        assert_eq!(specs.backend.as_deref(), Some("sp"));
        assert!(!specs.qos.is_set());
    }

    #[test]
    fn replication_is_read_and_checked() {
        let specs = parse(&[("storpool_replication", "2")]).unwrap();
        assert_eq!(specs.replication, Some(2));
        assert!(specs.template.is_none());
        for bad in ["0", "4", "two", "", "-1", "300"] {
            let err = parse(&[("storpool_replication", bad)]).unwrap_err();
            assert!(err.to_string().contains("storpool_replication"), "{err}");
            assert!(err.is_user_error());
        }
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
                iops: Some(Limit::Value(5000)),
                bw: Some(Limit::Value(101))
            }
        );
        let specs = parse(&[("storpool:iops", "10"), ("storpool:bw", "20")]).unwrap();
        assert_eq!(
            specs.qos,
            Qos {
                iops: Some(Limit::Value(10)),
                bw: Some(Limit::Value(20))
            }
        );
    }

    #[test]
    fn zero_and_dash_mean_no_limit() {
        let specs = parse(&[("total_iops_sec", "0"), ("storpool:bw", "-")]).unwrap();
        assert_eq!(specs.qos.iops, Some(Limit::Unlimited));
        assert_eq!(specs.qos.bw, Some(Limit::Unlimited));
        assert!(specs.qos.is_set());
        assert!(parse(&[("total_iops_sec", "-")]).is_err());
        let specs = parse(&[("qos:storpool:iops", "unlimited"), ("total_bytes_sec", "0")]).unwrap();
        assert_eq!(specs.qos.iops, Some(Limit::Unlimited));
        assert_eq!(specs.qos.bw, Some(Limit::Unlimited));
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
    fn a_misspelt_key_is_refused_with_the_key_it_resembles() {
        for (typo, meant) in [
            ("storpool_tempalte", "storpool_template"),
            ("storpool_templates", "storpool_template"),
            ("Storpool_Template", "storpool_template"),
            ("storpool_replicaton", "storpool_replication"),
            ("total_iop_sec", "total_iops_sec"),
            ("qos:total_bytes_sek", "total_bytes_sec"),
            ("volume_backend_nam", "volume_backend_name"),
            ("storpool:iop", "storpool:iops"),
        ] {
            let err = parse(&[(typo, "x")]).unwrap_err();
            assert!(err.is_user_error(), "{typo}");
            let text = err.to_string();
            assert!(
                text.contains(typo) && text.contains(&format!("did you mean `{meant}`")),
                "{text}"
            );
        }
    }

    #[test]
    fn unknown_keys_are_kept_for_a_warning() {
        let specs = parse(&[
            ("capabilities:foo", "1"),
            ("multiattach", "<is> True"),
            ("RESKEY:availability_zones", "nova"),
            ("replication_enabled", "<is> False"),
        ])
        .unwrap();
        assert_eq!(
            specs.ignored,
            [
                "RESKEY:availability_zones",
                "capabilities:foo",
                "multiattach",
                "replication_enabled"
            ]
        );
    }
}
