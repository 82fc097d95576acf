//! The client, its builder, and the one send/decode path every call goes through.

use std::error::Error as _;
use std::fmt;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use storpool_conf::{AuthToken, Config};
use tracing::Instrument as _;

use crate::error::{ApiError, ServerError, error_name};
use crate::listing::decode_listing;
use crate::names::ClusterName;
use crate::retry::RetryPolicy;
use crate::transport::{BaseUrl, Exchange, SetupError, Transport};

/// The path prefix of every call.
pub const API_PREFIX: &str = "/ctrl/1.0";

/// The default time limit of one attempt, as in the official clients.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_mins(5);

/// Longest body excerpt kept in a decode error.
const EXCERPT_CHARS: usize = 200;

/// Everything but `A-Z a-z 0-9 - . _ ~` is percent-encoded in the `json` query parameter
/// (what Python's `quote(s, safe='')` does in the official bindings).
const QUERY_VALUE: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// An HTTP method of the StorPool API, for [`Client::raw`]: [`Method::GET`] or
/// [`Method::POST`], the only two the API uses.
///
/// ```
/// use storpool_api::Method;
///
/// assert_eq!(Method::GET.as_str(), "GET");
/// assert_eq!(Method::POST.to_string(), "POST");
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Method(MethodKind);

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum MethodKind {
    Get,
    Post,
}

impl Method {
    /// `GET`: reads; with [`Client::raw`], its JSON goes into the `?json=` query parameter.
    pub const GET: Self = Self(MethodKind::Get);
    /// `POST`: changes; with [`Client::raw`], its JSON is the body.
    pub const POST: Self = Self(MethodKind::Post);

    /// `"GET"` or `"POST"`.
    ///
    /// ```
    /// assert_eq!(storpool_api::Method::POST.as_str(), "POST");
    /// ```
    pub const fn as_str(self) -> &'static str {
        match self.0 {
            MethodKind::Get => "GET",
            MethodKind::Post => "POST",
        }
    }
}

impl fmt::Display for Method {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Debug for Method {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Builds a [`Client`].
///
/// ```no_run
/// use std::time::Duration;
/// use storpool_api::{Client, RetryPolicy};
///
/// let client = Client::builder()
///     .base_url("http://10.0.0.5:81")
///     .token("1556129910218014736")
///     .timeout(Duration::from_secs(60))
///     .retry(RetryPolicy::default().with_deadline(Duration::from_secs(120)))
///     .multi_cluster(true)
///     .build()?;
/// # Ok::<(), storpool_api::ApiError>(())
/// ```
#[derive(Clone, Debug)]
pub struct ClientBuilder {
    base_url: Option<String>,
    token: Option<AuthToken>,
    timeout: Duration,
    connect_timeout: Option<Duration>,
    retry: RetryPolicy,
    multi_cluster: bool,
    remote_cluster: Option<ClusterName>,
}

impl Default for ClientBuilder {
    fn default() -> Self {
        Self {
            base_url: None,
            token: None,
            timeout: DEFAULT_TIMEOUT,
            connect_timeout: None,
            retry: RetryPolicy::default(),
            multi_cluster: false,
            remote_cluster: None,
        }
    }
}

impl ClientBuilder {
    /// A builder with the defaults: 300 s timeout, [`RetryPolicy::default`], no
    /// `MultiCluster/`, no `RemoteCommand/`. The base URL and the token must be set.
    ///
    /// ```
    /// let builder = storpool_api::ClientBuilder::new().base_url("http://10.0.0.5:81").token("1234");
    /// let client = builder.build()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn new() -> Self {
        Self::default()
    }

    /// A builder aimed at the endpoint and token of a `storpool-conf` configuration:
    /// `http://SP_API_HTTP_HOST:SP_API_HTTP_PORT` with `SP_AUTH_TOKEN`.
    ///
    /// ```no_run
    /// let config = storpool_conf::Loader::system().load()?;
    /// let client = storpool_api::ClientBuilder::from_conf(&config)?
    ///     .timeout(std::time::Duration::from_secs(60))
    ///     .build()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn from_conf(config: &Config) -> Result<Self, ApiError> {
        let endpoint = config.api_endpoint().map_err(ApiError::Config)?;
        let token = config.auth_token().map_err(ApiError::Config)?;
        Ok(Self::new()
            .base_url(format!("http://{endpoint}"))
            .token(token))
    }

    /// The server: `http://HOST:PORT` or `https://HOST[:PORT][/PREFIX]`; calls go to
    /// `BASE/ctrl/1.0/...`.
    ///
    /// ```
    /// let client = storpool_api::Client::builder().base_url("https://proxy.example/storpool").token("1234").build()?;
    /// assert_eq!(client.base_url(), "https://proxy.example/storpool");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn base_url(mut self, url: impl Into<String>) -> Self {
        self.base_url = Some(url.into());
        self
    }

    /// The API token (`SP_AUTH_TOKEN`), sent as `Authorization: Storpool v1:TOKEN`.
    ///
    /// ```
    /// let client = storpool_api::Client::builder().base_url("http://10.0.0.5:81").token("1234").build()?;
    /// assert!(!format!("{client:?}").contains("1234"));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn token(mut self, token: impl Into<AuthToken>) -> Self {
        self.token = Some(token.into());
        self
    }

    /// The time limit of one attempt, from sending the request to the end of the answer
    /// (default 300 s). Calls such as `VolumesReassignWait` without `attachTimeout` and
    /// `ClientConfigWait` can legitimately take long.
    ///
    /// ```
    /// let client = storpool_api::Client::builder()
    ///     .base_url("http://10.0.0.5:81")
    ///     .token("1234")
    ///     .timeout(std::time::Duration::from_secs(30))
    ///     .build()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// A separate, shorter limit for opening the TCP connection (default: only the overall
    /// timeout applies).
    ///
    /// ```
    /// let client = storpool_api::Client::builder()
    ///     .base_url("http://10.0.0.5:81")
    ///     .token("1234")
    ///     .connect_timeout(std::time::Duration::from_secs(2))
    ///     .build()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = Some(timeout);
        self
    }

    /// How transient faults are retried (default: [`RetryPolicy::default`]).
    ///
    /// ```
    /// use storpool_api::RetryPolicy;
    ///
    /// let client = storpool_api::Client::builder()
    ///     .base_url("http://10.0.0.5:81")
    ///     .token("1234")
    ///     .retry(RetryPolicy::none())
    ///     .build()?;
    /// assert_eq!(client.retry_policy().retries, 0);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn retry(mut self, policy: RetryPolicy) -> Self {
        self.retry = policy;
        self
    }

    /// Whether calls that have a `MultiCluster/` form use it (default off, like the official
    /// bindings; os-brick and the upstream Cinder driver always use it). Calls without such a
    /// form are never prefixed.
    ///
    /// ```
    /// let client = storpool_api::Client::builder().base_url("http://h:81").token("t").multi_cluster(true).build()?;
    /// assert!(client.is_multi_cluster());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn multi_cluster(mut self, on: bool) -> Self {
        self.multi_cluster = on;
        self
    }

    /// Forwards every call to another cluster: `RemoteCommand/<cluster>/...`.
    ///
    /// ```
    /// use storpool_api::ClusterName;
    ///
    /// let client = storpool_api::Client::builder()
    ///     .base_url("http://h:81")
    ///     .token("t")
    ///     .remote_cluster(ClusterName::new("backup")?)
    ///     .build()?;
    /// assert_eq!(client.remote_cluster().map(ClusterName::as_str), Some("backup"));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn remote_cluster(mut self, cluster: ClusterName) -> Self {
        self.remote_cluster = Some(cluster);
        self
    }

    /// Checks the settings and creates the client and its connection pool.
    ///
    /// Needs no runtime; the calls do (see the crate docs).
    ///
    /// ```
    /// let client = storpool_api::Client::builder().base_url("http://h:81").token("t").build()?;
    /// assert!(storpool_api::Client::builder().token("t").build().is_err()); // no base URL
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn build(self) -> Result<Client, ApiError> {
        let raw_url = self
            .base_url
            .ok_or_else(|| ApiError::invalid("base URL", "", "no base URL was given"))?;
        let url = BaseUrl::parse(&raw_url)
            .map_err(|reason| ApiError::invalid("base URL", raw_url.as_str(), reason))?;
        let token = self
            .token
            .ok_or_else(|| ApiError::invalid("API token", "", "no API token was given"))?;
        if token.is_empty() {
            return Err(ApiError::invalid("API token", "", "the token is empty"));
        }
        if self.timeout.is_zero() {
            return Err(ApiError::invalid("timeout", "0 s", "must be positive"));
        }
        let http =
            Transport::new(&url, token.expose(), self.connect_timeout).map_err(
                |err| match err {
                    SetupError::Token => ApiError::invalid(
                        "API token",
                        "<redacted>",
                        "the token holds characters an HTTP header cannot carry",
                    ),
                    SetupError::Tls(source) => ApiError::HttpClient(source),
                },
            )?;
        Ok(Client {
            inner: Arc::new(Inner {
                http,
                base: url.display,
                prefix: url.prefix,
                timeout: self.timeout,
                retry: self.retry,
            }),
            multi_cluster: self.multi_cluster,
            remote_cluster: self.remote_cluster,
        })
    }
}

struct Inner {
    http: Transport,
    /// `scheme://host:port[/prefix]`, no trailing slash.
    base: String,
    /// `/prefix` of the base URL, or empty.
    prefix: String,
    timeout: Duration,
    retry: RetryPolicy,
}

/// A StorPool API client: cheap to clone (the clones share one keep-alive connection pool),
/// `Send + Sync`, safe for many concurrent calls. It may be used from several Tokio runtimes
/// (e.g. wrapped in a `blocking::Client`, feature `blocking`, and used from async code too, or
/// from threads with a current-thread runtime each): each runtime has a pool of its own, since
/// only the runtime that opened a connection drives it.
///
/// Calls are grouped by resource: [`Client::volumes`], [`Client::snapshots`],
/// [`Client::attachments`], [`Client::templates`], [`Client::disks`],
/// [`Client::placement_groups`], [`Client::services`], [`Client::clients`]; anything else
/// goes through [`Client::raw`]. `Debug` never shows the token.
#[derive(Clone)]
pub struct Client {
    inner: Arc<Inner>,
    multi_cluster: bool,
    remote_cluster: Option<ClusterName>,
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("base_url", &self.inner.base)
            .field("token", &"<redacted>")
            .field("timeout", &self.inner.timeout)
            .field("retry", &self.inner.retry)
            .field("multi_cluster", &self.multi_cluster)
            .field("remote_cluster", &self.remote_cluster)
            .finish()
    }
}

/// What goes with a request besides the path.
pub(crate) enum Payload {
    /// Nothing (POST with `Content-Length: 0`, or a plain GET).
    None,
    /// A JSON body, encoded once.
    Json(Bytes),
    /// GET parameters as `?json=<percent-encoded JSON>`.
    Query(String),
}

impl Payload {
    /// A JSON body from any serializable request.
    pub(crate) fn json<B: Serialize + ?Sized>(call: &str, body: &B) -> Result<Self, ApiError> {
        serde_json::to_vec(body)
            .map(|bytes| Self::Json(Bytes::from(bytes)))
            .map_err(|source| ApiError::Encode {
                call: call.to_owned(),
                source,
            })
    }
}

impl Client {
    /// A [`ClientBuilder`] with the defaults.
    ///
    /// ```
    /// let client = storpool_api::Client::builder().base_url("http://10.0.0.5:81").token("1234").build()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn builder() -> ClientBuilder {
        ClientBuilder::new()
    }

    /// A client for the endpoint and token of a `storpool-conf` configuration, with the
    /// defaults otherwise (see [`ClientBuilder::from_conf`]).
    ///
    /// ```no_run
    /// let config = storpool_conf::Loader::system().load()?;
    /// let client = storpool_api::Client::from_conf(&config)?; // http://SP_API_HTTP_HOST:SP_API_HTTP_PORT
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn from_conf(config: &Config) -> Result<Self, ApiError> {
        ClientBuilder::from_conf(config)?.build()
    }

    /// The base URL calls go to (before `/ctrl/1.0`).
    ///
    /// ```
    /// let client = storpool_api::Client::builder().base_url("http://10.0.0.5:81/").token("t").build()?;
    /// assert_eq!(client.base_url(), "http://10.0.0.5:81");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn base_url(&self) -> &str {
        &self.inner.base
    }

    /// Whether calls that support it use `MultiCluster/`.
    ///
    /// ```
    /// let client = storpool_api::Client::builder().base_url("http://h:81").token("t").build()?;
    /// assert!(!client.is_multi_cluster()); // off by default, as in the official bindings
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn is_multi_cluster(&self) -> bool {
        self.multi_cluster
    }

    /// The cluster calls are forwarded to with `RemoteCommand/`, if any.
    ///
    /// ```
    /// let client = storpool_api::Client::builder().base_url("http://h:81").token("t").build()?;
    /// assert!(client.remote_cluster().is_none());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn remote_cluster(&self) -> Option<&ClusterName> {
        self.remote_cluster.as_ref()
    }

    /// The retry policy.
    ///
    /// ```
    /// let client = storpool_api::Client::builder().base_url("http://h:81").token("t").build()?;
    /// assert_eq!(*client.retry_policy(), storpool_api::RetryPolicy::default());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn retry_policy(&self) -> &RetryPolicy {
        &self.inner.retry
    }

    /// A client sharing this one's connection pool and settings, with `MultiCluster/` on or off.
    ///
    /// ```
    /// let client = storpool_api::Client::builder().base_url("http://h:81").token("t").build()?;
    /// let multi = client.with_multi_cluster(true); // the same connection pool
    /// assert!(multi.is_multi_cluster() && !client.is_multi_cluster());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn with_multi_cluster(&self, on: bool) -> Self {
        Self {
            multi_cluster: on,
            ..self.clone()
        }
    }

    /// A client sharing this one's connection pool and settings whose calls are forwarded to
    /// `cluster` (`RemoteCommand/<cluster>/`), or to the local cluster with `None`.
    ///
    /// ```
    /// use storpool_api::ClusterName;
    ///
    /// let client = storpool_api::Client::builder().base_url("http://h:81").token("t").build()?;
    /// let backup = client.with_remote_cluster(Some(ClusterName::new("backup")?));
    /// assert_eq!(backup.remote_cluster().map(ClusterName::as_str), Some("backup"));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn with_remote_cluster(&self, cluster: Option<ClusterName>) -> Self {
        Self {
            remote_cluster: cluster,
            ..self.clone()
        }
    }

    /// The path after `/ctrl/1.0/`: `[RemoteCommand/C/][MultiCluster/]CALL[/ARG...]`.
    ///
    /// Arguments come from validated types; a `#` (system volumes) cannot be sent in a URL path
    /// and is refused (use the `~globalId` form).
    pub(crate) fn path(
        &self,
        call: &str,
        args: &[&str],
        supports_multi_cluster: bool,
    ) -> Result<String, ApiError> {
        let mut path = String::with_capacity(64);
        if let Some(cluster) = &self.remote_cluster {
            path.push_str("RemoteCommand/");
            path.push_str(cluster.as_str());
            path.push('/');
        }
        if supports_multi_cluster && self.multi_cluster {
            path.push_str("MultiCluster/");
        }
        path.push_str(call);
        for arg in args {
            if arg.contains('#') {
                return Err(ApiError::invalid(
                    "path argument",
                    *arg,
                    "`#`-names cannot be sent in a URL path; use the `~globalId` form",
                ));
            }
            path.push('/');
            path.push_str(arg);
        }
        Ok(path)
    }

    /// GET `call` and decode its `data`.
    pub(crate) async fn get<T: DeserializeOwned>(
        &self,
        call: &str,
        args: &[&str],
        supports_multi_cluster: bool,
    ) -> Result<T, ApiError> {
        let path = self.path(call, args, supports_multi_cluster)?;
        self.send(Method::GET, &path, Payload::None).await
    }

    /// GET a listing `call` (an array of independent elements) and decode its `data`, on
    /// several threads when it is big (see [`crate::listing`]).
    pub(crate) async fn get_listing<T: DeserializeOwned + Send>(
        &self,
        call: &str,
        args: &[&str],
        supports_multi_cluster: bool,
    ) -> Result<Vec<T>, ApiError> {
        let path = self.path(call, args, supports_multi_cluster)?;
        self.send_with(Method::GET, &path, Payload::None, decode_listing::<T>)
            .await
    }

    /// POST `call` with an optional JSON body and decode its `data`.
    pub(crate) async fn post<T: DeserializeOwned, B: Serialize + ?Sized>(
        &self,
        call: &str,
        args: &[&str],
        supports_multi_cluster: bool,
        body: Option<&B>,
    ) -> Result<T, ApiError> {
        let path = self.path(call, args, supports_multi_cluster)?;
        let payload = match body {
            Some(body) => Payload::json(&path, body)?,
            None => Payload::None,
        };
        self.send(Method::POST, &path, payload).await
    }

    /// Any call: `method` on `/ctrl/1.0/[RemoteCommand/C/]PATH`, returning the `data` member.
    ///
    /// `path` is what follows `/ctrl/1.0/`, e.g. `VolumesList`, `MultiCluster/Volume/v1` or
    /// `iSCSISessionsInfo` (`MultiCluster/` is not added: write it when the call supports it;
    /// the client's `RemoteCommand/` target is). With `GET`, `json` is sent as the
    /// percent-encoded `?json=` query parameter, as the official bindings do; with other
    /// methods it is the body. Errors and retries are those of every other call.
    ///
    /// ```no_run
    /// use storpool_api::Method;
    ///
    /// # async fn run(client: storpool_api::Client) -> Result<(), storpool_api::ApiError> {
    /// let sessions = client.raw(Method::GET, "iSCSISessionsInfo", None).await?;
    /// let detach = serde_json::json!([{"volume": "v1", "detach": "all"}]);
    /// client.raw(Method::POST, "VolumesReassign", Some(&detach)).await?;
    /// # Ok(())
    /// # }
    /// ```
    pub async fn raw(
        &self,
        method: Method,
        path: &str,
        json: Option<&serde_json::Value>,
    ) -> Result<serde_json::Value, ApiError> {
        self.raw_as(method, path, json).await
    }

    /// [`Client::raw`] with the `data` member decoded into a [`sonic_rs::Value`] (re-exported
    /// as [`crate::sonic_rs`]) instead of a `serde_json::Value`: the same paths, errors and
    /// retries. With the `sonic` feature.
    ///
    /// For big answers: a `serde_json::Value` builds a map and a string per member, a
    /// `sonic_rs::Value` keeps an object's members in one arena. On a `VolumesList` of
    /// 100,000 volumes (49 MB) decoding took 87 ms instead of 607 ms (Python's `json.loads`:
    /// 400 ms), on the development machine. The answer is checked by `serde_json` first, which
    /// only finds where `data` starts and ends (no copy), so what is an error stays an error
    /// with the same message.
    ///
    /// ```no_run
    /// # async fn demo(client: storpool_api::Client) -> Result<(), storpool_api::ApiError> {
    /// use storpool_api::sonic_rs::{JsonContainerTrait, JsonValueTrait};
    ///
    /// let volumes = client.raw_sonic(storpool_api::Method::GET, "VolumesList", None).await?;
    /// for volume in volumes.as_array().into_iter().flatten() {
    ///     println!("{}", volume.get("name").and_then(|n| n.as_str()).unwrap_or("?"));
    /// }
    /// # Ok(())
    /// # }
    /// ```
    #[cfg(feature = "sonic")]
    pub async fn raw_sonic(
        &self,
        method: Method,
        path: &str,
        json: Option<&serde_json::Value>,
    ) -> Result<sonic_rs::Value, ApiError> {
        let SonicData(value) = self.raw_as(method, path, json).await?;
        Ok(value)
    }

    /// [`Client::raw`], decoding `data` as a `T`.
    async fn raw_as<T: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        json: Option<&serde_json::Value>,
    ) -> Result<T, ApiError> {
        if path.is_empty()
            || path.starts_with('/')
            || path.contains(['?', '#', ' '])
            || path
                .split('/')
                .any(|segment| segment.is_empty() || segment == "..")
        {
            return Err(ApiError::invalid(
                "raw API path",
                path,
                "expected the part after `/ctrl/1.0/`, e.g. `VolumesList` or `Volume/NAME`, without a query",
            ));
        }
        let mut full = self.path("", &[], false)?;
        full.push_str(path);
        let payload = match (json, method == Method::GET) {
            (None, _) => Payload::None,
            (Some(json), true) => {
                let text = serde_json::to_string(json).map_err(|source| ApiError::Encode {
                    call: full.clone(),
                    source,
                })?;
                Payload::Query(utf8_percent_encode(&text, QUERY_VALUE).to_string())
            }
            (Some(json), false) => Payload::json(&full, json)?,
        };
        self.send(method, &full, payload).await
    }

    /// Sends the request, retrying transient faults, and decodes the `data` member.
    pub(crate) async fn send<T: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        payload: Payload,
    ) -> Result<T, ApiError> {
        self.send_with(method, path, payload, decode::<T>).await
    }

    /// [`Client::send`], decoding answers with `decode`.
    async fn send_with<T>(
        &self,
        method: Method,
        path: &str,
        payload: Payload,
        decode: Decoder<T>,
    ) -> Result<T, ApiError> {
        let prefix = &self.inner.prefix;
        let mut target = String::with_capacity(prefix.len() + API_PREFIX.len() + path.len() + 1);
        target.push_str(prefix);
        target.push_str(API_PREFIX);
        target.push('/');
        target.push_str(path);
        let body = match payload {
            Payload::None => None,
            Payload::Json(bytes) => Some(bytes),
            Payload::Query(query) => {
                target.push_str("?json=");
                target.push_str(&query);
                None
            }
        };
        let request = Request {
            method,
            path,
            target,
            body,
            started: Instant::now(),
        };
        let span = tracing::debug_span!("call", method = %request.method, path);
        self.send_request(&request, decode).instrument(span).await
    }

    /// [`Client::send`]'s attempts, each in its `attempt` span (with the HTTP `status` once
    /// known), with the retry policy's delays between them.
    async fn send_request<T>(
        &self,
        request: &Request<'_>,
        decode: Decoder<T>,
    ) -> Result<T, ApiError> {
        let path = request.path;
        let policy = self.inner.retry;
        let mut attempt: u32 = 0;
        loop {
            attempt += 1;
            let span = tracing::debug_span!("attempt", n = attempt, status = tracing::field::Empty);
            let (error, reason) = match self
                .attempt(request, attempt, decode)
                .instrument(span)
                .await
            {
                Attempt::Done(result) => return result,
                Attempt::Retryable(error, reason) => (error, reason),
            };
            if attempt > policy.retries {
                return Err(error);
            }
            let delay = policy.delay(attempt - 1);
            if let Some(deadline) = policy.deadline
                && request.started.elapsed() + delay >= deadline
            {
                tracing::debug!(
                    method = %request.method, path, attempt, ?deadline,
                    "StorPool API retry deadline reached"
                );
                return Err(error);
            }
            tracing::debug!(
                method = %request.method, path, attempt, next_attempt = attempt + 1, ?delay,
                reason, "retrying StorPool API call"
            );
            if !delay.is_zero() {
                tokio::time::sleep(delay).await;
            }
        }
    }

    /// One attempt: send, read the whole answer, decode it.
    async fn attempt<T>(
        &self,
        request: &Request<'_>,
        attempt: u32,
        decode: Decoder<T>,
    ) -> Attempt<T> {
        let inner = &*self.inner;
        let timeout = match inner.retry.deadline {
            Some(deadline) => inner
                .timeout
                .min(deadline.saturating_sub(request.started.elapsed())),
            None => inner.timeout,
        };
        let sent = Instant::now();
        tracing::trace!(
            request_bytes = request.body.as_ref().map_or(0, Bytes::len),
            target = %request.target,
            "sending the StorPool API request"
        );
        let outcome = inner
            .http
            .exchange(&Exchange {
                method: request.method,
                target: &request.target,
                body: request.body.as_ref(),
                timeout,
            })
            .await;
        let elapsed_ms = sent.elapsed().as_millis();
        let (method, path) = (&request.method, request.path);
        match outcome {
            Ok((status, bytes)) => {
                tracing::Span::current().record("status", status);
                tracing::trace!(answer_bytes = bytes.len(), "read the StorPool API answer");
                tracing::debug!(
                    %method, path, status, elapsed_ms, attempt,
                    "StorPool API response"
                );
                match answer(
                    decode,
                    status,
                    &bytes,
                    || request.call(),
                    attempt,
                    request.started,
                ) {
                    Err(ApiError::Server(err)) if err.transient => {
                        Attempt::Retryable(ApiError::Server(err), "transient API error")
                    }
                    result => Attempt::Done(result),
                }
            }
            Err(source) if source.is_timeout() => {
                tracing::debug!(
                    %method, path, elapsed_ms, attempt, error = %source,
                    "StorPool API request timed out"
                );
                Attempt::Done(Err(ApiError::Timeout {
                    call: request.call(),
                    timeout,
                    attempts: attempt,
                    elapsed: request.started.elapsed(),
                    source,
                }))
            }
            Err(source) => {
                tracing::debug!(
                    %method, path, elapsed_ms, attempt, error = %source,
                    cause = source.source().map(tracing::field::display),
                    "StorPool API request failed"
                );
                let reason = source.retry_reason();
                let err = ApiError::Transport {
                    call: request.call(),
                    attempts: attempt,
                    elapsed: request.started.elapsed(),
                    source,
                };
                match reason {
                    Some(reason) => Attempt::Retryable(err, reason),
                    None => Attempt::Done(Err(err)),
                }
            }
        }
    }
}

/// A request ready to be sent, possibly several times.
struct Request<'a> {
    method: Method,
    /// The part after `/ctrl/1.0/`, for logs and errors.
    path: &'a str,
    /// Path and query after the host.
    target: String,
    /// Encoded once; the same bytes go out on every attempt.
    body: Option<Bytes>,
    started: Instant,
}

impl Request<'_> {
    /// `METHOD /ctrl/1.0/PATH`, for errors.
    fn call(&self) -> String {
        format!("{} {API_PREFIX}/{}", self.method, self.path)
    }
}

/// The outcome of one attempt.
enum Attempt<T> {
    /// Success, or an error that is not retried.
    Done(Result<T, ApiError>),
    /// A fault that may be retried, and why.
    Retryable(ApiError, &'static str),
}

/// The `error` member, with the official clients' placeholders for missing parts.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct RawServerError {
    pub(crate) name: String,
    pub(crate) descr: String,
    pub(crate) transient: bool,
}

impl RawServerError {
    fn from_value(value: &serde_json::Value) -> Self {
        let text = |key: &str, missing: &str| match value.get(key) {
            Some(serde_json::Value::String(s)) => s.clone(),
            Some(serde_json::Value::Null) | None => missing.to_owned(),
            Some(other) => other.to_string(),
        };
        Self {
            name: text("name", error_name::MISSING_NAME),
            descr: text("descr", error_name::MISSING_DESCRIPTION),
            transient: value
                .get("transient")
                .and_then(serde_json::Value::as_bool)
                .unwrap_or(false),
        }
    }
}

/// The envelope of a successful answer; `error` is checked too, since some servers may send
/// an error with status 200.
#[derive(Deserialize)]
struct Envelope<T> {
    data: Option<T>,
    error: Option<serde_json::Value>,
}

/// Only the `error` member of an answer.
#[derive(Deserialize)]
struct ErrorEnvelope {
    error: Option<serde_json::Value>,
}

/// What an answer turned out to be.
pub(crate) enum Decoded<T> {
    Data(T),
    Server(RawServerError),
    Invalid(serde_json::Error),
}

/// How an answer's status and body become what a call returns: [`decode`], or
/// [`decode_listing`] for listings.
pub(crate) type Decoder<T> = fn(u16, &[u8]) -> Decoded<T>;

/// Status not 200, or an `error` member: an API error. Otherwise the `data` member.
pub(crate) fn decode<T: DeserializeOwned>(status: u16, body: &[u8]) -> Decoded<T> {
    let error_of = |body: &[u8]| match serde_json::from_slice::<ErrorEnvelope>(body) {
        Ok(ErrorEnvelope {
            error: Some(error), ..
        }) if !error.is_null() => Some(Ok(RawServerError::from_value(&error))),
        Ok(_) => None,
        Err(err) => Some(Err(err)),
    };
    if status != 200 {
        return match error_of(body) {
            Some(Ok(raw)) => Decoded::Server(raw),
            Some(Err(err)) => Decoded::Invalid(err),
            None => Decoded::Server(RawServerError::from_value(&serde_json::Value::Null)),
        };
    }
    match from_body::<Envelope<T>>(body) {
        Ok(Envelope {
            error: Some(error), ..
        }) if !error.is_null() => Decoded::Server(RawServerError::from_value(&error)),
        Ok(Envelope {
            data: Some(data), ..
        }) => Decoded::Data(data),
        Ok(Envelope { data: None, .. }) => Decoded::Invalid(serde::de::Error::custom(
            "the response has neither a `data` nor an `error` member",
        )),
        // `data` did not fit the expected type: still an API error if `error` is there.
        Err(err) => match error_of(body) {
            Some(Ok(raw)) => Decoded::Server(raw),
            _ => Decoded::Invalid(err),
        },
    }
}

/// The `data` member as a [`sonic_rs::Value`] ([`Client::raw_sonic`]): `serde_json` hands out
/// the member's text without copying it, `sonic-rs` builds the value from it.
#[cfg(feature = "sonic")]
#[derive(Debug)]
pub(crate) struct SonicData(pub(crate) sonic_rs::Value);

#[cfg(feature = "sonic")]
impl<'de> Deserialize<'de> for SonicData {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = <&'de serde_json::value::RawValue>::deserialize(deserializer)?;
        sonic_value(text.get())
            .map(Self)
            .map_err(serde::de::Error::custom)
    }
}

/// Stack of the thread [`sonic_value`] parses on.
#[cfg(feature = "sonic")]
const SONIC_STACK: usize = 64 << 20;

/// `sonic_rs::from_str` on a thread of its own with a 64 MiB stack (address space: only what
/// is used is memory). Its parser recurses once per level of nesting, up to 255 levels, with
/// up to 75 KB of stack per level in a debug build: more than a thread's usual 2 MiB. Checking
/// the nesting first instead took more time than the parsing itself (callgrind: 697 of 1,922
/// million instructions for 100,000 volumes); a thread costs tens of microseconds.
#[cfg(feature = "sonic")]
fn sonic_value(text: &str) -> Result<sonic_rs::Value, String> {
    std::thread::scope(|scope| {
        std::thread::Builder::new()
            .name("storpool-api-decode".to_owned())
            .stack_size(SONIC_STACK)
            .spawn_scoped(scope, || sonic_rs::from_str(text))
            .map_err(|err| format!("cannot start a thread to decode the answer: {err}"))?
            .join()
            .map_err(|_| "the JSON parser panicked".to_owned())?
            .map_err(|err| err.to_string())
    })
}

/// `serde_json::from_slice`, with the body's UTF-8 checked once instead of string by string.
///
/// `from_slice` validates each string it hands out on its own; on a `VolumesList` of 100,000
/// volumes those checks were 18 % of the decoding's instructions (callgrind: 314 of 1,717
/// million), where one pass over the whole body costs about 1 % (ASCII goes 16 bytes at a
/// time). `from_str` trusts its input to be UTF-8, so the body is checked first; a body that
/// is not UTF-8 goes through `from_slice`, which accepts or reports it exactly as before (it
/// accepts invalid bytes in members it skips).
fn from_body<T: DeserializeOwned>(body: &[u8]) -> Result<T, serde_json::Error> {
    match std::str::from_utf8(body) {
        Ok(text) => serde_json::from_str(text),
        Err(_) => serde_json::from_slice(body),
    }
}

/// What a call returns for an answer: the `data` member as `decode` makes it, an
/// [`ApiError::Server`] for an API error (with `attempt` and the time since `started`), or an
/// [`ApiError::Decode`]. `call` names the call (`METHOD /ctrl/1.0/PATH`) and is only evaluated
/// for an error.
pub(crate) fn answer<T>(
    decode: Decoder<T>,
    status: u16,
    body: &[u8],
    call: impl FnOnce() -> String,
    attempt: u32,
    started: Instant,
) -> Result<T, ApiError> {
    match decode(status, body) {
        Decoded::Data(data) => Ok(data),
        Decoded::Invalid(source) => Err(ApiError::Decode {
            call: call(),
            status,
            excerpt: excerpt(body),
            source,
        }),
        Decoded::Server(raw) => Err(ApiError::Server(Box::new(ServerError {
            call: call(),
            status,
            name: raw.name,
            descr: raw.descr,
            transient: raw.transient,
            attempts: attempt,
            elapsed: started.elapsed(),
        }))),
    }
}

/// The start of a body for an error message: lossy UTF-8, control characters replaced,
/// at most [`EXCERPT_CHARS`] characters.
pub(crate) fn excerpt(body: &[u8]) -> String {
    let head = &body[..body.len().min(EXCERPT_CHARS * 4)];
    let text = String::from_utf8_lossy(head);
    let mut out: String = text
        .chars()
        .take(EXCERPT_CHARS)
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    if text.chars().count() > EXCERPT_CHARS || head.len() < body.len() {
        out.push('…');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn client(multi: bool, remote: Option<&str>) -> Client {
        let mut builder = Client::builder()
            .base_url("http://127.0.0.1:81/")
            .token("secret-token-1")
            .multi_cluster(multi);
        if let Some(remote) = remote {
            builder = builder.remote_cluster(ClusterName::new(remote).unwrap());
        }
        builder.build().unwrap()
    }

    #[test]
    fn paths_add_remote_command_and_multi_cluster_only_where_supported() {
        let plain = client(false, None);
        assert_eq!(plain.path("Volume", &["v1"], true).unwrap(), "Volume/v1");
        let multi = client(true, None);
        assert_eq!(
            multi.path("Volume", &["v1"], true).unwrap(),
            "MultiCluster/Volume/v1"
        );
        assert_eq!(
            multi.path("SnapshotUpdate", &["s"], false).unwrap(),
            "SnapshotUpdate/s"
        );
        let remote = client(true, Some("~fir.b"));
        assert_eq!(
            remote.path("VolumeDelete", &["~d.n.a1z"], true).unwrap(),
            "RemoteCommand/~fir.b/MultiCluster/VolumeDelete/~d.n.a1z"
        );
        assert!(plain.path("Volume", &["#sys"], true).is_err());
    }

    #[test]
    fn base_url_is_checked_and_normalised() {
        assert_eq!(client(false, None).base_url(), "http://127.0.0.1:81");
        for bad in [
            "",
            "127.0.0.1:81",
            "ftp://h",
            "http://h/?q=1",
            "http://u:p@h",
        ] {
            let err = Client::builder()
                .base_url(bad)
                .token("t")
                .build()
                .unwrap_err();
            assert!(
                matches!(
                    err,
                    ApiError::InvalidArgument {
                        field: "base URL",
                        ..
                    }
                ),
                "{bad}: {err}"
            );
        }
        let with_prefix = Client::builder()
            .base_url("http://proxy.example/storpool/")
            .token("t")
            .build()
            .unwrap();
        assert_eq!(with_prefix.base_url(), "http://proxy.example/storpool");
        let https = Client::builder()
            .base_url("https://proxy.example/storpool/")
            .token("t")
            .build();
        if crate::transport::TLS {
            assert_eq!(https.unwrap().base_url(), "https://proxy.example/storpool");
        } else {
            let err = https.unwrap_err();
            assert!(err.to_string().contains("no TLS support"), "{err}");
        }
    }

    #[test]
    fn token_is_required_and_never_shown() {
        let err = Client::builder().base_url("http://h").build().unwrap_err();
        assert!(err.to_string().contains("API token"));
        let err = Client::builder()
            .base_url("http://h")
            .token("")
            .build()
            .unwrap_err();
        assert!(err.to_string().contains("empty"));
        let err = Client::builder()
            .base_url("http://h")
            .token("bad\ntoken")
            .build()
            .unwrap_err();
        assert!(!format!("{err} {err:?}").contains("bad\ntoken"));
        let debug = format!("{:?}", client(true, Some("backup")));
        assert!(!debug.contains("secret-token-1"), "{debug}");
        assert!(debug.contains("<redacted>"));
    }

    #[test]
    fn client_is_send_sync_and_clone() {
        fn assert_traits<T: Send + Sync + Clone + 'static>() {}
        fn assert_error<T: std::error::Error + Send + Sync + 'static>() {}
        assert_traits::<Client>();
        assert_traits::<ClientBuilder>();
        assert_error::<ApiError>();
    }

    fn data(status: u16, body: &str) -> Decoded<serde_json::Value> {
        decode(status, body.as_bytes())
    }

    #[test]
    fn decode_follows_the_official_failure_rule() {
        assert!(
            matches!(data(200, r#"{"generation":1,"data":[1]}"#), Decoded::Data(v) if v == serde_json::json!([1]))
        );
        let Decoded::Server(raw) = data(
            200,
            r#"{"error":{"name":"busy","descr":"x","transient":true}}"#,
        ) else {
            panic!("an error member with status 200 is an error");
        };
        assert_eq!((raw.name.as_str(), raw.transient), ("busy", true));
        let Decoded::Server(raw) = data(500, r"{}") else {
            panic!("status 500 is an error");
        };
        assert_eq!(raw.name, error_name::MISSING_NAME);
        assert_eq!(raw.descr, error_name::MISSING_DESCRIPTION);
        assert!(!raw.transient);
        let Decoded::Server(raw) = data(500, r#"{"error":{"descr":"d"}}"#) else {
            panic!("status 500 is an error");
        };
        assert_eq!(
            (raw.name.as_str(), raw.descr.as_str()),
            (error_name::MISSING_NAME, "d")
        );
        assert!(matches!(
            data(502, "<html>bad gateway</html>"),
            Decoded::Invalid(_)
        ));
        assert!(matches!(
            data(200, r#"{"generation":1}"#),
            Decoded::Invalid(_)
        ));
        assert!(matches!(data(200, "not json"), Decoded::Invalid(_)));
    }

    #[test]
    fn decode_reports_an_error_member_even_when_data_does_not_fit() {
        let decoded: Decoded<Vec<u32>> = decode(
            200,
            br#"{"data":{"x":1},"error":{"name":"objectDoesNotExist","descr":"no"}}"#,
        );
        assert!(matches!(decoded, Decoded::Server(raw) if raw.name == "objectDoesNotExist"));
    }

    #[cfg(feature = "sonic")]
    #[test]
    fn raw_sonic_takes_the_deepest_nesting_sonic_allows_and_refuses_more() {
        let nested = |depth: usize| format!("{}1{}", "[".repeat(depth), "]".repeat(depth));
        assert!(sonic_value(&nested(254)).is_ok());
        assert!(sonic_value(&nested(255)).is_err());
        assert!(sonic_value(&nested(100_000)).is_err());
    }

    #[test]
    fn excerpts_are_short_and_single_line() {
        assert_eq!(excerpt(b"<html>\nbad</html>"), "<html> bad</html>");
        let long = "x".repeat(1000);
        let cut = excerpt(long.as_bytes());
        assert_eq!(cut.chars().count(), EXCERPT_CHARS + 1);
        assert!(cut.ends_with('…'));
        assert_eq!(excerpt(&[0xff, b'a']), "\u{fffd}a");
    }

    #[test]
    fn query_encoding_escapes_every_reserved_character() {
        let text = r#"{"controllerIds":[1,2],"a":"b c/&?=+#%"}"#;
        let encoded = utf8_percent_encode(text, QUERY_VALUE).to_string();
        assert_eq!(
            encoded,
            "%7B%22controllerIds%22%3A%5B1%2C2%5D%2C%22a%22%3A%22b%20c%2F%26%3F%3D%2B%23%25%22%7D"
        );
    }
}
