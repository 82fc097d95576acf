//! One HTTP exchange: send a request, read the whole answer.
//!
//! StorPool's API is plain HTTP (port 81), so `http://` servers are spoken to directly over
//! hyper's HTTP/1.1 client connections, kept in a small pool of idle ones: a call costs a
//! connection (or a pooled one), one request and one response, without the URL parsing,
//! middleware layers and pool machinery of a general-purpose client. `https://` servers (a
//! TLS proxy in front of the API) go through reqwest, which brings the TLS stack.

use std::error::Error as StdError;
use std::net::{IpAddr, SocketAddr};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1::{self, SendRequest};
use hyper::header::{
    AUTHORIZATION, CONNECTION, CONTENT_LENGTH, CONTENT_TYPE, HOST, HeaderValue, USER_AGENT,
};
use hyper::{Method, StatusCode, Version};
use hyper_util::rt::TokioIo;
use reqwest::Url;

/// The error an exchange reports: an [`std::io::Error`], a [`hyper::Error`] or a
/// [`reqwest::Error`].
pub(crate) type BoxError = Box<dyn StdError + Send + Sync + 'static>;

/// How long an idle connection is kept for reuse.
const IDLE_TIMEOUT: Duration = Duration::from_secs(90);
/// At most this many idle connections are kept.
const MAX_IDLE: usize = 64;

/// `User-Agent` of every request.
const AGENT: &str = concat!("storpool-rs/", env!("CARGO_PKG_VERSION"));

/// Why an exchange failed.
pub(crate) enum Failure {
    /// The time limit passed (connecting, or before the whole answer was in).
    Timeout(BoxError),
    /// No usable answer: refused, reset or closed connection, not HTTP, ...
    Transport(BoxError),
}

/// One request.
pub(crate) struct Exchange<'a> {
    pub(crate) method: &'a Method,
    /// Path and query after the host: `/ctrl/1.0/CALL...` behind the base URL's prefix.
    pub(crate) target: &'a str,
    /// `Authorization`, marked sensitive.
    pub(crate) auth: &'a HeaderValue,
    /// A JSON body.
    pub(crate) body: Option<&'a Bytes>,
    /// The time limit of the whole exchange.
    pub(crate) timeout: Duration,
}

/// The HTTP client of a [`crate::Client`].
pub(crate) enum Transport {
    /// `http://`: hyper connections of our own.
    Plain(Plain),
    /// `https://`: reqwest.
    Tls {
        http: reqwest::Client,
        /// `https://host[:port]`, without the path prefix.
        origin: String,
    },
}

impl Transport {
    /// The client for `base` (already checked: `http` or `https`, with a host).
    pub(crate) fn new(
        base: &Url,
        connect_timeout: Option<Duration>,
    ) -> Result<Self, reqwest::Error> {
        if base.scheme() == "http" {
            return Ok(Self::Plain(Plain::new(base, connect_timeout)));
        }
        let mut http = reqwest::Client::builder().no_proxy().user_agent(AGENT);
        if let Some(timeout) = connect_timeout {
            http = http.connect_timeout(timeout);
        }
        Ok(Self::Tls {
            http: http.build()?,
            origin: base.origin().ascii_serialization(),
        })
    }

    /// Sends the request and reads the whole answer.
    pub(crate) async fn exchange(&self, x: &Exchange<'_>) -> Result<(StatusCode, Bytes), Failure> {
        match self {
            Self::Plain(plain) => match tokio::time::timeout(x.timeout, plain.exchange(x)).await {
                Ok(result) => result,
                Err(elapsed) => Err(Failure::Timeout(Box::new(elapsed))),
            },
            Self::Tls { http, origin } => {
                let mut builder = http
                    .request(x.method.clone(), format!("{origin}{}", x.target))
                    .header(AUTHORIZATION, x.auth.clone())
                    .timeout(x.timeout);
                if let Some(body) = x.body {
                    builder = builder
                        .header(CONTENT_TYPE, "application/json")
                        .body(body.clone());
                } else if x.method == Method::POST {
                    builder = builder.header(CONTENT_LENGTH, "0").body(Bytes::new());
                }
                let result = match builder.send().await {
                    Ok(response) => {
                        let status = response.status();
                        response.bytes().await.map(|bytes| (status, bytes))
                    }
                    Err(err) => Err(err),
                };
                result.map_err(|err| {
                    if err.is_timeout() {
                        Failure::Timeout(Box::new(err))
                    } else {
                        Failure::Transport(Box::new(err))
                    }
                })
            }
        }
    }
}

/// Where a plain-HTTP server listens.
enum Endpoint {
    Addr(SocketAddr),
    Name(String, u16),
}

/// A plain-HTTP client: connections to one server, reused while the server keeps them open.
pub(crate) struct Plain {
    endpoint: Endpoint,
    /// The `Host` header: the base URL's host and port.
    host: HeaderValue,
    agent: HeaderValue,
    connect_timeout: Option<Duration>,
    /// Idle connections, the most recently used last.
    idle: Mutex<Vec<(SendRequest<Full<Bytes>>, Instant)>>,
}

impl Plain {
    fn new(base: &Url, connect_timeout: Option<Duration>) -> Self {
        let port = base.port_or_known_default().unwrap_or(80);
        // `[::1]` for IPv6 literals.
        let host = base.host_str().unwrap_or_default();
        let endpoint = match host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse::<IpAddr>()
        {
            Ok(ip) => Endpoint::Addr(SocketAddr::from((ip, port))),
            Err(_) => Endpoint::Name(host.to_owned(), port),
        };
        let authority = match base.port() {
            Some(port) => format!("{host}:{port}"),
            None => host.to_owned(),
        };
        Self {
            endpoint,
            // A checked URL's host is ASCII.
            host: HeaderValue::try_from(authority).unwrap_or(HeaderValue::from_static("")),
            agent: HeaderValue::from_static(AGENT),
            connect_timeout,
            idle: Mutex::new(Vec::new()),
        }
    }

    async fn exchange(&self, x: &Exchange<'_>) -> Result<(StatusCode, Bytes), Failure> {
        let (mut sender, pooled) = match self.pooled().await {
            Some(sender) => (sender, true),
            None => (self.connect().await?, false),
        };
        let mut request = hyper::Request::builder()
            .method(x.method.clone())
            .uri(x.target)
            .header(HOST, self.host.clone())
            .header(USER_AGENT, self.agent.clone())
            .header(AUTHORIZATION, x.auth.clone());
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
        let request = request
            .body(Full::new(body))
            .map_err(|err| Failure::Transport(Box::new(err)))?;
        let transport = |err: hyper::Error| Failure::Transport(Box::new(err));
        let response = if pooled {
            match sender.try_send_request(request).await {
                Ok(response) => response,
                Err(mut err) => match err.take_message() {
                    // The idle connection closed before the request went out: a new one.
                    Some(request) => {
                        sender = self.connect().await?;
                        sender.send_request(request).await.map_err(transport)?
                    }
                    None => return Err(transport(err.into_error())),
                },
            }
        } else {
            sender.send_request(request).await.map_err(transport)?
        };
        let status = response.status();
        let reusable = response.version() == Version::HTTP_11
            && !response
                .headers()
                .get_all(CONNECTION)
                .iter()
                .any(|v| v.as_bytes().eq_ignore_ascii_case(b"close"));
        // A body of one frame (most answers) is handed over without a copy.
        let bytes = response
            .into_body()
            .collect()
            .await
            .map_err(transport)?
            .to_bytes();
        if reusable && !sender.is_closed() {
            self.put_back(sender);
        }
        Ok((status, bytes))
    }

    /// An idle connection that is still open, if there is one.
    async fn pooled(&self) -> Option<SendRequest<Full<Bytes>>> {
        loop {
            let (mut sender, since) = {
                let mut idle = self
                    .idle
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner);
                idle.pop()?
            };
            if since.elapsed() >= IDLE_TIMEOUT || sender.is_closed() {
                continue;
            }
            // Ready at once unless the server closed it meanwhile.
            if sender.ready().await.is_ok() {
                return Some(sender);
            }
        }
    }

    fn put_back(&self, sender: SendRequest<Full<Bytes>>) {
        let mut idle = self
            .idle
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        // Connections below the top are only looked at here: drop the ones that expired or
        // that the server closed, so that a burst of concurrent calls leaves no sockets behind.
        let now = Instant::now();
        idle.retain(|(sender, since)| {
            now.duration_since(*since) < IDLE_TIMEOUT && !sender.is_closed()
        });
        if idle.len() >= MAX_IDLE {
            idle.remove(0);
        }
        idle.push((sender, now));
    }

    /// A new connection, its driver running as a task of the current runtime.
    async fn connect(&self) -> Result<SendRequest<Full<Bytes>>, Failure> {
        let connect = async {
            match &self.endpoint {
                Endpoint::Addr(addr) => tokio::net::TcpStream::connect(addr).await,
                Endpoint::Name(name, port) => {
                    tokio::net::TcpStream::connect((name.as_str(), *port)).await
                }
            }
        };
        let stream = match self.connect_timeout {
            Some(limit) => match tokio::time::timeout(limit, connect).await {
                Ok(connected) => connected,
                Err(elapsed) => return Err(Failure::Timeout(Box::new(elapsed))),
            },
            None => connect.await,
        }
        .map_err(|err| Failure::Transport(Box::new(err)))?;
        // Requests and answers are single writes; the answer is awaited right after.
        let _ = stream.set_nodelay(true);
        let (sender, connection) = http1::handshake(TokioIo::new(stream))
            .await
            .map_err(|err| Failure::Transport(Box::new(err)))?;
        tokio::spawn(async move {
            if let Err(err) = connection.await {
                tracing::debug!(error = %err, "StorPool API connection ended with an error");
            }
        });
        Ok(sender)
    }
}
