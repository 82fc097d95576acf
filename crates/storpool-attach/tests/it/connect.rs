//! Attaching volumes and snapshots, idempotency, upgrades, deadlines, bad input.

use std::fs::OpenOptions;
use std::io::{Read, Seek, SeekFrom, Write};
use std::time::Duration;

use storpool_attach::{AccessMode, AttachError, ObjectKind, Target, WaitOptions};
use storpool_sim::{Faults, Sim};

use crate::{GIB, ID, OTHER, connector, env};

#[tokio::test]
async fn connect_rw_returns_the_by_id_device_and_it_is_writable() {
    let env = env();
    let gid = env.volume("v1", GIB);
    let attached = env
        .connector
        .connect(&Target::volume("v1"), AccessMode::Rw)
        .await
        .unwrap();
    let root = env.sim.dev_root();
    assert_eq!(attached.path, root.join("storpool-byid").join(&gid));
    assert_eq!(attached.name_path, root.join("storpool/os--volume-v1"));
    assert_eq!(attached.name, "os--volume-v1");
    assert_eq!(attached.global_id, gid);
    assert_eq!(attached.kind, ObjectKind::Volume);
    assert_eq!(attached.access_mode, AccessMode::Rw);
    assert!(attached.changed);
    assert!(attached.waited <= attached.elapsed);
    assert_eq!(
        serde_json::to_value(attached.device_info()).unwrap(),
        serde_json::json!({"type": "block", "path": attached.path}),
    );
    assert_eq!(env.attachments_of("os--volume-v1"), [(ID, true)]);
    // The device is usable: what is written through one link reads back through the other.
    let mut device = OpenOptions::new().write(true).open(&attached.path).unwrap();
    device.seek(SeekFrom::Start(4096)).unwrap();
    device.write_all(b"storpool").unwrap();
    drop(device);
    let mut by_name = std::fs::File::open(&attached.name_path).unwrap();
    by_name.seek(SeekFrom::Start(4096)).unwrap();
    let mut back = [0; 8];
    by_name.read_exact(&mut back).unwrap();
    assert_eq!(&back, b"storpool");
}

#[tokio::test]
async fn connect_ro_attaches_read_only() {
    let env = env();
    env.volume("v1", GIB);
    let attached = env
        .connector
        .connect(&Target::volume("v1"), AccessMode::Ro)
        .await
        .unwrap();
    assert_eq!(attached.access_mode, AccessMode::Ro);
    assert_eq!(env.attachments_of("os--volume-v1"), [(ID, false)]);
    assert!(attached.path.exists());
}

#[tokio::test]
async fn connecting_again_with_enough_rights_changes_nothing() {
    let env = env();
    env.volume("v1", GIB);
    let target = Target::volume("v1");
    let first = env
        .connector
        .connect(&target, AccessMode::Rw)
        .await
        .unwrap();
    let generation = env.sim.state().generation;
    let again = env
        .connector
        .connect(&target, AccessMode::Rw)
        .await
        .unwrap();
    assert!(!again.changed);
    assert_eq!(again.path, first.path);
    // rw held covers ro: no downgrade, nothing sent.
    let ro = env
        .connector
        .connect(&target, AccessMode::Ro)
        .await
        .unwrap();
    assert!(!ro.changed);
    assert_eq!(ro.access_mode, AccessMode::Rw);
    assert_eq!(
        env.sim.state().generation,
        generation,
        "no change on the cluster"
    );
    assert_eq!(env.attachments_of("os--volume-v1"), [(ID, true)]);
}

#[tokio::test]
async fn read_only_held_and_read_write_asked_is_an_upgrade() {
    let env = env();
    env.volume("v1", GIB);
    let target = Target::volume("v1");
    env.connector
        .connect(&target, AccessMode::Ro)
        .await
        .unwrap();
    let upgraded = env
        .connector
        .connect(&target, AccessMode::Rw)
        .await
        .unwrap();
    assert!(upgraded.changed);
    assert_eq!(upgraded.access_mode, AccessMode::Rw);
    assert_eq!(env.attachments_of("os--volume-v1"), [(ID, true)]);
}

#[tokio::test]
async fn an_attachment_to_another_client_does_not_count_as_ours() {
    let env = env();
    env.volume("v1", GIB);
    let target = Target::volume("v1");
    env.sim
        .call(
            "POST",
            "VolumesReassign",
            Some(serde_json::json!([{"volume": "os--volume-v1", "ro": [OTHER]}])),
        )
        .unwrap();
    let attached = env
        .connector
        .connect(&target, AccessMode::Rw)
        .await
        .unwrap();
    assert!(attached.changed);
    assert_eq!(
        env.attachments_of("os--volume-v1"),
        [(OTHER, false), (ID, true)]
    );
}

#[tokio::test]
async fn snapshots_attach_read_only_by_snapshot_id() {
    let env = env();
    env.volume("v1", GIB);
    let gid = env.snapshot("v1", "s1");
    let target = Target::snapshot("s1");
    let attached = env
        .connector
        .connect(&target, AccessMode::Ro)
        .await
        .unwrap();
    assert_eq!(attached.kind, ObjectKind::Snapshot);
    assert_eq!(attached.name, "os--snap--none--snapshot-s1");
    assert_eq!(attached.global_id, gid);
    assert_eq!(
        attached.path,
        env.sim.dev_root().join("storpool-byid").join(&gid)
    );
    assert!(attached.name_path.exists());
    assert_eq!(
        env.attachments_of("os--snap--none--snapshot-s1"),
        [(ID, false)]
    );
    let again = env
        .connector
        .connect(&target, AccessMode::Ro)
        .await
        .unwrap();
    assert!(!again.changed);
}

#[tokio::test]
async fn snapshots_cannot_be_attached_read_write() {
    let env = env();
    env.volume("v1", GIB);
    env.snapshot("v1", "s1");
    let err = env
        .connector
        .connect(&Target::snapshot("s1"), AccessMode::Rw)
        .await
        .unwrap_err();
    assert!(
        matches!(&err, AttachError::SnapshotReadOnly { id } if id == "s1"),
        "{err}"
    );
    assert!(err.is_usage());
    assert!(env.sim.state().attachments.is_empty());
}

#[tokio::test]
async fn a_volume_id_that_cannot_make_a_name_is_refused_before_any_call() {
    let env = env();
    for bad in ["", "a/b", "a b", "../../etc", "x#y"] {
        let err = env
            .connector
            .connect(&Target::volume(bad), AccessMode::Rw)
            .await
            .unwrap_err();
        assert!(
            matches!(&err, AttachError::InvalidId { id, .. } if id == bad),
            "{bad:?}: {err}"
        );
        assert!(err.is_usage());
        assert!(err.to_string().contains(&format!("`{bad}`")), "{err}");
    }
}

#[tokio::test]
async fn a_missing_volume_is_an_operation_failure_naming_it() {
    let env = env();
    let err = env
        .connector
        .connect(&Target::volume("nope"), AccessMode::Rw)
        .await
        .unwrap_err();
    assert!(!err.is_usage());
    assert!(
        err.api_error()
            .is_some_and(storpool_api::ApiError::is_object_not_found),
        "{err:?}"
    );
    assert!(err.to_string().contains("`os--volume-nope`"), "{err}");
}

#[tokio::test]
async fn an_unregistered_client_id_is_refused_by_the_cluster() {
    let env = env();
    env.volume("v1", GIB);
    let err = connector(&env.sim, 999)
        .connect(&Target::volume("v1"), AccessMode::Rw)
        .await
        .unwrap_err();
    assert!(
        err.api_error()
            .is_some_and(storpool_api::ApiError::is_no_such_client),
        "{err:?}"
    );
    assert!(!err.is_usage());
}

#[tokio::test]
async fn a_device_that_never_appears_times_out_naming_the_device() {
    let env = env();
    let gid = env.volume("v1", GIB);
    // The simulator does not serve OTHER: the cluster attaches, no device shows up here.
    let err = connector(&env.sim, OTHER)
        .with_wait(WaitOptions {
            timeout: Duration::from_millis(200),
            recheck: Duration::from_millis(50),
        })
        .connect(&Target::volume("v1"), AccessMode::Rw)
        .await
        .unwrap_err();
    assert!(err.is_timeout(), "{err}");
    assert!(!err.is_usage());
    assert!(err.to_string().contains(&gid), "{err}");
    assert!(err.to_string().starts_with("gave up after"), "{err}");
}

#[tokio::test]
async fn a_device_that_appears_later_wakes_the_wait() {
    let env = env();
    let gid = env.volume("v1", GIB);
    let root = env.sim.dev_root().to_owned();
    let other = connector(&env.sim, OTHER);
    let target = Target::volume("v1");
    // Play storpool_block for OTHER: make the links once the cluster has attached.
    let data = tempfile::NamedTempFile::new().unwrap();
    data.as_file().set_len(GIB).unwrap();
    let udev = async {
        crate::until_watched(&root).await;
        for (dir, name) in [
            ("storpool", "os--volume-v1"),
            ("storpool-byid", gid.as_str()),
        ] {
            std::fs::create_dir_all(root.join(dir)).unwrap();
            std::os::unix::fs::symlink(data.path(), root.join(dir).join(name)).unwrap();
        }
    };
    let (attached, ()) = tokio::join!(other.connect(&target, AccessMode::Ro), udev);
    let attached = attached.unwrap();
    assert_eq!(attached.path, root.join("storpool-byid").join(&gid));
}

#[tokio::test]
async fn a_client_that_is_down_cannot_hang_the_attach() {
    let env = env();
    env.volume("v1", GIB);
    env.sim.set_client_running(ID, false);
    let connector = env.connector.clone().with_wait(WaitOptions {
        timeout: Duration::from_millis(500),
        recheck: Duration::from_millis(50),
    });
    // `attachTimeout` is derived from the 0.5 s deadline, so the cluster does not wait for the
    // client indefinitely; the guard only turns a hang into a failure.
    let result = tokio::time::timeout(
        Duration::from_secs(30),
        connector.connect(&Target::volume("v1"), AccessMode::Rw),
    )
    .await
    .expect("the attach returned by its deadline");
    match result {
        Ok(attached) => assert!(attached.elapsed < Duration::from_secs(30)),
        Err(err) => assert!(err.is_timeout(), "{err}"),
    }
}

#[tokio::test]
async fn a_reassign_that_waits_past_the_deadline_is_abandoned() {
    let env = env();
    env.volume("v1", GIB);
    env.sim.set_client_running(ID, false);
    // An explicit `attachTimeout` far beyond the deadline: the cluster keeps waiting for the
    // client that is down, and the connector gives up at its own deadline.
    let err = env
        .connector
        .clone()
        .with_attach_timeout(Duration::from_hours(1))
        .with_wait(WaitOptions {
            timeout: Duration::from_millis(300),
            recheck: Duration::from_millis(50),
        })
        .connect(&Target::volume("v1"), AccessMode::Rw)
        .await
        .unwrap_err();
    assert!(err.is_timeout(), "{err}");
    assert!(
        err.to_string()
            .contains("the StorPool API to answer `VolumesReassignWait`"),
        "{err}"
    );
}

#[tokio::test]
async fn a_stalled_api_is_abandoned_at_the_deadline() {
    let sim = Sim::builder()
        .serve_client(ID)
        .faults(Faults {
            stall_rate: 1.0,
            stall: Duration::from_secs(2),
            ..Faults::default()
        })
        .start()
        .unwrap();
    sim.seed_volume("os--volume-v1", GIB, None).unwrap();
    let err = connector(&sim, ID)
        .with_wait(WaitOptions {
            timeout: Duration::from_millis(200),
            recheck: Duration::from_millis(50),
        })
        .connect(&Target::volume("v1"), AccessMode::Rw)
        .await
        .unwrap_err();
    assert!(err.is_timeout(), "{err}");
    assert!(
        err.to_string()
            .contains("the StorPool API to answer `AttachmentsList`"),
        "{err}"
    );
}

#[tokio::test]
async fn the_prefix_decides_the_cluster_names() {
    let env = env();
    env.sim.seed_volume("lab--volume-v1", GIB, None).unwrap();
    let attached = env
        .connector
        .clone()
        .with_prefix("lab")
        .unwrap()
        .connect(&Target::volume("v1"), AccessMode::Rw)
        .await
        .unwrap();
    assert_eq!(attached.name, "lab--volume-v1");
}
