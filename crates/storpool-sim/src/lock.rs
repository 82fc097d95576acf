//! The exclusive lock on a state directory: two simulators never share one.
//!
//! The lock is a `flock` on `STATE/lock`, held by an open file for as long as the simulator
//! lives (the kernel drops it when the process ends, even on `kill -9`). The holder writes its
//! process id into the file so that a refused start can name it.

use std::fs::{File, OpenOptions};
use std::io::{Read as _, Seek as _, SeekFrom, Write as _};
use std::os::unix::fs::OpenOptionsExt as _;
use std::path::Path;
use std::time::{Duration, Instant};

use rustix::fs::{FlockOperation, flock};
use rustix::io::Errno;

use crate::error::SimError;

/// The lock file's name inside the state directory.
pub(crate) const LOCK_FILE: &str = "lock";

/// The longest pause between two attempts while waiting for the lock.
const MAX_PAUSE: Duration = Duration::from_millis(100);

/// An acquired lock; dropping it releases the lock.
#[derive(Debug)]
pub(crate) struct StateLock {
    _file: File,
}

impl StateLock {
    /// Takes the lock of `dir`, waiting up to `wait` for another holder to let go.
    pub(crate) fn acquire(dir: &Path, wait: Duration) -> Result<Self, SimError> {
        let path = dir.join(LOCK_FILE);
        let io = |source| SimError::Io {
            path: path.clone(),
            source,
        };
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .mode(crate::statedir::FILE_MODE)
            .open(&path)
            .map_err(io)?;
        let started = Instant::now();
        let mut pause = Duration::from_millis(2);
        loop {
            match flock(&file, FlockOperation::NonBlockingLockExclusive) {
                Ok(()) => break,
                Err(Errno::WOULDBLOCK) => {
                    let waited = started.elapsed();
                    if waited >= wait {
                        return Err(SimError::Locked {
                            dir: dir.to_owned(),
                            holder: holder(&mut file),
                            waited,
                        });
                    }
                    // `build` is synchronous: the caller chose to block for at most `wait`.
                    #[allow(clippy::disallowed_methods)]
                    std::thread::sleep(pause.min(wait.saturating_sub(waited)));
                    pause = (pause * 2).min(MAX_PAUSE);
                }
                Err(Errno::INTR) => {}
                // A filesystem without locks (some network filesystems): go on unprotected,
                // as before locks existed, but say so.
                Err(err @ (Errno::NOLCK | Errno::OPNOTSUPP)) => {
                    tracing::warn!(
                        path = %path.display(),
                        error = %err,
                        "cannot lock the state directory; make sure no other simulator uses it"
                    );
                    break;
                }
                Err(err) => return Err(io(err.into())),
            }
        }
        file.set_len(0)
            .and_then(|()| file.seek(SeekFrom::Start(0)))
            .and_then(|_| writeln!(file, "{}", std::process::id()))
            .map_err(io)?;
        Ok(Self { _file: file })
    }
}

/// The process id the holder wrote, when it can be read.
fn holder(file: &mut File) -> Option<u32> {
    let mut text = String::new();
    file.seek(SeekFrom::Start(0)).ok()?;
    file.read_to_string(&mut text).ok()?;
    text.trim().parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_holder_waits_then_names_the_first() {
        let dir = tempfile::tempdir().unwrap();
        let first = StateLock::acquire(dir.path(), Duration::ZERO).unwrap();
        let err = StateLock::acquire(dir.path(), Duration::from_millis(30)).unwrap_err();
        match &err {
            SimError::Locked {
                dir: locked,
                holder,
                waited,
            } => {
                assert_eq!(locked, dir.path());
                assert_eq!(*holder, Some(std::process::id()));
                assert!(*waited >= Duration::from_millis(30));
            }
            other => panic!("{other:?}"),
        }
        let text = err.to_string();
        assert!(text.contains("in use by another simulator"), "{text}");
        assert!(
            text.contains(&format!("process {}", std::process::id())),
            "{text}"
        );
        drop(first);
        StateLock::acquire(dir.path(), Duration::ZERO).unwrap();
        assert!(dir.path().join(LOCK_FILE).exists());
    }

    #[test]
    fn the_lock_is_taken_as_soon_as_it_is_released() {
        let dir = tempfile::tempdir().unwrap();
        let first = StateLock::acquire(dir.path(), Duration::ZERO).unwrap();
        let path = dir.path().to_owned();
        let (tx, rx) = std::sync::mpsc::channel();
        let waiter = std::thread::spawn(move || {
            tx.send(()).unwrap();
            StateLock::acquire(&path, Duration::from_secs(30)).map(|_| ())
        });
        rx.recv().unwrap();
        drop(first);
        waiter.join().unwrap().unwrap();
    }
}
