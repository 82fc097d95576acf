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

    /// [`crate::Connector::connect`], run to completion.
    pub fn connect(&self, target: &Target, mode: AccessMode) -> Result<Attached, AttachError> {
        self.run(self.connector.connect(target, mode))
    }

    /// [`crate::Connector::connect_properties`], run to completion.
    pub fn connect_properties(
        &self,
        properties: &ConnectionProperties,
    ) -> Result<Attached, AttachError> {
        self.run(self.connector.connect_properties(properties))
    }

    /// [`crate::Connector::disconnect`], run to completion.
    pub fn disconnect(
        &self,
        target: &Target,
        options: DetachOptions,
    ) -> Result<Detached, AttachError> {
        self.run(self.connector.disconnect(target, options))
    }

    /// [`crate::Connector::disconnect_path`], run to completion.
    pub fn disconnect_path(
        &self,
        device: &Path,
        options: DetachOptions,
    ) -> Result<Detached, AttachError> {
        self.run(self.connector.disconnect_path(device, options))
    }

    /// [`crate::Connector::disconnect_properties`], run to completion.
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

    /// [`crate::Connector::extend`], run to completion.
    pub fn extend(&self, volume_id: &str) -> Result<Extended, AttachError> {
        self.run(self.connector.extend(volume_id))
    }

    /// [`crate::Connector::list`], run to completion.
    pub fn list(&self) -> Result<Vec<NodeAttachment>, AttachError> {
        self.run(self.connector.list())
    }
}
