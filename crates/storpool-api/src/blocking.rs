//! Synchronous use of the client (feature `blocking`), for programs without a Tokio runtime.
//!
//! A [`Client`] here owns the async [`crate::Client`] and a current-thread Tokio [`Runtime`],
//! and runs each call to completion on the calling thread, as `reqwest::blocking` does. Clones
//! share both; calls from several threads take turns driving the runtime.
//!
//! It refuses to run inside a Tokio runtime, where blocking the thread would stall the runtime
//! (Tokio itself panics there): any call made from an async task, from `block_on`, or from a
//! thread of a runtime's blocking pool (`spawn_blocking`) returns an error for which
//! [`BlockingError::is_inside_runtime`] is true. Async code calls the async client with
//! `.await`; code in `spawn_blocking` can use `Handle::current().block_on(..)` on it.
//!
//! ```no_run
//! use storpool_api::blocking::Client;
//!
//! let config = storpool_conf::Loader::system().load()?;
//! let client = Client::from_conf(&config)?;
//! for volume in client.call(client.as_async().volumes().list())? {
//!     println!("{} {} bytes", volume.name, volume.size);
//! }
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::fmt;
use std::future::Future;
use std::io;
use std::sync::Arc;

use storpool_conf::Config;

use crate::error::ApiError;

/// A current-thread Tokio runtime (I/O and timers on) that runs futures to completion on the
/// calling thread, and refuses, rather than panics, inside another runtime. The building block
/// of the blocking facades of this crate, `storpool-driver-core` and `storpool-attach`.
///
/// Dropping it inside a runtime is safe too: it then shuts down in the background.
///
/// ```
/// use storpool_api::blocking::Runtime;
///
/// let runtime = Runtime::new()?;
/// assert_eq!(runtime.block_on(async { 6 * 7 })?, 42);
///
/// // Inside a runtime (here: inside the same one) it refuses.
/// let nested = runtime.block_on(async { Runtime::new()?.block_on(async {}) })?;
/// assert!(nested.unwrap_err().is_inside_runtime());
/// # Ok::<(), storpool_api::blocking::BlockingError>(())
/// ```
pub struct Runtime {
    runtime: Option<tokio::runtime::Runtime>,
}

impl Runtime {
    /// Starts the runtime (no thread of its own: it runs in [`Runtime::block_on`]).
    ///
    /// ```
    /// let runtime = storpool_api::blocking::Runtime::new()?;
    /// assert_eq!(runtime.block_on(async { "ran" })?, "ran");
    /// # Ok::<(), storpool_api::blocking::BlockingError>(())
    /// ```
    pub fn new() -> Result<Self, BlockingError> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|err| BlockingError(Kind::Start(err)))?;
        Ok(Self {
            runtime: Some(runtime),
        })
    }

    /// Runs `future` to completion on this thread; an error, without running it, when this
    /// thread is inside a Tokio runtime (see the [module docs](self)).
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// let runtime = storpool_api::blocking::Runtime::new()?;
    /// // Timers and I/O work in the future it runs.
    /// let slept = runtime.block_on(async {
    ///     tokio::time::sleep(Duration::from_millis(1)).await;
    ///     "slept"
    /// })?;
    /// assert_eq!(slept, "slept");
    /// # Ok::<(), storpool_api::blocking::BlockingError>(())
    /// ```
    pub fn block_on<F: Future>(&self, future: F) -> Result<F::Output, BlockingError> {
        if inside_runtime() {
            return Err(BlockingError(Kind::InsideRuntime));
        }
        match &self.runtime {
            Some(runtime) => Ok(runtime.block_on(future)),
            // Only `drop` takes it.
            None => Err(BlockingError(Kind::InsideRuntime)),
        }
    }
}

impl fmt::Debug for Runtime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Runtime").finish_non_exhaustive()
    }
}

impl Drop for Runtime {
    fn drop(&mut self) {
        // Tokio panics when a runtime is dropped where blocking is not allowed.
        if inside_runtime()
            && let Some(runtime) = self.runtime.take()
        {
            runtime.shutdown_background();
        }
    }
}

/// Whether this thread is inside a Tokio runtime's context.
fn inside_runtime() -> bool {
    tokio::runtime::Handle::try_current().is_ok()
}

/// Why a blocking call could not run.
///
/// ```
/// use storpool_api::blocking::Runtime;
///
/// // Made from an async task, a blocking call refuses instead of stalling the runtime.
/// let tokio = tokio::runtime::Builder::new_current_thread().build()?;
/// let err = tokio.block_on(async { Runtime::new()?.block_on(async {}) }).unwrap_err();
/// assert!(err.is_inside_runtime());
/// assert!(err.to_string().contains("use the async API"));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
pub struct BlockingError(Kind);

#[derive(Debug)]
enum Kind {
    InsideRuntime,
    Start(io::Error),
}

impl BlockingError {
    /// The call was made inside a Tokio runtime: use the async API there.
    ///
    /// ```
    /// use storpool_api::ApiError;
    ///
    /// # let client = storpool_api::blocking::Client::new(storpool_api::Client::builder()
    /// #     .base_url("http://127.0.0.1:81").token("t").build()?)?;
    /// let tokio = tokio::runtime::Builder::new_current_thread().build()?;
    /// // The blocking client called from an async task: refused, nothing is sent.
    /// let result = tokio.block_on(async { client.call(client.as_async().volumes().list()) });
    /// match result {
    ///     Err(ApiError::Blocking(err)) => assert!(err.is_inside_runtime()),
    ///     other => panic!("expected a refusal, got {other:?}"),
    /// }
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn is_inside_runtime(&self) -> bool {
        matches!(self.0, Kind::InsideRuntime)
    }
}

impl fmt::Display for BlockingError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Kind::InsideRuntime => f.write_str(
                "a blocking call was made inside a Tokio runtime, whose thread it would block: \
                 use the async API with `.await` there",
            ),
            Kind::Start(_) => f.write_str("cannot start a Tokio runtime"),
        }
    }
}

impl std::error::Error for BlockingError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match &self.0 {
            Kind::InsideRuntime => None,
            Kind::Start(err) => Some(err),
        }
    }
}

/// A synchronous StorPool API client: the async [`crate::Client`] plus a [`Runtime`] that
/// runs its calls. Cheap to clone (clones share the connection pool and the runtime),
/// `Send + Sync`.
///
/// ```
/// let client = storpool_api::Client::builder()
///     .base_url("http://127.0.0.1:81")
///     .token("token")
///     .build()?;
/// let client = storpool_api::blocking::Client::new(client)?;
/// // A clone shares the connection pool and the runtime, and can move to another thread.
/// let clone = client.clone();
/// let url = std::thread::spawn(move || clone.as_async().base_url().to_owned()).join();
/// assert_eq!(url.expect("the thread ran"), "http://127.0.0.1:81");
/// # Ok::<(), storpool_api::ApiError>(())
/// ```
#[derive(Clone, Debug)]
pub struct Client {
    client: crate::Client,
    runtime: Arc<Runtime>,
}

impl Client {
    /// Wraps an async client (built with [`crate::Client::builder`], for instance).
    ///
    /// ```
    /// let client = storpool_api::Client::builder()
    ///     .base_url("http://127.0.0.1:81")
    ///     .token("token")
    ///     .build()?;
    /// let blocking = storpool_api::blocking::Client::new(client)?;
    /// assert_eq!(blocking.as_async().base_url(), "http://127.0.0.1:81");
    /// # Ok::<(), storpool_api::ApiError>(())
    /// ```
    pub fn new(client: crate::Client) -> Result<Self, ApiError> {
        Ok(Self {
            client,
            runtime: Arc::new(Runtime::new().map_err(ApiError::Blocking)?),
        })
    }

    /// A client for the endpoint and token of a `storpool-conf` configuration (see
    /// [`crate::Client::from_conf`]).
    ///
    /// ```no_run
    /// let config = storpool_conf::Loader::system().load()?;
    /// let client = storpool_api::blocking::Client::from_conf(&config)?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn from_conf(config: &Config) -> Result<Self, ApiError> {
        Self::new(crate::Client::from_conf(config)?)
    }

    /// The async client, whose calls [`Client::call`] runs.
    ///
    /// ```
    /// # let client = storpool_api::blocking::Client::new(storpool_api::Client::builder()
    /// #     .base_url("http://127.0.0.1:81").token("t").build()?)?;
    /// assert!(!client.as_async().is_multi_cluster());
    /// # Ok::<(), storpool_api::ApiError>(())
    /// ```
    pub fn as_async(&self) -> &crate::Client {
        &self.client
    }

    /// Runs one call of the async client to completion on this thread: any method of
    /// [`crate::Client`]'s resources, or [`crate::Client::raw`]. Inside a Tokio runtime it
    /// returns [`ApiError::Blocking`] instead.
    ///
    /// ```no_run
    /// use storpool_api::{VolumeCreate, VolumeName};
    ///
    /// # let client = storpool_api::blocking::Client::new(storpool_api::Client::builder()
    /// #     .base_url("http://127.0.0.1:81").token("t").build()?)?;
    /// let api = client.as_async();
    /// client.call(api.volumes().create(&VolumeCreate {
    ///     name: Some(VolumeName::new("v1")?),
    ///     size: Some(1 << 30),
    ///     replication: Some(3),
    ///     ..VolumeCreate::default()
    /// }))?;
    /// let templates = client.call(api.templates().list())?;
    /// # Ok::<(), storpool_api::ApiError>(())
    /// ```
    pub fn call<T, F>(&self, call: F) -> Result<T, ApiError>
    where
        F: Future<Output = Result<T, ApiError>>,
    {
        self.runtime
            .block_on(call)
            .map_err(ApiError::Blocking)
            .and_then(std::convert::identity)
    }
}
