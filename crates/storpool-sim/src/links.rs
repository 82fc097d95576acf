//! The device links of served clients, `DEVROOT/storpool/NAME` and
//! `DEVROOT/storpool-byid/GLOBALID`, as `storpool_block` makes them.
//!
//! Both folders are opened once, at start, and never through a symbolic link: every link is
//! then made, read and removed relative to those open folders, so a folder replaced by a link
//! later cannot send a link (or a removal) elsewhere. A link is only ever replaced or removed
//! when it is one of this simulator's (it points into its data folder): a file, a folder or
//! another program's link at a device path is left alone.

use std::ffi::OsStr;
use std::io;
use std::os::fd::OwnedFd;
use std::os::unix::ffi::OsStrExt as _;
use std::path::{Path, PathBuf};

use rustix::fs::{
    AtFlags, CWD, Dir, Mode, OFlags, mkdirat, openat, readlinkat, symlinkat, unlinkat,
};
use rustix::io::Errno;

/// One of the two device folders.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) enum Folder {
    /// `storpool/`: links by name.
    ByName,
    /// `storpool-byid/`: links by global id.
    ById,
}

impl Folder {
    const ALL: [Folder; 2] = [Folder::ByName, Folder::ById];

    fn name(self) -> &'static str {
        match self {
            Folder::ByName => "storpool",
            Folder::ById => "storpool-byid",
        }
    }
}

/// The open device folders of one device root.
pub(crate) struct DevLinks {
    root: PathBuf,
    /// `None`: the folder does not exist (and no client is served, so none was made).
    folders: [Option<OwnedFd>; 2],
    /// Links of this simulator point into this folder.
    data_dir: PathBuf,
}

impl DevLinks {
    /// Opens the device folders under `root`, making them first when `create` (when clients
    /// are served). A device folder that is a symbolic link or not a folder is an error naming
    /// it.
    pub(crate) fn open(
        root: &Path,
        data_dir: &Path,
        create: bool,
    ) -> Result<Self, (PathBuf, io::Error)> {
        let dir_flags = OFlags::DIRECTORY | OFlags::RDONLY | OFlags::CLOEXEC;
        let root_fd =
            openat(CWD, root, dir_flags, Mode::empty()).map_err(|e| (root.to_owned(), e.into()))?;
        let mut folders = [None, None];
        for (slot, folder) in folders.iter_mut().zip(Folder::ALL) {
            let path = root.join(folder.name());
            if create {
                match mkdirat(&root_fd, folder.name(), Mode::from_raw_mode(0o755)) {
                    Ok(()) | Err(Errno::EXIST) => {}
                    Err(e) => return Err((path, e.into())),
                }
            }
            *slot = match openat(
                &root_fd,
                folder.name(),
                dir_flags | OFlags::NOFOLLOW,
                Mode::empty(),
            ) {
                Ok(fd) => Some(fd),
                Err(Errno::NOENT) if !create => None,
                Err(Errno::LOOP | Errno::NOTDIR) => {
                    return Err((
                        path,
                        io::Error::other(
                            "it is a symbolic link or not a folder: device links are made only \
                             in a real folder",
                        ),
                    ));
                }
                Err(e) => return Err((path, e.into())),
            };
        }
        Ok(Self {
            root: root.to_owned(),
            folders,
            data_dir: data_dir.to_owned(),
        })
    }

    fn fd(&self, folder: Folder) -> io::Result<&OwnedFd> {
        self.folders[folder as usize].as_ref().ok_or_else(|| {
            io::Error::new(
                io::ErrorKind::NotFound,
                format!("{} does not exist", self.path(folder, "").display()),
            )
        })
    }

    /// The path of a link, for messages.
    pub(crate) fn path(&self, folder: Folder, name: &str) -> PathBuf {
        self.root.join(folder.name()).join(name)
    }

    /// Whether a link's target is one of this simulator's data files.
    fn is_ours(&self, target: &Path) -> bool {
        target.starts_with(&self.data_dir)
    }

    /// Makes the link `name` in `folder` point at `target`, replacing only a link of ours.
    pub(crate) fn make(&self, folder: Folder, name: &str, target: &Path) -> io::Result<()> {
        check_name(name)?;
        let fd = self.fd(folder)?;
        // Twice at most: once more after removing a link of ours that pointed elsewhere.
        for _ in 0..2 {
            match symlinkat(target, fd, name) {
                Ok(()) => return Ok(()),
                Err(Errno::EXIST) => {}
                Err(e) => return Err(e.into()),
            }
            match readlinkat(fd, name, Vec::new()) {
                Ok(current) => {
                    let current = Path::new(OsStr::from_bytes(current.as_bytes()));
                    if current == target {
                        return Ok(());
                    }
                    if !self.is_ours(current) {
                        return Err(io::Error::new(
                            io::ErrorKind::AlreadyExists,
                            format!(
                                "a link to {} that is not the simulator's is in the way",
                                current.display()
                            ),
                        ));
                    }
                    match unlinkat(fd, name, AtFlags::empty()) {
                        Ok(()) | Err(Errno::NOENT) => {}
                        Err(e) => return Err(e.into()),
                    }
                }
                // Gone in the meantime: try again.
                Err(Errno::NOENT) => {}
                Err(Errno::INVAL) => {
                    return Err(io::Error::new(
                        io::ErrorKind::AlreadyExists,
                        "something that is not a link is in the way",
                    ));
                }
                Err(e) => return Err(e.into()),
            }
        }
        Err(io::Error::new(
            io::ErrorKind::AlreadyExists,
            "the link keeps changing under the simulator",
        ))
    }

    /// Removes the link `name` in `folder` if it is one of ours; anything else stays.
    pub(crate) fn remove(&self, folder: Folder, name: &str) -> io::Result<()> {
        if check_name(name).is_err() {
            return Ok(());
        }
        let Ok(fd) = self.fd(folder) else {
            return Ok(());
        };
        match readlinkat(fd, name, Vec::new()) {
            Ok(target) if self.is_ours(Path::new(OsStr::from_bytes(target.as_bytes()))) => {
                match unlinkat(fd, name, AtFlags::empty()) {
                    Ok(()) | Err(Errno::NOENT) => Ok(()),
                    Err(e) => Err(e.into()),
                }
            }
            _ => Ok(()),
        }
    }

    /// The names in `folder` (links or not).
    pub(crate) fn names(&self, folder: Folder) -> Vec<String> {
        let Ok(fd) = self.fd(folder) else {
            return Vec::new();
        };
        let Ok(dir) = Dir::read_from(fd) else {
            return Vec::new();
        };
        dir.filter_map(Result::ok)
            .filter_map(|entry| entry.file_name().to_str().ok().map(str::to_owned))
            .filter(|name| name != "." && name != "..")
            .collect()
    }
}

/// A link name is one path component: not empty, not `.` or `..`, without `/`.
fn check_name(name: &str) -> io::Result<()> {
    if name.is_empty() || name == "." || name == ".." || name.contains(['/', '\0']) {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("`{name}` cannot name a device link"),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn links(tmp: &Path) -> DevLinks {
        DevLinks::open(&tmp.join("dev"), &tmp.join("data"), true).unwrap()
    }

    #[test]
    fn links_of_ours_are_replaced_and_anything_else_is_left() {
        let tmp = tempfile::tempdir().unwrap();
        std::fs::create_dir(tmp.path().join("dev")).unwrap();
        let links = links(tmp.path());
        let by_name = tmp.path().join("dev/storpool");
        let ours = tmp.path().join("data/a.b.1");
        links.make(Folder::ByName, "v", &ours).unwrap();
        assert_eq!(std::fs::read_link(by_name.join("v")).unwrap(), ours);
        let moved = tmp.path().join("data/a.b.2");
        links.make(Folder::ByName, "v", &moved).unwrap();
        assert_eq!(std::fs::read_link(by_name.join("v")).unwrap(), moved);

        std::fs::write(by_name.join("file"), "x").unwrap();
        std::os::unix::fs::symlink("/elsewhere", by_name.join("theirs")).unwrap();
        for name in ["file", "theirs"] {
            assert!(links.make(Folder::ByName, name, &ours).is_err(), "{name}");
            links.remove(Folder::ByName, name).unwrap();
        }
        assert_eq!(std::fs::read_to_string(by_name.join("file")).unwrap(), "x");
        assert_eq!(
            std::fs::read_link(by_name.join("theirs")).unwrap(),
            Path::new("/elsewhere")
        );
        for bad in ["", ".", "..", "a/b"] {
            assert!(links.make(Folder::ByName, bad, &ours).is_err(), "{bad:?}");
        }
        let mut names = links.names(Folder::ByName);
        names.sort();
        assert_eq!(names, ["file", "theirs", "v"]);
        links.remove(Folder::ByName, "v").unwrap();
        assert!(!by_name.join("v").exists());
    }

    #[test]
    fn folders_that_are_links_are_refused() {
        let tmp = tempfile::tempdir().unwrap();
        let dev = tmp.path().join("dev");
        std::fs::create_dir(&dev).unwrap();
        std::os::unix::fs::symlink(tmp.path(), dev.join("storpool-byid")).unwrap();
        let (path, _) = DevLinks::open(&dev, &tmp.path().join("data"), true)
            .err()
            .unwrap();
        assert_eq!(path, dev.join("storpool-byid"));
        // Without clients to serve, missing folders are not made.
        let other = tmp.path().join("other");
        std::fs::create_dir(&other).unwrap();
        let links = DevLinks::open(&other, &tmp.path().join("data"), false).unwrap();
        assert!(links.names(Folder::ByName).is_empty());
        assert!(!other.join("storpool").exists());
    }
}
