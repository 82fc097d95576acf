//! One HTTP exchange: send a request, read the whole answer, through hyper-util's pooled
//! client for both schemes.
//!
//! StorPool's API is plain HTTP (port 81): `http://` base URLs use hyper-util's `HttpConnector`
//! alone, so a build without TLS features has no TLS crate at all. `https://` base URLs (a TLS
//! proxy in front of the API) wrap the same connector in rustls (feature `rustls`, the default)
//! or the system's TLS library (feature `native-tls`, which wins when both are on). Either way
//! the request, its one time limit, the keep-alive pool (idle connections kept 90 s, at most 64,
//! one pool per runtime) and the classification of failures are the same code.
//!
//! This is the only module that names the HTTP stack: what it hands out is our own
//! [`TransportError`], so no public signature of this crate mentions hyper or a TLS crate.

use std::error::Error as StdError;
use std::fmt;
use std::io;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::header::{
    AUTHORIZATION, CONNECTION, CONTENT_LENGTH, CONTENT_TYPE, HOST, HeaderValue, USER_AGENT,
};
use hyper::http::uri::{Authority, PathAndQuery, Scheme};
use hyper::{Request, Uri};
use hyper_util::client::legacy::{
    self,
    connect::{Connect, HttpConnector},
};
use hyper_util::rt::{TokioExecutor, TokioTimer};
use tokio::runtime;

use crate::client::Method;

/// What the HTTP stack reports; kept inside a [`TransportError`].
type BoxError = Box<dyn StdError + Send + Sync + 'static>;

/// How long an idle connection is kept for reuse.
const IDLE_TIMEOUT: Duration = Duration::from_secs(90);
/// At most this many idle connections are kept.
const MAX_IDLE: usize = 64;

/// `User-Agent` of every request.
const AGENT: &str = concat!("storpool-rs/", env!("CARGO_PKG_VERSION"));

/// Whether this build can speak to `https://` servers.
pub(crate) const TLS: bool = cfg!(any(feature = "rustls", feature = "native-tls"));

/// The connector of `https://` base URLs.
#[cfg(feature = "native-tls")]
type TlsConnector = hyper_tls::HttpsConnector<HttpConnector>;
#[cfg(all(feature = "rustls", not(feature = "native-tls")))]
type TlsConnector = hyper_rustls::HttpsConnector<HttpConnector>;

/// A checked base URL: `http://HOST[:PORT][/PREFIX]` or `https://...`.
#[derive(Clone, Debug)]
pub(crate) struct BaseUrl {
    scheme: Scheme,
    authority: Authority,
    /// `/PREFIX` in front of `/ctrl/1.0`, or empty.
    pub(crate) prefix: String,
    /// `scheme://host[:port][/prefix]` (no default port, no trailing slash).
    pub(crate) display: String,
}

impl BaseUrl {
    /// Checks `raw`; the error is the reason, for an `InvalidArgument`.
    pub(crate) fn parse(raw: &str) -> Result<Self, String> {
        let Some((scheme, rest)) = raw.split_once("://") else {
            return Err(
                "expected `http://HOST[:PORT]` or `https://HOST[:PORT][/PREFIX]`".to_owned(),
            );
        };
        let (scheme, default_port) = match scheme.to_ascii_lowercase().as_str() {
            "http" => (Scheme::HTTP, 80),
            "https" if TLS => (Scheme::HTTPS, 443),
            "https" => {
                return Err("this build has no TLS support: enable the `rustls` or \
                            `native-tls` feature of storpool-api"
                    .to_owned());
            }
            _ => return Err("the scheme must be `http` or `https`".to_owned()),
        };
        if rest.contains(['?', '#']) {
            return Err("a base URL has no query or fragment".to_owned());
        }
        let (authority, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
        if authority.contains('@') {
            return Err("credentials do not belong in the URL: use the token".to_owned());
        }
        if authority.is_empty() {
            return Err("no host".to_owned());
        }
        let parsed: Authority = authority
            .parse()
            .map_err(|err| format!("invalid host or port: {err}"))?;
        if parsed.host().is_empty() {
            return Err("no host".to_owned());
        }
        let port = match parsed.as_str()[parsed.host().len()..].strip_prefix(':') {
            None | Some("") => None,
            Some(port) => Some(
                port.parse::<u16>()
                    .map_err(|_| format!("invalid port `{port}`"))?,
            ),
        };
        let host = parsed.host().to_ascii_lowercase();
        let authority_text = match port {
            Some(port) if port != default_port => format!("{host}:{port}"),
            _ => host,
        };
        let authority: Authority = authority_text
            .parse()
            .map_err(|err| format!("invalid host or port: {err}"))?;
        let prefix = path.trim_end_matches('/').to_owned();
        if !prefix.is_empty() {
            PathAndQuery::try_from(prefix.as_str())
                .map_err(|err| format!("invalid path: {err}"))?;
            if prefix.contains([' ', '%']) {
                return Err("the path must not need percent-encoding".to_owned());
            }
        }
        let display = format!("{}://{authority}{prefix}", scheme.as_str());
        Ok(Self {
            scheme,
            authority,
            prefix,
            display,
        })
    }

    fn is_tls(&self) -> bool {
        self.scheme == Scheme::HTTPS
    }
}

/// One request.
pub(crate) struct Exchange<'a> {
    pub(crate) method: Method,
    /// Path and query after the host: `/ctrl/1.0/CALL...` behind the base URL's prefix.
    pub(crate) target: &'a str,
    /// A JSON body.
    pub(crate) body: Option<&'a Bytes>,
    /// The time limit of the whole exchange: connecting, sending, the whole answer.
    pub(crate) timeout: Duration,
}

/// The connector the base URL's scheme needs, and its keep-alive pool.
enum Pool {
    Plain(Pooled<HttpConnector>),
    #[cfg(any(feature = "rustls", feature = "native-tls"))]
    Tls(Pooled<TlsConnector>),
}

/// A connector (also used on its own for connections that serve one call: see
/// [`Transport::exchange`]) and hyper-util's pooled client over it, one per runtime.
///
/// A pooled connection is a task of the runtime that opened it, and only that runtime drives
/// it. A client shared by several runtimes (a `blocking::Client` made from an async one, a test
/// per runtime, the Python module's runtime per calling thread) would otherwise hand a call on
/// one runtime an idle connection of another, stalled until that runtime runs again: the call
/// waited for its time limit. So each runtime has a pool of its own, the [`RUNTIMES`] most
/// recently used are kept, and a call on another runtime starts a new one (the dropped pool's
/// connections close when their runtime next runs). Keeping only the latest runtime's pool
/// made calls that alternate between runtimes open a new connection nearly every time: from
/// eight Python threads, 15,000-19,000 keep-alive lookups/s instead of 46,000-49,000.
struct Pooled<C> {
    connector: C,
    builder: legacy::Builder,
    /// The pools by runtime (none: outside a runtime), the most recently used last.
    pools: Mutex<Vec<(Option<runtime::Id>, HyperClient<C>)>>,
}

/// How many runtimes' pools a [`Pooled`] keeps: more than the threads that usually share a
/// client (eventlet's pool of native threads has 20).
const RUNTIMES: usize = 32;

/// hyper-util's pooled client over connector `C`.
type HyperClient<C> = legacy::Client<C, Full<Bytes>>;

impl<C: Connect + Clone + Send + Sync + 'static> Pooled<C> {
    fn new(builder: &legacy::Builder, connector: C) -> Self {
        Self {
            connector,
            builder: builder.clone(),
            pools: Mutex::new(Vec::new()),
        }
    }

    /// The pool of the runtime this runs on.
    fn client(&self) -> HyperClient<C> {
        let here = runtime::Handle::try_current().ok().map(|rt| rt.id());
        let mut pools = self.pools.lock().unwrap_or_else(PoisonError::into_inner);
        let client = match pools.iter().position(|(owner, _)| *owner == here) {
            Some(last) if last + 1 == pools.len() => return pools[last].1.clone(),
            Some(found) => pools.remove(found).1,
            None => {
                if pools.len() == RUNTIMES {
                    pools.remove(0);
                }
                self.builder.build(self.connector.clone())
            }
        };
        pools.push((here, client.clone()));
        client
    }
}

/// The HTTP client of a [`crate::Client`]: a keep-alive pool for its base URL (per runtime).
pub(crate) struct Transport {
    pool: Pool,
    scheme: Scheme,
    authority: Authority,
    /// `Authorization`, marked sensitive.
    auth: HeaderValue,
    agent: HeaderValue,
    /// `Host`: the base URL's host and port (no default port), made once.
    host: HeaderValue,
    /// Whether the server closed the connection after its last answer (`Connection: close`,
    /// as StorPool's API server does): then there is nothing to pool.
    closes: AtomicBool,
}

impl Transport {
    /// The client for `base`, sending `token`. Errors: the token holds characters a header
    /// cannot carry, or TLS could not be set up.
    pub(crate) fn new(
        base: &BaseUrl,
        token: &str,
        connect_timeout: Option<Duration>,
    ) -> Result<Self, SetupError> {
        let mut auth =
            HeaderValue::try_from(format!("Storpool v1:{token}")).map_err(|_| SetupError::Token)?;
        auth.set_sensitive(true);
        let mut http = HttpConnector::new();
        // Requests and answers are single writes; the answer is awaited right after.
        http.set_nodelay(true);
        http.set_connect_timeout(connect_timeout);
        let mut builder = legacy::Client::builder(TokioExecutor::new());
        builder
            .pool_idle_timeout(IDLE_TIMEOUT)
            .pool_max_idle_per_host(MAX_IDLE)
            .pool_timer(TokioTimer::new());
        let pool = if base.is_tls() {
            Self::tls_pool(&builder, http)?
        } else {
            Pool::Plain(Pooled::new(&builder, http))
        };
        Ok(Self {
            pool,
            scheme: base.scheme.clone(),
            authority: base.authority.clone(),
            auth,
            agent: HeaderValue::from_static(AGENT),
            // A checked authority is a valid header value.
            host: HeaderValue::from_str(base.authority.as_str())
                .unwrap_or(HeaderValue::from_static("")),
            closes: AtomicBool::new(false),
        })
    }

    #[cfg(any(feature = "rustls", feature = "native-tls"))]
    fn tls_pool(builder: &legacy::Builder, mut http: HttpConnector) -> Result<Pool, SetupError> {
        http.enforce_http(false);
        let connector = tls_connector(http)?;
        Ok(Pool::Tls(Pooled::new(builder, connector)))
    }

    #[cfg(not(any(feature = "rustls", feature = "native-tls")))]
    fn tls_pool(_: &legacy::Builder, _: HttpConnector) -> Result<Pool, SetupError> {
        // `BaseUrl::parse` refuses `https://` without a TLS feature.
        Err(SetupError::Tls(TransportError::new(
            Kind::Setup,
            "this build has no TLS support".into(),
        )))
    }

    /// Sends the request and reads the whole answer, within `x.timeout`.
    ///
    /// Through the pool while the server keeps connections open. Once it closes them after
    /// every answer (StorPool's API server does), each call gets a connection of its own from
    /// the same connector, without the pool: the pool's bookkeeping for connections it can
    /// never reuse (a checkout raced against the connect, a task per answer to see whether the
    /// connection comes back) made sequential calls 25 % slower than a bare client
    /// (`bench api`, `Connection: close` rows). The first answer without `Connection: close`
    /// goes back to the pool.
    pub(crate) async fn exchange(&self, x: &Exchange<'_>) -> Result<(u16, Bytes), TransportError> {
        let request = self
            .request(x)
            .map_err(|err| TransportError::new(Kind::Other, err))?;
        let closes = self.closes.load(Ordering::Relaxed);
        // The connect and handshake of a one-call connection are boxed: inline, they would make
        // the future of every call (and of every command awaiting one) several KB larger.
        let exchange = async move {
            let response = match (&self.pool, closes) {
                (Pool::Plain(pool), false) => pool.client().request(request).await?,
                (Pool::Plain(pool), true) => Box::pin(one_shot(&pool.connector, request)).await?,
                #[cfg(any(feature = "rustls", feature = "native-tls"))]
                (Pool::Tls(pool), false) => pool.client().request(request).await?,
                #[cfg(any(feature = "rustls", feature = "native-tls"))]
                (Pool::Tls(pool), true) => Box::pin(one_shot(&pool.connector, request)).await?,
            };
            let status = response.status().as_u16();
            self.closes
                .store(closes_after(&response), Ordering::Relaxed);
            let bytes = read_body(response).await?;
            if !closes {
                // The pool takes the connection back in a task of its own once the connection
                // is idle again; let it run before the next call looks for one (sequential
                // lookups on two workers: about 13,000 calls/s instead of 11,000).
                tokio::task::yield_now().await;
            }
            Ok::<_, BoxError>((status, bytes))
        };
        match tokio::time::timeout(x.timeout, exchange).await {
            Ok(Ok(answer)) => Ok(answer),
            Ok(Err(err)) => Err(TransportError::classify(err)),
            Err(elapsed) => Err(TransportError::new(Kind::Timeout, Box::new(elapsed))),
        }
    }

    fn request(&self, x: &Exchange<'_>) -> Result<Request<Full<Bytes>>, BoxError> {
        let mut parts = hyper::http::uri::Parts::default();
        parts.scheme = Some(self.scheme.clone());
        parts.authority = Some(self.authority.clone());
        parts.path_and_query = Some(PathAndQuery::try_from(x.target)?);
        let method = match x.method {
            Method::GET => hyper::Method::GET,
            _ => hyper::Method::POST,
        };
        let mut request = Request::builder()
            .method(method)
            .uri(Uri::from_parts(parts)?)
            .header(HOST, self.host.clone())
            .header(USER_AGENT, self.agent.clone())
            .header(AUTHORIZATION, self.auth.clone());
        let body = if let Some(body) = x.body {
            request = request
                .header(CONTENT_TYPE, "application/json")
                .header(CONTENT_LENGTH, body.len());
            body.clone()
        } else {
            if x.method == Method::POST {
                // As the official bindings (through Python's http.client) do for a POST
                // without body.
                request = request.header(CONTENT_LENGTH, 0);
            }
            Bytes::new()
        };
        Ok(request.body(Full::new(body))?)
    }
}

#[cfg(feature = "native-tls")]
fn tls_connector(http: HttpConnector) -> Result<TlsConnector, SetupError> {
    let tls = native_tls::TlsConnector::new()
        .map_err(|err| SetupError::Tls(TransportError::new(Kind::Setup, Box::new(err))))?;
    let mut connector =
        hyper_tls::HttpsConnector::from((http, tokio_native_tls::TlsConnector::from(tls)));
    connector.https_only(true);
    Ok(connector)
}

#[cfg(all(feature = "rustls", not(feature = "native-tls")))]
fn tls_connector(http: HttpConnector) -> Result<TlsConnector, SetupError> {
    let builder = hyper_rustls::HttpsConnectorBuilder::new()
        .with_provider_and_native_roots(rustls::crypto::ring::default_provider())
        .map_err(|err| SetupError::Tls(TransportError::new(Kind::Setup, Box::new(err))))?;
    Ok(builder.https_only().enable_http1().wrap_connector(http))
}

/// Why a [`Transport`] could not be made.
pub(crate) enum SetupError {
    /// The token holds characters a header cannot carry.
    Token,
    /// TLS could not be set up (e.g. no trust store).
    Tls(TransportError),
}

/// What went wrong on the way to an answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    /// No connection: refused, unreachable, DNS, TLS handshake.
    Connect,
    /// The time limit passed (connecting, or before the whole answer was in).
    Timeout,
    /// The connection closed before a complete answer.
    Incomplete,
    /// The connection closed, or was closed, before the request went out.
    Closed,
    /// The answer is not HTTP.
    Protocol,
    /// The HTTP client (its TLS part) could not be set up.
    Setup,
    /// Anything else.
    Other,
}

/// No usable HTTP answer: what the HTTP stack reported, classified. Found as the source of
/// [`crate::ApiError::Transport`], [`crate::ApiError::Timeout`] and
/// [`crate::ApiError::HttpClient`].
///
/// It deliberately names no HTTP or TLS crate: this crate may change its HTTP stack without a
/// breaking change. Branch on the predicates; the error chain ([`std::error::Error::source`])
/// ends with the operating system's error where there is one (e.g. `Connection refused`).
///
/// ```
/// use storpool_api::{ApiError, Client, RetryPolicy};
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// // Nothing listens on port 1.
/// let client = Client::builder()
///     .base_url("http://127.0.0.1:1")
///     .token("token")
///     .retry(RetryPolicy::none())
///     .build()?;
/// match client.volumes().list().await {
///     Err(ApiError::Transport { source, .. }) => {
///         assert!(source.is_connect());
///         assert!(!source.is_timeout());
///     }
///     other => panic!("expected a transport error, got {other:?}"),
/// }
/// # Ok(())
/// # }
/// ```
pub struct TransportError {
    kind: Kind,
    inner: BoxError,
}

impl TransportError {
    fn new(kind: Kind, inner: BoxError) -> Self {
        Self { kind, inner }
    }

    /// Classifies what an exchange reported.
    fn classify(inner: BoxError) -> Self {
        let mut kind = Kind::Other;
        let mut source: Option<&(dyn StdError + 'static)> = Some(&*inner);
        while let Some(current) = source {
            if let Some(err) = current.downcast_ref::<io::Error>() {
                match err.kind() {
                    io::ErrorKind::TimedOut => {
                        kind = Kind::Timeout;
                        break;
                    }
                    // A body shorter than its `Content-Length`.
                    io::ErrorKind::UnexpectedEof if kind == Kind::Other => kind = Kind::Incomplete,
                    _ => {}
                }
            }
            if let Some(err) = current.downcast_ref::<legacy::Error>()
                && err.is_connect()
            {
                kind = Kind::Connect;
            }
            if let Some(err) = current.downcast_ref::<hyper::Error>() {
                if err.is_timeout() {
                    kind = Kind::Timeout;
                    break;
                }
                if kind == Kind::Other {
                    if err.is_incomplete_message() {
                        kind = Kind::Incomplete;
                    } else if err.is_parse() || err.is_parse_status() {
                        kind = Kind::Protocol;
                    } else if err.is_canceled() || err.is_closed() {
                        kind = Kind::Closed;
                    }
                }
            }
            source = current.source();
        }
        Self { kind, inner }
    }

    /// The time limit passed: connecting, or before the whole answer was in.
    pub fn is_timeout(&self) -> bool {
        self.kind == Kind::Timeout
    }

    /// No connection could be made (refused, unreachable, name resolution, TLS handshake).
    pub fn is_connect(&self) -> bool {
        self.kind == Kind::Connect
    }

    /// The connection closed before a complete answer came in.
    pub fn is_incomplete(&self) -> bool {
        self.kind == Kind::Incomplete
    }

    /// Why the client retries this fault, or `None` when it must not: refused and reset
    /// connections and HTTP protocol errors are retried, timeouts never (the server may still
    /// act on the request).
    pub(crate) fn retry_reason(&self) -> Option<&'static str> {
        if self.kind == Kind::Timeout {
            return None;
        }
        let mut source: Option<&(dyn StdError + 'static)> = Some(&*self.inner);
        while let Some(current) = source {
            if let Some(io_err) = current.downcast_ref::<io::Error>() {
                match io_err.kind() {
                    io::ErrorKind::ConnectionRefused => return Some("connection refused"),
                    io::ErrorKind::ConnectionReset => return Some("connection reset"),
                    io::ErrorKind::TimedOut => return None,
                    _ => {}
                }
            }
            if let Some(hyper_err) = current.downcast_ref::<hyper::Error>() {
                if hyper_err.is_timeout() {
                    return None;
                }
                if hyper_err.is_incomplete_message() {
                    return Some("connection closed before a complete response");
                }
                if hyper_err.is_parse() || hyper_err.is_parse_status() {
                    return Some("malformed HTTP response");
                }
                if hyper_err.is_canceled() || hyper_err.is_closed() {
                    return Some("connection closed");
                }
            }
            source = current.source();
        }
        None
    }

    /// The last error of the chain, when it is not the HTTP stack's own (whose meaning the
    /// kind already says): the operating system's or the TLS library's.
    fn root(&self) -> Option<&(dyn StdError + 'static)> {
        let mut err: &(dyn StdError + 'static) = &*self.inner;
        while let Some(next) = err.source() {
            err = next;
        }
        let own = err.is::<hyper::Error>()
            || err.is::<legacy::Error>()
            || err.is::<tokio::time::error::Elapsed>()
            || err.is::<hyper::http::Error>()
            || err.is::<hyper::http::uri::InvalidUri>()
            || err.is::<hyper::http::uri::InvalidUriParts>();
        (!own).then_some(err)
    }
}

impl fmt::Display for TransportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self.kind {
            Kind::Connect => "cannot connect",
            Kind::Timeout => "no complete answer within the time limit",
            Kind::Incomplete => "the connection closed before a complete answer",
            Kind::Closed => "the connection closed",
            Kind::Protocol => "the answer is not valid HTTP",
            Kind::Setup => "cannot set up TLS",
            Kind::Other => "the HTTP exchange failed",
        })
    }
}

impl fmt::Debug for TransportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TransportError")
            .field("kind", &self.kind)
            .field("inner", &self.inner)
            .finish()
    }
}

impl StdError for TransportError {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        self.root()
    }
}

/// Whether the server closes the connection after `response`: `Connection: close`, or
/// HTTP/1.0 without `Connection: keep-alive`.
fn closes_after<B>(response: &hyper::Response<B>) -> bool {
    let says = |token: &str| {
        response
            .headers()
            .get_all(CONNECTION)
            .iter()
            .filter_map(|value| value.to_str().ok())
            .flat_map(|value| value.split(','))
            .any(|item| item.trim().eq_ignore_ascii_case(token))
    };
    if response.version() == hyper::Version::HTTP_10 {
        !says("keep-alive")
    } else {
        says("close")
    }
}

/// Sends `request` on a new connection of `connector`'s that serves only this call (driven by
/// a task of its own until the server closes it). The request line carries the path only
/// (origin form), as the pooled client sends it.
async fn one_shot<C>(
    connector: &C,
    mut request: Request<Full<Bytes>>,
) -> Result<hyper::Response<hyper::body::Incoming>, BoxError>
where
    C: tower_service::Service<Uri> + Clone,
    C::Response: hyper::rt::Read + hyper::rt::Write + Unpin + Send + 'static,
    C::Error: Into<BoxError>,
{
    let target = request.uri().clone();
    if let Some(path) = target.path_and_query() {
        *request.uri_mut() = Uri::from(path.clone());
    }
    let io = connector.clone().call(target).await.map_err(Into::into)?;
    let (mut sender, connection) = hyper::client::conn::http1::handshake(io).await?;
    tokio::spawn(async move {
        if let Err(err) = connection.await {
            tracing::debug!(error = %err, "StorPool API connection ended with an error");
        }
    });
    Ok(sender.send_request(request).await?)
}

/// What [`read_body`] reserves at most ahead of the data, whatever `Content-Length` claims.
const RESERVE_LIMIT: usize = 1 << 30;

/// The whole body of `response`. A body of one frame (most answers) is handed over without a
/// copy; a longer one is copied frame by frame into one buffer of the size `Content-Length`
/// gives, so that each frame is freed as soon as it is copied. Collecting the frames first and
/// joining them at the end (`BodyExt::collect`) held every big answer twice: a `VolumesList`
/// of 100,000 volumes (49 MB) needed 98 MB for a moment.
async fn read_body(response: hyper::Response<hyper::body::Incoming>) -> Result<Bytes, BoxError> {
    let expected = response
        .headers()
        .get(CONTENT_LENGTH)
        .and_then(|value| value.to_str().ok()?.parse::<usize>().ok())
        .map_or(0, |length| length.min(RESERVE_LIMIT));
    let mut body = response.into_body();
    let mut first: Option<Bytes> = None;
    let mut joined: Vec<u8> = Vec::new();
    while let Some(frame) = body.frame().await {
        let Ok(data) = frame?.into_data() else {
            continue; // trailers
        };
        match first.take() {
            None if joined.is_empty() => first = Some(data),
            None => joined.extend_from_slice(&data),
            Some(head) => {
                joined.reserve(expected.max(head.len() + data.len()));
                joined.extend_from_slice(&head);
                joined.extend_from_slice(&data);
            }
        }
    }
    Ok(first.unwrap_or_else(|| Bytes::from(joined)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn io_timeouts_are_timeouts_and_never_retried() {
        let err = TransportError::classify(Box::new(io::Error::new(
            io::ErrorKind::TimedOut,
            "connect timeout",
        )));
        assert!(err.is_timeout());
        assert_eq!(err.retry_reason(), None);
    }

    #[test]
    fn refused_and_reset_connections_are_retried_and_show_the_os_error() {
        let refused =
            TransportError::classify(Box::new(io::Error::from(io::ErrorKind::ConnectionRefused)));
        assert_eq!(refused.retry_reason(), Some("connection refused"));
        assert!(refused.source().is_some());
        let reset =
            TransportError::classify(Box::new(io::Error::from(io::ErrorKind::ConnectionReset)));
        assert_eq!(reset.retry_reason(), Some("connection reset"));
    }

    #[test]
    fn base_urls_are_checked_and_normalised() {
        let ok = |raw: &str| BaseUrl::parse(raw).unwrap().display;
        assert_eq!(ok("http://127.0.0.1:81/"), "http://127.0.0.1:81");
        assert_eq!(ok("HTTP://Host.Example:80"), "http://host.example");
        assert_eq!(ok("http://[::1]:81"), "http://[::1]:81");
        assert_eq!(ok("http://h/a/b/"), "http://h/a/b");
        assert_eq!(BaseUrl::parse("http://h/a/b/").unwrap().prefix, "/a/b");
        for bad in [
            "",
            "127.0.0.1:81",
            "ftp://h",
            "http://h/?q=1",
            "http://h#f",
            "http://u:p@h",
            "http://",
            "http://:81",
            "http://h:99999",
            "http://h:port",
            "http://h/a b",
            "http://h\u{e9}/",
        ] {
            assert!(BaseUrl::parse(bad).is_err(), "{bad}");
        }
    }
}
