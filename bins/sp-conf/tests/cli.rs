//! End-to-end tests: the real `sp-conf` binary against files in temporary folders. Every
//! `--json` document is checked against its published schema (`docs/schemas/sp-conf/`) and
//! parsed into its strict type; `UPDATE_SCHEMAS=1 cargo test -p sp-conf --test cli schemas`
//! rewrites the files.
#![allow(clippy::unwrap_used, clippy::expect_used)]

// The schema helper of sp-attach's suite, shared by every tool's suite rather than
// copied: it generates, compares and validates for any tool.
#[path = "../../sp-attach/tests/it/schema.rs"]
mod schema;

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::{Command, Output};

use serde::Deserialize;

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

/// The JSON document on stdout of a successful run: one line, checked against the published
/// schema of `T` and parsed strictly.
fn json<T: for<'de> Deserialize<'de> + schemars::JsonSchema>(output: &Output) -> T {
    assert!(output.status.success(), "{}", stderr(output));
    let text = stdout(output);
    assert_eq!(text.lines().count(), 1, "one document on one line: {text}");
    schema::validate::<T>(&text);
    serde_json::from_str(&text).unwrap_or_else(|err| panic!("{err}: {text}"))
}

/// `sp-conf --json`: every variable in effect and its value (secrets `<redacted>`).
#[derive(Debug, Deserialize, schemars::JsonSchema)]
pub struct ConfigJson(pub BTreeMap<String, String>);

/// `sp-conf --sections --json`: the section names found in the files, sorted, each once.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
pub struct SectionsJson(pub BTreeSet<String>);

/// `sp-conf --query NAME --json`: the value of NAME (a secret's `<redacted>`).
#[derive(Debug, Deserialize, schemars::JsonSchema)]
pub struct QueryJson(pub String);

/// The published schema of every `--json` document.
#[test]
fn the_published_schemas_are_those_of_the_documents() {
    use schema::schema_of;
    let documents: Vec<(&str, serde_json::Value)> = vec![
        ("config", schema_of::<ConfigJson>()),
        ("sections", schema_of::<SectionsJson>()),
        ("query", schema_of::<QueryJson>()),
    ];
    let differing: Vec<String> = documents
        .iter()
        .filter_map(|(document, schema)| schema::check_published("sp-conf", document, schema))
        .collect();
    assert!(
        differing.is_empty(),
        "{differing:#?}\nrun `UPDATE_SCHEMAS=1 cargo test -p sp-conf --test cli schemas` and \
         check the diff"
    );
}

/// Documents of another shape (a member added or taken away, a value of another type) do not
/// pass: neither the schema nor the strict types take them.
#[test]
fn the_schemas_refuse_documents_of_another_shape() {
    fn refused<T: for<'de> Deserialize<'de> + schemars::JsonSchema>(text: &str) {
        let document: serde_json::Value = serde_json::from_str(text).unwrap();
        let schema = schema::schema_of::<T>();
        assert!(
            !jsonschema::validator_for(&schema)
                .unwrap()
                .is_valid(&document),
            "the schema of {} takes {text}",
            T::schema_name()
        );
        assert!(
            serde_json::from_str::<T>(text).is_err(),
            "{} takes {text}",
            T::schema_name()
        );
    }
    refused::<ConfigJson>(r#"{"SP_OURID":1}"#);
    refused::<ConfigJson>(r#"{"SP_OURID":null}"#);
    refused::<ConfigJson>(r#"{"SP_OURID":{"value":"1","origin":"defaults"}}"#);
    refused::<ConfigJson>(r#"[["SP_OURID","1"]]"#);
    refused::<SectionsJson>(r#"{"sections":["node-a"]}"#);
    refused::<SectionsJson>(r#"[{"name":"node-a"}]"#);
    refused::<QueryJson>(r#"{"name":"SP_OURID","value":"1"}"#);
    refused::<QueryJson>("1");
    refused::<QueryJson>("null");
    // A section twice: serde would fold it into the set, the schema does not take it.
    let twice = serde_json::json!(["node-a", "node-a"]);
    let schema = schema::schema_of::<SectionsJson>();
    assert!(!jsonschema::validator_for(&schema).unwrap().is_valid(&twice));
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
    let ConfigJson(map) = json(&sp_conf(
        dir.path(),
        &["-s", "node-a", "--json", "--show-secrets"],
    ));
    assert_eq!(map["SP_OURID"], "1");
    assert_eq!(map["SP_AUTH_TOKEN"], TOKEN);
    assert_eq!(map["SP_API_HTTP_PORT"], "81");
    assert_eq!(map["SP_API_HTTP_HOST"], "10.0.0.6");
    // Exactly the defaults and what the files set: no member more, none fewer.
    let names: BTreeSet<&str> = map.keys().map(String::as_str).collect();
    let expected: BTreeSet<&str> = storpool_conf::DEFAULTS
        .iter()
        .map(|(name, _)| *name)
        .chain(["SP_API_HTTP_HOST", "SP_AUTH_TOKEN", "SP_OURID"])
        .collect();
    assert_eq!(names, expected);

    let ConfigJson(map) = json(&sp_conf(dir.path(), &["-s", "node-b", "--json"]));
    assert_eq!(map["SP_OURID"], "2");
    assert_eq!(map["SP_AUTH_TOKEN"], "<redacted>");
    assert!(!stdout(&sp_conf(dir.path(), &["--json"])).contains(TOKEN));
}

#[test]
fn query_json_is_one_string() {
    let dir = etc();
    let out = sp_conf(
        dir.path(),
        &["-s", "node-c", "--query", "SP_OURID", "--json"],
    );
    assert_eq!(stdout(&out), "\"3\"\n");
    let QueryJson(value) = json(&out);
    assert_eq!(value, "3");

    let QueryJson(value) = json(&sp_conf(
        dir.path(),
        &["--query", "SP_AUTH_TOKEN", "--json"],
    ));
    assert_eq!(value, "<redacted>");
    let QueryJson(value) = json(&sp_conf(
        dir.path(),
        &["--query", "SP_AUTH_TOKEN", "--json", "--show-secrets"],
    ));
    assert_eq!(value, TOKEN);

    let out = sp_conf(
        dir.path(),
        &["-s", "nowhere", "--query", "SP_OURID", "--json"],
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty());
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
    let SectionsJson(sections) = json(&out);
    assert_eq!(
        sections,
        BTreeSet::from(["node-a", "node-b", "node-c"].map(String::from))
    );

    let empty = tempfile::tempdir().unwrap();
    std::fs::write(empty.path().join("storpool.conf"), "SP_OURID=1\n").unwrap();
    let out = sp_conf(empty.path(), &["--sections", "--json"]);
    assert_eq!(stdout(&out), "[]\n");
    let SectionsJson(sections) = json(&out);
    assert!(sections.is_empty());
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
