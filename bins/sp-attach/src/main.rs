//! `sp-attach`: attach StorPool volumes and snapshots to this node, detach them, follow
//! resizes, and list what is attached here. A thin layer over `storpool-attach`.

mod output;

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{CommandFactory as _, Parser, Subcommand, ValueEnum};
use storpool_attach::{
    AccessMode, AttachError, Connector, DetachOptions, DetachRetry, DeviceRoot, Target, WaitOptions,
};
use storpool_cli::{
    Cluster, EXIT_CODES_HELP, Environment, ExitStatus, Failure, GLOBAL_OPTIONS, GlobalArgs,
    parse_secs,
};

/// The binary's name in messages.
const BIN: &str = "sp-attach";

/// Attach StorPool volumes and snapshots to this node (the client `SP_OURID` of
/// storpool.conf), detach them, follow resizes, and list what is attached here.
///
/// Volumes and snapshots are named by their orchestrator ids: the cluster names are
/// `{prefix}--volume-{ID}` and `{prefix}--snap--none--snapshot-{ID}`, with the prefix from
/// `SP_OPENSTACK_VOLUME_PREFIX` (default `os`).
///
/// With `--embedded` (or `STORPOOL_EMBEDDED=DIR`) it works on the embedded StorPool simulator
/// (client 1), whose devices appear under DIR/dev; without them and without a configured
/// cluster it refuses to run.
#[derive(Debug, Parser)]
#[command(name = BIN, version, after_help = EXIT_CODES_HELP)]
struct Cli {
    #[command(flatten)]
    global: GlobalArgs,

    /// Where `storpool_block` puts the devices (DIR/storpool/NAME, DIR/storpool-byid/GLOBALID)
    /// [default: /dev, or the embedded simulator's DIR/dev]
    #[arg(long, global = true, value_name = "DIR", help_heading = GLOBAL_OPTIONS)]
    dev_root: Option<PathBuf>,

    #[command(subcommand)]
    command: Command,
}

/// Access asked for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum Mode {
    /// Read-write
    Rw,
    /// Read-only
    Ro,
}

impl From<Mode> for AccessMode {
    fn from(mode: Mode) -> Self {
        match mode {
            Mode::Rw => AccessMode::Rw,
            Mode::Ro => AccessMode::Ro,
        }
    }
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Attach a volume (or with --snapshot a snapshot) and wait until its device is usable;
    /// prints the device path
    #[command(
        after_help = "Examples:\n  sp-attach connect vm-1\n  sp-attach connect vm-1 --mode ro --json\n  sp-attach connect golden --snapshot --attach-timeout 120"
    )]
    Connect {
        /// The volume's (or snapshot's) orchestrator id
        #[arg(value_name = "VOLUME_ID")]
        id: String,
        /// Access: read-write (the default for volumes) or read-only (always for snapshots).
        /// A volume attached read-only here is made read-write; one attached read-write is
        /// not made read-only: that is refused (exit 1)
        #[arg(long, value_enum)]
        mode: Option<Mode>,
        /// The id is a snapshot's
        #[arg(long)]
        snapshot: bool,
        /// Give up waiting for the device after this many seconds (decimals allowed)
        #[arg(long = "attach-timeout", alias = "timeout", value_name = "SECS", default_value = "60",
              value_parser = parse_secs)]
        timeout: Duration,
    },
    /// Detach a volume (or with --snapshot a snapshot) by id, or the device at --path;
    /// succeeds when it is not attached here
    #[command(
        after_help = "Examples:\n  sp-attach disconnect vm-1\n  sp-attach disconnect --path /dev/storpool-byid/sim.a.1x\n  sp-attach disconnect vm-1 --force"
    )]
    Disconnect {
        /// The volume's (or snapshot's) orchestrator id
        #[arg(
            value_name = "VOLUME_ID",
            required_unless_present = "path",
            conflicts_with = "path"
        )]
        id: Option<String>,
        /// The device: DIR/storpool-byid/GLOBALID or DIR/storpool/NAME
        #[arg(long, value_name = "DEVICE")]
        path: Option<PathBuf>,
        /// The id is a snapshot's
        #[arg(long, conflicts_with = "path")]
        snapshot: bool,
        /// Detach even if the device is open here (its users get I/O errors)
        #[arg(long)]
        force: bool,
        /// How many times a detach refused because the device is open is sent again
        #[arg(long, value_name = "N", default_value_t = DetachRetry::default().retries)]
        retries: u32,
        /// Seconds between those retries (decimals allowed, 0 for none)
        #[arg(long, value_name = "SECS", default_value = "0.2", value_parser = parse_delay)]
        retry_delay: Duration,
        /// Do not force the last retry: fail if the device is still open (the default forces
        /// it, as os-brick does)
        #[arg(long, conflicts_with = "force")]
        no_force_last: bool,
        /// Give up waiting for the API or the device links after this many seconds
        #[arg(long = "attach-timeout", alias = "timeout", value_name = "SECS", default_value = "60",
              value_parser = parse_secs)]
        timeout: Duration,
    },
    /// Wait until the local device of a resized volume shows the cluster's size; prints the
    /// size in bytes
    #[command(
        after_help = "Examples:\n  sp-attach extend vm-1\n  sp-attach extend vm-1 --attach-timeout 30 --json"
    )]
    Extend {
        /// The volume's orchestrator id
        #[arg(value_name = "VOLUME_ID")]
        id: String,
        /// Give up waiting for the device's new size after this many seconds
        #[arg(long = "attach-timeout", alias = "timeout", value_name = "SECS", default_value = "60",
              value_parser = parse_secs)]
        timeout: Duration,
    },
    /// List the volumes and snapshots attached to this node: ids, names, rights, paths (with
    /// --all-nodes: what every node of the cluster has attached)
    #[command(
        after_help = "Examples:\n  sp-attach list\n  sp-attach list --all-nodes\n  sp-attach --json list"
    )]
    List {
        /// Every node's attachments: client, id, name, rights (paths exist only here)
        #[arg(long)]
        all_nodes: bool,
    },
    /// Print a completion script for bash, zsh or fish
    #[command(after_help = storpool_cli::completions_examples!("sp-attach"))]
    Completions(storpool_cli::CompletionsArgs),
    /// Print the man page, or write one per command into a folder
    #[command(after_help = storpool_cli::man_examples!("sp-attach"))]
    Man(storpool_cli::ManArgs),
}

/// Seconds, decimals allowed, zero too: `0.2`, `0`.
fn parse_delay(text: &str) -> Result<Duration, String> {
    let secs: f64 = text
        .parse()
        .map_err(|_| format!("`{text}` is not a number of seconds"))?;
    Duration::try_from_secs_f64(secs)
        .map_err(|_| format!("`{text}`: expected a number of seconds, 0 or more"))
}

/// What the command line resolves to, before any call.
struct Settings {
    json: bool,
    dev_root: Option<PathBuf>,
    timeout: Duration,
    detach_retry: DetachRetry,
}

impl Cli {
    fn settings(&self) -> Settings {
        let timeout = match &self.command {
            Command::Connect { timeout, .. }
            | Command::Disconnect { timeout, .. }
            | Command::Extend { timeout, .. } => *timeout,
            Command::List { .. } | Command::Completions(_) | Command::Man(_) => {
                WaitOptions::default().timeout
            }
        };
        let detach_retry = match &self.command {
            Command::Disconnect {
                retries,
                retry_delay,
                no_force_last,
                ..
            } => DetachRetry {
                retries: *retries,
                delay: *retry_delay,
                force_last: !no_force_last,
            },
            _ => DetachRetry::default(),
        };
        Settings {
            json: self.global.json,
            dev_root: self.dev_root.clone(),
            timeout,
            detach_retry,
        }
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let cli = match storpool_cli::parse_args::<Cli>(BIN) {
        Ok(cli) => cli,
        Err(code) => return code,
    };
    storpool_cli::init_logging(&cli.global, "sp_attach");
    match run(&cli).await {
        Ok(()) => ExitStatus::Success.into(),
        Err(failure) => failure.report(BIN),
    }
}

async fn run(cli: &Cli) -> Result<(), Failure> {
    match &cli.command {
        Command::Completions(args) => {
            return storpool_cli::print_completions(Cli::command(), args.shell)
                .map_err(|err| Failure::operation(err).context("cannot write the output"));
        }
        Command::Man(args) => {
            return storpool_cli::man_pages(Cli::command(), args.dir.as_deref())
                .map(drop)
                .map_err(Failure::operation);
        }
        _ => {}
    }
    let settings = cli.settings();
    let cluster = Cluster::connect_for(
        BIN,
        &cli.global,
        &Environment::from_process(),
        settings.dev_root.as_deref(),
    )
    .await?;
    cluster.announce(BIN);
    let result = match connector(&cluster, &settings) {
        Ok(connector) => execute(cli, &settings, &connector).await,
        Err(failure) => Err(failure),
    };
    cluster.shutdown().await;
    result
}

/// Runs the subcommand and prints its result.
async fn execute(cli: &Cli, settings: &Settings, connector: &Connector) -> Result<(), Failure> {
    match &cli.command {
        Command::Connect {
            id, mode, snapshot, ..
        } => {
            let (target, default_mode) = if *snapshot {
                (Target::snapshot(id), AccessMode::Ro)
            } else {
                (Target::volume(id), AccessMode::Rw)
            };
            let asked = mode.map_or(default_mode, AccessMode::from);
            let attached = match connector.connect(&target, asked).await {
                Ok(attached) => attached,
                Err(err) => return Err(connect_failure(connector, &target, err).await),
            };
            // A read-write attachment covers a read-only request; the library keeps it as it
            // is. Asked for explicitly, read-only must not silently stay read-write.
            if attached.access_mode != asked {
                return Err(Failure::operation(anyhow::anyhow!(
                    "{} `{id}` is attached {} to this node (client {}): it stays so",
                    attached.kind,
                    mode_words(attached.access_mode),
                    connector.our_id()
                ))
                .with_hint(format!(
                    "disconnect it first to attach it {}, or connect with `--mode {}`",
                    mode_words(asked),
                    attached.access_mode
                )));
            }
            output::attached(&attached, settings.json)
        }
        Command::Disconnect {
            id,
            path,
            snapshot,
            force,
            ..
        } => {
            let options = DetachOptions { force: *force };
            let result = match (id, path) {
                (_, Some(path)) => connector.disconnect_path(path, options).await,
                (Some(id), None) if *snapshot => {
                    connector.disconnect(&Target::snapshot(id), options).await
                }
                (Some(id), None) => connector.disconnect(&Target::volume(id), options).await,
                (None, None) => {
                    return Err(Failure::usage(anyhow::anyhow!(
                        "give the VOLUME_ID or the `--path` of the device to disconnect"
                    )));
                }
            };
            let detached = result.map_err(failure)?;
            output::detached(&detached, settings.json)
        }
        Command::Extend { id, .. } => {
            let extended = connector.extend(id).await.map_err(failure)?;
            output::extended(&extended, settings.json)
        }
        Command::List { all_nodes: false } => {
            let list = connector.list().await.map_err(failure)?;
            output::list(connector.our_id().get(), &list, settings.json)
        }
        Command::List { all_nodes: true } => {
            let list = connector.list_all_nodes().await.map_err(failure)?;
            output::list_all_nodes(connector.our_id().get(), &list, settings.json)
        }
        Command::Completions(_) | Command::Man(_) => unreachable!("these need no cluster"),
    }
    .map_err(|err| Failure::operation(err).context("cannot write the output"))
}

/// `read-write` or `read-only`.
fn mode_words(mode: AccessMode) -> &'static str {
    match mode {
        AccessMode::Rw => "read-write",
        AccessMode::Ro => "read-only",
    }
}

/// The connector for this node: its client id, the API client, the device root, the deadline.
fn connector(cluster: &Cluster, settings: &Settings) -> Result<Connector, Failure> {
    let dev_root = cluster.device_root();
    let connector = Connector::from_conf(cluster.config(), cluster.client())
        .map_err(failure)?
        .with_device_root(DeviceRoot::new(dev_root))
        .with_wait(WaitOptions {
            timeout: settings.timeout,
            ..WaitOptions::default()
        })
        .with_detach_retry(settings.detach_retry);
    Ok(connector)
}

/// Exit 2 for bad usage or configuration, 1 for an operation that failed; hints where a
/// next step is clear.
/// A failed connect; when the cluster holds the target attached here all the same (its
/// device never appeared, or the wait was cut short), a hint says so and how to undo it. It
/// is not detached: it may have been attached here before this command, for another user.
async fn connect_failure(connector: &Connector, target: &Target, err: AttachError) -> Failure {
    let failure = failure(err);
    let Ok(name) = connector.cluster_name(target) else {
        return failure;
    };
    let held = match connector.list().await {
        Ok(list) => list
            .iter()
            .any(|a| a.name == name && a.kind.is_snapshot() == target.kind.is_snapshot()),
        Err(err) => {
            tracing::debug!(%err, "cannot tell whether it stays attached");
            false
        }
    };
    if !held {
        return failure;
    }
    let (kind, flag) = if target.kind.is_snapshot() {
        ("snapshot", "--snapshot ")
    } else {
        ("volume", "")
    };
    failure.with_hint(format!(
        "{kind} `{id}` stays attached to this node (client {client}): detach it with \
         `sp-attach disconnect {flag}{id}`",
        id = target.id,
        client = connector.our_id()
    ))
}

fn failure(err: AttachError) -> Failure {
    let hint = match &err {
        AttachError::Config(_) => Some(
            "set `SP_OURID` (this node's StorPool client id) in storpool.conf, in the global \
             part or in the `[NODE]` section of this host"
                .to_owned(),
        ),
        AttachError::Busy { .. } => {
            Some("stop what uses the device and try again, or detach with `--force`".to_owned())
        }
        AttachError::UnexpectedDevicePath { root, .. } => Some(format!(
            "devices are looked for under `--dev-root {}`",
            root.display()
        )),
        AttachError::Timeout { .. } => Some(
            "is `storpool_block` running on this node for its `SP_OURID`? A longer \
                 `--attach-timeout` may help"
                .to_owned(),
        ),
        _ => None,
    };
    let failure = if err.is_usage() {
        Failure::usage(err)
    } else {
        Failure::operation(err)
    };
    match hint {
        Some(hint) => failure.with_hint(hint),
        None => failure,
    }
}

#[cfg(test)]
mod tests {

    use super::*;

    #[test]
    fn the_command_line_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn every_subcommand_shows_two_examples_or_more() {
        for sub in Cli::command().get_subcommands() {
            let help = sub
                .get_after_help()
                .map(ToString::to_string)
                .unwrap_or_default();
            let examples = help
                .strip_prefix("Examples:\n")
                .unwrap_or_else(|| panic!("{}: {help}", sub.get_name()));
            let lines: Vec<&str> = examples.lines().collect();
            assert!(lines.len() >= 2, "{}: {help}", sub.get_name());
            assert!(
                lines.iter().all(|l| l.starts_with("  sp-attach ")),
                "{help}"
            );
        }
    }

    #[test]
    fn delays_parse_with_decimals_and_may_be_zero() {
        assert_eq!(parse_delay("0.5").unwrap(), Duration::from_millis(500));
        assert_eq!(parse_delay("0").unwrap(), Duration::ZERO);
        assert!(parse_delay("-0.1").is_err());
    }
}
