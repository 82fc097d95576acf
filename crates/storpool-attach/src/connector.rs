//! The connector: attach, detach and resize on this node, and what is attached here.

use std::future::Future;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use storpool_api::{
    ApiError, Attachment, Client, ClientId, Detach, GlobalId, ReassignEntry, ReassignWait,
    SnapshotReassign, SnapshotRef, VolumeRef,
};
use storpool_conf::{ConfError, Config, SP_OURID};

use crate::device::{self, DeviceRoot, DeviceTarget};
use crate::error::{AttachError, describe_holders};
use crate::naming::Naming;
use crate::options::{DetachOptions, DetachRetry};
use crate::props::{ConnectionProperties, DeviceInfo};
use crate::target::{AccessMode, ObjectKind, Target};
use crate::wait::{WaitOptions, wait_until, wait_until_watching};

/// How often a resize wait looks at the device size when no notification arrives (a block
/// device's size change sends none). os-brick looks every 0.1 s.
const RESIZE_RECHECK: Duration = Duration::from_millis(100);

/// Deadlines beyond this are treated as this (no overflow of `Instant`).
const MAX_TIMEOUT: Duration = Duration::from_hours(365 * 24);

/// Attaches and detaches StorPool volumes and snapshots on this node (the client `SP_OURID`),
/// waits for the devices `storpool_block` creates, and follows resizes.
///
/// Volumes and snapshots are named by orchestrator id ([`Target`]); the cluster names are
/// `{prefix}--volume-{id}` and `{prefix}--snap--none--snapshot-{id}`. API calls use the
/// `MultiCluster/` paths, as os-brick does. Cheap to clone.
#[derive(Clone, Debug)]
pub struct Connector {
    client: Client,
    our_id: ClientId,
    naming: Naming,
    root: DeviceRoot,
    wait: WaitOptions,
    attach_timeout: Option<Duration>,
    detach_retry: DetachRetry,
}

/// A volume or snapshot attached on this node, ready for I/O.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Attached {
    /// Volume or snapshot.
    pub kind: ObjectKind,
    /// The cluster name.
    pub name: String,
    /// The global id.
    pub global_id: String,
    /// The device to use: `DEVROOT/storpool-byid/GLOBALID` (what os-brick returns).
    pub path: PathBuf,
    /// The name link: `DEVROOT/storpool/NAME`.
    pub name_path: PathBuf,
    /// The access this node holds now (`rw` when it held `rw` and `ro` was asked for).
    pub access_mode: AccessMode,
    /// Whether this call attached (or upgraded) anything; `false` when it was already
    /// attached here with enough rights.
    pub changed: bool,
    /// How long it waited for the device after the cluster had attached it.
    pub waited: Duration,
    /// How long the whole call took.
    pub elapsed: Duration,
}

impl Attached {
    /// The os-brick-shaped result, `{"type": "block", "path": ...}`.
    pub fn device_info(&self) -> DeviceInfo {
        DeviceInfo::block(&self.path)
    }
}

/// The outcome of a detach.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Detached {
    /// Volume or snapshot (a volume when nothing was attached).
    pub kind: ObjectKind,
    /// The cluster name, or `~GLOBALID` when only the global id is known.
    pub name: String,
    /// The global id, when known.
    pub global_id: Option<String>,
    /// Whether anything was detached; `false` when it was not attached here.
    pub changed: bool,
    /// Whether the detach was forced (the device was open, or `force` was asked for).
    pub forced: bool,
    /// How many times the detach was sent (0 when it was not attached here).
    pub attempts: u32,
    /// How long it waited for the device links to go away.
    pub waited: Duration,
    /// How long the whole call took.
    pub elapsed: Duration,
}

/// A volume's new size as the local device shows it.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Extended {
    /// The cluster name.
    pub name: String,
    /// The local device, `DEVROOT/storpool/NAME`.
    pub path: PathBuf,
    /// The size in bytes, as the cluster reports it and the local device shows it.
    pub size: u64,
    /// How long it waited for the local device to show it.
    pub waited: Duration,
}

/// A volume or snapshot attached to this node's client, as the cluster lists it.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct NodeAttachment {
    /// Volume or snapshot.
    pub kind: ObjectKind,
    /// The orchestrator id, when the name is one of this prefix's names of that kind.
    pub id: Option<String>,
    /// The cluster name (or `~GLOBALID`).
    pub name: String,
    /// The global id, when the cluster lists it.
    pub global_id: Option<String>,
    /// The rights; `None` for a value this crate does not know.
    pub access_mode: Option<AccessMode>,
    /// `DEVROOT/storpool-byid/GLOBALID`, when the global id is known.
    pub path: Option<PathBuf>,
    /// `DEVROOT/storpool/NAME`, when the name can name a file.
    pub name_path: Option<PathBuf>,
    /// Whether the device links exist on this node.
    pub present: bool,
}

/// One attachment anywhere in the cluster ([`Connector::list_all_nodes`]).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct ClusterAttachment {
    /// The client (node) it is attached to.
    pub client: u32,
    /// Whether that client is this node's.
    pub here: bool,
    /// Volume or snapshot.
    pub kind: ObjectKind,
    /// The orchestrator id, when the name is one of this prefix's names of that kind.
    pub id: Option<String>,
    /// The cluster name (or `~GLOBALID`).
    pub name: String,
    /// The global id, when the cluster lists it.
    pub global_id: Option<String>,
    /// The rights; `None` for a value this crate does not know.
    pub access_mode: Option<AccessMode>,
}

/// A deadline counted from the start of an operation.
#[derive(Clone, Copy, Debug)]
struct Deadline {
    started: Instant,
    at: Instant,
}

impl Deadline {
    fn after(timeout: Duration) -> Self {
        let started = Instant::now();
        let at = started
            .checked_add(timeout.min(MAX_TIMEOUT))
            .unwrap_or(started);
        Self { started, at }
    }

    fn remaining(&self) -> Duration {
        self.at.saturating_duration_since(Instant::now())
    }

    fn elapsed(&self) -> Duration {
        self.started.elapsed()
    }

    /// Wait options for what is left, with `recheck` as the safety-net interval.
    fn wait_options(&self, recheck: Duration) -> WaitOptions {
        WaitOptions {
            timeout: self.remaining(),
            recheck,
        }
    }
}

/// How a detach names what it detaches.
enum Lookup {
    /// A cluster name, of a known kind or (from a `DEVROOT/storpool/NAME` path) of either.
    Name {
        name: String,
        kind: Option<ObjectKind>,
    },
    /// A global id (from a `DEVROOT/storpool-byid/GLOBALID` path).
    GlobalId(GlobalId),
}

impl Lookup {
    fn matches(&self, attachment: &Attachment) -> bool {
        match self {
            Self::Name { name, kind } => {
                attachment.volume == *name
                    && kind.is_none_or(|kind| kind.is_snapshot() == attachment.snapshot)
            }
            Self::GlobalId(id) => {
                attachment.global_id.as_deref() == Some(id.as_str())
                    || attachment.volume.strip_prefix('~') == Some(id.as_str())
            }
        }
    }

    /// How the API refers to it: the name, or `~GLOBALID` (as os-brick does for by-id paths).
    fn api_ref(&self) -> String {
        match self {
            Self::Name { name, .. } => name.clone(),
            Self::GlobalId(id) => format!("~{id}"),
        }
    }
}

/// Whether `name` can be a single path component (a name the server made could be anything).
fn kind_of(attachment: &Attachment) -> ObjectKind {
    if attachment.snapshot {
        ObjectKind::Snapshot
    } else {
        ObjectKind::Volume
    }
}

fn device_opens(path: &Path, mode: AccessMode) -> bool {
    match mode {
        AccessMode::Ro => device::can_open(path),
        AccessMode::Rw => device::can_open_for_writing(path),
    }
}

impl Connector {
    /// A connector for client `our_id` with the defaults: prefix `os`, devices under `/dev`,
    /// [`WaitOptions::default`], [`DetachRetry::default`], `attachTimeout` derived from the
    /// wait's timeout. The client is switched to `MultiCluster/` paths.
    ///
    /// ```
    /// use storpool_attach::{ClientId, Connector};
    ///
    /// let client = storpool_api::Client::builder().base_url("http://10.0.0.5:81").token("1234").build()?;
    /// let connector = Connector::new(&client, ClientId::new(3)?);
    /// assert_eq!(connector.prefix(), "os");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn new(client: &Client, our_id: ClientId) -> Self {
        Self {
            client: client.with_multi_cluster(true),
            our_id,
            naming: Naming::default(),
            root: DeviceRoot::default(),
            wait: WaitOptions::default(),
            attach_timeout: None,
            detach_retry: DetachRetry::default(),
        }
    }

    /// A connector for this node as storpool.conf describes it: `SP_OURID` (required: a node
    /// without it cannot attach anything) and `SP_OPENSTACK_VOLUME_PREFIX` (default `os`).
    ///
    /// ```no_run
    /// let config = storpool_conf::Loader::system().load()?;
    /// let client = storpool_api::Client::from_conf(&config)?;
    /// let connector = storpool_attach::Connector::from_conf(&config, &client)?; // needs SP_OURID
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn from_conf(config: &Config, client: &Client) -> Result<Self, AttachError> {
        let our_id = config
            .our_id()
            .map_err(AttachError::Config)?
            .ok_or_else(|| {
                AttachError::Config(ConfError::Missing {
                    variable: SP_OURID.to_owned(),
                    section: config.section().to_owned(),
                })
            })?;
        let our_id = ClientId::new(u64::from(our_id)).map_err(|source| AttachError::Api {
            action: format!("{SP_OURID} `{our_id}` is not a client id"),
            source: Box::new(source),
        })?;
        Self::new(client, our_id).with_prefix(config.volume_prefix())
    }

    /// Uses another volume prefix; it must be usable in a cluster name.
    ///
    /// ```
    /// # let client = storpool_api::Client::builder().base_url("http://127.0.0.1:81").token("t").build()?;
    /// # let connector = storpool_attach::Connector::new(&client, storpool_attach::ClientId::new(3)?);
    /// let connector = connector.with_prefix("cloud2")?;
    /// assert_eq!(connector.prefix(), "cloud2");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn with_prefix(mut self, prefix: &str) -> Result<Self, AttachError> {
        self.naming = Naming::new(prefix)?;
        Ok(self)
    }

    /// Looks for devices under `root` instead of `/dev`.
    ///
    /// ```
    /// # let client = storpool_api::Client::builder().base_url("http://127.0.0.1:81").token("t").build()?;
    /// # let connector = storpool_attach::Connector::new(&client, storpool_attach::ClientId::new(3)?);
    /// let connector = connector.with_device_root(storpool_attach::DeviceRoot::new("/srv/dev"));
    /// assert_eq!(connector.search_path(), std::path::Path::new("/srv/dev/storpool"));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn with_device_root(mut self, root: DeviceRoot) -> Self {
        self.root = root;
        self
    }

    /// How long attach, detach and resize wait (for the API and for devices), and how often
    /// they look again without a notification.
    ///
    /// ```
    /// use std::time::Duration;
    /// use storpool_attach::WaitOptions;
    /// # let client = storpool_api::Client::builder().base_url("http://127.0.0.1:81").token("t").build()?;
    /// # let connector = storpool_attach::Connector::new(&client, storpool_attach::ClientId::new(3)?);
    /// let connector = connector.with_wait(WaitOptions { timeout: Duration::from_secs(30), ..WaitOptions::default() });
    /// assert_eq!(connector.wait_options().timeout, Duration::from_secs(30));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn with_wait(mut self, wait: WaitOptions) -> Self {
        self.wait = wait;
        self
    }

    /// The `attachTimeout` sent with every reassign, in whole seconds: how long the cluster
    /// waits for a client that is not up. Default: what is left of the wait's timeout, so
    /// that a missing client cannot hang the call.
    ///
    /// ```
    /// # let client = storpool_api::Client::builder().base_url("http://127.0.0.1:81").token("t").build()?;
    /// # let connector = storpool_attach::Connector::new(&client, storpool_attach::ClientId::new(3)?);
    /// let connector = connector.with_attach_timeout(std::time::Duration::from_secs(10));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn with_attach_timeout(mut self, timeout: Duration) -> Self {
        self.attach_timeout = Some(timeout);
        self
    }

    /// How detaches of open devices are retried.
    ///
    /// ```
    /// # let client = storpool_api::Client::builder().base_url("http://127.0.0.1:81").token("t").build()?;
    /// # let connector = storpool_attach::Connector::new(&client, storpool_attach::ClientId::new(3)?);
    /// let connector = connector.with_detach_retry(storpool_attach::DetachRetry::none());
    /// assert_eq!(connector.detach_retry().max_attempts(), 1);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn with_detach_retry(mut self, retry: DetachRetry) -> Self {
        self.detach_retry = retry;
        self
    }

    /// This node's client id.
    ///
    /// ```
    /// # let client = storpool_api::Client::builder().base_url("http://127.0.0.1:81").token("t").build()?;
    /// # let connector = storpool_attach::Connector::new(&client, storpool_attach::ClientId::new(3)?);
    /// assert_eq!(connector.our_id().get(), 3);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn our_id(&self) -> ClientId {
        self.our_id
    }

    /// The volume prefix.
    ///
    /// ```
    /// # let client = storpool_api::Client::builder().base_url("http://127.0.0.1:81").token("t").build()?;
    /// # let connector = storpool_attach::Connector::new(&client, storpool_attach::ClientId::new(3)?);
    /// assert_eq!(connector.prefix(), "os");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn prefix(&self) -> &str {
        self.naming.prefix()
    }

    /// The device root.
    ///
    /// ```
    /// # let client = storpool_api::Client::builder().base_url("http://127.0.0.1:81").token("t").build()?;
    /// # let connector = storpool_attach::Connector::new(&client, storpool_attach::ClientId::new(3)?);
    /// assert_eq!(connector.device_root().path(), std::path::Path::new("/dev"));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn device_root(&self) -> &DeviceRoot {
        &self.root
    }

    /// The wait options.
    ///
    /// ```
    /// # let client = storpool_api::Client::builder().base_url("http://127.0.0.1:81").token("t").build()?;
    /// # let connector = storpool_attach::Connector::new(&client, storpool_attach::ClientId::new(3)?);
    /// let wait = connector.wait_options();
    /// assert!(wait.timeout > wait.recheck);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn wait_options(&self) -> WaitOptions {
        self.wait
    }

    /// The detach retry policy.
    ///
    /// ```
    /// # let client = storpool_api::Client::builder().base_url("http://127.0.0.1:81").token("t").build()?;
    /// # let connector = storpool_attach::Connector::new(&client, storpool_attach::ClientId::new(3)?);
    /// assert_eq!(connector.detach_retry().max_attempts(), 11); // os-brick's 10 retries
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn detach_retry(&self) -> DetachRetry {
        self.detach_retry
    }

    /// The API client (in `MultiCluster/` mode).
    ///
    /// ```
    /// # let client = storpool_api::Client::builder().base_url("http://127.0.0.1:81").token("t").build()?;
    /// # let connector = storpool_attach::Connector::new(&client, storpool_attach::ClientId::new(3)?);
    /// assert!(connector.client().is_multi_cluster());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// The cluster name of a volume or snapshot.
    ///
    /// ```
    /// # let client = storpool_api::Client::builder().base_url("http://127.0.0.1:81").token("t").build()?;
    /// # let connector = storpool_attach::Connector::new(&client, storpool_attach::ClientId::new(3)?);
    /// use storpool_attach::Target;
    /// assert_eq!(connector.cluster_name(&Target::volume("1"))?, "os--volume-1");
    /// assert_eq!(connector.cluster_name(&Target::snapshot("s"))?, "os--snap--none--snapshot-s");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn cluster_name(&self, target: &Target) -> Result<String, AttachError> {
        self.naming.name(target)
    }

    /// The folder os-brick's "search path" names: `DEVROOT/storpool`.
    ///
    /// ```
    /// # let client = storpool_api::Client::builder().base_url("http://127.0.0.1:81").token("t").build()?;
    /// # let connector = storpool_attach::Connector::new(&client, storpool_attach::ClientId::new(3)?);
    /// assert_eq!(connector.search_path(), std::path::Path::new("/dev/storpool"));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn search_path(&self) -> PathBuf {
        self.root.by_name_dir()
    }

    /// Attaches a volume (read-write or read-only) or a snapshot (read-only) to this node and
    /// waits until the device is there: both links exist and the device opens for the access
    /// asked for. Nothing is changed when it is already attached here with enough rights;
    /// read-only held and read-write asked is an upgrade.
    ///
    /// Steps: `AttachmentsList`; `VolumesReassignWait` with `attachTimeout`;
    /// `VolumeGetInfo`/`SnapshotGetInfo` for the global id (unless the listing had it); the
    /// device wait. The whole call ends by the wait's timeout.
    ///
    /// ```no_run
    /// # async fn run(connector: storpool_attach::Connector) -> Result<(), Box<dyn std::error::Error>> {
    /// use storpool_attach::{AccessMode, Target};
    ///
    /// let attached = connector.connect(&Target::volume("1234"), AccessMode::Rw).await?;
    /// println!("{} after {:?}", attached.path.display(), attached.waited);
    /// # Ok(())
    /// # }
    /// ```
    pub async fn connect(
        &self,
        target: &Target,
        mode: AccessMode,
    ) -> Result<Attached, AttachError> {
        let span = tracing::info_span!(
            "connect", volume = %target.id, kind = %target.kind, client = %self.our_id, %mode
        );
        tracing::Instrument::instrument(self.connect_in(target, mode), span).await
    }

    async fn connect_in(&self, target: &Target, mode: AccessMode) -> Result<Attached, AttachError> {
        let deadline = Deadline::after(self.wait.timeout);
        if target.kind.is_snapshot() && mode == AccessMode::Rw {
            return Err(AttachError::SnapshotReadOnly {
                id: target.id.clone(),
            });
        }
        let name = self.naming.name(target)?;
        let kind = target.kind;
        let held = self
            .our_attachments(deadline)
            .await?
            .into_iter()
            .find(|a| a.volume == name && a.snapshot == kind.is_snapshot());
        let held_mode = held
            .as_ref()
            .and_then(|a| AccessMode::from_rights(a.rights));
        let (access_mode, changed) = match held_mode {
            Some(held) if held.covers(mode) => (held, false),
            _ => (mode, true),
        };
        if changed {
            let entry = match kind {
                ObjectKind::Volume => {
                    ReassignEntry::attach_volume(volume_ref(&name)?, self.our_id, mode.rights())
                }
                ObjectKind::Snapshot => {
                    ReassignEntry::attach_snapshot(snapshot_ref(&name)?, self.our_id)
                }
            };
            tracing::debug!(%name, client = %self.our_id, %mode, upgrade = held_mode.is_some(), "attaching");
            self.reassign(deadline, entry, || {
                format!("cannot attach {kind} `{name}` to client {}", self.our_id)
            })
            .await?;
        } else {
            tracing::debug!(%name, client = %self.our_id, held = %access_mode, "already attached here");
        }
        let global_id = match held.and_then(|a| a.global_id) {
            Some(id) => id,
            None => self.global_id_of(kind, &name, deadline).await?,
        };
        if GlobalId::new(global_id.as_str()).is_err() {
            return Err(AttachError::InvalidGlobalId { name, global_id });
        }
        let path = self.root.by_id(&global_id);
        let name_path = self.root.by_name(&name);
        let device_wait = Instant::now();
        wait_until(&self.root, deadline.wait_options(self.wait.recheck), || {
            name_path.exists() && device_opens(&path, mode)
        })
        .await
        .map_err(|_| AttachError::Timeout {
            waiting_for: format!(
                "{} and {} to appear and open {}",
                path.display(),
                name_path.display(),
                match mode {
                    AccessMode::Rw => "for writing",
                    AccessMode::Ro => "for reading",
                }
            ),
            waited: deadline.elapsed(),
        })?;
        let waited = device_wait.elapsed();
        let elapsed = deadline.elapsed();
        tracing::info!(
            %name, path = %path.display(), %access_mode, changed,
            device_wait_ms = waited.as_secs_f64() * 1e3,
            total_ms = elapsed.as_secs_f64() * 1e3,
            "attached"
        );
        Ok(Attached {
            kind,
            name,
            global_id,
            path,
            name_path,
            access_mode,
            changed,
            waited,
            elapsed,
        })
    }

    /// [`Connector::connect`] from os-brick-style connection data: `client_id`, `volume` and
    /// `access_mode` are required, in that order. The volume is attached to this node's
    /// client; a different `client_id` is logged as a warning (os-brick ignores it).
    ///
    /// ```no_run
    /// # async fn run(connector: storpool_attach::Connector) -> Result<(), Box<dyn std::error::Error>> {
    /// use storpool_attach::ConnectionProperties;
    ///
    /// // The `data` of the driver's connection info, as Cinder hands it to os-brick.
    /// let data = serde_json::json!({"client_id": 3, "volume": "1234", "access_mode": "rw"});
    /// let attached = connector.connect_properties(&ConnectionProperties::from_json(&data)?).await?;
    /// # Ok(())
    /// # }
    /// ```
    pub async fn connect_properties(
        &self,
        properties: &ConnectionProperties,
    ) -> Result<Attached, AttachError> {
        let client = properties.require_client_id()?;
        let volume = properties.require_volume()?;
        let mode = properties.require_access_mode()?;
        if client != self.our_id {
            tracing::warn!(
                %client, ours = %self.our_id,
                "the connection data names another client id; attaching to this node's"
            );
        }
        self.connect(&Target::volume(volume), mode).await
    }

    /// Detaches a volume or snapshot from this node. Succeeds without doing anything when it
    /// is not attached here. A device that is open is retried as the [`DetachRetry`] policy
    /// says; then waits until the device links are gone.
    ///
    /// ```no_run
    /// # async fn run(connector: storpool_attach::Connector) -> Result<(), Box<dyn std::error::Error>> {
    /// use storpool_attach::{DetachOptions, Target};
    ///
    /// let detached = connector.disconnect(&Target::volume("1234"), DetachOptions::default()).await?;
    /// println!("detached: {}, forced: {}", detached.changed, detached.forced);
    /// # Ok(())
    /// # }
    /// ```
    pub async fn disconnect(
        &self,
        target: &Target,
        options: DetachOptions,
    ) -> Result<Detached, AttachError> {
        let name = self.naming.name(target)?;
        self.detach(
            Lookup::Name {
                name,
                kind: Some(target.kind),
            },
            options,
        )
        .await
    }

    /// Detaches the volume or snapshot behind a device path: `DEVROOT/storpool-byid/GLOBALID`
    /// (sent as `~GLOBALID`) or `DEVROOT/storpool/NAME`; any other path is refused.
    ///
    /// ```no_run
    /// # async fn run(connector: storpool_attach::Connector) -> Result<(), Box<dyn std::error::Error>> {
    /// use std::path::Path;
    /// use storpool_attach::DetachOptions;
    ///
    /// connector
    ///     .disconnect_path(Path::new("/dev/storpool-byid/d.n.a1z"), DetachOptions::default())
    ///     .await?;
    /// # Ok(())
    /// # }
    /// ```
    pub async fn disconnect_path(
        &self,
        device: &Path,
        options: DetachOptions,
    ) -> Result<Detached, AttachError> {
        let lookup = match self.root.target_of(device) {
            Some(DeviceTarget::Name(name)) => Lookup::Name { name, kind: None },
            Some(DeviceTarget::GlobalId(id)) => {
                Lookup::GlobalId(GlobalId::new(id).map_err(|source| AttachError::Api {
                    action: format!("cannot detach {}", device.display()),
                    source: Box::new(source),
                })?)
            }
            None => {
                return Err(AttachError::UnexpectedDevicePath {
                    path: device.to_owned(),
                    root: self.root.path().to_owned(),
                });
            }
        };
        self.detach(lookup, options).await
    }

    /// [`Connector::disconnect_path`] from os-brick-style connection data: `client_id` is
    /// required; the device is `device_path`, else the `path` of what connect returned.
    ///
    /// ```no_run
    /// # async fn run(connector: storpool_attach::Connector) -> Result<(), Box<dyn std::error::Error>> {
    /// use storpool_attach::{ConnectionProperties, DetachOptions};
    ///
    /// let data = serde_json::json!({"client_id": 3, "volume": "1234", "access_mode": "rw"});
    /// let properties = ConnectionProperties::from_json(&data)?;
    /// connector.disconnect_properties(&properties, None, DetachOptions::default()).await?;
    /// # Ok(())
    /// # }
    /// ```
    pub async fn disconnect_properties(
        &self,
        properties: &ConnectionProperties,
        device_info: Option<&DeviceInfo>,
        options: DetachOptions,
    ) -> Result<Detached, AttachError> {
        properties.require_client_id()?;
        let path = properties
            .device_path
            .as_deref()
            .or_else(|| device_info.map(|info| info.path.as_path()))
            .ok_or(AttachError::MissingField {
                field: "device_path",
            })?;
        self.disconnect_path(path, options).await
    }

    /// After a volume was resized on the cluster, waits until the local device
    /// (`DEVROOT/storpool/NAME`) shows the size the cluster reports, and returns it. Unlike
    /// os-brick, which returns whatever size it saw last, a device that does not catch up
    /// by the deadline is an error.
    ///
    /// ```no_run
    /// # async fn run(connector: storpool_attach::Connector) -> Result<(), Box<dyn std::error::Error>> {
    /// let extended = connector.extend("1234").await?;
    /// println!("{} now shows {} bytes", extended.path.display(), extended.size);
    /// # Ok(())
    /// # }
    /// ```
    pub async fn extend(&self, volume_id: &str) -> Result<Extended, AttachError> {
        let span = tracing::info_span!("extend", volume = %volume_id, client = %self.our_id);
        tracing::Instrument::instrument(self.extend_in(volume_id), span).await
    }

    async fn extend_in(&self, volume_id: &str) -> Result<Extended, AttachError> {
        let deadline = Deadline::after(self.wait.timeout);
        let name = self.naming.name(&Target::volume(volume_id))?;
        let volume = volume_ref(&name)?;
        let size = self
            .api(
                deadline,
                "Volume",
                || format!("cannot read the size of volume `{name}`"),
                self.client.volumes().get(&volume),
            )
            .await?
            .size;
        let path = self.root.by_name(&name);
        let Ok(device) = std::fs::canonicalize(&path) else {
            return Err(AttachError::NotAttached { name, path });
        };
        let options = deadline.wait_options(self.wait.recheck.min(RESIZE_RECHECK));
        let waited = wait_until_watching(&self.root, &[device], options, || {
            device::device_size(&path).is_ok_and(|local| local == size)
        })
        .await
        .map_err(|_| AttachError::SizeMismatch {
            local: device::device_size(&path).ok(),
            name: name.clone(),
            path: path.clone(),
            expected: size,
            waited: deadline.elapsed(),
        })?;
        tracing::info!(%name, size, wait_ms = waited.as_secs_f64() * 1e3, "the local device shows the new size");
        Ok(Extended {
            name,
            path,
            size,
            waited,
        })
    }

    /// The devices of a volume (os-brick's `get_volume_paths`): `[DEVROOT/storpool/NAME]`.
    /// `volume` is required; a `device_path` other than that one (or than the by-id link of
    /// the same device) is an error.
    ///
    /// ```
    /// # let client = storpool_api::Client::builder().base_url("http://127.0.0.1:81").token("t").build()?;
    /// # let connector = storpool_attach::Connector::new(&client, storpool_attach::ClientId::new(3)?);
    /// let data = serde_json::json!({"client_id": 3, "volume": "1234", "access_mode": "rw"});
    /// let properties = storpool_attach::ConnectionProperties::from_json(&data)?;
    /// assert_eq!(connector.volume_paths(&properties)?, [std::path::PathBuf::from("/dev/storpool/os--volume-1234")]);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn volume_paths(
        &self,
        properties: &ConnectionProperties,
    ) -> Result<Vec<PathBuf>, AttachError> {
        let name = self
            .naming
            .name(&Target::volume(properties.require_volume()?))?;
        let path = self.root.by_name(&name);
        if let Some(given) = &properties.device_path {
            let same_device = || {
                matches!(self.root.target_of(given), Some(DeviceTarget::GlobalId(_)))
                    && std::fs::canonicalize(given)
                        .is_ok_and(|a| std::fs::canonicalize(&path).is_ok_and(|b| a == b))
            };
            if *given != path && !same_device() {
                return Err(AttachError::PathMismatch {
                    expected: path,
                    given: given.clone(),
                });
            }
        }
        Ok(vec![path])
    }

    /// The ids of this prefix's volumes whose device links are present on this node
    /// (os-brick's `get_all_available_volumes`): the symlinks in `DEVROOT/storpool` named
    /// `{prefix}--volume-ID`, sorted. No API call.
    ///
    /// ```no_run
    /// # let client = storpool_api::Client::builder().base_url("http://127.0.0.1:81").token("t").build()?;
    /// # let connector = storpool_attach::Connector::new(&client, storpool_attach::ClientId::new(3)?);
    /// for id in connector.available_volumes()? {
    ///     println!("{id} has its device here");
    /// }
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn available_volumes(&self) -> Result<Vec<String>, AttachError> {
        let start = self.naming.volume_name_start();
        let names = self
            .root
            .names_with_prefix(&start)
            .map_err(|source| AttachError::Device {
                path: self.root.by_name_dir(),
                source,
            })?;
        Ok(names
            .into_iter()
            .filter(|name| !self.root.by_name(name).is_dir())
            .filter_map(|name| {
                self.naming
                    .id_of(ObjectKind::Volume, &name)
                    .map(str::to_owned)
            })
            .collect())
    }

    /// Everything the cluster lists as attached to this node's client, sorted by name, with
    /// the device paths and whether they are present.
    ///
    /// ```no_run
    /// # async fn run(connector: storpool_attach::Connector) -> Result<(), Box<dyn std::error::Error>> {
    /// for attachment in connector.list().await? {
    ///     println!("{} {:?} present: {}", attachment.name, attachment.access_mode, attachment.present);
    /// }
    /// # Ok(())
    /// # }
    /// ```
    pub async fn list(&self) -> Result<Vec<NodeAttachment>, AttachError> {
        let deadline = Deadline::after(self.wait.timeout);
        let mut list: Vec<NodeAttachment> = self
            .our_attachments(deadline)
            .await?
            .into_iter()
            .map(|a| {
                let kind = kind_of(&a);
                let path = a
                    .global_id
                    .as_deref()
                    .filter(|id| GlobalId::new(*id).is_ok())
                    .map(|id| self.root.by_id(id));
                let name_path = self.root.name_link(&a.volume);
                let known: Vec<&PathBuf> = path.iter().chain(&name_path).collect();
                let present = !known.is_empty() && known.iter().all(|p| p.exists());
                NodeAttachment {
                    kind,
                    id: self.naming.id_of(kind, &a.volume).map(str::to_owned),
                    access_mode: AccessMode::from_rights(a.rights),
                    name: a.volume,
                    global_id: a.global_id,
                    path,
                    name_path,
                    present,
                }
            })
            .collect();
        list.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(list)
    }

    /// Every attachment of the cluster, on every node (who has what attached), sorted by
    /// client, then name. One `AttachmentsList` call.
    pub async fn list_all_nodes(&self) -> Result<Vec<ClusterAttachment>, AttachError> {
        let deadline = Deadline::after(self.wait.timeout);
        let ours = u32::from(self.our_id.get());
        let list = self
            .api(
                deadline,
                "AttachmentsList",
                || "cannot list the attachments of the cluster".to_owned(),
                self.client.attachments().list(),
            )
            .await?;
        let mut all: Vec<ClusterAttachment> = list
            .into_iter()
            .map(|a| {
                let kind = kind_of(&a);
                ClusterAttachment {
                    client: a.client,
                    here: a.client == ours,
                    kind,
                    id: self.naming.id_of(kind, &a.volume).map(str::to_owned),
                    access_mode: AccessMode::from_rights(a.rights),
                    name: a.volume,
                    global_id: a.global_id,
                }
            })
            .collect();
        all.sort_by(|a, b| (a.client, &a.name).cmp(&(b.client, &b.name)));
        Ok(all)
    }

    async fn detach(
        &self,
        lookup: Lookup,
        options: DetachOptions,
    ) -> Result<Detached, AttachError> {
        let span = tracing::info_span!(
            "disconnect", volume = %lookup.api_ref(), client = %self.our_id, force = options.force
        );
        tracing::Instrument::instrument(self.detach_in(lookup, options), span).await
    }

    async fn detach_in(
        &self,
        lookup: Lookup,
        options: DetachOptions,
    ) -> Result<Detached, AttachError> {
        let started = Instant::now();
        let ours = self
            .our_attachments(Deadline::after(self.wait.timeout))
            .await?;
        let found = ours.iter().find(|a| lookup.matches(a));
        // Without a global id in the listing a by-id path cannot be matched: then detach
        // blindly as os-brick does, and take "no such volume" as "not attached".
        let blind = found.is_none()
            && matches!(lookup, Lookup::GlobalId(_))
            && ours.iter().any(|a| a.global_id.is_none());
        let (kind, name, global_id) = match (found, &lookup) {
            (Some(a), _) => (
                kind_of(a),
                a.volume.clone(),
                a.global_id.clone().or_else(|| match &lookup {
                    Lookup::GlobalId(id) => Some(id.to_string()),
                    Lookup::Name { .. } => None,
                }),
            ),
            (None, Lookup::GlobalId(id)) => {
                (ObjectKind::Volume, lookup.api_ref(), Some(id.to_string()))
            }
            (None, Lookup::Name { name, kind }) => {
                (kind.unwrap_or(ObjectKind::Volume), name.clone(), None)
            }
        };
        if found.is_none() && !blind {
            tracing::info!(%name, client = %self.our_id, "not attached here; nothing to detach");
            return Ok(Detached {
                kind,
                name,
                global_id,
                changed: false,
                forced: false,
                attempts: 0,
                waited: Duration::ZERO,
                elapsed: started.elapsed(),
            });
        }
        let Some((attempts, forced)) = self
            .send_detach(&lookup, kind, &name, global_id.as_deref(), options)
            .await?
        else {
            tracing::info!(%name, "no such object on the cluster; nothing to detach");
            return Ok(Detached {
                kind,
                name,
                global_id,
                changed: false,
                forced: false,
                attempts: 1,
                waited: Duration::ZERO,
                elapsed: started.elapsed(),
            });
        };
        let links: Vec<PathBuf> = global_id
            .as_deref()
            .map(|id| self.root.by_id(id))
            .into_iter()
            .chain(self.root.name_link(&name))
            .collect();
        let deadline = Deadline::after(self.wait.timeout);
        let waited = wait_until(&self.root, deadline.wait_options(self.wait.recheck), || {
            links.iter().all(|link| link.symlink_metadata().is_err())
        })
        .await
        .map_err(|_| AttachError::Timeout {
            waiting_for: format!(
                "the device links of `{name}` to go away ({})",
                links
                    .iter()
                    .map(|l| l.display().to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            waited: deadline.elapsed(),
        })?;
        tracing::info!(%name, attempts, forced, "detached");
        Ok(Detached {
            kind,
            name,
            global_id,
            changed: true,
            forced,
            attempts,
            waited,
            elapsed: started.elapsed(),
        })
    }

    /// Sends the detach, retrying an open device as the policy says. Returns the attempts
    /// and whether the detach was forced, or `None` when the cluster has no such object
    /// (deleted since the listing, or a blind detach by global id): nothing to detach.
    async fn send_detach(
        &self,
        lookup: &Lookup,
        kind: ObjectKind,
        name: &str,
        global_id: Option<&str>,
        options: DetachOptions,
    ) -> Result<Option<(u32, bool)>, AttachError> {
        let reference = lookup.api_ref();
        let local = global_id.map_or_else(|| self.root.by_name(name), |id| self.root.by_id(id));
        let policy = self.detach_retry;
        let mut attempts = 0;
        let mut forced = false;
        loop {
            attempts += 1;
            let last = attempts >= policy.max_attempts();
            let force = options.force || (policy.force_last && last);
            if force {
                forced = true;
                let holders = device::holders(&local);
                tracing::warn!(
                    %name, client = %self.our_id, attempt = attempts,
                    open_here = %describe_holders(&holders),
                    "forcing the detach: whatever still uses the device gets I/O errors"
                );
            }
            let entry = match kind {
                ObjectKind::Volume => {
                    ReassignEntry::detach_volume(volume_ref(&reference)?, self.our_id, force)
                }
                ObjectKind::Snapshot => ReassignEntry::from(SnapshotReassign {
                    detach: Some(Detach::Clients(vec![self.our_id])),
                    force: Some(force),
                    ..SnapshotReassign::new(snapshot_ref(&reference)?)
                }),
            };
            let result = self
                .reassign(Deadline::after(self.wait.timeout), entry, || {
                    format!("cannot detach {kind} `{name}` from client {}", self.our_id)
                })
                .await;
            match result {
                Ok(()) => return Ok(Some((attempts, forced))),
                Err(AttachError::Api { source, .. }) if source.is_open_at() && !last => {
                    tracing::info!(
                        %name, attempt = attempts, retry_in = ?policy.delay,
                        "the device is open; retrying the detach"
                    );
                    if !policy.delay.is_zero() {
                        tokio::time::sleep(policy.delay).await;
                    }
                }
                Err(AttachError::Api { source, .. }) if source.is_open_at() => {
                    return Err(AttachError::Busy {
                        name: name.to_owned(),
                        client: self.our_id,
                        attempts,
                        holders: device::holders(&local),
                        source,
                    });
                }
                Err(AttachError::Api { source, .. }) if source.is_object_not_found() => {
                    return Ok(None);
                }
                Err(err) => return Err(err),
            }
        }
    }

    /// Runs one API call, bounded by the deadline.
    async fn api<T>(
        &self,
        deadline: Deadline,
        call: &str,
        action: impl FnOnce() -> String,
        request: impl Future<Output = Result<T, ApiError>>,
    ) -> Result<T, AttachError> {
        match tokio::time::timeout(deadline.remaining(), request).await {
            Ok(Ok(value)) => Ok(value),
            Ok(Err(source)) => Err(AttachError::Api {
                action: action(),
                source: Box::new(source),
            }),
            Err(_) => Err(AttachError::ApiTimeout {
                call: call.to_owned(),
                waited: deadline.elapsed(),
            }),
        }
    }

    /// The attachments of this node's client.
    async fn our_attachments(&self, deadline: Deadline) -> Result<Vec<Attachment>, AttachError> {
        let ours = u32::from(self.our_id.get());
        let list = self
            .api(
                deadline,
                "AttachmentsList",
                || "cannot list the attachments of the cluster".to_owned(),
                self.client.attachments().list(),
            )
            .await?;
        Ok(list.into_iter().filter(|a| a.client == ours).collect())
    }

    /// `VolumesReassignWait` with one entry and a bounded `attachTimeout`.
    async fn reassign(
        &self,
        deadline: Deadline,
        entry: ReassignEntry,
        action: impl FnOnce() -> String,
    ) -> Result<(), AttachError> {
        let attach_timeout = self
            .attach_timeout
            .unwrap_or_else(|| deadline.remaining())
            .as_secs();
        let request = ReassignWait {
            reassign: vec![entry],
            attach_timeout: Some(attach_timeout),
        };
        self.api(
            deadline,
            "VolumesReassignWait",
            action,
            self.client.attachments().reassign_wait(&request),
        )
        .await
        .map(drop)
    }

    async fn global_id_of(
        &self,
        kind: ObjectKind,
        name: &str,
        deadline: Deadline,
    ) -> Result<String, AttachError> {
        let action = || format!("cannot read the global id of {kind} `{name}`");
        match kind {
            ObjectKind::Volume => {
                let volume = volume_ref(name)?;
                let info = self
                    .api(
                        deadline,
                        "VolumeGetInfo",
                        action,
                        self.client.volumes().info(&volume),
                    )
                    .await?;
                Ok(info.global_id)
            }
            ObjectKind::Snapshot => {
                let snapshot = snapshot_ref(name)?;
                let info = self
                    .api(
                        deadline,
                        "SnapshotGetInfo",
                        action,
                        self.client.snapshots().info(&snapshot),
                    )
                    .await?;
                Ok(info.global_id)
            }
        }
    }
}

fn volume_ref(name: &str) -> Result<VolumeRef, AttachError> {
    VolumeRef::new(name).map_err(|source| AttachError::Api {
        action: format!("`{name}` cannot name a volume"),
        source: Box::new(source),
    })
}

fn snapshot_ref(name: &str) -> Result<SnapshotRef, AttachError> {
    SnapshotRef::new(name).map_err(|source| AttachError::Api {
        action: format!("`{name}` cannot name a snapshot"),
        source: Box::new(source),
    })
}
