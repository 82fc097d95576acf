//! Hostile clients against the real binary: connections that never finish a request while
//! the process runs out of file descriptors.

use std::io::Write;
use std::net::TcpStream;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Instant;

use rustix::process::{Pid, Resource, Rlimit, getrlimit, prlimit};

use crate::{BIN, Client, DEADLINE, POLL, Server, conf_value};

/// Lines of the server's log that report failed accepts.
fn accept_warnings(log: &std::path::Path) -> usize {
    std::fs::read_to_string(log)
        .unwrap_or_default()
        .lines()
        .filter(|l| l.contains("accept"))
        .count()
}

#[test]
fn out_of_file_descriptors_the_server_backs_off_with_one_log_line_and_recovers() {
    let tmp = tempfile::tempdir().unwrap();
    let conf = tmp.path().join("storpool.conf");
    let log = tmp.path().join("stderr.log");
    let child = Command::new(BIN)
        .args(["--listen", "127.0.0.1:0", "-q", "--no-sync"])
        .args(["--request-timeout-ms", "500", "--max-connections", "1000"])
        .arg("--state")
        .arg(tmp.path().join("state"))
        .arg("--dev-root")
        .arg(tmp.path().join("dev"))
        .arg("--write-config")
        .arg(&conf)
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .unwrap();
    let pid = child.id();
    let start = Instant::now();
    let text = loop {
        if let Ok(t) = std::fs::read_to_string(&conf)
            && t.contains("SP_AUTH_TOKEN")
        {
            break t;
        }
        assert!(start.elapsed() < DEADLINE, "the server did not start");
        std::thread::sleep(POLL);
    };
    let server = Server {
        child,
        client: Client {
            addr: format!(
                "{}:{}",
                conf_value(&text, "SP_API_HTTP_HOST"),
                conf_value(&text, "SP_API_HTTP_PORT")
            ),
            token: conf_value(&text, "SP_AUTH_TOKEN"),
        },
    };
    // Leave the server room for a few more files only.
    let open = std::fs::read_dir(format!("/proc/{pid}/fd"))
        .unwrap()
        .count() as u64;
    let limit = Rlimit {
        current: Some(open + 4),
        maximum: getrlimit(Resource::Nofile).maximum,
    };
    let pid = Pid::from_raw(i32::try_from(pid).unwrap()).unwrap();
    prlimit(Some(pid), Resource::Nofile, limit).unwrap();
    // More connections that send half a request line than it can accept.
    let mut slow = Vec::new();
    for _ in 0..12 {
        let mut s = TcpStream::connect(&server.addr).unwrap();
        s.write_all(b"GET /ctrl/1.0/Vol").unwrap();
        slow.push(s);
    }
    let start = Instant::now();
    while accept_warnings(&log) == 0 {
        assert!(start.elapsed() < DEADLINE, "accept never failed");
        std::thread::sleep(POLL);
    }
    // A real client is served once the half-sent requests are cut off.
    let client = server.client.clone();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || drop(tx.send(client.call("GET", "ServicesList", None))));
    let answer = rx
        .recv_timeout(DEADLINE)
        .expect("the real request got no answer");
    let (status, body) = answer.expect("the real request got no answer");
    assert_eq!(status, 200, "{body}");
    // The failures were reported once, not once per attempt.
    let warnings = accept_warnings(&log);
    assert!(
        warnings <= 2,
        "{warnings} lines about failed accepts:\n{}",
        std::fs::read_to_string(&log).unwrap()
    );
    drop(slow);
}
