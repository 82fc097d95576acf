//! The state directory: which folders a simulator takes as its state, and their modes.
//!
//! A simulator only works in a folder that is new, empty, or a simulator's state: every entry
//! is one of its own ([`LOCK_FILE`], [`DB_FILE`] and `SQLite`'s companions of it, the [`DATA_DIR`]
//! and [`DEV_DIR`] folders), a `data` folder comes with the database, and the database is an
//! `SQLite` file. Any other folder is refused before anything in it is created or changed, so a
//! wrong `--state` never costs anyone a file. The folder is private to its owner (mode 0700),
//! and so are the files in it (0600, and 0400 for data that is read-only).

use std::fs;
use std::io::{self, Read as _};
use std::os::unix::fs::{DirBuilderExt as _, OpenOptionsExt as _, PermissionsExt as _};
use std::path::{Path, PathBuf};

use crate::error::SimError;
use crate::lock::LOCK_FILE;

/// The state database.
pub(crate) const DB_FILE: &str = "state.db";
/// `SQLite`'s companion files of the database.
const DB_COMPANIONS: [&str; 3] = ["state.db-wal", "state.db-shm", "state.db-journal"];
/// The folder of the data files (`data/GLOBALID`).
pub(crate) const DATA_DIR: &str = "data";
/// The default device root, when the caller names none.
pub(crate) const DEV_DIR: &str = "dev";

/// Mode of the state folder and of the folders in it.
pub(crate) const DIR_MODE: u32 = 0o700;
/// Mode of the database, the lock and the data files of volumes that can be written.
pub(crate) const FILE_MODE: u32 = 0o600;
/// Mode of the data files of snapshots and of volumes attached read-only.
pub(crate) const READ_ONLY_MODE: u32 = 0o400;

/// The first bytes of every `SQLite` database.
const SQLITE_HEADER: &[u8; 16] = b"SQLite format 3\0";

/// Makes `dir` ready to be a state folder: creates it (mode 0700) when it does not exist,
/// refuses it when it holds anything that is not a simulator's, makes it and its files
/// private, and returns its absolute, resolved path (so that device links, which point at its
/// data files, resolve from anywhere).
pub(crate) fn prepare(dir: &Path) -> Result<PathBuf, SimError> {
    let io = |path: &Path| {
        let path = path.to_owned();
        move |source| SimError::Io { path, source }
    };
    if let Some(parent) = dir.parent().filter(|p| !p.as_os_str().is_empty()) {
        fs::create_dir_all(parent).map_err(io(parent))?;
    }
    match fs::DirBuilder::new().mode(DIR_MODE).create(dir) {
        Ok(()) => {}
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
        Err(e) => return Err(io(dir)(e)),
    }
    let dir = fs::canonicalize(dir).map_err(io(dir))?;
    if let Some(what) = foreign(&dir).map_err(io(&dir))? {
        return Err(SimError::NotState { dir, what });
    }
    make_private(&dir, DIR_MODE);
    for name in std::iter::once(DB_FILE)
        .chain(DB_COMPANIONS)
        .chain([LOCK_FILE])
    {
        let path = dir.join(name);
        if path.exists() {
            make_private(&path, FILE_MODE);
        }
    }
    // SQLite gives its companion files the mode of the database: create it private.
    let db = dir.join(DB_FILE);
    fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(false)
        .mode(FILE_MODE)
        .open(&db)
        .map_err(io(&db))?;
    Ok(dir)
}

/// Why `dir` is not a simulator's state folder (`None` when it is one, or empty).
fn foreign(dir: &Path) -> io::Result<Option<String>> {
    let mut has_db = false;
    let mut has_data = false;
    for entry in fs::read_dir(dir)? {
        let entry = entry?;
        let name = entry.file_name();
        let kind = entry.file_type()?;
        let Some(name) = name.to_str() else {
            return Ok(Some(format!("`{}`", name.to_string_lossy())));
        };
        let fits = match name {
            DB_FILE => {
                has_db = true;
                kind.is_file() && is_sqlite(&entry.path())?
            }
            DATA_DIR => {
                has_data = true;
                kind.is_dir()
            }
            DEV_DIR => kind.is_dir(),
            _ if name == LOCK_FILE || DB_COMPANIONS.contains(&name) => kind.is_file(),
            _ => false,
        };
        if !fits {
            let what = if kind.is_symlink() {
                format!("`{name}`, a symbolic link")
            } else if name == DB_FILE {
                format!("`{name}`, which is not an SQLite database")
            } else {
                format!("`{name}`")
            };
            return Ok(Some(what));
        }
    }
    Ok((has_data && !has_db)
        .then(|| format!("a `{DATA_DIR}` folder but no simulator database (`{DB_FILE}`)")))
}

/// Whether the regular file at `path` is empty (a start cut short) or an `SQLite` database.
fn is_sqlite(path: &Path) -> io::Result<bool> {
    let mut head = Vec::with_capacity(SQLITE_HEADER.len());
    fs::File::open(path)?
        .take(SQLITE_HEADER.len() as u64)
        .read_to_end(&mut head)?;
    Ok(head.is_empty() || head == SQLITE_HEADER)
}

/// Sets the mode of a file or folder of the state, when it differs (a warning when it cannot).
pub(crate) fn make_private(path: &Path, mode: u32) {
    let current = fs::symlink_metadata(path).map(|m| m.permissions().mode() & 0o7777);
    if current.is_ok_and(|m| m == mode) {
        return;
    }
    if let Err(e) = fs::set_permissions(path, fs::Permissions::from_mode(mode)) {
        tracing::warn!(error = %e, "cannot set the mode of {} to {mode:o}", path.display());
    }
}

/// Makes the folder `dir` inside the state (mode 0700) unless it exists; an existing one must
/// be a folder, not a link to one.
pub(crate) fn sub_dir(dir: &Path) -> io::Result<()> {
    match fs::DirBuilder::new().mode(DIR_MODE).create(dir) {
        Ok(()) => return Ok(()),
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
        Err(e) => return Err(e),
    }
    if fs::symlink_metadata(dir)?.is_dir() {
        make_private(dir, DIR_MODE);
        Ok(())
    } else {
        Err(io::Error::new(
            io::ErrorKind::AlreadyExists,
            format!("{} exists and is not a folder", dir.display()),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn new_empty_and_own_folders_are_taken_and_made_private() {
        let tmp = tempfile::tempdir().unwrap();
        let new = tmp.path().join("a/b/state");
        let dir = prepare(&new).unwrap();
        assert_eq!(dir, fs::canonicalize(&new).unwrap());
        let mode = |p: &Path| fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&dir), 0o700);
        assert_eq!(mode(&dir.join(DB_FILE)), 0o600);
        // Again: a cut-short start (an empty database) is the simulator's own.
        fs::create_dir(dir.join(DATA_DIR)).unwrap();
        fs::write(dir.join(LOCK_FILE), "1\n").unwrap();
        fs::set_permissions(&dir, fs::Permissions::from_mode(0o755)).unwrap();
        prepare(&new).unwrap();
        assert_eq!(mode(&dir), 0o700);
        assert_eq!(mode(&dir.join(LOCK_FILE)), 0o600);
    }

    type Make<'a> = &'a dyn Fn(&Path);

    #[test]
    fn folders_holding_anything_else_are_refused_untouched() {
        let tmp = tempfile::tempdir().unwrap();
        let cases: [(&str, Make<'_>); 4] = [
            ("notes", &|d| fs::write(d.join("notes"), "x").unwrap()),
            ("data without a database", &|d| {
                fs::create_dir(d.join(DATA_DIR)).unwrap();
            }),
            ("a database of something else", &|d| {
                fs::write(d.join(DB_FILE), "not sqlite").unwrap();
            }),
            ("a linked data folder", &|d| {
                fs::write(d.join(DB_FILE), "").unwrap();
                std::os::unix::fs::symlink("/tmp", d.join(DATA_DIR)).unwrap();
            }),
        ];
        for (n, (what, make)) in cases.iter().enumerate() {
            let dir = tmp.path().join(n.to_string());
            fs::create_dir(&dir).unwrap();
            fs::set_permissions(&dir, fs::Permissions::from_mode(0o755)).unwrap();
            make(&dir);
            let before: Vec<_> = fs::read_dir(&dir)
                .unwrap()
                .map(|e| e.unwrap().path())
                .collect();
            let err = prepare(&dir).unwrap_err();
            assert!(matches!(err, SimError::NotState { .. }), "{what}: {err:?}");
            let after: Vec<_> = fs::read_dir(&dir)
                .unwrap()
                .map(|e| e.unwrap().path())
                .collect();
            assert_eq!(before, after, "{what}");
            let mode = fs::metadata(&dir).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o755, "{what}");
        }
    }
}
