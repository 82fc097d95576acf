//! The driver for synchronous programs (feature `blocking`).
//!
//! [`Driver`] owns an async [`crate::Driver`] and a current-thread Tokio runtime
//! ([`storpool_api::blocking::Runtime`]) and runs each operation to completion on the calling
//! thread, as `reqwest::blocking` does. Every async operation of [`crate::Driver`] has a
//! method of the same name, arguments and result here; the synchronous helpers (pool names,
//! naming, client ids) are on [`Driver::as_async`].
//!
//! Inside a Tokio runtime (an async task, `block_on`, or `spawn_blocking`'s threads) every
//! operation returns [`DriverError::Blocking`] instead of blocking the runtime's thread (Tokio
//! itself would panic): use the async driver with `.await` there.
//!
//! ```
//! use storpool_driver_core::blocking::Driver;
//! use storpool_driver_core::{DriverOptions, Specs, SpecsExt as _};
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let sim = storpool_sim::Sim::start()?; // a simulator on its own thread
//! sim.seed_template("ssd", Some(3), None)?;
//! let client = storpool_driver_core::Client::builder()
//!     .base_url(sim.base_url())
//!     .token(sim.token())
//!     .build()?;
//! let driver = Driver::new(client, DriverOptions::new())?;
//!
//! let volume = driver.create_volume("1", 10, &Specs::from_pairs([("storpool_template", "ssd")]))?;
//! assert_eq!(volume.template.as_deref(), Some("ssd"));
//! driver.create_snapshot("1", "s1")?;
//! assert_eq!(driver.list_snapshots(None)?.len(), 1);
//! driver.delete_snapshot("s1")?;
//! assert!(driver.delete_volume("1")?.existed);
//! # Ok(())
//! # }
//! ```

use std::future::Future;
use std::sync::Arc;

use storpool_api::Client;
use storpool_api::blocking::Runtime;
use storpool_conf::{Config, Loader};

use crate::DriverOptions;
use crate::driver::Specs;
use crate::error::DriverError;
use crate::types::{
    ConnectionInfo, Deletion, GroupDeletion, GroupSnapshot, ManageableVolume, MigrationUpdate,
    RetypeOutcome, Snapshot, Stats, Template, Unmanaged, Volume,
};

/// The StorPool volume driver, synchronous: [`crate::Driver`]'s operations, each run to
/// completion on the calling thread. Cheap to clone (clones share the driver and the
/// runtime), `Send + Sync`.
///
/// ```
/// use storpool_driver_core::{Client, DriverOptions, ErrorKind, Specs, blocking::Driver};
///
/// let client = Client::builder().base_url("http://127.0.0.1:81").token("t").build()?;
/// let driver = Driver::new(client, DriverOptions::new())?;
/// // No `.await`: the call runs to completion (a size of 0 is refused before any request).
/// let err = driver.create_volume("1", 0, &Specs::new()).unwrap_err();
/// assert_eq!(err.kind(), ErrorKind::InvalidInput);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug)]
pub struct Driver {
    driver: crate::Driver,
    runtime: Arc<Runtime>,
}

/// Methods with the async driver's name, arguments and result, each running it.
macro_rules! blocking {
    ($(
        $name:ident $(<$($generic:ident: $bound:path),+>)? ($($arg:ident: $ty:ty),*) -> $ret:ty;
    )*) => {$(
        #[doc = concat!("[`crate::Driver::", stringify!($name), "`], run to completion.")]
        pub fn $name $(<$($generic: $bound),+>)? (&self, $($arg: $ty),*) -> Result<$ret, DriverError> {
            self.run(self.driver.$name($($arg),*))
        }
    )*};
}

impl Driver {
    /// A driver talking through `client` (see [`crate::Driver::new`]), with its own runtime.
    ///
    /// ```
    /// use storpool_driver_core::{Client, DriverOptions, blocking::Driver};
    ///
    /// let client = Client::builder().base_url("http://127.0.0.1:81").token("t").build()?;
    /// let driver = Driver::new(client, DriverOptions::new().default_replication(2))?;
    /// assert_eq!(driver.as_async().options().default_replication, 2);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn new(client: Client, options: DriverOptions) -> Result<Self, DriverError> {
        Self::from_async(crate::Driver::new(client, options)?)
    }

    /// The common path: storpool.conf (see [`crate::Driver::from_conf`]).
    ///
    /// ```no_run
    /// use storpool_driver_core::{DriverOptions, Loader, blocking::Driver};
    ///
    /// let loader = Loader::system();
    /// let driver = Driver::from_conf(&loader.load()?, &loader, DriverOptions::new())?;
    /// println!("{} volumes", driver.list_volumes()?.len());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn from_conf(
        config: &Config,
        loader: &Loader,
        options: DriverOptions,
    ) -> Result<Self, DriverError> {
        Self::from_async(crate::Driver::from_conf(config, loader, options)?)
    }

    /// Wraps an async driver (set up with its builders, e.g.
    /// [`crate::Driver::with_host_config`]).
    ///
    /// ```
    /// use storpool_driver_core::{Client, DriverOptions, Loader, blocking::Driver};
    ///
    /// let client = Client::builder().base_url("http://127.0.0.1:81").token("t").build()?;
    /// let driver = storpool_driver_core::Driver::new(client, DriverOptions::new())?
    ///     .with_host_config(Loader::new("/srv/storpool.conf"));
    /// let driver = Driver::from_async(driver)?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn from_async(driver: crate::Driver) -> Result<Self, DriverError> {
        Ok(Self {
            driver,
            runtime: Arc::new(Runtime::new().map_err(DriverError::Blocking)?),
        })
    }

    /// The async driver: its synchronous helpers ([`crate::Driver::pool_name`],
    /// [`crate::Driver::naming`], [`crate::Driver::client_id`], ...) and settings.
    ///
    /// ```
    /// use storpool_driver_core::{Client, DriverOptions, Specs, blocking::Driver};
    ///
    /// let client = Client::builder().base_url("http://127.0.0.1:81").token("t").build()?;
    /// let driver = Driver::new(client, DriverOptions::new())?;
    /// assert_eq!(driver.as_async().pool_name(&Specs::new())?, "default");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn as_async(&self) -> &crate::Driver {
        &self.driver
    }

    fn run<T>(
        &self,
        operation: impl Future<Output = Result<T, DriverError>>,
    ) -> Result<T, DriverError> {
        self.runtime
            .block_on(operation)
            .map_err(DriverError::Blocking)
            .and_then(std::convert::identity)
    }

    blocking! {
        create_volume(id: &str, size_gib: u64, specs: &Specs) -> Volume;
        delete_volume(id: &str) -> Deletion;
        extend_volume(id: &str, size_gib: u64) -> Volume;
        revert_volume(id: &str, snapshot_id: &str, keep_size: bool) -> Volume;
        get_volume(id: &str) -> Volume;
        find_volume(id: &str) -> Option<Volume>;
        list_volumes() -> Vec<Volume>;
        create_snapshot(volume_id: &str, snapshot_id: &str) -> Snapshot;
        delete_snapshot(snapshot_id: &str) -> Deletion;
        get_snapshot(snapshot_id: &str) -> Snapshot;
        find_snapshot(snapshot_id: &str) -> Option<Snapshot>;
        list_snapshots(volume_id: Option<&str>) -> Vec<Snapshot>;
        list_group_snapshots() -> Vec<GroupSnapshot>;
        list_templates() -> Vec<Template>;
        create_volume_from_snapshot(volume_id: &str, snapshot_id: &str, size_gib: u64, specs: &Specs) -> Volume;
        create_volume_from_group_snapshot(
            volume_id: &str, group_id: &str, source_volume_id: &str, size_gib: u64, specs: &Specs
        ) -> Volume;
        create_group_snapshot<S: AsRef<str>>(group_id: &str, volume_ids: &[S]) -> GroupSnapshot;
        delete_group_snapshot(group_id: &str) -> GroupDeletion;
        clone_volume(volume_id: &str, source_volume_id: &str, size_gib: u64, specs: &Specs) -> Volume;
        retype_volume(id: &str, new_specs: &Specs, encryption_changed: bool) -> RetypeOutcome;
        move_to_pool(id: &str, pool: &str, specs: &Specs) -> RetypeOutcome;
        finish_migration(volume_id: &str, temp_volume_id: &str, temp_name_id: Option<&str>) -> MigrationUpdate;
        manageable_volumes() -> Vec<ManageableVolume>;
        manage_volume(id: &str, existing_name: &str) -> Volume;
        unmanage_volume(id: &str) -> Unmanaged;
        stats() -> Stats;
        connection_info(id: &str, host: &str) -> ConnectionInfo;
    }

    /// [`crate::Driver::create_group_snapshot_of`], run to completion.
    ///
    /// ```no_run
    /// # fn run(driver: storpool_driver_core::blocking::Driver) -> Result<(), Box<dyn std::error::Error>> {
    /// // Each member gets a snapshot id of its own, usable with the single-snapshot calls.
    /// let group = driver.create_group_snapshot_of("g1", &[("a", "g1-a"), ("b", "g1-b")])?;
    /// assert_eq!(group.snapshots[0].id, "g1-a");
    /// driver.delete_snapshot("g1-a")?;
    /// # Ok(())
    /// # }
    /// ```
    pub fn create_group_snapshot_of<V: AsRef<str>, S: AsRef<str>>(
        &self,
        group_id: &str,
        members: &[(V, S)],
    ) -> Result<GroupSnapshot, DriverError> {
        self.run(self.driver.create_group_snapshot_of(group_id, members))
    }
}
