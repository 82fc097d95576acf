//! `storpool_rs.Connector`: this node's side (`storpool-attach`) for Python.

use std::path::PathBuf;
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use pyo3::prelude::*;
use serde::Serialize;
use storpool_api::Client;
use storpool_attach::{
    AccessMode, Attached, ConnectionProperties, Connector, DetachOptions, Detached, DeviceInfo,
    DeviceRoot, Extended, NodeAttachment, Target, WaitOptions,
};

use crate::config::Source;
use crate::convert::to_py;
use crate::errors::{attach_error, config_error, invalid_input};
use crate::runtime::{self, block_on};

/// What a connect did, as Python sees it.
#[derive(Serialize)]
struct AttachedOut<'a> {
    /// `block` (os-brick's device type).
    #[serde(rename = "type")]
    kind: &'static str,
    path: &'a std::path::Path,
    name_path: &'a std::path::Path,
    object: String,
    name: &'a str,
    global_id: &'a str,
    access_mode: &'static str,
    changed: bool,
    waited_seconds: f64,
    elapsed_seconds: f64,
}

impl<'a> From<&'a Attached> for AttachedOut<'a> {
    fn from(a: &'a Attached) -> Self {
        Self {
            kind: "block",
            path: &a.path,
            name_path: &a.name_path,
            object: a.kind.to_string(),
            name: &a.name,
            global_id: &a.global_id,
            access_mode: a.access_mode.as_str(),
            changed: a.changed,
            waited_seconds: a.waited.as_secs_f64(),
            elapsed_seconds: a.elapsed.as_secs_f64(),
        }
    }
}

#[derive(Serialize)]
struct DetachedOut<'a> {
    object: String,
    name: &'a str,
    global_id: Option<&'a str>,
    changed: bool,
    forced: bool,
    attempts: u32,
    waited_seconds: f64,
    elapsed_seconds: f64,
}

impl<'a> From<&'a Detached> for DetachedOut<'a> {
    fn from(d: &'a Detached) -> Self {
        Self {
            object: d.kind.to_string(),
            name: &d.name,
            global_id: d.global_id.as_deref(),
            changed: d.changed,
            forced: d.forced,
            attempts: d.attempts,
            waited_seconds: d.waited.as_secs_f64(),
            elapsed_seconds: d.elapsed.as_secs_f64(),
        }
    }
}

#[derive(Serialize)]
struct ExtendedOut<'a> {
    name: &'a str,
    path: &'a std::path::Path,
    size_bytes: u64,
    waited_seconds: f64,
}

#[derive(Serialize)]
struct AttachmentOut<'a> {
    object: String,
    id: Option<&'a str>,
    name: &'a str,
    global_id: Option<&'a str>,
    access_mode: Option<&'static str>,
    path: Option<&'a std::path::Path>,
    name_path: Option<&'a std::path::Path>,
    present: bool,
}

impl<'a> From<&'a NodeAttachment> for AttachmentOut<'a> {
    fn from(a: &'a NodeAttachment) -> Self {
        Self {
            object: a.kind.to_string(),
            id: a.id.as_deref(),
            name: &a.name,
            global_id: a.global_id.as_deref(),
            access_mode: a.access_mode.map(AccessMode::as_str),
            path: a.path.as_deref(),
            name_path: a.name_path.as_deref(),
            present: a.present,
        }
    }
}

/// How to build the Rust connector again (in a process forked after it was built).
#[derive(Clone, Debug)]
struct Recipe {
    source: Source,
    device_root: Option<PathBuf>,
    attach_timeout: Option<Duration>,
}

impl Recipe {
    fn build(&self) -> PyResult<Connector> {
        let (config, _) = self.source.load()?;
        let client = Client::from_conf(&config).map_err(|err| config_error(&err))?;
        let mut connector =
            Connector::from_conf(&config, &client).map_err(|err| attach_error(&err))?;
        if let Some(root) = &self.device_root {
            connector = connector.with_device_root(DeviceRoot::new(root));
        }
        if let Some(timeout) = self.attach_timeout {
            connector = connector.with_wait(WaitOptions {
                timeout,
                ..WaitOptions::default()
            });
        }
        Ok(connector)
    }
}

/// This node's side: attaches StorPool volumes and snapshots here and waits for their
/// devices, detaches them, follows resizes, lists what is attached (os-brick's StorPool
/// connector, on the Rust core). Every method releases the GIL while it works.
///
/// Needs this node's `SP_OURID` in storpool.conf. Devices appear under `device_root`
/// (default `/dev`): `storpool/NAME` and `storpool-byid/GLOBALID`.
///
/// Reads storpool.conf as `Driver` does (this node's section must set `SP_OURID`).
/// `device_root` replaces `/dev` (tests, the simulator); `attach_timeout` (seconds,
/// default 60) bounds the wait for a device.
#[pyclass(module = "storpool_rs._native", name = "Connector", frozen)]
pub(crate) struct PyConnector {
    recipe: Recipe,
    inner: Mutex<(u32, Connector)>,
}

impl PyConnector {
    /// The Rust connector of this process, for other wrappers.
    pub(crate) fn native(&self) -> PyResult<Connector> {
        self.connector()
    }

    fn connector(&self) -> PyResult<Connector> {
        let mut inner = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
        if inner.0 != runtime::pid() {
            *inner = (runtime::pid(), self.recipe.build()?);
        }
        Ok(inner.1.clone())
    }
}

fn mode(mode: &str) -> PyResult<AccessMode> {
    mode.parse().map_err(|err| attach_error(&err))
}

fn properties(value: &Bound<'_, PyAny>) -> PyResult<ConnectionProperties> {
    let json: serde_json::Value = pythonize::depythonize(value).map_err(|err| {
        invalid_input(format!(
            "invalid StorPool connection data: expected a dict ({err})"
        ))
    })?;
    // Cinder hands either the `data` member or the whole connection info.
    let parsed = if json.get("driver_volume_type").is_some() {
        ConnectionProperties::from_connection_info(&json)
    } else {
        ConnectionProperties::from_json(&json)
    };
    parsed.map_err(|err| attach_error(&err))
}

fn device_info(value: Option<&Bound<'_, PyAny>>) -> PyResult<Option<DeviceInfo>> {
    let Some(value) = value.filter(|v| !v.is_none()) else {
        return Ok(None);
    };
    let json: serde_json::Value = pythonize::depythonize(value)
        .map_err(|err| invalid_input(format!("invalid device info: expected a dict ({err})")))?;
    // Only the path matters; os-brick's dicts may carry other members.
    Ok(json
        .get("path")
        .and_then(serde_json::Value::as_str)
        .map(DeviceInfo::block))
}

/// A path as Python text (as the result dicts carry paths).
fn text(path: &std::path::Path) -> String {
    path.to_string_lossy().into_owned()
}

fn detach_options(force: bool) -> DetachOptions {
    DetachOptions { force }
}

#[pymethods]
impl PyConnector {
    #[new]
    #[pyo3(signature = (config=None, *, device_root=None, attach_timeout=None))]
    fn new(
        config: Option<PathBuf>,
        device_root: Option<PathBuf>,
        attach_timeout: Option<f64>,
    ) -> PyResult<Self> {
        let attach_timeout = attach_timeout
            .map(|secs| {
                Duration::try_from_secs_f64(secs)
                    .ok()
                    .filter(|d| !d.is_zero())
                    .ok_or_else(|| {
                        invalid_input(format!(
                            "invalid attach_timeout {secs}: expected a positive number of seconds"
                        ))
                    })
            })
            .transpose()?;
        let recipe = Recipe {
            source: Source::new(config),
            device_root,
            attach_timeout,
        };
        let connector = recipe.build()?;
        Ok(Self {
            recipe,
            inner: Mutex::new((runtime::pid(), connector)),
        })
    }

    /// This node's StorPool client id (`SP_OURID`).
    #[getter]
    fn our_id(&self) -> PyResult<u64> {
        Ok(u64::from(self.connector()?.our_id().get()))
    }

    /// The folder devices appear under (default `/dev`).
    #[getter]
    fn device_root(&self) -> PyResult<String> {
        Ok(text(self.connector()?.device_root().path()))
    }

    /// Where volumes' name links appear: `DEVROOT/storpool`.
    fn search_path(&self) -> PyResult<String> {
        Ok(text(&self.connector()?.search_path()))
    }

    /// Attaches volume `volume_id` here (`mode` `rw` or `ro`) and waits for its device.
    /// Returns `{"type": "block", "path": DEVROOT/storpool-byid/GLOBALID, ...}`.
    #[pyo3(signature = (volume_id, mode="rw"))]
    fn connect(&self, py: Python<'_>, volume_id: String, mode: &str) -> PyResult<Py<PyAny>> {
        let mode = self::mode(mode)?;
        let connector = self.connector()?;
        let target = Target::volume(volume_id);
        let attached = block_on(py, async move { connector.connect(&target, mode).await })?
            .map_err(|err| attach_error(&err))?;
        to_py(py, &AttachedOut::from(&attached))
    }

    /// Attaches snapshot `snapshot_id` here read-only and waits for its device.
    fn connect_snapshot(&self, py: Python<'_>, snapshot_id: String) -> PyResult<Py<PyAny>> {
        let connector = self.connector()?;
        let target = Target::snapshot(snapshot_id);
        let attached = block_on(py, async move {
            connector.connect(&target, AccessMode::Ro).await
        })?
        .map_err(|err| attach_error(&err))?;
        to_py(py, &AttachedOut::from(&attached))
    }

    /// Attaches what Cinder's connection info (or its `data` member) describes:
    /// `{"client_id", "volume", "access_mode"}`. Returns as `connect`.
    fn connect_properties(
        &self,
        py: Python<'_>,
        properties: &Bound<'_, PyAny>,
    ) -> PyResult<Py<PyAny>> {
        let properties = self::properties(properties)?;
        let connector = self.connector()?;
        let attached = block_on(py, async move {
            connector.connect_properties(&properties).await
        })?
        .map_err(|err| attach_error(&err))?;
        to_py(py, &AttachedOut::from(&attached))
    }

    /// Detaches volume `volume_id` from this node (retrying while its device is open, the
    /// last attempt forced; `force` forces at once). Not attached here is success.
    #[pyo3(signature = (volume_id, force=false))]
    fn disconnect(&self, py: Python<'_>, volume_id: String, force: bool) -> PyResult<Py<PyAny>> {
        let connector = self.connector()?;
        let target = Target::volume(volume_id);
        let detached = block_on(py, async move {
            connector.disconnect(&target, detach_options(force)).await
        })?
        .map_err(|err| attach_error(&err))?;
        to_py(py, &DetachedOut::from(&detached))
    }

    /// Detaches snapshot `snapshot_id` from this node.
    #[pyo3(signature = (snapshot_id, force=false))]
    fn disconnect_snapshot(
        &self,
        py: Python<'_>,
        snapshot_id: String,
        force: bool,
    ) -> PyResult<Py<PyAny>> {
        let connector = self.connector()?;
        let target = Target::snapshot(snapshot_id);
        let detached = block_on(py, async move {
            connector.disconnect(&target, detach_options(force)).await
        })?
        .map_err(|err| attach_error(&err))?;
        to_py(py, &DetachedOut::from(&detached))
    }

    /// Detaches what a device path names: `DEVROOT/storpool/NAME` or
    /// `DEVROOT/storpool-byid/GLOBALID`.
    #[pyo3(signature = (path, force=false))]
    fn disconnect_path(&self, py: Python<'_>, path: PathBuf, force: bool) -> PyResult<Py<PyAny>> {
        let connector = self.connector()?;
        let detached = block_on(py, async move {
            connector
                .disconnect_path(&path, detach_options(force))
                .await
        })?
        .map_err(|err| attach_error(&err))?;
        to_py(py, &DetachedOut::from(&detached))
    }

    /// Detaches as os-brick does: the device is the connection data's `device_path`, else
    /// `device_info["path"]` (what `connect_properties` returned).
    #[pyo3(signature = (properties, device_info=None, force=false))]
    fn disconnect_properties(
        &self,
        py: Python<'_>,
        properties: &Bound<'_, PyAny>,
        device_info: Option<&Bound<'_, PyAny>>,
        force: bool,
    ) -> PyResult<Py<PyAny>> {
        let properties = self::properties(properties)?;
        let device_info = self::device_info(device_info)?;
        let connector = self.connector()?;
        let detached = block_on(py, async move {
            connector
                .disconnect_properties(&properties, device_info.as_ref(), detach_options(force))
                .await
        })?
        .map_err(|err| attach_error(&err))?;
        to_py(py, &DetachedOut::from(&detached))
    }

    /// Waits until the local device of volume `volume_id` shows the size the cluster
    /// reports. Returns `{"name", "path", "size_bytes", "waited_seconds"}`.
    fn extend(&self, py: Python<'_>, volume_id: String) -> PyResult<Py<PyAny>> {
        let connector = self.connector()?;
        let extended: Extended = block_on(py, async move { connector.extend(&volume_id).await })?
            .map_err(|err| attach_error(&err))?;
        to_py(
            py,
            &ExtendedOut {
                name: &extended.name,
                path: &extended.path,
                size_bytes: extended.size,
                waited_seconds: extended.waited.as_secs_f64(),
            },
        )
    }

    /// The name link of the volume the connection data names (`DEVROOT/storpool/NAME`), as
    /// a one-element list; a different `device_path` in the data is an error.
    fn volume_paths(&self, properties: &Bound<'_, PyAny>) -> PyResult<Vec<String>> {
        let properties = self::properties(properties)?;
        let paths = self
            .connector()?
            .volume_paths(&properties)
            .map_err(|err| attach_error(&err))?;
        Ok(paths.iter().map(|p| text(p)).collect())
    }

    /// The ids of the volumes whose name links exist under `DEVROOT/storpool`.
    fn available_volumes(&self) -> PyResult<Vec<String>> {
        self.connector()?
            .available_volumes()
            .map_err(|err| attach_error(&err))
    }

    /// What the cluster has attached to this node, with whether each device is present.
    fn list(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        let connector = self.connector()?;
        let list = block_on(py, async move { connector.list().await })?
            .map_err(|err| attach_error(&err))?;
        let out: Vec<AttachmentOut<'_>> = list.iter().map(AttachmentOut::from).collect();
        to_py(py, &out)
    }

    fn __repr__(&self) -> PyResult<String> {
        let connector = self.connector()?;
        Ok(format!(
            "<storpool_rs.Connector client={} api={} device_root={}>",
            connector.our_id(),
            connector.client().base_url(),
            connector.device_root().path().display()
        ))
    }
}
