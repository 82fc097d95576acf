//! Records the git commit the tools are built from, for `--version`:
//! `STORPOOL_RS_GIT_COMMIT` when the build environment sets it (a source tarball's packager),
//! else `git rev-parse --short=12 HEAD` when this is a git checkout, else nothing (the version
//! is then the crate version alone).

use std::path::{Path, PathBuf};
use std::process::Command;

const VAR: &str = "STORPOOL_RS_GIT_COMMIT";

fn git(dir: &Path, args: &[&str]) -> Option<String> {
    let output = Command::new("git")
        .args(args)
        .current_dir(dir)
        .output()
        .ok()?;
    output
        .status
        .success()
        .then(|| String::from_utf8_lossy(&output.stdout).trim().to_owned())
        .filter(|text| !text.is_empty())
}

fn main() {
    println!("cargo:rerun-if-env-changed={VAR}");
    if std::env::var_os(VAR).is_some() {
        // rustc sees the variable itself (`option_env!`).
        return;
    }
    let Some(dir) = std::env::var_os("CARGO_MANIFEST_DIR").map(PathBuf::from) else {
        return;
    };
    let Some(commit) = git(&dir, &["rev-parse", "--short=12", "HEAD"]) else {
        return;
    };
    println!("cargo:rustc-env={VAR}={commit}");
    // Build again when HEAD moves: a commit or a checkout in this work tree.
    for path in ["HEAD", "logs/HEAD"] {
        if let Some(file) = git(&dir, &["rev-parse", "--git-path", path]) {
            let file = dir.join(file);
            if file.exists() {
                println!("cargo:rerun-if-changed={}", file.display());
            }
        }
    }
}
