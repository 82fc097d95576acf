//! What every tool tells about itself (issue 14): `--version` with the commit, completions for
//! bash, zsh and fish, man pages, and help whose global options stand apart and whose
//! subcommands show examples.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const TOOLS: [&str; 4] = ["sp-volume", "sp-attach", "sp-conf", "storpool-sim"];

fn tool(name: &str) -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let path = exe.parent().and_then(Path::parent).unwrap().join(name);
    assert!(path.is_file(), "{} is not built", path.display());
    path
}

fn run(name: &str, args: &[&str]) -> (String, Output) {
    let output = Command::new(tool(name))
        .args(args)
        .env_remove("STORPOOL_CONF")
        .env_remove("STORPOOL_EMBEDDED")
        .env_remove("SP_API_HTTP_HOST")
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{name} {args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    (String::from_utf8(output.stdout.clone()).unwrap(), output)
}

#[test]
fn every_tool_prints_its_version_with_the_commit() {
    let commit = Command::new("git")
        .args(["rev-parse", "--short=12", "HEAD"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8(o.stdout).unwrap().trim().to_owned());
    for name in TOOLS {
        let (text, _) = run(name, &["--version"]);
        assert!(text.starts_with(&format!("{name} 0.")), "{text}");
        if let Some(commit) = &commit {
            assert!(
                text.contains(&format!("(commit {commit})")),
                "{name}: {text}"
            );
        }
    }
}

#[test]
fn every_tool_completes_in_bash_zsh_and_fish() {
    for name in TOOLS {
        for (shell, needle) in [
            ("bash", format!("complete -F _{}", name.replace('-', "__"))),
            ("zsh", format!("#compdef {name}")),
            ("fish", format!("complete -c {name}")),
        ] {
            let (text, _) = run(name, &["completions", shell]);
            assert!(
                text.contains(&needle),
                "{name} {shell}: {}",
                &text[..200.min(text.len())]
            );
        }
    }
    let (text, _) = run("sp-volume", &["completions", "bash"]);
    assert!(text.contains("list-templates"), "subcommands are completed");
}

#[test]
fn every_tool_writes_its_man_pages() {
    let tmp = tempfile::tempdir().unwrap();
    for name in TOOLS {
        let (page, _) = run(name, &["man"]);
        assert!(page.contains(&format!(".TH {name} 1")), "{name}: {page}");
        let dir = tmp.path().join(name);
        run(name, &["man", "--dir", dir.to_str().unwrap()]);
        assert!(dir.join(format!("{name}.1")).is_file(), "{name}");
    }
    let dir = tmp.path().join("sp-volume");
    for page in [
        "sp-volume-create.1",
        "sp-volume-list-snapshots.1",
        "sp-volume-doctor.1",
    ] {
        assert!(dir.join(page).is_file(), "{page}");
    }
    let page = std::fs::read_to_string(dir.join("sp-volume-create.1")).unwrap();
    assert!(page.contains("Examples"), "{page}");
}

#[test]
fn subcommand_help_sets_the_global_options_apart_and_shows_examples() {
    for (name, sub) in [
        ("sp-volume", "create"),
        ("sp-volume", "import-image"),
        ("sp-volume", "doctor"),
        ("sp-attach", "connect"),
        ("sp-attach", "list"),
    ] {
        let (help, _) = run(name, &[sub, "--help"]);
        let global = help
            .find("\nGlobal options:\n")
            .unwrap_or_else(|| panic!("{name} {sub}: {help}"));
        let own = help.find("\nOptions:\n").unwrap_or(0);
        assert!(own < global, "{name} {sub}: its own options first: {help}");
        assert!(help[global..].contains("--json"), "{help}");
        assert!(!help[..global].contains("--api-timeout"), "{help}");
        let examples = help
            .find("\nExamples:\n")
            .unwrap_or_else(|| panic!("{name} {sub}: {help}"));
        let lines = help[examples..]
            .lines()
            .filter(|l| l.trim_start().starts_with(&format!("{name} ")))
            .count();
        assert!(lines >= 2, "{name} {sub}: {help}");
    }
}

#[test]
fn one_flag_name_per_concept() {
    // The image format and the device wait are named alike in every tool; `-q` means quiet
    // wherever it exists.
    let (export, _) = run("sp-volume", &["export-image", "--help"]);
    assert!(export.contains("--image-format <FORMAT>"), "{export}");
    let (import, _) = run("sp-volume", &["import-image", "--help"]);
    assert!(import.contains("--image-format <FORMAT>"), "{import}");
    let (connect, _) = run("sp-attach", &["connect", "--help"]);
    assert!(connect.contains("--attach-timeout <SECS>"), "{connect}");
    let (volume, _) = run("sp-volume", &["--help"]);
    assert!(volume.contains("--attach-timeout <SECS>"), "{volume}");
    for name in TOOLS {
        let (help, _) = run(name, &["--help"]);
        if let Some(line) = help.lines().find(|l| l.trim_start().starts_with("-q,")) {
            assert!(line.contains("--quiet"), "{name}: {line}");
        }
    }
}
