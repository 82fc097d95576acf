//! Exit codes and the one error line: 1 for operations the cluster refused or could not do,
//! 2 for bad input and configuration.

use crate::{Run, command, node};

#[test]
fn bad_ids_are_usage_errors_and_nothing_is_asked_of_the_cluster() {
    let node = node();
    for (args, needle) in [
        (
            &["create", "a/b", "--size", "1"][..],
            "invalid volume id `a/b`",
        ),
        (&["create", "", "--size", "1"], "invalid volume id ``"),
        (&["delete", "x y"], "invalid volume id `x y`"),
        (&["snapshot", "v", "s#1"], "invalid snapshot id `s#1`"),
        (
            &["connection-info", "a/b", "--host", "h"],
            "invalid volume id `a/b`",
        ),
    ] {
        let line = node.run(args).failed(2).to_owned();
        assert!(line.contains(needle), "{args:?}: {line}");
    }
    assert!(node.sim.state().volumes.is_empty());
}

#[test]
fn bad_sizes_are_usage_errors() {
    let node = node();
    for (size, needle) in [
        ("0", "at least 1 GiB"),
        (
            "-1",
            "invalid value '-1' for '--size <GIB>': expected a whole number of GiB",
        ),
        (
            "1.5",
            "invalid value '1.5' for '--size <GIB>': expected a whole number of GiB",
        ),
        (
            "ten",
            "invalid value 'ten' for '--size <GIB>': expected a whole number of GiB",
        ),
        ("", "expected a whole number of GiB"),
    ] {
        let run = node.run(&["create", "v", "--size", size]);
        assert_eq!(run.code, Some(2), "{size}: {run:#?}");
        assert_eq!(run.stdout, "");
        assert!(run.stderr.contains(needle), "{size}: {}", run.stderr);
    }
    let run = node.run(&["create", "v"]);
    assert_eq!(run.code, Some(2), "{run:#?}");
    assert!(run.stderr.contains("--size <GIB>"), "{}", run.stderr);
    assert!(node.sim.state().volumes.is_empty());
}

#[test]
fn a_missing_or_invalid_configuration_is_exit_2_naming_the_file() {
    let node = node();
    let missing = node.dir.path().join("nowhere.conf");
    let mut cmd = command(node.dir.path());
    cmd.arg("--config").arg(&missing).arg("list");
    let line = node.checked(cmd, &["list"]).failed(2).to_owned();
    assert!(
        line.contains(&format!("{} does not exist", missing.display())),
        "{line}"
    );
    // The same through STORPOOL_CONF: never a silent fallback to the embedded simulator.
    let mut cmd = command(node.dir.path());
    cmd.env("STORPOOL_CONF", &missing).arg("list");
    let run = node.checked(cmd, &["list"]);
    assert!(run.failed(2).contains("does not exist"), "{run:#?}");
    assert!(
        run.stderr.contains("hint: `STORPOOL_CONF` names"),
        "{run:#?}"
    );
    // A port that is not a number names the variable, the file and the line.
    std::fs::write(
        node.conf(),
        format!("{}SP_API_HTTP_PORT=eighty\n", node.sim.storpool_conf(None)),
    )
    .unwrap();
    let line = node.run(&["list"]).failed(2).to_owned();
    assert!(
        line.contains("invalid SP_API_HTTP_PORT value `eighty`"),
        "{line}"
    );
    assert!(line.contains("storpool.conf line 5"), "{line}");
    // No token.
    std::fs::write(node.conf(), "SP_API_HTTP_HOST=127.0.0.1\n").unwrap();
    let line = node.run(&["list"]).failed(2).to_owned();
    assert!(line.contains("SP_AUTH_TOKEN"), "{line}");
}

#[test]
fn an_unreachable_api_is_exit_1_after_the_retries_asked_for() {
    let node = node();
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    std::fs::write(
        node.conf(),
        format!("SP_API_HTTP_HOST=127.0.0.1\nSP_API_HTTP_PORT={port}\nSP_AUTH_TOKEN=1234\n"),
    )
    .unwrap();
    let run = node.run(&["--api-retries", "0", "create", "v", "--size", "1"]);
    let line = run.failed(1);
    assert!(
        line.contains("create volume failed on volume `os--volume-v`"),
        "{line}"
    );
    assert!(line.contains("got no usable response"), "{line}");
    assert!(
        run.stderr.contains("hint: is the StorPool API reachable?"),
        "{run:#?}"
    );
    let run = node.run(&["stats", "--api-retries", "1"]);
    assert!(run.failed(1).contains("after 2 attempts"), "{run:#?}");
}

#[test]
fn the_token_never_shows_even_in_trace_logs() {
    let node = node();
    // `Node::run` checks stdout and stderr of every run for the token.
    let run = node.run(&["-vvv", "create", "v", "--size", "1"]);
    run.ok();
    assert!(
        run.stderr.contains("VolumeCreate"),
        "the calls are logged: {}",
        run.stderr
    );
    let run = node.run(&["-vvv", "create", "v", "--size", "2"]);
    assert_eq!(run.code, Some(1), "{run:#?}");
    assert!(run.error_line().contains("already exists"), "{run:#?}");
    assert!(
        run.stderr.contains("StorPool driver operation failed"),
        "logged at -v: {run:#?}"
    );
    std::fs::write(
        node.conf(),
        format!("{}SP_API_HTTP_HOST=\n", node.sim.storpool_conf(None)),
    )
    .unwrap();
    let run = node.run(&["-vvv", "list"]);
    assert_eq!(run.code, Some(2), "{run:#?}");
}

#[test]
fn usage_errors_and_help() {
    let node = node();
    for args in [
        &["frobnicate"][..],
        &[],
        &["-v", "-q", "list"],
        &["--embedded", "--config", "x", "list"],
        &["group-snapshot", "g"],
        &["export-image", "v", "f", "--image-format", "vmdk"],
        &["--default-replication", "0", "list"],
    ] {
        let run: Run = node.run(args);
        assert_eq!(run.code, Some(2), "{args:?}: {run:#?}");
        assert_eq!(run.stdout, "");
    }
    let help = node.run(&["--help"]).ok().to_owned();
    for needle in [
        "Exit codes:",
        "0  done",
        "1  the operation failed",
        "2  usage or configuration error",
        "create-from-snapshot",
        "import-image",
        "--embedded[=<DIR>]",
    ] {
        assert!(help.contains(needle), "{needle}: {help}");
    }
    let help = node.run(&["create", "--help"]).ok().to_owned();
    assert!(help.contains("--type-spec <KEY=VALUE>"), "{help}");
}

#[test]
fn colours_follow_no_color_clicolor_force_and_term() {
    let home = tempfile::tempdir().unwrap();
    let run = |vars: &[(&str, &str)]| {
        let mut cmd = command(home.path());
        cmd.env_remove("NO_COLOR")
            .env_remove("CLICOLOR")
            .env_remove("CLICOLOR_FORCE")
            .envs(vars.iter().copied())
            .args(["create", "v", "--size", "0"]);
        Run::from(cmd.output().unwrap())
    };
    // Not a terminal: plain, unless forced.
    assert_eq!(run(&[]).code, Some(2));
    assert!(!run(&[]).stderr.contains('\x1b'), "{:?}", run(&[]).stderr);
    let forced = run(&[("CLICOLOR_FORCE", "1")]);
    assert!(
        forced.stderr.starts_with("sp-volume: \x1b["),
        "{:?}",
        forced.stderr
    );
    assert!(forced.stderr.contains("error:\x1b["), "{:?}", forced.stderr);
    // NO_COLOR wins over everything.
    let no = run(&[("CLICOLOR_FORCE", "1"), ("NO_COLOR", "1")]);
    assert!(!no.stderr.contains('\x1b'), "{:?}", no.stderr);
}
