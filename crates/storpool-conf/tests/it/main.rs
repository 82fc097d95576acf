//! Integration tests: real files in temporary folders, read through `Loader`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod accessors;
mod limits;
mod loading;
mod parity;

use std::path::{Path, PathBuf};

/// A temporary `/etc`: a main file and its drop-in folder.
pub(crate) struct Etc {
    dir: tempfile::TempDir,
}

impl Etc {
    pub(crate) fn new() -> Self {
        Self {
            dir: tempfile::tempdir().unwrap(),
        }
    }

    pub(crate) fn main(&self) -> PathBuf {
        self.dir.path().join("storpool.conf")
    }

    pub(crate) fn write_main(&self, text: &str) -> &Self {
        std::fs::write(self.main(), text).unwrap();
        self
    }

    pub(crate) fn write_drop_in(&self, name: &str, text: &str) -> &Self {
        let dir = self.dir.path().join("storpool.conf.d");
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join(name), text).unwrap();
        self
    }

    pub(crate) fn path(&self) -> &Path {
        self.dir.path()
    }

    /// A loader for this folder that ignores the process environment.
    pub(crate) fn loader(&self) -> storpool_conf::Loader {
        storpool_conf::Loader::new(self.main()).use_env(false)
    }
}
