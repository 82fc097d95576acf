//! The [`Driver`], its options, and what every operation shares: names, sizes, the volume
//! type's wishes, and the per-operation log of cluster calls.

use std::collections::BTreeMap;
use std::fmt;
use std::future::Future;
use std::time::Instant;

use storpool_api::{
    ApiError, Client, SnapshotName, SnapshotRef, TemplateName, VolumeName, VolumeRef, VolumeSummary,
};
use storpool_conf::{Config, Loader};

use crate::error::{DriverError, Object};
use crate::naming::{IdKind, Naming};
use crate::specs::{Qos, VolumeTypeSpecs};
use crate::types::{GIB, Volume, gib_ceil};

/// Volume-type specs ("extra specs" and QoS specs in Cinder) as the orchestrator passes them.
pub type Specs = BTreeMap<String, String>;

/// The replication used when no template applies, as in the reference driver.
pub const DEFAULT_REPLICATION: u8 = 3;

/// The backend name reported when none is configured.
pub const DEFAULT_BACKEND_NAME: &str = "storpool";

/// The client id a host gets when its storpool.conf section sets no `SP_OURID` (as the
/// reference driver does).
pub const FALLBACK_CLIENT_ID: u16 = 65;

/// The driver's settings. `Default` gives the reference driver's defaults.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct DriverOptions {
    /// Template for volumes whose type names none (Cinder's `storpool_template`).
    pub default_template: Option<TemplateName>,
    /// Replication for volumes without a template, 1..=3 (Cinder's `storpool_replication`,
    /// default 3); also the divisor of the free space reported in stats.
    pub default_replication: u8,
    /// Prefix of every cluster name (`SP_OPENSTACK_VOLUME_PREFIX`, default `os`);
    /// [`Driver::from_conf`] takes it from storpool.conf.
    pub volume_prefix: String,
    /// The backend name reported in stats and compared on retype (default `storpool`).
    pub backend_name: Option<String>,
    /// Use the `MultiCluster/` form of the calls that have one (default true, as the
    /// reference driver does through os-brick).
    pub multi_cluster: bool,
    /// Host names that mean "this node" in [`Driver::connection_info`] (Cinder's `host` and
    /// `CONF.host`): their client id is read from the node's own section.
    pub own_hosts: Vec<String>,
    /// This node's storpool.conf section (default: `uname -n`).
    pub node_name: Option<String>,
}

impl Default for DriverOptions {
    fn default() -> Self {
        Self {
            default_template: None,
            default_replication: DEFAULT_REPLICATION,
            volume_prefix: storpool_conf::DEFAULT_VOLUME_PREFIX.to_owned(),
            backend_name: None,
            multi_cluster: true,
            own_hosts: Vec::new(),
            node_name: None,
        }
    }
}

impl DriverOptions {
    /// The defaults.
    pub fn new() -> Self {
        Self::default()
    }

    /// With a default template.
    #[must_use]
    pub fn default_template(mut self, template: Option<TemplateName>) -> Self {
        self.default_template = template;
        self
    }

    /// With a default replication.
    #[must_use]
    pub fn default_replication(mut self, replication: u8) -> Self {
        self.default_replication = replication;
        self
    }

    /// With a volume prefix.
    #[must_use]
    pub fn volume_prefix(mut self, prefix: impl Into<String>) -> Self {
        self.volume_prefix = prefix.into();
        self
    }

    /// With a backend name.
    #[must_use]
    pub fn backend_name(mut self, name: Option<String>) -> Self {
        self.backend_name = name;
        self
    }

    /// With or without `MultiCluster/`.
    #[must_use]
    pub fn multi_cluster(mut self, on: bool) -> Self {
        self.multi_cluster = on;
        self
    }

    /// With the host names that mean "this node".
    #[must_use]
    pub fn own_hosts(mut self, hosts: Vec<String>) -> Self {
        self.own_hosts = hosts;
        self
    }

    /// With this node's section name.
    #[must_use]
    pub fn node_name(mut self, name: Option<String>) -> Self {
        self.node_name = name;
        self
    }
}

/// The StorPool volume driver: every operation of the Cinder StorPool driver, and more, as
/// one async method each with plain inputs and a serializable result.
///
/// Cheap to clone, `Send + Sync`; operations take `&self` and may run concurrently (for
/// different volumes). Built from a [`Client`] with [`Driver::new`], or from storpool.conf
/// with [`Driver::from_conf`].
#[derive(Clone, Debug)]
pub struct Driver {
    pub(crate) client: Client,
    pub(crate) naming: Naming,
    pub(crate) options: DriverOptions,
    pub(crate) host_config: Loader,
}

impl Driver {
    /// A driver talking through `client` (its `MultiCluster/` mode is set from
    /// `options.multi_cluster`). Hosts' client ids are read from the system storpool.conf
    /// (`$STORPOOL_CONF` or `/etc/storpool.conf`); see [`Driver::with_host_config`].
    pub fn new(client: Client, options: DriverOptions) -> Result<Self, DriverError> {
        if !storpool_api::REPLICATION_RANGE.contains(&options.default_replication) {
            return Err(DriverError::InvalidOption {
                option: "default replication",
                value: options.default_replication.to_string(),
                reason: "must be between 1 and 3",
            });
        }
        if options.backend_name.as_deref() == Some("") {
            return Err(DriverError::InvalidOption {
                option: "backend name",
                value: String::new(),
                reason: "must not be empty",
            });
        }
        let naming = Naming::new(options.volume_prefix.clone())?;
        let client = if client.is_multi_cluster() == options.multi_cluster {
            client
        } else {
            client.with_multi_cluster(options.multi_cluster)
        };
        Ok(Self {
            client,
            naming,
            options,
            host_config: Loader::system(),
        })
    }

    /// The common path: the API endpoint and token from `config`, the volume prefix from its
    /// `SP_OPENSTACK_VOLUME_PREFIX` (replacing `options.volume_prefix`), and hosts' client ids
    /// read with `loader` (each host's section in turn).
    pub fn from_conf(
        config: &Config,
        loader: &Loader,
        options: DriverOptions,
    ) -> Result<Self, DriverError> {
        let client = Client::from_conf(config).map_err(|err| match err {
            ApiError::Config(conf) => DriverError::Config(Box::new(conf)),
            other => DriverError::ClientSetup(Box::new(other)),
        })?;
        let options = options.volume_prefix(config.volume_prefix());
        Ok(Self::new(client, options)?.with_host_config(loader.clone()))
    }

    /// Reads hosts' client ids with `loader` (its section is replaced by each host's name).
    #[must_use]
    pub fn with_host_config(mut self, loader: Loader) -> Self {
        self.host_config = loader;
        self
    }

    /// The API client.
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// The settings.
    pub fn options(&self) -> &DriverOptions {
        &self.options
    }

    /// The naming scheme.
    pub fn naming(&self) -> &Naming {
        &self.naming
    }

    /// The backend name: the configured one, else `storpool`.
    pub fn backend_name(&self) -> &str {
        self.options
            .backend_name
            .as_deref()
            .unwrap_or(DEFAULT_BACKEND_NAME)
    }

    /// The pool a volume of this type lands in (Cinder's `get_pool`): `template_{name}` with
    /// a template; without one, `default` for the default replication and
    /// `replication_{n}` for another (see [`Driver::stats`]).
    pub fn pool_name(&self, specs: &Specs) -> Result<String, DriverError> {
        let wanted = self.wanted(specs)?;
        Ok(match (wanted.template, wanted.replication) {
            (Some(template), _) => pool::template(template.as_str()),
            (None, Some(n)) if n != self.options.default_replication => pool::replication(n),
            (None, _) => pool::DEFAULT.to_owned(),
        })
    }

    /// The pool an existing volume is in, from what the cluster says it has: its
    /// template's pool, else `default` or `replication_{n}` by its replication. (A type's
    /// pool, [`Driver::pool_name`], may differ: a clone or a volume from a snapshot keeps its
    /// source's template, and a template cannot be taken off a volume.)
    pub fn pool_of(&self, volume: &Volume) -> String {
        match (&volume.template, volume.replication) {
            (Some(template), _) => pool::template(template),
            (None, n) if n == self.options.default_replication => pool::DEFAULT.to_owned(),
            (None, n) => pool::replication(n),
        }
    }

    /// What a volume in pool `pool` (a name [`Driver::stats`] reports) gets: its template, or
    /// the replication of an untemplated pool. `None` for a name that is not one of ours.
    pub fn pool_placement(&self, pool: &str) -> Option<Placement> {
        if pool == pool::DEFAULT {
            return Some(Placement::Replication(self.options.default_replication));
        }
        if let Some(name) = pool.strip_prefix(pool::TEMPLATE_PREFIX) {
            return TemplateName::new(name).ok().map(Placement::Template);
        }
        let n: u8 = pool.strip_prefix(pool::REPLICATION_PREFIX)?.parse().ok()?;
        storpool_api::REPLICATION_RANGE
            .contains(&n)
            .then_some(Placement::Replication(n))
    }

    /// What a volume type asks for, with the backend defaults filled in.
    pub(crate) fn wanted(&self, specs: &Specs) -> Result<Wanted, DriverError> {
        let parsed = VolumeTypeSpecs::parse(specs)?;
        if !parsed.ignored.is_empty() {
            tracing::debug!(ignored = ?parsed.ignored, "volume-type specs this driver does not use");
        }
        let template = parsed
            .template
            .or_else(|| self.options.default_template.clone());
        Ok(Wanted {
            replication: template.is_none().then(|| {
                parsed
                    .replication
                    .unwrap_or(self.options.default_replication)
            }),
            template,
            qos: parsed.qos,
            backend: parsed.backend,
        })
    }

    /// The cluster name of a volume id, and the object for errors.
    pub(crate) fn volume(&self, id: &str) -> Result<(VolumeName, Object), DriverError> {
        let name = self.naming.volume(id)?;
        let object = Object::new(IdKind::Volume, name.clone(), Some(id));
        Ok((volume_name(name)?, object))
    }

    /// The cluster name of a snapshot id, and the object for errors.
    pub(crate) fn snapshot(&self, id: &str) -> Result<(SnapshotName, Object), DriverError> {
        let name = self.naming.snapshot(id)?;
        let object = Object::new(IdKind::Snapshot, name.clone(), Some(id));
        Ok((snapshot_name(name)?, object))
    }

    /// Reads one of our volumes back.
    pub(crate) async fn read_volume(
        &self,
        op: &mut Op,
        id: &str,
        name: &VolumeName,
        object: &Object,
    ) -> Result<Volume, DriverError> {
        let summary = op
            .run(object, "Volume", self.client.volumes().get(&name.into()))
            .await?;
        Ok(Volume::from_summary(id, &summary))
    }
}

/// A cluster name the naming scheme made, as a validated volume name.
pub(crate) fn volume_name(name: String) -> Result<VolumeName, DriverError> {
    VolumeName::new(name.clone()).map_err(|err| DriverError::InvalidName {
        name,
        reason: err.to_string(),
    })
}

/// A cluster name the naming scheme made, as a validated snapshot name.
pub(crate) fn snapshot_name(name: String) -> Result<SnapshotName, DriverError> {
    SnapshotName::new(name.clone()).map_err(|err| DriverError::InvalidName {
        name,
        reason: err.to_string(),
    })
}

/// A snapshot name as a reference.
pub(crate) fn snapshot_ref(name: &SnapshotName) -> SnapshotRef {
    SnapshotRef::from(name)
}

/// A volume name as a reference.
pub(crate) fn volume_ref(name: &VolumeName) -> VolumeRef {
    VolumeRef::from(name)
}

/// A size in GiB as bytes (`size * 2^30`): 0 and sizes that do not fit are refused before
/// the cluster is asked anything.
pub(crate) fn bytes(gib: u64, object: &Object) -> Result<u64, DriverError> {
    let invalid = |reason| DriverError::InvalidSize {
        object: object.clone(),
        gib,
        reason,
    };
    if gib == 0 {
        return Err(invalid("a volume holds at least 1 GiB"));
    }
    gib.checked_mul(GIB)
        .ok_or_else(|| invalid("the size in bytes does not fit in 64 bits"))
}

/// Pool names: the scheduler's view of where a volume lives (Cinder's `host@backend#pool`).
pub mod pool {
    /// Untemplated volumes with the backend's default replication.
    pub const DEFAULT: &str = "default";
    /// `template_{name}`: volumes of template `name`.
    pub const TEMPLATE_PREFIX: &str = "template_";
    /// `replication_{n}`: untemplated volumes with replication `n` (not the default).
    pub const REPLICATION_PREFIX: &str = "replication_";

    /// The pool of template `name`.
    pub fn template(name: &str) -> String {
        format!("{TEMPLATE_PREFIX}{name}")
    }

    /// The pool of untemplated volumes with replication `n` (not the default one).
    pub fn replication(n: u8) -> String {
        format!("{REPLICATION_PREFIX}{n}")
    }
}

/// Where a pool's volumes get their placement and replication from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Placement {
    /// This template.
    Template(TemplateName),
    /// No template: this chain replication.
    Replication(u8),
}

/// What a volume type asks of a volume.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Wanted {
    /// The template (the type's, else the backend default).
    pub(crate) template: Option<TemplateName>,
    /// The replication, only when there is no template (a template sets its own).
    pub(crate) replication: Option<u8>,
    /// The QoS limits the type sets.
    pub(crate) qos: Qos,
    /// The backend the type names.
    pub(crate) backend: Option<String>,
}

impl Wanted {
    /// The template an existing volume made for this type must have: the wanted one; any
    /// when none is wanted (a clone or a volume from a snapshot inherits its source's, which
    /// cannot be cleared).
    pub(crate) fn template_check(&self) -> TemplateCheck<'_> {
        match &self.template {
            Some(template) => TemplateCheck::Is(Some(template)),
            None => TemplateCheck::Any,
        }
    }
}

fn describe_template(template: Option<&str>) -> String {
    match template {
        Some(t) => format!("template `{t}`"),
        None => "no template".to_owned(),
    }
}

/// Which template an existing volume must have.
#[derive(Clone, Copy, Debug)]
pub(crate) enum TemplateCheck<'a> {
    /// Any (it was inherited).
    Any,
    /// This one, or none.
    Is(Option<&'a TemplateName>),
}

/// How an existing volume differs from what a (retried) create would have made: `None`
/// when it is the same. `replication` is checked when given.
pub(crate) fn mismatch(
    existing: &VolumeSummary,
    size: u64,
    template: TemplateCheck<'_>,
    replication: Option<u8>,
) -> Option<String> {
    let mut differences = Vec::new();
    if existing.size != size {
        differences.push(format!(
            "it has {} GiB ({} bytes), not the {} GiB asked for",
            gib_ceil(existing.size),
            existing.size,
            gib_ceil(size)
        ));
    }
    if let TemplateCheck::Is(wanted) = template {
        let has = (!existing.template_name.is_empty()).then_some(existing.template_name.as_str());
        let wanted = wanted.map(TemplateName::as_str);
        if has != wanted {
            differences.push(format!(
                "it has {}, not {}",
                describe_template(has),
                describe_template(wanted)
            ));
        }
    }
    if let Some(replication) = replication
        && existing.replication != replication
    {
        differences.push(format!(
            "it has replication {}, not {replication}",
            existing.replication
        ));
    }
    (!differences.is_empty()).then(|| {
        format!(
            "volume `{}` already exists and differs: {}",
            existing.name,
            differences.join("; ")
        )
    })
}

/// One driver operation in progress: its tracing span, and the cluster calls it made with
/// their durations, logged when it finishes.
pub(crate) struct Op {
    pub(crate) operation: &'static str,
    target: String,
    started: Instant,
    calls: Vec<String>,
    span: tracing::Span,
}

impl Op {
    pub(crate) fn new(operation: &'static str, target: impl fmt::Display) -> Self {
        let target = target.to_string();
        let span = tracing::info_span!("storpool_driver", operation, target = %target);
        Self {
            operation,
            target,
            started: Instant::now(),
            calls: Vec::new(),
            span,
        }
    }

    /// The operation's span, to instrument its future with.
    pub(crate) fn span(&self) -> tracing::Span {
        self.span.clone()
    }

    /// Makes one cluster call, timing and recording it.
    pub(crate) async fn call<T>(
        &mut self,
        call: &'static str,
        request: impl Future<Output = Result<T, ApiError>>,
    ) -> Result<T, ApiError> {
        let started = Instant::now();
        let result = request.await;
        let elapsed_ms = started.elapsed().as_secs_f64() * 1000.0;
        let outcome = match &result {
            Ok(_) => "ok",
            Err(err) => err.name().unwrap_or("failed"),
        };
        tracing::debug!(call, elapsed_ms, outcome, "StorPool call");
        self.calls
            .push(format!("{call} {outcome} {elapsed_ms:.1} ms"));
        result
    }

    /// Makes one cluster call; an error fails the operation on `object`.
    pub(crate) async fn run<T>(
        &mut self,
        object: &Object,
        call: &'static str,
        request: impl Future<Output = Result<T, ApiError>>,
    ) -> Result<T, DriverError> {
        self.call(call, request)
            .await
            .map_err(|source| self.fail(object, source))
    }

    /// The operation failed on `object` with `source`.
    pub(crate) fn fail(&self, object: &Object, source: ApiError) -> DriverError {
        DriverError::Api {
            operation: self.operation,
            object: object.clone(),
            source: Box::new(source),
        }
    }

    /// The operation found `object` in the way.
    pub(crate) fn conflict(&self, object: &Object, reason: String) -> DriverError {
        DriverError::Conflict {
            operation: self.operation,
            object: object.clone(),
            reason,
        }
    }

    /// Logs the outcome, the calls made and the total time, and hands the result back.
    pub(crate) fn finish<T>(self, result: Result<T, DriverError>) -> Result<T, DriverError> {
        let _entered = self.span.enter();
        let elapsed_ms = self.started.elapsed().as_secs_f64() * 1000.0;
        let calls = self.calls.join(", ");
        match &result {
            Ok(_) => tracing::info!(
                operation = self.operation,
                target = %self.target,
                calls = %calls,
                elapsed_ms,
                "StorPool driver operation done"
            ),
            Err(err) => tracing::warn!(
                operation = self.operation,
                target = %self.target,
                calls = %calls,
                elapsed_ms,
                error = %err,
                cause = err.api_error().map(tracing::field::display),
                "StorPool driver operation failed"
            ),
        }
        result
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn object() -> Object {
        Object::new(IdKind::Volume, "os--volume-1", Some("1"))
    }

    #[test]
    fn sizes_are_gib_times_two_to_the_thirty_and_zero_is_refused() {
        assert_eq!(bytes(1, &object()).unwrap(), 1 << 30);
        assert_eq!(bytes(5, &object()).unwrap(), 5 * 1_073_741_824);
        let zero = bytes(0, &object()).unwrap_err();
        assert!(zero.is_user_error());
        assert_eq!(
            zero.to_string(),
            "invalid size 0 GiB for volume `os--volume-1` (id `1`): a volume holds at least 1 GiB"
        );
        assert!(bytes(u64::MAX / 1024, &object()).is_err());
    }

    #[test]
    fn options_are_checked() {
        let client = Client::builder()
            .base_url("http://127.0.0.1:1")
            .token("t")
            .build()
            .unwrap();
        for replication in [0, 4] {
            let err = Driver::new(
                client.clone(),
                DriverOptions::new().default_replication(replication),
            )
            .unwrap_err();
            assert!(err.is_user_error(), "{err}");
        }
        let err =
            Driver::new(client.clone(), DriverOptions::new().volume_prefix("a b")).unwrap_err();
        assert!(matches!(err, DriverError::InvalidPrefix { .. }));
        let driver = Driver::new(client, DriverOptions::new().multi_cluster(false)).unwrap();
        assert!(!driver.client().is_multi_cluster());
        assert_eq!(driver.backend_name(), "storpool");
    }

    #[test]
    fn pools_follow_the_type_then_the_default_template() {
        let client = Client::builder()
            .base_url("http://127.0.0.1:1")
            .token("t")
            .build()
            .unwrap();
        let driver = Driver::new(client.clone(), DriverOptions::new()).unwrap();
        let ssd = Specs::from([("storpool_template".to_owned(), "ssd".to_owned())]);
        assert_eq!(driver.pool_name(&Specs::new()).unwrap(), "default");
        assert_eq!(driver.pool_name(&ssd).unwrap(), "template_ssd");
        let with_default = Driver::new(
            client,
            DriverOptions::new().default_template(Some(TemplateName::new("hdd").unwrap())),
        )
        .unwrap();
        assert_eq!(
            with_default.pool_name(&Specs::new()).unwrap(),
            "template_hdd"
        );
        assert_eq!(with_default.pool_name(&ssd).unwrap(), "template_ssd");
    }

    #[test]
    fn driver_is_send_sync_and_clone() {
        fn assert_traits<T: Send + Sync + Clone + 'static>() {}
        fn assert_error<T: std::error::Error + Send + Sync + 'static>() {}
        assert_traits::<Driver>();
        assert_error::<DriverError>();
    }
}
