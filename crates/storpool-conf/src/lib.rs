#![doc = include_str!("../README.md")]

mod config;
mod defaults;
mod env_vars;
mod error;
mod parse;
mod token;

pub use config::{
    ApiEndpoint, Config, DEFAULT_MAIN_FILE, DEFAULT_VOLUME_PREFIX, Loader, MAX_CLIENT_ID,
    MAX_FILE_SIZE, Setting, node_name, system_main_file,
};
pub use defaults::DEFAULTS;
pub use env_vars::*;
pub use error::{ConfError, Origin, SyntaxError};
pub use parse::{Assignment, ConfFile, Section, parse, parse_bytes};
pub use token::AuthToken;
