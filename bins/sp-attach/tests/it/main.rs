//! End-to-end tests: the real `sp-attach` binary against an in-process simulator that plays
//! `storpool_block` for this "node" (client [`ID`]) under a temporary device root.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod connect;
mod disconnect;
mod embedded;
mod failures;
mod list_extend;
mod schema;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde::Deserialize;
use serde_json::json;
use storpool_sim::Sim;

/// The client id the simulator serves.
pub const ID: u16 = 7;
/// A registered client the simulator does not serve.
pub const OTHER: u16 = 2;
/// One GiB.
pub const GIB: u64 = 1 << 30;

/// A simulator and a storpool.conf pointing at it.
pub struct Node {
    /// The simulator.
    pub sim: Sim,
    /// Holds the configuration file.
    pub dir: tempfile::TempDir,
}

/// A node whose storpool.conf says `SP_OURID=ID`.
pub fn node() -> Node {
    node_with_id(Some(ID))
}

/// A node whose storpool.conf has `SP_OURID=id` (or none).
pub fn node_with_id(id: Option<u16>) -> Node {
    let sim = Sim::builder().serve_client(ID).start().unwrap();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("storpool.conf"), sim.storpool_conf(id)).unwrap();
    Node { sim, dir }
}

impl Node {
    /// The configuration file.
    pub fn conf(&self) -> PathBuf {
        self.dir.path().join("storpool.conf")
    }

    /// Runs `sp-attach --config CONF --dev-root ROOT ARGS...`; checks that the token shows
    /// nowhere in its output.
    pub fn run(&self, args: &[&str]) -> Run {
        let output = Command::new(env!("CARGO_BIN_EXE_sp-attach"))
            .arg("--config")
            .arg(self.conf())
            .arg("--dev-root")
            .arg(self.sim.dev_root())
            .args(args)
            .env_remove("SP_AUTH_TOKEN")
            .env_remove("SP_API_HTTP_HOST")
            .env_remove("SP_API_HTTP_PORT")
            .env_remove("STORPOOL_CONF")
            .env_remove("STORPOOL_EMBEDDED")
            .env_remove("RUST_LOG")
            .env("NO_COLOR", "1")
            .output()
            .unwrap();
        let run = Run::from(output);
        for text in [&run.stdout, &run.stderr] {
            assert!(
                !text.contains(self.sim.token()),
                "the token leaked in `sp-attach {}`:\n{text}",
                args.join(" ")
            );
        }
        run
    }

    /// Creates `os--volume-{id}`.
    pub fn volume(&self, id: &str) -> String {
        self.sim
            .seed_volume(&format!("os--volume-{id}"), GIB, None)
            .unwrap()
    }

    /// Snapshots `os--volume-{volume}` as `os--snap--none--snapshot-{id}`.
    pub fn snapshot(&self, volume: &str, id: &str) {
        self.sim
            .call(
                "POST",
                &format!("VolumeSnapshot/os--volume-{volume}"),
                Some(json!({"name": format!("os--snap--none--snapshot-{id}")})),
            )
            .unwrap();
    }

    /// `(client, rw)` of every attachment of `name`.
    pub fn attachments_of(&self, name: &str) -> Vec<(u16, bool)> {
        self.sim
            .state()
            .attachments
            .iter()
            .filter(|a| a.name == name)
            .map(|a| (a.client, a.rw))
            .collect()
    }

    /// The device root.
    pub fn root(&self) -> &Path {
        self.sim.dev_root()
    }
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

    /// Asserts exit `code`, nothing on stdout, and an `sp-attach: error: ...` line on stderr;
    /// returns that line.
    pub fn failed(&self, code: i32) -> &str {
        assert_eq!(self.code, Some(code), "{self:#?}");
        assert_eq!(self.stdout, "", "{self:#?}");
        self.stderr
            .lines()
            .find(|line| line.starts_with("sp-attach: error: "))
            .unwrap_or_else(|| panic!("no error line: {self:#?}"))
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
        assert!(
            text.starts_with("{\"cluster\":\"embedded\""),
            "the document says it ran on the simulator: {text}"
        );
        let mut doc: serde_json::Map<String, serde_json::Value> =
            serde_json::from_str(text).unwrap_or_else(|err| panic!("{err}: {text}"));
        doc.remove("cluster");
        serde_json::from_value(serde_json::Value::Object(doc))
            .unwrap_or_else(|err| panic!("{err}: {text}"))
    }
}

/// `connect --json`.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ConnectJson {
    /// Always `block`.
    #[serde(rename = "type")]
    pub device_type: String,
    /// `ROOT/storpool-byid/GLOBALID`.
    pub path: PathBuf,
    /// `ROOT/storpool/NAME`.
    pub name_path: PathBuf,
    /// The cluster name.
    pub name: String,
    /// The global id.
    pub global_id: String,
    /// `volume` or `snapshot`.
    pub kind: String,
    /// `rw` or `ro`.
    pub access_mode: String,
    /// Whether anything was attached.
    pub changed: bool,
    /// Seconds waited for the device.
    pub wait_seconds: f64,
    /// Seconds for the whole call.
    pub elapsed_seconds: f64,
}

/// `disconnect --json`.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DisconnectJson {
    /// The cluster name (or `~GLOBALID`).
    pub name: String,
    /// The global id.
    pub global_id: Option<String>,
    /// `volume` or `snapshot`.
    pub kind: String,
    /// Whether anything was detached.
    pub changed: bool,
    /// Whether it was forced.
    pub forced: bool,
    /// Detach requests sent.
    pub attempts: u32,
    /// Seconds waited for the links to go.
    pub wait_seconds: f64,
    /// Seconds for the whole call.
    pub elapsed_seconds: f64,
}

/// `extend --json`.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ExtendJson {
    /// The cluster name.
    pub name: String,
    /// The local device.
    pub path: PathBuf,
    /// Its size in bytes.
    pub size_bytes: u64,
    /// Seconds waited.
    pub wait_seconds: f64,
}

/// `list --json`.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ListJson {
    /// This node's client id.
    pub client_id: u16,
    /// The attachments, by name.
    pub attachments: Vec<AttachmentJson>,
}

/// One attachment of `list --json`.
#[derive(Debug, Deserialize, schemars::JsonSchema, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct AttachmentJson {
    /// Orchestrator id, when the name is ours.
    pub id: Option<String>,
    /// Cluster name.
    pub name: String,
    /// `volume` or `snapshot`.
    pub kind: String,
    /// Global id.
    pub global_id: Option<String>,
    /// `rw`, `ro`, or null when unknown.
    pub access_mode: Option<String>,
    /// By-id link.
    pub path: Option<PathBuf>,
    /// Name link.
    pub name_path: Option<PathBuf>,
    /// Whether the links exist.
    pub present: bool,
}

/// The published schema of every command's `--json` document.
#[test]
fn the_published_schemas_are_those_of_the_documents() {
    use schema::schema_of;
    let commands: Vec<(&str, serde_json::Value)> = vec![
        ("connect", schema_of::<ConnectJson>()),
        ("disconnect", schema_of::<DisconnectJson>()),
        ("extend", schema_of::<ExtendJson>()),
        ("list", schema_of::<ListJson>()),
        ("list-all-nodes", schema_of::<list_extend::AllNodesJson>()),
    ];
    let differing: Vec<String> = commands
        .iter()
        .filter_map(|(command, schema)| schema::check_published("sp-attach", command, schema))
        .collect();
    assert!(
        differing.is_empty(),
        "{differing:#?}\nrun `UPDATE_SCHEMAS=1 cargo test -p sp-attach --test it schemas` and \
         check the diff"
    );
}
