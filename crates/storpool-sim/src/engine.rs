//! The engine: the cluster plus its store and data plane, the call table, and the
//! read/mutate paths every request goes through.

use std::collections::{BTreeSet, HashSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{Map, Value};

use crate::api;
use crate::copies::{self, CopyPlan, Ready, Watch};
use crate::data::DataPlane;
use crate::error::ApiErr;
use crate::model::{Cluster, DataOp, Key, Obj, Txn};
use crate::store::Store;

/// Behaviour switches of the simulated cluster.
#[derive(Clone, Debug)]
pub(crate) struct Settings {
    pub(crate) max_replication: u8,
    pub(crate) default_replication: Option<u8>,
    pub(crate) served: BTreeSet<u16>,
    pub(crate) omit_empty_tags: bool,
    pub(crate) version: String,
}

/// HTTP method of a call.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Method {
    Get,
    Post,
}

/// What a waiting call waits for.
#[derive(Clone, Debug, Default)]
pub(crate) struct WaitSpec {
    /// Clients that must be running and caught up.
    pub(crate) clients: Vec<u16>,
    /// `None`: wait as long as it takes.
    pub(crate) timeout: Option<Duration>,
    /// Run the (read) call again after the wait instead of answering the first result.
    pub(crate) rerun: bool,
}

/// The `data` of an answer: a JSON value, or JSON text written directly (large listings,
/// shared with the simulator's cache of them).
#[derive(Debug)]
pub(crate) enum Data {
    Json(Value),
    Raw(bytes::Bytes),
}

impl Data {
    pub(crate) fn into_value(self) -> Value {
        match self {
            Data::Json(v) => v,
            Data::Raw(s) => serde_json::from_slice(&s).unwrap_or(Value::Null),
        }
    }
}

/// The answer to one call.
pub(crate) struct Answer {
    pub(crate) result: Result<Data, ApiErr>,
    pub(crate) wait: Option<WaitSpec>,
    pub(crate) generation: u64,
}

/// Everything a handler may read besides the cluster.
pub(crate) struct Ctx<'a> {
    pub(crate) settings: &'a Settings,
    pub(crate) open: &'a HashSet<(String, u16)>,
    pub(crate) data: Option<&'a DataPlane>,
}

/// The simulator's state.
pub(crate) struct Core {
    pub(crate) cl: Cluster,
    pub(crate) settings: Settings,
    pub(crate) store: Option<Mutex<Store>>,
    pub(crate) data: Option<Arc<DataPlane>>,
    pub(crate) open: HashSet<(String, u16)>,
    pub(crate) clock_offset: i64,
    /// Objects whose data changes while copies are made ahead.
    pub(crate) watch: Watch,
    /// The earliest `targetDeleteDate` of the snapshots still to be deleted (`None`: there are
    /// none), as of a generation: see [`Core::expiry_due`].
    pub(crate) next_expiry: Mutex<Option<(u64, Option<i64>)>>,
}

/// What running a mutating call came to.
pub(crate) enum Ran {
    /// Done (committed or refused).
    Answered(Answer),
    /// Undone: it copies data, which is to be copied ahead first.
    Copies(CopyPlan),
}

/// Read handler.
pub(crate) type ReadFn = fn(&Cluster, &Ctx<'_>, &[String], Option<Value>) -> Result<Value, ApiErr>;
/// Read handler that writes its JSON text itself (UTF-8: it comes from `serde_json`), into
/// the buffer it is given (empty, possibly with room from an earlier answer).
pub(crate) type RawFn =
    fn(&Cluster, &Ctx<'_>, &[String], Option<Value>, Vec<u8>) -> Result<Vec<u8>, ApiErr>;
/// Mutating handler: returns the members to add to the `ok`/`generation` answer.
pub(crate) type WriteFn =
    fn(&mut Txn<'_>, &Ctx<'_>, &[String], Option<Value>) -> Result<Map<String, Value>, ApiErr>;

/// How a call is handled.
#[derive(Clone, Copy)]
pub(crate) enum Handler {
    Read(ReadFn),
    Raw(RawFn),
    Write(WriteFn),
}

/// One entry of the call table.
#[derive(Clone, Copy)]
pub(crate) struct CallDef {
    pub(crate) name: &'static str,
    pub(crate) method: Method,
    pub(crate) multi_cluster: bool,
    pub(crate) nargs: usize,
    pub(crate) handler: Handler,
}

impl Core {
    pub(crate) fn now(&self) -> i64 {
        unix_now() + self.clock_offset
    }

    pub(crate) fn ctx(&self) -> Ctx<'_> {
        Ctx {
            settings: &self.settings,
            open: &self.open,
            data: self.data.as_deref(),
        }
    }

    /// Whether a change can neither fsync nor copy data (the store then only writes to the
    /// write-ahead log in the page cache).
    pub(crate) fn changes_never_block(&self) -> bool {
        self.data.as_deref().is_none_or(DataPlane::never_blocks)
    }

    /// Run a read call.
    pub(crate) fn read(&self, f: ReadFn, args: &[String], body: Option<Value>) -> Answer {
        let ctx = self.ctx();
        let mut result = f(&self.cl, &ctx, args, body);
        let mut wait = None;
        // ClientConfigWait signals "not yet" through a dedicated error name that never leaves.
        if let Err(e) = &result
            && e.name == api::cluster::WAIT_FOR_CLIENT
        {
            let client = e.descr.parse::<u16>().unwrap_or(0);
            wait = Some(WaitSpec {
                clients: vec![client],
                timeout: None,
                rerun: true,
            });
            result = Ok(Value::Null);
        }
        Answer {
            result: result.map(Data::Json),
            wait,
            generation: self.cl.meta.generation,
        }
    }

    /// Run a read call that writes its own JSON text (into `buffer`'s room).
    pub(crate) fn read_raw(
        &self,
        f: RawFn,
        args: &[String],
        body: Option<Value>,
        buffer: Vec<u8>,
    ) -> Answer {
        Answer {
            result: f(&self.cl, &self.ctx(), args, body, buffer).map(|text| Data::Raw(text.into())),
            wait: None,
            generation: self.cl.meta.generation,
        }
    }

    /// Run a mutating call: all or nothing, durable before it returns; data copies are made
    /// in the commit, under the caller's lock.
    pub(crate) fn write(&mut self, f: WriteFn, args: &[String], body: Option<Value>) -> Answer {
        self.write_ready(f, args, body, None)
    }

    /// Run a mutating call as [`Core::write`] does, taking the copies made ahead in `ready`
    /// where they still fit.
    pub(crate) fn write_ready(
        &mut self,
        f: WriteFn,
        args: &[String],
        body: Option<Value>,
        ready: Option<Ready>,
    ) -> Answer {
        match self.run(f, args, body, false, ready) {
            Ran::Answered(answer) => answer,
            Ran::Copies(_) => self.internal_error(),
        }
    }

    /// Run a mutating call, unless it copies data that exists: then undo it and return what
    /// to copy ahead (see [`crate::copies`]).
    pub(crate) fn write_or_plan(
        &mut self,
        f: WriteFn,
        args: &[String],
        body: Option<Value>,
    ) -> Ran {
        self.run(f, args, body, true, None)
    }

    fn internal_error(&self) -> Answer {
        Answer {
            result: Err(ApiErr::invalid("internal error while handling the call")),
            wait: None,
            generation: self.cl.meta.generation,
        }
    }

    fn run(
        &mut self,
        f: WriteFn,
        args: &[String],
        body: Option<Value>,
        plan: bool,
        mut ready: Option<Ready>,
    ) -> Ran {
        let now = self.now();
        let Core {
            cl,
            settings,
            store,
            data,
            open,
            watch,
            ..
        } = self;
        let data = data.as_ref();
        let ctx = Ctx {
            settings,
            open,
            data: data.map(AsRef::as_ref),
        };
        let mut txn = Txn::new(cl, now);
        let mut wait = None;
        let result = f(&mut txn, &ctx, args, body).and_then(|extra| {
            api::gc::collect(&mut txn, None)?;
            wait = txn_wait(&mut txn);
            Ok(extra)
        });
        if plan
            && result.is_ok()
            && let Some(dp) = data
        {
            let plan = CopyPlan {
                data: dp.clone(),
                copies: copies::plan(&txn.data_ops, dp),
            };
            if !plan.is_empty() {
                txn.rollback();
                return Ran::Copies(plan);
            }
        }
        let result = match result {
            Ok(extra) => commit(
                txn,
                Stores {
                    store: store.as_ref(),
                    data: data.map(AsRef::as_ref),
                    ready: ready.as_mut(),
                    watch,
                },
                settings,
            )
            .map(|generation| {
                let mut m = Map::new();
                m.insert("ok".into(), Value::Bool(true));
                m.insert("generation".into(), generation.into());
                m.extend(extra);
                Value::Object(m)
            }),
            Err(e) => {
                txn.rollback();
                Err(e)
            }
        };
        if result.is_err() {
            wait = None;
        }
        Ran::Answered(Answer {
            result: result.map(Data::Json),
            wait,
            generation: self.cl.meta.generation,
        })
    }

    /// Replace the in-memory model with the store's committed state (after a panic).
    pub(crate) fn reload(&mut self) {
        let loaded = match &self.store {
            Some(store) => match store.lock() {
                Ok(s) => s.load(),
                Err(_) => return,
            },
            None => return,
        };
        match loaded {
            Ok(Some(mut cl)) => {
                cl.clients = std::mem::take(&mut self.cl.clients);
                self.cl = cl;
                tracing::warn!("reloaded the cluster state from the store after an internal error");
            }
            Ok(None) => {}
            Err(e) => tracing::error!(error = %e, "cannot reload the cluster state"),
        }
    }

    /// Is any snapshot's `targetDeleteDate` due? Asked every second: the earliest date is
    /// looked for among all objects once per generation of the state and kept, so a state
    /// that does not change is not walked again (a walk over 100,000 objects every second
    /// competed with the calls for the cores).
    pub(crate) fn expiry_due(&self) -> bool {
        let generation = self.cl.meta.generation;
        let mut kept = self
            .next_expiry
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let earliest = match *kept {
            Some((seen, earliest)) if seen == generation => earliest,
            _ => {
                let earliest = self
                    .cl
                    .objects
                    .values()
                    .filter(|o| expires(o))
                    .map(|o| o.target_delete_date)
                    .min();
                *kept = Some((generation, earliest));
                earliest
            }
        };
        earliest.is_some_and(|date| date <= self.now())
    }

    /// Collect snapshots whose `targetDeleteDate` has passed. Returns how many were deleted.
    pub(crate) fn expire(&mut self) -> usize {
        let now = self.now();
        let due: Vec<u64> = self
            .cl
            .objects
            .values()
            .filter(|o| expires(o) && o.target_delete_date <= now)
            .map(|o| o.id)
            .collect();
        if due.is_empty() {
            return 0;
        }
        let n = due.len();
        let Core {
            cl,
            settings,
            store,
            data,
            watch,
            ..
        } = self;
        let mut txn = Txn::new(cl, now);
        let mut ok = true;
        for id in due {
            if let Err(e) = api::snapshots::delete_snapshot(&mut txn, id, true) {
                tracing::warn!(error = %e, "deferred snapshot deletion failed");
                ok = false;
                break;
            }
        }
        if ok && api::gc::collect(&mut txn, None).is_ok() {
            let stores = Stores {
                store: store.as_ref(),
                data: data.as_deref(),
                ready: None,
                watch,
            };
            if let Err(e) = commit(txn, stores, settings) {
                tracing::warn!(error = %e, "deferred snapshot deletion failed");
                return 0;
            }
            n
        } else {
            txn.rollback();
            0
        }
    }
}

/// Take the wait request a handler left in the transaction.
fn txn_wait(txn: &mut Txn<'_>) -> Option<WaitSpec> {
    let w = std::mem::take(&mut txn.wait);
    if w.clients.is_empty() && w.timeout.is_none() {
        return None;
    }
    let down: Vec<u16> = w
        .clients
        .iter()
        .copied()
        .filter(|c| txn.cl.clients.get(c).is_some_and(|s| !s.running))
        .collect();
    if down.is_empty() || w.timeout == Some(Duration::ZERO) {
        return None;
    }
    Some(WaitSpec {
        clients: down,
        timeout: w.timeout,
        rerun: false,
    })
}

/// Data files made for a change before it is stored: removed again if it is not.
#[derive(Default)]
struct NewFiles {
    /// Objects whose data file was made.
    created: Vec<String>,
    /// (replacement file, object) of reverts.
    replaced: Vec<(String, String)>,
}

impl NewFiles {
    fn undo(&self, dp: &DataPlane) {
        for gid in &self.created {
            dp.remove(gid);
        }
        for (tmp, _) in &self.replaced {
            dp.discard(tmp);
        }
    }
}

/// Step 1 of a commit: the data files a change needs, made before the metadata that names them
/// (copies, revert replacements, and the files behind this host's new devices: an attach must
/// not answer ok without its device). On failure, nothing is left behind.
fn make_files(
    txn: &Txn<'_>,
    ops: &[DataOp],
    before: &[(u64, Option<Obj>)],
    dp: &DataPlane,
    settings: &Settings,
    mut ready: Option<&mut Ready>,
) -> Result<NewFiles, ApiErr> {
    let mut files = NewFiles::default();
    for (i, (op, source)) in ops.iter().zip(copies::sources(ops)).enumerate() {
        let mut made = |replace| {
            let source = source.as_deref()?;
            ready.as_deref_mut()?.take(i, source, replace)
        };
        let r = match op {
            DataOp::CopyNew { from, to, size } => match made(false) {
                Some(c) => dp.adopt_new(&c.file, to, *size).map(|()| true),
                None => dp.copy_new(from, to, *size),
            }
            .map(|made| {
                if made {
                    files.created.push(to.clone());
                }
            }),
            DataOp::Replace { from, to, size } => match made(true) {
                Some(c) => dp.adopt_replace(&c.file, to, *size),
                None => dp.prepare_replace(from, to, *size),
            }
            .map(|tmp| files.replaced.push((tmp, to.clone()))),
            DataOp::Resize { .. } | DataOp::Remove { .. } => Ok(()),
        };
        if let Err(e) = r {
            files.undo(dp);
            return Err(ApiErr::insufficient(format!("cannot store data: {e}")));
        }
    }
    for (id, _) in before {
        let Some(o) = txn.cl.obj(*id) else { continue };
        match dp.prepare_device(o, &settings.served) {
            Ok(true) => files.created.push(o.gid.to_string()),
            Ok(false) => {}
            Err(e) => {
                files.undo(dp);
                return Err(ApiErr::insufficient(format!(
                    "cannot make the device of `{}` on this host: cannot create its data file: {e}",
                    o.display_name()
                )));
            }
        }
    }
    Ok(files)
}

/// Step 2 of a commit: the changed rows, durably. A full disk is what a full cluster answers
/// (`insufficientResources`: retrying cannot help); other failures are transient.
fn store_rows(
    txn: &Txn<'_>,
    keys: &BTreeSet<Key>,
    store: &Mutex<Store>,
    pending: &[(String, String)],
) -> Result<(), ApiErr> {
    let rows: Vec<(Key, Option<String>)> = keys.iter().map(|k| (*k, txn.cl.row(*k))).collect();
    let meta = serde_json::to_string(&txn.cl.meta).unwrap_or_default();
    let Ok(mut s) = store.lock() else {
        return Err(ApiErr::busy("cannot persist the change: store lock poisoned").transient());
    };
    s.commit(&meta, &rows, pending).map_err(|e| {
        if crate::store::is_full(&e) {
            ApiErr::insufficient(format!(
                "cannot store the change: the disk holding the cluster's state is full ({e})"
            ))
        } else {
            ApiErr::busy(format!("cannot persist the change: {e}")).transient()
        }
    })
}

/// Where a commit writes: the store, the data plane, the copies made ahead for it, and the
/// watch over data that copies in progress depend on.
struct Stores<'a> {
    store: Option<&'a Mutex<Store>>,
    data: Option<&'a DataPlane>,
    ready: Option<&'a mut Ready>,
    watch: &'a mut Watch,
}

/// Bump the generation, write the changed rows, and apply the data-plane work in a
/// crash-safe order. On failure everything is rolled back.
fn commit(mut txn: Txn<'_>, stores: Stores<'_>, settings: &Settings) -> Result<u64, ApiErr> {
    let Stores {
        store,
        data,
        ready,
        watch,
    } = stores;
    txn.meta_mut().generation += 1;
    let generation = txn.cl.meta.generation;
    let ops = std::mem::take(&mut txn.data_ops);
    let (keys, before) = txn.changes();
    // 1. New data files are made before the metadata that names them.
    let files = match data.map(|dp| make_files(&txn, &ops, &before, dp, settings, ready)) {
        Some(Err(e)) => {
            txn.rollback();
            return Err(e);
        }
        Some(Ok(files)) => files,
        None => NewFiles::default(),
    };
    let replaced = &files.replaced;
    // 2. The metadata, durably.
    if let Some(store) = store
        && let Err(e) = store_rows(&txn, &keys, store, replaced)
    {
        if let Some(dp) = data {
            files.undo(dp);
        }
        txn.rollback();
        return Err(e);
    }
    // 3. Work that is only safe once the change is durable.
    if let Some(dp) = data {
        for (tmp, gid) in replaced {
            dp.finish_replace(tmp, gid);
            watch.touch(gid);
        }
        if !replaced.is_empty()
            && let Some(store) = store
            && let Ok(mut s) = store.lock()
        {
            s.clear_pending();
        }
        for op in &ops {
            match op {
                DataOp::Resize { gid, size } => {
                    dp.resize(gid, *size);
                    watch.touch(gid);
                }
                DataOp::Remove { gid } => {
                    dp.remove(gid);
                    watch.touch(gid);
                }
                DataOp::CopyNew { .. } | DataOp::Replace { .. } => {}
            }
        }
        for (id, old) in &before {
            let new = txn.cl.obj(*id);
            dp.update_links(old.as_ref(), new, &settings.served);
        }
    }
    // Running clients apply the new configuration at once.
    for c in txn.cl.clients.values_mut() {
        if c.running {
            c.applied = generation;
        }
    }
    Ok(generation)
}

impl ApiErr {
    pub(crate) fn transient(mut self) -> Self {
        self.transient = true;
        self
    }
}

/// Seconds since the epoch.
pub(crate) fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

/// Resolve a volume reference (`name` or `~gid`) to a volume.
pub(crate) fn find_volume<'c>(cl: &'c Cluster, r: &str) -> Result<&'c Obj, ApiErr> {
    crate::names::volume_ref(r)?;
    let o = match r.strip_prefix('~') {
        Some(gid) => cl.by_gid(gid),
        None => cl.by_name(r),
    };
    match o {
        Some(o) if !o.snapshot => Ok(o),
        _ => Err(ApiErr::not_found(format!("volume {r} does not exist"))),
    }
}

/// Whether `o` is a snapshot to be deleted at its `targetDeleteDate`.
fn expires(o: &Obj) -> bool {
    o.snapshot && !o.deleted && o.target_delete_date > 0
}

/// Resolve a snapshot reference (`name`, `*name` or `~gid`) to a snapshot.
pub(crate) fn find_snapshot<'c>(cl: &'c Cluster, r: &str) -> Result<&'c Obj, ApiErr> {
    crate::names::snapshot_ref(r)?;
    let o = match r.strip_prefix('~') {
        Some(gid) => cl.by_gid(gid),
        None => cl.by_name(r),
    };
    match o {
        Some(o) if o.snapshot => Ok(o),
        _ => Err(ApiErr::not_found(format!("snapshot {r} does not exist"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn core_with_store(dir: &std::path::Path) -> Core {
        let store = Store::open(&dir.join("state.db"), false).unwrap();
        Core {
            cl: crate::sim::new_cluster(&crate::sim::ClusterLayout::default()),
            settings: Settings {
                max_replication: 3,
                default_replication: None,
                served: BTreeSet::new(),
                omit_empty_tags: false,
                version: "test".to_owned(),
            },
            store: Some(Mutex::new(store)),
            data: None,
            open: HashSet::new(),
            clock_offset: 0,
            watch: Watch::default(),
            next_expiry: Mutex::default(),
        }
    }

    /// The earliest date is kept per generation, but whether it is due is asked of the clock
    /// each time: time passing makes a kept date due, and a change is seen at once.
    #[test]
    fn expiry_is_due_once_the_clock_passes_the_earliest_date_and_follows_changes() {
        let dir = tempfile::tempdir().unwrap();
        let mut core = core_with_store(dir.path());
        let body = serde_json::json!({"name": "v", "size": 1 << 30, "replication": 3});
        core.write(api::volumes::create, &[], Some(body))
            .result
            .unwrap();
        assert!(!core.expiry_due());
        for (name, after) in [("late", 7200), ("soon", 3600)] {
            let body = serde_json::json!({"name": name, "deleteAfter": after});
            core.write(api::snapshots::create, &["v".to_owned()], Some(body))
                .result
                .unwrap();
        }
        assert!(!core.expiry_due());
        core.clock_offset += 3599;
        assert!(!core.expiry_due());
        core.clock_offset += 2;
        assert!(
            core.expiry_due(),
            "the kept date must be compared with the clock"
        );
        assert_eq!(core.expire(), 1);
        assert!(core.cl.by_name("soon").is_none());
        assert!(!core.expiry_due(), "the deletion must be seen");
        let body = serde_json::json!({"name": "now", "deleteAfter": 1});
        core.write(api::snapshots::create, &["v".to_owned()], Some(body))
            .result
            .unwrap();
        core.clock_offset += 2;
        assert!(core.expiry_due(), "a new snapshot must be seen");
        core.clock_offset += 3600;
        assert_eq!(core.expire(), 2);
        assert!(!core.expiry_due());
    }

    #[test]
    fn a_full_disk_is_insufficient_resources_not_a_transient_busy() {
        let dir = tempfile::tempdir().unwrap();
        let mut core = core_with_store(dir.path());
        if let Some(store) = &core.store {
            store.lock().unwrap().freeze_size();
        }
        let mut failed = None;
        for i in 0..10_000 {
            let body =
                serde_json::json!({"name": format!("v{i}"), "size": 1 << 30, "replication": 3});
            let answer = core.write(api::volumes::create, &[], Some(body));
            if let Err(e) = answer.result {
                failed = Some((i, e));
                break;
            }
        }
        let (i, e) = failed.expect("the database never filled up");
        assert_eq!(e.name, crate::error::names::INSUFFICIENT_RESOURCES, "{e}");
        assert!(!e.transient, "{e}");
        // Nothing of the failed call remains.
        assert!(core.cl.by_name(&format!("v{i}")).is_none());
        assert_eq!(core.cl.objects.len(), i);
    }
}
