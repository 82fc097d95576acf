//! The README's usage example runs verbatim on a fresh embedded cluster, each line with
//! `--embedded DIR` after the tool's name (issue 14), and does what its comments say.

use std::path::{Path, PathBuf};
use std::process::Command;

/// The binary `name`, built next to this test's executable (see `binaries.rs`).
fn tool(name: &str) -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let path = exe.parent().and_then(Path::parent).unwrap().join(name);
    assert!(
        path.is_file(),
        "{} is not built: run the suite with `cargo test --workspace`",
        path.display()
    );
    path
}

/// The command lines of the README's example: the `sh` block that starts with
/// `sp-volume create base`, without the comments.
fn example_lines() -> Vec<Vec<String>> {
    let readme =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../README.md"))
            .unwrap();
    let start = readme
        .find("```sh\nsp-volume create base")
        .expect("the README's usage example");
    let block = &readme[start + "```sh\n".len()..];
    let block = &block[..block.find("```").unwrap()];
    block
        .lines()
        .map(|line| {
            let command = line.split(" #").next().unwrap();
            command.split_whitespace().map(str::to_owned).collect()
        })
        .collect()
}

#[test]
fn the_readme_usage_example_runs_verbatim_on_a_fresh_embedded_cluster() {
    if Command::new("qemu-img").arg("--version").output().is_err() {
        eprintln!("skipped: qemu-img is not installed");
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let work = tmp.path().join("work");
    std::fs::create_dir(&work).unwrap();
    let dir = tmp.path().join("cluster");
    // `./cirros.qcow2`: a small disk image with some data.
    let raw = work.join("disk.raw");
    let file = std::fs::File::create(&raw).unwrap();
    file.set_len(40 << 20).unwrap();
    std::os::unix::fs::FileExt::write_at(&file, &vec![0x5a; 1 << 20], 0).unwrap();
    drop(file);
    let status = Command::new("qemu-img")
        .args([
            "convert",
            "-f",
            "raw",
            "-O",
            "qcow2",
            "disk.raw",
            "cirros.qcow2",
        ])
        .current_dir(&work)
        .status()
        .unwrap();
    assert!(status.success());

    let lines = example_lines();
    assert_eq!(lines.len(), 7, "{lines:?}");
    let mut outputs = Vec::new();
    for line in &lines {
        let output = Command::new(tool(&line[0]))
            .arg("--embedded")
            .arg(&dir)
            .args(&line[1..])
            .current_dir(&work)
            .env_remove("STORPOOL_CONF")
            .env_remove("STORPOOL_EMBEDDED")
            .env_remove("SP_API_HTTP_HOST")
            .env_remove("RUST_LOG")
            .env("HOME", tmp.path())
            .env("NO_COLOR", "1")
            .output()
            .unwrap();
        let stdout = String::from_utf8(output.stdout).unwrap();
        let stderr = String::from_utf8(output.stderr).unwrap();
        assert!(
            output.status.success(),
            "`{}` failed:\n{stdout}{stderr}",
            line.join(" ")
        );
        outputs.push((stdout, stderr));
    }
    // create: the `ssd` template of a fresh embedded cluster, replication 3.
    assert!(
        outputs[0].0.contains("template     ssd"),
        "{:?}",
        outputs[0]
    );
    assert!(outputs[0].0.contains("replication  3"), "{:?}", outputs[0]);
    // import-image: into the existing 10 GiB volume, and said so.
    assert!(
        outputs[1]
            .0
            .contains("into existing volume `base` (10 GiB)"),
        "{:?}",
        outputs[1]
    );
    assert!(
        outputs[1]
            .1
            .contains("volume `base` exists (10 GiB): writing the image into it"),
        "{:?}",
        outputs[1]
    );
    // connect: prints the device path, a link by global id under the cluster's device root.
    let device = PathBuf::from(outputs[4].0.trim_end());
    assert!(
        device.starts_with(dir.join("dev/storpool-byid")),
        "{device:?}"
    );
    assert!(std::fs::metadata(&device).unwrap().is_file());
    // export-image: a qcow2 file.
    let exported = std::fs::read(work.join("vm-1.qcow2")).unwrap();
    assert_eq!(&exported[..4], b"QFI\xfb");
    // stats: Cinder's stats, with the pools named in the comment; the run says where it ran.
    let answer: serde_json::Value = serde_json::from_str(&outputs[6].0).unwrap();
    assert_eq!(answer["cluster"], "embedded");
    let pools: Vec<&str> = answer["pools"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["pool_name"].as_str().unwrap())
        .collect();
    for pool in ["default", "replication_1", "template_ssd", "template_hdd"] {
        assert!(pools.contains(&pool), "{pools:?}");
    }
}
