//! `sp-conf`: the effective StorPool configuration of this node (or of any section), as
//! `NAME=value` lines, JSON, or one value for `$(sp-conf --query SP_OURID)`.

mod output;

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context as _;
use clap::{CommandFactory as _, Parser};
use storpool_cli::Failure;
use storpool_conf::{Config, Loader, STORPOOL_CONF};

/// Show the effective StorPool configuration (storpool.conf, its drop-ins, defaults and
/// environment overrides).
#[derive(Debug, Parser)]
#[allow(clippy::struct_excessive_bools)] // clap flags
#[command(
    version,
    args_conflicts_with_subcommands = true,
    after_help = "Examples:
  sp-conf
  sp-conf --query SP_OURID
  sp-conf --section compute-1 --json

Exit codes: 0 done; 1 the variable asked for with --query is not set; 2 usage error or \
unreadable/invalid configuration."
)]
struct Args {
    #[command(subcommand)]
    tool: Option<Tool>,

    /// The main configuration file; its drop-ins are read from FILE.d/
    #[arg(long, value_name = "FILE", env = STORPOOL_CONF, default_value = storpool_conf::DEFAULT_MAIN_FILE)]
    config: PathBuf,

    /// Read this section instead of the node's own (`uname -n`)
    #[arg(short, long, value_name = "SECTION")]
    section: Option<String>,

    /// Ignore `SP_AUTH_TOKEN`, `SP_API_HTTP_HOST` and `SP_API_HTTP_PORT` from the environment
    #[arg(long)]
    no_env: bool,

    /// Skip configuration files that do not exist instead of failing
    #[arg(long)]
    missing_ok: bool,

    /// Print one JSON document instead of lines
    #[arg(long)]
    json: bool,

    /// Print only the value of NAME (exit code 1 and nothing on stdout if it is not set)
    #[arg(long = "query", value_name = "NAME", conflicts_with = "sections")]
    query: Option<String>,

    /// List the section names found in the files
    #[arg(long)]
    sections: bool,

    /// Show secrets (`SP_AUTH_TOKEN`) instead of `<redacted>`
    #[arg(long)]
    show_secrets: bool,
}

/// What the tool tells about itself.
#[derive(Debug, clap::Subcommand)]
enum Tool {
    /// Print a completion script for bash, zsh or fish
    #[command(after_help = storpool_cli::completions_examples!("sp-conf"))]
    Completions(storpool_cli::CompletionsArgs),
    /// Print the man page, or write it into a folder
    #[command(after_help = storpool_cli::man_examples!("sp-conf"))]
    Man(storpool_cli::ManArgs),
}

impl Args {
    fn loader(&self) -> Loader {
        let loader = Loader::new(&self.config)
            .missing_ok(self.missing_ok)
            .use_env(!self.no_env);
        match &self.section {
            Some(section) => loader.section(section),
            None => loader,
        }
    }
}

fn main() -> ExitCode {
    let args = match storpool_cli::parse_args::<Args>("sp-conf") {
        Ok(args) => args,
        Err(code) => return code,
    };
    match run(&args) {
        Ok(code) => code,
        Err(err) => Failure::usage(err).report("sp-conf"),
    }
}

fn run(args: &Args) -> anyhow::Result<ExitCode> {
    match &args.tool {
        Some(Tool::Completions(tool)) => {
            storpool_cli::print_completions(Args::command(), tool.shell)?;
            return Ok(ExitCode::SUCCESS);
        }
        Some(Tool::Man(tool)) => {
            storpool_cli::man_pages(Args::command(), tool.dir.as_deref())?;
            return Ok(ExitCode::SUCCESS);
        }
        None => {}
    }
    let loader = args.loader();
    if args.sections {
        let sections = loader
            .sections()
            .context("cannot list the configuration sections")?;
        output::sections(&sections, args.json)?;
        return Ok(ExitCode::SUCCESS);
    }
    let config: Config = loader.load()?;
    if let Some(name) = &args.query {
        return match config.get(name) {
            Some(value) => {
                output::value(name, value, args.show_secrets, args.json)?;
                Ok(ExitCode::SUCCESS)
            }
            None => Ok(ExitCode::from(1)),
        };
    }
    output::all(&config, args.show_secrets, args.json)?;
    Ok(ExitCode::SUCCESS)
}
