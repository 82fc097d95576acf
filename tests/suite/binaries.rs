//! Every tool of the workspace, as a user runs it: the token never shows, and bad input gets
//! one exact, clear error line.
//!
//! The tools are found next to this test's executable (`target/<profile>/`): `cargo test
//! --workspace` builds every binary before running any test, because each binary package has
//! integration tests of its own.

use std::fmt::Write as _;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use storpool_sim::Sim;

fn tool(name: &str) -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let dir = exe.parent().and_then(Path::parent).unwrap();
    let path = dir.join(name);
    assert!(
        path.is_file(),
        "{} is not built: run the suite with `cargo test --workspace` (or `cargo build --bins` first)",
        path.display()
    );
    path
}

/// A simulator serving client 1, its storpool.conf, and a folder for device links.
struct Cluster {
    sim: Sim,
    dir: tempfile::TempDir,
}

impl Cluster {
    fn start() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let sim = Sim::builder()
            .token("8675309001122334455")
            .serve_client(1)
            .dev_root(dir.path().join("dev"))
            .start()
            .unwrap();
        sim.seed_template("ssd", Some(2), None).unwrap();
        std::fs::write(dir.path().join("storpool.conf"), sim.storpool_conf(Some(1))).unwrap();
        Self { sim, dir }
    }

    fn conf(&self) -> PathBuf {
        self.dir.path().join("storpool.conf")
    }

    /// Runs a tool with this cluster's configuration, nothing from the environment.
    fn run(&self, name: &str, args: &[&str]) -> Output {
        self.run_with(name, &self.conf(), args)
    }

    fn run_with(&self, name: &str, conf: &Path, args: &[&str]) -> Output {
        let mut command = Command::new(tool(name));
        if name != "storpool-sim" {
            command.arg("--config").arg(conf);
        }
        if name == "sp-attach" {
            command.arg("--dev-root").arg(self.dir.path().join("dev"));
        }
        command
            .args(args)
            // Relative paths in a case's arguments are in the cluster's folder.
            .current_dir(self.dir.path())
            .env_remove("SP_AUTH_TOKEN")
            .env_remove("SP_API_HTTP_HOST")
            .env_remove("SP_API_HTTP_PORT")
            .env_remove("STORPOOL_CONF")
            .env_remove("RUST_LOG")
            .output()
            .unwrap()
    }
}

fn text(output: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

#[test]
fn no_tool_ever_shows_the_token_even_at_full_verbosity() {
    let cluster = Cluster::start();
    let token = cluster.sim.token().to_owned();
    let runs: &[(&str, &[&str])] = &[
        ("sp-conf", &[]),
        ("sp-conf", &["--json"]),
        ("sp-conf", &["-q", "SP_AUTH_TOKEN"]),
        ("sp-volume", &["-vvv", "create", "v1", "--size", "1"]),
        (
            "sp-volume",
            &[
                "-vvv",
                "--json",
                "create",
                "v2",
                "--size",
                "1",
                "--type-spec",
                "storpool_template=ssd",
            ],
        ),
        ("sp-volume", &["-vvv", "snapshot", "v1", "s1"]),
        ("sp-volume", &["-vvv", "--json", "list"]),
        ("sp-volume", &["-vvv", "--json", "stats"]),
        (
            "sp-volume",
            &["-vvv", "connection-info", "v1", "--host", "h"],
        ),
        ("sp-volume", &["-vvv", "create", "v1", "--size", "5"]),
        ("sp-volume", &["-vvv", "delete", "nope"]),
        ("sp-attach", &["-vvv", "connect", "v1"]),
        ("sp-attach", &["-vvv", "--json", "list"]),
        ("sp-attach", &["-vvv", "disconnect", "v1"]),
        ("sp-attach", &["-vvv", "connect", "missing"]),
        ("sp-volume", &["-vvv", "delete-snapshot", "s1"]),
        ("sp-volume", &["-vvv", "delete", "v1"]),
    ];
    let mut seen_failure = false;
    for (name, args) in runs {
        let output = cluster.run(name, args);
        seen_failure |= !output.status.success();
        let all = text(&output);
        assert!(
            !all.contains(&token),
            "{name} {args:?} showed the token:\n{all}"
        );
    }
    assert!(
        seen_failure,
        "the runs include failures, whose errors must not show it either"
    );

    // A wrong token: the refusal does not echo either token.
    let wrong = cluster.dir.path().join("wrong.conf");
    let conf = std::fs::read_to_string(cluster.conf())
        .unwrap()
        .replace(&token, "1111222233334444555");
    std::fs::write(&wrong, conf).unwrap();
    let output = cluster.run_with("sp-volume", &wrong, &["-vvv", "--api-retries", "0", "list"]);
    assert_eq!(output.status.code(), Some(1), "{}", text(&output));
    let all = text(&output);
    assert!(
        !all.contains(&token) && !all.contains("1111222233334444555"),
        "{all}"
    );

    // The simulator's own request log.
    let mut server = Command::new(tool("storpool-sim"))
        .args(["--listen", "127.0.0.1:0", "--no-sync", "--token", &token])
        .arg("--state")
        .arg(cluster.dir.path().join("state"))
        .arg("--dev-root")
        .arg(cluster.dir.path().join("sim-dev"))
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stderr = BufReader::new(server.stderr.take().unwrap());
    let mut first = String::new();
    stderr.read_line(&mut first).unwrap();
    let address = first
        .split_whitespace()
        .find_map(|word| word.strip_prefix("http://"))
        .unwrap_or_else(|| panic!("no address in {first:?}"))
        .trim_end_matches('/')
        .to_owned();
    for auth in [token.as_str(), "0000"] {
        let mut stream = TcpStream::connect(&address).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        write!(
            stream,
            "GET /ctrl/1.0/VolumesList HTTP/1.1\r\nHost: x\r\nAuthorization: Storpool v1:{auth}\r\n\r\n"
        )
        .unwrap();
        let mut answer = String::new();
        stream.read_to_string(&mut answer).unwrap();
        assert!(!answer.contains(&token));
    }
    server.kill().unwrap();
    server.wait().unwrap();
    let mut log = first;
    stderr.read_to_string(&mut log).unwrap();
    assert!(log.contains("VolumesList"), "the request log: {log}");
    assert!(!log.contains(&token), "{log}");
}

/// What the user sees: a tool's first stderr line and exit code, a library error's text, or
/// the simulator's HTTP answer.
fn observe(cluster: &Cluster, case: &Input) -> String {
    match case {
        Input::Tool { tool, args, conf } => {
            let conf = conf.map_or_else(|| cluster.conf(), |c| cluster.dir.path().join(c));
            let output = cluster.run_with(tool, &conf, args);
            let stderr = String::from_utf8_lossy(&output.stderr);
            let code = output.status.code().unwrap_or(-1);
            format!("exit {code}: {}", stderr.lines().next().unwrap_or_default())
        }
        Input::Library(f) => f(cluster),
        Input::Http { path, body } => http(cluster, path, body),
    }
}

enum Input {
    Tool {
        tool: &'static str,
        args: &'static [&'static str],
        /// Another storpool.conf (a file in the cluster's folder) instead of the good one.
        conf: Option<&'static str>,
    },
    Library(Box<dyn Fn(&Cluster) -> String>),
    Http {
        path: &'static str,
        body: Body,
    },
}

enum Body {
    Text(&'static str),
    /// A declared length of this many bytes, of which only the first megabyte is sent.
    Huge(usize),
}

fn http(cluster: &Cluster, path: &str, body: &Body) -> String {
    let mut stream = TcpStream::connect(cluster.sim.addr()).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    let length = match body {
        Body::Text(text) => text.len(),
        Body::Huge(len) => *len,
    };
    let head = format!(
        "POST /ctrl/1.0/{path} HTTP/1.1\r\nHost: x\r\nAuthorization: Storpool v1:{}\r\n\
         Content-Length: {length}\r\n\r\n",
        cluster.sim.token()
    );
    stream.write_all(head.as_bytes()).unwrap();
    match body {
        Body::Text(text) => stream.write_all(text.as_bytes()).unwrap(),
        // The server may answer and close before reading it all: ignore write errors.
        Body::Huge(_) => {
            let _ = stream.write_all(&vec![b' '; 1 << 20]);
        }
    }
    let mut answer = String::new();
    let _ = stream.read_to_string(&mut answer);
    let status = answer
        .split_whitespace()
        .nth(1)
        .unwrap_or_default()
        .to_owned();
    let json = answer.split("\r\n\r\n").nth(1).unwrap_or_default();
    let value: serde_json::Value = serde_json::from_str(json).unwrap_or_default();
    format!(
        "HTTP {status} {}: {}",
        value["error"]["name"].as_str().unwrap_or_default(),
        value["error"]["descr"].as_str().unwrap_or_default()
    )
}

fn api_error(request: storpool_api::VolumeCreate) -> impl FnOnce(&Cluster) -> String {
    move |cluster| {
        let client = storpool_api::Client::builder()
            .base_url(cluster.sim.base_url())
            .token(cluster.sim.token())
            .build()
            .unwrap();
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        match runtime.block_on(client.volumes().create(&request)) {
            Ok(_) => "accepted".to_owned(),
            Err(err) => err.to_string(),
        }
    }
}

fn named(size: u64, replication: u8) -> storpool_api::VolumeCreate {
    storpool_api::VolumeCreate {
        name: Some(storpool_api::VolumeName::new("v").unwrap()),
        size: Some(size),
        replication: Some(replication),
        ..storpool_api::VolumeCreate::default()
    }
}

fn library(size: u64, replication: u8) -> Input {
    Input::Library(Box::new(move |cluster| {
        api_error(named(size, replication))(cluster)
    }))
}

#[allow(clippy::too_many_lines)] // a table
fn cases() -> Vec<(Input, &'static str)> {
    let tool = |tool, args| Input::Tool {
        tool,
        args,
        conf: None,
    };
    vec![
        (
            tool("sp-volume", &["create", "bad/id", "--size", "1"]),
            "exit 2: sp-volume: error: invalid volume id `bad/id`: only letters, digits and `_`, `-`, `.`, `:` are allowed",
        ),
        (
            tool("sp-volume", &["snapshot", "v1", "snap@1"]),
            "exit 2: sp-volume: error: invalid snapshot id `snap@1`: only letters, digits and `_`, `-`, `.`, `:` are allowed",
        ),
        (
            tool("sp-volume", &["create", "v", "--size", "0"]),
            "exit 2: sp-volume: error: invalid value '0' for '--size <GIB>': a volume holds at least 1 GiB",
        ),
        (
            tool("sp-volume", &["create", "v", "--size", "ten"]),
            "exit 2: sp-volume: error: invalid value 'ten' for '--size <GIB>': expected a whole number of GiB, 1 or more",
        ),
        (
            library(1000, 3),
            "invalid size `1000`: must be a multiple of 512 bytes",
        ),
        (library(0, 3), "invalid size `0`: must be positive"),
        (
            tool(
                "sp-volume",
                &["--default-replication", "0", "create", "v", "--size", "1"],
            ),
            "exit 2: sp-volume: error: invalid value '0' for '--default-replication <N>': 0 is not in 1..=3",
        ),
        (
            tool(
                "sp-volume",
                &["--default-replication", "9", "create", "v", "--size", "1"],
            ),
            "exit 2: sp-volume: error: invalid value '9' for '--default-replication <N>': 9 is not in 1..=3",
        ),
        (
            library(1 << 30, 0),
            "invalid replication `0`: must be between 1 and 3",
        ),
        (
            library(1 << 30, 9),
            "invalid replication `9`: must be between 1 and 3",
        ),
        (
            Input::Tool {
                tool: "sp-attach",
                args: &["connect", "v1"],
                conf: Some("ourid0.conf"),
            },
            "exit 2: sp-attach: error: the StorPool configuration cannot be used to attach volumes on this node: invalid SP_OURID value `0` (from the global section of DIR/ourid0.conf line 5): a client id is between 1 and 4095",
        ),
        (
            Input::Tool {
                tool: "sp-attach",
                args: &["connect", "v1"],
                conf: Some("ourid5000.conf"),
            },
            "exit 2: sp-attach: error: the StorPool configuration cannot be used to attach volumes on this node: invalid SP_OURID value `5000` (from the global section of DIR/ourid5000.conf line 5): a client id is between 1 and 4095",
        ),
        (
            tool(
                "sp-volume",
                &["connection-info", "v1", "--host", "bad-host"],
            ),
            "exit 2: sp-volume: error: cannot read SP_OURID of host `bad-host` (its `[bad-host]` section) from the StorPool configuration: invalid SP_OURID value `5000` (from section `[bad-host]` of DIR/storpool.conf line 8): a client id is between 1 and 4095",
        ),
        (
            Input::Library(Box::new(|_| match storpool_api::ClientId::new(5000) {
                Ok(_) => "accepted".into(),
                Err(e) => e.to_string(),
            })),
            "invalid client id `5000`: must be between 1 and 4095",
        ),
        (
            tool(
                "sp-volume",
                &[
                    "create",
                    "v",
                    "--size",
                    "1",
                    "--type-spec",
                    "storpool_template=nosuch",
                ],
            ),
            "exit 1: sp-volume: error: create volume failed on volume `os--volume-v` (id `v`): StorPool API call `POST /ctrl/1.0/MultiCluster/VolumeCreate` failed with HTTP 500 `objectDoesNotExist`: template nosuch does not exist",
        ),
        (
            tool(
                "sp-volume",
                &[
                    "create",
                    "v",
                    "--size",
                    "1",
                    "--type-spec",
                    "storpool_template=a.b",
                ],
            ),
            "exit 2: sp-volume: error: invalid volume-type spec storpool_template=a.b: character `.` is not allowed: must be letters, digits, `_` and `-`",
        ),
        (
            Input::Tool {
                tool: "sp-volume",
                args: &["--api-retries", "0", "list"],
                conf: Some("wrong-token.conf"),
            },
            "exit 1: sp-volume: error: list volumes failed on cluster `http://127.0.0.1:PORT`: StorPool API call `GET /ctrl/1.0/MultiCluster/VolumesList` failed with HTTP 401 `invalidParam`: authentication failed: missing or wrong `Authorization: Storpool v1:TOKEN` header",
        ),
        (
            Input::Http {
                path: "VolumeCreate",
                body: Body::Text("{\"name\": \"v\", \"si"),
            },
            "HTTP 500 invalidParam: request body is not valid JSON: EOF while parsing a string at line 1 column 17",
        ),
        (
            Input::Http {
                path: "VolumeCreate",
                body: Body::Huge(100 << 20),
            },
            "HTTP 500 invalidParam: request body of 104857600 bytes is larger than the limit of 4194304 bytes",
        ),
        (
            Input::Http {
                path: "VolumeCreate",
                body: Body::Text(
                    "{\"name\": \"bad name\", \"size\": 1073741824, \"replication\": 3}",
                ),
            },
            "HTTP 500 invalidParam: invalid volume name `bad name`: must match ^#?[A-Za-z0-9_\\-.:]+$",
        ),
        (
            Input::Http {
                path: "VolumeCreate",
                body: Body::Text("{\"name\": \"v\", \"size\": 1000, \"replication\": 3}"),
            },
            "HTTP 500 invalidParam: invalid size 1000: must be a multiple of 512",
        ),
        (
            Input::Http {
                path: "VolumeCreate",
                body: Body::Text("{\"name\": \"v\", \"size\": 1073741824, \"replication\": 9}"),
            },
            "HTTP 500 invalidParam: invalid replication 9: must be between 1 and 3",
        ),
        (
            Input::Http {
                path: "VolumeCreate",
                body: Body::Text("{\"name\": \"..\", \"size\": 1073741824, \"replication\": 3}"),
            },
            "HTTP 500 invalidParam: volume name `..` is reserved and cannot be used",
        ),
        (
            Input::Library(Box::new(|_| match storpool_api::VolumeName::new("..") {
                Ok(_) => "accepted".into(),
                Err(e) => e.to_string(),
            })),
            "invalid volume name `..`: `..` is reserved",
        ),
        (
            tool(
                "storpool-sim",
                &["--listen", "127.0.0.1:0", "--state", "foreign-state"],
            ),
            "exit 2: storpool-sim: error: cannot start the simulator: the state directory DIR/foreign-state is not a simulator's state: it holds a `data` folder but no simulator database (`state.db`); give a new or empty folder",
        ),
        (
            tool(
                "storpool-sim",
                &["--listen", "127.0.0.1:0", "--token", "12\n34"],
            ),
            "exit 2: storpool-sim: error: cannot start the simulator: invalid option: the token must be a single line",
        ),
        (
            Input::Tool {
                tool: "sp-volume",
                args: &["list"],
                conf: Some("fifo.conf"),
            },
            "exit 2: sp-volume: error: DIR/fifo.conf is not a regular file but a FIFO",
        ),
        (
            Input::Tool {
                tool: "sp-attach",
                args: &["list"],
                conf: Some("null.conf"),
            },
            "exit 2: sp-attach: error: DIR/null.conf is not a regular file but a character device",
        ),
        (
            Input::Tool {
                tool: "sp-attach",
                args: &["connect", "v1"],
                conf: Some("long-ourid.conf"),
            },
            "exit 2: sp-attach: error: the StorPool configuration cannot be used to attach volumes on this node: invalid SP_OURID value `12222222222222222222222222222222222222222222222222222222222222222222222222222222...` (200001 characters) (from the global section of DIR/long-ourid.conf line 5): expected an integer client id 1..4095",
        ),
    ]
}

#[test]
fn bad_input_gets_one_exact_error() {
    let cluster = Cluster::start();
    let good = std::fs::read_to_string(cluster.conf()).unwrap();
    let path = |name: &str| cluster.dir.path().join(name);
    std::fs::write(
        path("ourid0.conf"),
        good.replace("SP_OURID=1", "SP_OURID=0"),
    )
    .unwrap();
    std::fs::write(
        path("ourid5000.conf"),
        good.replace("SP_OURID=1", "SP_OURID=5000"),
    )
    .unwrap();
    std::fs::write(
        path("wrong-token.conf"),
        good.replace(cluster.sim.token(), "1111222233334444555"),
    )
    .unwrap();
    std::fs::write(
        path("long-ourid.conf"),
        good.replace(
            "SP_OURID=1",
            &format!("SP_OURID=1\\\n{}3", "2\\\n".repeat(199_999)),
        ),
    )
    .unwrap();
    std::fs::write(
        cluster.conf(),
        format!("{good}\n[bad-host]\nSP_OURID=5000\n"),
    )
    .unwrap();
    // Files that are not configuration files, and a state folder that is not a simulator's.
    rustix::fs::mknodat(
        rustix::fs::CWD,
        path("fifo.conf"),
        rustix::fs::FileType::Fifo,
        rustix::fs::Mode::from_raw_mode(0o600),
        0,
    )
    .unwrap();
    std::os::unix::fs::symlink("/dev/null", path("null.conf")).unwrap();
    std::fs::create_dir_all(path("foreign-state/data")).unwrap();
    std::fs::write(path("foreign-state/data/notes.txt"), "mine").unwrap();
    let port = format!("127.0.0.1:{}", cluster.sim.port());
    let dir = cluster.dir.path().display().to_string();
    let docs =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/errors.md"))
            .unwrap();
    let mut wrong = String::new();
    for (input, expected) in cases() {
        let seen = observe(&cluster, &input)
            .replace(&dir, "DIR")
            .replace(&port, "127.0.0.1:PORT");
        if seen != expected {
            writeln!(wrong, "expected: {expected}\n     got: {seen}").unwrap();
        }
        assert!(
            docs.contains(expected),
            "docs/errors.md does not show what the user sees: {expected}"
        );
    }
    assert!(wrong.is_empty(), "{wrong}");
    assert_eq!(
        std::fs::read_to_string(path("foreign-state/data/notes.txt")).unwrap(),
        "mine",
        "a refused state folder is left as it was"
    );
}
