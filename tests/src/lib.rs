//! A node on a simulated cluster, for the workspace-level suites: the volume driver and the
//! attach connector wired to one in-process `storpool-sim`, with helpers to move real bytes
//! through the emulated devices.
#![allow(clippy::missing_errors_doc)]

use std::path::Path;

use storpool_api::{Client, ClientId, RetryPolicy};
use storpool_attach::{AccessMode, Connector, DetachOptions, DeviceRoot, Target};
use storpool_driver_core::{Driver, DriverOptions};
use storpool_sim::{Faults, Sim};

/// The client id the simulator serves as "this node".
pub const NODE: u16 = 1;

/// One simulated cluster, the driver of a controller and the connector of a node.
pub struct Node {
    /// The simulator (dropping it stops it).
    pub sim: Sim,
    /// The volume driver.
    pub driver: Driver,
    /// The attach side of client [`NODE`].
    pub connector: Connector,
}

impl Node {
    /// A cluster with templates `hdd` (replication 3) and `ssd` (replication 2), serving
    /// client [`NODE`], with `faults`; the API client retries transient faults `retries`
    /// times without waiting.
    pub fn start(faults: Faults, retries: u32) -> Result<Self, Box<dyn std::error::Error>> {
        let sim = Sim::builder().serve_client(NODE).faults(faults).start()?;
        sim.seed_template("hdd", Some(3), None)?;
        sim.seed_template("ssd", Some(2), None)?;
        let client = Client::builder()
            .base_url(sim.base_url())
            .token(sim.token())
            .retry(RetryPolicy::immediate(retries))
            .build()?;
        let driver = Driver::new(client.clone(), DriverOptions::new())?;
        let connector = Connector::new(&client, ClientId::new(u64::from(NODE))?)
            .with_device_root(DeviceRoot::new(sim.dev_root()));
        Ok(Self {
            sim,
            driver,
            connector,
        })
    }

    /// Attaches `target` here, runs `f` on its device, detaches it again.
    pub async fn with_device<T>(
        &self,
        target: &Target,
        mode: AccessMode,
        f: impl FnOnce(&Path) -> std::io::Result<T>,
    ) -> Result<T, Box<dyn std::error::Error>> {
        let attached = self.connector.connect(target, mode).await?;
        let result = f(&attached.path);
        self.connector
            .disconnect(target, DetachOptions::default())
            .await?;
        Ok(result?)
    }
}

/// `len` bytes of a pattern that differs per `seed`.
pub fn pattern(seed: u8, len: usize) -> Vec<u8> {
    (0..len)
        .map(|i| {
            let i = u8::try_from(i % 251).unwrap_or(0);
            i.wrapping_mul(31).wrapping_add(seed)
        })
        .collect()
}

/// Writes `data` at `offset` of a device and flushes it.
pub fn write_at(device: &Path, offset: u64, data: &[u8]) -> std::io::Result<()> {
    use std::io::{Seek, SeekFrom, Write};
    let mut file = std::fs::OpenOptions::new().write(true).open(device)?;
    file.seek(SeekFrom::Start(offset))?;
    file.write_all(data)?;
    file.sync_all()
}

/// Reads `len` bytes at `offset` of a device.
pub fn read_at(device: &Path, offset: u64, len: usize) -> std::io::Result<Vec<u8>> {
    use std::io::{Read, Seek, SeekFrom};
    let mut file = std::fs::File::open(device)?;
    file.seek(SeekFrom::Start(offset))?;
    let mut data = vec![0; len];
    file.read_exact(&mut data)?;
    Ok(data)
}

/// The workspace README's examples compile as doctests of this (unpublished) package.
#[cfg(doctest)]
#[doc = include_str!("../../README.md")]
struct WorkspaceReadme;

/// The examples of `docs/embedding.md` compile as doctests too.
#[cfg(doctest)]
#[doc = include_str!("../../docs/embedding.md")]
struct EmbeddingGuide;
