//! Types shared by several calls: the plain success answer, limits, `"-"` settings.

use std::fmt;
use std::marker::PhantomData;

use serde::de::{self, Deserializer, SeqAccess, Visitor};
use serde::{Deserialize, Serialize, Serializer};

/// The answer of most changing calls (`ApiOk`).
#[derive(Clone, Debug, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct ApiOk {
    /// Always `true` (a failure is an error answer instead).
    pub ok: bool,
    /// The cluster generation after the change.
    pub generation: u64,
    /// Extra information, when the server has any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub info: Option<String>,
}

/// A bandwidth or IOPS limit: a number, or `"-"` for unlimited.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Limit {
    /// No limit (`"-"` on the wire).
    #[default]
    Unlimited,
    /// At most this much (the unit of `bw` is not documented consistently; kept opaque).
    Value(u64),
}

impl Limit {
    /// The number, or `None` when unlimited.
    pub fn value(self) -> Option<u64> {
        match self {
            Self::Unlimited => None,
            Self::Value(v) => Some(v),
        }
    }
}

impl fmt::Display for Limit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Unlimited => f.write_str("-"),
            Self::Value(v) => write!(f, "{v}"),
        }
    }
}

impl Serialize for Limit {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Self::Unlimited => serializer.serialize_str("-"),
            Self::Value(v) => serializer.serialize_u64(*v),
        }
    }
}

impl<'de> Deserialize<'de> for Limit {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer
            .deserialize_any(DashOr::<u64>(PhantomData))
            .map(|v| v.map_or(Self::Unlimited, Self::Value))
    }
}

/// A template default that may be unset: a value, or `"-"` when the template defines none.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum TemplateValue<T> {
    /// Not defined by the template (`"-"` on the wire).
    #[default]
    Unset,
    /// The template's value.
    Value(T),
}

impl<T: Copy> TemplateValue<T> {
    /// The value, or `None` when unset.
    pub fn value(self) -> Option<T> {
        match self {
            Self::Unset => None,
            Self::Value(v) => Some(v),
        }
    }
}

impl<T: Serialize> Serialize for TemplateValue<T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Self::Unset => serializer.serialize_str("-"),
            Self::Value(v) => v.serialize(serializer),
        }
    }
}

impl<'de, T: TryFrom<u64>> Deserialize<'de> for TemplateValue<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer
            .deserialize_any(DashOr::<u64>(PhantomData))?
            .map_or(Ok(Self::Unset), |v| {
                T::try_from(v)
                    .map(Self::Value)
                    .map_err(|_| de::Error::custom(format!("{v} is out of range")))
            })
    }
}

/// Visits a non-negative integer or the string `"-"` (also a decimal string, leniently).
struct DashOr<T>(PhantomData<T>);

impl Visitor<'_> for DashOr<u64> {
    type Value = Option<u64>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a non-negative integer or \"-\"")
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
        Ok(Some(v))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
        u64::try_from(v)
            .map(Some)
            .map_err(|_| E::invalid_value(de::Unexpected::Signed(v), &self))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        if v == "-" {
            return Ok(None);
        }
        v.parse()
            .map(Some)
            .map_err(|_| E::invalid_value(de::Unexpected::Str(v), &self))
    }
}

/// How `bw`/`iops` limits are counted.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Deserialize, Serialize)]
#[non_exhaustive]
pub enum LimitType {
    /// The limit is for the whole volume.
    #[serde(rename = "total")]
    Total,
    /// The limit is per GiB of the volume's size.
    #[serde(rename = "perGiB")]
    PerGiB,
    /// A value this client does not know.
    #[serde(other, rename = "unknown")]
    Unknown,
}

/// What `VolumeDelete` and the move calls do when the volume is attached.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum OnAttached {
    /// Refuse (`busy`).
    Fail,
    /// Detach first.
    Detach,
    /// Detach first, even if the device is open.
    DetachForce,
    /// Export the volume instead (move calls).
    Export,
}

/// Deserializes a JSON array that must hold exactly one element (`Volume/NAME`,
/// `Snapshot/NAME`).
pub(crate) struct One<T>(pub(crate) T);

impl<'de, T: Deserialize<'de>> Deserialize<'de> for One<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct OneVisitor<T>(PhantomData<T>);

        impl<'de, T: Deserialize<'de>> Visitor<'de> for OneVisitor<T> {
            type Value = One<T>;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an array with exactly one element")
            }

            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
                let first = seq
                    .next_element()?
                    .ok_or_else(|| de::Error::invalid_length(0, &self))?;
                if seq.next_element::<de::IgnoredAny>()?.is_some() {
                    return Err(de::Error::invalid_length(2, &self));
                }
                Ok(One(first))
            }
        }

        deserializer.deserialize_seq(OneVisitor(PhantomData))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_round_trip_dash_and_numbers() {
        let l: Limit = serde_json::from_str("\"-\"").unwrap();
        assert_eq!(l, Limit::Unlimited);
        let l: Limit = serde_json::from_str("250").unwrap();
        assert_eq!(l.value(), Some(250));
        assert_eq!(serde_json::to_string(&Limit::Unlimited).unwrap(), "\"-\"");
        assert_eq!(serde_json::to_string(&Limit::Value(7)).unwrap(), "7");
        assert!(serde_json::from_str::<Limit>("-1").is_err());
        assert!(serde_json::from_str::<Limit>("\"x\"").is_err());
    }

    #[test]
    fn template_values_accept_dash() {
        let v: TemplateValue<u8> = serde_json::from_str("\"-\"").unwrap();
        assert_eq!(v.value(), None);
        let v: TemplateValue<u8> = serde_json::from_str("3").unwrap();
        assert_eq!(v.value(), Some(3));
        assert!(serde_json::from_str::<TemplateValue<u8>>("300").is_err());
    }

    #[test]
    fn one_requires_exactly_one_element() {
        let One(v): One<u32> = serde_json::from_str("[5]").unwrap();
        assert_eq!(v, 5);
        assert!(serde_json::from_str::<One<u32>>("[]").is_err());
        assert!(serde_json::from_str::<One<u32>>("[1,2]").is_err());
    }

    #[test]
    fn unknown_limit_types_do_not_break_decoding() {
        let t: LimitType = serde_json::from_str("\"perTiB\"").unwrap();
        assert_eq!(t, LimitType::Unknown);
        let t: LimitType = serde_json::from_str("\"perGiB\"").unwrap();
        assert_eq!(t, LimitType::PerGiB);
    }
}
