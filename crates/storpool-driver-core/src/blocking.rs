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

/// Methods with the async driver's name, arguments and result, each running it; each entry
/// carries its own doc attributes.
macro_rules! blocking {
    ($(
        $(#[$meta:meta])*
        $name:ident $(<$($generic:ident: $bound:path),+>)? ($($arg:ident: $ty:ty),*) -> $ret:ty;
    )*) => {$(
        $(#[$meta])*
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
        /// Creates volume `id` of `size_gib` GiB with the type's template:
        /// [`crate::Driver::create_volume`], run to completion.
        ///
        /// ```no_run
        /// # fn run(driver: &storpool_driver_core::blocking::Driver) -> Result<(), storpool_driver_core::DriverError> {
        /// use storpool_driver_core::{Specs, SpecsExt as _};
        ///
        /// let ssd = Specs::from_pairs([("storpool_template", "ssd"), ("total_iops_sec", "5000")]);
        /// let volume = driver.create_volume("1234", 10, &ssd)?;
        /// assert_eq!(volume.name, "os--volume-1234");
        /// # Ok(())
        /// # }
        /// ```
        create_volume(id: &str, size_gib: u64, specs: &Specs) -> Volume;

        /// Detaches and deletes volume `id`, already gone being success:
        /// [`crate::Driver::delete_volume`], run to completion.
        ///
        /// ```no_run
        /// # fn run(driver: &storpool_driver_core::blocking::Driver) -> Result<(), storpool_driver_core::DriverError> {
        /// let deleted = driver.delete_volume("1234")?;
        /// if !deleted.existed {
        ///     println!("{} was already gone", deleted.name);
        /// }
        /// # Ok(())
        /// # }
        /// ```
        delete_volume(id: &str) -> Deletion;

        /// Grows volume `id` to `size_gib` GiB: [`crate::Driver::extend_volume`], run to
        /// completion.
        ///
        /// ```no_run
        /// # fn run(driver: &storpool_driver_core::blocking::Driver) -> Result<(), storpool_driver_core::DriverError> {
        /// let volume = driver.extend_volume("1234", 20)?;
        /// assert_eq!(volume.size_gib, 20);
        /// # Ok(())
        /// # }
        /// ```
        extend_volume(id: &str, size_gib: u64) -> Volume;

        /// Reverts volume `id` to its snapshot `snapshot_id`: [`crate::Driver::revert_volume`], run
        /// to completion.
        ///
        /// ```no_run
        /// # fn run(driver: &storpool_driver_core::blocking::Driver) -> Result<(), storpool_driver_core::DriverError> {
        /// // Back to snapshot `s1`, keeping a size the volume grew to since.
        /// let volume = driver.revert_volume("1234", "s1", true)?;
        /// # Ok(())
        /// # }
        /// ```
        revert_volume(id: &str, snapshot_id: &str, keep_size: bool) -> Volume;

        /// Reads volume `id` from the cluster: [`crate::Driver::get_volume`], run to completion.
        ///
        /// ```no_run
        /// # fn run(driver: &storpool_driver_core::blocking::Driver) -> Result<(), storpool_driver_core::DriverError> {
        /// let volume = driver.get_volume("1234")?;
        /// println!("{} GiB, template {:?}", volume.size_gib, volume.template);
        /// # Ok(())
        /// # }
        /// ```
        get_volume(id: &str) -> Volume;

        /// Reads volume `id`, or `None` when it does not exist: [`crate::Driver::find_volume`], run
        /// to completion.
        ///
        /// ```no_run
        /// # fn run(driver: &storpool_driver_core::blocking::Driver) -> Result<(), storpool_driver_core::DriverError> {
        /// if let Some(volume) = driver.find_volume("1234")? {
        ///     println!("{} exists", volume.name);
        /// }
        /// # Ok(())
        /// # }
        /// ```
        find_volume(id: &str) -> Option<Volume>;

        /// The driver's volumes: [`crate::Driver::list_volumes`], run to completion.
        ///
        /// ```no_run
        /// # fn run(driver: &storpool_driver_core::blocking::Driver) -> Result<(), storpool_driver_core::DriverError> {
        /// for volume in driver.list_volumes()? {
        ///     println!("{} {} GiB", volume.id, volume.size_gib);
        /// }
        /// # Ok(())
        /// # }
        /// ```
        list_volumes() -> Vec<Volume>;

        /// Snapshots volume `volume_id` as `snapshot_id`: [`crate::Driver::create_snapshot`], run
        /// to completion.
        ///
        /// ```no_run
        /// # fn run(driver: &storpool_driver_core::blocking::Driver) -> Result<(), storpool_driver_core::DriverError> {
        /// let snapshot = driver.create_snapshot("1234", "s1")?;
        /// assert_eq!(snapshot.name, "os--snap--none--snapshot-s1");
        /// # Ok(())
        /// # }
        /// ```
        create_snapshot(volume_id: &str, snapshot_id: &str) -> Snapshot;

        /// Detaches and deletes snapshot `snapshot_id`, already gone being success:
        /// [`crate::Driver::delete_snapshot`], run to completion.
        ///
        /// ```no_run
        /// # fn run(driver: &storpool_driver_core::blocking::Driver) -> Result<(), storpool_driver_core::DriverError> {
        /// let deleted = driver.delete_snapshot("s1")?; // already gone: still Ok
        /// println!("existed: {}", deleted.existed);
        /// # Ok(())
        /// # }
        /// ```
        delete_snapshot(snapshot_id: &str) -> Deletion;

        /// Reads snapshot `snapshot_id` from the cluster: [`crate::Driver::get_snapshot`], run to
        /// completion.
        ///
        /// ```no_run
        /// # fn run(driver: &storpool_driver_core::blocking::Driver) -> Result<(), storpool_driver_core::DriverError> {
        /// let snapshot = driver.get_snapshot("s1")?;
        /// println!("{} of {:?}, {} GiB", snapshot.name, snapshot.volume, snapshot.size_gib);
        /// # Ok(())
        /// # }
        /// ```
        get_snapshot(snapshot_id: &str) -> Snapshot;

        /// Reads snapshot `snapshot_id`, or `None` when it does not exist:
        /// [`crate::Driver::find_snapshot`], run to completion.
        ///
        /// ```no_run
        /// # fn run(driver: &storpool_driver_core::blocking::Driver) -> Result<(), storpool_driver_core::DriverError> {
        /// if driver.find_snapshot("s1")?.is_none() {
        ///     driver.create_snapshot("1234", "s1")?;
        /// }
        /// # Ok(())
        /// # }
        /// ```
        find_snapshot(snapshot_id: &str) -> Option<Snapshot>;

        /// The driver's snapshots, of one volume or of all: [`crate::Driver::list_snapshots`], run
        /// to completion.
        ///
        /// ```no_run
        /// # fn run(driver: &storpool_driver_core::blocking::Driver) -> Result<(), storpool_driver_core::DriverError> {
        /// for snapshot in driver.list_snapshots(None)? {
        ///     println!("{} {}", snapshot.id, snapshot.name);
        /// }
        /// let of_1234 = driver.list_snapshots(Some("1234"))?;
        /// # Ok(())
        /// # }
        /// ```
        list_snapshots(volume_id: Option<&str>) -> Vec<Snapshot>;

        /// The driver's group snapshots: [`crate::Driver::list_group_snapshots`], run to
        /// completion.
        ///
        /// ```no_run
        /// # fn run(driver: &storpool_driver_core::blocking::Driver) -> Result<(), storpool_driver_core::DriverError> {
        /// for group in driver.list_group_snapshots()? {
        ///     println!("{}: {} volumes", group.id, group.snapshots.len());
        /// }
        /// # Ok(())
        /// # }
        /// ```
        list_group_snapshots() -> Vec<GroupSnapshot>;

        /// The cluster's templates: [`crate::Driver::list_templates`], run to completion.
        ///
        /// ```no_run
        /// # fn run(driver: &storpool_driver_core::blocking::Driver) -> Result<(), storpool_driver_core::DriverError> {
        /// for template in driver.list_templates()? {
        ///     println!("{}: replication {:?}", template.name, template.replication);
        /// }
        /// # Ok(())
        /// # }
        /// ```
        list_templates() -> Vec<Template>;

        /// Creates volume `volume_id` from snapshot `snapshot_id`:
        /// [`crate::Driver::create_volume_from_snapshot`], run to completion.
        ///
        /// ```no_run
        /// # fn run(driver: &storpool_driver_core::blocking::Driver) -> Result<(), storpool_driver_core::DriverError> {
        /// use storpool_driver_core::Specs;
        ///
        /// let volume = driver.create_volume_from_snapshot("vm-1", "golden", 20, &Specs::new())?;
        /// assert_eq!(volume.parent_snapshot.as_deref(), Some("os--snap--none--snapshot-golden"));
        /// # Ok(())
        /// # }
        /// ```
        create_volume_from_snapshot(volume_id: &str, snapshot_id: &str, size_gib: u64, specs: &Specs) -> Volume;

        /// Creates volume `volume_id` from a member of group snapshot `group_id`:
        /// [`crate::Driver::create_volume_from_group_snapshot`], run to completion.
        ///
        /// ```no_run
        /// # fn run(driver: &storpool_driver_core::blocking::Driver) -> Result<(), storpool_driver_core::DriverError> {
        /// use storpool_driver_core::Specs;
        ///
        /// // Volume "restored-a" from the member of group snapshot "g1" taken of volume "a".
        /// driver.create_volume_from_group_snapshot("restored-a", "g1", "a", 10, &Specs::new())?;
        /// # Ok(())
        /// # }
        /// ```
        create_volume_from_group_snapshot(
            volume_id: &str, group_id: &str, source_volume_id: &str, size_gib: u64, specs: &Specs
        ) -> Volume;

        /// Snapshots several volumes at one instant: [`crate::Driver::create_group_snapshot`], run
        /// to completion.
        ///
        /// ```no_run
        /// # fn run(driver: &storpool_driver_core::blocking::Driver) -> Result<(), storpool_driver_core::DriverError> {
        /// let group = driver.create_group_snapshot("g1", &["a", "b"])?;
        /// assert_eq!(group.snapshots.len(), 2);
        /// # Ok(())
        /// # }
        /// ```
        create_group_snapshot<S: AsRef<str>>(group_id: &str, volume_ids: &[S]) -> GroupSnapshot;

        /// Deletes every member of group snapshot `group_id`:
        /// [`crate::Driver::delete_group_snapshot`], run to completion.
        ///
        /// ```no_run
        /// # fn run(driver: &storpool_driver_core::blocking::Driver) -> Result<(), storpool_driver_core::DriverError> {
        /// let deleted = driver.delete_group_snapshot("g1")?;
        /// println!("deleted {:?}", deleted.deleted);
        /// # Ok(())
        /// # }
        /// ```
        delete_group_snapshot(group_id: &str) -> GroupDeletion;

        /// Creates volume `volume_id` as a copy of volume `source_volume_id`:
        /// [`crate::Driver::clone_volume`], run to completion.
        ///
        /// ```no_run
        /// # fn run(driver: &storpool_driver_core::blocking::Driver) -> Result<(), storpool_driver_core::DriverError> {
        /// use storpool_driver_core::{Specs, SpecsExt as _};
        ///
        /// // Into another template: through a snapshot that is deleted again.
        /// let hdd = Specs::from_pairs([("storpool_template", "hdd")]);
        /// let clone = driver.clone_volume("5678", "1234", 20, &hdd)?;
        /// # Ok(())
        /// # }
        /// ```
        clone_volume(volume_id: &str, source_volume_id: &str, size_gib: u64, specs: &Specs) -> Volume;

        /// Makes volume `id` match a new volume type: [`crate::Driver::retype_volume`], run to
        /// completion.
        ///
        /// ```no_run
        /// # fn run(driver: &storpool_driver_core::blocking::Driver) -> Result<(), storpool_driver_core::DriverError> {
        /// use storpool_driver_core::{Specs, SpecsExt as _};
        ///
        /// let hdd = Specs::from_pairs([("storpool_template", "hdd")]);
        /// let outcome = driver.retype_volume("1234", &hdd, false)?;
        /// println!("retyped: {}, changed: {:?}", outcome.retyped, outcome.changed);
        /// # Ok(())
        /// # }
        /// ```
        retype_volume(id: &str, new_specs: &Specs, encryption_changed: bool) -> RetypeOutcome;

        /// Moves volume `id` into pool `pool` of this backend in place:
        /// [`crate::Driver::move_to_pool`], run to completion.
        ///
        /// ```no_run
        /// # fn run(driver: &storpool_driver_core::blocking::Driver) -> Result<(), storpool_driver_core::DriverError> {
        /// use storpool_driver_core::Specs;
        ///
        /// let outcome = driver.move_to_pool("1234", "template_hdd", &Specs::new())?;
        /// if !outcome.retyped {
        ///     println!("refused: {:?}", outcome.refused);
        /// }
        /// # Ok(())
        /// # }
        /// ```
        move_to_pool(id: &str, pool: &str, specs: &Specs) -> RetypeOutcome;

        /// Gives volume `volume_id` the data a migration copied into `temp_volume_id`:
        /// [`crate::Driver::finish_migration`], run to completion.
        ///
        /// ```no_run
        /// # fn run(driver: &storpool_driver_core::blocking::Driver) -> Result<(), storpool_driver_core::DriverError> {
        /// // The migration copied volume "1234" into the temporary volume "tmp-9".
        /// let update = driver.finish_migration("1234", "tmp-9", None)?;
        /// assert_eq!(update.name_id, None);
        /// # Ok(())
        /// # }
        /// ```
        finish_migration(volume_id: &str, temp_volume_id: &str, temp_name_id: Option<&str>) -> MigrationUpdate;

        /// The cluster's volumes that the driver could adopt:
        /// [`crate::Driver::manageable_volumes`], run to completion.
        ///
        /// ```no_run
        /// # fn run(driver: &storpool_driver_core::blocking::Driver) -> Result<(), storpool_driver_core::DriverError> {
        /// for candidate in driver.manageable_volumes()? {
        ///     println!("{} safe: {}", candidate.name, candidate.safe_to_manage);
        /// }
        /// # Ok(())
        /// # }
        /// ```
        manageable_volumes() -> Vec<ManageableVolume>;

        /// Adopts the existing volume `existing_name` as volume `id`:
        /// [`crate::Driver::manage_volume`], run to completion.
        ///
        /// ```no_run
        /// # fn run(driver: &storpool_driver_core::blocking::Driver) -> Result<(), storpool_driver_core::DriverError> {
        /// // Adopt the cluster's volume "legacy-db" as volume "1234".
        /// let volume = driver.manage_volume("1234", "legacy-db")?;
        /// assert_eq!(volume.name, "os--volume-1234");
        /// # Ok(())
        /// # }
        /// ```
        manage_volume(id: &str, existing_name: &str) -> Volume;

        /// Releases volume `id`, keeping its data: [`crate::Driver::unmanage_volume`], run to
        /// completion.
        ///
        /// ```no_run
        /// # fn run(driver: &storpool_driver_core::blocking::Driver) -> Result<(), storpool_driver_core::DriverError> {
        /// let released = driver.unmanage_volume("1234")?;
        /// println!("now {}", released.name);
        /// # Ok(())
        /// # }
        /// ```
        unmanage_volume(id: &str) -> Unmanaged;

        /// The backend's capabilities and capacity: [`crate::Driver::stats`], run to completion.
        ///
        /// ```no_run
        /// # fn run(driver: &storpool_driver_core::blocking::Driver) -> Result<(), storpool_driver_core::DriverError> {
        /// for pool in &driver.stats()?.pools {
        ///     println!("{}: {} GiB free", pool.pool_name, pool.free_capacity_gb);
        /// }
        /// # Ok(())
        /// # }
        /// ```
        stats() -> Stats;

        /// What host `host` needs to attach volume `id`: [`crate::Driver::connection_info`], run to
        /// completion.
        ///
        /// ```no_run
        /// # fn run(driver: &storpool_driver_core::blocking::Driver) -> Result<(), storpool_driver_core::DriverError> {
        /// let info = driver.connection_info("1234", "compute-1")?;
        /// println!("client {}", info.data.client_id);
        /// # Ok(())
        /// # }
        /// ```
        connection_info(id: &str, host: &str) -> ConnectionInfo;
    }

    /// Snapshots several volumes at one instant, each member with a snapshot id of its own:
    /// [`crate::Driver::create_group_snapshot_of`], run to completion.
    ///
    /// ```no_run
    /// # fn run(driver: &storpool_driver_core::blocking::Driver) -> Result<(), storpool_driver_core::DriverError> {
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
