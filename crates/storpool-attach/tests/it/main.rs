//! Scenario tests: the connector against an in-process `storpool-sim` that emulates
//! `storpool_block` for the client id it serves, with its devices under a temporary root.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod config;
mod connect;
mod disconnect;
mod discovery;
mod extend;
mod properties;

use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::json;
use storpool_api::{Client, RetryPolicy};
use storpool_attach::{ClientId, Connector, DetachRetry, DeviceRoot, WaitOptions};
use storpool_sim::Sim;

/// The client id the simulator serves: this "node".
pub const ID: u16 = 7;
/// A registered client the simulator does not serve: attaching to it makes no devices here.
pub const OTHER: u16 = 2;
/// One GiB.
pub const GIB: u64 = 1 << 30;

/// A simulator serving [`ID`] and a connector for it.
pub struct Env {
    /// The simulator.
    pub sim: Sim,
    /// A connector for [`ID`] with its device root.
    pub connector: Connector,
}

/// A simulator serving [`ID`].
pub fn sim() -> Sim {
    Sim::builder().serve_client(ID).start().unwrap()
}

/// A client without transient retries (a test must not wait out the backoff).
pub fn client(sim: &Sim) -> Client {
    Client::builder()
        .base_url(sim.base_url())
        .token(sim.token())
        .retry(RetryPolicy::none())
        .build()
        .unwrap()
}

/// A connector for client `id` of `sim`: generous deadline, zero retry delay.
pub fn connector(sim: &Sim, id: u16) -> Connector {
    Connector::new(&client(sim), ClientId::new(u64::from(id)).unwrap())
        .with_device_root(DeviceRoot::new(sim.dev_root()))
        .with_wait(WaitOptions {
            timeout: Duration::from_secs(20),
            recheck: Duration::from_secs(1),
        })
        .with_detach_retry(DetachRetry {
            delay: Duration::ZERO,
            ..DetachRetry::default()
        })
}

/// A simulator serving [`ID`] and a connector for it.
pub fn env() -> Env {
    let sim = sim();
    let connector = connector(&sim, ID);
    Env { sim, connector }
}

impl Env {
    /// Creates `os--volume-{id}` of `size` bytes; returns its global id.
    pub fn volume(&self, id: &str, size: u64) -> String {
        self.sim
            .seed_volume(&format!("os--volume-{id}"), size, None)
            .unwrap()
    }

    /// Snapshots `os--volume-{volume}` as `os--snap--none--snapshot-{id}`; returns its global id.
    pub fn snapshot(&self, volume: &str, id: &str) -> String {
        let answer = self
            .sim
            .call(
                "POST",
                &format!("VolumeSnapshot/os--volume-{volume}"),
                Some(json!({"name": format!("os--snap--none--snapshot-{id}")})),
            )
            .unwrap();
        answer["snapshotGlobalId"].as_str().unwrap().to_owned()
    }

    /// `(client, rw)` of every attachment of `name`.
    pub fn attachments_of(&self, name: &str) -> Vec<(u16, bool)> {
        self.sim
            .state()
            .attachments
            .iter()
            .filter(|a| a.name == name)
            .map(|a| (a.client, a.rw))
            .collect()
    }
}

/// Captures the log lines written while it is the thread's default subscriber.
#[derive(Clone, Default)]
pub struct Logs(Arc<Mutex<Vec<u8>>>);

impl Logs {
    /// Starts capturing on this thread (the tests run on a current-thread runtime).
    pub fn capture() -> (Self, tracing::subscriber::DefaultGuard) {
        let logs = Self::default();
        let writer = logs.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_max_level(tracing::Level::DEBUG)
            .with_ansi(false)
            .with_writer(move || writer.clone())
            .finish();
        let guard = tracing::subscriber::set_default(subscriber);
        (logs, guard)
    }

    /// Everything logged so far.
    pub fn text(&self) -> String {
        String::from_utf8(self.0.lock().unwrap().clone()).unwrap()
    }
}

impl Write for Logs {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Whether some inotify instance of this process watches `path` (Linux lists the watches of
/// an inotify descriptor in `/proc/self/fdinfo`, by inode number in hex).
pub fn is_watched(path: &std::path::Path) -> bool {
    use std::os::unix::fs::MetadataExt;
    let Ok(inode) = std::fs::metadata(path).map(|m| m.ino()) else {
        return false;
    };
    let needle = format!(" ino:{inode:x} ");
    std::fs::read_dir("/proc/self/fdinfo")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|entry| std::fs::read_to_string(entry.path()).ok())
        .any(|info| {
            info.lines()
                .any(|line| line.starts_with("inotify") && line.contains(&needle))
        })
}

/// Yields until a wait watches `path`: what happens after that must wake it.
pub async fn until_watched(path: &std::path::Path) {
    while !is_watched(path) {
        tokio::task::yield_now().await;
    }
}
