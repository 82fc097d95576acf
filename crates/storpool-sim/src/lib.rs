#![doc = include_str!("../README.md")]

mod api;
mod args;
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
pub use sim::{ClusterLayout, DEFAULT_LOCK_WAIT, Sim, SimBuilder, SimHandle, SimService};
pub use state::{AttachmentState, ClusterState, SnapshotState, TemplateState, VolumeState};

/// The placement group every simulated cluster starts with (holding every disk).
pub const DEFAULT_PLACEMENT_GROUP: &str = "default";

/// The text of a storpool.conf that points every StorPool tool at a simulator.
pub fn storpool_conf_text(host: &str, port: u16, token: &str, our_id: Option<u16>) -> String {
    let mut s = format!(
        "# Written by storpool-sim.\nSP_API_HTTP_HOST={host}\nSP_API_HTTP_PORT={port}\nSP_AUTH_TOKEN={token}\n"
    );
    if let Some(id) = our_id {
        s = format!("{s}SP_OURID={id}\n");
    }
    s
}
