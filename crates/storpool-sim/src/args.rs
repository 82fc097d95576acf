//! Decoding of request bodies: JSON objects with typed, validated members; `null` members are
//! treated as absent and unknown members are refused with `invalidParam` (spec 1.4).

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use crate::error::ApiErr;
use crate::names;

/// Parse a request body into JSON. An empty body is `None`.
pub(crate) fn parse_body(body: &[u8]) -> Result<Option<Value>, ApiErr> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(None);
    }
    serde_json::from_slice(body)
        .map(Some)
        .map_err(|e| ApiErr::invalid(format!("request body is not valid JSON: {e}")))
}

/// Remove `null` members recursively.
fn strip_nulls(v: Value) -> Value {
    match v {
        Value::Object(m) => Value::Object(
            m.into_iter()
                .filter(|(_, v)| !v.is_null())
                .map(|(k, v)| (k, strip_nulls(v)))
                .collect(),
        ),
        Value::Array(a) => Value::Array(a.into_iter().map(strip_nulls).collect()),
        other => other,
    }
}

/// A JSON object request with the members a call accepts.
pub(crate) struct Args {
    map: Map<String, Value>,
    what: &'static str,
}

impl Args {
    /// `body` must be an object (or absent); every member must be in `allowed`.
    pub(crate) fn object(
        body: Option<Value>,
        what: &'static str,
        allowed: &[&str],
    ) -> Result<Self, ApiErr> {
        let map = match body.map(strip_nulls) {
            None => Map::new(),
            Some(Value::Object(m)) => m,
            Some(other) => {
                return Err(ApiErr::invalid(format!(
                    "{what}: expected a JSON object, got {}",
                    type_name(&other)
                )));
            }
        };
        Self::from_map(map, what, allowed)
    }

    pub(crate) fn from_value(
        v: Value,
        what: &'static str,
        allowed: &[&str],
    ) -> Result<Self, ApiErr> {
        Self::object(Some(v), what, allowed)
    }

    fn from_map(
        map: Map<String, Value>,
        what: &'static str,
        allowed: &[&str],
    ) -> Result<Self, ApiErr> {
        if let Some(k) = map.keys().find(|k| !allowed.contains(&k.as_str())) {
            return Err(ApiErr::invalid(format!(
                "{what}: unknown member `{}`",
                names::shorten(k)
            )));
        }
        Ok(Self { map, what })
    }

    pub(crate) fn has(&self, k: &str) -> bool {
        self.map.contains_key(k)
    }

    fn bad(&self, k: &str, expected: &str, v: &Value) -> ApiErr {
        ApiErr::invalid(format!(
            "{}: member `{k}` must be {expected}, got {}",
            self.what,
            type_name(v)
        ))
    }

    pub(crate) fn str(&self, k: &str) -> Result<Option<&str>, ApiErr> {
        match self.map.get(k) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s)),
            Some(v) => Err(self.bad(k, "a string", v)),
        }
    }

    pub(crate) fn bool(&self, k: &str) -> Result<Option<bool>, ApiErr> {
        match self.map.get(k) {
            None => Ok(None),
            Some(Value::Bool(b)) => Ok(Some(*b)),
            Some(v) => Err(self.bad(k, "true or false", v)),
        }
    }

    /// A non-negative integer (a JSON number, or a decimal string when `lenient`).
    fn uint_of(&self, k: &str, v: &Value, lenient: bool) -> Result<u64, ApiErr> {
        match v {
            Value::Number(n) => n
                .as_u64()
                .ok_or_else(|| self.bad(k, "a non-negative integer", v)),
            Value::String(s) if lenient => s
                .parse::<u64>()
                .map_err(|_| self.bad(k, "a non-negative integer", v)),
            _ => Err(self.bad(k, "a non-negative integer", v)),
        }
    }

    pub(crate) fn u64(&self, k: &str) -> Result<Option<u64>, ApiErr> {
        self.map
            .get(k)
            .map(|v| self.uint_of(k, v, false))
            .transpose()
    }

    /// A signed integer (dates).
    pub(crate) fn i64(&self, k: &str) -> Result<Option<i64>, ApiErr> {
        match self.map.get(k) {
            None => Ok(None),
            Some(v @ Value::Number(n)) => n
                .as_i64()
                .map(Some)
                .ok_or_else(|| self.bad(k, "an integer", v)),
            Some(v) => Err(self.bad(k, "an integer", v)),
        }
    }

    /// `bw`/`iops`: an integer or `"-"` for unlimited. `Some(None)` = unlimited.
    #[allow(clippy::option_option)] // absent / unlimited / a value
    pub(crate) fn limit(&self, k: &str) -> Result<Option<Option<u64>>, ApiErr> {
        match self.map.get(k) {
            None => Ok(None),
            Some(Value::String(s)) if s == "-" => Ok(Some(None)),
            Some(v @ Value::Number(n)) => n
                .as_u64()
                .map(|n| Some(Some(n)))
                .ok_or_else(|| self.bad(k, "a non-negative integer or \"-\"", v)),
            Some(v) => Err(self.bad(k, "a non-negative integer or \"-\"", v)),
        }
    }

    pub(crate) fn tags(&self, k: &str) -> Result<Option<BTreeMap<String, String>>, ApiErr> {
        match self.map.get(k) {
            None => Ok(None),
            Some(Value::Object(m)) => {
                let mut out = BTreeMap::new();
                for (name, v) in m {
                    let Value::String(val) = v else {
                        return Err(ApiErr::invalid(format!(
                            "{}: tag `{}` must have a string value, got {}",
                            self.what,
                            names::shorten(name),
                            type_name(v)
                        )));
                    };
                    names::tag(name, val)?;
                    out.insert(name.clone(), val.clone());
                }
                Ok(Some(out))
            }
            Some(v) => Err(self.bad(k, "an object of tag names to values", v)),
        }
    }

    /// A list of ids given as numbers or decimal strings.
    pub(crate) fn id_list(&self, k: &str) -> Result<Option<Vec<u64>>, ApiErr> {
        match self.map.get(k) {
            None => Ok(None),
            Some(Value::Array(a)) => a
                .iter()
                .map(|v| self.uint_of(k, v, true))
                .collect::<Result<Vec<_>, _>>()
                .map(Some),
            Some(v) => Err(self.bad(k, "a list of ids", v)),
        }
    }

    pub(crate) fn value(&self, k: &str) -> Option<&Value> {
        self.map.get(k)
    }

    pub(crate) fn array(&self, k: &str) -> Result<Option<&Vec<Value>>, ApiErr> {
        match self.map.get(k) {
            None => Ok(None),
            Some(Value::Array(a)) => Ok(Some(a)),
            Some(v) => Err(self.bad(k, "a list", v)),
        }
    }

    pub(crate) fn required_str(&self, k: &str) -> Result<&str, ApiErr> {
        self.str(k)?
            .ok_or_else(|| ApiErr::invalid(format!("{}: member `{k}` is required", self.what)))
    }
}

/// The JSON type of a value, for error descriptions.
pub(crate) fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_body_and_empty_object_are_both_accepted() {
        assert!(parse_body(b"").unwrap().is_none());
        assert!(parse_body(b" \n").unwrap().is_none());
        let a = Args::object(parse_body(b"{}").unwrap(), "x", &[]).unwrap();
        assert!(!a.has("name"));
    }

    #[test]
    fn nulls_are_absent_and_unknown_members_are_refused() {
        let v = parse_body(br#"{"name": null, "size": 512}"#).unwrap();
        let a = Args::object(v, "VolumeCreate", &["name", "size"]).unwrap();
        assert_eq!(a.str("name").unwrap(), None);
        assert_eq!(a.u64("size").unwrap(), Some(512));
        let v = parse_body(br#"{"nmae": "x"}"#).unwrap();
        let e = Args::object(v, "VolumeCreate", &["name"]).err().unwrap();
        assert!(e.descr.contains("nmae"), "{e}");
    }

    #[test]
    fn client_ids_may_be_strings() {
        let v = parse_body(br#"{"rw": ["1", 2]}"#).unwrap();
        let a = Args::object(v, "x", &["rw"]).unwrap();
        assert_eq!(a.id_list("rw").unwrap(), Some(vec![1, 2]));
    }

    #[test]
    fn wrong_types_name_the_member() {
        let v = parse_body(br#"{"size": "big"}"#).unwrap();
        let a = Args::object(v, "VolumeCreate", &["size"]).unwrap();
        let e = a.u64("size").err().unwrap();
        assert!(e.descr.contains("`size`"), "{e}");
        assert_eq!(e.name, "invalidParam");
    }
}
