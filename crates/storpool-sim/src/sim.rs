//! The public entry points: [`SimBuilder`], [`Sim`], [`SimService`] and [`SimHandle`].

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::fmt;
use std::future::Future;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicU64;
use std::sync::{Arc, Mutex, RwLock};
use std::thread::JoinHandle;
use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};
use serde_json::Value;
use tokio::net::TcpListener;
use tokio::sync::{oneshot, watch};

use crate::data::DataPlane;
use crate::engine::{Core, Data, Method, Settings, unix_now};
use crate::error::{ApiErr, SimError};
use crate::faults::{FaultState, Faults, InjectedError};
use crate::links::DevLinks;
use crate::lock::StateLock;
use crate::model::{ClientState, Cluster, Disk, Key, Meta, PlacementGroup, Template};
use crate::server::{self, Shared};
use crate::state::{self, ClusterState};
use crate::statedir;
use crate::store::Store;

/// The simulated cluster's hardware and identity.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClusterLayout {
    /// Number of storage servers (ids 1..=servers).
    pub servers: u32,
    /// Disks per server (disk ids `server * 100 + n`, n from 1).
    pub disks_per_server: u32,
    /// Size of each disk in bytes.
    pub disk_size: u64,
    /// Whether the disks are SSDs.
    pub ssd: bool,
    /// Registered clients (ids 1..=4095) besides the served ones; all running.
    pub clients: Vec<u16>,
    /// Cluster name (accepted in `RemoteCommand/<name>/`).
    pub name: String,
    /// Location id, the first token of every global id.
    pub location_id: String,
    /// Sub-cluster id, the second token of every global id.
    pub sub_id: String,
    /// Volume templates of a new cluster (none by default).
    pub templates: Vec<LayoutTemplate>,
}

/// A volume template a new cluster starts with ([`ClusterLayout::templates`]): its name, its
/// replication, and the placement group of all its replicas (made, holding every disk, when
/// the cluster has none of that name).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LayoutTemplate {
    /// The template's name (`[A-Za-z0-9_-]`).
    pub name: String,
    /// Its replication, 1..=3.
    pub replication: u8,
    /// Its placement group (`placeAll`, which `placeTail` and `placeHead` follow).
    pub placement: String,
}

impl LayoutTemplate {
    /// Replication 3 in placement group `default`: [`LayoutTemplate::parse`] of a bare name.
    pub const DEFAULT_REPLICATION: u8 = 3;

    /// A template of `name`, `replication` and placement group `placement`.
    pub fn new(name: impl Into<String>, replication: u8, placement: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            replication,
            placement: placement.into(),
        }
    }

    /// `NAME[:REPLICATION[:PLACEMENT]]`, as `storpool-sim --template` takes it: replication 3
    /// and placement group `default` when left out. The names and the replication are checked
    /// as the API checks them.
    pub fn parse(text: &str) -> Result<Self, SimError> {
        let mut parts = text.split(':');
        let name = parts.next().unwrap_or_default();
        let replication = match parts.next() {
            None => Self::DEFAULT_REPLICATION,
            Some(r) => r.parse().map_err(|_| {
                SimError::Option(format!(
                    "template `{text}`: the replication `{r}` is not a number"
                ))
            })?,
        };
        let placement = parts.next().unwrap_or(crate::DEFAULT_PLACEMENT_GROUP);
        if parts.next().is_some() {
            return Err(SimError::Option(format!(
                "template `{text}`: expected NAME[:REPLICATION[:PLACEMENT]]"
            )));
        }
        let template = Self::new(name, replication, placement);
        template.check(3)?;
        Ok(template)
    }

    fn check(&self, max_replication: u8) -> Result<(), SimError> {
        let option = |err: crate::ApiErr| SimError::Option(err.descr);
        crate::names::template_name(&self.name).map_err(option)?;
        crate::names::placement_group_name(&self.placement).map_err(option)?;
        crate::names::replication(u64::from(self.replication), max_replication)
            .map_err(|err| SimError::Option(format!("template `{}`: {}", self.name, err.descr)))?;
        Ok(())
    }
}

impl Default for ClusterLayout {
    fn default() -> Self {
        Self {
            servers: 3,
            disks_per_server: 4,
            disk_size: 512 << 30,
            ssd: true,
            clients: (1..=16).collect(),
            name: "sim".to_owned(),
            location_id: "sim".to_owned(),
            sub_id: "a".to_owned(),
            templates: Vec::new(),
        }
    }
}

/// Options of a simulator; see the crate docs for the defaults.
pub struct SimBuilder {
    token: Option<SecretString>,
    state_dir: Option<PathBuf>,
    dev_root: Option<PathBuf>,
    served: BTreeSet<u16>,
    keep_alive: bool,
    faults: Faults,
    layout: ClusterLayout,
    sync: bool,
    error_status: u16,
    max_replication: u8,
    default_replication: Option<u8>,
    omit_empty_tags: bool,
    max_body: usize,
    listen: SocketAddr,
    lock_wait: Duration,
    request_timeout: Duration,
    max_connections: usize,
    copy_hook: Option<CopyHook>,
}

/// See [`SimBuilder::copy_hook`].
pub(crate) type CopyHook = Arc<dyn Fn() + Send + Sync>;

/// How long [`SimBuilder::build`] waits by default for another simulator to release the state
/// directory.
pub const DEFAULT_LOCK_WAIT: Duration = Duration::from_secs(10);

/// How long a client has by default to send a request's head, and then its body.
pub const DEFAULT_REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

/// How many connections are served at once by default; more wait in the kernel's backlog.
pub const DEFAULT_MAX_CONNECTIONS: usize = 256;

impl fmt::Debug for SimBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SimBuilder")
            .field("token", &self.token.as_ref().map(|_| "<redacted>"))
            .field("state_dir", &self.state_dir)
            .field("dev_root", &self.dev_root)
            .field("served", &self.served)
            .field("keep_alive", &self.keep_alive)
            .field("faults", &self.faults)
            .field("layout", &self.layout)
            .field("sync", &self.sync)
            .field("error_status", &self.error_status)
            .field("listen", &self.listen)
            .field("lock_wait", &self.lock_wait)
            .field("request_timeout", &self.request_timeout)
            .field("max_connections", &self.max_connections)
            .finish_non_exhaustive()
    }
}

impl Default for SimBuilder {
    fn default() -> Self {
        Self {
            token: None,
            state_dir: None,
            dev_root: None,
            served: BTreeSet::new(),
            keep_alive: false,
            faults: Faults::default(),
            layout: ClusterLayout::default(),
            sync: false,
            error_status: 500,
            max_replication: 3,
            default_replication: None,
            omit_empty_tags: false,
            max_body: 4 << 20,
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            lock_wait: DEFAULT_LOCK_WAIT,
            request_timeout: DEFAULT_REQUEST_TIMEOUT,
            max_connections: DEFAULT_MAX_CONNECTIONS,
            copy_hook: None,
        }
    }
}

impl SimBuilder {
    /// Default options.
    pub fn new() -> Self {
        Self::default()
    }

    /// The API token (default: a random decimal number). [`SimBuilder::build`] refuses a token
    /// [`check_token`] refuses: an empty one (it would let every client in), and anything but
    /// visible ASCII characters (`!` to `~`) other than `\`.
    #[must_use]
    pub fn token(mut self, token: impl Into<String>) -> Self {
        self.token = Some(SecretString::from(token.into()));
        self
    }

    /// Where metadata and data live (default: a temporary folder removed when the simulator
    /// stops). Starting on an existing state restores it.
    #[must_use]
    pub fn state_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.state_dir = Some(dir.into());
        self
    }

    /// Where device links are made for served clients (default: `STATE/dev`, a folder of the
    /// simulator's own inside the state directory; never `/dev` unless given).
    #[must_use]
    pub fn dev_root(mut self, dir: impl Into<PathBuf>) -> Self {
        self.dev_root = Some(dir.into());
        self
    }

    /// Serve this client id as "this host" (repeatable).
    #[must_use]
    pub fn serve_client(mut self, id: u16) -> Self {
        self.served.insert(id);
        self
    }

    /// Keep connections open between requests (default: `Connection: close` after every
    /// answer, as the real server does).
    #[must_use]
    pub fn keep_alive(mut self, on: bool) -> Self {
        self.keep_alive = on;
        self
    }

    /// Fault injection (also changeable at run time with [`SimHandle::set_faults`]).
    #[must_use]
    pub fn faults(mut self, faults: Faults) -> Self {
        self.faults = faults;
        self
    }

    /// Servers, disks, clients and identity of a new cluster (ignored when the state
    /// directory already holds one).
    #[must_use]
    pub fn layout(mut self, layout: ClusterLayout) -> Self {
        self.layout = layout;
        self
    }

    /// fsync every change for power-loss safety (default off; a change always survives a
    /// crash of the process).
    #[must_use]
    pub fn sync(mut self, on: bool) -> Self {
        self.sync = on;
        self
    }

    /// HTTP status of error answers (default 500; 200 exercises the "error member" path).
    /// Only 200 and 400..=599 are accepted ([`SimBuilder::build`] refuses others: 1xx, 204 and
    /// 304 answers cannot carry a body, and 3xx ones redirect).
    #[must_use]
    pub fn error_status(mut self, status: u16) -> Self {
        self.error_status = status;
        self
    }

    /// Highest accepted replication (default 3).
    #[must_use]
    pub fn max_replication(mut self, max: u8) -> Self {
        self.max_replication = max.max(1);
        self
    }

    /// Replication used by `VolumeCreate` when nothing gives one (default: none, the call is
    /// refused with `invalidParam`).
    #[must_use]
    pub fn default_replication(mut self, r: Option<u8>) -> Self {
        self.default_replication = r;
        self
    }

    /// Leave `tags` out of listings when an object has none (default: `"tags": {}`).
    #[must_use]
    pub fn omit_empty_tags(mut self, on: bool) -> Self {
        self.omit_empty_tags = on;
        self
    }

    /// Largest accepted request body in bytes (default 4 MiB).
    #[must_use]
    pub fn max_body(mut self, bytes: usize) -> Self {
        self.max_body = bytes;
        self
    }

    /// Address [`SimBuilder::start`] listens on (default `127.0.0.1:0`).
    #[must_use]
    pub fn listen(mut self, addr: SocketAddr) -> Self {
        self.listen = addr;
        self
    }

    /// How long [`SimBuilder::build`] (and [`SimBuilder::start`]) wait for another simulator
    /// to release the state directory before failing with [`SimError::Locked`] (default
    /// [`DEFAULT_LOCK_WAIT`]; zero fails at once).
    #[must_use]
    pub fn lock_wait(mut self, wait: Duration) -> Self {
        self.lock_wait = wait;
        self
    }

    /// How long a client has to send a request: its head (request line and headers) must
    /// arrive within this time, and then its body within this time again (default
    /// [`DEFAULT_REQUEST_TIMEOUT`]). A connection whose head is late is closed; a late body is
    /// answered with `invalidParam` and HTTP 408. On a keep-alive connection the wait for the
    /// next request counts as reading its head. Zero is refused by [`SimBuilder::build`].
    #[must_use]
    pub fn request_timeout(mut self, timeout: Duration) -> Self {
        self.request_timeout = timeout;
        self
    }

    /// How many connections are served at once (default [`DEFAULT_MAX_CONNECTIONS`]). Further
    /// connections are not accepted until one ends: they wait in the kernel's backlog, so the
    /// simulator never runs out of file descriptors because of idle clients. Zero is refused by
    /// [`SimBuilder::build`].
    #[must_use]
    pub fn max_connections(mut self, max: usize) -> Self {
        self.max_connections = max;
        self
    }

    /// Refuse options the server cannot work with.
    fn check_options(&self) -> Result<(), SimError> {
        check_error_status(self.error_status)?;
        if let Some(token) = &self.token {
            check_token(token.expose_secret())?;
        }
        if self.request_timeout.is_zero() {
            return Err(SimError::Option(
                "the request timeout must be longer than zero".to_owned(),
            ));
        }
        if self.max_connections == 0 {
            return Err(SimError::Option(
                "at least one connection must be allowed".to_owned(),
            ));
        }
        let mut names = BTreeSet::new();
        for template in &self.layout.templates {
            template.check(self.max_replication)?;
            if !names.insert(template.name.as_str()) {
                return Err(SimError::Option(format!(
                    "template `{}` is given twice",
                    template.name
                )));
            }
        }
        Ok(())
    }

    /// Run `hook` while a call's data copy is in progress: a snapshot, clone or revert whose
    /// source holds data calls it on the copying thread once the data is copied and before the
    /// call is committed. For tests of what happens meanwhile: a hook that blocks holds the
    /// call there (other calls are served), one that copies the state directory takes a crash
    /// image.
    #[must_use]
    pub fn copy_hook(mut self, hook: impl Fn() + Send + Sync + 'static) -> Self {
        self.copy_hook = Some(Arc::new(hook));
        self
    }

    /// Open (or create) the state and prepare a service to run in the caller's runtime.
    ///
    /// The state directory is locked for the simulator's lifetime (until the service and
    /// every [`SimHandle`] are dropped): a second simulator on the same directory waits up to
    /// [`SimBuilder::lock_wait`] (blocking the calling thread), then fails with
    /// [`SimError::Locked`].
    pub fn build(self) -> Result<SimService, SimError> {
        self.check_options()?;
        let token = self
            .token
            .unwrap_or_else(|| SecretString::from(random_token()));
        let folders = Folders::prepare(self.state_dir, self.dev_root)?;
        let state_lock = StateLock::acquire(&folders.state_dir, self.lock_wait)?;
        let db = folders.state_dir.join(statedir::DB_FILE);
        let mut store = Store::open(&db, self.sync)?;
        let mut cl = if let Some(cl) = store.load()? {
            cl
        } else {
            let cl = new_cluster(&self.layout);
            let keys: Vec<Key> = cl
                .disks
                .keys()
                .map(|d| Key::Disk(*d))
                .chain(cl.pgs.keys().map(|p| Key::Pg(*p)))
                .chain(cl.templates.keys().map(|t| Key::Template(*t)))
                .collect();
            let rows: Vec<(Key, Option<String>)> = keys.iter().map(|k| (*k, cl.row(*k))).collect();
            let meta = serde_json::to_string(&cl.meta).unwrap_or_default();
            store
                .commit(&meta, &rows, &[])
                .map_err(|source| SimError::Store {
                    path: db.clone(),
                    source,
                })?;
            cl
        };
        let generation = cl.meta.generation;
        for c in self.layout.clients.iter().chain(&self.served) {
            if !(1..=4095).contains(c) {
                return Err(SimError::Option(format!(
                    "client id {c} is not in 1..=4095"
                )));
            }
            cl.clients.insert(
                *c,
                ClientState {
                    running: true,
                    applied: generation,
                },
            );
        }
        let data = folders.data_plane(self.sync, !self.served.is_empty(), cl.gid_prefix())?;
        let pending = store.pending()?;
        data.reconcile(&cl, &pending, &self.served);
        store.clear_pending();
        let core = Core {
            cl,
            settings: Settings {
                max_replication: self.max_replication,
                default_replication: self.default_replication,
                served: self.served,
                omit_empty_tags: self.omit_empty_tags,
                version: concat!(env!("CARGO_PKG_VERSION"), "-sim").to_owned(),
            },
            store: Some(Mutex::new(store)),
            data: Some(Arc::new(data)),
            open: HashSet::new(),
            clock_offset: 0,
            watch: crate::copies::Watch::default(),
            next_expiry: std::sync::Mutex::default(),
        };
        let identity = (
            core.cl.meta.cluster_name.clone(),
            format!("{}.{}", core.cl.meta.location_id, core.cl.meta.sub_id),
        );
        let (clients_changed, _) = watch::channel(0);
        let shared = Arc::new(Shared {
            core: RwLock::new(core),
            identity,
            copy_lane: Mutex::new(()),
            copy_hook: self.copy_hook,
            token,
            keep_alive: self.keep_alive,
            error_status: self.error_status,
            max_body: self.max_body,
            request_timeout: self.request_timeout,
            max_connections: self.max_connections,
            faults: Mutex::new(FaultState::new(self.faults)),
            clients_changed,
            _state_lock: state_lock,
            epoch: AtomicU64::new(0),
            listings: Mutex::default(),
        });
        Ok(SimService {
            handle: SimHandle {
                shared,
                state_dir: folders.state_dir,
                dev_root: folders.dev_root,
            },
            listen: self.listen,
            _temp: folders.state_tmp,
        })
    }

    /// Start on its own thread and runtime, listening on `127.0.0.1:0` (or
    /// [`SimBuilder::listen`]); usable from sync tests and from inside `#[tokio::test]`.
    pub fn start(self) -> Result<Sim, SimError> {
        let service = self.build()?;
        let listen = service.listen;
        let listener = std::net::TcpListener::bind(listen).map_err(|source| SimError::Listen {
            addr: listen.to_string(),
            source,
        })?;
        let addr = listener.local_addr().map_err(|source| SimError::Listen {
            addr: listen.to_string(),
            source,
        })?;
        listener.set_nonblocking(true).map_err(SimError::Runtime)?;
        let handle = service.handle();
        let (stop_tx, stop_rx) = oneshot::channel::<()>();
        let (ready_tx, ready_rx) = std::sync::mpsc::channel::<Result<(), std::io::Error>>();
        let thread = std::thread::Builder::new()
            .name("storpool-sim".to_owned())
            .spawn(move || {
                // One thread: every connection is served from one task anyway (see
                // `server::accept`) and blocking work goes to the blocking pool, so a second
                // worker only added wake-ups (`bench sim`, `Connection: close`, 16 clients:
                // 16,500 calls/s instead of 15,300, medians of six runs on a busy machine).
                let rt = match tokio::runtime::Builder::new_current_thread()
                    .thread_name("storpool-sim-worker")
                    .enable_all()
                    .build()
                {
                    Ok(rt) => rt,
                    Err(e) => {
                        let _ = ready_tx.send(Err(e));
                        return;
                    }
                };
                rt.block_on(async move {
                    let listener = match TcpListener::from_std(listener) {
                        Ok(l) => l,
                        Err(e) => {
                            let _ = ready_tx.send(Err(e));
                            return;
                        }
                    };
                    let _ = ready_tx.send(Ok(()));
                    service
                        .serve(listener, async {
                            let _ = stop_rx.await;
                        })
                        .await;
                });
            })
            .map_err(SimError::Runtime)?;
        match ready_rx.recv() {
            Ok(Ok(())) => {}
            Ok(Err(e)) => return Err(SimError::Runtime(e)),
            Err(_) => {
                return Err(SimError::Runtime(std::io::Error::other(
                    "the simulator thread stopped",
                )));
            }
        }
        Ok(Sim {
            handle,
            addr,
            stop: Some(stop_tx),
            thread: Some(thread),
        })
    }

    /// Build and serve on `listener` in the current runtime until `shutdown` completes.
    pub async fn serve(
        self,
        listener: TcpListener,
        shutdown: impl Future<Output = ()> + Send,
    ) -> Result<(), SimError> {
        self.build()?.serve(listener, shutdown).await;
        Ok(())
    }
}

/// A token clients can be asked for: not empty (an empty one would let every client in), and
/// fit to be sent in an HTTP header and written on one storpool.conf line, so only visible
/// ASCII characters (`!` to `~`) other than `\` (no blanks, line breaks, control or non-ASCII
/// characters). The error never repeats the token.
pub fn check_token(token: &str) -> Result<(), SimError> {
    let problem = if token.is_empty() {
        "the API token is empty: it would let every client in"
    } else if token.contains(['\n', '\r']) {
        "the token must be a single line"
    } else if !token.bytes().all(|b| b.is_ascii_graphic() && b != b'\\') {
        "the token may only hold visible ASCII characters (`!` to `~`) other than `\\`: no \
         blanks, control or non-ASCII characters"
    } else {
        return Ok(());
    };
    Err(SimError::Option(problem.to_owned()))
}

/// Error answers carry the error envelope, so their status must allow a body and must not
/// redirect: 200 (the "`error` member" mode) or 4xx/5xx.
pub fn check_error_status(status: u16) -> Result<(), SimError> {
    if status == 200 || (400..=599).contains(&status) {
        Ok(())
    } else {
        Err(SimError::Option(format!(
            "error status {status} cannot carry an error answer: use 200 or 400..=599"
        )))
    }
}

/// The state directory and the device root, ready.
struct Folders {
    state_dir: PathBuf,
    /// The temporary state directory, when the caller named none.
    state_tmp: Option<tempfile::TempDir>,
    dev_root: PathBuf,
}

impl Folders {
    /// Takes the state directory (see [`statedir::prepare`]; a temporary one when `None`) and
    /// makes the device root (default: `STATE/dev`, a folder of the simulator's own: never
    /// `/dev` unless the caller asks for it). Both paths come back absolute and resolved.
    fn prepare(state_dir: Option<PathBuf>, dev_root: Option<PathBuf>) -> Result<Self, SimError> {
        let (state_dir, state_tmp) = if let Some(dir) = state_dir {
            (dir, None)
        } else {
            let tmp = temp_dir("storpool-sim-state-")?;
            (tmp.path().to_owned(), Some(tmp))
        };
        let state_dir = statedir::prepare(&state_dir)?;
        let io = |path: &Path| {
            let path = path.to_owned();
            move |source| SimError::Io { path, source }
        };
        let dev_root = if let Some(dir) = dev_root {
            std::fs::create_dir_all(&dir).map_err(io(&dir))?;
            // Resolved once: links are made in the folder it names now.
            std::fs::canonicalize(&dir).map_err(io(&dir))?
        } else {
            let dir = state_dir.join(statedir::DEV_DIR);
            statedir::sub_dir(&dir).map_err(io(&dir))?;
            dir
        };
        Ok(Self {
            state_dir,
            state_tmp,
            dev_root,
        })
    }

    /// The data plane: `STATE/data` (see [`DataPlane::open`]) and the device folders under
    /// the device root (made when clients are served, `serve`).
    fn data_plane(
        &self,
        sync: bool,
        serve: bool,
        gid_prefix: String,
    ) -> Result<DataPlane, SimError> {
        let data_dir = self.state_dir.join(statedir::DATA_DIR);
        let links = DevLinks::open(&self.dev_root, &data_dir, serve)
            .map_err(|(path, source)| SimError::Io { path, source })?;
        DataPlane::open(&data_dir, links, sync, gid_prefix).map_err(|source| SimError::Io {
            path: data_dir.clone(),
            source,
        })
    }
}

fn temp_dir(prefix: &str) -> Result<tempfile::TempDir, SimError> {
    tempfile::Builder::new()
        .prefix(prefix)
        .tempdir()
        .map_err(|source| SimError::Io {
            path: std::env::temp_dir(),
            source,
        })
}

/// A random decimal token, like real ones.
fn random_token() -> String {
    let mut buf = [0u8; 8];
    let from_os = std::fs::File::open("/dev/urandom")
        .and_then(|mut f| std::io::Read::read_exact(&mut f, &mut buf))
        .is_ok();
    let n = if from_os {
        u64::from_le_bytes(buf)
    } else {
        use std::hash::{BuildHasher, Hasher};
        let mut h = std::collections::hash_map::RandomState::new().build_hasher();
        h.write_u128(
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_nanos()),
        );
        h.finish()
    };
    // 19 digits, like `1556129910218014736`.
    format!(
        "{}",
        1_000_000_000_000_000_000 + n % 8_000_000_000_000_000_000
    )
}

/// A new cluster from a layout: its disks and the `default` placement group holding all.
pub(crate) fn new_cluster(layout: &ClusterLayout) -> Cluster {
    let mut cl = Cluster::new(Meta {
        generation: 1,
        next_object: 0,
        next_template: 0,
        next_pg: 1,
        location_id: layout.location_id.clone(),
        sub_id: layout.sub_id.clone(),
        cluster_name: layout.name.clone(),
        created: unix_now(),
    });
    let mut all = BTreeSet::new();
    for s in 1..=layout.servers {
        for n in 1..=layout.disks_per_server {
            let id = s * 100 + n;
            all.insert(id);
            cl.load_disk(Disk {
                id,
                server: s,
                ssd: layout.ssd,
                size: layout.disk_size,
                model: if layout.ssd {
                    "SIM_SSD".into()
                } else {
                    "SIM_HDD".into()
                },
                serial: format!("SIM{id:05}"),
                description: String::new(),
                down_since: None,
            });
        }
    }
    cl.load_pg(PlacementGroup {
        id: 1,
        name: crate::DEFAULT_PLACEMENT_GROUP.to_owned(),
        disks: all.clone(),
    });
    for template in &layout.templates {
        if !cl.pgs.values().any(|pg| pg.name == template.placement) {
            cl.meta.next_pg += 1;
            cl.load_pg(PlacementGroup {
                id: cl.meta.next_pg,
                name: template.placement.clone(),
                disks: all.clone(),
            });
        }
        cl.meta.next_template += 1;
        cl.load_template(Template {
            id: cl.meta.next_template,
            name: template.name.clone(),
            parent: None,
            size: None,
            replication: Some(template.replication),
            place_all: Some(template.placement.clone()),
            place_tail: None,
            place_head: None,
            bw: None,
            iops: None,
            reuse_server: None,
            tags: crate::model::TagList::default(),
        });
    }
    cl
}

/// A built simulator, ready to serve in the caller's runtime.
pub struct SimService {
    handle: SimHandle,
    listen: SocketAddr,
    _temp: Option<tempfile::TempDir>,
}

impl fmt::Debug for SimService {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SimService")
            .field("handle", &self.handle)
            .finish_non_exhaustive()
    }
}

impl SimService {
    /// A handle to inspect and steer the simulator while it serves.
    pub fn handle(&self) -> SimHandle {
        self.handle.clone()
    }

    /// Serve on `listener` until `shutdown` completes. Temporary folders made by the builder
    /// are removed when this returns.
    pub async fn serve(self, listener: TcpListener, shutdown: impl Future<Output = ()> + Send) {
        server::serve(self.handle.shared.clone(), listener, shutdown).await;
    }
}

/// A cheap, cloneable handle to a simulator's state and switches.
#[derive(Clone)]
pub struct SimHandle {
    shared: Arc<Shared>,
    state_dir: PathBuf,
    dev_root: PathBuf,
}

impl fmt::Debug for SimHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SimHandle")
            .field("token", &"<redacted>")
            .field("state_dir", &self.state_dir)
            .field("dev_root", &self.dev_root)
            .finish_non_exhaustive()
    }
}

impl SimHandle {
    /// The API token.
    pub fn token(&self) -> &str {
        self.shared.token.expose_secret()
    }

    /// The state directory (absolute, with symbolic links resolved).
    pub fn state_dir(&self) -> &Path {
        &self.state_dir
    }

    /// The device root (`DEVROOT/storpool/NAME`, `DEVROOT/storpool-byid/GLOBALID`), absolute,
    /// with symbolic links resolved.
    pub fn dev_root(&self) -> &Path {
        &self.dev_root
    }

    /// Replace the fault settings (the generator restarts from the new seed).
    pub fn set_faults(&self, faults: Faults) {
        self.shared
            .faults
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .set(faults);
    }

    /// The current fault settings (scripted errors show their remaining counts).
    pub fn faults(&self) -> Faults {
        self.shared
            .faults
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .faults
            .clone()
    }

    /// Add a scripted error.
    pub fn inject_error(&self, error: InjectedError) {
        self.shared
            .faults
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .faults
            .errors
            .push(error);
    }

    /// Mark the device of `name` (a name or `~globalId`) as open, or closed, on `client`:
    /// while open, a detach without `force` answers `busy` with `'NAME' is open at client ID`.
    pub fn set_device_open(&self, name: &str, client: u16, open: bool) {
        let mut core = self.shared.write_core();
        let key = (name.to_owned(), client);
        if open {
            core.open.insert(key);
        } else {
            core.open.remove(&key);
        }
    }

    /// Bring a registered client up or down (a down client does not apply configuration
    /// changes, so `VolumesReassignWait` and `ClientConfigWait` wait for it). An unknown id
    /// is registered.
    pub fn set_client_running(&self, client: u16, running: bool) {
        {
            let mut core = self.shared.write_core();
            let generation = core.cl.meta.generation;
            let c = core.cl.clients.entry(client).or_insert(ClientState {
                running,
                applied: 0,
            });
            c.running = running;
            if running {
                c.applied = generation;
            }
        }
        self.shared.clients_changed.send_modify(|n| *n += 1);
    }

    /// Move the simulator's clock (used for `deleteAfter`/`targetDeleteDate`) forward by
    /// `seconds`, then delete the snapshots that became due.
    pub fn advance_clock(&self, seconds: i64) {
        let mut core = self.shared.write_core();
        core.clock_offset += seconds;
        core.expire();
    }

    /// A copy of the cluster state.
    pub fn state(&self) -> ClusterState {
        let core = self.shared.read_core();
        let data = core.data.as_deref();
        state::capture(&core.cl, |gid| {
            data.map(|d| d.path(gid)).filter(|p| p.exists())
        })
    }

    /// The data file of a volume or snapshot (name or `~globalId`), if it holds data.
    pub fn data_path(&self, name: &str) -> Option<PathBuf> {
        let core = self.shared.read_core();
        let o = match name.strip_prefix('~') {
            Some(gid) => core.cl.by_gid(gid),
            None => core.cl.by_name(name),
        }?;
        core.data
            .as_ref()
            .map(|d| d.path(&o.gid))
            .filter(|p| p.exists())
    }

    /// Make an API call in-process (no HTTP, no faults, no waiting): `path` is the part after
    /// `/ctrl/1.0/`, e.g. `VolumeCreate` or `Volume/os--volume-1`. Returns the `data` member.
    pub fn call(&self, method: &str, path: &str, body: Option<Value>) -> Result<Value, SimError> {
        let m = match method {
            "GET" | "get" => Method::Get,
            "POST" | "post" => Method::Post,
            other => return Err(SimError::Option(format!("unsupported method {other}"))),
        };
        let full = if path.starts_with(server::PREFIX) {
            path.to_owned()
        } else {
            format!("{}{}", server::PREFIX, path.trim_start_matches('/'))
        };
        let routed =
            server::route(m, &full, || self.shared.cluster_identity()).map_err(SimError::Api)?;
        let answer = self.shared.execute(routed.def, &routed.args, body);
        answer.result.map(Data::into_value).map_err(SimError::Api)
    }

    /// Create a template (`replication` and `placeAll`; `None` leaves them unset).
    pub fn seed_template(
        &self,
        name: &str,
        replication: Option<u8>,
        place_all: Option<&str>,
    ) -> Result<(), SimError> {
        let mut body = serde_json::Map::new();
        body.insert("name".into(), name.into());
        if let Some(r) = replication {
            body.insert("replication".into(), r.into());
        }
        if let Some(p) = place_all {
            body.insert("placeAll".into(), p.into());
        }
        self.call("POST", "VolumeTemplateCreate", Some(Value::Object(body)))
            .map(|_| ())
    }

    /// Create a volume from a template, or with replication 3 without one; returns its
    /// global id.
    pub fn seed_volume(
        &self,
        name: &str,
        size: u64,
        template: Option<&str>,
    ) -> Result<String, SimError> {
        let mut body = serde_json::Map::new();
        body.insert("name".into(), name.into());
        body.insert("size".into(), size.into());
        match template {
            Some(t) => body.insert("template".into(), t.into()),
            None => body.insert("replication".into(), 3.into()),
        };
        let r = self.call("POST", "VolumeCreate", Some(Value::Object(body)))?;
        Ok(r.get("globalId")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned())
    }

    /// Tags of every object, by name (a convenience for assertions).
    pub fn tags(&self, name: &str) -> Option<BTreeMap<String, String>> {
        let core = self.shared.read_core();
        core.cl.by_name(name).map(|o| o.tags.to_map())
    }
}

/// A running simulator on its own thread; dropping it stops the server.
pub struct Sim {
    handle: SimHandle,
    addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl fmt::Debug for Sim {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sim")
            .field("addr", &self.addr)
            .field("handle", &self.handle)
            .finish_non_exhaustive()
    }
}

impl Sim {
    /// Options, starting from the defaults.
    pub fn builder() -> SimBuilder {
        SimBuilder::new()
    }

    /// Start with the default options.
    pub fn start() -> Result<Self, SimError> {
        SimBuilder::new().start()
    }

    /// `http://127.0.0.1:PORT`.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The listening address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The listening port.
    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    /// A handle that outlives borrows of the `Sim` (e.g. to move into another thread).
    pub fn handle(&self) -> SimHandle {
        self.handle.clone()
    }

    /// A storpool.conf text pointing at this simulator (`SP_OURID` = `our_id`).
    pub fn storpool_conf(&self, our_id: Option<u16>) -> String {
        crate::storpool_conf_text(
            &self.addr.ip().to_string(),
            self.port(),
            self.token(),
            our_id,
        )
    }
}

impl std::ops::Deref for Sim {
    type Target = SimHandle;
    fn deref(&self) -> &SimHandle {
        &self.handle
    }
}

impl Drop for Sim {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl From<ApiErr> for SimError {
    fn from(e: ApiErr) -> Self {
        SimError::Api(e)
    }
}
