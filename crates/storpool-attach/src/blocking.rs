//! The connector for synchronous programs (feature `blocking`).
//!
//! [`Connector`] owns an async [`crate::Connector`] and a current-thread Tokio runtime
//! ([`storpool_api::blocking::Runtime`]) and runs each operation to completion on the calling
//! thread, as `reqwest::blocking` does: the device waits (inotify) run on that runtime too.
//! Every async method of [`crate::Connector`] has a method of the same name, arguments and
//! result here; the synchronous ones (`volume_paths`, `available_volumes`, `search_path`, the
//! settings) are on [`Connector::as_async`]. Configure the connector with its builders first,
//! then wrap it with [`Connector::from_async`].
//!
//! Inside a Tokio runtime (an async task, `block_on`, or `spawn_blocking`'s threads) every
//! operation returns [`AttachError::Blocking`] instead of blocking the runtime's thread (Tokio
//! itself would panic): use the async connector with `.await` there.
//!
//! ```no_run
//! use storpool_attach::blocking::Connector;
//! use storpool_attach::{AccessMode, DetachOptions, Target};
//!
//! let config = storpool_conf::Loader::system().load()?;
//! let client = storpool_api::Client::from_conf(&config)?;
//! let connector = Connector::from_async(storpool_attach::Connector::from_conf(&config, &client)?)?;
//!
//! let volume = Target::volume("5f0c2c3e-8d9a-4a1b-9b8f-0a1b2c3d4e5f");
//! let attached = connector.connect(&volume, AccessMode::Rw)?;
//! println!("{}", attached.path.display());
//! connector.disconnect(&volume, DetachOptions::default())?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::future::Future;
use std::path::Path;
use std::sync::Arc;

use storpool_api::Client;
use storpool_api::blocking::Runtime;

use crate::ClientId;
use crate::connector::{Attached, Detached, Extended, NodeAttachment};
use crate::error::AttachError;
use crate::options::DetachOptions;
use crate::props::{ConnectionProperties, DeviceInfo};
use crate::target::{AccessMode, Target};

/// Attaches and detaches StorPool volumes on this node, synchronously: [`crate::Connector`]'s
/// operations, each run to completion on the calling thread. Cheap to clone (clones share the
/// connector and the runtime), `Send + Sync`.
///
/// ```
/// use storpool_attach::{ClientId, blocking::Connector};
///
/// let client = storpool_api::Client::builder()
///     .base_url("http://127.0.0.1:81")
///     .token("t")
///     .build()?;
/// let connector = Connector::new(&client, ClientId::new(3)?)?;
/// // A clone shares the connector and the runtime, and can move to another thread.
/// let clone = connector.clone();
/// let id = std::thread::spawn(move || clone.as_async().our_id().get()).join();
/// assert_eq!(id.expect("the thread ran"), 3);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug)]
pub struct Connector {
    connector: crate::Connector,
    runtime: Arc<Runtime>,
}

impl Connector {
    /// A connector for client `our_id` with the defaults (see [`crate::Connector::new`]).
    ///
    /// ```
    /// use storpool_attach::{ClientId, blocking::Connector};
    ///
    /// let client = storpool_api::Client::builder()
    ///     .base_url("http://127.0.0.1:81")
    ///     .token("t")
    ///     .build()?;
    /// let connector = Connector::new(&client, ClientId::new(3)?)?;
    /// assert_eq!(connector.as_async().our_id().get(), 3);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn new(client: &Client, our_id: ClientId) -> Result<Self, AttachError> {
        Self::from_async(crate::Connector::new(client, our_id))
    }

    /// Wraps an async connector, set up with its builders (device root, waits, retries).
    ///
    /// ```
    /// use std::time::Duration;
    /// use storpool_attach::{ClientId, DeviceRoot, WaitOptions, blocking::Connector};
    ///
    /// let client = storpool_api::Client::builder()
    ///     .base_url("http://127.0.0.1:81")
    ///     .token("t")
    ///     .build()?;
    /// let connector = storpool_attach::Connector::new(&client, ClientId::new(3)?)
    ///     .with_device_root(DeviceRoot::new("/srv/dev"))
    ///     .with_wait(WaitOptions { timeout: Duration::from_secs(30), ..WaitOptions::default() });
    /// let connector = Connector::from_async(connector)?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn from_async(connector: crate::Connector) -> Result<Self, AttachError> {
        Ok(Self {
            connector,
            runtime: Arc::new(Runtime::new().map_err(AttachError::Blocking)?),
        })
    }

    /// The async connector: its synchronous methods and settings.
    ///
    /// ```
    /// # let client = storpool_api::Client::builder().base_url("http://127.0.0.1:81").token("t").build()?;
    /// # let connector = storpool_attach::blocking::Connector::new(&client, storpool_attach::ClientId::new(3)?)?;
    /// assert_eq!(connector.as_async().search_path(), std::path::Path::new("/dev/storpool"));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn as_async(&self) -> &crate::Connector {
        &self.connector
    }

    fn run<T>(
        &self,
        operation: impl Future<Output = Result<T, AttachError>>,
    ) -> Result<T, AttachError> {
        self.runtime
            .block_on(operation)
            .map_err(AttachError::Blocking)
            .and_then(std::convert::identity)
    }

    /// Attaches a volume or snapshot to this node and waits for its device:
    /// [`crate::Connector::connect`], run to completion.
    ///
    /// ```no_run
    /// # fn run(connector: &storpool_attach::blocking::Connector) -> Result<(), storpool_attach::AttachError> {
    /// use storpool_attach::{AccessMode, Target};
    ///
    /// let attached = connector.connect(&Target::volume("1234"), AccessMode::Rw)?;
    /// println!("{} after {:?}", attached.path.display(), attached.waited);
    /// # Ok(())
    /// # }
    /// ```
    pub fn connect(&self, target: &Target, mode: AccessMode) -> Result<Attached, AttachError> {
        self.run(self.connector.connect(target, mode))
    }

    /// Attaches a volume from os-brick-style connection data:
    /// [`crate::Connector::connect_properties`], run to completion.
    ///
    /// ```no_run
    /// # fn run(connector: &storpool_attach::blocking::Connector) -> Result<(), storpool_attach::AttachError> {
    /// use storpool_attach::ConnectionProperties;
    ///
    /// // The `data` of the driver's connection info, as Cinder hands it to os-brick.
    /// let data = serde_json::json!({"client_id": 3, "volume": "1234", "access_mode": "rw"});
    /// let attached = connector.connect_properties(&ConnectionProperties::from_json(&data)?)?;
    /// # Ok(())
    /// # }
    /// ```
    pub fn connect_properties(
        &self,
        properties: &ConnectionProperties,
    ) -> Result<Attached, AttachError> {
        self.run(self.connector.connect_properties(properties))
    }

    /// Detaches a volume or snapshot from this node: [`crate::Connector::disconnect`], run to
    /// completion.
    ///
    /// ```no_run
    /// # fn run(connector: &storpool_attach::blocking::Connector) -> Result<(), storpool_attach::AttachError> {
    /// use storpool_attach::{DetachOptions, Target};
    ///
    /// let detached = connector.disconnect(&Target::volume("1234"), DetachOptions::default())?;
    /// println!("detached: {}, forced: {}", detached.changed, detached.forced);
    /// # Ok(())
    /// # }
    /// ```
    pub fn disconnect(
        &self,
        target: &Target,
        options: DetachOptions,
    ) -> Result<Detached, AttachError> {
        self.run(self.connector.disconnect(target, options))
    }

    /// Detaches the volume or snapshot behind a device path (`DEVROOT/storpool-byid/GLOBALID`
    /// or `DEVROOT/storpool/NAME`): [`crate::Connector::disconnect_path`], run to completion.
    ///
    /// ```
    /// use std::path::Path;
    /// use storpool_attach::{AttachError, ClientId, DetachOptions, blocking::Connector};
    ///
    /// # let client = storpool_api::Client::builder().base_url("http://127.0.0.1:81").token("t").build()?;
    /// let connector = Connector::new(&client, ClientId::new(3)?)?;
    /// // Any other path is refused, before any request.
    /// let outside = Path::new("/tmp/disk.img");
    /// let err = connector.disconnect_path(outside, DetachOptions::default()).unwrap_err();
    /// assert!(matches!(err, AttachError::UnexpectedDevicePath { .. }));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn disconnect_path(
        &self,
        device: &Path,
        options: DetachOptions,
    ) -> Result<Detached, AttachError> {
        self.run(self.connector.disconnect_path(device, options))
    }

    /// Detaches a device from os-brick-style connection data:
    /// [`crate::Connector::disconnect_properties`], run to completion.
    ///
    /// ```no_run
    /// # fn run(connector: &storpool_attach::blocking::Connector) -> Result<(), storpool_attach::AttachError> {
    /// use storpool_attach::{ConnectionProperties, DetachOptions};
    ///
    /// let data = serde_json::json!({"client_id": 3, "volume": "1234", "access_mode": "rw"});
    /// let properties = ConnectionProperties::from_json(&data)?;
    /// // The device is `device_path` of the data, else the path that connect returned.
    /// let info = connector.connect_properties(&properties)?.device_info();
    /// connector.disconnect_properties(&properties, Some(&info), DetachOptions::default())?;
    /// # Ok(())
    /// # }
    /// ```
    pub fn disconnect_properties(
        &self,
        properties: &ConnectionProperties,
        device_info: Option<&DeviceInfo>,
        options: DetachOptions,
    ) -> Result<Detached, AttachError> {
        self.run(
            self.connector
                .disconnect_properties(properties, device_info, options),
        )
    }

    /// Waits until the local device shows a resized volume's new size:
    /// [`crate::Connector::extend`], run to completion.
    ///
    /// ```no_run
    /// # fn run(connector: &storpool_attach::blocking::Connector) -> Result<(), storpool_attach::AttachError> {
    /// let extended = connector.extend("1234")?;
    /// println!("{} now shows {} bytes", extended.path.display(), extended.size);
    /// # Ok(())
    /// # }
    /// ```
    pub fn extend(&self, volume_id: &str) -> Result<Extended, AttachError> {
        self.run(self.connector.extend(volume_id))
    }

    /// Everything the cluster lists as attached to this node: [`crate::Connector::list`], run to
    /// completion.
    ///
    /// ```no_run
    /// # fn run(connector: &storpool_attach::blocking::Connector) -> Result<(), storpool_attach::AttachError> {
    /// for attachment in connector.list()? {
    ///     println!("{} {:?} present: {}", attachment.name, attachment.access_mode, attachment.present);
    /// }
    /// # Ok(())
    /// # }
    /// ```
    pub fn list(&self) -> Result<Vec<NodeAttachment>, AttachError> {
        self.run(self.connector.list())
    }
}
