//! Import, export and conversion through the real `qemu-img`.

use std::sync::{Arc, Mutex};

use storpool_image::{
    ConvertRequest, CopyOptions, ErrorKind, ExportRequest, FileKind, ImageError, ImageFormat,
    ImportRequest, Progress, TargetProblem,
};

use crate::{MIB, env, leftovers, raw_image, runtime};

/// Options that record every progress report.
fn recording() -> (CopyOptions, Arc<Mutex<Vec<Progress>>>) {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let sink = Arc::clone(&seen);
    let options = CopyOptions::default().with_progress(move |progress| {
        sink.lock().unwrap().push(progress.clone());
    });
    (options, seen)
}

fn fractions(seen: &[Progress]) -> Vec<f64> {
    seen.iter()
        .filter_map(|progress| match progress {
            Progress::Copied { fraction } => Some(*fraction),
            _ => None,
        })
        .collect()
}

#[test]
fn import_then_export_reports_progress_and_leaves_nothing_behind() {
    let env = env();
    let image = env.dir.path().join("disk.raw");
    let bytes = raw_image(&image, 5 * MIB);
    let (options, seen) = recording();
    let rt = runtime();
    let imported = rt
        .block_on(
            env.images
                .import(&ImportRequest::new("img", &image), &options),
        )
        .unwrap();
    assert!(imported.created);
    assert_eq!(imported.volume.size_gib, 1);
    assert_eq!(imported.image.format, "raw");
    let copied = fractions(&seen.lock().unwrap());
    assert!(!copied.is_empty(), "{:?}", seen.lock().unwrap());
    assert!(copied.windows(2).all(|w| w[0] <= w[1]), "{copied:?}");
    assert!((copied.last().copied().unwrap() - 1.0).abs() < f64::EPSILON);
    let data = env.sim.data_path("os--volume-img").unwrap();
    assert_eq!(std::fs::read(&data).unwrap()[..bytes.len()], bytes[..]);
    assert!(env.sim.state().attachments.is_empty());

    let out = env.dir.path().join("out.qcow2");
    let mut request = ExportRequest::new("img", &out);
    request.format = ImageFormat::Qcow2;
    let exported = rt
        .block_on(env.images.export(&request, &CopyOptions::default()))
        .unwrap();
    assert_eq!(exported.format, ImageFormat::Qcow2);
    assert_eq!(
        serde_json::to_value(&exported).unwrap()["format"],
        "qcow2",
        "the JSON name of the format"
    );
    assert!(exported.file_size > 0);
    let state = env.sim.state();
    assert!(state.snapshots.is_empty(), "{:?}", state.snapshots);
    assert!(state.attachments.is_empty());
    assert!(leftovers(env.dir.path()).is_empty());
    // Back to raw, as one file into another.
    let back = env.dir.path().join("back.raw");
    let converted = rt
        .block_on(storpool_image::convert(
            &ConvertRequest::new(&out, &back, ImageFormat::Raw),
            &CopyOptions::default(),
        ))
        .unwrap();
    assert_eq!(converted.image.format, "qcow2");
    assert_eq!(std::fs::read(&back).unwrap()[..bytes.len()], bytes[..]);
}

#[test]
fn an_import_into_an_existing_volume_says_so_before_the_copy() {
    let env = env();
    env.sim.seed_volume("os--volume-e", 2 << 30, None).unwrap();
    let image = env.dir.path().join("disk.raw");
    raw_image(&image, 4 * MIB);
    let (options, seen) = recording();
    let imported = runtime()
        .block_on(
            env.images
                .import(&ImportRequest::new("e", &image), &options),
        )
        .unwrap();
    assert!(!imported.created);
    let seen = seen.lock().unwrap();
    assert_eq!(
        seen[0],
        Progress::ExistingVolume {
            id: "e".into(),
            size_gib: 2
        }
    );
    assert!(matches!(seen.last(), Some(Progress::Copied { .. })));
}

#[test]
fn sources_that_are_not_files_or_block_devices_are_refused_before_qemu_img() {
    let env = env();
    // `qemu-img` is not even looked for: a stand-in that does not exist would say so.
    let options = CopyOptions::default().with_qemu_img(env.dir.path().join("no-qemu-img"));
    let fifo = env.dir.path().join("fifo");
    assert!(
        std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap()
            .success()
    );
    let rt = runtime();
    for (path, kind) in [
        (fifo, FileKind::Fifo),
        ("/dev/zero".into(), FileKind::CharDevice),
        (env.dir.path().to_owned(), FileKind::Folder),
    ] {
        let err = rt
            .block_on(storpool_image::info(&path, None, &options))
            .unwrap_err();
        assert!(
            matches!(&err, ImageError::NotAnImage { kind: k, .. } if *k == kind),
            "{path:?}: {err:?}"
        );
        assert_eq!(err.kind(), ErrorKind::InvalidInput);
        let err = rt
            .block_on(env.images.import(&ImportRequest::new("x", &path), &options))
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            format!("cannot read the image {}: it is {kind}", path.display())
        );
    }
    assert!(env.sim.state().volumes.is_empty());
}

#[test]
fn targets_that_are_not_regular_files_are_refused_before_anything_is_made() {
    let env = env();
    env.sim.seed_volume("os--volume-v", 1 << 30, None).unwrap();
    let fifo = env.dir.path().join("fifo");
    assert!(
        std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap()
            .success()
    );
    let link = env.dir.path().join("null-link");
    std::os::unix::fs::symlink("/dev/null", &link).unwrap();
    let rt = runtime();
    for (path, kind) in [
        (fifo.clone(), FileKind::Fifo),
        (link, FileKind::CharDevice),
        ("/dev/null".into(), FileKind::CharDevice),
        (env.dir.path().to_owned(), FileKind::Folder),
    ] {
        let mut request = ExportRequest::new("v", &path);
        request.replace = true;
        let err = rt
            .block_on(env.images.export(&request, &CopyOptions::default()))
            .unwrap_err();
        assert!(
            matches!(&err, ImageError::InvalidTarget { problem: TargetProblem::NotAFile(k), .. } if *k == kind),
            "{path:?}: {err:?}"
        );
        assert_eq!(err.kind(), ErrorKind::InvalidInput);
    }
    assert!(env.sim.state().snapshots.is_empty());
    let meta = std::fs::symlink_metadata(&fifo).unwrap();
    assert!(std::os::unix::fs::FileTypeExt::is_fifo(&meta.file_type()));
}

#[test]
fn images_that_read_other_files_of_this_node_are_refused() {
    // A qcow2 with an external data file, or a vmdk whose extents name other files, would copy
    // whatever those files hold (say /etc/shadow) into the volume: refused like a backing
    // file, before anything is made (as Cinder does, bugs 1996188 and 2059809).
    let env = env();
    let dir = env.dir.path();
    let secret = dir.join("secret");
    std::fs::write(&secret, vec![b's'; 1 << 20]).unwrap();
    let qcow2 = dir.join("data-file.qcow2");
    let created = std::process::Command::new("qemu-img")
        .args(["create", "-q", "-f", "qcow2", "-o"])
        .arg(format!("data_file={},data_file_raw=on", secret.display()))
        .arg(&qcow2)
        .arg("1M")
        .status()
        .unwrap();
    assert!(created.success());
    let vmdk = dir.join("extent.vmdk");
    std::fs::write(
        &vmdk,
        format!(
            "# Disk DescriptorFile\nversion=1\nCID=fffffffe\nparentCID=ffffffff\n\
             createType=\"monolithicFlat\"\n\nRW 2048 FLAT \"{}\" 0\n\n\
             ddb.adapterType = \"ide\"\n",
            secret.display()
        ),
    )
    .unwrap();
    let rt = runtime();
    for (image, format) in [(&qcow2, Some("qcow2")), (&qcow2, None), (&vmdk, None)] {
        let err = rt
            .block_on(storpool_image::info(image, format, &CopyOptions::default()))
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidInput, "{image:?}: {err}");
        assert!(
            err.to_string().contains(&secret.display().to_string()),
            "names the other file: {err}"
        );
        let mut request = ImportRequest::new("x", image);
        request.image_format = format.map(str::to_owned);
        let err = rt
            .block_on(env.images.import(&request, &CopyOptions::default()))
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidInput, "{err}");
    }
    assert!(env.sim.state().volumes.is_empty());
}
