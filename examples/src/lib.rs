//! Code of the kind a program using storpool-rs would hold, used by the examples and tested
//! in `tests/it.rs` against the simulator: provisioning instance volumes from a golden
//! snapshot, with one marker written into each through this node.
#![doc = include_str!("../README.md")]

use std::io::{Seek as _, SeekFrom, Write as _};
use std::path::Path;

use storpool_attach::{AccessMode, AttachError, Connector, DetachOptions, Target};
use storpool_driver_core::{Driver, DriverError, Specs, Volume};

/// What went wrong while provisioning: the driver's or the connector's typed error, or the
/// local write.
#[derive(Debug)]
pub enum ProvisionError {
    /// A volume operation failed.
    Driver(DriverError),
    /// Attaching or detaching failed.
    Attach(AttachError),
    /// Writing the marker failed.
    Write(std::io::Error),
}

impl std::fmt::Display for ProvisionError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Driver(_) => "a volume operation failed",
            Self::Attach(_) => "attaching or detaching failed",
            Self::Write(_) => "writing the marker failed",
        })
    }
}

impl std::error::Error for ProvisionError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Driver(err) => Some(err),
            Self::Attach(err) => Some(err),
            Self::Write(err) => Some(err),
        }
    }
}

impl From<DriverError> for ProvisionError {
    fn from(err: DriverError) -> Self {
        Self::Driver(err)
    }
}

impl From<AttachError> for ProvisionError {
    fn from(err: AttachError) -> Self {
        Self::Attach(err)
    }
}

/// The bytes written at offset 4096 of every instance volume.
pub fn marker(id: &str) -> Vec<u8> {
    format!("provisioned {id}\n").into_bytes()
}

/// Writes `data` at `offset` of the device at `path`.
pub fn write_at(path: &Path, offset: u64, data: &[u8]) -> std::io::Result<()> {
    let mut device = std::fs::OpenOptions::new().write(true).open(path)?;
    device.seek(SeekFrom::Start(offset))?;
    device.write_all(data)?;
    device.sync_all()
}

/// Creates one volume per id from `golden_snapshot` (`size_gib` GiB, of the volume type
/// `specs`), attaches each here, writes its [`marker`] and detaches it again. Repeating the
/// call after a failure is safe: every step is idempotent.
pub async fn provision_instances(
    driver: &Driver,
    connector: &Connector,
    golden_snapshot: &str,
    ids: &[&str],
    size_gib: u64,
    specs: &Specs,
) -> Result<Vec<Volume>, ProvisionError> {
    let mut volumes = Vec::with_capacity(ids.len());
    for id in ids {
        let volume = driver
            .create_volume_from_snapshot(id, golden_snapshot, size_gib, specs)
            .await?;
        let target = Target::volume(*id);
        let attached = connector.connect(&target, AccessMode::Rw).await?;
        let written = write_at(&attached.path, 4096, &marker(id));
        // Detach whatever happened to the write.
        connector
            .disconnect(&target, DetachOptions::default())
            .await?;
        written.map_err(ProvisionError::Write)?;
        volumes.push(volume);
    }
    Ok(volumes)
}

/// The same with the blocking facades, for synchronous programs.
pub fn provision_instances_blocking(
    driver: &storpool_driver_core::blocking::Driver,
    connector: &storpool_attach::blocking::Connector,
    golden_snapshot: &str,
    ids: &[&str],
    size_gib: u64,
    specs: &Specs,
) -> Result<Vec<Volume>, ProvisionError> {
    let mut volumes = Vec::with_capacity(ids.len());
    for id in ids {
        let volume = driver.create_volume_from_snapshot(id, golden_snapshot, size_gib, specs)?;
        let target = Target::volume(*id);
        let attached = connector.connect(&target, AccessMode::Rw)?;
        let written = write_at(&attached.path, 4096, &marker(id));
        connector.disconnect(&target, DetachOptions::default())?;
        written.map_err(ProvisionError::Write)?;
        volumes.push(volume);
    }
    Ok(volumes)
}

/// The cluster an example talks to: the one `STORPOOL_CONF` describes, else an in-process
/// simulator serving this node as client 1 (kept alive by this value), with a template `ssd`.
pub struct Setup {
    /// The simulator, when there is no real cluster.
    pub sim: Option<storpool_sim::Sim>,
    /// The volume driver.
    pub driver: Driver,
    /// This node's connector.
    pub connector: Connector,
}

impl Setup {
    /// Reads `STORPOOL_CONF` when it is set, else starts the simulator.
    pub fn new() -> Result<Self, Box<dyn std::error::Error>> {
        use storpool_attach::{ClientId, DeviceRoot};
        use storpool_driver_core::{Client, DriverOptions, Loader};

        if std::env::var_os("STORPOOL_CONF").is_some() {
            let loader = Loader::system();
            let config = loader.load()?;
            let driver = Driver::from_conf(&config, &loader, DriverOptions::new())?;
            let connector = Connector::from_conf(&config, driver.client())?;
            return Ok(Self {
                sim: None,
                driver,
                connector,
            });
        }
        let sim = storpool_sim::Sim::builder().serve_client(1).start()?;
        sim.seed_template("ssd", Some(3), None)?;
        let client = Client::builder()
            .base_url(sim.base_url())
            .token(sim.token())
            .build()?;
        let driver = Driver::new(client.clone(), DriverOptions::new())?;
        let connector = Connector::new(&client, ClientId::new(1)?)
            .with_device_root(DeviceRoot::new(sim.dev_root()));
        Ok(Self {
            sim: Some(sim),
            driver,
            connector,
        })
    }
}
