//! `storpool-sim`: runs the StorPool API simulator as a server.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context as _;
use clap::{CommandFactory as _, Parser};
use storpool_sim::{ClusterLayout, Faults, LayoutTemplate, SimBuilder};

/// A faithful StorPool management API simulator with emulated `storpool_block` devices.
///
/// Exit codes: 0 stopped by SIGINT/SIGTERM; 2 bad usage or the server could not start.
#[derive(Debug, Parser)]
#[command(
    name = "storpool-sim",
    version,
    args_conflicts_with_subcommands = true,
    after_help = "Examples:
  storpool-sim --state /tmp/sp-state --serve-client 1 --write-config /tmp/storpool.conf
  storpool-sim --listen 127.0.0.1:0 --template ssd --template hdd:2 --fault-error-rate 0.05"
)]
struct Args {
    #[command(subcommand)]
    tool: Option<Tool>,
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:8181", value_name = "ADDR")]
    listen: SocketAddr,
    /// API token clients must send (`Authorization: Storpool v1:TOKEN`): visible ASCII
    /// characters other than `\`; generated and printed when absent.
    #[arg(
        long,
        value_name = "T",
        env = "STORPOOL_SIM_TOKEN",
        hide_env_values = true
    )]
    token: Option<String>,
    /// State directory (metadata and volume data); restored when it exists. Without it the
    /// state lives in a temporary directory removed at exit.
    #[arg(long, value_name = "DIR")]
    state: Option<PathBuf>,
    /// Device root for served clients: links go to DIR/storpool/NAME and
    /// DIR/storpool-byid/GLOBALID. Default: the `dev` folder of the state directory (the real
    /// `/dev` only when given as `--dev-root /dev`).
    #[arg(long, value_name = "DIR")]
    dev_root: Option<PathBuf>,
    /// Act as the `storpool_block` of this client id (repeatable).
    #[arg(long = "serve-client", value_name = "ID", value_parser = clap::value_parser!(u16).range(1..=4095))]
    serve_client: Vec<u16>,
    /// Registered clients besides the served ones (repeatable; default 1..=16).
    #[arg(long = "client", value_name = "ID", value_parser = clap::value_parser!(u16).range(1..=4095))]
    client: Vec<u16>,
    /// Storage servers of a new cluster.
    #[arg(long, default_value_t = 3, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=99))]
    servers: u32,
    /// Disks per server of a new cluster.
    #[arg(long, default_value_t = 4, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=99))]
    disks_per_server: u32,
    /// Size of each disk (bytes, or with a K/M/G/T suffix).
    #[arg(long, default_value = "512G", value_name = "SIZE", value_parser = parse_size)]
    disk_size: u64,
    /// A volume template of a new cluster (repeatable): replication 3 and placement group
    /// `default` unless given; a placement group it names is made with every disk. Ignored
    /// when the state exists.
    #[arg(long = "template", value_name = "NAME[:REPLICATION[:PLACEMENT]]", value_parser = parse_template)]
    templates: Vec<LayoutTemplate>,
    /// Keep connections open between requests (default: close after each answer, like the
    /// real server).
    #[arg(long)]
    keep_alive: bool,
    /// Do not fsync changes (faster; a change still survives a crash of the process).
    #[arg(long)]
    no_sync: bool,
    /// HTTP status of error answers: 200 (errors as an `error` member) or 400..=599.
    #[arg(long, default_value_t = 500, value_name = "STATUS", value_parser = parse_error_status)]
    error_status: u16,
    /// How long a client has to send a request's head, and then its body: a connection whose
    /// head is late is closed, a late body gets an error answer.
    #[arg(long, default_value_t = 10_000, value_name = "MS", value_parser = clap::value_parser!(u64).range(1..))]
    request_timeout_ms: u64,
    /// Connections served at once; more wait in the kernel's backlog until one ends.
    #[arg(long, default_value_t = 256, value_name = "N", value_parser = clap::value_parser!(u64).range(1..=1_000_000))]
    max_connections: u64,
    /// Write a storpool.conf pointing at this server (`SP_OURID` = the first served client),
    /// mode 0600, replacing FILE (a link there is replaced, not followed).
    #[arg(long, value_name = "FILE")]
    write_config: Option<PathBuf>,
    /// Fraction of API requests answered with a transient `busy` error.
    #[arg(long, default_value_t = 0.0, value_name = "RATE", value_parser = parse_rate)]
    fault_error_rate: f64,
    /// Fraction of API requests whose connection is dropped without an answer.
    #[arg(long, default_value_t = 0.0, value_name = "RATE", value_parser = parse_rate)]
    fault_drop_rate: f64,
    /// Fraction of API requests that stall for `--fault-stall-ms`, then get dropped.
    #[arg(long, default_value_t = 0.0, value_name = "RATE", value_parser = parse_rate)]
    fault_stall_rate: f64,
    /// How long a stalled request hangs.
    #[arg(long, default_value_t = 60_000, value_name = "MS")]
    fault_stall_ms: u64,
    /// Fraction of API requests that take effect but whose answer is lost (connection closed).
    #[arg(long, default_value_t = 0.0, value_name = "RATE", value_parser = parse_rate)]
    fault_lost_answer_rate: f64,
    /// Latency added to every API answer.
    #[arg(long, default_value_t = 0, value_name = "MS")]
    fault_latency_ms: u64,
    /// Seed of the fault generator.
    #[arg(long, default_value_t = 0, value_name = "N")]
    seed: u64,
    /// Log less (warnings only).
    #[arg(short, long)]
    quiet: bool,
    /// How log lines on stderr are written: `text` for people, `json` for machines
    #[arg(long, value_name = "FORMAT", value_enum, default_value_t = storpool_cli::LogFormat::Text)]
    log_format: storpool_cli::LogFormat,
}

/// What the tool tells about itself.
#[derive(Debug, clap::Subcommand)]
enum Tool {
    /// Print a completion script for bash, zsh or fish
    #[command(after_help = storpool_cli::completions_examples!("storpool-sim"))]
    Completions(storpool_cli::CompletionsArgs),
    /// Print the man page, or write it into a folder
    #[command(after_help = storpool_cli::man_examples!("storpool-sim"))]
    Man(storpool_cli::ManArgs),
}

fn parse_size(s: &str) -> Result<u64, String> {
    let s = s.trim();
    let (num, mult) = match s.char_indices().last() {
        Some((i, c)) if c.is_ascii_alphabetic() => {
            let m: u64 = match c.to_ascii_uppercase() {
                'K' => 1 << 10,
                'M' => 1 << 20,
                'G' => 1 << 30,
                'T' => 1 << 40,
                _ => return Err(format!("unknown size suffix `{c}`: use K, M, G or T")),
            };
            (&s[..i], m)
        }
        _ => (s, 1),
    };
    let n: u64 = num.parse().map_err(|_| format!("`{s}` is not a size"))?;
    n.checked_mul(mult)
        .filter(|v| *v >= 1 << 30)
        .ok_or_else(|| format!("`{s}`: a disk needs at least 1G"))
}

/// The reason of a refused option, without the library's `invalid option: ` prefix.
fn why(e: storpool_sim::SimError) -> String {
    match e {
        storpool_sim::SimError::Option(why) => why,
        other => other.to_string(),
    }
}

fn parse_template(s: &str) -> Result<LayoutTemplate, String> {
    LayoutTemplate::parse(s).map_err(why)
}

fn parse_error_status(s: &str) -> Result<u16, String> {
    let status: u16 = s
        .parse()
        .map_err(|_| format!("`{s}` is not an HTTP status"))?;
    storpool_sim::check_error_status(status).map_err(why)?;
    Ok(status)
}

fn parse_rate(s: &str) -> Result<f64, String> {
    let r: f64 = s.parse().map_err(|_| format!("`{s}` is not a number"))?;
    if (0.0..=1.0).contains(&r) {
        Ok(r)
    } else {
        Err(format!("`{s}` is not between 0 and 1"))
    }
}

mod output {
    //! Everything the binary prints.
    #![allow(clippy::print_stderr)]

    pub(crate) fn started(url: &str, token: Option<&str>, dev_root: &std::path::Path) {
        eprintln!("storpool-sim: listening on {url}");
        if let Some(t) = token {
            eprintln!("storpool-sim: generated token: {t}");
        }
        eprintln!("storpool-sim: device root: {}", dev_root.display());
    }
}

/// Installs the SIGINT and SIGTERM handlers at once, so that a signal arriving as soon as the
/// server has announced itself (even before it serves) stops it cleanly, and returns a future
/// that completes on the first of them.
fn shutdown_signal() -> impl std::future::Future<Output = ()> {
    #[cfg(unix)]
    let signals = {
        use tokio::signal::unix::{SignalKind, signal};
        (
            signal(SignalKind::terminate()),
            signal(SignalKind::interrupt()),
        )
    };
    async move {
        #[cfg(unix)]
        match signals {
            (Ok(mut term), Ok(mut int)) => {
                tokio::select! {
                    _ = term.recv() => {}
                    _ = int.recv() => {}
                }
            }
            (Ok(mut one), Err(_)) | (Err(_), Ok(mut one)) => {
                one.recv().await;
            }
            (Err(_), Err(_)) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
        #[cfg(not(unix))]
        {
            let _ = tokio::signal::ctrl_c().await;
        }
        tracing::info!("shutting down");
    }
}

async fn run(args: Args) -> anyhow::Result<()> {
    let mut layout = ClusterLayout {
        servers: args.servers,
        disks_per_server: args.disks_per_server,
        disk_size: args.disk_size,
        templates: args.templates.clone(),
        ..ClusterLayout::default()
    };
    if !args.client.is_empty() {
        layout.clients.clone_from(&args.client);
    }
    let faults = Faults {
        seed: args.seed,
        error_rate: args.fault_error_rate,
        latency: Duration::from_millis(args.fault_latency_ms),
        drop_rate: args.fault_drop_rate,
        stall_rate: args.fault_stall_rate,
        stall: Duration::from_millis(args.fault_stall_ms),
        lost_answer_rate: args.fault_lost_answer_rate,
        errors: Vec::new(),
    };
    let mut builder = SimBuilder::new()
        .keep_alive(args.keep_alive)
        .sync(!args.no_sync)
        .error_status(args.error_status)
        .request_timeout(Duration::from_millis(args.request_timeout_ms))
        .max_connections(usize::try_from(args.max_connections).unwrap_or(usize::MAX))
        .layout(layout)
        .faults(faults);
    if let Some(t) = &args.token {
        builder = builder.token(t.clone());
    }
    if let Some(s) = &args.state {
        builder = builder.state_dir(s);
    }
    if let Some(d) = &args.dev_root {
        builder = builder.dev_root(d);
    }
    for c in &args.serve_client {
        builder = builder.serve_client(*c);
    }
    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .with_context(|| format!("cannot listen on {}", args.listen))?;
    let addr = listener
        .local_addr()
        .context("cannot read the listening address")?;
    let service = builder.build().context("cannot start the simulator")?;
    let handle = service.handle();
    // Before announcing the address: a signal from then on must stop the server cleanly.
    let shutdown = shutdown_signal();
    if let Some(path) = &args.write_config {
        let host = if addr.ip().is_unspecified() {
            "127.0.0.1".to_owned()
        } else {
            addr.ip().to_string()
        };
        let text = storpool_sim::storpool_conf_text(
            &host,
            addr.port(),
            handle.token(),
            args.serve_client.first().copied(),
        );
        storpool_sim::write_storpool_conf(path, &text)
            .with_context(|| format!("cannot write {}", path.display()))?;
    }
    output::started(
        &format!("http://{addr}"),
        args.token.is_none().then(|| handle.token()),
        handle.dev_root(),
    );
    service.serve(listener, shutdown).await;
    Ok(())
}

// One thread, as `Sim::start` uses: the connections are served from one task and blocking
// work goes to the blocking pool.
#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let args = match storpool_cli::parse_args::<Args>("storpool-sim") {
        Ok(args) => args,
        Err(code) => return code,
    };
    match &args.tool {
        Some(Tool::Completions(tool)) => {
            return match storpool_cli::print_completions(Args::command(), tool.shell) {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => storpool_cli::Failure::operation(e).report("storpool-sim"),
            };
        }
        Some(Tool::Man(tool)) => {
            return match storpool_cli::man_pages(Args::command(), tool.dir.as_deref()) {
                Ok(_) => ExitCode::SUCCESS,
                Err(e) => storpool_cli::Failure::operation(e).report("storpool-sim"),
            };
        }
        None => {}
    }
    // `RUST_LOG` when it is a valid filter (an invalid one is said), else requests at info
    // (`-q`: warnings only).
    let default = if args.quiet { "warn" } else { "info" };
    let rust_log = std::env::var("RUST_LOG")
        .ok()
        .filter(|filter| !filter.trim().is_empty());
    let filter = match rust_log {
        Some(filter) => match tracing_subscriber::EnvFilter::try_new(&filter) {
            Ok(_) => filter,
            Err(err) => {
                storpool_cli::warning(
                    "storpool-sim",
                    &format!("ignoring `RUST_LOG`: it is not a valid filter ({err})"),
                );
                default.to_owned()
            }
        },
        None => default.to_owned(),
    };
    let _ = storpool_cli::LogSettings {
        filter,
        color: storpool_cli::stderr_colors(),
        format: args.log_format,
    }
    .init();
    match run(args).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => storpool_cli::Failure::usage(e).report("storpool-sim"),
    }
}
