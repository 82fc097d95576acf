//! End-to-end tests of the `storpool-sim` binary: configuration file, signals, crash safety.
#![allow(clippy::unwrap_used, clippy::expect_used)]
// Sync-only tests: polling with a short interval is how they wait for a process.
#![allow(clippy::disallowed_methods)]

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

mod crash;
mod limits;

const BIN: &str = env!("CARGO_BIN_EXE_storpool-sim");
const POLL: Duration = Duration::from_millis(20);
const DEADLINE: Duration = Duration::from_secs(30);

struct Server {
    child: Child,
    client: Client,
}

/// A minimal HTTP/1.0 client, one connection per call like the reference clients.
#[derive(Clone)]
struct Client {
    addr: String,
    token: String,
}

fn conf_value(text: &str, key: &str) -> String {
    text.lines()
        .find_map(|l| l.strip_prefix(&format!("{key}=")))
        .unwrap()
        .to_owned()
}

/// Start the binary (without fsync) and wait for the configuration file it writes.
fn start(state: &Path, extra: &[&str]) -> (Server, String) {
    start_with(state, &[&["--no-sync"], extra].concat())
}

/// Start the binary with exactly these extra flags and wait for the configuration file it
/// writes.
fn start_with(state: &Path, extra: &[&str]) -> (Server, String) {
    let conf = state.with_extension("conf");
    let _ = std::fs::remove_file(&conf);
    let dev = state.with_extension("dev");
    let mut command = Command::new(BIN);
    command
        .args(["--listen", "127.0.0.1:0", "-q"])
        .arg("--state")
        .arg(state)
        .arg("--dev-root")
        .arg(&dev)
        .arg("--write-config")
        .arg(&conf)
        .args(extra);
    serve(&mut command, &conf)
}

/// Start the binary and wait for the configuration file it writes to `conf`.
fn serve(command: &mut Command, conf: &Path) -> (Server, String) {
    let child = command
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let start = Instant::now();
    let text = loop {
        if let Ok(t) = std::fs::read_to_string(conf)
            && t.contains("SP_AUTH_TOKEN")
        {
            break t;
        }
        assert!(start.elapsed() < DEADLINE, "the server did not start");
        std::thread::sleep(POLL);
    };
    let addr = format!(
        "{}:{}",
        conf_value(&text, "SP_API_HTTP_HOST"),
        conf_value(&text, "SP_API_HTTP_PORT")
    );
    let token = conf_value(&text, "SP_AUTH_TOKEN");
    (
        Server {
            child,
            client: Client { addr, token },
        },
        text,
    )
}

impl Client {
    fn call(&self, method: &str, call: &str, body: Option<&Value>) -> Option<(u16, Value)> {
        self.call_then(method, call, body, || {})
    }

    /// [`Client::call`], running `sent` once the whole request is written.
    fn call_then(
        &self,
        method: &str,
        call: &str,
        body: Option<&Value>,
        sent: impl FnOnce(),
    ) -> Option<(u16, Value)> {
        let mut s = TcpStream::connect(&self.addr).ok()?;
        let body = body
            .map(|b| serde_json::to_vec(b).unwrap())
            .unwrap_or_default();
        let head = format!(
            "{method} /ctrl/1.0/{call} HTTP/1.0\r\nAuthorization: Storpool v1:{}\r\nContent-Length: {}\r\n\r\n",
            self.token,
            body.len()
        );
        s.write_all(head.as_bytes()).ok()?;
        s.write_all(&body).ok()?;
        sent();
        let mut out = Vec::new();
        s.read_to_end(&mut out).ok()?;
        let text = String::from_utf8_lossy(&out).into_owned();
        let (head, body) = text.split_once("\r\n\r\n")?;
        let status = head.split(' ').nth(1)?.parse().ok()?;
        Some((status, serde_json::from_str(body).ok()?))
    }
}

impl std::ops::Deref for Server {
    type Target = Client;
    fn deref(&self) -> &Client {
        &self.client
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn state_dir(tmp: &tempfile::TempDir) -> PathBuf {
    tmp.path().join("state")
}

#[test]
fn writes_a_storpool_conf_with_the_first_served_client() {
    let tmp = tempfile::tempdir().unwrap();
    let (server, text) = start(
        &state_dir(&tmp),
        &["--serve-client", "7", "--serve-client", "3"],
    );
    assert_eq!(conf_value(&text, "SP_OURID"), "7");
    assert_eq!(conf_value(&text, "SP_API_HTTP_HOST"), "127.0.0.1");
    assert_eq!(server.token.len(), 19);
    let (status, v) = server.call("GET", "ServicesList", None).unwrap();
    assert_eq!(status, 200, "{v}");
}

#[test]
fn sigterm_stops_the_server_cleanly() {
    let tmp = tempfile::tempdir().unwrap();
    let (mut server, _) = start(&state_dir(&tmp), &["--token", "abc"]);
    assert_eq!(server.token, "abc");
    let pid = server.child.id().to_string();
    assert!(
        Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap()
            .success()
    );
    let status = server.child.wait().unwrap();
    assert_eq!(status.code(), Some(0));
}

#[test]
fn bad_usage_is_one_error_line_naming_the_value_and_exit_2() {
    for (args, named) in [
        (["--fault-error-rate", "2"], "2"),
        (["--serve-client", "0"], "0"),
        (["--no-such-flag", "x"], "--no-such-flag"),
    ] {
        let out = Command::new(BIN).args(args).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        let mut lines = err.lines();
        let first = lines.next().unwrap_or_default();
        assert!(first.starts_with("storpool-sim: error: "), "{err}");
        assert!(first.contains(named), "{err}");
        assert!(lines.all(|line| line.starts_with("hint: ")), "{err}");
    }
}

/// Runs the binary to its exit (killing it after the deadline, which fails the test).
fn run_to_exit(command: &mut Command) -> std::process::Output {
    let mut child = command
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let start = Instant::now();
    while child.try_wait().unwrap().is_none() {
        if start.elapsed() > DEADLINE {
            let _ = child.kill();
            let _ = child.wait();
            panic!("the binary did not exit");
        }
        std::thread::sleep(POLL);
    }
    child.wait_with_output().unwrap()
}

#[test]
fn a_state_folder_of_others_is_refused_with_exit_2_naming_it() {
    let tmp = tempfile::tempdir().unwrap();
    let state = state_dir(&tmp);
    let notes = state.join("data/notes.txt");
    std::fs::create_dir_all(notes.parent().unwrap()).unwrap();
    std::fs::write(&notes, "mine").unwrap();
    let out = run_to_exit(
        Command::new(BIN)
            .args(["--listen", "127.0.0.1:0", "--no-sync", "--state"])
            .arg(&state),
    );
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.starts_with("storpool-sim: error: "), "{err}");
    assert!(err.contains(&state.display().to_string()), "{err}");
    assert_eq!(std::fs::read_to_string(&notes).unwrap(), "mine");
}

#[test]
fn without_dev_root_device_links_go_under_the_state_folder_and_it_is_said() {
    use std::io::BufRead as _;
    let tmp = tempfile::tempdir().unwrap();
    let state = state_dir(&tmp);
    // First, what it says at start (serving no client, so that nothing is linked anywhere).
    let mut child = Command::new(BIN)
        .args(["--listen", "127.0.0.1:0", "--no-sync", "--token", "abc"])
        .arg("--state")
        .arg(&state)
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stderr = std::io::BufReader::new(child.stderr.take().unwrap());
    let mut said = String::new();
    stderr.read_line(&mut said).unwrap();
    assert!(said.contains("listening on"), "{said}");
    // Everything it says at start is said before it serves: stop it and read the rest.
    assert!(
        Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .status()
            .unwrap()
            .success()
    );
    stderr.read_to_string(&mut said).unwrap();
    child.wait().unwrap();
    let dev = state.join("dev");
    assert!(
        said.lines()
            .any(|line| line == format!("storpool-sim: device root: {}", dev.display())),
        "{said}"
    );

    // Then the links of a served client.
    let conf = tmp.path().join("sim.conf");
    let (server, _) = serve(
        Command::new(BIN)
            .args(["--listen", "127.0.0.1:0", "-q", "--no-sync"])
            .arg("--state")
            .arg(&state)
            .args(["--serve-client", "1", "--write-config"])
            .arg(&conf),
        &conf,
    );
    let body = serde_json::json!({"name": "v", "size": 1u64 << 30, "replication": 3});
    assert_eq!(
        server.call("POST", "VolumeCreate", Some(&body)).unwrap().0,
        200
    );
    let attach = serde_json::json!([{"volume": "v", "rw": [1]}]);
    assert_eq!(
        server
            .call("POST", "VolumesReassign", Some(&attach))
            .unwrap()
            .0,
        200
    );
    assert!(dev.join("storpool/v").exists());
}

#[test]
fn relative_state_and_device_folders_give_links_that_resolve() {
    let tmp = tempfile::tempdir().unwrap();
    let (server, _) = serve(
        Command::new(BIN)
            .current_dir(tmp.path())
            .args(["--listen", "127.0.0.1:0", "-q", "--no-sync"])
            .args(["--state", "s1/state", "--dev-root", "s1/dev"])
            .args(["--serve-client", "1", "--write-config", "sim.conf"]),
        &tmp.path().join("sim.conf"),
    );
    let body = serde_json::json!({"name": "v", "size": 1u64 << 30, "replication": 3});
    assert_eq!(
        server.call("POST", "VolumeCreate", Some(&body)).unwrap().0,
        200
    );
    let attach = serde_json::json!([{"volume": "v", "rw": [1]}]);
    assert_eq!(
        server
            .call("POST", "VolumesReassign", Some(&attach))
            .unwrap()
            .0,
        200
    );
    let link = tmp.path().join("s1/dev/storpool/v");
    let target = std::fs::read_link(&link).unwrap();
    assert!(target.is_absolute(), "{}", target.display());
    assert!(
        std::fs::metadata(&link).unwrap().is_file(),
        "the link resolves"
    );
}

#[test]
fn the_written_config_is_private_and_replaces_a_link_without_following_it() {
    use std::os::unix::fs::PermissionsExt as _;
    let tmp = tempfile::tempdir().unwrap();
    let victim = tmp.path().join("victim");
    std::fs::write(&victim, "keep\n").unwrap();
    let conf = tmp.path().join("sim.conf");
    std::os::unix::fs::symlink(&victim, &conf).unwrap();
    let (server, text) = serve(
        Command::new(BIN)
            .args(["--listen", "127.0.0.1:0", "-q", "--no-sync"])
            .arg("--state")
            .arg(state_dir(&tmp))
            .arg("--write-config")
            .arg(&conf),
        &conf,
    );
    let meta = std::fs::symlink_metadata(&conf).unwrap();
    assert!(meta.is_file(), "the link was replaced by a file");
    assert_eq!(meta.permissions().mode() & 0o777, 0o600);
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "keep\n");
    assert_eq!(conf_value(&text, "SP_AUTH_TOKEN"), server.token);
    // Written whole or not at all: no temporary file is left next to it.
    let names: Vec<_> = std::fs::read_dir(tmp.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    assert_eq!(names.len(), 3, "{names:?}");
}

#[test]
fn tokens_that_are_not_one_line_of_printable_characters_are_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let conf = tmp.path().join("sim.conf");
    for (n, token) in ["123\nSP_OURID=9", "1 2", "tab\tbed", "caf\u{e9}", "a\\b"]
        .into_iter()
        .enumerate()
    {
        for from_env in [false, true] {
            let mut command = Command::new(BIN);
            command
                .args(["--listen", "127.0.0.1:0", "--no-sync", "--state"])
                .arg(tmp.path().join(format!("state{n}")))
                .arg("--write-config")
                .arg(&conf);
            if from_env {
                command.env("STORPOOL_SIM_TOKEN", token);
            } else {
                command.args(["--token", token]);
            }
            let out = run_to_exit(&mut command);
            assert_eq!(out.status.code(), Some(2), "{token:?}");
            let err = String::from_utf8_lossy(&out.stderr);
            assert!(err.starts_with("storpool-sim: error: "), "{err}");
            assert!(err.contains("token"), "{err}");
            assert!(!err.contains(token), "the token is not repeated: {err}");
            assert!(!conf.exists(), "{token:?}");
        }
    }
}

/// How long a refusal to start may take.
const REFUSAL_DEADLINE: Duration = Duration::from_secs(10);

/// Runs the binary with `args` (and `env`) on a free port, expecting it to refuse to start:
/// returns its exit code and stderr. A server that starts anyway is killed and fails the test.
fn refused_start(args: &[&str], env: &[(&str, &str)]) -> (Option<i32>, String) {
    let tmp = tempfile::tempdir().unwrap();
    let mut child = Command::new(BIN)
        .args(["--listen", "127.0.0.1:0", "--state"])
        .arg(tmp.path().join("state"))
        .arg("--dev-root")
        .arg(tmp.path().join("dev"))
        .args(args)
        .env_remove("STORPOOL_SIM_TOKEN")
        .envs(env.iter().copied())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let start = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if start.elapsed() > REFUSAL_DEADLINE {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{args:?} {env:?}: the server started instead of refusing to");
        }
        std::thread::sleep(POLL);
    };
    let mut err = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut err)
        .unwrap();
    (status.code(), err)
}

#[test]
fn error_statuses_that_cannot_carry_an_error_body_are_refused_at_start() {
    for status in ["100", "204", "304", "302", "600"] {
        let (code, err) = refused_start(&["--error-status", status], &[]);
        assert_eq!(code, Some(2), "{status}: {err}");
        let first = err.lines().next().unwrap_or_default();
        assert!(first.starts_with("storpool-sim: error: "), "{err}");
        assert!(first.contains(status), "{err}");
    }
}

#[test]
fn an_empty_token_from_the_flag_or_the_environment_is_refused_at_start() {
    let flag = refused_start(&["--token", ""], &[]);
    let env = refused_start(&[], &[("STORPOOL_SIM_TOKEN", "")]);
    for (code, err) in [flag, env] {
        assert_eq!(code, Some(2), "{err}");
        let first = err.lines().next().unwrap_or_default();
        assert!(first.starts_with("storpool-sim: error: "), "{err}");
        assert!(first.contains("token") && first.contains("empty"), "{err}");
    }
}

/// `(name, replication, placeAll)` of every template, sorted by name.
fn templates(server: &Server) -> Vec<(String, Option<u64>, String)> {
    let (status, v) = server.call("GET", "VolumeTemplatesList", None).unwrap();
    assert_eq!(status, 200, "{v}");
    let mut list: Vec<_> = v["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            (
                t["name"].as_str().unwrap().to_owned(),
                t["replication"].as_u64(),
                t["placeAll"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect();
    list.sort();
    list
}

#[test]
fn templates_are_made_for_a_new_cluster_only() {
    let tmp = tempfile::tempdir().unwrap();
    let state = state_dir(&tmp);
    let (server, _) = start(
        &state,
        &[
            "--template",
            "fast:2:flash",
            "--template",
            "plain",
            "--template",
            "one:1",
        ],
    );
    assert_eq!(
        templates(&server),
        [
            ("fast".to_owned(), Some(2), "flash".to_owned()),
            ("one".to_owned(), Some(1), "default".to_owned()),
            ("plain".to_owned(), Some(3), "default".to_owned()),
        ]
    );
    // The placement group named is made, holding every disk.
    let (_, v) = server.call("GET", "PlacementGroupsList", None).unwrap();
    assert_eq!(
        v["data"]["flash"]["disks"].as_array().unwrap().len(),
        12,
        "{v}"
    );
    drop(server);
    // An existing state keeps its templates; the flag does not add to it.
    let (server, _) = start(&state, &["--template", "late"]);
    assert_eq!(templates(&server).len(), 3);
}

#[test]
fn a_bad_template_flag_is_a_usage_error() {
    for (flag, named) in [
        ("a:4", "4"),
        ("a:x", "x"),
        ("bad.name", "bad.name"),
        ("a:2:bad/pg", "bad/pg"),
        ("a:1:b:c", "a:1:b:c"),
    ] {
        let out = Command::new(BIN)
            .args(["--template", flag])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{flag}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.starts_with("storpool-sim: error: "), "{err}");
        assert!(err.lines().next().unwrap().contains(named), "{flag}: {err}");
    }
}
