//! What `-v`, `RUST_LOG` and `--log-format` give on stderr (issue 14).

use crate::node;

#[test]
fn trace_shows_each_call_its_attempts_their_status_and_sizes() {
    let node = node();
    let run = node.run(&["-vvv", "create", "v", "--size", "1"]);
    run.ok();
    let line = run
        .stderr
        .lines()
        .find(|l| l.contains("read the StorPool API answer"))
        .unwrap_or_else(|| panic!("{run:#?}"));
    // The spans: the driver's operation, the call, the attempt with its status; the target.
    assert!(
        line.contains("call{method=POST path=\"MultiCluster/VolumeCreate\"}"),
        "{line}"
    );
    assert!(line.contains("attempt{n=1 status=200}"), "{line}");
    assert!(line.contains("storpool_api::client"), "{line}");
    assert!(line.contains("answer_bytes="), "{line}");
    assert!(run.stderr.contains("request_bytes="), "{run:#?}");
}

#[test]
fn an_invalid_rust_log_is_said_and_warnings_are_logged() {
    let node = node();
    let mut cmd = crate::command(node.dir.path());
    cmd.env("RUST_LOG", "storpool_api=[[")
        .arg("--config")
        .arg(node.conf())
        .arg("list");
    let run = node.checked(cmd, &["list"]);
    run.ok();
    assert!(
        run.stderr
            .starts_with("sp-volume: warning: ignoring `RUST_LOG`: it is not a valid filter"),
        "{run:#?}"
    );
    assert_eq!(run.stderr.lines().count(), 1, "{run:#?}");
}

#[test]
fn log_format_json_writes_one_object_a_line() {
    let node = node();
    let run = node.run(&["-vv", "--log-format", "json", "create", "v", "--size", "1"]);
    run.ok();
    let mut lines = 0;
    for line in run.stderr.lines() {
        let event: serde_json::Value =
            serde_json::from_str(line).unwrap_or_else(|err| panic!("{err}: {line}"));
        for key in ["timestamp", "level", "target", "fields"] {
            assert!(event.get(key).is_some(), "{key}: {line}");
        }
        lines += 1;
    }
    assert!(lines > 2, "{run:#?}");
    assert!(run.stderr.contains(r#""name":"call""#), "spans: {run:#?}");
}
