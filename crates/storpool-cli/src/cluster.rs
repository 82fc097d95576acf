//! Which cluster a command talks to: the configured one, or the embedded simulator.

use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

#[cfg(feature = "embedded")]
use anyhow::Context as _;
use storpool_api::Client;
use storpool_conf::{Config, DEFAULT_MAIN_FILE, Loader, SP_API_HTTP_HOST, STORPOOL_CONF};
#[cfg(feature = "embedded")]
use storpool_conf::{SP_API_HTTP_PORT, SP_AUTH_TOKEN, SP_OURID};
#[cfg(feature = "embedded")]
use storpool_sim::{ClusterLayout, LayoutTemplate, SimBuilder, SimError, SimHandle};
#[cfg(feature = "embedded")]
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::args::GlobalArgs;
use crate::exit::Failure;

/// The client id the embedded simulator serves as "this node" (its `SP_OURID`).
pub const EMBEDDED_CLIENT_ID: u16 = 1;

/// The templates a new embedded cluster starts with: `ssd` (replication 3) and `hdd`
/// (replication 2), both in placement group `default`.
pub const EMBEDDED_TEMPLATES: [(&str, u8); 2] = [("ssd", 3), ("hdd", 2)];

/// How long a command waits for another one that is using the same embedded cluster.
pub const EMBEDDED_LOCK_WAIT: Duration = Duration::from_secs(30);

/// The storpool.conf-style file in an embedded cluster's folder that `connection-info --host`
/// reads hosts' `SP_OURID` from.
pub const HOSTS_FILE: &str = "hosts.conf";

/// The environment variables that choose the cluster.
pub mod env_vars {
    /// `STORPOOL_EMBEDDED=DIR`: use the embedded simulator with its state in DIR (as
    /// `--embedded=DIR`), when neither `--config` nor `--embedded` is given.
    pub const STORPOOL_EMBEDDED: &str = "STORPOOL_EMBEDDED";
    /// A home for user data (`$XDG_DATA_HOME/storpool-rs/embedded`).
    pub const XDG_DATA_HOME: &str = "XDG_DATA_HOME";
    /// The user's home (`$HOME/.local/share/storpool-rs/embedded`).
    pub const HOME: &str = "HOME";
}

#[cfg(feature = "embedded")]
const HOSTS_FILE_TEXT: &str = "\
# Host sections for the embedded StorPool simulator, in storpool.conf syntax:
# `sp-volume connection-info VOLUME --host HOST` reads SP_OURID from the [HOST] section,
# else from here. The simulator serves client 1 as this node: its devices appear under
# the `dev` folder next to this file.
SP_OURID=1
";

/// The parts of the process environment that decide which cluster a command uses. Built from
/// the process with [`Environment::from_process`]; tests build their own.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Environment {
    /// `STORPOOL_CONF`, when set and not empty: the main configuration file.
    pub storpool_conf: Option<PathBuf>,
    /// `STORPOOL_EMBEDDED`, when set and not empty: the embedded simulator's folder.
    pub embedded: Option<PathBuf>,
    /// Whether `SP_API_HTTP_HOST` is set (not empty): the environment names a cluster.
    pub api_host_set: bool,
    /// `XDG_DATA_HOME`, when set to an absolute path.
    pub xdg_data_home: Option<PathBuf>,
    /// `HOME`, when set and not empty.
    pub home: Option<PathBuf>,
    /// The main file used when neither `--config` nor `STORPOOL_CONF` names one
    /// (`/etc/storpool.conf`).
    pub default_main_file: PathBuf,
}

impl Default for Environment {
    /// Nothing set, and `/etc/storpool.conf` as the default main file.
    fn default() -> Self {
        Self {
            storpool_conf: None,
            embedded: None,
            api_host_set: false,
            xdg_data_home: None,
            home: None,
            default_main_file: PathBuf::from(DEFAULT_MAIN_FILE),
        }
    }
}

impl Environment {
    /// Reads `STORPOOL_CONF`, `STORPOOL_EMBEDDED`, `SP_API_HTTP_HOST`, `XDG_DATA_HOME` and
    /// `HOME`.
    pub fn from_process() -> Self {
        let var = |name: &str| std::env::var_os(name).filter(|value| !value.is_empty());
        Self {
            storpool_conf: var(STORPOOL_CONF).map(PathBuf::from),
            embedded: var(env_vars::STORPOOL_EMBEDDED).map(PathBuf::from),
            api_host_set: var(SP_API_HTTP_HOST).is_some(),
            xdg_data_home: var(env_vars::XDG_DATA_HOME)
                .map(PathBuf::from)
                .filter(|path| path.is_absolute()),
            home: var(env_vars::HOME).map(PathBuf::from),
            default_main_file: PathBuf::from(DEFAULT_MAIN_FILE),
        }
    }

    /// Where the embedded cluster lives by default: `$XDG_DATA_HOME/storpool-rs/embedded`,
    /// else `$HOME/.local/share/storpool-rs/embedded`.
    pub fn default_embedded_dir(&self) -> Option<PathBuf> {
        let data = self
            .xdg_data_home
            .clone()
            .or_else(|| self.home.as_ref().map(|home| home.join(".local/share")))?;
        Some(data.join("storpool-rs").join("embedded"))
    }
}

/// Where a configuration file was named.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ConfigOrigin {
    /// `--config FILE`.
    Option,
    /// `STORPOOL_CONF`.
    Environment,
    /// The default main file, which exists.
    Default,
    /// No file: `SP_API_HTTP_HOST` and its companions in the environment.
    ApiEnvironment,
}

/// The cluster a command will use, decided from the options and the environment before
/// anything is read or started.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Choice {
    /// A StorPool cluster described by storpool.conf (and the environment overrides).
    Configured {
        /// The main file (it may be missing only for [`ConfigOrigin::ApiEnvironment`]).
        main_file: PathBuf,
        /// How it was chosen.
        origin: ConfigOrigin,
    },
    /// The embedded simulator.
    Embedded {
        /// Its folder: the state in `DIR/state`, devices under `DIR/dev`.
        dir: PathBuf,
        /// Chosen by `STORPOOL_EMBEDDED` (rather than `--embedded`).
        from_env: bool,
    },
}

/// The one line a command prints when no cluster is configured: it names the ways to use
/// the embedded simulator.
pub const NO_CLUSTER: &str = "no StorPool cluster configured (no /etc/storpool.conf, \
     `STORPOOL_CONF` or `SP_API_HTTP_HOST`): give one with `--config FILE`, or use the \
     embedded simulator with `--embedded` or `STORPOOL_EMBEDDED=DIR`";

impl Choice {
    /// The rules, first match wins:
    ///
    /// 1. `--embedded[=DIR]`: the embedded simulator in DIR (default: under the user's data
    ///    directory);
    /// 2. `--config FILE`: that file (it must exist);
    /// 3. `STORPOOL_EMBEDDED=DIR`: the embedded simulator in DIR (`STORPOOL_CONF` set too is
    ///    an error: the two contradict each other);
    /// 4. `STORPOOL_CONF`: that file (it must exist);
    /// 5. the default main file (`/etc/storpool.conf`), when it exists;
    /// 6. `SP_API_HTTP_HOST` in the environment: the environment alone;
    /// 7. otherwise no cluster is configured: an error ([`NO_CLUSTER`], exit 2). The
    ///    simulator is never used unless asked for.
    pub fn resolve(args: &GlobalArgs, env: &Environment) -> Result<Self, Failure> {
        if let Some(dir) = &args.embedded {
            let dir = match dir {
                Some(dir) => dir.clone(),
                None => env.default_embedded_dir().ok_or_else(|| {
                    Failure::usage(anyhow::anyhow!(
                        "no folder for the embedded StorPool simulator: neither \
                         `XDG_DATA_HOME` nor `HOME` is set"
                    ))
                    .with_hint("give one with `--embedded=DIR`")
                })?,
            };
            return Ok(Self::Embedded {
                dir,
                from_env: false,
            });
        }
        let configured = |main_file: &Path, origin| Self::Configured {
            main_file: main_file.to_owned(),
            origin,
        };
        if let Some(file) = &args.config {
            return Ok(configured(file, ConfigOrigin::Option));
        }
        if let Some(dir) = &env.embedded {
            if env.storpool_conf.is_some() {
                return Err(Failure::usage(anyhow::anyhow!(
                    "both `{STORPOOL_CONF}` and `{}` are set: unset one of them",
                    env_vars::STORPOOL_EMBEDDED
                )));
            }
            return Ok(Self::Embedded {
                dir: dir.clone(),
                from_env: true,
            });
        }
        if let Some(file) = &env.storpool_conf {
            return Ok(configured(file, ConfigOrigin::Environment));
        }
        if env.default_main_file.exists() {
            return Ok(configured(&env.default_main_file, ConfigOrigin::Default));
        }
        if env.api_host_set {
            return Ok(configured(
                &env.default_main_file,
                ConfigOrigin::ApiEnvironment,
            ));
        }
        Err(Failure::usage(anyhow::anyhow!(NO_CLUSTER)))
    }
}

/// The cluster a command talks to, ready: its configuration, an API client, this node's
/// device root, and, for the embedded simulator, the running simulator (stopped by
/// [`Cluster::shutdown`] or on drop).
#[derive(Debug)]
pub struct Cluster {
    config: Config,
    hosts: Loader,
    client: Client,
    source: String,
    device_root: PathBuf,
    embedded: Option<Embedded>,
}

impl Cluster {
    /// Decides the cluster ([`Choice::resolve`]) and gets it ready: reads storpool.conf, or
    /// starts the embedded simulator in this runtime (waiting up to [`EMBEDDED_LOCK_WAIT`] for
    /// another command using the same folder), and builds the API client.
    ///
    /// `dev_root` is the device root the command was given (`--dev-root`); without it, this
    /// node's devices are under `/dev`, or `DIR/dev` for the embedded simulator, which makes
    /// its device links under the device root either way.
    ///
    /// Errors: configuration problems exit 2; an embedded folder still in use after the wait
    /// exits 1.
    pub async fn connect(
        args: &GlobalArgs,
        env: &Environment,
        dev_root: Option<&Path>,
    ) -> Result<Self, Failure> {
        Self::connect_inner(None, args, env, dev_root).await
    }

    /// [`Cluster::connect`] for the binary `bin`: when it has to wait for another command
    /// that uses the same embedded folder, it says so on stderr (`BIN: waiting for PID N to
    /// finish with DIR`), if progress may be drawn ([`GlobalArgs::progress`]: a terminal,
    /// no `--json`, `-q` or `--no-progress`).
    pub async fn connect_for(
        bin: &'static str,
        args: &GlobalArgs,
        env: &Environment,
        dev_root: Option<&Path>,
    ) -> Result<Self, Failure> {
        Self::connect_inner(Some(bin), args, env, dev_root).await
    }

    // Without the `embedded` feature nothing is awaited; the signature stays the same.
    #[cfg_attr(
        not(feature = "embedded"),
        allow(clippy::unused_async, unused_variables)
    )]
    async fn connect_inner(
        bin: Option<&'static str>,
        args: &GlobalArgs,
        env: &Environment,
        dev_root: Option<&Path>,
    ) -> Result<Self, Failure> {
        match Choice::resolve(args, env)? {
            Choice::Configured { main_file, origin } => {
                let loader =
                    Loader::new(&main_file).missing_ok(origin == ConfigOrigin::ApiEnvironment);
                let config = loader.load().map_err(|err| {
                    let failure = Failure::usage(err);
                    match origin {
                        ConfigOrigin::Environment => failure
                            .with_hint(format!("`{STORPOOL_CONF}` names {}", main_file.display())),
                        _ => failure,
                    }
                })?;
                let source = match origin {
                    ConfigOrigin::ApiEnvironment => {
                        format!("the environment (`{SP_API_HTTP_HOST}`)")
                    }
                    _ => main_file.display().to_string(),
                };
                let client = args.client(&config, &source).map_err(Failure::usage)?;
                Ok(Self {
                    config,
                    hosts: loader,
                    client,
                    source,
                    device_root: dev_root.map_or_else(|| PathBuf::from("/dev"), Path::to_owned),
                    embedded: None,
                })
            }
            #[cfg(not(feature = "embedded"))]
            Choice::Embedded { from_env, .. } => Err(without_embedded(from_env)),
            #[cfg(feature = "embedded")]
            Choice::Embedded { dir, from_env } => {
                // Absolute once, here: the simulator's links point into its folder, and the
                // command reports device paths that must resolve from anywhere.
                let dir = absolute(&dir)?;
                let device_root =
                    absolute(&dev_root.map_or_else(|| dir.join("dev"), Path::to_owned))?;
                let notify = bin.filter(|_| args.progress());
                let embedded = Embedded::start(&dir, &device_root, from_env, notify).await?;
                let port = embedded.port.to_string();
                let id = EMBEDDED_CLIENT_ID.to_string();
                let config = Config::from_vars([
                    (SP_API_HTTP_HOST, "127.0.0.1"),
                    (SP_API_HTTP_PORT, port.as_str()),
                    (SP_AUTH_TOKEN, embedded.handle.token()),
                    (SP_OURID, id.as_str()),
                ]);
                let source = format!("the embedded simulator in {}", dir.display());
                let client = args.client(&config, &source).map_err(Failure::usage)?;
                Ok(Self {
                    config,
                    hosts: Loader::new(dir.join(HOSTS_FILE)).use_env(false),
                    client,
                    source,
                    device_root,
                    embedded: Some(embedded),
                })
            }
        }
    }

    /// The effective configuration of this node (for the embedded simulator: its endpoint,
    /// token and `SP_OURID` 1).
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// The loader for other hosts' sections (`connection-info --host HOST`): storpool.conf,
    /// or `DIR/hosts.conf` of the embedded simulator.
    pub fn hosts(&self) -> &Loader {
        &self.hosts
    }

    /// The API client.
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// Where the configuration came from, for messages: a file, the environment, or the
    /// embedded simulator's folder.
    pub fn source(&self) -> &str {
        &self.source
    }

    /// The embedded simulator, when that is what runs.
    pub fn embedded(&self) -> Option<&Embedded> {
        self.embedded.as_ref()
    }

    /// This node's device root: the one given to [`Cluster::connect`], else the embedded
    /// simulator's `DIR/dev`, else `/dev`.
    pub fn device_root(&self) -> &Path {
        &self.device_root
    }

    /// The line a binary prints on stderr when it uses the embedded simulator.
    pub fn notice(&self) -> Option<String> {
        self.embedded.as_ref().map(ToString::to_string)
    }

    /// What the command runs on, for output: [`ClusterKind::Embedded`] or
    /// [`ClusterKind::Configured`].
    pub fn kind(&self) -> ClusterKind {
        if self.embedded.is_some() {
            ClusterKind::Embedded
        } else {
            ClusterKind::Configured
        }
    }

    /// Says on stderr that the command runs on the embedded simulator (`BIN: NOTICE`, never
    /// silenced by `-q`), and makes every JSON document [`crate::emit_json`] prints from now
    /// on say so too (`"cluster": "embedded"`, its first member). Does nothing on a
    /// configured cluster.
    pub fn announce(&self, bin: &str) {
        if let Some(notice) = self.notice() {
            crate::output::note(bin, &notice);
            crate::output::mark_embedded();
        }
    }

    /// Stops the embedded simulator (if any) and waits until it has closed its state.
    pub async fn shutdown(mut self) {
        if let Some(embedded) = self.embedded.take() {
            embedded.shutdown().await;
        }
    }
}

/// What a command runs on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ClusterKind {
    /// A StorPool cluster named by storpool.conf or the environment.
    Configured,
    /// The embedded simulator (`--embedded`, `STORPOOL_EMBEDDED`).
    Embedded,
}

/// Whether this build has the embedded simulator (the `embedded` feature).
pub const HAS_EMBEDDED: bool = cfg!(feature = "embedded");

/// What a build without the `embedded` feature says when asked for the embedded simulator
/// (`--embedded` or `STORPOOL_EMBEDDED`): a usage error (exit 2).
#[cfg(not(feature = "embedded"))]
fn without_embedded(from_env: bool) -> Failure {
    let asked = if from_env {
        format!("`{}`", env_vars::STORPOOL_EMBEDDED)
    } else {
        "`--embedded`".to_owned()
    };
    Failure::usage(anyhow::anyhow!(
        "{asked}: this build has no embedded simulator (it was built without the `embedded` \
         feature)"
    ))
    .with_hint(format!(
        "name a cluster with `--config FILE`, `{STORPOOL_CONF}` or `{SP_API_HTTP_HOST}`, or \
         install the tools with their default features"
    ))
}

/// `path` made absolute against the current folder (symbolic links are kept).
#[cfg(feature = "embedded")]
fn absolute(path: &Path) -> Result<PathBuf, Failure> {
    std::path::absolute(path)
        .with_context(|| format!("cannot make {} an absolute path", path.display()))
        .map_err(Failure::usage)
}

/// The embedded simulator running inside the command's runtime (never, in a build without
/// the `embedded` feature).
#[derive(Debug)]
pub struct Embedded {
    dir: PathBuf,
    dev_root: PathBuf,
    from_env: bool,
    #[cfg(feature = "embedded")]
    port: u16,
    #[cfg(feature = "embedded")]
    handle: SimHandle,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
}

impl Embedded {
    #[cfg(feature = "embedded")]
    async fn start(
        dir: &Path,
        dev_root: &Path,
        from_env: bool,
        notify: Option<&'static str>,
    ) -> Result<Self, Failure> {
        let cannot =
            |what: String| move |err| Failure::usage(anyhow::Error::new(err).context(what));
        std::fs::create_dir_all(dir).map_err(cannot(format!(
            "cannot create the embedded StorPool simulator's folder {}",
            dir.display()
        )))?;
        let layout = ClusterLayout {
            templates: EMBEDDED_TEMPLATES
                .iter()
                .map(|(name, replication)| {
                    LayoutTemplate::new(*name, *replication, storpool_sim::DEFAULT_PLACEMENT_GROUP)
                })
                .collect(),
            ..ClusterLayout::default()
        };
        let builder = {
            let (state, dev_root) = (dir.join("state"), dev_root.to_owned());
            move |wait| {
                SimBuilder::new()
                    .layout(layout.clone())
                    .state_dir(&state)
                    .dev_root(&dev_root)
                    .serve_client(EMBEDDED_CLIENT_ID)
                    .sync(true)
                    .keep_alive(true)
                    .lock_wait(wait)
            }
        };
        // Opening the state may wait for another command's lock: off the runtime's thread,
        // and said on a terminal (`notify`) when it has to wait.
        let dir_text = dir.display().to_string();
        let built = tokio::task::spawn_blocking(move || match builder(Duration::ZERO).build() {
            Err(SimError::Locked { holder, .. }) => {
                if let Some(bin) = notify {
                    let who = holder
                        .map_or_else(|| "another command".to_owned(), |pid| format!("PID {pid}"));
                    crate::output::note(
                        bin,
                        &format!("waiting for {who} to finish with {dir_text}"),
                    );
                }
                builder(EMBEDDED_LOCK_WAIT).build()
            }
            other => other,
        })
        .await
        .context("the embedded StorPool simulator did not start")
        .map_err(Failure::usage)?;
        let service = built.map_err(|err| match err {
            SimError::Locked { .. } => Failure::operation(
                anyhow::Error::new(err).context("cannot start the embedded StorPool simulator"),
            )
            .with_hint(format!(
                "another command is using {}: wait for it to finish, or use another \
                 `--embedded=DIR`",
                dir.display()
            )),
            other => Failure::usage(
                anyhow::Error::new(other).context("cannot start the embedded StorPool simulator"),
            ),
        })?;
        // Only once the simulator took the folder's state as its own.
        let hosts = dir.join(HOSTS_FILE);
        if !hosts.exists() {
            std::fs::write(&hosts, HOSTS_FILE_TEXT)
                .map_err(cannot(format!("cannot write {}", hosts.display())))?;
        }
        let listener = TcpListener::bind(("127.0.0.1", 0))
            .await
            .map_err(cannot("cannot listen on 127.0.0.1".to_owned()))?;
        let port = listener
            .local_addr()
            .map_err(cannot("cannot read the listening address".to_owned()))?
            .port();
        let handle = service.handle();
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(service.serve(listener, async {
            let _ = stopped.await;
        }));
        tracing::debug!(dir = %dir.display(), port, "embedded StorPool simulator started");
        Ok(Self {
            dir: dir.to_owned(),
            dev_root: dev_root.to_owned(),
            from_env,
            port,
            handle,
            stop: Some(stop),
            task: Some(task),
        })
    }

    /// The folder: state in `DIR/state`, devices under `DIR/dev`, hosts in `DIR/hosts.conf`.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Where the simulator makes the device links of client 1 (`DIR/dev` unless the command
    /// named another device root).
    pub fn dev_root(&self) -> &Path {
        &self.dev_root
    }

    /// Whether `STORPOOL_EMBEDDED` chose it (rather than `--embedded`).
    pub fn from_env(&self) -> bool {
        self.from_env
    }

    /// The simulator's controls and state.
    #[cfg(feature = "embedded")]
    pub fn sim(&self) -> &SimHandle {
        &self.handle
    }

    /// Stops the simulator and waits until it has closed its state.
    pub async fn shutdown(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

impl fmt::Display for Embedded {
    /// The notice: where the embedded simulator runs, and who asked for it.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "using the embedded simulator in {}", self.dir.display())?;
        if self.from_env {
            write!(f, " (`{}`)", env_vars::STORPOOL_EMBEDDED)?;
        }
        Ok(())
    }
}

impl Drop for Embedded {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(dir: &Path) -> Environment {
        Environment {
            home: Some(dir.join("home")),
            default_main_file: dir.join("etc/storpool.conf"),
            ..Environment::default()
        }
    }

    fn args() -> GlobalArgs {
        GlobalArgs::default()
    }

    #[test]
    fn nothing_configured_is_an_error_naming_the_simulator_options() {
        let tmp = tempfile::tempdir().unwrap();
        let env = env(tmp.path());
        let failure = Choice::resolve(&args(), &env).unwrap_err();
        assert_eq!(failure.status(), crate::ExitStatus::Error);
        let text = failure.render("x", false);
        assert_eq!(text.lines().count(), 1, "{text}");
        assert!(text.contains("`--embedded`"), "{text}");
        assert!(text.contains("`STORPOOL_EMBEDDED=DIR`"), "{text}");
    }

    #[test]
    fn embedded_alone_uses_the_user_data_folder() {
        let tmp = tempfile::tempdir().unwrap();
        let env = env(tmp.path());
        let bare = GlobalArgs {
            embedded: Some(None),
            ..args()
        };
        assert_eq!(
            Choice::resolve(&bare, &env).unwrap(),
            Choice::Embedded {
                dir: tmp.path().join("home/.local/share/storpool-rs/embedded"),
                from_env: false
            }
        );
        let xdg = Environment {
            xdg_data_home: Some(tmp.path().join("xdg")),
            ..env.clone()
        };
        assert_eq!(
            Choice::resolve(&bare, &xdg).unwrap(),
            Choice::Embedded {
                dir: tmp.path().join("xdg/storpool-rs/embedded"),
                from_env: false
            }
        );
        let homeless = Environment { home: None, ..env };
        let failure = Choice::resolve(&bare, &homeless).unwrap_err();
        assert_eq!(failure.status(), crate::ExitStatus::Error);
        assert!(failure.render("x", false).contains("--embedded=DIR"));
    }

    #[test]
    fn storpool_embedded_names_the_folder_below_the_options() {
        let tmp = tempfile::tempdir().unwrap();
        let env = Environment {
            embedded: Some(tmp.path().join("sim")),
            ..env(tmp.path())
        };
        assert_eq!(
            Choice::resolve(&args(), &env).unwrap(),
            Choice::Embedded {
                dir: tmp.path().join("sim"),
                from_env: true
            }
        );
        // `--config` beats it.
        let option = GlobalArgs {
            config: Some(tmp.path().join("other.conf")),
            ..args()
        };
        assert!(matches!(
            Choice::resolve(&option, &env).unwrap(),
            Choice::Configured {
                origin: ConfigOrigin::Option,
                ..
            }
        ));
        // With STORPOOL_CONF too, neither is taken.
        let both = Environment {
            storpool_conf: Some(tmp.path().join("x.conf")),
            ..env
        };
        let text = Choice::resolve(&args(), &both)
            .unwrap_err()
            .render("x", false);
        assert!(
            text.contains("both `STORPOOL_CONF` and `STORPOOL_EMBEDDED`"),
            "{text}"
        );
    }

    #[test]
    fn a_configured_cluster_is_found_in_order() {
        let tmp = tempfile::tempdir().unwrap();
        let env = env(tmp.path());
        let configured = |main_file: &Path, origin| Choice::Configured {
            main_file: main_file.to_owned(),
            origin,
        };
        // The environment names a cluster without a file.
        let api = Environment {
            api_host_set: true,
            ..env.clone()
        };
        assert_eq!(
            Choice::resolve(&args(), &api).unwrap(),
            configured(&env.default_main_file, ConfigOrigin::ApiEnvironment)
        );
        // The default file exists.
        std::fs::create_dir_all(tmp.path().join("etc")).unwrap();
        std::fs::write(&env.default_main_file, "").unwrap();
        assert_eq!(
            Choice::resolve(&args(), &env).unwrap(),
            configured(&env.default_main_file, ConfigOrigin::Default)
        );
        // STORPOOL_CONF, even for a file that does not exist: never a silent fallback.
        let named = Environment {
            storpool_conf: Some(tmp.path().join("missing.conf")),
            ..env.clone()
        };
        assert_eq!(
            Choice::resolve(&args(), &named).unwrap(),
            configured(&tmp.path().join("missing.conf"), ConfigOrigin::Environment)
        );
        // --config beats STORPOOL_CONF; --embedded beats both.
        let option = GlobalArgs {
            config: Some(tmp.path().join("other.conf")),
            ..args()
        };
        assert_eq!(
            Choice::resolve(&option, &named).unwrap(),
            configured(&tmp.path().join("other.conf"), ConfigOrigin::Option)
        );
        let embedded = GlobalArgs {
            embedded: Some(Some(tmp.path().join("sim"))),
            ..args()
        };
        assert_eq!(
            Choice::resolve(&embedded, &named).unwrap(),
            Choice::Embedded {
                dir: tmp.path().join("sim"),
                from_env: false
            }
        );
    }

    #[tokio::test]
    async fn an_explicit_missing_file_is_a_configuration_error() {
        let tmp = tempfile::tempdir().unwrap();
        let args = GlobalArgs {
            config: Some(tmp.path().join("nowhere.conf")),
            ..args()
        };
        let failure = Cluster::connect(&args, &env(tmp.path()), None)
            .await
            .unwrap_err();
        assert_eq!(failure.status(), crate::ExitStatus::Error);
        assert!(
            failure
                .render("x", false)
                .contains(&tmp.path().join("nowhere.conf").display().to_string())
        );
    }

    #[cfg(not(feature = "embedded"))]
    #[tokio::test]
    async fn without_the_embedded_feature_the_simulator_is_a_usage_error() {
        let tmp = tempfile::tempdir().unwrap();
        let explicit = GlobalArgs {
            embedded: Some(None),
            ..args()
        };
        let failure = Cluster::connect(&explicit, &env(tmp.path()), None)
            .await
            .unwrap_err();
        assert_eq!(failure.status(), crate::ExitStatus::Error);
        let text = failure.render("x", false);
        assert!(
            text.contains("built without the `embedded` feature"),
            "{text}"
        );
        assert!(text.contains("--config FILE"), "{text}");
    }

    #[cfg(feature = "embedded")]
    #[tokio::test]
    async fn the_embedded_cluster_persists_and_serves_client_1() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("sim");
        let args = GlobalArgs {
            embedded: Some(Some(dir.clone())),
            ..args()
        };
        let cluster = Cluster::connect(&args, &env(tmp.path()), None)
            .await
            .unwrap();
        assert_eq!(cluster.config().our_id().unwrap(), Some(EMBEDDED_CLIENT_ID));
        assert_eq!(cluster.device_root(), dir.join("dev"));
        let notice = cluster.notice().unwrap();
        assert_eq!(
            notice,
            format!("using the embedded simulator in {}", dir.display())
        );
        let token = cluster.config().get(SP_AUTH_TOKEN).unwrap().to_owned();
        assert!(!format!("{cluster:?}").contains(&token));
        let volume = storpool_api::VolumeCreate {
            name: Some(storpool_api::VolumeName::new("v").unwrap()),
            size: Some(1 << 30),
            replication: Some(3),
            ..storpool_api::VolumeCreate::default()
        };
        cluster.client().volumes().create(&volume).await.unwrap();
        let hosts = cluster.hosts().clone().section("any-host").load().unwrap();
        assert_eq!(hosts.our_id().unwrap(), Some(EMBEDDED_CLIENT_ID));
        cluster.shutdown().await;

        // The next command sees the same cluster, and may move the device links.
        let elsewhere = tmp.path().join("devices");
        let cluster = Cluster::connect(&args, &env(tmp.path()), Some(&elsewhere))
            .await
            .unwrap();
        assert_eq!(cluster.device_root(), elsewhere);
        assert_eq!(cluster.embedded().unwrap().dev_root(), elsewhere);
        let names: Vec<String> = cluster
            .client()
            .volumes()
            .list()
            .await
            .unwrap()
            .into_iter()
            .map(|v| v.name)
            .collect();
        assert_eq!(names, ["v"]);
        cluster.shutdown().await;
    }
}
