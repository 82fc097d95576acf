//! `storpool_rs.Driver`: the volume driver (`storpool-driver-core`) for Python.

use std::path::PathBuf;
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use pyo3::prelude::*;
use storpool_api::{ClientBuilder, RetryPolicy, TemplateName};
use storpool_driver_core::{Driver, DriverOptions, Specs, Volume};

use crate::config::Source;
use crate::convert::{specs, to_py};
use crate::errors::{config_error, driver_error, invalid_input};
use crate::runtime::{self, block_on};

/// How to build the Rust driver again (in a process forked after it was built).
#[derive(Clone, Debug)]
struct Recipe {
    source: Source,
    options: DriverOptions,
    prefix: Option<String>,
    api_timeout: Option<Duration>,
    api_retries: Option<u32>,
}

impl Recipe {
    fn build(&self) -> PyResult<Driver> {
        let (config, loader) = self.source.load()?;
        let mut client = ClientBuilder::from_conf(&config).map_err(|err| config_error(&err))?;
        if let Some(timeout) = self.api_timeout {
            client = client.timeout(timeout);
        }
        if let Some(retries) = self.api_retries {
            client = client.retry(RetryPolicy {
                retries,
                ..RetryPolicy::default()
            });
        }
        let client = client.build().map_err(|err| config_error(&err))?;
        let prefix = self
            .prefix
            .clone()
            .unwrap_or_else(|| config.volume_prefix().to_owned());
        let driver = Driver::new(client, self.options.clone().volume_prefix(prefix))
            .map_err(|err| driver_error(&err))?;
        Ok(driver.with_host_config(loader))
    }
}

/// The StorPool volume driver: every operation of the Cinder StorPool driver as one
/// synchronous method (the GIL is released while it works).
///
/// Objects are named by the orchestrator's ids (`{prefix}--volume-{id}` on the cluster);
/// sizes are whole GiB; a volume type is a dict of its specs (`storpool_template`,
/// `storpool_replication`, QoS keys such as `total_iops_sec`). Results are plain dicts
/// with the field names of the Rust types' JSON. Errors are `StorPoolError` subclasses.
///
/// Reads storpool.conf as the StorPool tools do: `config` (a main file) when given, else
/// `$STORPOOL_CONF`, else `/etc/storpool.conf`, with its `.d/*.conf` drop-ins, this
/// node's `[HOSTNAME]` section and `SP_AUTH_TOKEN`, `SP_API_HTTP_HOST`,
/// `SP_API_HTTP_PORT` from the environment. `template` and `replication` are Cinder's
/// `storpool_template` and `storpool_replication` (for volumes whose type names
/// neither); `prefix` replaces `SP_OPENSTACK_VOLUME_PREFIX`; `backend_name` is reported
/// in stats and compared on retype; `own_hosts` are host names that mean this node in
/// `connection_info`; `api_timeout` (seconds, default 300) bounds one API call and
/// `api_retries` (default 5, 1 s doubling each time) is how often a transient failure
/// is tried again.
#[pyclass(module = "storpool_rs._native", name = "Driver", frozen)]
pub(crate) struct PyDriver {
    recipe: Recipe,
    /// The driver, and the process it was built in.
    inner: Mutex<(u32, Driver)>,
}

impl PyDriver {
    /// The Rust driver of this process, for other wrappers.
    pub(crate) fn native(&self) -> PyResult<Driver> {
        self.driver()
    }

    /// The driver of this process (built again after a fork).
    fn driver(&self) -> PyResult<Driver> {
        let mut inner = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
        if inner.0 != runtime::pid() {
            *inner = (runtime::pid(), self.recipe.build()?);
        }
        Ok(inner.1.clone())
    }
}

/// Runs one driver operation: `$call` is an async expression over `driver`.
macro_rules! run {
    ($self:ident, $py:ident, |$driver:ident| $call:expr) => {{
        let $driver = $self.driver()?;
        let result = block_on($py, async move { $call.await })?;
        match result {
            Ok(value) => to_py($py, &value),
            Err(err) => Err(driver_error(&err)),
        }
    }};
}

fn template(name: Option<String>) -> PyResult<Option<TemplateName>> {
    name.map(|name| {
        TemplateName::new(name.as_str())
            .map_err(|err| invalid_input(format!("invalid template `{name}`: {err}")))
    })
    .transpose()
}

#[pymethods]
impl PyDriver {
    #[new]
    #[pyo3(signature = (config=None, *, template=None, replication=3, prefix=None,
        backend_name=None, own_hosts=None, node_name=None, api_timeout=None,
        api_retries=None, multi_cluster=true))]
    #[allow(clippy::too_many_arguments)] // Python keyword arguments
    fn new(
        config: Option<PathBuf>,
        template: Option<String>,
        replication: u8,
        prefix: Option<String>,
        backend_name: Option<String>,
        own_hosts: Option<Vec<String>>,
        node_name: Option<String>,
        api_timeout: Option<f64>,
        api_retries: Option<u32>,
        multi_cluster: bool,
    ) -> PyResult<Self> {
        let api_timeout = api_timeout
            .map(|secs| {
                Duration::try_from_secs_f64(secs)
                    .ok()
                    .filter(|d| !d.is_zero())
                    .ok_or_else(|| {
                        invalid_input(format!(
                            "invalid api_timeout {secs}: expected a positive number of seconds"
                        ))
                    })
            })
            .transpose()?;
        let mut options = DriverOptions::new()
            .default_replication(replication)
            .own_hosts(own_hosts.unwrap_or_default())
            .multi_cluster(multi_cluster);
        // Optional values go straight into the public fields.
        options.default_template = self::template(template)?;
        options.backend_name = backend_name;
        options.node_name = node_name;
        let recipe = Recipe {
            source: Source::new(config),
            options,
            prefix,
            api_timeout,
            api_retries,
        };
        let driver = recipe.build()?;
        Ok(Self {
            recipe,
            inner: Mutex::new((runtime::pid(), driver)),
        })
    }

    /// The backend name reported in stats (the configured one, else `storpool`).
    #[getter]
    fn backend_name(&self) -> PyResult<String> {
        Ok(self.driver()?.backend_name().to_owned())
    }

    /// The prefix of every cluster name (`SP_OPENSTACK_VOLUME_PREFIX`, default `os`).
    #[getter]
    fn prefix(&self) -> PyResult<String> {
        Ok(self.driver()?.naming().prefix().to_owned())
    }

    /// The API endpoint, e.g. `http://10.1.0.5:81`.
    #[getter]
    fn api_url(&self) -> PyResult<String> {
        Ok(self.driver()?.client().base_url().to_owned())
    }

    /// The cluster name of volume `volume_id`: `{prefix}--volume-{volume_id}`.
    fn volume_name(&self, volume_id: &str) -> PyResult<String> {
        self.driver()?
            .naming()
            .volume(volume_id)
            .map_err(|err| driver_error(&err))
    }

    /// The cluster name of snapshot `snapshot_id`:
    /// `{prefix}--snap--none--snapshot-{snapshot_id}`.
    fn snapshot_name(&self, snapshot_id: &str) -> PyResult<String> {
        self.driver()?
            .naming()
            .snapshot(snapshot_id)
            .map_err(|err| driver_error(&err))
    }

    /// The pool a volume of a type with these specs lands in (Cinder's `get_pool`):
    /// `template_{name}`, `default`, or `replication_{n}`.
    #[pyo3(signature = (specs=None))]
    fn pool_name(&self, specs: Option<&Bound<'_, PyAny>>) -> PyResult<String> {
        let specs = self::specs(specs)?;
        self.driver()?
            .pool_name(&specs)
            .map_err(|err| driver_error(&err))
    }

    /// The pool a volume (a dict as the methods return) is in: its template's, else
    /// `default` or `replication_{n}` by its replication.
    fn pool_of(&self, volume: &Bound<'_, PyAny>) -> PyResult<String> {
        let volume: Volume = pythonize::depythonize(volume)
            .map_err(|err| invalid_input(format!("not a volume dict: {err}")))?;
        Ok(self.driver()?.pool_of(&volume))
    }

    /// Creates volume `volume_id` of `size_gib` GiB for a type with `specs`; a retry that
    /// finds the volume made as asked is success. Returns the volume.
    #[pyo3(signature = (volume_id, size_gib, specs=None))]
    fn create_volume(
        &self,
        py: Python<'_>,
        volume_id: String,
        size_gib: u64,
        specs: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Py<PyAny>> {
        let specs: Specs = self::specs(specs)?;
        run!(self, py, |driver| driver
            .create_volume(&volume_id, size_gib, &specs))
    }

    /// Deletes volume `volume_id` (detaching it everywhere first); already gone is success.
    /// Returns `{"id", "name", "existed"}`.
    fn delete_volume(&self, py: Python<'_>, volume_id: String) -> PyResult<Py<PyAny>> {
        run!(self, py, |driver| driver.delete_volume(&volume_id))
    }

    /// Grows volume `volume_id` to `size_gib` GiB. Returns the volume.
    fn extend_volume(
        &self,
        py: Python<'_>,
        volume_id: String,
        size_gib: u64,
    ) -> PyResult<Py<PyAny>> {
        run!(self, py, |driver| driver
            .extend_volume(&volume_id, size_gib))
    }

    /// Reverts volume `volume_id` to snapshot `snapshot_id`; with `keep_size`, a volume
    /// grown since keeps its size. Returns the volume.
    #[pyo3(signature = (volume_id, snapshot_id, keep_size=false))]
    fn revert_volume(
        &self,
        py: Python<'_>,
        volume_id: String,
        snapshot_id: String,
        keep_size: bool,
    ) -> PyResult<Py<PyAny>> {
        run!(self, py, |driver| driver.revert_volume(
            &volume_id,
            &snapshot_id,
            keep_size
        ))
    }

    /// Volume `volume_id` as the cluster has it; `NotFoundError` when it does not exist.
    fn get_volume(&self, py: Python<'_>, volume_id: String) -> PyResult<Py<PyAny>> {
        run!(self, py, |driver| driver.get_volume(&volume_id))
    }

    /// Volume `volume_id`, or None when it does not exist.
    fn find_volume(&self, py: Python<'_>, volume_id: String) -> PyResult<Py<PyAny>> {
        run!(self, py, |driver| driver.find_volume(&volume_id))
    }

    /// Every volume of this driver's prefix.
    fn list_volumes(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        run!(self, py, |driver| driver.list_volumes())
    }

    /// The driver's snapshots, sorted by name (not the members of group snapshots nor the
    /// transient snapshots behind clones); with `volume_id`, only those of that volume (which
    /// must exist).
    #[pyo3(signature = (volume_id=None))]
    fn list_snapshots(&self, py: Python<'_>, volume_id: Option<String>) -> PyResult<Py<PyAny>> {
        run!(self, py, |driver| driver
            .list_snapshots(volume_id.as_deref()))
    }

    /// Snapshot `snapshot_id`; raises NotFoundError when it does not exist.
    fn get_snapshot(&self, py: Python<'_>, snapshot_id: String) -> PyResult<Py<PyAny>> {
        run!(self, py, |driver| driver.get_snapshot(&snapshot_id))
    }

    /// Snapshot `snapshot_id`, or None when it does not exist.
    fn find_snapshot(&self, py: Python<'_>, snapshot_id: String) -> PyResult<Py<PyAny>> {
        run!(self, py, |driver| driver.find_snapshot(&snapshot_id))
    }

    /// The driver's group snapshots by group id; each member's `id` is its volume's id.
    fn list_group_snapshots(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        run!(self, py, |driver| driver.list_group_snapshots())
    }

    /// The cluster's templates, sorted by name: replication, placement groups, limits and,
    /// when the cluster reports them, usage, capacity and free space in bytes.
    fn list_templates(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        run!(self, py, |driver| driver.list_templates())
    }

    /// Snapshots volume `volume_id` as `snapshot_id`. Returns the snapshot.
    fn create_snapshot(
        &self,
        py: Python<'_>,
        volume_id: String,
        snapshot_id: String,
    ) -> PyResult<Py<PyAny>> {
        run!(self, py, |driver| driver
            .create_snapshot(&volume_id, &snapshot_id))
    }

    /// Deletes snapshot `snapshot_id`; already gone is success.
    fn delete_snapshot(&self, py: Python<'_>, snapshot_id: String) -> PyResult<Py<PyAny>> {
        run!(self, py, |driver| driver.delete_snapshot(&snapshot_id))
    }

    /// Creates volume `volume_id` of `size_gib` GiB from snapshot `snapshot_id` (copy on
    /// write); the type's template, when it names one, is applied. Returns the volume.
    #[pyo3(signature = (volume_id, snapshot_id, size_gib, specs=None))]
    fn create_volume_from_snapshot(
        &self,
        py: Python<'_>,
        volume_id: String,
        snapshot_id: String,
        size_gib: u64,
        specs: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Py<PyAny>> {
        let specs = self::specs(specs)?;
        run!(self, py, |driver| driver.create_volume_from_snapshot(
            &volume_id,
            &snapshot_id,
            size_gib,
            &specs
        ))
    }

    /// Creates volume `volume_id` from the member of group snapshot `group_id` taken of
    /// volume `source_volume_id` (see `create_group_snapshot`).
    #[pyo3(signature = (volume_id, group_id, source_volume_id, size_gib, specs=None))]
    fn create_volume_from_group_snapshot(
        &self,
        py: Python<'_>,
        volume_id: String,
        group_id: String,
        source_volume_id: String,
        size_gib: u64,
        specs: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Py<PyAny>> {
        let specs = self::specs(specs)?;
        run!(self, py, |driver| driver.create_volume_from_group_snapshot(
            &volume_id,
            &group_id,
            &source_volume_id,
            size_gib,
            &specs
        ))
    }

    /// Clones volume `source_volume_id` into a new volume `volume_id` of `size_gib` GiB for
    /// a type with `specs`; across templates through a transient snapshot that is never
    /// left behind. Returns the volume.
    #[pyo3(signature = (volume_id, source_volume_id, size_gib, specs=None))]
    fn clone_volume(
        &self,
        py: Python<'_>,
        volume_id: String,
        source_volume_id: String,
        size_gib: u64,
        specs: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Py<PyAny>> {
        let specs = self::specs(specs)?;
        run!(self, py, |driver| driver.clone_volume(
            &volume_id,
            &source_volume_id,
            size_gib,
            &specs
        ))
    }

    /// Makes volume `volume_id` match a type with `specs` in place (template or
    /// replication, QoS). Returns `{"retyped", "refused", "changed"}`; refused (nothing
    /// changed) for an encryption change or a type of another backend.
    #[pyo3(signature = (volume_id, specs=None, encryption_changed=false))]
    fn retype_volume(
        &self,
        py: Python<'_>,
        volume_id: String,
        specs: Option<&Bound<'_, PyAny>>,
        encryption_changed: bool,
    ) -> PyResult<Py<PyAny>> {
        let specs = self::specs(specs)?;
        run!(self, py, |driver| driver.retype_volume(
            &volume_id,
            &specs,
            encryption_changed
        ))
    }

    /// Moves volume `volume_id` into pool `pool` of this backend in place (its template or
    /// replication), keeping the QoS of its type (`specs`). Returns
    /// `{"retyped", "refused", "changed"}`.
    #[pyo3(signature = (volume_id, pool, specs=None))]
    fn move_to_pool(
        &self,
        py: Python<'_>,
        volume_id: String,
        pool: String,
        specs: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Py<PyAny>> {
        let specs = self::specs(specs)?;
        run!(self, py, |driver| driver
            .move_to_pool(&volume_id, &pool, &specs))
    }

    /// After a migration copied volume `volume_id` into `temp_volume_id`, gives the data
    /// the original name. Returns Cinder's model update `{"_name_id": None | id}`.
    #[pyo3(signature = (volume_id, temp_volume_id, temp_name_id=None))]
    fn finish_migration(
        &self,
        py: Python<'_>,
        volume_id: String,
        temp_volume_id: String,
        temp_name_id: Option<String>,
    ) -> PyResult<Py<PyAny>> {
        run!(self, py, |driver| driver.finish_migration(
            &volume_id,
            &temp_volume_id,
            temp_name_id.as_deref()
        ))
    }

    /// Deletes what a migration source record stands for (Cinder deletes the record with
    /// the temporary volume's id `volume_id` and the original's id as `name_id`): the old
    /// data, under whichever name it has after `finish_migration`; never the migrated data.
    fn delete_migration_source(
        &self,
        py: Python<'_>,
        volume_id: String,
        name_id: String,
    ) -> PyResult<Py<PyAny>> {
        run!(self, py, |driver| driver
            .delete_migration_source(&volume_id, &name_id))
    }

    /// Snapshots several volumes at one instant; members are named by the group id and
    /// each volume id. Returns `{"id", "snapshots"}`.
    fn create_group_snapshot(
        &self,
        py: Python<'_>,
        group_id: String,
        volume_ids: Vec<String>,
    ) -> PyResult<Py<PyAny>> {
        run!(self, py, |driver| driver
            .create_group_snapshot(&group_id, &volume_ids))
    }

    /// Snapshots several volumes at one instant; each member is an ordinary snapshot of its
    /// own id: `members` is a list of `(volume_id, snapshot_id)`. Returns
    /// `{"id", "snapshots"}`.
    fn create_group_snapshot_of(
        &self,
        py: Python<'_>,
        group_id: String,
        members: Vec<(String, String)>,
    ) -> PyResult<Py<PyAny>> {
        run!(self, py, |driver| driver
            .create_group_snapshot_of(&group_id, &members))
    }

    /// Deletes every member of group snapshot `group_id` (made by
    /// `create_group_snapshot`).
    fn delete_group_snapshot(&self, py: Python<'_>, group_id: String) -> PyResult<Py<PyAny>> {
        run!(self, py, |driver| driver.delete_group_snapshot(&group_id))
    }

    /// Volumes on the cluster this driver could take over, with whether that is safe.
    fn manageable_volumes(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        run!(self, py, |driver| driver.manageable_volumes())
    }

    /// Takes over the cluster's volume `existing_name` (or `~GLOBALID`) as `volume_id`.
    /// Returns the volume.
    fn manage_volume(
        &self,
        py: Python<'_>,
        volume_id: String,
        existing_name: String,
    ) -> PyResult<Py<PyAny>> {
        run!(self, py, |driver| driver
            .manage_volume(&volume_id, &existing_name))
    }

    /// Releases volume `volume_id` from the driver (renamed out of its names). Returns
    /// `{"id", "name"}`.
    fn unmanage_volume(&self, py: Python<'_>, volume_id: String) -> PyResult<Py<PyAny>> {
        run!(self, py, |driver| driver.unmanage_volume(&volume_id))
    }

    /// Capacity and capabilities in Cinder's stats shape, one pool per template.
    fn stats(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        run!(self, py, |driver| driver.stats())
    }

    /// What host `host` needs to attach volume `volume_id` (Cinder's connection info):
    /// `{"driver_volume_type": "storpool", "data": {"client_id", "volume", "access_mode"}}`.
    fn connection_info(
        &self,
        py: Python<'_>,
        volume_id: String,
        host: String,
    ) -> PyResult<Py<PyAny>> {
        run!(self, py, |driver| driver.connection_info(&volume_id, &host))
    }

    /// The StorPool client id of host `host` (its storpool.conf section's `SP_OURID`).
    fn client_id(&self, host: &str) -> PyResult<u16> {
        self.driver()?
            .client_id(host)
            .map_err(|err| driver_error(&err))
    }

    /// Whether host `host` can attach volumes (its client id can be read).
    fn validate_connector(&self, host: &str) -> PyResult<bool> {
        self.driver()?
            .validate_connector(host)
            .map_err(|err| driver_error(&err))
    }

    fn __repr__(&self) -> PyResult<String> {
        let driver = self.driver()?;
        Ok(format!(
            "<storpool_rs.Driver backend={:?} api={} prefix={:?}>",
            driver.backend_name(),
            driver.client().base_url(),
            driver.naming().prefix()
        ))
    }
}
