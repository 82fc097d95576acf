//! The options every binary takes.

use std::ffi::OsString;
use std::io::IsTerminal as _;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context as _;
use storpool_api::{Client, ClientBuilder, RetryPolicy};
use storpool_conf::Config;

/// The heading of the options every subcommand takes, apart from its own, in `--help`.
pub const GLOBAL_OPTIONS: &str = "Global options";

/// The option that takes an optional value (`--embedded[=DIR]`).
pub(crate) const EMBEDDED_FLAG: &str = "--embedded";

/// Options shared by every storpool-rs binary that talks to a cluster; flatten them into the
/// binary's parser with `#[command(flatten)]`. They are global: they may follow the subcommand
/// too.
#[derive(Clone, Debug, Default, PartialEq, Eq, clap::Args)]
#[command(next_help_heading = GLOBAL_OPTIONS)]
pub struct GlobalArgs {
    /// The StorPool configuration file (else `STORPOOL_CONF`, else `/etc/storpool.conf`).
    #[arg(
        long,
        global = true,
        value_name = "FILE",
        help = "The StorPool configuration file; its drop-ins are read from FILE.d/ \
                [env: STORPOOL_CONF] [default: /etc/storpool.conf]"
    )]
    pub config: Option<PathBuf>,

    /// Use the embedded StorPool simulator with its state in DIR.
    #[cfg_attr(
        feature = "embedded",
        arg(
            help = "Use the embedded StorPool simulator with its state in DIR (default: \
                    ~/.local/share/storpool-rs/embedded) [env: STORPOOL_EMBEDDED=DIR]"
        )
    )]
    #[cfg_attr(
        not(feature = "embedded"),
        arg(help = "Not in this build (it has no embedded StorPool simulator): an error")
    )]
    #[arg(
        long,
        global = true,
        value_name = "DIR",
        num_args = 0..=1,
        require_equals = true,
        conflicts_with = "config"
    )]
    pub embedded: Option<Option<PathBuf>>,

    /// Print one JSON document on stdout instead of text
    #[arg(long, global = true)]
    pub json: bool,

    /// Log more on stderr: -v each operation, -vv every API call and attempt with its status,
    /// -vvv also request and answer sizes and each step of a device wait
    #[arg(short, long, global = true, action = clap::ArgAction::Count, conflicts_with = "quiet")]
    pub verbose: u8,

    /// Log less on stderr (-q errors only, -qq nothing but the final error line)
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub quiet: u8,

    /// How log lines on stderr are written: `text` for people, `json` for machines (one JSON
    /// object a line: time, level, target, fields, spans)
    #[arg(long, global = true, value_name = "FORMAT", value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,

    /// Never draw progress on stderr (it is drawn only on a terminal, and never with --json or -q)
    #[arg(long, global = true)]
    pub no_progress: bool,

    /// Time limit of one StorPool API request, in seconds (default 300)
    #[arg(long, global = true, value_name = "SECS", value_parser = parse_secs)]
    pub api_timeout: Option<Duration>,

    /// How many times an API request that met a transient fault (unreachable, busy) is sent
    /// again (default 5, after 1, 2, 4, 8 and 16 s)
    #[arg(long, global = true, value_name = "N")]
    pub api_retries: Option<u32>,
}

impl GlobalArgs {
    /// A StorPool API client for the endpoint and token of `config`, with `--api-timeout`
    /// and `--api-retries` applied. `source` names where the configuration came from (a
    /// file) in the error; the token never shows.
    pub fn client(&self, config: &Config, source: &str) -> anyhow::Result<Client> {
        let build = || {
            let mut builder = ClientBuilder::from_conf(config)?;
            if let Some(timeout) = self.api_timeout {
                builder = builder.timeout(timeout);
            }
            if let Some(retries) = self.api_retries {
                builder = builder.retry(RetryPolicy {
                    retries,
                    ..RetryPolicy::default()
                });
            }
            builder.build()
        };
        build().with_context(|| format!("cannot set up the StorPool API client from {source}"))
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

/// How log lines are written.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    /// `LEVEL target: message key=value...`
    #[default]
    Text,
    /// One JSON object a line
    Json,
}

/// Seconds, decimals allowed, more than zero: `30`, `0.5`.
pub fn parse_secs(text: &str) -> Result<Duration, String> {
    let secs: f64 = text
        .parse()
        .map_err(|_| format!("`{text}` is not a number of seconds"))?;
    Duration::try_from_secs_f64(secs)
        .ok()
        .filter(|d| !d.is_zero())
        .ok_or_else(|| format!("`{text}`: expected a positive number of seconds"))
}

/// Prepares the command line for clap: `--embedded DIR` becomes `--embedded=DIR`, so that
/// the option's value may be given either way, except that a subcommand name of `command`
/// (or a word starting with `-`) right after `--embedded` is never taken as its DIR
/// (`sp-volume --embedded list` lists; a folder named like a subcommand is `./list`).
/// Nothing after `--` is touched.
pub fn normalize_args<I, T>(command: &clap::Command, args: I) -> Vec<OsString>
where
    I: IntoIterator<Item = T>,
    T: Into<OsString>,
{
    let subcommands: Vec<&str> = command
        .get_subcommands()
        .flat_map(|sub| std::iter::once(sub.get_name()).chain(sub.get_all_aliases()))
        .chain(["help"])
        .collect();
    let mut out: Vec<OsString> = Vec::new();
    let mut args = args.into_iter().map(Into::into).peekable();
    while let Some(arg) = args.next() {
        if arg == "--" {
            out.push(arg);
            out.extend(args);
            break;
        }
        if arg == EMBEDDED_FLAG
            && let Some(next) = args.peek()
            && let Some(text) = next.to_str()
            && !text.starts_with('-')
            && !subcommands.contains(&text)
        {
            let mut joined = OsString::from(EMBEDDED_FLAG);
            joined.push("=");
            joined.push(next);
            args.next();
            out.push(joined);
            continue;
        }
        out.push(arg);
    }
    out
}

/// Parses the process's command line (through [`normalize_args`]) into `P`.
///
/// `--help` and `--version` print as clap prints them and give exit code 0. A usage error
/// prints one line, `BIN: error: WHAT`, then its usage and clap's tip as hint lines, and gives
/// exit code 2: the caller returns the `Err` from `main`.
pub fn parse_args<P: clap::Parser>(bin: &str) -> Result<P, std::process::ExitCode> {
    // One command tree for both steps: building it is most of a parse's cost.
    let mut command = P::command();
    if let Some(version) = command.get_version() {
        let text = crate::version_text(version);
        command = command.version(text.clone()).long_version(text);
    }
    let args = normalize_args(&command, std::env::args_os());
    command
        .try_get_matches_from_mut(args)
        .and_then(|mut matches| {
            P::from_arg_matches_mut(&mut matches).map_err(|err| err.format(&mut command))
        })
        .map_err(|err| {
            use clap::error::ErrorKind;
            if matches!(
                err.kind(),
                ErrorKind::DisplayHelp
                    | ErrorKind::DisplayVersion
                    | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand
            ) {
                // Help goes to stdout with exit 0, or to stderr with exit 2 (nothing asked for).
                let _ = err.print();
                return std::process::ExitCode::from(u8::try_from(err.exit_code()).unwrap_or(2));
            }
            let (message, hints) = usage_error(&err);
            let mut failure = crate::Failure::usage(anyhow::anyhow!(message));
            for hint in hints {
                failure = failure.with_hint(hint);
            }
            failure.report(bin)
        })
}

/// A clap usage error as one message line and hint lines, from the error's kind and context
/// (the argument, the value, the suggestion, the usage), never from its rendered text.
fn usage_error(err: &clap::Error) -> (String, Vec<String>) {
    use std::error::Error as _;

    use clap::error::{ContextKind, ContextValue, ErrorKind};
    let text = |kind| match err.get(kind) {
        Some(ContextValue::String(text)) => Some(text.clone()),
        Some(ContextValue::Strings(list)) => Some(list.join(", ")),
        Some(ContextValue::StyledStr(text)) => Some(text.to_string()),
        Some(ContextValue::StyledStrs(list)) => Some(
            list.iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(", "),
        ),
        Some(ContextValue::Number(n)) => Some(n.to_string()),
        _ => None,
    };
    let quoted = |kind| text(kind).map(|t| format!("'{t}'")).unwrap_or_default();
    let arg = quoted(ContextKind::InvalidArg);
    let value = quoted(ContextKind::InvalidValue);
    let mut message = match err.kind() {
        ErrorKind::InvalidValue | ErrorKind::ValueValidation => match err.source() {
            Some(source) => format!("invalid value {value} for {arg}: {source}"),
            None if value == "''" => format!("a value is required for {arg} but none was supplied"),
            None => format!("invalid value {value} for {arg}"),
        },
        ErrorKind::UnknownArgument => format!("unexpected argument {arg} found"),
        ErrorKind::InvalidSubcommand => format!(
            "unrecognized subcommand {}",
            quoted(ContextKind::InvalidSubcommand)
        ),
        ErrorKind::ArgumentConflict => format!(
            "the argument {arg} cannot be used with {}",
            text(ContextKind::PriorArg).map_or_else(
                || "one or more of the other specified arguments".to_owned(),
                |prior| format!("'{prior}'")
            )
        ),
        ErrorKind::MissingRequiredArgument => format!(
            "the following required arguments were not provided: {}",
            text(ContextKind::InvalidArg).unwrap_or_default()
        ),
        ErrorKind::MissingSubcommand => format!(
            "{} requires a subcommand but one was not provided",
            quoted(ContextKind::InvalidSubcommand)
        ),
        ErrorKind::TooManyValues => format!("unexpected value {value} for {arg} found"),
        ErrorKind::TooFewValues | ErrorKind::WrongNumberOfValues => format!(
            "{arg} needs {} values, but {} were given",
            text(ContextKind::ExpectedNumValues).unwrap_or_default(),
            text(ContextKind::ActualNumValues).unwrap_or_default()
        ),
        ErrorKind::NoEquals => format!("equal sign is needed when assigning values to {arg}"),
        other => other.to_string(),
    };
    if let Some(source) = err.source()
        && !matches!(
            err.kind(),
            ErrorKind::InvalidValue | ErrorKind::ValueValidation
        )
    {
        message = format!("{message}: {source}");
    }
    let mut hints = Vec::new();
    if let Some(valid) = text(ContextKind::ValidValue) {
        hints.push(format!("possible values: {valid}"));
    }
    for kind in [ContextKind::SuggestedSubcommand, ContextKind::SuggestedArg] {
        if let Some(suggested) = text(kind) {
            let quoted: Vec<String> = suggested.split(", ").map(|s| format!("'{s}'")).collect();
            hints.push(format!("a similar one exists: {}", quoted.join(" or ")));
        }
    }
    if let Some(usage) = text(ContextKind::Usage) {
        let usage = usage.trim().trim_start_matches("Usage:").trim().to_owned();
        hints.push(format!("usage: {usage}"));
    }
    hints.push("For more information, try '--help'.".to_owned());
    (message, hints)
}

#[cfg(test)]
mod tests {
    use clap::{CommandFactory as _, Parser};

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
        Run {
            id: Option<String>,
        },
        #[command(alias = "ls")]
        List,
    }

    fn parse(args: &[&str]) -> Result<Cli, clap::Error> {
        Cli::try_parse_from(normalize_args(&Cli::command(), args.iter().copied()))
    }

    #[test]
    fn global_options_may_follow_the_subcommand() {
        let cli = parse(&["t", "run", "--json", "-vv", "--config", "/x.conf"]).unwrap();
        assert!(cli.global.json);
        assert_eq!(cli.global.verbose, 2);
        assert_eq!(cli.global.config, Some(PathBuf::from("/x.conf")));
        assert!(matches!(cli.command, Command::Run { .. }));
        let cli = parse(&["t", "list", "--api-timeout", "2.5", "--api-retries", "0"]).unwrap();
        assert_eq!(cli.global.api_timeout, Some(Duration::from_millis(2500)));
        assert_eq!(cli.global.api_retries, Some(0));
    }

    #[test]
    fn embedded_takes_an_optional_dir_but_never_a_subcommand() {
        let dir = |args: &[&str]| parse(args).unwrap().global.embedded;
        assert_eq!(dir(&["t", "list"]), None);
        assert_eq!(dir(&["t", "--embedded", "list"]), Some(None));
        assert_eq!(dir(&["t", "--embedded", "ls"]), Some(None));
        assert_eq!(dir(&["t", "list", "--embedded"]), Some(None));
        assert_eq!(
            dir(&["t", "--embedded", "/d", "list"]),
            Some(Some(PathBuf::from("/d")))
        );
        assert_eq!(
            dir(&["t", "--embedded=/d", "list"]),
            Some(Some(PathBuf::from("/d")))
        );
        assert_eq!(
            dir(&["t", "list", "--embedded", "./list"]),
            Some(Some(PathBuf::from("./list")))
        );
        assert_eq!(dir(&["t", "--embedded", "--json", "list"]), Some(None));
        // After `--` everything is left alone.
        let cli = parse(&["t", "run", "--", "--embedded"]).unwrap();
        assert!(matches!(cli.command, Command::Run { id: Some(id) } if id == "--embedded"));
        // `--config` and `--embedded` contradict each other.
        let err = parse(&["t", "--embedded", "--config", "/x", "list"]).unwrap_err();
        assert_eq!(err.kind(), clap::error::ErrorKind::ArgumentConflict);
    }

    #[test]
    fn verbose_and_quiet_conflict() {
        let err = parse(&["t", "-v", "-q", "run"]).unwrap_err();
        assert_eq!(err.kind(), clap::error::ErrorKind::ArgumentConflict);
    }

    #[test]
    fn seconds_parse_with_decimals_and_must_be_positive() {
        assert_eq!(parse_secs("0.5").unwrap(), Duration::from_millis(500));
        for bad in ["0", "-1", "x", "inf", "NaN", ""] {
            assert!(parse_secs(bad).is_err(), "{bad}");
        }
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
    fn client_errors_name_the_source_and_never_the_token() {
        let config = Config::from_vars([
            ("SP_API_HTTP_HOST", ""),
            ("SP_API_HTTP_PORT", "81"),
            ("SP_AUTH_TOKEN", "98765432109876"),
        ]);
        let err = format!(
            "{:#}",
            GlobalArgs::default()
                .client(&config, "/x/storpool.conf")
                .unwrap_err()
        );
        assert!(err.contains("/x/storpool.conf"), "{err}");
        assert!(err.contains("SP_API_HTTP_HOST"), "{err}");
        assert!(!err.contains("98765432109876"), "{err}");
    }

    #[test]
    fn timeouts_and_retries_reach_the_client() {
        let config = Config::from_vars([
            ("SP_API_HTTP_HOST", "127.0.0.1"),
            ("SP_API_HTTP_PORT", "81"),
            ("SP_AUTH_TOKEN", "1"),
        ]);
        let args = GlobalArgs {
            api_retries: Some(1),
            ..GlobalArgs::default()
        };
        let client = args.client(&config, "x").unwrap();
        assert_eq!(client.retry_policy().retries, 1);
        let client = GlobalArgs::default().client(&config, "x").unwrap();
        assert_eq!(*client.retry_policy(), RetryPolicy::default());
    }

    #[derive(Debug, Parser)]
    struct Sized {
        #[arg(long, value_name = "GIB", value_parser = clap::value_parser!(u64).range(1..))]
        size: u64,
        #[arg(long, value_enum)]
        format: Option<Format>,
    }

    #[derive(Clone, Copy, Debug, clap::ValueEnum)]
    enum Format {
        Raw,
        Qcow2,
    }

    fn usage(err: &clap::Error) -> (String, Vec<String>) {
        usage_error(err)
    }

    #[test]
    fn clap_usage_errors_are_one_line_and_hints_from_their_context() {
        let err = Sized::try_parse_from(["t"]).unwrap_err();
        let (message, hints) = usage(&err);
        assert_eq!(
            message,
            "the following required arguments were not provided: --size <GIB>"
        );
        assert_eq!(
            hints,
            [
                "usage: t --size <GIB>",
                "For more information, try '--help'."
            ]
        );
        let err = Sized::try_parse_from(["t", "--size", "0"]).unwrap_err();
        let (message, _) = usage(&err);
        assert_eq!(
            message,
            "invalid value '0' for '--size <GIB>': 0 is not in 1..18446744073709551615"
        );
        let err = Sized::try_parse_from(["t", "--size", "1", "--format", "vmdk"]).unwrap_err();
        let (message, hints) = usage(&err);
        assert_eq!(message, "invalid value 'vmdk' for '--format <FORMAT>'");
        assert_eq!(hints[0], "possible values: raw, qcow2");
        let err = Cli::try_parse_from(["t", "lst"]).unwrap_err();
        let (message, hints) = usage(&err);
        assert_eq!(message, "unrecognized subcommand 'lst'");
        assert_eq!(hints[0], "a similar one exists: 'ls' or 'list'");
        let err = Cli::try_parse_from(["t", "--jsn", "list"]).unwrap_err();
        let (message, hints) = usage(&err);
        assert_eq!(message, "unexpected argument '--jsn' found");
        assert_eq!(hints[0], "a similar one exists: '--json'");
        let err = parse(&["t", "-v", "-q", "list"]).unwrap_err();
        let (message, _) = usage(&err);
        assert_eq!(
            message,
            "the argument '--verbose...' cannot be used with '--quiet...'"
        );
    }
}
