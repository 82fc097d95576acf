//! Garbage collection after every change: bound and transient snapshots left without
//! children (and not attached) go away, and snapshots whose deletion was pending finish it
//! once they are down to one child.

use std::collections::BTreeSet;

use super::snapshots::delete_snapshot;
use crate::error::ApiErr;
use crate::model::Txn;

/// Collect what the transaction's changes made collectable. `extra` adds candidates.
pub(crate) fn collect(txn: &mut Txn<'_>, extra: Option<&[u64]>) -> Result<(), ApiErr> {
    let mut done: BTreeSet<u64> = BTreeSet::new();
    loop {
        let (_, before) = txn.changes();
        let mut cands: BTreeSet<u64> = BTreeSet::new();
        for (id, old) in &before {
            cands.insert(*id);
            if let Some(p) = old.as_ref().and_then(|o| o.parent) {
                cands.insert(p);
            }
            if let Some(p) = txn.cl.obj(*id).and_then(|o| o.parent) {
                cands.insert(p);
            }
        }
        cands.extend(extra.unwrap_or_default());
        let mut acted = false;
        for c in cands {
            if done.contains(&c) {
                continue;
            }
            let Some(o) = txn.cl.obj(c) else { continue };
            if !o.snapshot {
                continue;
            }
            let children = txn.cl.child_count(c);
            if o.deleted && children <= 1 {
                done.insert(c);
                delete_snapshot(txn, c, true)?;
                acted = true;
            } else if o.collectable() && children == 0 && o.attachments.is_empty() {
                done.insert(c);
                delete_snapshot(txn, c, false)?;
                acted = true;
            }
        }
        if !acted {
            return Ok(());
        }
    }
}
