#![doc = include_str!("../README.md")]

mod api;
mod args;
mod copies;
mod data;
mod engine;
mod error;
mod faults;
pub mod fuzzing;
mod links;
mod lock;
mod model;
mod names;
mod server;
mod sim;
mod state;
mod statedir;
mod store;

pub use error::{ApiErr, SimError, names as error_names};
pub use faults::{Faults, InjectedError};
pub use sim::{
    ClusterLayout, DEFAULT_LOCK_WAIT, DEFAULT_MAX_CONNECTIONS, DEFAULT_REQUEST_TIMEOUT,
    LayoutTemplate, Sim, SimBuilder, SimHandle, SimService, check_error_status, check_token,
};
pub use state::{AttachmentState, ClusterState, SnapshotState, TemplateState, VolumeState};

/// The placement group every simulated cluster starts with (holding every disk).
pub const DEFAULT_PLACEMENT_GROUP: &str = "default";

/// Writes a storpool.conf (see [`storpool_conf_text`]) to `path`, readable by its owner only
/// (mode 0600): written whole to a new file in the same folder, then renamed over `path`, so
/// that a reader never sees half of it and an existing link at `path` is replaced, never
/// followed.
///
/// ```
/// use std::os::unix::fs::PermissionsExt as _;
///
/// let path = std::env::temp_dir().join(format!("storpool-sim-doc-{}.conf", std::process::id()));
/// let text = storpool_sim::storpool_conf_text("127.0.0.1", 8181, "abc", None);
/// storpool_sim::write_storpool_conf(&path, &text)?;
/// assert_eq!(std::fs::read_to_string(&path)?, text);
/// assert_eq!(std::fs::metadata(&path)?.permissions().mode() & 0o777, 0o600);
/// std::fs::remove_file(&path)?;
/// # Ok::<(), std::io::Error>(())
/// ```
pub fn write_storpool_conf(path: &std::path::Path, text: &str) -> std::io::Result<()> {
    use std::io::Write as _;
    use std::os::unix::fs::PermissionsExt as _;
    let dir = path
        .parent()
        .filter(|dir| !dir.as_os_str().is_empty())
        .unwrap_or(std::path::Path::new("."));
    let mut file = tempfile::Builder::new()
        .prefix(".storpool-sim-conf-")
        .permissions(std::fs::Permissions::from_mode(0o600))
        .tempfile_in(dir)?;
    file.write_all(text.as_bytes())?;
    file.as_file().sync_all()?;
    file.persist(path).map_err(|e| e.error)?;
    Ok(())
}

/// The text of a storpool.conf that points every StorPool tool at a simulator.
///
/// ```
/// let text = storpool_sim::storpool_conf_text("127.0.0.1", 8181, "abc", Some(1));
/// assert_eq!(
///     text,
///     "# Written by storpool-sim.\nSP_API_HTTP_HOST=127.0.0.1\nSP_API_HTTP_PORT=8181\n\
///      SP_AUTH_TOKEN=abc\nSP_OURID=1\n"
/// );
/// ```
pub fn storpool_conf_text(host: &str, port: u16, token: &str, our_id: Option<u16>) -> String {
    let mut s = format!(
        "# Written by storpool-sim.\nSP_API_HTTP_HOST={host}\nSP_API_HTTP_PORT={port}\nSP_AUTH_TOKEN={token}\n"
    );
    if let Some(id) = our_id {
        s = format!("{s}SP_OURID={id}\n");
    }
    s
}
