//! Cancellation: whatever step is under way stops, and the cleanup of a failure runs.

use std::time::{Duration, Instant};

use storpool_image::{
    CancellationToken, CleanupNote, CopyOptions, ErrorKind, ExportRequest, ImportRequest,
};

use crate::{ID, MIB, alive, env, leftovers, raw_image, runtime, slow_qemu_img, wait_for_pid};

#[test]
fn cancelling_the_copy_kills_qemu_img_and_deletes_the_new_volume() {
    let env = env();
    let image = env.dir.path().join("disk.raw");
    raw_image(&image, 4 * MIB);
    let cancel = CancellationToken::new();
    let options = CopyOptions::new(cancel.clone()).with_qemu_img(slow_qemu_img(env.dir.path()));
    let rt = runtime();
    let dir = env.dir.path().to_owned();
    let err = rt.block_on(async {
        let request = ImportRequest::new("c", &image);
        let import = env.images.import(&request, &options);
        let canceller = async {
            let pid = tokio::task::spawn_blocking(move || wait_for_pid(&dir))
                .await
                .unwrap();
            cancel.cancel();
            pid
        };
        let (result, pid) = tokio::join!(import, canceller);
        (result.unwrap_err(), pid)
    });
    let (err, pid) = err;
    assert_eq!(err.kind(), ErrorKind::Interrupted);
    assert!(
        err.to_string().ends_with("into volume `c`: interrupted"),
        "{err}"
    );
    assert_eq!(
        err.cleanup(),
        [CleanupNote::VolumeDeleted { id: "c".into() }]
    );
    assert!(!alive(pid), "qemu-img (pid {pid}) still runs");
    let state = env.sim.state();
    assert!(state.volumes.is_empty(), "{:?}", state.volumes);
    assert!(state.attachments.is_empty(), "{:?}", state.attachments);
}

#[test]
fn cancelling_while_the_snapshot_attaches_deletes_the_snapshot() {
    let env = env();
    env.sim.seed_volume("os--volume-v", 1 << 30, None).unwrap();
    // The node's client is down: the attach waits for it.
    env.sim.set_client_running(ID, false);
    let cancel = CancellationToken::new();
    let options = CopyOptions::new(cancel.clone());
    let out = env.dir.path().join("out.raw");
    let rt = runtime();
    let err = rt.block_on(async {
        let request = ExportRequest::new("v", &out);
        let export = env.images.export(&request, &options);
        let canceller = async {
            let sim = &env.sim;
            let deadline = Instant::now() + Duration::from_secs(20);
            while sim.state().snapshots.is_empty() {
                assert!(Instant::now() < deadline, "no snapshot was made");
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            cancel.cancel();
            // The detach of the cleanup waits for the client too.
            sim.set_client_running(ID, true);
        };
        tokio::join!(export, canceller).0.unwrap_err()
    });
    assert_eq!(err.kind(), ErrorKind::Interrupted, "{err:?}");
    let state = env.sim.state();
    assert!(state.snapshots.is_empty(), "{:?}", state.snapshots);
    assert!(state.attachments.is_empty(), "{:?}", state.attachments);
    assert!(!out.exists());
    assert!(leftovers(env.dir.path()).is_empty());
}
