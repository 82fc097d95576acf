//! Image import and export through the real `qemu-img`.

use std::fs;
use std::io::{Read, Seek, SeekFrom, Write};
use std::os::unix::fs::{FileTypeExt as _, MetadataExt};
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::{ExportedJson, GIB, ImportedJson, Run, command, node};

const MIB: u64 = 1 << 20;

/// A raw image of `size` bytes with 1 MiB of data at its start and another at 3 MiB, holes
/// elsewhere; returns its bytes.
fn raw_image(path: &Path, size: u64) -> Vec<u8> {
    let mut file = fs::File::create(path).unwrap();
    file.set_len(size).unwrap();
    for (at, seed) in [(0, 1u8), (3 * MIB, 7)] {
        let block: Vec<u8> = (0..MIB).map(|i| (i % 251) as u8 ^ seed).collect();
        file.seek(SeekFrom::Start(at)).unwrap();
        file.write_all(&block).unwrap();
    }
    drop(file);
    fs::read(path).unwrap()
}

fn qemu_img(args: &[&str]) {
    let status = Command::new("qemu-img").args(args).status().unwrap();
    assert!(status.success(), "qemu-img {args:?}");
}

/// The first `len` bytes of a file.
fn head(path: &Path, len: usize) -> Vec<u8> {
    let mut bytes = vec![0; len];
    fs::File::open(path)
        .unwrap()
        .read_exact(&mut bytes)
        .unwrap();
    bytes
}

fn path_arg(path: &Path) -> &str {
    path.to_str().unwrap()
}

#[test]
fn import_a_raw_image_into_a_new_volume_sparsely_and_detach() {
    let node = node();
    let image = node.dir.path().join("disk.raw");
    let bytes = raw_image(&image, 5 * MIB);
    let imported: ImportedJson = node
        .run(&["import-image", "img", path_arg(&image), "--json"])
        .json();
    assert!(imported.created);
    assert!(imported.elapsed_seconds > 0.0);
    assert_eq!(imported.image.format, "raw");
    assert_eq!(imported.image.virtual_size_bytes, 5 * MIB);
    assert_eq!(imported.image.path, image);
    assert_eq!(imported.volume.name, "os--volume-img");
    assert_eq!(
        imported.volume.size_gib, 1,
        "the image's size rounded up to whole GiB"
    );
    assert!(imported.device.starts_with(node.sim.dev_root()));
    let data = node.sim.data_path("os--volume-img").unwrap();
    assert_eq!(head(&data, bytes.len()), bytes);
    assert_eq!(fs::metadata(&data).unwrap().len(), GIB);
    // Zero runs were not written: about the 2 MiB of data is allocated.
    let allocated = fs::metadata(&data).unwrap().blocks() * 512;
    assert!(allocated < 3 * MIB, "{allocated} bytes allocated");
    assert!(node.sim.state().attachments.is_empty(), "detached again");
    assert!(!imported.device.exists());
}

#[test]
fn import_a_qcow2_image_with_a_size_and_type() {
    let node = node();
    node.sim.seed_template("ssd", Some(3), None).unwrap();
    let raw = node.dir.path().join("disk.raw");
    let bytes = raw_image(&raw, 4 * MIB);
    let qcow2 = node.dir.path().join("disk.qcow2");
    qemu_img(&[
        "convert",
        "-f",
        "raw",
        "-O",
        "qcow2",
        path_arg(&raw),
        path_arg(&qcow2),
    ]);
    let text = node
        .run(&[
            "import-image",
            "q",
            path_arg(&qcow2),
            "--size",
            "3",
            "--type-spec",
            "storpool_template=ssd",
        ])
        .ok()
        .to_owned();
    assert!(
        text.starts_with(&format!(
            "imported {} (qcow2, 4194304 bytes) into new volume `q` (3 GiB)",
            qcow2.display()
        )),
        "{text}"
    );
    let state = node.volume("os--volume-q").unwrap();
    assert_eq!(
        (state.size, state.template.as_deref()),
        (3 * GIB, Some("ssd"))
    );
    assert_eq!(
        head(&node.sim.data_path("os--volume-q").unwrap(), bytes.len()),
        bytes
    );
}

#[test]
fn import_into_an_existing_volume_overwrites_it_when_it_is_big_enough() {
    let node = node();
    let image = node.dir.path().join("disk.raw");
    let bytes = raw_image(&image, 4 * MIB);
    node.run(&["create", "e", "--size", "2"]).ok();
    // Old content where the image has a hole must read as zeros afterwards.
    node.sim
        .call(
            "POST",
            "VolumesReassign",
            Some(serde_json::json!([{"volume": "os--volume-e", "rw": [crate::ID]}])),
        )
        .unwrap();
    let device = node.sim.dev_root().join("storpool/os--volume-e");
    fs::OpenOptions::new()
        .write(true)
        .open(&device)
        .unwrap()
        .write_all(&vec![0xEE; 2 << 20])
        .unwrap();
    node.sim
        .call(
            "POST",
            "VolumesReassign",
            Some(serde_json::json!([{"volume": "os--volume-e", "detach": "all"}])),
        )
        .unwrap();
    let run = node.run(&["import-image", "e", path_arg(&image), "--json"]);
    let imported: ImportedJson = run.json();
    assert!(!imported.created);
    assert_eq!(imported.volume.size_gib, 2);
    assert!(
        run.stderr
            .contains("volume `e` exists (2 GiB): writing the image into it"),
        "{run:#?}"
    );
    let data = node.sim.data_path("os--volume-e").unwrap();
    assert_eq!(head(&data, bytes.len()), bytes);
    // Too small: refused, nothing written.
    let big = node.dir.path().join("big.raw");
    fs::File::create(&big).unwrap().set_len(3 * GIB).unwrap();
    let run = node.run(&["import-image", "e", path_arg(&big)]);
    let line = run.failed(1);
    assert!(
        line.contains("holds 2 GiB, less than the 3 GiB disk"),
        "{line}"
    );
    assert!(
        run.stderr.contains("sp-volume extend e --size 3"),
        "{run:#?}"
    );
}

#[test]
fn import_refuses_bad_images_and_sizes_before_making_anything() {
    let node = node();
    let missing = node.dir.path().join("missing.img");
    let line = node
        .run(&["import-image", "x", path_arg(&missing)])
        .failed(2)
        .to_owned();
    assert!(
        line.contains(&format!("cannot read the image {}", missing.display())),
        "{line}"
    );
    let big = node.dir.path().join("big.raw");
    fs::File::create(&big)
        .unwrap()
        .set_len(2 * GIB + 1)
        .unwrap();
    let line = node
        .run(&["import-image", "x", path_arg(&big), "--size", "2"])
        .failed(2)
        .to_owned();
    assert!(
        line.contains("`--size 2` is smaller than the image"),
        "{line}"
    );
    assert!(line.contains("3 GiB disk"), "{line}");
    // An image that depends on another file.
    let base = node.dir.path().join("base.raw");
    raw_image(&base, 4 * MIB);
    let overlay = node.dir.path().join("overlay.qcow2");
    qemu_img(&[
        "create",
        "-q",
        "-f",
        "qcow2",
        "-b",
        path_arg(&base),
        "-F",
        "raw",
        path_arg(&overlay),
    ]);
    let run = node.run(&["import-image", "x", path_arg(&overlay)]);
    assert!(run.failed(2).contains("has the backing file"), "{run:#?}");
    // A format that does not match the file.
    let line = node
        .run(&[
            "import-image",
            "x",
            path_arg(&base),
            "--image-format",
            "qcow2",
        ])
        .failed(2)
        .to_owned();
    assert!(line.contains("cannot read the image"), "{line}");
    assert!(node.sim.state().volumes.is_empty());
}

#[test]
fn without_qemu_img_import_and_export_say_what_to_install() {
    let node = node();
    let image = node.dir.path().join("disk.raw");
    raw_image(&image, 4 * MIB);
    let empty = tempfile::tempdir().unwrap();
    let mut cmd = command(node.dir.path());
    cmd.env("PATH", empty.path())
        .arg("--config")
        .arg(node.conf())
        .arg("--dev-root")
        .arg(node.sim.dev_root())
        .args(["import-image", "x", path_arg(&image)]);
    let run = node.checked(cmd, &["import-image"]);
    assert!(
        run.failed(2).contains("`qemu-img` is not installed"),
        "{run:#?}"
    );
    assert!(
        run.stderr
            .contains("hint: install it: `apt-get install qemu-utils`"),
        "{run:#?}"
    );
    assert!(node.sim.state().volumes.is_empty());
}

/// A node with volume `v` holding the test image; returns the image's bytes.
fn node_with_image() -> (crate::Node, Vec<u8>) {
    let node = node();
    let image = node.dir.path().join("disk.raw");
    let bytes = raw_image(&image, 4 * MIB);
    node.run(&["import-image", "v", path_arg(&image), "-q"])
        .ok();
    (node, bytes)
}

#[test]
fn export_raw_through_a_temporary_snapshot_while_the_volume_is_in_use() {
    let (node, bytes) = node_with_image();
    // In use elsewhere: attached read-write to another client.
    node.sim
        .call(
            "POST",
            "VolumesReassign",
            Some(serde_json::json!([{"volume": "os--volume-v", "rw": [3]}])),
        )
        .unwrap();
    let out = node.dir.path().join("out.raw");
    let exported: ExportedJson = node
        .run(&["export-image", "v", path_arg(&out), "--json"])
        .json();
    assert_eq!(exported.id, "v");
    assert_eq!(exported.name, "os--volume-v");
    assert_eq!(exported.file, out);
    assert_eq!(exported.format, "raw");
    assert!(exported.elapsed_seconds > 0.0);
    assert_eq!(
        (exported.virtual_size_bytes, exported.file_size_bytes),
        (GIB, GIB)
    );
    assert!(
        exported
            .snapshot
            .starts_with("os--snap--none--snapshot-export-v-"),
        "{exported:?}"
    );
    assert_eq!(head(&out, bytes.len()), bytes);
    let allocated = fs::metadata(&out).unwrap().blocks() * 512;
    assert!(allocated < 4 * MIB, "sparse: {allocated}");
    let state = node.sim.state();
    assert!(
        state.snapshots.is_empty(),
        "the snapshot is gone: {:?}",
        state.snapshots
    );
    assert_eq!(
        state.attachments.len(),
        1,
        "only the other client's attachment is left"
    );
    assert_eq!(leftovers(node.dir.path()), Vec::<PathBuf>::new());
}

#[test]
fn export_qcow2_matches_the_image_and_an_existing_file_needs_force() {
    let (node, _) = node_with_image();
    let out = node.dir.path().join("out.qcow2");
    let text = node
        .run(&[
            "export-image",
            "v",
            path_arg(&out),
            "--image-format",
            "qcow2",
        ])
        .ok()
        .to_owned();
    assert!(
        text.starts_with("exported volume `v` (1073741824 bytes) to "),
        "{text}"
    );
    let raw = node.dir.path().join("disk.raw");
    qemu_img(&[
        "compare",
        "-q",
        "-f",
        "qcow2",
        "-F",
        "raw",
        path_arg(&out),
        path_arg(&raw),
    ]);
    let run = node.run(&[
        "export-image",
        "v",
        path_arg(&out),
        "--image-format",
        "qcow2",
    ]);
    assert!(run.failed(2).contains("the file exists"), "{run:#?}");
    assert!(run.stderr.contains("--force"), "{run:#?}");
    node.run(&["export-image", "v", path_arg(&out), "--force"])
        .ok();
    let info = Command::new("qemu-img")
        .args(["info", "--output=json", path_arg(&out)])
        .output()
        .unwrap();
    let info: serde_json::Value = serde_json::from_slice(&info.stdout).unwrap();
    assert_eq!(info["format"], "raw", "replaced by a raw export");
    assert!(node.sim.state().snapshots.is_empty());
}

#[test]
fn a_failed_export_leaves_no_file_and_no_snapshot() {
    let (node, _) = node_with_image();
    let out = node.dir.path().join("out.raw");
    let line = node
        .run(&["export-image", "nope", path_arg(&out)])
        .failed(1)
        .to_owned();
    assert!(line.contains("os--volume-nope"), "{line}");
    let line = node
        .run(&[
            "export-image",
            "v",
            path_arg(&node.dir.path().join("no/such/dir/out.raw")),
        ])
        .failed(2)
        .to_owned();
    assert!(line.contains("does not exist"), "{line}");
    assert!(!out.exists());
    assert!(node.sim.state().snapshots.is_empty());
    assert_eq!(leftovers(node.dir.path()), Vec::<PathBuf>::new());
}

/// Partial files left in a folder.
fn leftovers(dir: &Path) -> Vec<PathBuf> {
    fs::read_dir(dir)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.to_string_lossy().ends_with(".partial"))
        .collect()
}

#[test]
fn import_draws_progress_on_a_terminal_only() {
    if Command::new("script").arg("--version").output().is_err() {
        eprintln!("skipped: no `script` (util-linux) to give the command a terminal");
        return;
    }
    let node = node();
    let image = node.dir.path().join("disk.raw");
    raw_image(&image, 4 * MIB);
    let base = format!(
        "{} --config {} --dev-root {} import-image",
        env!("CARGO_BIN_EXE_sp-volume"),
        node.conf().display(),
        node.sim.dev_root().display()
    );
    // `script` runs the command with a pseudo-terminal as stdin, stdout and stderr.
    let on_terminal = |args: &str| {
        let output = Command::new("script")
            .args(["-qec", &format!("{base} {args}"), "/dev/null"])
            .env_remove("STORPOOL_CONF")
            .env_remove("RUST_LOG")
            .output()
            .unwrap();
        Run::from(output)
    };
    let shown = on_terminal(&format!("a {}", image.display()));
    assert_eq!(shown.code, Some(0), "{shown:#?}");
    assert!(shown.stdout.contains("sp-volume ["), "a bar: {shown:#?}");
    assert!(
        shown.stdout.contains("4.00 MiB/4.00 MiB"),
        "bytes done of all: {shown:#?}"
    );
    assert!(
        shown.stdout.contains("\nimported "),
        "the result on a line of its own: {shown:#?}"
    );
    for quiet in ["--no-progress", "--json", "-q"] {
        let run = on_terminal(&format!(
            "b-{} {} {quiet}",
            quiet.trim_start_matches('-'),
            image.display()
        ));
        assert_eq!(run.code, Some(0), "{run:#?}");
        assert!(!run.stdout.contains("sp-volume ["), "{quiet}: {run:#?}");
    }
}

/// `mkfifo PATH`.
fn mkfifo(path: &Path) {
    let status = Command::new("mkfifo").arg(path).status().unwrap();
    assert!(status.success(), "mkfifo {}", path.display());
}

#[test]
fn export_with_force_refuses_fifos_devices_and_links_to_them_and_leaves_them_alone() {
    // Issue 13, defect 3: `--force` replaced a FIFO or a character device with the file.
    let (node, _) = node_with_image();
    let fifo = node.dir.path().join("fifo");
    mkfifo(&fifo);
    let link = node.dir.path().join("null-link");
    std::os::unix::fs::symlink("/dev/null", &link).unwrap();
    // `/dev/null` itself is refused before anything touches it.
    let null = PathBuf::from("/dev/null");
    for (path, what) in [
        (&fifo, "a FIFO"),
        (&link, "a character device"),
        (&null, "a character device"),
        (&node.dir.path().to_owned(), "a folder"),
    ] {
        let run = node.run(&["export-image", "v", path_arg(path), "--force"]);
        let error = run.failed(2);
        assert!(
            error.contains(&format!(
                "cannot export volume `v` to {}: it is {what}",
                path.display()
            )),
            "{run:#?}"
        );
    }
    assert!(fs::symlink_metadata(&fifo).unwrap().file_type().is_fifo());
    assert!(
        fs::symlink_metadata(&link)
            .unwrap()
            .file_type()
            .is_symlink()
    );
    assert!(fs::metadata(&null).unwrap().file_type().is_char_device());
    assert!(node.sim.state().snapshots.is_empty());
    assert_eq!(leftovers(node.dir.path()), Vec::<PathBuf>::new());
}

#[test]
fn import_refuses_fifos_and_character_devices_as_images() {
    // Issue 13, defect 4: `/dev/zero` "succeeded" with 0 bytes, and a FIFO hung
    // `qemu-img info`.
    let node = node();
    let fifo = node.dir.path().join("fifo");
    mkfifo(&fifo);
    for (path, what) in [
        (PathBuf::from("/dev/zero"), "a character device"),
        (fifo, "a FIFO"),
    ] {
        let run = node.run_within(
            &["import-image", "x", path_arg(&path)],
            std::time::Duration::from_secs(30),
        );
        let error = run.failed(2);
        assert!(
            error.contains(&format!(
                "cannot read the image {}: it is {what}",
                path.display()
            )),
            "{run:#?}"
        );
        assert!(
            run.stderr
                .contains("hint: only regular files and block devices can be imported"),
            "{run:#?}"
        );
    }
    assert!(node.sim.state().volumes.is_empty());
}

#[test]
fn import_into_an_existing_volume_never_makes_another_one_silently_issue_14() {
    let node = node();
    let image = node.dir.path().join("disk.raw");
    raw_image(&image, 5 * MIB);
    node.run(&["create", "base", "--size", "10"]).ok();
    // `--size` that disagrees with the volume there: refused, nothing written or made.
    let run = node.run(&["import-image", "base", path_arg(&image), "--size", "1"]);
    let line = run.failed(1);
    assert!(
        line.contains("volume `base` exists with 10 GiB, not the 1 GiB asked for the image"),
        "{line}"
    );
    assert!(
        run.stderr
            .contains("hint: leave out `--size` to write the image into it"),
        "{run:#?}"
    );
    assert_eq!(node.volume("os--volume-base").unwrap().size, 10 * GIB);
    assert!(
        node.sim.data_path("os--volume-base").is_none(),
        "nothing written"
    );
    // The size it has is fine.
    let run = node.run(&["import-image", "base", path_arg(&image), "--size", "10"]);
    run.ok();
    // A volume that does not exist is made, and that is said on stderr too.
    let run = node.run(&["import-image", "fresh", path_arg(&image)]);
    assert!(
        run.ok().contains("into new volume `fresh` (1 GiB)"),
        "{run:#?}"
    );
    assert_eq!(
        run.stderr,
        "sp-volume: volume `fresh` does not exist: creating it (1 GiB) for the image\n"
    );
}
