//! Bad usage and configuration: exit 2 with one clear line.

use crate::{node, node_with_id};

#[test]
fn a_node_without_sp_ourid_is_a_configuration_error() {
    let node = node_with_id(None);
    node.volume("v1");
    let run = node.run(&["connect", "v1"]);
    let line = run.failed(2);
    assert!(line.contains("SP_OURID is not set"), "{line}");
    assert!(
        run.stderr.contains("hint: set `SP_OURID`"),
        "{}",
        run.stderr
    );
    assert!(node.sim.state().attachments.is_empty());
}

#[test]
fn a_missing_or_broken_configuration_is_exit_2() {
    let node = node();
    let missing = node.dir.path().join("nowhere.conf");
    let run = crate::Run::from(
        std::process::Command::new(env!("CARGO_BIN_EXE_sp-attach"))
            .arg("--config")
            .arg(&missing)
            .arg("list")
            .env_remove("STORPOOL_CONF")
            .output()
            .unwrap(),
    );
    let line = run.failed(2);
    assert!(line.contains(&missing.display().to_string()), "{line}");
    // An invalid SP_OURID names the variable, the file and the line.
    std::fs::write(
        node.conf(),
        format!("{}SP_OURID=abc\n", node.sim.storpool_conf(None)),
    )
    .unwrap();
    let line = node.run(&["list"]).failed(2).to_owned();
    assert!(line.contains("invalid SP_OURID value `abc`"), "{line}");
    assert!(line.contains("storpool.conf line"), "{line}");
    // No token: the API client cannot be set up.
    std::fs::write(node.conf(), "SP_API_HTTP_HOST=127.0.0.1\nSP_OURID=7\n").unwrap();
    let line = node.run(&["list"]).failed(2).to_owned();
    assert!(line.contains("SP_AUTH_TOKEN"), "{line}");
}

#[test]
fn bad_ids_and_arguments_are_usage_errors() {
    let node = node();
    for args in [
        &["connect", "a/b"][..],
        &["connect", ""],
        &["extend", "a b"],
        &["disconnect", "x#y"],
    ] {
        let line = node.run(args).failed(2).to_owned();
        assert!(line.contains("invalid volume id"), "{args:?}: {line}");
    }
    // clap's own usage errors exit 2 as well.
    for args in [
        &["connect"][..],
        &["connect", "v", "--mode", "rwx"],
        &["connect", "v", "--attach-timeout", "0"],
        &["connect", "v", "--attach-timeout", "soon"],
        &["disconnect"],
        &["disconnect", "v", "--path", "/dev/storpool/x"],
        &["disconnect", "v", "--force", "--no-force-last"],
        &["-v", "-q", "list"],
        &["frobnicate"],
    ] {
        let run = node.run(args);
        assert_eq!(run.code, Some(2), "{args:?}: {run:#?}");
        assert_eq!(run.stdout, "");
    }
}

#[test]
fn help_lists_the_exit_codes() {
    let node = node();
    let help = node.run(&["--help"]).ok().to_owned();
    for needle in [
        "Exit codes:",
        "0  done",
        "1  the operation failed",
        "2  usage or configuration error",
        "connect",
        "disconnect",
        "extend",
        "list",
    ] {
        assert!(help.contains(needle), "{needle}: {help}");
    }
}
