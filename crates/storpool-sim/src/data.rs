//! The data plane: one sparse file per volume or snapshot (named by global id), copies that
//! keep holes (or reflinks where the filesystem can), and the device links `storpool_block`
//! would create for the clients this host serves.

use std::collections::{BTreeSet, HashSet};
use std::fs::{self, File, OpenOptions};
use std::io;
use std::os::unix::fs::{FileExt, MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use crate::links::{DevLinks, Folder};
use crate::model::{Cluster, Obj};
use crate::statedir::{self, FILE_MODE, READ_ONLY_MODE};

/// Files under the state directory and links under the device root.
pub(crate) struct DataPlane {
    dir: PathBuf,
    links: DevLinks,
    sync: bool,
    with_data: Mutex<BTreeSet<String>>,
    /// `LOCATION.SUB.`: how the names of this simulator's files start.
    gid_prefix: String,
}

/// `O_NOFOLLOW`, for `OpenOptionsExt::custom_flags`.
#[allow(clippy::cast_possible_wrap)] // a small flag bit
const NOFOLLOW: i32 = rustix::fs::OFlags::NOFOLLOW.bits() as i32;

const TMP_SUFFIX: &str = ".tmp";
const REPLACE_SUFFIX: &str = ".replace";

/// What a file of this simulator in its data folder is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Own {
    /// An object's data, named by its global id.
    Data,
    /// A copy that is not committed yet (`GLOBALID.tmp`).
    Tmp,
    /// A revert's new content (`GLOBALID.replace`).
    Replace,
}

/// Which of this simulator's files `name` is: a global id of this cluster (`prefix` then
/// lowercase letters and digits), bare or with a suffix of ours. `None`: not ours.
fn own_file(prefix: &str, name: &str) -> Option<Own> {
    let (gid, kind) = if let Some(gid) = name.strip_suffix(TMP_SUFFIX) {
        (gid, Own::Tmp)
    } else if let Some(gid) = name.strip_suffix(REPLACE_SUFFIX) {
        (gid, Own::Replace)
    } else {
        (name, Own::Data)
    };
    let id = gid.strip_prefix(prefix)?;
    let ok = !id.is_empty()
        && id
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit());
    ok.then_some(kind)
}

#[allow(clippy::needless_pass_by_value)] // used as a map_err closure
fn io_ctx(e: io::Error, what: &str, path: &Path) -> io::Error {
    io::Error::new(e.kind(), format!("{what} {}: {e}", path.display()))
}

impl DataPlane {
    /// Open the data folder (creating it if needed) and the device root. Only regular files
    /// named like this cluster's global ids (`gid_prefix` + id, maybe with a suffix of ours)
    /// are the simulator's: anything else in the folder is left alone.
    pub(crate) fn open(
        dir: &Path,
        links: DevLinks,
        sync: bool,
        gid_prefix: String,
    ) -> io::Result<Self> {
        statedir::sub_dir(dir).map_err(|e| io_ctx(e, "create", dir))?;
        let mut with_data = BTreeSet::new();
        for entry in fs::read_dir(dir).map_err(|e| io_ctx(e, "read", dir))? {
            let entry = entry?;
            let regular = entry.file_type().is_ok_and(|t| t.is_file());
            let name = entry.file_name();
            match name
                .to_str()
                .filter(|_| regular)
                .and_then(|n| own_file(&gid_prefix, n).map(|kind| (n, kind)))
            {
                // A copy that never got committed.
                Some((_, Own::Tmp)) => {
                    let _ = fs::remove_file(entry.path());
                }
                Some((name, Own::Data)) => {
                    with_data.insert(name.to_owned());
                }
                // Replayed or dropped by `reconcile`.
                Some((_, Own::Replace)) => {}
                None => tracing::warn!(
                    "leaving {} alone: it is not a file of this simulator",
                    entry.path().display()
                ),
            }
        }
        Ok(Self {
            dir: dir.to_owned(),
            links,
            sync,
            with_data: Mutex::new(with_data),
            gid_prefix,
        })
    }

    pub(crate) fn path(&self, gid: &str) -> PathBuf {
        self.dir.join(gid)
    }

    fn has(&self, gid: &str) -> bool {
        self.with_data.lock().is_ok_and(|s| s.contains(gid))
    }

    fn mark(&self, gid: &str, present: bool) {
        if let Ok(mut s) = self.with_data.lock() {
            if present {
                s.insert(gid.to_owned());
            } else {
                s.remove(gid);
            }
        }
    }

    /// Whether no change can block on this data plane for long: no fsync, and no object holds
    /// data (so there is nothing to copy).
    pub(crate) fn never_blocks(&self) -> bool {
        !self.sync && self.with_data.lock().is_ok_and(|s| s.is_empty())
    }

    pub(crate) fn gids_with_data(&self) -> Vec<String> {
        self.with_data
            .lock()
            .map(|s| s.iter().cloned().collect())
            .unwrap_or_default()
    }

    /// Bytes allocated to the object's file (0 without a file).
    pub(crate) fn allocated(&self, gid: &str) -> u64 {
        if !self.has(gid) {
            return 0;
        }
        fs::metadata(self.path(gid)).map_or(0, |m| m.blocks() * 512)
    }

    fn sync_dir(&self) {
        if self.sync
            && let Ok(d) = File::open(&self.dir)
        {
            let _ = d.sync_all();
        }
    }

    /// Write a copy of `from`'s data (or zeros) of `size` bytes to a temporary file.
    fn copy_to_tmp(&self, from: &str, tmp: &Path, size: u64) -> io::Result<()> {
        if self.has(from) {
            copy_sparse(&self.path(from), tmp)?;
        } else {
            OpenOptions::new()
                .write(true)
                .create(true)
                .truncate(true)
                .mode(FILE_MODE)
                .open(tmp)
                .map_err(|e| io_ctx(e, "create", tmp))?;
        }
        let f = OpenOptions::new().write(true).open(tmp)?;
        f.set_len(size)?;
        if self.sync {
            f.sync_all()?;
        }
        Ok(())
    }

    /// Give a new object a copy of `from`'s data. Returns whether a file was made (an object
    /// whose source has no data has no file either: it reads as zeros).
    pub(crate) fn copy_new(&self, from: &str, to: &str, size: u64) -> io::Result<bool> {
        if !self.has(from) {
            return Ok(false);
        }
        let tmp = self.dir.join(format!("{to}{TMP_SUFFIX}"));
        if let Err(e) = self.copy_to_tmp(from, &tmp, size) {
            let _ = fs::remove_file(&tmp);
            return Err(e);
        }
        fs::rename(&tmp, self.path(to))?;
        self.sync_dir();
        self.mark(to, true);
        Ok(true)
    }

    /// Whether the object has a data file (a copy of it moves bytes).
    pub(crate) fn holds_data(&self, gid: &str) -> bool {
        self.has(gid)
    }

    /// The file a copy for `to` is made in ahead of its commit: `TO.tmp` for a new object
    /// (removed at start-up if never committed), `TO.replace` for a revert (removed at start-up
    /// unless journaled).
    pub(crate) fn copy_file_name(to: &str, replace: bool) -> String {
        format!("{to}{}", if replace { REPLACE_SUFFIX } else { TMP_SUFFIX })
    }

    /// Copy `from`'s data into the data folder's file `name`, `size` bytes long, made durable
    /// (with fsync on): the slow part of a snapshot, clone or revert, done without the state
    /// lock. Nothing is left behind on failure.
    pub(crate) fn copy_ahead(&self, from: &str, name: &str, size: u64) -> io::Result<()> {
        let tmp = self.dir.join(name);
        let r = self.copy_to_tmp(from, &tmp, size);
        if r.is_err() {
            let _ = fs::remove_file(&tmp);
        }
        r
    }

    /// Make the size of a copy made ahead `size` (the object may have been resized since).
    fn fit_copy(&self, tmp: &Path, size: u64) -> io::Result<()> {
        let f = OpenOptions::new().write(true).open(tmp)?;
        if f.metadata()?.len() != size {
            f.set_len(size)?;
            if self.sync {
                f.sync_all()?;
            }
        }
        Ok(())
    }

    /// Give a new object the copy made ahead in `name` (as [`DataPlane::copy_new`] would).
    pub(crate) fn adopt_new(&self, name: &str, to: &str, size: u64) -> io::Result<()> {
        let tmp = self.dir.join(name);
        self.fit_copy(&tmp, size)?;
        fs::rename(&tmp, self.path(to))?;
        self.sync_dir();
        self.mark(to, true);
        Ok(())
    }

    /// Use the copy made ahead in `name` as the first half of a revert of `to` (as
    /// [`DataPlane::prepare_replace`] would); returns the replacement file's name.
    pub(crate) fn adopt_replace(&self, name: &str, to: &str, size: u64) -> io::Result<String> {
        let tmp = self.dir.join(name);
        self.fit_copy(&tmp, size)?;
        let wanted = Self::copy_file_name(to, true);
        if name != wanted {
            fs::rename(&tmp, self.dir.join(&wanted))?;
        }
        Ok(wanted)
    }

    /// First half of a revert: the new content, ready to be renamed over the volume's file.
    pub(crate) fn prepare_replace(&self, from: &str, to: &str, size: u64) -> io::Result<String> {
        let name = format!("{to}{REPLACE_SUFFIX}");
        let tmp = self.dir.join(&name);
        if let Err(e) = self.copy_to_tmp(from, &tmp, size) {
            let _ = fs::remove_file(&tmp);
            return Err(e);
        }
        Ok(name)
    }

    /// Second half of a revert, once the metadata is durable (also replayed at start-up).
    pub(crate) fn finish_replace(&self, tmp: &str, gid: &str) {
        let tmp_path = self.dir.join(tmp);
        if !tmp_path.exists() {
            return;
        }
        statedir::make_private(&tmp_path, FILE_MODE);
        match fs::rename(&tmp_path, self.path(gid)) {
            Ok(()) => {
                self.sync_dir();
                self.mark(gid, true);
            }
            Err(e) => tracing::warn!(error = %e, "cannot replace the data of {gid}"),
        }
    }

    pub(crate) fn discard(&self, tmp: &str) {
        let _ = fs::remove_file(self.dir.join(tmp));
    }

    pub(crate) fn resize(&self, gid: &str, size: u64) {
        if !self.has(gid) {
            return;
        }
        let r = OpenOptions::new()
            .write(true)
            .open(self.path(gid))
            .and_then(|f| f.set_len(size));
        if let Err(e) = r {
            tracing::warn!(error = %e, "cannot resize the data of {gid}");
        }
    }

    pub(crate) fn remove(&self, gid: &str) {
        self.mark(gid, false);
        match fs::remove_file(self.path(gid)) {
            Ok(()) => self.sync_dir(),
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => tracing::warn!(error = %e, "cannot remove the data of {gid}"),
        }
    }

    /// Make sure an object has a data file (attaching it to this host needs one).
    fn ensure(&self, o: &Obj) -> io::Result<()> {
        if self.has(&o.gid) {
            return Ok(());
        }
        let path = self.path(&o.gid);
        // Never through a link someone put in its place.
        let f = OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(false)
            .mode(FILE_MODE)
            .custom_flags(NOFOLLOW)
            .open(&path)?;
        f.set_len(o.size)?;
        if self.sync {
            f.sync_all()?;
            self.sync_dir();
        }
        self.mark(&o.gid, true);
        Ok(())
    }

    /// Before a change is stored: give an object this host will have a device for its data
    /// file, so that an attach that cannot have one (file too large, disk full) fails instead
    /// of answering ok without a device. `Ok(true)`: the file was made now (to be removed if
    /// the change is not stored).
    pub(crate) fn prepare_device(&self, o: &Obj, served: &BTreeSet<u16>) -> io::Result<bool> {
        if Self::wanted(o, served).is_none() || self.has(&o.gid) {
            return Ok(false);
        }
        let path = self.path(&o.gid);
        let existed = fs::symlink_metadata(&path).is_ok();
        self.ensure(o).map(|()| true).inspect_err(|_| {
            // A file made here whose size could not be set (EFBIG): not left behind.
            if !existed && fs::symlink_metadata(&path).is_ok_and(|m| m.is_file()) {
                let _ = fs::remove_file(&path);
            }
        })
    }

    /// The links this host should have for an object: `Some(rw)` when attached to a served
    /// client.
    fn wanted(o: &Obj, served: &BTreeSet<u16>) -> Option<bool> {
        let mut found = None;
        for (c, att) in &o.attachments {
            if served.contains(c) {
                found = Some(found.unwrap_or(false) || att.rw);
            }
        }
        found
    }

    fn links_of(o: &Obj) -> [(Folder, String); 2] {
        [
            (Folder::ByName, o.link_name()),
            (Folder::ById, o.gid.to_string()),
        ]
    }

    /// Bring the links of one object from its old state to its new state.
    pub(crate) fn update_links(
        &self,
        old: Option<&Obj>,
        new: Option<&Obj>,
        served: &BTreeSet<u16>,
    ) {
        let old_links: Vec<(Folder, String)> = old
            .filter(|o| Self::wanted(o, served).is_some())
            .map(|o| Self::links_of(o).to_vec())
            .unwrap_or_default();
        let want = new.and_then(|o| Self::wanted(o, served).map(|rw| (o, rw)));
        let new_links: Vec<(Folder, String)> = want
            .map(|(o, _)| Self::links_of(o).to_vec())
            .unwrap_or_default();
        for (folder, name) in &old_links {
            if !new_links.contains(&(*folder, name.clone())) {
                self.remove_link(*folder, name);
            }
        }
        if let Some((o, rw)) = want {
            if let Err(e) = self.ensure(o) {
                tracing::warn!(error = %e, "cannot create the data of {}", o.gid);
                return;
            }
            let target = self.path(&o.gid);
            statedir::make_private(&target, Self::mode(o, Some(rw)));
            for (folder, name) in &new_links {
                if let Err(e) = self.links.make(*folder, name, &target) {
                    tracing::warn!(
                        error = %e,
                        "cannot create the device link {}",
                        self.links.path(*folder, name).display()
                    );
                }
            }
        } else if let Some(o) = new
            && self.has(&o.gid)
        {
            statedir::make_private(&self.path(&o.gid), Self::mode(o, None));
        }
    }

    /// The mode of an object's data file: read-only for snapshots and for volumes attached
    /// here read-only (`rw`: how it is attached here, if it is), else readable and writable,
    /// by the owner only.
    fn mode(o: &Obj, rw: Option<bool>) -> u32 {
        if o.snapshot || rw == Some(false) {
            READ_ONLY_MODE
        } else {
            FILE_MODE
        }
    }

    /// Remove a link, but only one that points into our data folder.
    fn remove_link(&self, folder: Folder, name: &str) {
        if let Err(e) = self.links.remove(folder, name) {
            tracing::warn!(
                error = %e,
                "cannot remove the device link {}",
                self.links.path(folder, name).display()
            );
        }
    }

    /// Start-up repair: finish committed replacements, drop data files of objects that do not
    /// exist, make file sizes follow the metadata, and make the device links match the
    /// attachments.
    pub(crate) fn reconcile(
        &self,
        cl: &Cluster,
        pending: &[(String, String)],
        served: &BTreeSet<u16>,
    ) {
        for (tmp, gid) in pending {
            if cl.by_gid(gid).is_some() {
                self.finish_replace(tmp, gid);
            } else {
                self.discard(tmp);
            }
        }
        if let Ok(rd) = fs::read_dir(&self.dir) {
            for entry in rd.flatten() {
                let regular = entry.file_type().is_ok_and(|t| t.is_file());
                let name = entry.file_name();
                if regular
                    && name.to_str().and_then(|n| own_file(&self.gid_prefix, n))
                        == Some(Own::Replace)
                {
                    let _ = fs::remove_file(entry.path());
                }
            }
        }
        for gid in self.gids_with_data() {
            match cl.by_gid(&gid) {
                None => self.remove(&gid),
                Some(o) => {
                    if fs::metadata(self.path(&gid)).is_ok_and(|m| m.len() != o.size) {
                        self.resize(&gid, o.size);
                    }
                }
            }
        }
        // Links: remove every link of ours that is not wanted, then create the wanted ones.
        let mut wanted: HashSet<(Folder, String)> = HashSet::new();
        for o in cl.attached_objects() {
            if Self::wanted(o, served).is_some() {
                wanted.extend(Self::links_of(o));
            }
        }
        for folder in [Folder::ByName, Folder::ById] {
            for name in self.links.names(folder) {
                let link = (folder, name);
                if !wanted.contains(&link) {
                    self.remove_link(link.0, &link.1);
                }
            }
        }
        for o in cl.attached_objects() {
            self.update_links(None, Some(o), served);
        }
        // Modes, also of files an older version wrote readable by others.
        for gid in self.gids_with_data() {
            if let Some(o) = cl.by_gid(&gid) {
                statedir::make_private(&self.path(&gid), Self::mode(o, Self::wanted(o, served)));
            }
        }
    }
}

/// Copy a file keeping its holes: a reflink where the filesystem can, else only the data
/// ranges (`SEEK_DATA`/`SEEK_HOLE` with `copy_file_range`).
pub(crate) fn copy_sparse(src: &Path, dst: &Path) -> io::Result<()> {
    let s = File::open(src).map_err(|e| io_ctx(e, "open", src))?;
    let d = OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(FILE_MODE)
        .open(dst)
        .map_err(|e| io_ctx(e, "create", dst))?;
    if rustix::fs::ioctl_ficlone(&d, &s).is_ok() {
        return Ok(());
    }
    let len = s.metadata()?.len();
    d.set_len(len)?;
    let mut pos = 0u64;
    while pos < len {
        let start = match rustix::fs::seek(&s, rustix::fs::SeekFrom::Data(pos)) {
            Ok(p) => p,
            Err(rustix::io::Errno::NXIO) => break,
            Err(rustix::io::Errno::INVAL | rustix::io::Errno::OPNOTSUPP) => {
                // No hole support: copy everything.
                return copy_range(&s, &d, 0, len);
            }
            Err(e) => return Err(e.into()),
        };
        let end = rustix::fs::seek(&s, rustix::fs::SeekFrom::Hole(start))?.min(len);
        copy_range(&s, &d, start, end)?;
        pos = end;
    }
    Ok(())
}

fn copy_range(s: &File, d: &File, start: u64, end: u64) -> io::Result<()> {
    let mut off_in = start;
    let mut off_out = start;
    while off_in < end {
        let want = usize::try_from(end - off_in)
            .unwrap_or(usize::MAX)
            .min(1 << 30);
        match rustix::fs::copy_file_range(s, Some(&mut off_in), d, Some(&mut off_out), want) {
            Ok(0) => break,
            Ok(_) => {}
            Err(_) => return copy_range_rw(s, d, off_in, end),
        }
    }
    Ok(())
}

fn copy_range_rw(s: &File, d: &File, mut pos: u64, end: u64) -> io::Result<()> {
    let mut buf = vec![0u8; 1 << 20];
    while pos < end {
        let want = usize::try_from(end - pos)
            .unwrap_or(usize::MAX)
            .min(buf.len());
        let n = s.read_at(&mut buf[..want], pos)?;
        if n == 0 {
            break;
        }
        d.write_all_at(&buf[..n], pos)?;
        pos += n as u64;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn own_files_are_this_clusters_global_ids_with_our_suffixes() {
        let own = |name| own_file("sim.a.", name);
        assert_eq!(own("sim.a.1z"), Some(Own::Data));
        assert_eq!(own("sim.a.1z.tmp"), Some(Own::Tmp));
        assert_eq!(own("sim.a.1z.replace"), Some(Own::Replace));
        for foreign in [
            "notes.txt",
            "keep.tmp",
            "x.replace",
            "sim.a.",
            "sim.a.X",
            "sim.b.1",
            "other.a.1",
            "sim.a.1.bak",
            "sim.a.1/..",
        ] {
            assert_eq!(own(foreign), None, "{foreign}");
        }
    }

    #[test]
    fn sparse_copy_keeps_data_and_holes() {
        let dir = tempfile::tempdir().unwrap();
        let src = dir.path().join("src");
        let f = File::create(&src).unwrap();
        f.set_len(64 << 20).unwrap();
        f.write_all_at(b"hello", 1 << 20).unwrap();
        f.write_all_at(b"world", 40 << 20).unwrap();
        drop(f);
        let dst = dir.path().join("dst");
        copy_sparse(&src, &dst).unwrap();
        let d = File::open(&dst).unwrap();
        assert_eq!(d.metadata().unwrap().len(), 64 << 20);
        let mut buf = [0u8; 5];
        d.read_exact_at(&mut buf, 1 << 20).unwrap();
        assert_eq!(&buf, b"hello");
        d.read_exact_at(&mut buf, 40 << 20).unwrap();
        assert_eq!(&buf, b"world");
        assert!(
            d.metadata().unwrap().blocks() * 512 < 8 << 20,
            "holes were filled"
        );
    }
}
