//! `sp-volume`: StorPool volumes from the shell, a thin layer over `storpool-driver-core`
//! (and, for images, `storpool-attach` and `qemu-img`).
//!
//! `main` parses the command line, sets up logging, resolves the settings and the cluster
//! (storpool.conf, or the embedded simulator), makes one library call per subcommand, prints
//! the result and maps failures to exit codes: 0 done, 1 the operation failed, 2 usage,
//! configuration or unexpected error.

mod cli;
mod commands;
mod demo;
mod doctor;
mod image;
mod output;
mod settings;
mod signals;

use std::process::ExitCode;

use storpool_cli::{Cluster, Environment, ExitStatus, Failure, GlobalArgs};
use storpool_image::CancellationToken;

use crate::cli::{Cli, Command};
use crate::settings::{Ctx, Settings};

/// mimalloc instead of glibc's malloc: `--json list` of 100,000 volumes in 165 ms instead of
/// 250 (see the workspace manifest).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// The binary's name in messages.
const BIN: &str = "sp-volume";

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let cli = match storpool_cli::parse_args::<Cli>(BIN) {
        Ok(cli) => cli,
        Err(code) => return code,
    };
    storpool_cli::init_logging(&cli.global, "sp_volume");
    match run(&cli).await {
        Ok(()) => ExitStatus::Success.into(),
        Err(failure) => failure.report(BIN),
    }
}

async fn run(cli: &Cli) -> Result<(), Failure> {
    let cancel = CancellationToken::new();
    let received = if signals::cleans_up(&cli.command) {
        signals::watch(cancel.clone(), cli.global.quiet > 0).map_err(|err| {
            Failure::usage(anyhow::Error::new(err).context("cannot handle signals"))
        })?
    } else {
        signals::Received::default()
    };
    let result = run_command(cli, cancel).await;
    match (result, received.get()) {
        // Stopped by a signal: whatever the error says, the code says which signal.
        (Err(failure), Some(signal)) => Err(failure.with_status(ExitStatus::Signal(signal))),
        (result, _) => result,
    }
}

async fn run_command(cli: &Cli, cancel: CancellationToken) -> Result<(), Failure> {
    match &cli.command {
        Command::Completions(args) => {
            return storpool_cli::print_completions(cli::command(), args.shell)
                .map_err(output::failed);
        }
        Command::Man(args) => {
            return storpool_cli::man_pages(cli::command(), args.dir.as_deref())
                .map(drop)
                .map_err(Failure::operation);
        }
        _ => {}
    }
    let settings = Settings::resolve(cli)?;
    let env = Environment::from_process();
    if matches!(cli.command, Command::Doctor) {
        let report = doctor::run(&settings, &cli.global, &env).await;
        output::doctor(&report, settings.json).map_err(output::failed)?;
        return doctor::outcome(&report);
    }
    let (global, _demo_dir) = cluster_args(cli, &env)?;
    let cluster = Cluster::connect_for(BIN, &global, &env, settings.dev_root.as_deref()).await?;
    cluster.announce(BIN);
    let ctx = Ctx::new(settings, cluster, cancel)?;
    let result = commands::execute(&ctx, &cli.command).await;
    ctx.cluster.shutdown().await;
    result
}

/// The options that choose the cluster. The demo runs on a fresh embedded simulator in a
/// temporary folder (removed when the returned guard drops) unless `--embedded`, `--config`,
/// `STORPOOL_EMBEDDED` or `STORPOOL_CONF` names a cluster.
fn cluster_args(
    cli: &Cli,
    env: &Environment,
) -> Result<(GlobalArgs, Option<tempfile::TempDir>), Failure> {
    let mut global = cli.global.clone();
    let chosen = global.embedded.is_some()
        || global.config.is_some()
        || env.storpool_conf.is_some()
        || env.embedded.is_some();
    if !matches!(cli.command, Command::Demo { .. }) || chosen {
        return Ok((global, None));
    }
    let dir = tempfile::Builder::new()
        .prefix("sp-volume-demo-cluster-")
        .tempdir()
        .map_err(|err| {
            Failure::usage(anyhow::Error::new(err).context("cannot make a temporary folder"))
        })?;
    global.embedded = Some(Some(dir.path().to_owned()));
    Ok((global, Some(dir)))
}
