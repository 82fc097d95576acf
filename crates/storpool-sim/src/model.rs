//! The in-memory cluster model, its indexes, and the undo-logging transaction every
//! mutating call runs in.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use serde::{Deserialize, Serialize};

use crate::error::ApiErr;

/// One attachment of an object to a client.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Att {
    pub(crate) rw: bool,
    pub(crate) pos: u16,
}

/// A short string kept inside the struct that holds it (up to 24 bytes; longer ones on the
/// heap): global ids and placement group names, read for every object of a listing. As heap
/// strings each was a cache miss of its own: a `VolumesList` of 100,000 right after a change
/// took 34-38 ms (fastest run 32-33) instead of 29-40 (27-28; `bench sim -- scale`, medians
/// of 15, four runs each, side by side).
pub(crate) type Short = compact_str::CompactString;

/// Tags of an object or template: pairs sorted by name, each name once, in one vector (names
/// and values of up to 24 bytes inline). A JSON object in the state, as a `BTreeMap` was. Read
/// for every object of a listing, where a `BTreeMap`'s node and four heap strings were up to
/// five cache misses for two tags: a `VolumesList` of 100,000 (half of them with two tags)
/// right after a change, fastest runs 30-35 -> 26-27 ms; 1.4 -> 1.2 MiB per 1,000 volumes.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(from = "BTreeMap<String, String>", into = "BTreeMap<String, String>")]
pub(crate) struct TagList(Vec<(Short, Short)>);

impl TagList {
    pub(crate) fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub(crate) fn get(&self, name: &str) -> Option<&str> {
        self.find(name).ok().map(|at| self.0[at].1.as_str())
    }

    /// Sets `name` to `value`; an empty value removes the tag (as updates do).
    pub(crate) fn merge(&mut self, name: &str, value: &str) {
        match (self.find(name), value.is_empty()) {
            (Ok(at), true) => {
                self.0.remove(at);
            }
            (Ok(at), false) => self.0[at].1 = value.into(),
            (Err(_), true) => {}
            (Err(at), false) => self.0.insert(at, (name.into(), value.into())),
        }
    }

    /// The tags as `(name, value)`, in name order.
    pub(crate) fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.0.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }

    pub(crate) fn to_map(&self) -> BTreeMap<String, String> {
        self.iter()
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect()
    }

    fn find(&self, name: &str) -> Result<usize, usize> {
        self.0.binary_search_by(|(have, _)| have.as_str().cmp(name))
    }
}

impl From<BTreeMap<String, String>> for TagList {
    fn from(tags: BTreeMap<String, String>) -> Self {
        Self(
            tags.into_iter()
                .map(|(k, v)| (k.into(), v.into()))
                .collect(),
        )
    }
}

impl From<TagList> for BTreeMap<String, String> {
    fn from(tags: TagList) -> Self {
        tags.to_map()
    }
}

/// A volume or a snapshot.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[allow(clippy::struct_excessive_bools)] // the API's own flags
pub(crate) struct Obj {
    pub(crate) id: u64,
    pub(crate) gid: Short,
    /// `None`: unnamed (shown as `~gid`).
    pub(crate) name: Option<String>,
    pub(crate) snapshot: bool,
    pub(crate) parent: Option<u64>,
    pub(crate) original_parent: Option<u64>,
    pub(crate) size: u64,
    pub(crate) replication: u8,
    pub(crate) place_all: Short,
    pub(crate) place_tail: Short,
    pub(crate) place_head: Short,
    pub(crate) template: Option<u64>,
    /// `None`: unlimited (`"-"`).
    pub(crate) bw: Option<u64>,
    pub(crate) iops: Option<u64>,
    pub(crate) reuse_server: bool,
    pub(crate) tags: TagList,
    pub(crate) created: i64,
    // Snapshot flags.
    pub(crate) auto_name: bool,
    pub(crate) bound: bool,
    pub(crate) transient: bool,
    pub(crate) deleted: bool,
    /// 0: none.
    pub(crate) target_delete_date: i64,
    /// The volume the snapshot was taken of.
    pub(crate) on_volume: Option<u64>,
    pub(crate) attachments: BTreeMap<u16, Att>,
}

impl Obj {
    /// The name shown in listings and used as the key of status maps.
    /// [`Obj::display_name`], borrowed when it is the plain name.
    pub(crate) fn display_name_ref(&self) -> std::borrow::Cow<'_, str> {
        match &self.name {
            Some(n) if !self.deleted => std::borrow::Cow::Borrowed(n),
            _ => std::borrow::Cow::Owned(self.display_name()),
        }
    }

    pub(crate) fn display_name(&self) -> String {
        match &self.name {
            Some(n) if self.deleted => format!("*{n}"),
            Some(n) => n.clone(),
            None if self.deleted => format!("*{}", self.gid),
            None => format!("~{}", self.gid),
        }
    }

    /// The name a device link under `storpool/` carries.
    pub(crate) fn link_name(&self) -> String {
        self.display_name()
    }

    /// Is the object collected automatically once nobody needs it?
    pub(crate) fn collectable(&self) -> bool {
        self.snapshot
            && (self.bound
                || self.transient
                || self.tags.get("transient").is_some_and(|v| !v.is_empty()))
    }
}

/// A volume template.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub(crate) struct Template {
    pub(crate) id: u64,
    pub(crate) name: String,
    pub(crate) parent: Option<u64>,
    pub(crate) size: Option<u64>,
    pub(crate) replication: Option<u8>,
    pub(crate) place_all: Option<String>,
    pub(crate) place_tail: Option<String>,
    pub(crate) place_head: Option<String>,
    pub(crate) bw: Option<u64>,
    pub(crate) iops: Option<u64>,
    pub(crate) reuse_server: Option<bool>,
    pub(crate) tags: TagList,
}

impl Template {
    pub(crate) fn all(&self) -> &str {
        self.place_all
            .as_deref()
            .unwrap_or(crate::DEFAULT_PLACEMENT_GROUP)
    }
    pub(crate) fn tail(&self) -> &str {
        self.place_tail.as_deref().unwrap_or_else(|| self.all())
    }
    pub(crate) fn head(&self) -> &str {
        self.place_head.as_deref().unwrap_or_else(|| self.all())
    }
}

/// A placement group.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub(crate) struct PlacementGroup {
    pub(crate) id: u64,
    pub(crate) name: String,
    pub(crate) disks: BTreeSet<u32>,
}

/// A disk of a simulated server.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub(crate) struct Disk {
    pub(crate) id: u32,
    pub(crate) server: u32,
    pub(crate) ssd: bool,
    pub(crate) size: u64,
    pub(crate) model: String,
    pub(crate) serial: String,
    pub(crate) description: String,
    /// `None`: up; `Some(g)`: down since generation `g`.
    pub(crate) down_since: Option<u64>,
}

/// Counters and identity of the cluster.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub(crate) struct Meta {
    pub(crate) generation: u64,
    pub(crate) next_object: u64,
    pub(crate) next_template: u64,
    pub(crate) next_pg: u64,
    pub(crate) location_id: String,
    pub(crate) sub_id: String,
    pub(crate) cluster_name: String,
    pub(crate) created: i64,
}

/// Client (a node running `storpool_block`) state; runtime only.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct ClientState {
    pub(crate) running: bool,
    pub(crate) applied: u64,
}

/// Keys of persisted rows.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) enum Key {
    Obj(u64),
    Template(u64),
    Pg(u64),
    Disk(u32),
}

enum Undo {
    Obj(u64, Option<Box<Obj>>),
    Template(u64, Option<Template>),
    Pg(u64, Option<PlacementGroup>),
    Disk(u32, Option<Disk>),
    Meta(Meta),
}

/// The whole cluster.
pub(crate) struct Cluster {
    pub(crate) meta: Meta,
    pub(crate) objects: BTreeMap<u64, Obj>,
    pub(crate) templates: BTreeMap<u64, Template>,
    pub(crate) pgs: BTreeMap<u64, PlacementGroup>,
    pub(crate) disks: BTreeMap<u32, Disk>,
    pub(crate) clients: BTreeMap<u16, ClientState>,
    names: HashMap<String, u64>,
    gids: HashMap<String, u64>,
    children: HashMap<u64, BTreeSet<u64>>,
    attached: BTreeSet<u64>,
    client_pos: HashMap<u16, BTreeSet<u16>>,
}

impl Cluster {
    /// `LOCATION.SUB.`: how every global id of this cluster starts.
    pub(crate) fn gid_prefix(&self) -> String {
        format!("{}.{}.", self.meta.location_id, self.meta.sub_id)
    }

    pub(crate) fn new(meta: Meta) -> Self {
        Self {
            meta,
            objects: BTreeMap::new(),
            templates: BTreeMap::new(),
            pgs: BTreeMap::new(),
            disks: BTreeMap::new(),
            clients: BTreeMap::new(),
            names: HashMap::new(),
            gids: HashMap::new(),
            children: HashMap::new(),
            attached: BTreeSet::new(),
            client_pos: HashMap::new(),
        }
    }

    // ---- index maintenance: every change of an object goes through these two ----

    fn unindex(&mut self, o: &Obj) {
        self.names.remove(&o.display_name());
        self.gids.remove(o.gid.as_str());
        if let Some(p) = o.parent
            && let Some(set) = self.children.get_mut(&p)
        {
            set.remove(&o.id);
            if set.is_empty() {
                self.children.remove(&p);
            }
        }
        if !o.attachments.is_empty() {
            self.attached.remove(&o.id);
        }
        for (client, att) in &o.attachments {
            if let Some(set) = self.client_pos.get_mut(client) {
                set.remove(&att.pos);
            }
        }
    }

    fn index(&mut self, o: &Obj) {
        self.names.insert(o.display_name(), o.id);
        self.gids.insert(o.gid.to_string(), o.id);
        if let Some(p) = o.parent {
            self.children.entry(p).or_default().insert(o.id);
        }
        if !o.attachments.is_empty() {
            self.attached.insert(o.id);
        }
        for (client, att) in &o.attachments {
            self.client_pos.entry(*client).or_default().insert(att.pos);
        }
    }

    /// Insert or replace an object without undo (loading, rollback).
    pub(crate) fn put_raw(&mut self, o: Obj) -> Option<Obj> {
        let old = self.objects.remove(&o.id);
        if let Some(old) = &old {
            self.unindex(old);
        }
        self.index(&o);
        self.objects.insert(o.id, o);
        old
    }

    fn remove_raw(&mut self, id: u64) -> Option<Obj> {
        let old = self.objects.remove(&id);
        if let Some(old) = &old {
            self.unindex(old);
        }
        old
    }

    // ---- lookups ----

    pub(crate) fn obj(&self, id: u64) -> Option<&Obj> {
        self.objects.get(&id)
    }

    pub(crate) fn by_name(&self, name: &str) -> Option<&Obj> {
        self.names.get(name).and_then(|id| self.objects.get(id))
    }

    pub(crate) fn by_gid(&self, gid: &str) -> Option<&Obj> {
        self.gids.get(gid).and_then(|id| self.objects.get(id))
    }

    /// Is the name taken by a volume or a snapshot?
    pub(crate) fn name_taken(&self, name: &str) -> bool {
        self.names.contains_key(name)
    }

    pub(crate) fn children(&self, id: u64) -> impl Iterator<Item = &Obj> {
        self.children
            .get(&id)
            .into_iter()
            .flat_map(|s| s.iter())
            .filter_map(|c| self.objects.get(c))
    }

    pub(crate) fn child_count(&self, id: u64) -> usize {
        self.children.get(&id).map_or(0, BTreeSet::len)
    }

    pub(crate) fn attached_objects(&self) -> impl Iterator<Item = &Obj> {
        self.attached.iter().filter_map(|id| self.objects.get(id))
    }

    pub(crate) fn free_pos(&self, client: u16) -> Option<u16> {
        let used = self.client_pos.get(&client);
        (0..crate::names::MAX_CLIENT_ATTACHMENTS).find(|p| used.is_none_or(|u| !u.contains(p)))
    }

    pub(crate) fn template_by_name(&self, name: &str) -> Option<&Template> {
        self.templates.values().find(|t| t.name == name)
    }

    pub(crate) fn pg_by_name(&self, name: &str) -> Option<&PlacementGroup> {
        self.pgs.values().find(|p| p.name == name)
    }

    pub(crate) fn template_name(&self, id: Option<u64>) -> String {
        id.and_then(|t| self.templates.get(&t))
            .map(|t| t.name.clone())
            .unwrap_or_default()
    }

    pub(crate) fn parent_name(&self, o: &Obj) -> String {
        o.parent
            .and_then(|p| self.objects.get(&p))
            .map(Obj::display_name)
            .unwrap_or_default()
    }

    /// The chain of ancestors, nearest first.
    pub(crate) fn ancestors(&self, o: &Obj) -> Vec<&Obj> {
        let mut out = Vec::new();
        let mut cur = o.parent;
        while let Some(p) = cur {
            let Some(po) = self.objects.get(&p) else {
                break;
            };
            out.push(po);
            cur = po.parent;
            if out.len() > self.objects.len() {
                break;
            }
        }
        out
    }

    pub(crate) fn load_template(&mut self, t: Template) {
        self.templates.insert(t.id, t);
    }
    pub(crate) fn load_pg(&mut self, p: PlacementGroup) {
        self.pgs.insert(p.id, p);
    }
    pub(crate) fn load_disk(&mut self, d: Disk) {
        self.disks.insert(d.id, d);
    }

    /// Serialize the current value of a row (`None`: deleted).
    pub(crate) fn row(&self, key: Key) -> Option<String> {
        let r = match key {
            Key::Obj(id) => self.objects.get(&id).map(serde_json::to_string),
            Key::Template(id) => self.templates.get(&id).map(serde_json::to_string),
            Key::Pg(id) => self.pgs.get(&id).map(serde_json::to_string),
            Key::Disk(id) => self.disks.get(&id).map(serde_json::to_string),
        };
        r.and_then(Result::ok)
    }
}

/// A mutation in progress: every change is logged so that it can be undone, and the set of
/// changed rows is known for persisting.
pub(crate) struct Txn<'a> {
    pub(crate) cl: &'a mut Cluster,
    undo: Vec<Undo>,
    meta_saved: bool,
    pub(crate) now: i64,
    /// Data-plane work, in order.
    pub(crate) data_ops: Vec<DataOp>,
    /// Clients the caller waits for after the commit (`VolumesReassignWait`).
    pub(crate) wait: crate::engine::WaitSpec,
}

/// Work on data files that a mutation needs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum DataOp {
    /// Give a new object a copy of another object's data (before the commit).
    CopyNew { from: String, to: String, size: u64 },
    /// Replace an existing object's data with a copy of another's (revert).
    Replace { from: String, to: String, size: u64 },
    /// Set the size of an existing object's data (after the commit).
    Resize { gid: String, size: u64 },
    /// Remove an object's data (after the commit).
    Remove { gid: String },
}

impl<'a> Txn<'a> {
    pub(crate) fn new(cl: &'a mut Cluster, now: i64) -> Self {
        Self {
            cl,
            undo: Vec::new(),
            meta_saved: false,
            now,
            data_ops: Vec::new(),
            wait: crate::engine::WaitSpec::default(),
        }
    }

    fn save_meta(&mut self) {
        if !self.meta_saved {
            self.undo.push(Undo::Meta(self.cl.meta.clone()));
            self.meta_saved = true;
        }
    }

    pub(crate) fn meta_mut(&mut self) -> &mut Meta {
        self.save_meta();
        &mut self.cl.meta
    }

    pub(crate) fn next_object_id(&mut self) -> u64 {
        let m = self.meta_mut();
        m.next_object += 1;
        m.next_object
    }

    pub(crate) fn new_gid(&self, id: u64) -> String {
        format!(
            "{}.{}.{}",
            self.cl.meta.location_id,
            self.cl.meta.sub_id,
            base36(id)
        )
    }

    pub(crate) fn put(&mut self, o: Obj) {
        let id = o.id;
        let old = self.cl.put_raw(o);
        self.undo.push(Undo::Obj(id, old.map(Box::new)));
    }

    pub(crate) fn remove(&mut self, id: u64) -> Option<Obj> {
        let old = self.cl.remove_raw(id);
        if let Some(o) = &old {
            self.undo.push(Undo::Obj(id, Some(Box::new(o.clone()))));
        }
        old
    }

    /// Change an object in place.
    pub(crate) fn update(&mut self, id: u64, f: impl FnOnce(&mut Obj)) -> Result<(), ApiErr> {
        let mut o = self
            .cl
            .obj(id)
            .cloned()
            .ok_or_else(|| ApiErr::not_found(format!("object {id} vanished")))?;
        f(&mut o);
        self.put(o);
        Ok(())
    }

    #[allow(clippy::needless_pass_by_value)] // takes ownership like `put`
    pub(crate) fn put_template(&mut self, t: Template) {
        let old = self.cl.templates.insert(t.id, t.clone());
        self.undo.push(Undo::Template(t.id, old));
    }

    pub(crate) fn remove_template(&mut self, id: u64) {
        if let Some(old) = self.cl.templates.remove(&id) {
            self.undo.push(Undo::Template(id, Some(old)));
        }
    }

    #[allow(clippy::needless_pass_by_value)] // takes ownership like `put`
    pub(crate) fn put_pg(&mut self, p: PlacementGroup) {
        let old = self.cl.pgs.insert(p.id, p.clone());
        self.undo.push(Undo::Pg(p.id, old));
    }

    pub(crate) fn remove_pg(&mut self, id: u64) {
        if let Some(old) = self.cl.pgs.remove(&id) {
            self.undo.push(Undo::Pg(id, Some(old)));
        }
    }

    #[allow(clippy::needless_pass_by_value)] // takes ownership like `put`
    pub(crate) fn put_disk(&mut self, d: Disk) {
        let old = self.cl.disks.insert(d.id, d.clone());
        self.undo.push(Undo::Disk(d.id, old));
    }

    pub(crate) fn remove_disk(&mut self, id: u32) {
        if let Some(old) = self.cl.disks.remove(&id) {
            self.undo.push(Undo::Disk(id, Some(old)));
        }
    }

    /// The rows changed, each once, and the objects as they were before (for device links).
    pub(crate) fn changes(&self) -> (BTreeSet<Key>, Vec<(u64, Option<Obj>)>) {
        let mut keys = BTreeSet::new();
        let mut before: BTreeMap<u64, Option<Obj>> = BTreeMap::new();
        for u in &self.undo {
            match u {
                Undo::Obj(id, old) => {
                    keys.insert(Key::Obj(*id));
                    // The first logged value is the value before the transaction.
                    before.entry(*id).or_insert_with(|| old.as_deref().cloned());
                }
                Undo::Template(id, _) => {
                    keys.insert(Key::Template(*id));
                }
                Undo::Pg(id, _) => {
                    keys.insert(Key::Pg(*id));
                }
                Undo::Disk(id, _) => {
                    keys.insert(Key::Disk(*id));
                }
                Undo::Meta(_) => {}
            }
        }
        (keys, before.into_iter().collect())
    }

    /// Undo every change.
    pub(crate) fn rollback(mut self) {
        while let Some(u) = self.undo.pop() {
            match u {
                Undo::Obj(id, old) => {
                    self.cl.remove_raw(id);
                    if let Some(o) = old {
                        self.cl.put_raw(*o);
                    }
                }
                Undo::Template(id, old) => {
                    self.cl.templates.remove(&id);
                    if let Some(t) = old {
                        self.cl.templates.insert(id, t);
                    }
                }
                Undo::Pg(id, old) => {
                    self.cl.pgs.remove(&id);
                    if let Some(p) = old {
                        self.cl.pgs.insert(id, p);
                    }
                }
                Undo::Disk(id, old) => {
                    self.cl.disks.remove(&id);
                    if let Some(d) = old {
                        self.cl.disks.insert(id, d);
                    }
                }
                Undo::Meta(m) => self.cl.meta = m,
            }
        }
    }
}

/// Lowercase base-36 digits of `n`.
pub(crate) fn base36(mut n: u64) -> String {
    const DIGITS: &[u8] = b"0123456789abcdefghijklmnopqrstuvwxyz";
    if n == 0 {
        return "0".to_owned();
    }
    let mut out = Vec::new();
    while n > 0 {
        out.push(DIGITS[usize::try_from(n % 36).unwrap_or(0)]);
        n /= 36;
    }
    out.reverse();
    String::from_utf8(out).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tag_lists_merge_like_updates_and_store_as_the_map_they_replace() {
        let mut tags = TagList::default();
        tags.merge("qc", "tier1");
        tags.merge("a-very-long-tag-name-beyond-inline", "x");
        tags.merge("owner", "p1");
        tags.merge("owner", "p2");
        tags.merge("gone", "");
        assert_eq!((tags.get("owner"), tags.get("gone")), (Some("p2"), None));
        tags.merge("qc", "");
        let map = BTreeMap::from([
            (
                "a-very-long-tag-name-beyond-inline".to_owned(),
                "x".to_owned(),
            ),
            ("owner".to_owned(), "p2".to_owned()),
        ]);
        assert_eq!(tags.to_map(), map);
        let stored = serde_json::to_string(&tags).unwrap();
        assert_eq!(stored, serde_json::to_string(&map).unwrap());
        assert_eq!(serde_json::from_str::<TagList>(&stored).unwrap(), tags);
    }

    fn meta() -> Meta {
        Meta {
            generation: 1,
            next_object: 0,
            next_template: 0,
            next_pg: 0,
            location_id: "s".into(),
            sub_id: "a".into(),
            cluster_name: "sim".into(),
            created: 0,
        }
    }

    fn vol(id: u64, name: &str, parent: Option<u64>) -> Obj {
        Obj {
            id,
            gid: format!("s.a.{}", base36(id)).into(),
            name: Some(name.into()),
            snapshot: false,
            parent,
            original_parent: parent,
            size: 512,
            replication: 3,
            place_all: "default".into(),
            place_tail: "default".into(),
            place_head: "default".into(),
            template: None,
            bw: None,
            iops: None,
            reuse_server: false,
            tags: TagList::default(),
            created: 0,
            auto_name: false,
            bound: false,
            transient: false,
            deleted: false,
            target_delete_date: 0,
            on_volume: None,
            attachments: BTreeMap::new(),
        }
    }

    #[test]
    fn base36_matches_global_id_tokens() {
        assert_eq!(base36(0), "0");
        assert_eq!(base36(35), "z");
        assert_eq!(base36(36), "10");
    }

    #[test]
    fn rollback_restores_objects_and_indexes() {
        let mut cl = Cluster::new(meta());
        cl.put_raw(vol(1, "a", None));
        let mut txn = Txn::new(&mut cl, 0);
        txn.meta_mut().generation = 7;
        txn.put(vol(2, "b", Some(1)));
        txn.update(1, |o| o.name = Some("renamed".into())).unwrap();
        txn.remove(1);
        txn.rollback();
        assert_eq!(cl.meta.generation, 1);
        assert!(cl.by_name("a").is_some());
        assert!(cl.by_name("b").is_none());
        assert!(cl.by_name("renamed").is_none());
        assert_eq!(cl.child_count(1), 0);
    }

    #[test]
    fn changes_report_the_value_before_the_transaction() {
        let mut cl = Cluster::new(meta());
        cl.put_raw(vol(1, "a", None));
        let mut txn = Txn::new(&mut cl, 0);
        txn.update(1, |o| o.size = 1024).unwrap();
        txn.update(1, |o| o.size = 2048).unwrap();
        let (keys, before) = txn.changes();
        assert_eq!(keys.len(), 1);
        assert_eq!(before[0].1.as_ref().unwrap().size, 512);
    }
}
