#![doc = include_str!("../README.md")]

mod args;
mod exit;
mod logging;
mod output;

pub use args::GlobalArgs;
pub use exit::{EXIT_CODES_HELP, ExitStatus, Failure};
pub use logging::{LogSettings, init_logging};
pub use output::{color_allowed, emit, emit_json, emit_to};
