//! The HTTP side: routing, authentication, envelopes, faults, waits.

use std::convert::Infallible;
use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Limited};
use hyper::body::Incoming;
use hyper::header::{CACHE_CONTROL, CONNECTION, CONTENT_TYPE, HeaderValue};
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use secrecy::{ExposeSecret, SecretString};
use serde_json::Value;
use tokio::net::TcpListener;
use tokio::sync::{Notify, watch};

use crate::api;
use crate::args::parse_body;
use crate::engine::{Answer, CallDef, Core, Data, Handler, Method, Ran, RawFn, WriteFn};
use crate::error::ApiErr;
use crate::faults::{Action, FaultState};
use crate::lock::StateLock;

/// API path prefix.
pub(crate) const PREFIX: &str = "/ctrl/1.0/";

/// State shared by the connections.
pub(crate) struct Shared {
    pub(crate) core: RwLock<Core>,
    /// (name, id) of the simulated cluster, as `RemoteCommand/` accepts them (fixed when the
    /// cluster is made).
    pub(crate) identity: (String, String),
    /// Held by the one call that makes data copies ahead of its commit (see [`crate::copies`]).
    pub(crate) copy_lane: Mutex<()>,
    /// Run once a call's copies are made, before it commits ([`crate::SimBuilder::copy_hook`]).
    pub(crate) copy_hook: Option<crate::sim::CopyHook>,
    pub(crate) token: SecretString,
    pub(crate) keep_alive: bool,
    pub(crate) error_status: u16,
    pub(crate) max_body: usize,
    /// How long a request's head, then its body, may take to arrive.
    pub(crate) request_timeout: Duration,
    /// Connections served at once.
    pub(crate) max_connections: usize,
    pub(crate) faults: Mutex<FaultState>,
    /// Bumped whenever a client's state changes.
    pub(crate) clients_changed: watch::Sender<u64>,
    /// The state directory's lock, held while anything can still use the state.
    pub(crate) _state_lock: StateLock,
    /// Bumped whenever the state is taken for writing (see [`Shared::write_core`]); keys
    /// [`Shared::listings`].
    pub(crate) epoch: AtomicU64,
    /// The rendered `data` of the big listings (`VolumesList`, `SnapshotsList`) at
    /// `epoch`: rendering 100,000 volumes takes about 100 ms, sending a kept copy nothing, and
    /// clients (os-brick, the Cinder driver's stats) list far more often than they change.
    pub(crate) listings: Mutex<Listings>,
}

/// Rendered listings, valid while the state's epoch is unchanged.
#[derive(Default)]
pub(crate) struct Listings {
    epoch: u64,
    rendered: Vec<(&'static str, Bytes)>,
    /// Answers of earlier epochs, whose memory the next rendering reuses once no connection
    /// sends them any more: 50 MB of fresh memory cost about 12,000 page faults, which took
    /// 45 ms on the development machine, more than writing the JSON itself.
    stale: Vec<Bytes>,
}

impl Listings {
    /// Moves the rendered answers to `stale` (at most two are kept there).
    fn expire(&mut self) {
        let rendered = std::mem::take(&mut self.rendered);
        self.stale
            .extend(rendered.into_iter().map(|(_, data)| data));
        let extra = self.stale.len().saturating_sub(2);
        self.stale.drain(..extra);
    }

    /// An empty buffer, with the room of a stale answer nobody sends any more when there is
    /// one.
    fn buffer(&mut self) -> Vec<u8> {
        for i in 0..self.stale.len() {
            if self.stale[i].is_unique() {
                if let Ok(room) = self.stale.swap_remove(i).try_into_mut() {
                    let mut buffer = Vec::from(room);
                    buffer.clear();
                    return buffer;
                }
                break;
            }
        }
        Vec::new()
    }
}

/// A finished answer: status and JSON body, in parts that are sent one after the other (a
/// listing is written once, and the envelope goes around it without copying it).
pub(crate) struct Reply {
    pub(crate) status: u16,
    parts: Vec<Bytes>,
}

impl Reply {
    pub(crate) fn error(status: u16, e: &ApiErr) -> Self {
        Self {
            status,
            parts: vec![Bytes::from(
                serde_json::to_vec(&e.envelope()).unwrap_or_default(),
            )],
        }
    }

    /// `{"generation": G, "data": DATA}`.
    pub(crate) fn ok(generation: u64, data: Data) -> Self {
        let mut head = Vec::with_capacity(256);
        head.extend_from_slice(format!("{{\"generation\":{generation},\"data\":").as_bytes());
        let parts = match data {
            Data::Json(v) => {
                let len = head.len();
                if serde_json::to_writer(&mut head, &v).is_err() {
                    head.truncate(len);
                    head.extend_from_slice(b"null");
                }
                head.push(b'}');
                vec![Bytes::from(head)]
            }
            Data::Raw(s) => vec![Bytes::from(head), s, Bytes::from_static(b"}")],
        };
        Self { status: 200, parts }
    }

    /// The whole body in one buffer.
    pub(crate) fn into_body(self) -> Vec<u8> {
        match <[Bytes; 1]>::try_from(self.parts) {
            Ok([one]) => one.into(),
            Err(parts) => parts.concat(),
        }
    }
}

/// An HTTP body made of the parts of a [`Reply`], with its exact length (so that hyper sends
/// `Content-Length`).
pub(crate) struct ReplyBody {
    parts: std::collections::VecDeque<Bytes>,
    len: u64,
}

impl ReplyBody {
    fn new(parts: Vec<Bytes>) -> Self {
        let len = parts.iter().map(|p| p.len() as u64).sum();
        Self {
            parts: parts.into(),
            len,
        }
    }
}

impl hyper::body::Body for ReplyBody {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        mut self: std::pin::Pin<&mut Self>,
        _: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<hyper::body::Frame<Bytes>, Infallible>>> {
        let next = self.parts.pop_front();
        if let Some(part) = &next {
            self.len -= part.len() as u64;
        }
        std::task::Poll::Ready(next.map(|part| Ok(hyper::body::Frame::data(part))))
    }

    fn is_end_stream(&self) -> bool {
        self.parts.is_empty()
    }

    fn size_hint(&self) -> hyper::body::SizeHint {
        hyper::body::SizeHint::with_exact(self.len)
    }
}

impl Shared {
    fn error_reply(&self, e: &ApiErr) -> Reply {
        Reply::error(e.status.unwrap_or(self.error_status), e)
    }

    fn answer_reply(&self, a: Answer) -> Reply {
        match a.result {
            Ok(data) => Reply::ok(a.generation, data),
            Err(e) => self.error_reply(&e),
        }
    }

    pub(crate) fn read_core(&self) -> std::sync::RwLockReadGuard<'_, Core> {
        if self.core.is_poisoned() {
            // Repair first (see `write_core`).
            drop(self.write_core());
        }
        self.core
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The core for a change. Should a handler ever have panicked halfway through a change,
    /// the in-memory model is reloaded from the store, which only holds committed changes.
    pub(crate) fn write_core(&self) -> std::sync::RwLockWriteGuard<'_, Core> {
        let guard = match self.core.write() {
            Ok(g) => g,
            Err(poisoned) => {
                let mut g = poisoned.into_inner();
                self.core.clear_poison();
                g.reload();
                g
            }
        };
        self.state_may_change();
        guard
    }

    /// Called with the state held for writing: the kept listings are stale from now on.
    fn state_may_change(&self) {
        self.epoch.fetch_add(1, Ordering::Relaxed);
        self.listings
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .expire();
    }

    /// A listing call (`Handler::Raw`) with the state held for reading: the kept answer of
    /// this epoch, or a new one, kept. Only plain calls (no arguments, no body) are kept.
    fn read_listing(
        &self,
        core: &Core,
        def: &CallDef,
        f: RawFn,
        args: &[String],
        body: Option<Value>,
    ) -> Answer {
        if !args.is_empty() || body.is_some() {
            return core.read_raw(f, args, body, Vec::new());
        }
        // Stable while `core` is borrowed: it changes only under the write lock.
        let epoch = self.epoch.load(Ordering::Relaxed);
        let (kept, buffer) = {
            let mut listings = self
                .listings
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            let kept = (listings.epoch == epoch)
                .then(|| listings.rendered.iter().find(|(name, _)| *name == def.name))
                .flatten()
                .map(|(_, data)| data.clone());
            let buffer = if kept.is_none() {
                listings.buffer()
            } else {
                Vec::new()
            };
            (kept, buffer)
        };
        if let Some(data) = kept {
            return Answer {
                result: Ok(Data::Raw(data)),
                wait: None,
                generation: core.cl.meta.generation,
            };
        }
        let answer = core.read_raw(f, args, None, buffer);
        if let Ok(Data::Raw(data)) = &answer.result {
            let mut listings = self
                .listings
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            if listings.epoch != epoch {
                listings.epoch = epoch;
                listings.expire();
            }
            listings.rendered.retain(|(name, _)| *name != def.name);
            listings.rendered.push((def.name, data.clone()));
        }
        answer
    }

    /// Run a routed call against the core (blocking).
    pub(crate) fn execute(&self, def: &CallDef, args: &[String], body: Option<Value>) -> Answer {
        match def.handler {
            Handler::Read(f) => self.read_core().read(f, args, body),
            Handler::Raw(f) => self.read_listing(&self.read_core(), def, f, args, body),
            Handler::Write(f) => self.write_call(f, args, body),
        }
    }

    /// Run a mutating call (blocking). One that copies data which exists copies it ahead,
    /// without the state lock, then commits (see [`crate::copies`]): other calls go on
    /// meanwhile, and only one such call copies at a time.
    fn write_call(&self, f: WriteFn, args: &[String], body: Option<Value>) -> Answer {
        let plan = match self.write_core().write_or_plan(f, args, body.clone()) {
            Ran::Answered(answer) => return answer,
            Ran::Copies(plan) => plan,
        };
        let _lane = self
            .copy_lane
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        self.write_core().watch.start();
        let mut ready = plan.make();
        if let Some(hook) = &self.copy_hook {
            hook();
        }
        let mut core = self.write_core();
        ready.touched = core.watch.stop();
        core.write_ready(f, args, body, Some(ready))
    }

    /// Run a call right on the connection's task, when it takes microseconds and the state
    /// is free (it never waits for the lock there: that would stall every connection): reads
    /// of one object, listings already rendered for this state, and, without fsync, changes
    /// while no object holds data (such a change only appends a few pages to the write-ahead
    /// log in the page cache; a checkpoint now and then takes a few milliseconds). Otherwise
    /// the body is handed back, for the blocking pool: other listings of everything, changes
    /// that may fsync or copy data, and any call while another holds the state.
    fn execute_inline(
        &self,
        def: &CallDef,
        args: &[String],
        body: Option<Value>,
    ) -> Result<Answer, Option<Value>> {
        match def.handler {
            Handler::Read(f) if def.nargs > 0 => match self.core.try_read() {
                Ok(core) => Ok(core.read(f, args, body)),
                Err(_) => Err(body),
            },
            Handler::Write(f) => match self.core.try_write() {
                Ok(mut core) if core.changes_never_block() => {
                    self.state_may_change();
                    Ok(core.write(f, args, body))
                }
                _ => Err(body),
            },
            Handler::Raw(f) if def.nargs > 0 => match self.core.try_read() {
                Ok(core) => Ok(core.read_raw(f, args, body, Vec::new())),
                Err(_) => Err(body),
            },
            Handler::Raw(f) if args.is_empty() && body.is_none() => match self.core.try_read() {
                Ok(core) if self.listing_is_kept(def) => {
                    Ok(self.read_listing(&core, def, f, args, body))
                }
                _ => Err(body),
            },
            Handler::Read(_) | Handler::Raw(_) => Err(body),
        }
    }

    /// Whether the listing `def` of the current epoch is kept (call with the state held).
    fn listing_is_kept(&self, def: &CallDef) -> bool {
        let epoch = self.epoch.load(Ordering::Relaxed);
        let listings = self
            .listings
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        listings.epoch == epoch && listings.rendered.iter().any(|(name, _)| *name == def.name)
    }

    /// (name, id) of the simulated cluster, as `RemoteCommand/` accepts them.
    pub(crate) fn cluster_identity(&self) -> (String, String) {
        self.identity.clone()
    }

    /// Are all these clients running and caught up?
    fn clients_ready(&self, clients: &[u16]) -> bool {
        let core = self.read_core();
        clients
            .iter()
            .all(|c| core.cl.clients.get(c).is_none_or(|s| s.running))
    }
}

/// A routed request.
pub(crate) struct Routed {
    pub(crate) def: &'static CallDef,
    pub(crate) args: Vec<String>,
}

fn percent_decode(s: &str) -> Result<String, ApiErr> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            // Exactly two hex digits (`from_str_radix` alone would take `%+1`).
            let hex = b
                .get(i + 1..i + 3)
                .filter(|h| h.iter().all(u8::is_ascii_hexdigit))
                .and_then(|h| std::str::from_utf8(h).ok())
                .and_then(|h| u8::from_str_radix(h, 16).ok())
                .ok_or_else(|| ApiErr::invalid("malformed percent-encoding in the path"))?;
            out.push(hex);
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8(out).map_err(|_| ApiErr::invalid("the path is not valid UTF-8"))
}

/// Route a path (after the host) to a call. `cluster` gives (name, id) of the simulated
/// cluster; it is only asked for `RemoteCommand/` paths.
pub(crate) fn route(
    method: Method,
    path: &str,
    cluster: impl FnOnce() -> (String, String),
) -> Result<Routed, ApiErr> {
    let rest = path.strip_prefix(PREFIX).ok_or_else(|| {
        ApiErr::invalid(format!("unknown path {}", crate::names::shorten(path))).with_status(404)
    })?;
    let mut segs: Vec<String> = rest
        .split('/')
        .map(percent_decode)
        .collect::<Result<_, _>>()?;
    if segs.last().is_some_and(String::is_empty) && segs.len() > 1 {
        segs.pop();
    }
    let mut i = 0;
    if segs.first().map(String::as_str) == Some("RemoteCommand") {
        let name = segs.get(1).map_or("", String::as_str);
        let (cluster_name, cluster_id) = cluster();
        let ok = name == cluster_name || name.strip_prefix('~') == Some(cluster_id.as_str());
        if !ok {
            return Err(ApiErr::not_found(format!(
                "cluster {} does not exist",
                crate::names::shorten(name)
            )));
        }
        i = 2;
    }
    let multi = segs.get(i).map(String::as_str) == Some("MultiCluster");
    if multi {
        i += 1;
    }
    let name = segs.get(i).map_or("", String::as_str);
    let Some(def) = api::find_call(name, method) else {
        return Err(if api::call_exists(name) {
            ApiErr::invalid(format!(
                "{name} must be called with {}",
                if method == Method::Get { "POST" } else { "GET" }
            ))
            .with_status(405)
        } else {
            ApiErr::invalid(format!(
                "unknown API call `{}`",
                crate::names::shorten(name)
            ))
            .with_status(404)
        });
    };
    if multi && !def.multi_cluster {
        return Err(
            ApiErr::invalid(format!("{name} is not available under MultiCluster/"))
                .with_status(404),
        );
    }
    let args: Vec<String> = segs[i + 1..].to_vec();
    if args.len() != def.nargs {
        return Err(ApiErr::invalid(format!(
            "{name} takes {} path argument(s), got {}",
            def.nargs,
            args.len()
        ))
        .with_status(404));
    }
    Ok(Routed { def, args })
}

fn query_json(query: Option<&str>) -> Result<Option<Vec<u8>>, ApiErr> {
    let Some(q) = query else { return Ok(None) };
    for pair in q.split('&') {
        if let Some(v) = pair.strip_prefix("json=") {
            return percent_decode(&v.replace('+', " ")).map(|s| Some(s.into_bytes()));
        }
    }
    Ok(None)
}

/// Whether the request carries `Authorization: Storpool v1:TOKEN` with our token. The tokens
/// are compared in constant time (only a difference in length shows in the timing), so the
/// answer time tells nothing about how much of a guess was right.
fn is_authorized(shared: &Shared, req: &Request<Incoming>) -> bool {
    use subtle::ConstantTimeEq as _;
    req.headers()
        .get(hyper::header::AUTHORIZATION)
        .and_then(|v| v.as_bytes().strip_prefix(b"Storpool v1:"))
        .is_some_and(|t| t.ct_eq(shared.token.expose_secret().as_bytes()).into())
}

/// What the connection should do after a request.
enum Outcome {
    Reply(Reply),
    /// Close the connection without an answer.
    Drop,
}

async fn handle(shared: Arc<Shared>, req: Request<Incoming>) -> (Outcome, String) {
    let method = match *req.method() {
        hyper::Method::GET => Some(Method::Get),
        hyper::Method::POST => Some(Method::Post),
        _ => None,
    };
    let path = req.uri().path().to_owned();
    let label = crate::names::shorten(&path);
    if !is_authorized(&shared, &req) {
        let e = ApiErr::invalid(
            "authentication failed: missing or wrong `Authorization: Storpool v1:TOKEN` header",
        )
        .with_status(401);
        return (Outcome::Reply(shared.error_reply(&e)), label);
    }
    let Some(method) = method else {
        let e = ApiErr::invalid(format!(
            "method {} is not supported: use GET or POST",
            req.method()
        ))
        .with_status(405);
        return (Outcome::Reply(shared.error_reply(&e)), label);
    };
    let routed = match route(method, &path, || shared.cluster_identity()) {
        Ok(r) => r,
        Err(e) => return (Outcome::Reply(shared.error_reply(&e)), label),
    };
    let query = req.uri().query().map(str::to_owned);
    // Faults are decided before anything runs.
    let (action, latency) = {
        let mut f = shared
            .faults
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let latency = f.faults.latency;
        (f.decide(routed.def.name), latency)
    };
    if !latency.is_zero() {
        tokio::time::sleep(latency).await;
    }
    match action {
        Action::Proceed | Action::LoseAnswer => {}
        Action::Fail(e) => return (Outcome::Reply(shared.error_reply(&e)), label),
        Action::Drop => return (Outcome::Drop, label),
        Action::Stall(d) => {
            tokio::time::sleep(d).await;
            return (Outcome::Drop, label);
        }
    }
    let body = match read_body(&shared, req).await {
        Ok(body) => body,
        Err(e) => return (Outcome::Reply(shared.error_reply(&e)), label),
    };
    let raw = if method == Method::Get {
        match query_json(query.as_deref()) {
            Ok(q) => q.unwrap_or_default(),
            Err(e) => return (Outcome::Reply(shared.error_reply(&e)), label),
        }
    } else {
        body.to_vec()
    };
    let json = match parse_body(&raw) {
        Ok(j) => j,
        Err(e) => return (Outcome::Reply(shared.error_reply(&e)), label),
    };
    let reply = run(&shared, routed, json).await;
    if action == Action::LoseAnswer {
        return (Outcome::Drop, label);
    }
    (Outcome::Reply(reply), label)
}

/// The request's body: at most `max_body` bytes (a larger declared length is refused before
/// anything is read), arriving within the request timeout.
async fn read_body(shared: &Shared, req: Request<Incoming>) -> Result<Bytes, ApiErr> {
    let limit = shared.max_body;
    let declared = req
        .headers()
        .get(hyper::header::CONTENT_LENGTH)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.parse::<u64>().ok());
    if let Some(length) = declared.filter(|&length| length > limit as u64) {
        // Refused before reading it: a client that sends a huge body learns at once.
        return Err(ApiErr::invalid(format!(
            "request body of {length} bytes is larger than the limit of {limit} bytes"
        )));
    }
    let timeout = shared.request_timeout;
    let read = tokio::time::timeout(timeout, Limited::new(req.into_body(), limit).collect());
    let Ok(read) = read.await else {
        return Err(ApiErr::invalid(format!(
            "the request body did not arrive within {:.1} s",
            timeout.as_secs_f64()
        ))
        .with_status(408));
    };
    match read {
        Ok(b) => Ok(b.to_bytes()),
        Err(e) => Err(
            if e.downcast_ref::<http_body_util::LengthLimitError>()
                .is_some()
            {
                ApiErr::invalid(format!("request body larger than {limit} bytes"))
            } else {
                ApiErr::invalid(format!("cannot read the request body: {e}"))
            },
        ),
    }
}

/// Execute a call, waiting for clients when the call asks for it.
pub(crate) async fn run(shared: &Arc<Shared>, routed: Routed, json: Option<Value>) -> Reply {
    let Routed { def, args } = routed;
    // Only a read can ask to be run again after a wait (`ClientConfigWait`).
    let again = matches!(def.handler, Handler::Read(_)).then(|| json.clone());
    let Some(mut answer) = execute(shared, def, args.clone(), json).await else {
        return shared.error_reply(&ApiErr::invalid("internal error while handling the call"));
    };
    while let Some(wait) = answer.wait.take() {
        // Subscribing after the call is enough: every check below first marks the current
        // value as seen, then looks at the clients, then waits for a newer value.
        let mut rx = shared.clients_changed.subscribe();
        let deadline = wait.timeout.map(|t| Instant::now() + t);
        loop {
            rx.borrow_and_update();
            if shared.clients_ready(&wait.clients) {
                break;
            }
            let changed = rx.changed();
            match deadline {
                Some(d) => {
                    let left = d.saturating_duration_since(Instant::now());
                    if left.is_zero() || tokio::time::timeout(left, changed).await.is_err() {
                        break;
                    }
                }
                None => {
                    if changed.await.is_err() {
                        break;
                    }
                }
            }
        }
        if wait.rerun {
            let Some(a) = execute(shared, def, args.clone(), again.clone().flatten()).await else {
                return shared
                    .error_reply(&ApiErr::invalid("internal error while handling the call"));
            };
            answer = a;
            if answer.wait.is_some() && deadline.is_some() {
                answer.wait = None;
            }
        }
    }
    shared.answer_reply(answer)
}

/// Run a call: on this task when it cannot block (see [`Shared::execute_inline`]), else on the
/// blocking pool. `None` when the call panicked.
async fn execute(
    shared: &Arc<Shared>,
    def: &'static CallDef,
    args: Vec<String>,
    json: Option<Value>,
) -> Option<Answer> {
    let inline = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        shared.execute_inline(def, &args, json)
    }));
    let json = match inline {
        Ok(Ok(answer)) => return Some(answer),
        Ok(Err(json)) => json,
        Err(_) => return None,
    };
    let shared = shared.clone();
    tokio::task::spawn_blocking(move || shared.execute(def, &args, json))
        .await
        .ok()
}

fn http_response(shared: &Shared, reply: Reply) -> Response<ReplyBody> {
    let mut resp = Response::new(ReplyBody::new(reply.parts));
    *resp.status_mut() =
        StatusCode::from_u16(reply.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let h = resp.headers_mut();
    h.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    h.insert(CACHE_CONTROL, HeaderValue::from_static("private"));
    if !shared.keep_alive {
        h.insert(CONNECTION, HeaderValue::from_static("close"));
    }
    resp
}

/// Serve connections until `shutdown` completes.
pub(crate) async fn serve(
    shared: Arc<Shared>,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send,
) {
    let (stop_tx, stop_rx) = watch::channel(false);
    let expiry = {
        let shared = shared.clone();
        let mut stop = stop_rx.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_secs(1));
            loop {
                tokio::select! {
                    _ = tick.tick() => {
                        let s = shared.clone();
                        let _ = tokio::task::spawn_blocking(move || {
                            // Check under the read lock; take the write lock only when needed.
                            if s.read_core().expiry_due() {
                                s.write_core().expire();
                            }
                        })
                        .await;
                    }
                    _ = stop.changed() => break,
                }
            }
        })
    };
    // The connections are served by a task of their own, so that they run on a worker thread:
    // the caller's future may be polled outside the pool (under `block_on`), and each I/O event
    // would then cost a thread switch to reach it.
    let server = tokio::spawn(accept(shared, listener, stop_rx));
    shutdown.await;
    let _ = stop_tx.send(true);
    let _ = server.await;
    let _ = expiry.await;
}

/// What to do when `accept` fails: errors that concern one connection (it was aborted or
/// reset before we took it) are passed over; any other (out of file descriptors, of memory)
/// pauses accepting for a while, growing while it lasts, and is logged at most once per
/// [`AcceptBackoff::LOG_EVERY`] with the count of failures since the last line.
#[derive(Debug, Default)]
struct AcceptBackoff {
    /// The current pause; zero after a success.
    delay: Duration,
    /// Failures not yet reported.
    unreported: u64,
    /// When the last line was logged.
    logged: Option<Instant>,
}

impl AcceptBackoff {
    const FIRST: Duration = Duration::from_millis(10);
    const MAX: Duration = Duration::from_secs(1);
    const LOG_EVERY: Duration = Duration::from_mins(1);

    /// How long to pause after `e` (`None`: go on at once).
    fn failed(&mut self, e: &std::io::Error) -> Option<Duration> {
        use std::io::ErrorKind;
        if matches!(
            e.kind(),
            ErrorKind::ConnectionAborted
                | ErrorKind::ConnectionReset
                | ErrorKind::Interrupted
                | ErrorKind::WouldBlock
        ) {
            tracing::debug!(error = %e, "a connection was lost before it was accepted");
            return None;
        }
        self.delay = (self.delay * 2).clamp(Self::FIRST, Self::MAX);
        self.unreported += 1;
        if self.logged.is_none_or(|t| t.elapsed() >= Self::LOG_EVERY) {
            tracing::warn!(
                error = %e,
                failures = self.unreported,
                "cannot accept connections; pausing up to {} ms between attempts (reported at most once a minute)",
                Self::MAX.as_millis()
            );
            self.logged = Some(Instant::now());
            self.unreported = 0;
        }
        Some(self.delay)
    }

    fn succeeded(&mut self) {
        if !self.delay.is_zero() {
            tracing::debug!("accepting connections again");
            self.delay = Duration::ZERO;
        }
    }
}

/// Accepts connections and serves them all from this one task (they are I/O-bound and
/// answered without blocking), until `stop` changes; then drops them.
///
/// At most `max_connections` are served at once: while that many are open, no more are
/// accepted, so further clients wait in the kernel's backlog (not in our file descriptors) and
/// are taken as slots free up. Connections whose request does not arrive in time are cut off
/// by hyper (`header_read_timeout`) and by [`handle`] (the body), so idle clients cannot keep
/// the slots.
async fn accept(shared: Arc<Shared>, listener: TcpListener, mut stop: watch::Receiver<bool>) {
    let mut conns = futures_util::stream::FuturesUnordered::new();
    let mut backoff = AcceptBackoff::default();
    let mut paused: Option<tokio::time::Instant> = None;
    loop {
        let room = conns.len() < shared.max_connections;
        let resume = paused.unwrap_or_else(tokio::time::Instant::now);
        let accepted = tokio::select! {
            _ = stop.changed() => break,
            Some(()) = futures_util::StreamExt::next(&mut conns), if !conns.is_empty() => continue,
            () = tokio::time::sleep_until(resume), if paused.is_some() => {
                paused = None;
                continue;
            }
            a = listener.accept(), if room && paused.is_none() => a,
        };
        match accepted {
            Ok((stream, _)) => {
                backoff.succeeded();
                let _ = stream.set_nodelay(true);
                conns.push(connection(shared.clone(), stream));
            }
            Err(e) => {
                paused = backoff.failed(&e).map(|d| tokio::time::Instant::now() + d);
            }
        }
    }
}

/// Serves one connection until the client or the server closes it, or an injected fault
/// drops it.
async fn connection(shared: Arc<Shared>, stream: tokio::net::TcpStream) {
    let drop_conn = Arc::new(Notify::new());
    let svc = {
        let shared = shared.clone();
        let drop_conn = drop_conn.clone();
        hyper::service::service_fn(move |req: Request<Incoming>| {
            let shared = shared.clone();
            let drop_conn = drop_conn.clone();
            async move {
                let start = Instant::now();
                let method = req.method().clone();
                let (outcome, path) = handle(shared.clone(), req).await;
                match outcome {
                    Outcome::Reply(reply) => {
                        tracing::info!(
                            "{method} {path} -> {} in {:.1} ms",
                            reply.status,
                            start.elapsed().as_secs_f64() * 1000.0
                        );
                        Ok::<_, Infallible>(http_response(&shared, reply))
                    }
                    Outcome::Drop => {
                        tracing::info!("{method} {path} -> connection dropped (injected fault)");
                        drop_conn.notify_one();
                        std::future::pending::<Result<Response<ReplyBody>, Infallible>>().await
                    }
                }
            }
        })
    };
    // A client may shut down its sending side once its request is out and still wait for the
    // answer (`half_close`): the end of its stream is not the end of the exchange. The server
    // cannot tell that from a client that went away, so such a call runs to its end either way
    // (as every call does once it started).
    let conn = hyper::server::conn::http1::Builder::new()
        .keep_alive(shared.keep_alive)
        .half_close(true)
        .timer(hyper_util::rt::TokioTimer::new())
        .header_read_timeout(shared.request_timeout)
        .serve_connection(TokioIo::new(stream), svc);
    tokio::select! {
        r = conn => {
            if let Err(e) = r {
                tracing::debug!(error = %e, "connection ended with an error");
            }
        }
        () = drop_conn.notified() => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percent_escapes_need_two_hex_digits() {
        assert_eq!(percent_decode("a%3Ab%2b").unwrap(), "a:b+");
        for bad in ["%+1", "%-1", "%1", "%", "%g0", "% 1", "a%+f"] {
            let e = percent_decode(bad).unwrap_err();
            assert!(e.descr.contains("percent-encoding"), "{bad}: {e}");
        }
    }
}
