//! Logging to stderr through `tracing`.

use tracing_subscriber::EnvFilter;

use crate::args::{GlobalArgs, LogFormat};

/// The workspace's library crates, whose logs `-v` raises (other crates stay at `warn`, so
/// that `-vvv` never turns on the HTTP stack's wire traces).
const OUR_CRATES: &[&str] = &[
    "storpool_api",
    "storpool_attach",
    "storpool_cli",
    "storpool_conf",
    "storpool_driver_core",
];

/// The filter when neither `-v`, `-q` nor `RUST_LOG` is given: warnings, except the driver's
/// per-operation outcome events (`storpool_driver_core::driver`) and retype refusals
/// (`storpool_driver_core::ops::retype`), which the binary reports itself in its one error
/// line (`-v` shows them, with the calls each operation made).
pub const DEFAULT_FILTER: &str =
    "warn,storpool_driver_core::driver=error,storpool_driver_core::ops::retype=error";

/// What the log subscriber is set up with, resolved from the options and the environment.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LogSettings {
    /// An `EnvFilter` directive string, e.g. `warn,storpool_api=debug`.
    pub filter: String,
    /// Whether to use ANSI colours.
    pub color: bool,
    /// Text or JSON lines.
    pub format: LogFormat,
}

impl LogSettings {
    /// Resolves the settings: `-q` errors only, `-qq` nothing; `-v`/`-vv`/`-vvv` info, debug,
    /// trace for the workspace's crates and for `bin_target` (the binary's own module path,
    /// e.g. `sp_attach`); otherwise `rust_log` (`RUST_LOG`) if set, else [`DEFAULT_FILTER`].
    /// `color`: whether stderr gets colours ([`crate::stderr_colors`]).
    pub fn resolve(
        args: &GlobalArgs,
        bin_target: &str,
        rust_log: Option<&str>,
        color: bool,
    ) -> Self {
        let ours = |level: &str| {
            let mut filter = String::from("warn");
            for name in OUR_CRATES.iter().copied().chain([bin_target]) {
                filter.push(',');
                filter.push_str(name);
                filter.push('=');
                filter.push_str(level);
            }
            filter
        };
        let filter = match (args.quiet, args.verbose) {
            (2.., _) => "off".to_owned(),
            (1, _) => "error".to_owned(),
            (0, 1) => ours("info"),
            (0, 2) => ours("debug"),
            (0, 3..) => ours("trace"),
            (0, 0) => rust_log
                .map(str::trim)
                .filter(|filter| !filter.is_empty())
                .map_or_else(|| DEFAULT_FILTER.to_owned(), str::to_owned),
        };
        Self {
            filter,
            color,
            format: args.log_format,
        }
    }

    /// Installs a global subscriber writing to stderr, with each event's target (the module
    /// that logged it) and the spans it happened in. Does nothing if one is installed already.
    /// A filter that does not parse (a bad `RUST_LOG`) is replaced by `warn`; the error is
    /// returned so the binary can say so.
    pub fn init(&self) -> Result<(), String> {
        let (filter, error) = match EnvFilter::try_new(&self.filter) {
            Ok(filter) => (filter, None),
            Err(err) => (EnvFilter::new("warn"), Some(err.to_string())),
        };
        let builder = tracing_subscriber::fmt()
            .with_env_filter(filter)
            .with_writer(std::io::stderr)
            .with_target(true);
        let _ = match self.format {
            LogFormat::Text => builder.with_ansi(self.color).try_init(),
            LogFormat::Json => builder
                .json()
                .with_current_span(true)
                .with_span_list(true)
                .try_init(),
        };
        error.map_or(Ok(()), Err)
    }
}

/// Sets up logging to stderr from the global options and the process environment (`RUST_LOG`,
/// `NO_COLOR`). `bin_target` is the binary's module path (`sp_attach` for `sp-attach`).
pub fn init_logging(args: &GlobalArgs, bin_target: &str) {
    let rust_log = std::env::var("RUST_LOG").ok();
    if let Err(err) = LogSettings::resolve(
        args,
        bin_target,
        rust_log.as_deref(),
        crate::stderr_colors(),
    )
    .init()
    {
        crate::warning(
            &bin_target.replace('_', "-"),
            &format!("ignoring `RUST_LOG`: it is not a valid filter ({err}); logging warnings"),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn resolve(verbose: u8, quiet: u8, rust_log: Option<&str>) -> String {
        let args = GlobalArgs {
            verbose,
            quiet,
            ..GlobalArgs::default()
        };
        LogSettings::resolve(&args, "sp_x", rust_log, false).filter
    }

    #[test]
    fn verbosity_raises_only_our_crates() {
        assert_eq!(resolve(0, 0, None), DEFAULT_FILTER);
        let debug = resolve(2, 0, None);
        assert!(debug.starts_with("warn,"), "{debug}");
        assert!(debug.contains("storpool_api=debug"), "{debug}");
        assert!(debug.contains("sp_x=debug"), "{debug}");
        assert!(!debug.contains("hyper"), "{debug}");
        assert!(resolve(1, 0, None).contains("storpool_attach=info"));
        assert!(resolve(5, 0, None).contains("storpool_attach=trace"));
        for filter in [resolve(0, 0, None), resolve(3, 0, None)] {
            assert!(EnvFilter::try_new(&filter).is_ok(), "{filter}");
        }
    }

    #[test]
    fn quiet_and_rust_log() {
        assert_eq!(resolve(0, 1, Some("debug")), "error");
        assert_eq!(resolve(0, 2, None), "off");
        assert_eq!(
            resolve(0, 0, Some("storpool_api=debug")),
            "storpool_api=debug"
        );
        assert_eq!(resolve(0, 0, Some("  ")), DEFAULT_FILTER);
        assert!(
            resolve(1, 0, Some("trace")).contains("=info"),
            "-v beats RUST_LOG"
        );
    }

    #[test]
    fn colours_are_what_the_caller_decided() {
        let args = GlobalArgs::default();
        assert!(LogSettings::resolve(&args, "x", None, true).color);
        assert!(!LogSettings::resolve(&args, "x", None, false).color);
    }
}
