//! The options every binary takes.

use std::io::IsTerminal as _;
use std::path::PathBuf;

use anyhow::Context as _;
use storpool_api::Client;
use storpool_conf::{ConfError, Config, DEFAULT_MAIN_FILE, Loader, STORPOOL_CONF};

/// Options shared by every storpool-rs binary; flatten them into the binary's parser with
/// `#[command(flatten)]`. They are global: they may follow the subcommand too.
#[derive(Clone, Debug, PartialEq, Eq, clap::Args)]
pub struct GlobalArgs {
    /// The StorPool configuration file; its drop-ins are read from FILE.d/
    #[arg(
        long,
        global = true,
        value_name = "FILE",
        env = STORPOOL_CONF,
        default_value = DEFAULT_MAIN_FILE
    )]
    pub config: PathBuf,

    /// Print one JSON document on stdout instead of text
    #[arg(long, global = true)]
    pub json: bool,

    /// Log more on stderr (-v info, -vv debug, -vvv trace)
    #[arg(short, long, global = true, action = clap::ArgAction::Count, conflicts_with = "quiet")]
    pub verbose: u8,

    /// Log less on stderr (-q errors only, -qq nothing but the final error line)
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub quiet: u8,

    /// Never draw progress on stderr (it is drawn only on a terminal, and never with --json or -q)
    #[arg(long, global = true)]
    pub no_progress: bool,
}

impl Default for GlobalArgs {
    fn default() -> Self {
        Self {
            config: PathBuf::from(DEFAULT_MAIN_FILE),
            json: false,
            verbose: 0,
            quiet: 0,
            no_progress: false,
        }
    }
}

impl GlobalArgs {
    /// The loader for `--config` (and its drop-in folder), with the environment overrides on.
    pub fn loader(&self) -> Loader {
        Loader::new(&self.config)
    }

    /// Reads storpool.conf for this node.
    pub fn load_config(&self) -> Result<Config, ConfError> {
        self.loader().load()
    }

    /// A StorPool API client for the endpoint and token of `config`, with the client's
    /// defaults otherwise. The error names the configuration file; never the token.
    pub fn client(&self, config: &Config) -> anyhow::Result<Client> {
        Client::from_conf(config).with_context(|| {
            format!(
                "cannot set up the StorPool API client from {}",
                self.config.display()
            )
        })
    }

    /// Whether progress may be drawn on stderr: it is a terminal, and neither `--json`, `-q`
    /// nor `--no-progress` was given.
    pub fn progress(&self) -> bool {
        self.progress_on(std::io::stderr().is_terminal())
    }

    /// [`GlobalArgs::progress`] for a stderr that is (or is not) a terminal.
    pub fn progress_on(&self, stderr_is_terminal: bool) -> bool {
        stderr_is_terminal && !self.json && self.quiet == 0 && !self.no_progress
    }
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;

    #[derive(Debug, Parser)]
    struct Cli {
        #[command(flatten)]
        global: GlobalArgs,
        #[command(subcommand)]
        command: Command,
    }

    #[derive(Debug, clap::Subcommand)]
    enum Command {
        Run,
    }

    #[test]
    fn global_options_may_follow_the_subcommand() {
        let cli =
            Cli::try_parse_from(["t", "run", "--json", "-vv", "--config", "/x.conf"]).unwrap();
        assert!(cli.global.json);
        assert_eq!(cli.global.verbose, 2);
        assert_eq!(cli.global.config, PathBuf::from("/x.conf"));
        assert!(matches!(cli.command, Command::Run));
    }

    #[test]
    fn verbose_and_quiet_conflict() {
        let err = Cli::try_parse_from(["t", "-v", "-q", "run"]).unwrap_err();
        assert_eq!(err.kind(), clap::error::ErrorKind::ArgumentConflict);
    }

    #[test]
    fn progress_needs_a_terminal_and_no_opt_out() {
        let args = GlobalArgs::default();
        assert!(args.progress_on(true));
        assert!(!args.progress_on(false));
        for off in [
            GlobalArgs {
                json: true,
                ..GlobalArgs::default()
            },
            GlobalArgs {
                quiet: 1,
                ..GlobalArgs::default()
            },
            GlobalArgs {
                no_progress: true,
                ..GlobalArgs::default()
            },
        ] {
            assert!(!off.progress_on(true), "{off:?}");
        }
    }

    #[test]
    fn client_errors_name_the_file_and_never_the_token() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("storpool.conf");
        std::fs::write(&file, "SP_API_HTTP_HOST=\nSP_AUTH_TOKEN=98765432109876\n").unwrap();
        let args = GlobalArgs {
            config: file.clone(),
            ..GlobalArgs::default()
        };
        let config = args
            .loader()
            .use_env(false)
            .load()
            .expect("the file itself is valid");
        let err = format!("{:#}", args.client(&config).unwrap_err());
        assert!(err.contains(&file.display().to_string()), "{err}");
        assert!(err.contains("SP_API_HTTP_HOST"), "{err}");
        assert!(!err.contains("98765432109876"), "{err}");
    }
}
