//! End-to-end tests: the real `sp-conf` binary against files in temporary folders.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;
use std::process::{Command, Output};

const TOKEN: &str = "1556129910218014736";

fn etc() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("storpool.conf"),
        format!(
            "SP_API_HTTP_HOST=10.0.0.5\nSP_AUTH_TOKEN={TOKEN}\n\n[node-a]\nSP_OURID=1\n\n\
             [node-b]\nSP_OURID=2\n"
        ),
    )
    .unwrap();
    std::fs::create_dir(dir.path().join("storpool.conf.d")).unwrap();
    std::fs::write(
        dir.path().join("storpool.conf.d/api.conf"),
        "SP_API_HTTP_HOST=10.0.0.6\n[node-c]\nSP_OURID=3\n",
    )
    .unwrap();
    dir
}

fn sp_conf(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_sp-conf"))
        .arg("--config")
        .arg(dir.join("storpool.conf"))
        .args(args)
        .env_remove("SP_AUTH_TOKEN")
        .env_remove("SP_API_HTTP_HOST")
        .env_remove("SP_API_HTTP_PORT")
        .env_remove("STORPOOL_CONF")
        .output()
        .unwrap()
}

fn stdout(output: &Output) -> String {
    String::from_utf8(output.stdout.clone()).unwrap()
}

fn stderr(output: &Output) -> String {
    String::from_utf8(output.stderr.clone()).unwrap()
}

#[test]
fn prints_sorted_name_value_lines_with_the_token_redacted() {
    let dir = etc();
    let out = sp_conf(dir.path(), &["-s", "node-b"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    let lines: Vec<&str> = text.lines().collect();
    let mut sorted = lines.clone();
    sorted.sort_unstable();
    assert_eq!(lines, sorted);
    assert!(lines.contains(&"SP_API_HTTP_HOST=10.0.0.6"));
    assert!(lines.contains(&"SP_OURID=2"));
    assert!(lines.contains(&"SP_AUTH_TOKEN=<redacted>"));
    assert!(lines.contains(&"SP_WORKDIR=/var/run/storpool"));
    assert!(!text.contains(TOKEN));
    assert!(stderr(&out).is_empty());
}

#[test]
fn json_maps_every_variable_to_its_string_value() {
    let dir = etc();
    let out = sp_conf(dir.path(), &["-s", "node-a", "--json", "--show-secrets"]);
    assert!(out.status.success());
    let map: serde_json::Map<String, serde_json::Value> =
        serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(map["SP_OURID"], "1");
    assert_eq!(map["SP_AUTH_TOKEN"], TOKEN);
    assert_eq!(map["SP_API_HTTP_PORT"], "81");
    assert!(map.values().all(serde_json::Value::is_string));
}

#[test]
fn query_prints_one_value_for_shell_scripts() {
    let dir = etc();
    let out = sp_conf(dir.path(), &["-s", "node-c", "--query", "SP_OURID"]);
    assert!(out.status.success());
    assert_eq!(stdout(&out), "3\n");

    let out = sp_conf(dir.path(), &["--query", "SP_AUTH_TOKEN"]);
    assert_eq!(stdout(&out), "<redacted>\n");
    let out = sp_conf(dir.path(), &["--query", "SP_AUTH_TOKEN", "--show-secrets"]);
    assert_eq!(stdout(&out), format!("{TOKEN}\n"));
}

#[test]
fn query_of_an_unset_variable_exits_1_with_nothing_on_stdout() {
    let dir = etc();
    let out = sp_conf(dir.path(), &["-s", "nowhere", "--query", "SP_OURID"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty());
}

#[test]
fn sections_lists_every_section_name_sorted() {
    let dir = etc();
    let out = sp_conf(dir.path(), &["--sections"]);
    assert_eq!(stdout(&out), "node-a\nnode-b\nnode-c\n");
    let out = sp_conf(dir.path(), &["--sections", "--json"]);
    assert_eq!(stdout(&out), "[\"node-a\",\"node-b\",\"node-c\"]\n");
}

#[test]
fn environment_overrides_apply_unless_no_env() {
    let dir = etc();
    let run = |extra: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_sp-conf"))
            .arg("--config")
            .arg(dir.path().join("storpool.conf"))
            .args(["--query", "SP_API_HTTP_HOST"])
            .args(extra)
            .env("SP_API_HTTP_HOST", "192.0.2.9")
            .output()
            .unwrap()
    };
    assert_eq!(stdout(&run(&[])), "192.0.2.9\n");
    assert_eq!(stdout(&run(&["--no-env"])), "10.0.0.6\n");
}

#[test]
fn storpool_conf_names_the_main_file() {
    let dir = etc();
    let out = Command::new(env!("CARGO_BIN_EXE_sp-conf"))
        .args(["-s", "node-b", "--query", "SP_OURID", "--no-env"])
        .env("STORPOOL_CONF", dir.path().join("storpool.conf"))
        .output()
        .unwrap();
    assert_eq!(stdout(&out), "2\n");
}

#[test]
fn a_bad_file_gives_one_line_naming_file_and_line_and_exit_2() {
    let dir = etc();
    std::fs::write(
        dir.path().join("storpool.conf.d/zz.conf"),
        format!("# fine\nSP_AUTH_TOKEN {TOKEN}\n"),
    )
    .unwrap();
    let out = sp_conf(dir.path(), &[]);
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty());
    let err = stderr(&out);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("storpool.conf.d/zz.conf:2:"), "{err}");
    assert!(!err.contains(TOKEN), "{err}");
}

#[test]
fn a_missing_main_file_exits_2_unless_missing_ok() {
    let dir = tempfile::tempdir().unwrap();
    let out = sp_conf(dir.path(), &[]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("does not exist"), "{}", stderr(&out));
    let out = sp_conf(dir.path(), &["--missing-ok", "--query", "SP_API_HTTP_PORT"]);
    assert_eq!(stdout(&out), "81\n");
}

#[test]
fn bad_usage_is_one_error_line_naming_the_flag_then_hints_and_exit_2() {
    let dir = etc();
    let out = sp_conf(dir.path(), &["--no-such-flag"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty());
    let err = stderr(&out);
    let mut lines = err.lines();
    let first = lines.next().unwrap_or_default();
    assert!(first.starts_with("sp-conf: error: "), "{err}");
    assert!(first.contains("--no-such-flag"), "{err}");
    assert!(lines.all(|line| line.starts_with("hint: ")), "{err}");
}
