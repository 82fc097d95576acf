//! End-to-end tests: the real `sp-volume` binary against an in-process simulator (pointed at
//! by a storpool.conf in a temporary folder), and against its own embedded simulator.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod demo;
mod doctor;
mod embedded;
mod failures;
mod images;
mod listings;
mod logging;
mod manage;
// The schema helper of sp-attach's suite, shared by every tool's suite.
#[path = "../../../sp-attach/tests/it/schema.rs"]
mod schema;
mod signals;
mod snapshots;
mod stats;
mod terminal;
mod types;
mod volumes;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde::Deserialize;
use storpool_sim::Sim;

/// The client id the simulator serves as this node.
pub const ID: u16 = 7;
/// One GiB.
pub const GIB: u64 = 1 << 30;

/// A simulator and a storpool.conf pointing at it.
pub struct Node {
    /// The simulator.
    pub sim: Sim,
    /// Holds the configuration file and a home folder.
    pub dir: tempfile::TempDir,
}

/// A node whose storpool.conf says `SP_OURID=ID`.
pub fn node() -> Node {
    node_with(Sim::builder().serve_client(ID).keep_alive(true))
}

/// A node on a simulator built by `builder`.
pub fn node_with(builder: storpool_sim::SimBuilder) -> Node {
    let sim = builder.start().unwrap();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("storpool.conf"),
        sim.storpool_conf(Some(ID)),
    )
    .unwrap();
    Node { sim, dir }
}

/// `sp-volume` with a clean environment: no StorPool variables, `HOME` in `home`.
pub fn command(home: &Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_sp-volume"));
    command
        .env_remove("SP_AUTH_TOKEN")
        .env_remove("SP_API_HTTP_HOST")
        .env_remove("SP_API_HTTP_PORT")
        .env_remove("STORPOOL_CONF")
        .env_remove("STORPOOL_EMBEDDED")
        .env_remove("STORPOOL_DEFAULT_TEMPLATE")
        .env_remove("STORPOOL_DEFAULT_REPLICATION")
        .env_remove("STORPOOL_BACKEND_NAME")
        .env_remove("XDG_DATA_HOME")
        .env_remove("RUST_LOG")
        .env("HOME", home)
        .env("NO_COLOR", "1");
    command
}

impl Node {
    /// The configuration file.
    pub fn conf(&self) -> PathBuf {
        self.dir.path().join("storpool.conf")
    }

    /// Runs `sp-volume --config CONF --dev-root ROOT ARGS...`; checks that the token shows
    /// nowhere in its output.
    pub fn run(&self, args: &[&str]) -> Run {
        let mut command = command(self.dir.path());
        command
            .arg("--config")
            .arg(self.conf())
            .arg("--dev-root")
            .arg(self.sim.dev_root())
            .args(args);
        self.checked(command, args)
    }

    /// [`Node::run`], killing the command (and failing) if it has not ended within `limit`.
    pub fn run_within(&self, args: &[&str], limit: Duration) -> Run {
        let mut command = command(self.dir.path());
        command
            .arg("--config")
            .arg(self.conf())
            .arg("--dev-root")
            .arg(self.sim.dev_root())
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = command.spawn().unwrap();
        let deadline = Instant::now() + limit;
        while child.try_wait().unwrap().is_none() {
            if Instant::now() > deadline {
                child.kill().unwrap();
                let run = Run::from(child.wait_with_output().unwrap());
                panic!("`sp-volume {}` hung: {run:#?}", args.join(" "));
            }
            pause();
        }
        let run = Run::from(child.wait_with_output().unwrap());
        assert!(!run.stderr.contains(self.sim.token()), "the token leaked");
        run
    }

    /// Runs a prepared command; checks that the token shows nowhere in its output.
    pub fn checked(&self, mut command: Command, args: &[&str]) -> Run {
        let run = Run::from(command.output().unwrap());
        for text in [&run.stdout, &run.stderr] {
            assert!(
                !text.contains(self.sim.token()),
                "the token leaked in `sp-volume {}`:\n{text}",
                args.join(" ")
            );
        }
        run
    }

    /// The cluster's volume of that name, if any.
    pub fn volume(&self, name: &str) -> Option<storpool_sim::VolumeState> {
        self.sim.state().volume(name).cloned()
    }
}

/// A short pause between two looks at a condition polled with a deadline.
#[allow(clippy::disallowed_methods)] // a sync test thread, no runtime
pub fn pause() {
    std::thread::sleep(Duration::from_millis(20));
}

/// What a run of the binary gave.
#[derive(Debug)]
pub struct Run {
    /// The exit code (`None` when killed by a signal).
    pub code: Option<i32>,
    /// stdout.
    pub stdout: String,
    /// stderr.
    pub stderr: String,
}

impl From<Output> for Run {
    fn from(output: Output) -> Self {
        Self {
            code: output.status.code(),
            stdout: String::from_utf8(output.stdout).unwrap(),
            stderr: String::from_utf8(output.stderr).unwrap(),
        }
    }
}

impl Run {
    /// Asserts exit 0 and returns stdout.
    pub fn ok(&self) -> &str {
        assert_eq!(self.code, Some(0), "{self:#?}");
        &self.stdout
    }

    /// Asserts exit `code`, nothing on stdout, and on stderr one `sp-volume: error: ...`
    /// line, hints after it, and nothing else (no log lines repeating it); returns that line.
    pub fn failed(&self, code: i32) -> &str {
        assert_eq!(self.code, Some(code), "{self:#?}");
        assert_eq!(self.stdout, "", "{self:#?}");
        for line in self.stderr.lines() {
            assert!(
                line.starts_with("sp-volume: ") || line.starts_with("hint: "),
                "only the error line and hints: {self:#?}"
            );
        }
        self.error_line()
    }

    /// The one `sp-volume: error: ...` line on stderr.
    pub fn error_line(&self) -> &str {
        let lines: Vec<&str> = self
            .stderr
            .lines()
            .filter(|line| line.starts_with("sp-volume: error: "))
            .collect();
        assert_eq!(lines.len(), 1, "one error line: {self:#?}");
        lines[0]
    }

    /// The JSON document on stdout, checked against its published schema and parsed
    /// strictly.
    pub fn json<T: for<'de> Deserialize<'de> + schemars::JsonSchema>(&self) -> T {
        let text = self.ok();
        assert_eq!(text.lines().count(), 1, "one document on one line: {text}");
        schema::validate::<T>(text);
        serde_json::from_str(text).unwrap_or_else(|err| panic!("{err}: {text}"))
    }

    /// The JSON document on stdout of a command that ran on the embedded simulator: it must
    /// say so (`"cluster": "embedded"`, its first member); the rest is parsed strictly.
    pub fn embedded_json<T: for<'de> Deserialize<'de> + schemars::JsonSchema>(&self) -> T {
        let text = self.ok();
        assert_eq!(text.lines().count(), 1, "one document on one line: {text}");
        schema::validate::<T>(text);
        let mut doc: serde_json::Map<String, serde_json::Value> =
            serde_json::from_str(text).unwrap_or_else(|err| panic!("{err}: {text}"));
        assert!(
            text.starts_with("{\"cluster\":\"embedded\""),
            "the document says it ran on the simulator: {text}"
        );
        doc.remove("cluster");
        serde_json::from_value(serde_json::Value::Object(doc))
            .unwrap_or_else(|err| panic!("{err}: {text}"))
    }
}

/// A volume as `--json` prints it.
#[derive(Clone, Debug, Deserialize, schemars::JsonSchema, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct VolumeJson {
    pub(crate) id: String,
    pub(crate) name: String,
    pub(crate) size_gib: u64,
    pub(crate) size_bytes: u64,
    pub(crate) template: Option<String>,
    pub(crate) replication: u8,
    pub(crate) global_id: String,
    pub(crate) parent_snapshot: Option<String>,
    pub(crate) iops: Option<u64>,
    pub(crate) bw: Option<u64>,
    pub(crate) tags: BTreeMap<String, String>,
}

/// `list --json`.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ListJson {
    pub(crate) volumes: Vec<VolumeJson>,
}

/// A deletion.
#[derive(Debug, Deserialize, schemars::JsonSchema, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct DeletionJson {
    pub(crate) id: String,
    pub(crate) name: String,
    pub(crate) existed: bool,
}

/// A snapshot.
#[derive(Clone, Debug, Deserialize, schemars::JsonSchema, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct SnapshotJson {
    pub(crate) id: String,
    pub(crate) name: String,
    pub(crate) volume: Option<String>,
    pub(crate) size_gib: u64,
    pub(crate) size_bytes: u64,
    pub(crate) template: Option<String>,
    pub(crate) global_id: String,
}

/// A retype.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RetypeJson {
    pub(crate) retyped: bool,
    pub(crate) refused: Option<serde_json::Value>,
    pub(crate) changed: Vec<String>,
}

/// A group snapshot.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct GroupJson {
    pub(crate) id: String,
    pub(crate) snapshots: Vec<SnapshotJson>,
}

/// A deleted group snapshot.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct GroupDeletionJson {
    pub(crate) id: String,
    pub(crate) deleted: Vec<String>,
}

/// `manageable --json`.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ManageableListJson {
    pub(crate) volumes: Vec<ManageableJson>,
}

/// One manageable volume.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ManageableJson {
    pub(crate) name: String,
    pub(crate) global_id: String,
    pub(crate) size_gib: u64,
    pub(crate) size_bytes: u64,
    pub(crate) template: Option<String>,
    pub(crate) safe_to_manage: bool,
    pub(crate) reason_not_safe: Option<String>,
}

/// `unmanage --json`.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct UnmanagedJson {
    pub(crate) id: String,
    pub(crate) name: String,
}

/// `stats --json`: Cinder's stats.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct StatsJson {
    pub(crate) volume_backend_name: String,
    pub(crate) vendor_name: String,
    pub(crate) driver_version: String,
    pub(crate) storage_protocol: String,
    pub(crate) clone_across_pools: bool,
    pub(crate) sparse_copy_volume: bool,
    pub(crate) pools: Vec<PoolJson>,
}

/// One pool of the stats.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
#[allow(non_snake_case, clippy::struct_excessive_bools)] // Cinder's names and flags
pub struct PoolJson {
    pub(crate) pool_name: String,
    pub(crate) total_capacity_gb: f64,
    pub(crate) free_capacity_gb: f64,
    pub(crate) reserved_percentage: u8,
    pub(crate) multiattach: bool,
    pub(crate) QoS_support: bool,
    pub(crate) thick_provisioning_support: bool,
    pub(crate) thin_provisioning_support: bool,
    pub(crate) consistent_group_snapshot_enabled: bool,
    #[serde(default)]
    pub(crate) storpool_template: Option<String>,
    #[serde(default)]
    pub(crate) template_total_capacity_gb: Option<f64>,
    #[serde(default)]
    pub(crate) template_free_capacity_gb: Option<f64>,
    #[serde(default)]
    pub(crate) template_provisioned_capacity_gb: Option<f64>,
    pub(crate) storpool_replication: Option<String>,
}

/// The image part of `import-image --json`.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ImageJson {
    pub(crate) path: PathBuf,
    pub(crate) format: String,
    pub(crate) virtual_size_bytes: u64,
}

/// `import-image --json`.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ImportedJson {
    pub(crate) volume: VolumeJson,
    pub(crate) created: bool,
    pub(crate) image: ImageJson,
    pub(crate) device: PathBuf,
    pub(crate) elapsed_seconds: f64,
}

/// `export-image --json`.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ExportedJson {
    pub(crate) id: String,
    pub(crate) name: String,
    pub(crate) file: PathBuf,
    pub(crate) format: String,
    pub(crate) virtual_size_bytes: u64,
    pub(crate) file_size_bytes: u64,
    pub(crate) snapshot: String,
    pub(crate) elapsed_seconds: f64,
}

/// `finish-migration --json`: Cinder's model update.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct MigrationJson {
    #[serde(rename = "_name_id")]
    pub(crate) name_id: Option<String>,
}

/// `connection-info --json`: Cinder's connection info.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ConnectionInfoJson {
    pub(crate) driver_volume_type: String,
    pub(crate) data: ConnectionDataJson,
}

/// The `data` of [`ConnectionInfoJson`].
#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ConnectionDataJson {
    pub(crate) client_id: u16,
    pub(crate) volume: String,
    pub(crate) access_mode: String,
}

/// The published schema of every command's `--json` document.
#[test]
fn the_published_schemas_are_those_of_the_documents() {
    use schema::schema_of;
    let commands: Vec<(&str, serde_json::Value)> = vec![
        ("create", schema_of::<VolumeJson>()),
        ("delete", schema_of::<DeletionJson>()),
        ("extend", schema_of::<VolumeJson>()),
        ("snapshot", schema_of::<SnapshotJson>()),
        ("delete-snapshot", schema_of::<DeletionJson>()),
        ("create-from-snapshot", schema_of::<VolumeJson>()),
        ("clone", schema_of::<VolumeJson>()),
        ("revert", schema_of::<VolumeJson>()),
        ("retype", schema_of::<RetypeJson>()),
        ("finish-migration", schema_of::<MigrationJson>()),
        ("group-snapshot", schema_of::<GroupJson>()),
        ("delete-group-snapshot", schema_of::<GroupDeletionJson>()),
        ("create-from-group-snapshot", schema_of::<VolumeJson>()),
        ("manageable", schema_of::<ManageableListJson>()),
        ("manage", schema_of::<VolumeJson>()),
        ("unmanage", schema_of::<UnmanagedJson>()),
        ("stats", schema_of::<StatsJson>()),
        ("connection-info", schema_of::<ConnectionInfoJson>()),
        ("list", schema_of::<ListJson>()),
        ("show", schema_of::<VolumeJson>()),
        ("list-snapshots", schema_of::<listings::SnapshotsJson>()),
        ("show-snapshot", schema_of::<SnapshotJson>()),
        ("list-templates", schema_of::<listings::TemplatesJson>()),
        ("list-group-snapshots", schema_of::<listings::GroupsJson>()),
        ("doctor", schema_of::<doctor::DoctorJson>()),
        ("import-image", schema_of::<ImportedJson>()),
        ("export-image", schema_of::<ExportedJson>()),
        ("demo", schema_of::<demo::DemoJson>()),
    ];
    let differing: Vec<String> = commands
        .iter()
        .filter_map(|(command, schema)| schema::check_published("sp-volume", command, schema))
        .collect();
    assert!(
        differing.is_empty(),
        "{differing:#?}\nrun `UPDATE_SCHEMAS=1 cargo test -p sp-volume --test it schemas` and \
         check the diff"
    );
}
