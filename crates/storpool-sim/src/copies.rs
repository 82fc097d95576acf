//! Data copies made ahead of their call's commit, without the state lock.
//!
//! A snapshot, clone or revert of an object that holds data copies its file, which takes as
//! long as the data is large (seconds for gigabytes). Such a call runs in three steps (see
//! `Shared::write_call`):
//!
//! 1. under the state lock, the call runs and is undone at once: its data operations give the
//!    [`CopyPlan`], which files to copy;
//! 2. without the lock (one copying call at a time), the copies are made into files of their
//!    own (`TO.tmp`, `TO.replace`), while [`Watch`] records every object whose data the
//!    calls committed meanwhile change;
//! 3. under the lock again, the call runs for real, on the state as it is then, and each copy
//!    it needs is taken from [`Ready`] if it was made from the same source and that source was
//!    not changed meanwhile, else made there and then (as every copy was before).
//!
//! Crash safety is that of a copy made under the lock: the copies are files no metadata names
//! until the commit, and start-up removes them (`.tmp`, and `.replace` not journaled).

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use crate::data::DataPlane;
use crate::model::DataOp;

/// One copy to make ahead: of `source`'s data into the data folder's file `file`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct PlannedCopy {
    /// The object whose file is copied (through the call's own new objects: a clone of a
    /// snapshot taken in the same call copies the snapshot's source).
    pub(crate) source: String,
    /// The file the copy is made in.
    pub(crate) file: String,
    /// Its size.
    pub(crate) size: u64,
    /// For a revert (`Replace`), else for a new object (`CopyNew`).
    pub(crate) replace: bool,
}

/// The copies a call needs, one entry per data operation of the call (`None`: no copy there,
/// or one that moves no bytes).
pub(crate) struct CopyPlan {
    pub(crate) data: Arc<DataPlane>,
    pub(crate) copies: Vec<Option<PlannedCopy>>,
}

/// The source of each data operation's data (`None` for operations that copy nothing),
/// followed through the objects the same operations create.
pub(crate) fn sources(ops: &[DataOp]) -> Vec<Option<String>> {
    let mut made_from: HashMap<&str, String> = HashMap::new();
    ops.iter()
        .map(|op| match op {
            DataOp::CopyNew { from, to, .. } => {
                let source = made_from
                    .get(from.as_str())
                    .cloned()
                    .unwrap_or_else(|| from.clone());
                made_from.insert(to, source.clone());
                Some(source)
            }
            DataOp::Replace { from, .. } => Some(
                made_from
                    .get(from.as_str())
                    .cloned()
                    .unwrap_or_else(|| from.clone()),
            ),
            DataOp::Resize { .. } | DataOp::Remove { .. } => None,
        })
        .collect()
}

/// The copies worth making ahead: those whose source holds data.
pub(crate) fn plan(ops: &[DataOp], data: &DataPlane) -> Vec<Option<PlannedCopy>> {
    ops.iter()
        .zip(sources(ops))
        .map(|(op, source)| {
            let source = source.filter(|s| data.holds_data(s))?;
            let (to, size, replace) = match op {
                DataOp::CopyNew { to, size, .. } => (to, *size, false),
                DataOp::Replace { to, size, .. } => (to, *size, true),
                DataOp::Resize { .. } | DataOp::Remove { .. } => return None,
            };
            Some(PlannedCopy {
                source,
                file: DataPlane::copy_file_name(to, replace),
                size,
                replace,
            })
        })
        .collect()
}

impl CopyPlan {
    /// Whether any copy moves bytes (else the call simply commits).
    pub(crate) fn is_empty(&self) -> bool {
        self.copies.iter().all(Option::is_none)
    }

    /// Make the copies (slow: no lock may be held). A copy that fails is left out: the commit
    /// makes it again and reports its error.
    pub(crate) fn make(self) -> Ready {
        let copies = self
            .copies
            .into_iter()
            .map(|c| {
                let c = c?;
                match self.data.copy_ahead(&c.source, &c.file, c.size) {
                    Ok(()) => Some(c),
                    Err(e) => {
                        tracing::debug!(error = %e, "copy of {} made ahead failed", c.source);
                        None
                    }
                }
            })
            .collect();
        Ready {
            data: self.data,
            copies,
            touched: HashSet::new(),
        }
    }
}

/// Copies made ahead, for the call's commit. Those the commit does not take are removed when
/// this is dropped.
pub(crate) struct Ready {
    data: Arc<DataPlane>,
    copies: Vec<Option<PlannedCopy>>,
    /// Objects whose data changed while the copies were made.
    pub(crate) touched: HashSet<String>,
}

impl Ready {
    /// The copy made ahead for data operation `i`, if it copied `source` for the same kind of
    /// operation and `source` did not change since.
    pub(crate) fn take(&mut self, i: usize, source: &str, replace: bool) -> Option<PlannedCopy> {
        let slot = self.copies.get_mut(i)?;
        if slot
            .as_ref()
            .is_some_and(|c| c.source == source && c.replace == replace)
            && !self.touched.contains(source)
        {
            slot.take()
        } else {
            None
        }
    }
}

impl Drop for Ready {
    fn drop(&mut self) {
        for c in self.copies.iter().flatten() {
            self.data.discard(&c.file);
        }
    }
}

/// While copies are made ahead: the objects whose data committed calls change.
#[derive(Default)]
pub(crate) struct Watch {
    active: bool,
    touched: HashSet<String>,
}

impl Watch {
    pub(crate) fn start(&mut self) {
        self.active = true;
        self.touched.clear();
    }

    /// Stop recording; the objects touched since [`Watch::start`].
    pub(crate) fn stop(&mut self) -> HashSet<String> {
        self.active = false;
        std::mem::take(&mut self.touched)
    }

    /// A commit changed (or replaced, resized, removed) the data of `gid`.
    pub(crate) fn touch(&mut self, gid: &str) {
        if self.active {
            self.touched.insert(gid.to_owned());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sources_follow_copies_made_by_the_same_call() {
        let ops = vec![
            DataOp::CopyNew {
                from: "v".into(),
                to: "s".into(),
                size: 1,
            },
            DataOp::CopyNew {
                from: "s".into(),
                to: "c".into(),
                size: 1,
            },
            DataOp::Resize {
                gid: "v".into(),
                size: 2,
            },
            DataOp::Replace {
                from: "x".into(),
                to: "v".into(),
                size: 1,
            },
        ];
        assert_eq!(
            sources(&ops),
            vec![
                Some("v".to_owned()),
                Some("v".to_owned()),
                None,
                Some("x".to_owned())
            ]
        );
    }
}
