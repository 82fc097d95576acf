//! `sp-volume doctor`: is this node set up to use StorPool? One check per line.

use std::path::Path;

use serde::Serialize;
use storpool_api::ClusterStatus;
use storpool_cli::{Cluster, Environment, Failure, GlobalArgs};

use crate::settings::Settings;

/// How a check came out.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum Status {
    /// Fine.
    Ok,
    /// Works, but worth knowing (a simulator, no `qemu-img`).
    Warn,
    /// Broken: the command exits 1.
    Fail,
    /// Not checked, because an earlier check failed.
    Skip,
}

impl Status {
    pub(crate) fn word(self) -> &'static str {
        match self {
            Status::Ok => "ok",
            Status::Warn => "warn",
            Status::Fail => "fail",
            Status::Skip => "skip",
        }
    }
}

/// One check: its name, how it came out, what was found.
#[derive(Clone, Debug, Serialize)]
pub(crate) struct Check {
    #[serde(rename = "check")]
    pub(crate) name: &'static str,
    pub(crate) status: Status,
    pub(crate) detail: String,
}

/// Every check, in order; `healthy` when none failed.
#[derive(Clone, Debug, Serialize)]
pub(crate) struct Report {
    pub(crate) healthy: bool,
    pub(crate) checks: Vec<Check>,
}

fn check(name: &'static str, status: Status, detail: impl Into<String>) -> Check {
    Check {
        name,
        status,
        detail: detail.into(),
    }
}

/// Runs the checks. The cluster is chosen as every command chooses it, but a configuration
/// that cannot be used is a failed check here, not an error.
pub(crate) async fn run(settings: &Settings, global: &GlobalArgs, env: &Environment) -> Report {
    let cluster =
        match Cluster::connect_for(crate::BIN, global, env, settings.dev_root.as_deref()).await {
            Ok(cluster) => cluster,
            Err(failure) => {
                let why = format!("{:#}", failure.error()).replace('\n', " ");
                let skipped = "not checked: no usable configuration";
                let mut checks = vec![check("config", Status::Fail, why)];
                for name in ["cluster", "api", "client", "devices"] {
                    checks.push(check(name, Status::Skip, skipped));
                }
                checks.push(qemu_img().await);
                return Report {
                    healthy: false,
                    checks,
                };
            }
        };
    cluster.announce(crate::BIN);
    let report = checks(&cluster).await;
    cluster.shutdown().await;
    report
}

async fn checks(cluster: &Cluster) -> Report {
    let config_check = config(cluster);
    let url = cluster.client().base_url().to_owned();
    let status = cluster.client().services().list().await;
    let api_check = match &status {
        Ok(status) => check(
            "api",
            Status::Ok,
            format!(
                "{url}: token accepted ({} servers, {} clients)",
                status.servers.len(),
                status.clients.len()
            ),
        ),
        Err(err) if err.server().is_some_and(|s| s.status == 401) => check(
            "api",
            Status::Fail,
            format!("{url}: token refused (HTTP 401): check `SP_AUTH_TOKEN`"),
        ),
        Err(err) => check("api", Status::Fail, format!("{url}: {err}")),
    };
    let status = status.ok();
    let cluster_check = what_cluster(cluster, &url, status.as_ref());
    let our_id = cluster.config().our_id();
    let client_check = client(
        our_id.as_ref().map(|id| *id).map_err(ToString::to_string),
        status.as_ref(),
    );
    let devices_check = devices(cluster.device_root(), matches!(our_id, Ok(Some(_))));
    let checks = vec![
        config_check,
        cluster_check,
        api_check,
        client_check,
        devices_check,
        qemu_img().await,
    ];
    Report {
        healthy: checks.iter().all(|c| c.status != Status::Fail),
        checks,
    }
}

/// Which files were read, or why none were needed.
fn config(cluster: &Cluster) -> Check {
    let config = cluster.config();
    match cluster.embedded() {
        Some(embedded) => check(
            "config",
            Status::Ok,
            format!(
                "no configuration files needed: the embedded simulator in {}",
                embedded.dir().display()
            ),
        ),
        None if config.files().is_empty() => check(
            "config",
            Status::Ok,
            format!("no file read: {}", cluster.source()),
        ),
        None => {
            let files: Vec<String> = config
                .files()
                .iter()
                .map(|f| f.display().to_string())
                .collect();
            check(
                "config",
                Status::Ok,
                format!("read {} (section `{}`)", files.join(", "), config.section()),
            )
        }
    }
}

/// The embedded simulator, a StorPool cluster, or a `storpool-sim` server pretending to be one.
fn what_cluster(cluster: &Cluster, url: &str, status: Option<&ClusterStatus>) -> Check {
    match (cluster.embedded(), status) {
        (Some(embedded), _) => check(
            "cluster",
            Status::Ok,
            format!("the embedded simulator in {}", embedded.dir().display()),
        ),
        (None, Some(status)) => match mgmt_version(status) {
            Some(version) if version.ends_with("-sim") => check(
                "cluster",
                Status::Warn,
                format!("{url} is a storpool-sim simulator ({version}), not a StorPool cluster"),
            ),
            Some(version) => check("cluster", Status::Ok, format!("StorPool {version}")),
            None => check("cluster", Status::Ok, "StorPool (version not reported)"),
        },
        (None, None) => check(
            "cluster",
            Status::Skip,
            "not checked: the API did not answer",
        ),
    }
}

/// This node's `SP_OURID`, and whether the cluster knows that client.
fn client(our_id: Result<Option<u16>, String>, status: Option<&ClusterStatus>) -> Check {
    match (our_id, status) {
        (Err(err), _) => check("client", Status::Fail, err),
        (Ok(None), _) => check(
            "client",
            Status::Warn,
            "no `SP_OURID`: this node cannot attach volumes (nor import or export images)",
        ),
        (Ok(Some(id)), None) => check(
            "client",
            Status::Skip,
            format!("SP_OURID {id}: not checked: the API did not answer"),
        ),
        (Ok(Some(id)), Some(status)) => match status.clients.get(&u32::from(id)) {
            Some(client) if client.status == "running" => check(
                "client",
                Status::Ok,
                format!("SP_OURID {id}: the cluster knows client {id}, running"),
            ),
            Some(client) => check(
                "client",
                Status::Warn,
                format!(
                    "SP_OURID {id}: the cluster knows client {id}, but it is {}: attaches \
                     wait for it",
                    client.status
                ),
            ),
            None => check(
                "client",
                Status::Fail,
                format!("SP_OURID {id}: the cluster does not know client {id}"),
            ),
        },
    }
}

/// The version of the active management service (the API).
fn mgmt_version(status: &ClusterStatus) -> Option<&str> {
    status
        .mgmt
        .values()
        .find(|m| m.active == Some(true))
        .or_else(|| status.mgmt.values().next())
        .map(|m| m.version.as_str())
}

/// `ROOT/storpool`, where `storpool_block` makes this node's devices: needed when the node
/// has a client id to attach with.
fn devices(root: &Path, attaches: bool) -> Check {
    let folder = root.join("storpool");
    if folder.is_dir() {
        check(
            "devices",
            Status::Ok,
            format!("{} is present (storpool_block's devices)", folder.display()),
        )
    } else {
        check(
            "devices",
            if attaches { Status::Fail } else { Status::Warn },
            format!(
                "{} is missing: is `storpool_block` running on this node? (`--dev-root` names \
                 another device root)",
                folder.display()
            ),
        )
    }
}

/// `qemu-img --version`: image import and export need it.
async fn qemu_img() -> Check {
    let output = tokio::process::Command::new(storpool_image::QEMU_IMG)
        .arg("--version")
        .kill_on_drop(true)
        .output()
        .await;
    match output {
        Ok(output) if output.status.success() => {
            let text = String::from_utf8_lossy(&output.stdout);
            check(
                "qemu-img",
                Status::Ok,
                text.lines().next().unwrap_or_default().trim().to_owned(),
            )
        }
        Ok(output) => check(
            "qemu-img",
            Status::Warn,
            format!("`qemu-img --version` failed ({})", output.status),
        ),
        Err(err) => check(
            "qemu-img",
            Status::Warn,
            format!(
                "not usable ({err}): image import and export need it (`apt-get install \
                 qemu-utils`)"
            ),
        ),
    }
}

/// The exit of a report: none when healthy, else exit 1 saying how many checks failed.
pub(crate) fn outcome(report: &Report) -> Result<(), Failure> {
    let failed = report
        .checks
        .iter()
        .filter(|c| c.status == Status::Fail)
        .count();
    if failed == 0 {
        Ok(())
    } else {
        Err(Failure::operation(anyhow::anyhow!(
            "{failed} of {} checks failed",
            report.checks.len()
        )))
    }
}
