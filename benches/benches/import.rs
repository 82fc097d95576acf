//! Image import throughput (item 5 of the benchmark issue): `sp-volume import-image` of a 1 GiB
//! mostly-empty qcow2 and of a 256 MiB dense raw image into a volume of the embedded simulator
//! (attach, `qemu-img convert` into the device, detach), next to a plain `qemu-img convert` of
//! the same image to a file on the same disk (the floor: the same copy without the volume).
//!
//! Needs the release build of `sp-volume` (`cargo build --release --bins`) and `qemu-img` /
//! `qemu-io` (Debian: `qemu-utils`).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::print_stdout)]

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use storpool_benches::{BenchArgs, Report, Row, release_binary};

const MIB: u64 = 1 << 20;

fn run(program: &Path, args: &[&str]) {
    let out = Command::new(program).args(args).output().unwrap();
    assert!(
        out.status.success(),
        "{} {args:?}: {}",
        program.display(),
        String::from_utf8_lossy(&out.stderr)
    );
}

fn qemu(tool: &str, args: &[&str]) {
    run(Path::new(tool), args);
}

/// A 1 GiB qcow2 holding `data_mib` MiB of data in 4 places.
fn sparse_qcow2(path: &Path, data_mib: u64) {
    let path = path.to_str().unwrap();
    qemu("qemu-img", &["create", "-q", "-f", "qcow2", path, "1G"]);
    let chunk = data_mib / 4;
    let writes: Vec<String> = (0..4u64)
        .map(|i| format!("write -q -P 0x{:02x} {}M {chunk}M", 0x11 * (i + 1), i * 256))
        .collect();
    let mut args = vec!["-f", "qcow2"];
    for write in &writes {
        args.extend(["-c", write.as_str()]);
    }
    args.push(path);
    qemu("qemu-io", &args);
}

/// A raw image of `mib` MiB of incompressible bytes.
fn dense_raw(path: &Path, mib: u64) {
    let mut state = 0x2545_f491_4f6c_dd1d_u64;
    let mut data = vec![0u8; usize::try_from(mib * MIB).unwrap()];
    for chunk in data.chunks_mut(8) {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        chunk.copy_from_slice(&state.to_le_bytes()[..chunk.len()]);
    }
    std::fs::write(path, data).unwrap();
}

fn main() {
    let args = BenchArgs::from_env();
    let mut report = Report::new(&args);
    let Some(sp_volume) = release_binary("sp-volume") else {
        report.table(
            "Image import",
            &[Row::skipped(
                "import",
                "sp-volume import-image",
                "not built: cargo build --release --bins",
            )],
        );
        return;
    };
    let runs = args.pick(5, 1);
    let dir = tempfile::tempdir_in(std::env::temp_dir()).unwrap();
    let images = [
        (
            "qcow2-1g-sparse",
            "1 GiB qcow2, 32 MiB of data",
            dir.path().join("sparse.qcow2"),
            1024_u32,
        ),
        (
            "raw-256m-dense",
            "256 MiB raw, dense",
            dir.path().join("dense.raw"),
            args.pick(256, 16),
        ),
    ];
    sparse_qcow2(&images[0].2, args.pick(32, 8));
    dense_raw(&images[1].2, u64::from(images[1].3));

    let cluster = dir.path().join("cluster");
    let mut rows = Vec::new();
    let mut notes = Vec::new();
    for (id, what, image, virtual_mib) in &images {
        let (import, floor) = measure(&sp_volume, &cluster, dir.path(), id, image, runs);
        let mib_s = |samples: &[Duration]| {
            f64::from(*virtual_mib) / samples[samples.len() / 2].as_secs_f64()
        };
        notes.push(format!(
            "{what}: import {:.0} MiB/s, plain qemu-img convert {:.0} MiB/s (of the virtual size)",
            mib_s(&import),
            mib_s(&floor),
        ));
        rows.push(Row::time(
            format!("import/{id}/sp-volume"),
            format!("sp-volume import-image, {what}"),
            import,
        ));
        rows.push(Row::time(
            format!("import/{id}/qemu-img"),
            format!("qemu-img convert to a file, {what}"),
            floor,
        ));
    }
    report.table(
        "Image import (embedded simulator; the floor is qemu-img convert to a file on the same disk)",
        &rows,
    );
    for note in notes {
        println!("{note}");
    }
}

/// `runs` imports of `image` into fresh volumes (each deleted afterwards, untimed), and as many
/// plain conversions to a file: both lists of durations, sorted.
fn measure(
    sp_volume: &Path,
    cluster: &Path,
    scratch: &Path,
    id: &str,
    image: &Path,
    runs: usize,
) -> (Vec<Duration>, Vec<Duration>) {
    let (cluster, image) = (cluster.to_str().unwrap(), image.to_str().unwrap());
    let mut import = Vec::new();
    let mut floor = Vec::new();
    for run_index in 0..runs {
        let volume = format!("{id}-{run_index}");
        let start = Instant::now();
        run(
            sp_volume,
            &[
                "--embedded",
                cluster,
                "-q",
                "--json",
                "import-image",
                &volume,
                image,
            ],
        );
        import.push(start.elapsed());
        run(sp_volume, &["--embedded", cluster, "-q", "delete", &volume]);

        let out = scratch.join("floor.raw");
        let start = Instant::now();
        qemu(
            "qemu-img",
            &["convert", "-O", "raw", image, out.to_str().unwrap()],
        );
        floor.push(start.elapsed());
        std::fs::remove_file(out).unwrap();
    }
    import.sort_unstable();
    floor.sort_unstable();
    (import, floor)
}
