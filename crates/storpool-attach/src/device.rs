//! The devices `storpool_block` creates on this node, under a device root (normally `/dev`).

use std::fs::{File, OpenOptions};
use std::io::{self, Seek, SeekFrom};
use std::os::unix::fs::FileTypeExt;
use std::path::{Path, PathBuf};

/// Folder (under the device root) of the name links: `/dev/storpool/NAME`.
pub const BY_NAME_DIR: &str = "storpool";
/// Folder (under the device root) of the global-id links: `/dev/storpool-byid/GLOBALID`.
pub const BY_ID_DIR: &str = "storpool-byid";

/// Where `storpool_block` puts its device links: `/dev` on a real node, a folder of the
/// simulator's in tests.
///
/// ```
/// use std::path::Path;
/// use storpool_attach::DeviceRoot;
///
/// let root = DeviceRoot::default();
/// assert_eq!(root.by_name("os--volume-1"), Path::new("/dev/storpool/os--volume-1"));
/// assert_eq!(root.by_id("d.n.a1z"), Path::new("/dev/storpool-byid/d.n.a1z"));
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeviceRoot {
    root: PathBuf,
}

impl Default for DeviceRoot {
    /// `/dev`.
    fn default() -> Self {
        Self::new("/dev")
    }
}

/// What a device path names on the cluster.
///
/// ```
/// use std::path::Path;
/// use storpool_attach::{DeviceRoot, DeviceTarget};
///
/// let root = DeviceRoot::default();
/// let target = root.target_of(Path::new("/dev/storpool/os--volume-1"));
/// assert_eq!(target, Some(DeviceTarget::Name("os--volume-1".to_owned())));
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DeviceTarget {
    /// `/dev/storpool/NAME`: the volume or snapshot name.
    Name(String),
    /// `/dev/storpool-byid/GLOBALID`: the global id (the API refers to it as `~GLOBALID`).
    GlobalId(String),
}

impl DeviceTarget {
    /// How the API refers to the object: `NAME` or `~GLOBALID`.
    ///
    /// ```
    /// use storpool_attach::DeviceTarget;
    ///
    /// assert_eq!(DeviceTarget::Name("os--volume-1".to_owned()).api_ref(), "os--volume-1");
    /// assert_eq!(DeviceTarget::GlobalId("d.n.a1z".to_owned()).api_ref(), "~d.n.a1z");
    /// ```
    pub fn api_ref(&self) -> String {
        match self {
            DeviceTarget::Name(name) => name.clone(),
            DeviceTarget::GlobalId(id) => format!("~{id}"),
        }
    }
}

impl DeviceRoot {
    /// A device root at `root`.
    ///
    /// ```
    /// let root = storpool_attach::DeviceRoot::new("/srv/dev");
    /// assert_eq!(root.by_name("v1"), std::path::Path::new("/srv/dev/storpool/v1"));
    /// ```
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Self { root: root.into() }
    }

    /// The root folder.
    ///
    /// ```
    /// let root = storpool_attach::DeviceRoot::default();
    /// assert_eq!(root.path(), std::path::Path::new("/dev"));
    /// ```
    pub fn path(&self) -> &Path {
        &self.root
    }

    /// The folder of name links (`ROOT/storpool`), the os-brick "search path".
    ///
    /// ```
    /// let root = storpool_attach::DeviceRoot::default();
    /// assert_eq!(root.by_name_dir(), std::path::Path::new("/dev/storpool"));
    /// ```
    pub fn by_name_dir(&self) -> PathBuf {
        self.root.join(BY_NAME_DIR)
    }

    /// The folder of global-id links (`ROOT/storpool-byid`).
    ///
    /// ```
    /// let root = storpool_attach::DeviceRoot::default();
    /// assert_eq!(root.by_id_dir(), std::path::Path::new("/dev/storpool-byid"));
    /// ```
    pub fn by_id_dir(&self) -> PathBuf {
        self.root.join(BY_ID_DIR)
    }

    /// `ROOT/storpool/NAME`.
    ///
    /// ```
    /// let root = storpool_attach::DeviceRoot::new("/srv/dev");
    /// let link = root.by_name("os--volume-1");
    /// assert_eq!(link, std::path::Path::new("/srv/dev/storpool/os--volume-1"));
    /// ```
    pub fn by_name(&self, name: &str) -> PathBuf {
        self.by_name_dir().join(name)
    }

    /// `ROOT/storpool-byid/GLOBALID`.
    ///
    /// ```
    /// let root = storpool_attach::DeviceRoot::new("/srv/dev");
    /// assert_eq!(root.by_id("d.n.a1z"), std::path::Path::new("/srv/dev/storpool-byid/d.n.a1z"));
    /// ```
    pub fn by_id(&self, global_id: &str) -> PathBuf {
        self.by_id_dir().join(global_id)
    }

    /// `ROOT/storpool/NAME` for a name `storpool_block` makes a link for: not `~GLOBALID`
    /// (unnamed objects only have their by-id link), and one path component.
    pub(crate) fn name_link(&self, name: &str) -> Option<PathBuf> {
        (is_file_name(name) && !name.starts_with('~')).then(|| self.by_name(name))
    }

    /// What a device path refers to, or `None` when it is not directly in one of the two
    /// StorPool folders of this root (or names nothing there).
    ///
    /// ```
    /// use std::path::Path;
    /// use storpool_attach::{DeviceRoot, DeviceTarget};
    ///
    /// let root = DeviceRoot::default();
    /// let target = root.target_of(Path::new("/dev/storpool-byid/d.n.a1z"));
    /// assert_eq!(target, Some(DeviceTarget::GlobalId("d.n.a1z".to_owned())));
    /// assert_eq!(root.target_of(Path::new("/dev/sda")), None);
    /// ```
    pub fn target_of(&self, device: &Path) -> Option<DeviceTarget> {
        let parent = device.parent()?;
        let name = device.file_name()?.to_str()?;
        if !is_file_name(name) {
            return None;
        }
        if parent == self.by_id_dir() {
            Some(DeviceTarget::GlobalId(name.to_owned()))
        } else if parent == self.by_name_dir() {
            Some(DeviceTarget::Name(name.to_owned()))
        } else {
            None
        }
    }

    /// The names of the links in `ROOT/storpool` that start with `prefix` (symlinks only, not
    /// folders), sorted. A missing folder gives an empty list.
    ///
    /// ```
    /// let dir = tempfile::tempdir()?;
    /// let root = storpool_attach::DeviceRoot::new(dir.path());
    /// assert!(root.names_with_prefix("os--volume-")?.is_empty()); // no `storpool` folder yet
    /// std::fs::create_dir(root.by_name_dir())?;
    /// for name in ["os--volume-2", "os--volume-1", "other--volume-3"] {
    ///     std::os::unix::fs::symlink("/dev/null", root.by_name(name))?;
    /// }
    /// assert_eq!(root.names_with_prefix("os--volume-")?, ["os--volume-1", "os--volume-2"]);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn names_with_prefix(&self, prefix: &str) -> io::Result<Vec<String>> {
        let entries = match std::fs::read_dir(self.by_name_dir()) {
            Ok(entries) => entries,
            Err(err) if err.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(err) => return Err(err),
        };
        let mut names = Vec::new();
        for entry in entries {
            let entry = entry?;
            if !entry.file_type()?.is_symlink() {
                continue;
            }
            if let Some(name) = entry.file_name().to_str()
                && name.starts_with(prefix)
            {
                names.push(name.to_owned());
            }
        }
        names.sort_unstable();
        Ok(names)
    }
}

/// Whether `path` exists (following links) and can be opened for reading.
///
/// ```
/// use std::path::Path;
/// use storpool_attach::device::can_open;
///
/// assert!(can_open(Path::new("/dev/null")));
/// assert!(!can_open(Path::new("/dev/storpool/no-such-volume")));
/// ```
pub fn can_open(path: &Path) -> bool {
    File::open(path).is_ok()
}

/// Whether `path` can be opened for writing (a read-write attachment).
///
/// ```
/// use std::path::Path;
/// use storpool_attach::device::can_open_for_writing;
///
/// assert!(can_open_for_writing(Path::new("/dev/null")));
/// assert!(!can_open_for_writing(Path::new("/dev/storpool/no-such-volume")));
/// ```
pub fn can_open_for_writing(path: &Path) -> bool {
    OpenOptions::new().write(true).open(path).is_ok()
}

/// The size in bytes of a block device or of a regular file standing in for one.
///
/// A block device's size is what seeking to its end reports (the kernel answers from the same
/// figure as the `BLKGETSIZE64` ioctl); a regular file's is its length. No subprocess.
///
/// ```
/// let file = tempfile::NamedTempFile::new()?;
/// file.as_file().set_len(3 << 20)?;
/// assert_eq!(storpool_attach::device::device_size(file.path())?, 3 << 20);
/// # Ok::<(), std::io::Error>(())
/// ```
pub fn device_size(path: &Path) -> io::Result<u64> {
    let metadata = std::fs::metadata(path)?;
    if metadata.file_type().is_block_device() {
        File::open(path)?.seek(SeekFrom::End(0))
    } else {
        Ok(metadata.len())
    }
}

/// A process that has a file open.
///
/// ```
/// use storpool_attach::Holder;
///
/// let holder = Holder { pid: 4242, command: Some("qemu-kvm".to_owned()) };
/// assert_eq!(holder.to_string(), "qemu-kvm (pid 4242)");
/// assert_eq!(Holder { pid: 4242, command: None }.to_string(), "pid 4242");
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Holder {
    /// Process id.
    pub pid: u32,
    /// Its command name (`/proc/PID/comm`), when readable.
    pub command: Option<String>,
}

impl std::fmt::Display for Holder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.command {
            Some(command) => write!(f, "{command} (pid {})", self.pid),
            None => write!(f, "pid {}", self.pid),
        }
    }
}

/// The processes of this node that have `path` (after following links) open, as far as
/// `/proc` lets us see. Best effort: processes we may not inspect are skipped.
///
/// ```
/// let file = tempfile::NamedTempFile::new()?; // keeps the file open
/// let holders = storpool_attach::device::holders(file.path());
/// assert!(holders.iter().any(|holder| holder.pid == std::process::id()));
/// # Ok::<(), std::io::Error>(())
/// ```
pub fn holders(path: &Path) -> Vec<Holder> {
    holders_in(Path::new("/proc"), path)
}

fn holders_in(proc_root: &Path, path: &Path) -> Vec<Holder> {
    let Ok(target) = std::fs::canonicalize(path) else {
        return Vec::new();
    };
    let Ok(processes) = std::fs::read_dir(proc_root) else {
        return Vec::new();
    };
    let mut found = Vec::new();
    for process in processes.flatten() {
        let Some(pid) = process
            .file_name()
            .to_str()
            .and_then(|name| name.parse::<u32>().ok())
        else {
            continue;
        };
        let Ok(fds) = std::fs::read_dir(process.path().join("fd")) else {
            continue;
        };
        let holds = fds
            .flatten()
            .any(|fd| std::fs::read_link(fd.path()).is_ok_and(|open| open == target));
        if holds {
            let command = std::fs::read_to_string(process.path().join("comm"))
                .ok()
                .map(|comm| comm.trim_end().to_owned());
            found.push(Holder { pid, command });
        }
    }
    found.sort_by_key(|holder| holder.pid);
    found
}

/// One path component: not empty, `.` or `..`, without `/` or NUL.
fn is_file_name(name: &str) -> bool {
    !name.is_empty() && name != "." && name != ".." && !name.contains(['/', '\0'])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_map_to_api_references() {
        let root = DeviceRoot::new("/dev");
        assert_eq!(
            root.by_id("d.n.a1z"),
            Path::new("/dev/storpool-byid/d.n.a1z")
        );
        assert_eq!(
            root.target_of(Path::new("/dev/storpool-byid/d.n.a1z"))
                .map(|t| t.api_ref()),
            Some("~d.n.a1z".to_owned())
        );
        assert_eq!(
            root.target_of(Path::new("/dev/storpool/os--volume-1")),
            Some(DeviceTarget::Name("os--volume-1".to_owned()))
        );
        for other in [
            "/dev/sda",
            "/dev/storpool",
            "/tmp/storpool/x",
            "/dev/storpool/a/b",
            "/",
        ] {
            assert_eq!(root.target_of(Path::new(other)), None, "{other}");
        }
    }

    #[test]
    fn sizes_of_regular_files_come_from_their_metadata() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("data");
        File::create(&file).unwrap().set_len(3 << 20).unwrap();
        assert_eq!(device_size(&file).unwrap(), 3 << 20);
        assert!(device_size(&dir.path().join("missing")).is_err());
    }

    #[test]
    fn holders_finds_this_process_holding_a_file() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("data");
        std::fs::write(&file, b"x").unwrap();
        let link = dir.path().join("link");
        std::os::unix::fs::symlink(&file, &link).unwrap();
        let open = File::open(&file).unwrap();
        let found = holders(&link);
        assert!(
            found.iter().any(|h| h.pid == std::process::id()),
            "{found:?}"
        );
        drop(open);
        assert!(!holders(&link).iter().any(|h| h.pid == std::process::id()));
    }

    #[test]
    fn names_with_prefix_lists_only_links() {
        let dir = tempfile::tempdir().unwrap();
        let root = DeviceRoot::new(dir.path());
        assert!(root.names_with_prefix("os--volume-").unwrap().is_empty());
        std::fs::create_dir(root.by_name_dir()).unwrap();
        let data = dir.path().join("data");
        std::fs::write(&data, b"").unwrap();
        for name in [
            "os--volume-b",
            "os--volume-a",
            "other--volume-c",
            "os--snap--none--snapshot-1",
        ] {
            std::os::unix::fs::symlink(&data, root.by_name(name)).unwrap();
        }
        std::fs::create_dir(root.by_name("os--volume-dir")).unwrap();
        assert_eq!(
            root.names_with_prefix("os--volume-").unwrap(),
            ["os--volume-a", "os--volume-b"]
        );
    }
}
