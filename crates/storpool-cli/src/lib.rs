#![doc = include_str!("../README.md")]

mod args;
mod cluster;
mod exit;
mod logging;
mod output;

pub use args::{GlobalArgs, normalize_args, parse_args, parse_secs};
pub use cluster::{
    Choice, Cluster, ConfigOrigin, EMBEDDED_CLIENT_ID, EMBEDDED_LOCK_WAIT, Embedded, Environment,
    HOSTS_FILE, env_vars,
};
pub use exit::{EXIT_CODES_HELP, EXIT_CODES_SIGNALS_HELP, ExitStatus, Failure};
pub use logging::{DEFAULT_FILTER, LogSettings, init_logging};
pub use output::{color_allowed, emit, emit_json, emit_json_to, emit_to, table};
