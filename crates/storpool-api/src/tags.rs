//! [`Tags`]: a volume's or snapshot's tags.

use std::collections::BTreeMap;
use std::fmt;

use serde::de::{MapAccess, Visitor};
use serde::ser::SerializeMap;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Tags of a volume or snapshot: names and their values, a JSON object on the wire. In updates
/// an empty value removes the tag.
///
/// Kept as one vector sorted by name, each name once: objects have a few tags, and a listing
/// of 100,000 volumes holds 100,000 of these. A `BTreeMap<String, String>` took a 544-byte
/// node for every map that is not empty; this takes one allocation of 48 bytes per tag.
/// Iteration is in name order, as a `BTreeMap`'s; [`From`] converts both ways.
///
/// ```
/// use storpool_api::Tags;
///
/// let mut tags = Tags::from([("qc", "tier1"), ("owner", "project-7")]);
/// tags.insert("owner", "project-8");
/// assert_eq!(tags.get("owner"), Some("project-8"));
/// assert_eq!(tags.iter().map(|(name, _)| name).collect::<Vec<_>>(), ["owner", "qc"]);
/// assert_eq!(serde_json::to_string(&tags)?, r#"{"owner":"project-8","qc":"tier1"}"#);
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct Tags(Vec<(String, String)>);

impl Tags {
    /// No tags.
    pub const fn new() -> Self {
        Self(Vec::new())
    }

    /// How many tags there are.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The value of the tag `name`.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.find(name).ok().map(|at| self.0[at].1.as_str())
    }

    /// Whether there is a tag `name`.
    pub fn contains(&self, name: &str) -> bool {
        self.find(name).is_ok()
    }

    /// Sets the tag `name` to `value`; the value it had, if any.
    pub fn insert(&mut self, name: impl Into<String>, value: impl Into<String>) -> Option<String> {
        let (name, value) = (name.into(), value.into());
        match self.find(&name) {
            Ok(at) => Some(std::mem::replace(&mut self.0[at].1, value)),
            Err(at) => {
                self.0.insert(at, (name, value));
                None
            }
        }
    }

    /// Removes the tag `name`; its value, if there was one.
    pub fn remove(&mut self, name: &str) -> Option<String> {
        self.find(name).ok().map(|at| self.0.remove(at).1)
    }

    /// The tags as `(name, value)`, in name order.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = (&str, &str)> + Clone + '_ {
        self.0
            .iter()
            .map(|(name, value)| (name.as_str(), value.as_str()))
    }

    fn find(&self, name: &str) -> Result<usize, usize> {
        self.0.binary_search_by(|(have, _)| have.as_str().cmp(name))
    }

    /// Sorts `entries` by name, the last of equal names winning (what inserting them one by one
    /// into a map does).
    fn from_entries(mut entries: Vec<(String, String)>) -> Self {
        if !entries.is_sorted_by(|a, b| a.0 < b.0) {
            // Stable: of equal names, the later ones stay later.
            entries.sort_by(|a, b| a.0.cmp(&b.0));
            entries.dedup_by(|later, kept| {
                let same = later.0 == kept.0;
                if same {
                    std::mem::swap(later, kept);
                }
                same
            });
        }
        Self(entries)
    }
}

impl<N: Into<String>, V: Into<String>> FromIterator<(N, V)> for Tags {
    fn from_iter<I: IntoIterator<Item = (N, V)>>(iter: I) -> Self {
        Self::from_entries(
            iter.into_iter()
                .map(|(name, value)| (name.into(), value.into()))
                .collect(),
        )
    }
}

impl<N: Into<String>, V: Into<String>> Extend<(N, V)> for Tags {
    fn extend<I: IntoIterator<Item = (N, V)>>(&mut self, iter: I) {
        for (name, value) in iter {
            self.insert(name, value);
        }
    }
}

impl<N: Into<String>, V: Into<String>, const COUNT: usize> From<[(N, V); COUNT]> for Tags {
    fn from(tags: [(N, V); COUNT]) -> Self {
        tags.into_iter().collect()
    }
}

impl From<BTreeMap<String, String>> for Tags {
    fn from(tags: BTreeMap<String, String>) -> Self {
        // Already sorted, each name once.
        Self(tags.into_iter().collect())
    }
}

impl From<Tags> for BTreeMap<String, String> {
    fn from(tags: Tags) -> Self {
        tags.0.into_iter().collect()
    }
}

impl IntoIterator for Tags {
    type Item = (String, String);
    type IntoIter = std::vec::IntoIter<(String, String)>;

    /// The tags as `(name, value)`, in name order.
    fn into_iter(self) -> Self::IntoIter {
        self.0.into_iter()
    }
}

impl<'a> IntoIterator for &'a Tags {
    type Item = (&'a str, &'a str);
    type IntoIter = std::iter::Map<
        std::slice::Iter<'a, (String, String)>,
        fn(&'a (String, String)) -> (&'a str, &'a str),
    >;

    /// The tags as `(name, value)`, in name order.
    fn into_iter(self) -> Self::IntoIter {
        self.0
            .iter()
            .map(|(name, value)| (name.as_str(), value.as_str()))
    }
}

impl Serialize for Tags {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.0.len()))?;
        for (name, value) in &self.0 {
            map.serialize_entry(name, value)?;
        }
        map.end()
    }
}

impl<'de> Deserialize<'de> for Tags {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct TagsVisitor;

        impl<'de> Visitor<'de> for TagsVisitor {
            type Value = Tags;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a map of tag names to values")
            }

            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Tags, A::Error> {
                let mut entries = Vec::with_capacity(map.size_hint().unwrap_or(0).min(64));
                while let Some(entry) = map.next_entry::<String, String>()? {
                    entries.push(entry);
                }
                Ok(Tags::from_entries(entries))
            }
        }

        deserializer.deserialize_map(TagsVisitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_kept_sorted_and_unique_the_last_value_winning() {
        let tags: Tags =
            serde_json::from_str(r#"{"b":"1","a":"2","b":"3","c":"4","a":"5"}"#).unwrap();
        let map: BTreeMap<String, String> =
            serde_json::from_str(r#"{"b":"1","a":"2","b":"3","c":"4","a":"5"}"#).unwrap();
        assert_eq!(tags, Tags::from(map.clone()));
        assert_eq!(BTreeMap::from(tags.clone()), map);
        assert_eq!(
            tags.iter().collect::<Vec<_>>(),
            [("a", "5"), ("b", "3"), ("c", "4")]
        );
        assert_eq!(
            serde_json::to_string(&tags).unwrap(),
            r#"{"a":"5","b":"3","c":"4"}"#
        );
    }

    #[test]
    fn insert_get_and_remove_behave_as_a_map() {
        let mut tags = Tags::new();
        assert_eq!(tags.insert("m", "1"), None);
        assert_eq!(tags.insert("a", "2"), None);
        assert_eq!(tags.insert("z", "3"), None);
        assert_eq!(tags.insert("m", "4").as_deref(), Some("1"));
        assert_eq!(
            (tags.len(), tags.get("m"), tags.get("x")),
            (3, Some("4"), None)
        );
        assert!(tags.contains("a") && !tags.contains("b"));
        assert_eq!(tags.remove("a").as_deref(), Some("2"));
        assert_eq!(tags.remove("a"), None);
        tags.extend([("b", "5"), ("m", "6")]);
        assert_eq!(
            tags.into_iter().collect::<Vec<_>>(),
            [
                ("b".to_owned(), "5".to_owned()),
                ("m".to_owned(), "6".to_owned()),
                ("z".to_owned(), "3".to_owned())
            ]
        );
    }

    #[test]
    fn anything_but_a_map_of_strings_is_refused() {
        for bad in [r#"["a"]"#, r#"{"a":1}"#, r#""a""#, "null"] {
            assert!(serde_json::from_str::<Tags>(bad).is_err(), "{bad}");
        }
        assert!(serde_json::from_str::<Tags>("{}").unwrap().is_empty());
    }
}
