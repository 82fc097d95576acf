//! Waiting for device links to appear or go away, woken by filesystem notifications.

use std::path::PathBuf;
use std::pin::Pin;
use std::time::{Duration, Instant};

use futures_core::Stream;
use inotify::{EventStream, Inotify, WatchMask};

use crate::device::DeviceRoot;

/// How long to wait for a device, and how often to look even without a notification.
///
/// ```
/// use std::time::Duration;
/// use storpool_attach::WaitOptions;
///
/// let options = WaitOptions::default();
/// assert_eq!(options.timeout, Duration::from_secs(60));
/// assert_eq!(options.recheck, Duration::from_secs(1));
/// let patient = WaitOptions { timeout: Duration::from_secs(300), ..options };
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WaitOptions {
    /// Give up after this long.
    pub timeout: Duration,
    /// Look again at least this often (a safety net: notifications normally wake the wait at
    /// once, and this is the only way to notice changes when inotify is unavailable).
    pub recheck: Duration,
}

impl Default for WaitOptions {
    /// 60 s, rechecking every second (os-brick's older bindings waited up to 60 s).
    fn default() -> Self {
        Self {
            timeout: Duration::from_mins(1),
            recheck: Duration::from_secs(1),
        }
    }
}

/// The wait ended at its deadline.
///
/// ```
/// use std::time::Duration;
///
/// let err = storpool_attach::TimedOut { waited: Duration::from_millis(1500) };
/// assert_eq!(err.to_string(), "gave up after 1.5s");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("gave up after {waited:?}")]
pub struct TimedOut {
    /// How long it waited.
    pub waited: Duration,
}

/// Watches the StorPool folders of a device root for created, removed or renamed entries,
/// and optionally some files for changes of their content or size.
struct Watcher {
    root: DeviceRoot,
    stream: Option<EventStream<Vec<u8>>>,
    watched: Vec<PathBuf>,
}

impl Watcher {
    fn new(root: &DeviceRoot, files: &[PathBuf]) -> Self {
        let stream = Inotify::init()
            .and_then(|inotify| inotify.into_event_stream(vec![0; 4096]))
            .map_err(|err| tracing::debug!(%err, "no inotify; polling the device folders"))
            .ok();
        let mut watcher = Self {
            root: root.clone(),
            stream,
            watched: Vec::new(),
        };
        watcher.watch_new_folders();
        watcher.watch_files(files);
        watcher
    }

    /// Adds watches for changes of the content, size or attributes of existing files (a
    /// regular file standing in for a device grows with a `MODIFY` event; a block device
    /// sends none, so a wait on one relies on its recheck interval).
    fn watch_files(&mut self, files: &[PathBuf]) {
        let Some(stream) = &self.stream else { return };
        let mask = WatchMask::MODIFY | WatchMask::ATTRIB | WatchMask::CLOSE_WRITE;
        for file in files {
            if let Err(err) = stream.watches().add(file, mask) {
                tracing::debug!(%err, file = %file.display(), "cannot watch");
            }
        }
    }

    /// Adds watches for the root and the StorPool folders that exist and are not watched yet
    /// (a folder can appear while we wait: the first attachment on a node creates it).
    fn watch_new_folders(&mut self) {
        let Some(stream) = &self.stream else { return };
        let folders = [
            self.root.path().to_owned(),
            self.root.by_name_dir(),
            self.root.by_id_dir(),
        ];
        for folder in folders {
            if self.watched.contains(&folder) || !folder.is_dir() {
                continue;
            }
            let mask = WatchMask::CREATE
                | WatchMask::DELETE
                | WatchMask::MOVED_TO
                | WatchMask::MOVED_FROM
                | WatchMask::ATTRIB
                | WatchMask::CLOSE_WRITE;
            match stream.watches().add(&folder, mask) {
                Ok(_) => self.watched.push(folder),
                Err(err) => tracing::debug!(%err, folder = %folder.display(), "cannot watch"),
            }
        }
    }

    /// Returns after the next notification, or after `limit`, whichever comes first.
    async fn changed(&mut self, limit: Duration) {
        let Some(stream) = &mut self.stream else {
            tokio::time::sleep(limit).await;
            return;
        };
        let next = std::future::poll_fn(|cx| Pin::new(&mut *stream).poll_next(cx));
        if let Ok(Some(Err(err))) = tokio::time::timeout(limit, next).await {
            tracing::debug!(%err, "inotify read failed; polling the device folders");
            self.stream = None;
        }
        self.watch_new_folders();
    }
}

impl Drop for Watcher {
    /// Closing an inotify descriptor that has watches blocks for a kernel RCU grace period
    /// (about 16 ms here); a device wait that is done must not pay for it, so the descriptor
    /// is closed on the runtime's blocking pool when there is one.
    fn drop(&mut self) {
        if let Some(stream) = self.stream.take()
            && let Ok(runtime) = tokio::runtime::Handle::try_current()
        {
            drop(runtime.spawn_blocking(move || drop(stream)));
        }
    }
}

/// Waits until `ready()` holds, looking again whenever an entry under the device root's
/// StorPool folders changes (and at least every `options.recheck`). Returns how long it took.
///
/// ```
/// use std::time::Duration;
/// use storpool_attach::{DeviceRoot, WaitOptions, wait::wait_until};
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> std::io::Result<()> {
/// let dir = tempfile::tempdir()?;
/// let root = DeviceRoot::new(dir.path());
/// let link = root.by_name("os--volume-never-attached");
/// let (timeout, recheck) = (Duration::from_millis(50), Duration::from_millis(10));
/// let options = WaitOptions { timeout, recheck };
/// let err = wait_until(&root, options, || link.exists()).await.unwrap_err();
/// assert!(err.waited >= Duration::from_millis(50));
/// # Ok(())
/// # }
/// ```
pub async fn wait_until(
    root: &DeviceRoot,
    options: WaitOptions,
    ready: impl FnMut() -> bool,
) -> Result<Duration, TimedOut> {
    wait_until_watching(root, &[], options, ready).await
}

/// Like [`wait_until`], and also looks again whenever one of `files` (which must exist when
/// the wait starts; links are followed) changes content, size or attributes.
///
/// ```
/// use storpool_attach::{DeviceRoot, WaitOptions, wait::wait_until_watching};
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> std::io::Result<()> {
/// let dir = tempfile::tempdir()?;
/// let (file, grower) = (dir.path().join("disk"), dir.path().join("disk"));
/// std::fs::write(&file, b"")?;
/// tokio::spawn(async move { std::fs::File::options().write(true).open(grower)?.set_len(4096) });
/// let grown = || std::fs::metadata(&file).is_ok_and(|m| m.len() == 4096);
/// let root = DeviceRoot::new(dir.path());
/// let files = [file.clone()];
/// assert!(wait_until_watching(&root, &files, WaitOptions::default(), grown).await.is_ok());
/// # Ok(())
/// # }
/// ```
pub async fn wait_until_watching(
    root: &DeviceRoot,
    files: &[PathBuf],
    options: WaitOptions,
    ready: impl FnMut() -> bool,
) -> Result<Duration, TimedOut> {
    let span = tracing::debug_span!(
        "wait",
        root = %root.path().display(),
        timeout_ms = options.timeout.as_millis()
    );
    tracing::Instrument::instrument(wait_steps(root, files, options, ready), span).await
}

/// The looks and waits of [`wait_until_watching`], in its span.
async fn wait_steps(
    root: &DeviceRoot,
    files: &[PathBuf],
    options: WaitOptions,
    mut ready: impl FnMut() -> bool,
) -> Result<Duration, TimedOut> {
    let start = Instant::now();
    // Most waits end at once (the device is there when the API says so): look before paying
    // for the watches.
    if ready() {
        tracing::trace!(step = 0, "ready at the first look");
        return Ok(start.elapsed());
    }
    // Watch first, then look again: a change between the two cannot be missed.
    let mut watcher = Watcher::new(root, files);
    let mut step: u32 = 0;
    loop {
        step += 1;
        if ready() {
            tracing::trace!(step, waited_ms = start.elapsed().as_millis(), "ready");
            return Ok(start.elapsed());
        }
        let waited = start.elapsed();
        let Some(left) = options.timeout.checked_sub(waited).filter(|d| !d.is_zero()) else {
            tracing::trace!(step, waited_ms = waited.as_millis(), "gave up");
            return Err(TimedOut { waited });
        };
        let limit = options.recheck.min(left);
        tracing::trace!(
            step,
            waited_ms = waited.as_millis(),
            "not ready: waiting for a change"
        );
        watcher.changed(limit).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_link_created_later_wakes_the_wait_without_polling() {
        let dir = tempfile::tempdir().unwrap();
        let root = DeviceRoot::new(dir.path());
        let link = root.by_id("d.n.x");
        let data = dir.path().join("data");
        std::fs::write(&data, b"x").unwrap();
        let (creator_link, creator_root) = (link.clone(), root.clone());
        let creator = tokio::spawn(async move {
            tokio::task::yield_now().await;
            std::fs::create_dir_all(creator_root.by_id_dir()).unwrap();
            std::os::unix::fs::symlink(&data, &creator_link).unwrap();
        });
        // A recheck interval far beyond the test's patience: only notifications can wake it.
        let options = WaitOptions {
            timeout: Duration::from_secs(30),
            recheck: Duration::from_secs(30),
        };
        let waited = wait_until(&root, options, || link.exists()).await.unwrap();
        creator.await.unwrap();
        assert!(waited < Duration::from_secs(30));
    }

    #[tokio::test]
    async fn a_watched_file_that_grows_wakes_the_wait() {
        let dir = tempfile::tempdir().unwrap();
        let root = DeviceRoot::new(dir.path());
        let data = dir.path().join("data");
        std::fs::write(&data, b"x").unwrap();
        let grower = data.clone();
        let task = tokio::spawn(async move {
            tokio::task::yield_now().await;
            std::fs::OpenOptions::new()
                .write(true)
                .open(&grower)
                .unwrap()
                .set_len(4096)
                .unwrap();
        });
        let options = WaitOptions {
            timeout: Duration::from_secs(30),
            recheck: Duration::from_secs(30),
        };
        let files = [data.clone()];
        let waited = wait_until_watching(&root, &files, options, || {
            std::fs::metadata(&data).is_ok_and(|m| m.len() == 4096)
        })
        .await
        .unwrap();
        task.await.unwrap();
        assert!(waited < Duration::from_secs(30));
    }

    #[tokio::test]
    async fn the_wait_gives_up_at_its_deadline() {
        let dir = tempfile::tempdir().unwrap();
        let root = DeviceRoot::new(dir.path());
        let options = WaitOptions {
            timeout: Duration::from_millis(20),
            recheck: Duration::from_millis(5),
        };
        let err = wait_until(&root, options, || false).await.unwrap_err();
        assert!(err.waited >= Duration::from_millis(20));
    }

    #[tokio::test]
    async fn a_condition_already_true_returns_at_once() {
        let dir = tempfile::tempdir().unwrap();
        let root = DeviceRoot::new(dir.path());
        let options = WaitOptions {
            timeout: Duration::ZERO,
            recheck: Duration::ZERO,
        };
        assert!(wait_until(&root, options, || true).await.is_ok());
    }
}
