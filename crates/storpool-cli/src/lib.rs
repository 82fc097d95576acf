#![doc = include_str!("../README.md")]

mod args;
mod cluster;
mod exit;
mod logging;
mod meta;
mod output;

pub use args::{GLOBAL_OPTIONS, GlobalArgs, LogFormat, normalize_args, parse_args, parse_secs};
pub use cluster::{
    Choice, Cluster, ClusterKind, ConfigOrigin, EMBEDDED_CLIENT_ID, EMBEDDED_LOCK_WAIT,
    EMBEDDED_TEMPLATES, Embedded, Environment, HAS_EMBEDDED, HOSTS_FILE, NO_CLUSTER, env_vars,
};
pub use exit::{EXIT_CODES_HELP, EXIT_CODES_SIGNALS_HELP, ExitStatus, Failure};
pub use logging::{DEFAULT_FILTER, LogSettings, init_logging};
pub use meta::{
    CompletionsArgs, GIT_COMMIT, ManArgs, Shell, man_pages, print_completions, version_text,
    write_completions,
};
pub use output::{
    color_allowed, emit, emit_json, emit_json_to, emit_to, json_document, json_seconds, note,
    stderr_colors, table, warning, write_stderr,
};
