//! Finding the files, applying the precedence rules, and the typed accessors.

use std::collections::BTreeMap;
use std::fmt;
use std::io;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

use crate::env_vars::{
    ENV_OVERRIDES, SP_API_HTTP_HOST, SP_API_HTTP_PORT, SP_AUTH_TOKEN, SP_CLUSTER_ID,
    SP_CLUSTER_NAME, SP_OPENSTACK_VOLUME_PREFIX, SP_OURID, STORPOOL_CONF,
};
use crate::error::{ConfError, Origin};
use crate::parse::{ConfFile, Section, parse_bytes};
use crate::token::AuthToken;
use crate::{DEFAULTS, is_secret};

/// The main configuration file on a StorPool node.
pub const DEFAULT_MAIN_FILE: &str = "/etc/storpool.conf";

/// The volume prefix used when `SP_OPENSTACK_VOLUME_PREFIX` is not set.
pub const DEFAULT_VOLUME_PREFIX: &str = "os";

/// The largest configuration file read, in bytes (1 MiB; a storpool.conf is a few kilobytes).
/// A larger file is refused with [`ConfError::TooLarge`].
pub const MAX_FILE_SIZE: u64 = 1 << 20;

/// The highest StorPool client id (`SP_OURID` of a node that attaches volumes).
pub const MAX_CLIENT_ID: u16 = 4095;

/// Where environment overrides come from.
#[derive(Clone, Debug)]
enum EnvSource {
    Process,
    Off,
    Given(BTreeMap<String, String>),
}

/// Reads the configuration files of a node: the main file, then its `.d` drop-ins.
///
/// ```no_run
/// let config = storpool_conf::Loader::new("/etc/storpool.conf")
///     .section("node-b")
///     .load()?;
/// println!("{:?}", config.our_id()?);
/// # Ok::<(), storpool_conf::ConfError>(())
/// ```
#[derive(Clone, Debug)]
pub struct Loader {
    main: PathBuf,
    section: Option<String>,
    missing_ok: bool,
    env: EnvSource,
}

impl Loader {
    /// A loader for the main file `main`; its drop-in folder is `main` plus `.d`.
    pub fn new(main: impl Into<PathBuf>) -> Self {
        Self {
            main: main.into(),
            section: None,
            missing_ok: false,
            env: EnvSource::Process,
        }
    }

    /// A loader for the file named by `$STORPOOL_CONF`, else `/etc/storpool.conf`.
    pub fn system() -> Self {
        Self::new(system_main_file())
    }

    /// Reads the section `name` instead of the node's own (`uname -n`).
    #[must_use]
    pub fn section(mut self, name: impl Into<String>) -> Self {
        self.section = Some(name.into());
        self
    }

    /// Skips files that do not exist instead of failing on a missing main file.
    #[must_use]
    pub fn missing_ok(mut self, missing_ok: bool) -> Self {
        self.missing_ok = missing_ok;
        self
    }

    /// Whether `SP_AUTH_TOKEN`, `SP_API_HTTP_HOST` and `SP_API_HTTP_PORT` from the process
    /// environment override the files (on by default).
    #[must_use]
    pub fn use_env(mut self, use_env: bool) -> Self {
        self.env = if use_env {
            EnvSource::Process
        } else {
            EnvSource::Off
        };
        self
    }

    /// Takes the environment overrides from `vars` instead of the process environment (for
    /// tests and for programs that manage their own environment). Only the names in
    /// [`ENV_OVERRIDES`] are used.
    #[must_use]
    pub fn env_vars<K, V>(mut self, vars: impl IntoIterator<Item = (K, V)>) -> Self
    where
        K: Into<String>,
        V: Into<String>,
    {
        self.env = EnvSource::Given(
            vars.into_iter()
                .map(|(k, v)| (k.into(), v.into()))
                .collect(),
        );
        self
    }

    /// The main file this loader reads.
    pub fn main_file(&self) -> &Path {
        &self.main
    }

    /// The drop-in folder: the main file's path with `.d` appended.
    pub fn drop_in_dir(&self) -> PathBuf {
        let mut dir = self.main.clone().into_os_string();
        dir.push(".d");
        PathBuf::from(dir)
    }

    /// The files to read, in order: the main file, then the drop-in folder's `*.conf` files that
    /// do not start with `.`, sorted by name. With `missing_ok`, only the ones that are files.
    pub fn files(&self) -> Result<Vec<PathBuf>, ConfError> {
        let mut files = vec![self.main.clone()];
        let dir = self.drop_in_dir();
        match std::fs::read_dir(&dir) {
            Ok(entries) => {
                let mut names = Vec::new();
                for entry in entries {
                    let entry = entry.map_err(|source| read_error(&dir, source))?;
                    let name = entry.file_name();
                    let bytes = name.as_bytes();
                    if bytes.ends_with(b".conf") && !bytes.starts_with(b".") {
                        names.push(name);
                    }
                }
                names.sort_unstable();
                files.extend(names.into_iter().map(|name| dir.join(name)));
            }
            Err(err)
                if matches!(
                    err.kind(),
                    io::ErrorKind::NotFound | io::ErrorKind::NotADirectory
                ) => {}
            Err(source) => return Err(read_error(&dir, source)),
        }
        if self.missing_ok {
            files.retain(|path| path.is_file());
        }
        Ok(files)
    }

    fn read_files(&self) -> Result<Vec<ConfFile>, ConfError> {
        self.files()?
            .into_iter()
            .map(|path| match read_file(&path) {
                Ok(bytes) => parse_bytes(path, &bytes),
                Err(ReadFailure::Io(err))
                    if err.kind() == io::ErrorKind::NotFound && path == self.main =>
                {
                    Err(ConfError::MissingMainFile { path })
                }
                Err(ReadFailure::Io(source)) => Err(read_error(&path, source)),
                Err(ReadFailure::NotAFile(kind)) => Err(ConfError::NotAFile { path, kind }),
                Err(ReadFailure::TooLarge) => Err(ConfError::TooLarge {
                    path,
                    limit: MAX_FILE_SIZE,
                }),
            })
            .collect()
    }

    /// Reads the files and returns the effective configuration for the chosen section.
    ///
    /// Precedence, lowest first: the built-in [`DEFAULTS`]; then for each file in order its
    /// global part followed by its `[SECTION]` part; then the environment overrides.
    pub fn load(&self) -> Result<Config, ConfError> {
        let files = self.read_files()?;
        let section = self.section.clone().unwrap_or_else(node_name);
        let mut vars: BTreeMap<String, Setting> = DEFAULTS
            .iter()
            .map(|&(name, value)| (name.to_owned(), Setting::new(name, value, Origin::Default)))
            .collect();
        for file in &files {
            apply(&mut vars, file, None, file.global());
            if let Some(vars_here) = file.section(&section) {
                apply(&mut vars, file, Some(&section), vars_here);
            }
        }
        for (name, value) in self.env_overrides() {
            vars.insert(name.to_owned(), Setting::new(name, value, Origin::Env));
        }
        Ok(Config {
            vars,
            section,
            files: files.into_iter().map(|f| f.path().to_owned()).collect(),
        })
    }

    /// The names of all sections in all the files, sorted, without the unnamed one.
    pub fn sections(&self) -> Result<Vec<String>, ConfError> {
        let mut names: Vec<String> = self
            .read_files()?
            .iter()
            .flat_map(|file| file.section_names().map(str::to_owned).collect::<Vec<_>>())
            .collect();
        names.sort_unstable();
        names.dedup();
        Ok(names)
    }

    fn env_overrides(&self) -> Vec<(&'static str, String)> {
        ENV_OVERRIDES
            .iter()
            .filter_map(|&name| {
                let value = match &self.env {
                    EnvSource::Process => std::env::var(name).ok(),
                    EnvSource::Off => None,
                    EnvSource::Given(vars) => vars.get(name).cloned(),
                };
                value.map(|value| (name, value))
            })
            .collect()
    }
}

impl Default for Loader {
    /// Same as [`Loader::system`].
    fn default() -> Self {
        Self::system()
    }
}

/// Why a file was not read.
enum ReadFailure {
    Io(io::Error),
    NotAFile(&'static str),
    TooLarge,
}

impl From<io::Error> for ReadFailure {
    fn from(err: io::Error) -> Self {
        Self::Io(err)
    }
}

/// Reads a configuration file: a regular file (links to one included) of at most
/// [`MAX_FILE_SIZE`] bytes. The file is opened without waiting (`O_NONBLOCK`: opening a FIFO
/// does not wait for a writer) and what was opened is checked (`fstat` of the open file, so
/// nothing can be swapped in between), and it is read up to the limit only, even if it grows.
fn read_file(path: &Path) -> Result<Vec<u8>, ReadFailure> {
    use rustix::fs::{Mode, OFlags};
    let flags = OFlags::RDONLY | OFlags::CLOEXEC | OFlags::NONBLOCK | OFlags::NOCTTY;
    let file =
        std::fs::File::from(rustix::fs::open(path, flags, Mode::empty()).map_err(io::Error::from)?);
    let meta = file.metadata()?;
    let kind = meta.file_type();
    if !kind.is_file() {
        use std::os::unix::fs::FileTypeExt as _;
        return Err(ReadFailure::NotAFile(if kind.is_fifo() {
            "a FIFO"
        } else if kind.is_char_device() {
            "a character device"
        } else if kind.is_block_device() {
            "a block device"
        } else if kind.is_socket() {
            "a socket"
        } else if kind.is_dir() {
            "a folder"
        } else {
            "something else"
        }));
    }
    if meta.len() > MAX_FILE_SIZE {
        return Err(ReadFailure::TooLarge);
    }
    let mut bytes = Vec::with_capacity(usize::try_from(meta.len()).unwrap_or(0));
    io::Read::read_to_end(&mut io::Read::take(file, MAX_FILE_SIZE + 1), &mut bytes)?;
    if bytes.len() as u64 > MAX_FILE_SIZE {
        return Err(ReadFailure::TooLarge);
    }
    Ok(bytes)
}

fn read_error(path: &Path, source: io::Error) -> ConfError {
    ConfError::Read {
        path: path.to_owned(),
        source,
    }
}

fn apply(
    vars: &mut BTreeMap<String, Setting>,
    file: &ConfFile,
    section: Option<&str>,
    assignments: &Section,
) {
    for (name, assignment) in assignments {
        let origin = Origin::File {
            path: file.path().to_owned(),
            section: section.map(str::to_owned),
            line: assignment.line,
        };
        vars.insert(name.clone(), Setting::new(name, &assignment.value, origin));
    }
}

/// The main file named by `$STORPOOL_CONF` (if set and not empty), else `/etc/storpool.conf`.
pub fn system_main_file() -> PathBuf {
    std::env::var_os(STORPOOL_CONF)
        .filter(|path| !path.is_empty())
        .map_or_else(|| PathBuf::from(DEFAULT_MAIN_FILE), PathBuf::from)
}

/// This node's name, as `uname -n` prints it: the section a node reads by default.
pub fn node_name() -> String {
    rustix::system::uname()
        .nodename()
        .to_string_lossy()
        .into_owned()
}

/// The effective value of one variable and where it came from.
///
/// `Debug` shows `<redacted>` instead of the value of a secret.
#[derive(Clone, PartialEq, Eq)]
pub struct Setting {
    value: String,
    origin: Origin,
    secret: bool,
}

impl Setting {
    fn new(name: &str, value: impl Into<String>, origin: Origin) -> Self {
        Self {
            value: value.into(),
            origin,
            secret: is_secret(name),
        }
    }

    /// The value.
    pub fn value(&self) -> &str {
        &self.value
    }

    /// Where the value was set.
    pub fn origin(&self) -> &Origin {
        &self.origin
    }

    /// Whether the value is a secret (see [`crate::is_secret`]).
    pub fn is_secret(&self) -> bool {
        self.secret
    }
}

impl fmt::Debug for Setting {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let value = if self.secret {
            "<redacted>"
        } else {
            &self.value
        };
        f.debug_struct("Setting")
            .field("value", &value)
            .field("origin", &self.origin)
            .finish()
    }
}

/// The API endpoint of the cluster: `http://HOST:PORT/ctrl/1.0/...`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ApiEndpoint {
    /// Host name or address (`SP_API_HTTP_HOST`).
    pub host: String,
    /// TCP port (`SP_API_HTTP_PORT`).
    pub port: u16,
}

impl fmt::Display for ApiEndpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.host.contains(':') && !self.host.starts_with('[') {
            write!(f, "[{}]:{}", self.host, self.port)
        } else {
            write!(f, "{}:{}", self.host, self.port)
        }
    }
}

/// The effective configuration of one node (or of the section a caller asked for).
///
/// `Debug` shows every variable except secrets (`SP_AUTH_TOKEN` shows as `<redacted>`).
#[derive(Clone, PartialEq, Eq)]
pub struct Config {
    vars: BTreeMap<String, Setting>,
    section: String,
    files: Vec<PathBuf>,
}

impl Config {
    /// A configuration made of the given variables only: no files, defaults or environment
    /// (the official reader's `override_config`).
    pub fn from_vars<K, V>(vars: impl IntoIterator<Item = (K, V)>) -> Self
    where
        K: Into<String>,
        V: Into<String>,
    {
        Self {
            vars: vars
                .into_iter()
                .map(|(name, value)| {
                    let name = name.into();
                    let setting = Setting::new(&name, value, Origin::Given);
                    (name, setting)
                })
                .collect(),
            section: String::new(),
            files: Vec::new(),
        }
    }

    /// The raw value of any variable.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.vars.get(name).map(|s| s.value.as_str())
    }

    /// The value of a variable together with where it was set.
    pub fn setting(&self, name: &str) -> Option<&Setting> {
        self.vars.get(name)
    }

    /// Every variable, sorted by name. Secrets are included: check [`crate::is_secret`] before
    /// printing.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &Setting)> {
        self.vars.iter().map(|(k, v)| (k.as_str(), v))
    }

    /// The section that was applied on top of the global values.
    pub fn section(&self) -> &str {
        &self.section
    }

    /// The files that were read, in order.
    pub fn files(&self) -> &[PathBuf] {
        &self.files
    }

    fn invalid(&self, name: &str, reason: impl Into<String>) -> ConfError {
        let setting = &self.vars[name];
        ConfError::InvalidValue {
            variable: name.to_owned(),
            value: setting.value.clone(),
            origin: Box::new(setting.origin.clone()),
            reason: reason.into(),
        }
    }

    fn missing(&self, name: &str) -> ConfError {
        ConfError::Missing {
            variable: name.to_owned(),
            section: self.section.clone(),
        }
    }

    /// `SP_API_HTTP_HOST` (default `127.0.0.1`); an empty value is an error.
    pub fn api_host(&self) -> Result<&str, ConfError> {
        match self.get(SP_API_HTTP_HOST) {
            None => Err(self.missing(SP_API_HTTP_HOST)),
            Some("") => Err(self.invalid(SP_API_HTTP_HOST, "expected a host name or address")),
            Some(host) if host.chars().any(|c| c.is_whitespace() || c == '/') => {
                Err(self.invalid(SP_API_HTTP_HOST, "a host name cannot hold blanks or `/`"))
            }
            Some(host) => Ok(host),
        }
    }

    /// `SP_API_HTTP_PORT` (default 81), a TCP port 1..=65535.
    pub fn api_port(&self) -> Result<u16, ConfError> {
        let raw = self
            .get(SP_API_HTTP_PORT)
            .ok_or_else(|| self.missing(SP_API_HTTP_PORT))?;
        match parse_decimal(raw).and_then(|n| u16::try_from(n).ok()) {
            Some(port) if port > 0 => Ok(port),
            _ => Err(self.invalid(SP_API_HTTP_PORT, "expected a TCP port number 1..65535")),
        }
    }

    /// The API host and port together.
    pub fn api_endpoint(&self) -> Result<ApiEndpoint, ConfError> {
        Ok(ApiEndpoint {
            host: self.api_host()?.to_owned(),
            port: self.api_port()?,
        })
    }

    /// `SP_AUTH_TOKEN`, required to talk to the API; missing or empty is an error.
    pub fn auth_token(&self) -> Result<AuthToken, ConfError> {
        match self.get(SP_AUTH_TOKEN) {
            None => Err(self.missing(SP_AUTH_TOKEN)),
            Some("") => Err(self.invalid(SP_AUTH_TOKEN, "the token is empty")),
            Some(token) => Ok(AuthToken::new(token)),
        }
    }

    /// `SP_OURID`, this node's client id 1..=4095; `None` when it is not set.
    pub fn our_id(&self) -> Result<Option<u16>, ConfError> {
        let Some(raw) = self.get(SP_OURID) else {
            return Ok(None);
        };
        match parse_decimal(raw).and_then(|n| u16::try_from(n).ok()) {
            Some(id @ 1..=MAX_CLIENT_ID) => Ok(Some(id)),
            Some(_) => Err(self.invalid(SP_OURID, "a client id is between 1 and 4095")),
            None => Err(self.invalid(SP_OURID, "expected an integer client id 1..4095")),
        }
    }

    /// `SP_OPENSTACK_VOLUME_PREFIX`, default `os`.
    pub fn volume_prefix(&self) -> &str {
        self.get(SP_OPENSTACK_VOLUME_PREFIX)
            .unwrap_or(DEFAULT_VOLUME_PREFIX)
    }

    /// `SP_CLUSTER_NAME`, if set.
    pub fn cluster_name(&self) -> Option<&str> {
        self.get(SP_CLUSTER_NAME)
    }

    /// `SP_CLUSTER_ID` (e.g. `d.n`), if set.
    pub fn cluster_id(&self) -> Option<&str> {
        self.get(SP_CLUSTER_ID)
    }
}

/// A non-negative decimal integer: ASCII digits only, at most 18 of them.
fn parse_decimal(raw: &str) -> Option<u64> {
    if raw.is_empty() || raw.len() > 18 || !raw.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    raw.parse().ok()
}

impl fmt::Debug for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        struct Vars<'a>(&'a BTreeMap<String, Setting>);
        impl fmt::Debug for Vars<'_> {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.debug_map()
                    .entries(self.0.iter().map(|(name, setting)| {
                        let value = if setting.secret {
                            "<redacted>"
                        } else {
                            setting.value.as_str()
                        };
                        (name, value)
                    }))
                    .finish()
            }
        }
        f.debug_struct("Config")
            .field("section", &self.section)
            .field("files", &self.files)
            .field("vars", &Vars(&self.vars))
            .finish()
    }
}
