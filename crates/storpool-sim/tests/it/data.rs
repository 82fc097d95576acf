//! The data plane: device links, data through attachments, snapshots and clones, restarts.

use std::fs;
use std::io::{Read, Seek, SeekFrom, Write};
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use serde_json::json;
use storpool_sim::Sim;

use crate::{Api, GIB};

fn write_at(path: &Path, off: u64, data: &[u8]) {
    let mut f = fs::OpenOptions::new().write(true).open(path).unwrap();
    f.seek(SeekFrom::Start(off)).unwrap();
    f.write_all(data).unwrap();
    f.sync_all().unwrap();
}

fn read_at(path: &Path, off: u64, len: usize) -> Vec<u8> {
    let mut f = fs::File::open(path).unwrap();
    f.seek(SeekFrom::Start(off)).unwrap();
    let mut buf = vec![0; len];
    f.read_exact(&mut buf).unwrap();
    buf
}

#[test]
#[allow(clippy::too_many_lines)] // one story, step by step
fn full_lifecycle_with_data_and_a_restart_in_the_middle() {
    let state = tempfile::tempdir().unwrap();
    let dev = tempfile::tempdir().unwrap();
    let start = || {
        Sim::builder()
            .token("t0k3n")
            .state_dir(state.path())
            .dev_root(dev.path())
            .serve_client(1)
            .start()
            .unwrap()
    };
    let sim = start();
    let api = Api::new(&sim);
    let gid = api.ok(
        "MultiCluster/VolumeCreate",
        json!({"name": "os--volume-1", "size": GIB, "replication": 3}),
    )["globalId"]
        .as_str()
        .unwrap()
        .to_owned();
    api.ok(
        "MultiCluster/VolumesReassignWait",
        json!({"reassign": [{"volume": "os--volume-1", "rw": ["1"]}]}),
    );
    let by_name = dev.path().join("storpool/os--volume-1");
    let by_id = dev.path().join(format!("storpool-byid/{gid}"));
    assert!(by_name.exists() && by_id.exists());
    assert_eq!(fs::metadata(&by_id).unwrap().len(), GIB);
    write_at(&by_id, 4096, b"first");
    api.ok("VolumeSnapshot/os--volume-1", json!({"name": "snap1"}));
    write_at(&by_name, 4096, b"later");

    // Restart: state and data survive, links are still there.
    drop(sim);
    let sim = start();
    let api = Api::new(&sim);
    let st = sim.state();
    assert!(st.volume("os--volume-1").is_some() && st.snapshot("snap1").is_some());
    assert_eq!(st.attachments.len(), 1);
    assert!(by_id.exists());
    assert_eq!(read_at(&by_id, 4096, 5), b"later");

    // The snapshot holds the old data; a clone of it too.
    api.ok("VolumesReassign", json!([{"snapshot": "snap1", "ro": [1]}]));
    let snap_link = dev.path().join("storpool/snap1");
    assert_eq!(read_at(&snap_link, 4096, 5), b"first");
    assert_eq!(
        fs::metadata(&snap_link).unwrap().permissions().mode() & 0o222,
        0,
        "snapshots are read-only"
    );
    api.ok(
        "VolumeCreate",
        json!({"name": "clone", "parent": "snap1", "size": 2 * GIB}),
    );
    api.ok("VolumesReassign", json!([{"volume": "clone", "rw": [1]}]));
    let clone = dev.path().join("storpool/clone");
    assert_eq!(read_at(&clone, 4096, 5), b"first");
    assert_eq!(fs::metadata(&clone).unwrap().len(), 2 * GIB);
    write_at(&clone, 0, b"clone-only");
    assert_ne!(read_at(&by_id, 0, 10), b"clone-only");

    // baseOn clones the current data.
    api.ok(
        "VolumeCreate",
        json!({"name": "copy", "baseOn": "os--volume-1"}),
    );
    api.ok("VolumesReassign", json!([{"volume": "copy", "ro": [1]}]));
    assert_eq!(
        read_at(&dev.path().join("storpool/copy"), 4096, 5),
        b"later"
    );

    // Resize grows the file under the attachment.
    api.ok("VolumeUpdate/os--volume-1", json!({"size": 3 * GIB}));
    assert_eq!(fs::metadata(&by_id).unwrap().len(), 3 * GIB);

    // Rename moves the name link.
    api.ok("VolumeUpdate/os--volume-1", json!({"rename": "renamed"}));
    assert!(!by_name.exists());
    assert_eq!(
        read_at(&dev.path().join("storpool/renamed"), 4096, 5),
        b"later"
    );

    // Revert brings the snapshot's data back.
    api.ok(
        "VolumesReassign",
        json!([{"volume": "renamed", "detach": "all"}]),
    );
    assert!(!by_id.exists(), "detach removes the links");
    api.ok(
        "VolumeRevert/renamed",
        json!({"toSnapshot": "snap1", "revertSize": true}),
    );
    api.ok("VolumesReassign", json!([{"volume": "renamed", "rw": [1]}]));
    assert_eq!(read_at(&by_id, 4096, 5), b"first");
    assert_eq!(fs::metadata(&by_id).unwrap().len(), GIB);

    // Stored sizes follow the data.
    let status = api.read("VolumesGetStatus");
    assert!(status["clone"]["storedSize"].as_u64().unwrap() > 0);

    // Delete everything: data files go away.
    api.ok("VolumesReassign", json!([{"volume": "renamed", "detach": "all"}, {"volume": "clone", "detach": "all"}, {"volume": "copy", "detach": "all"}, {"snapshot": "snap1", "detach": "all"}]));
    for v in ["renamed", "clone", "copy"] {
        api.ok(&format!("VolumeDelete/{v}"), json!({}));
    }
    api.ok("SnapshotDelete/snap1", json!({}));
    let st = sim.state();
    assert!(st.volumes.is_empty() && st.snapshots.is_empty(), "{st:?}");
    let left: Vec<_> = fs::read_dir(state.path().join("data")).unwrap().collect();
    assert!(left.is_empty(), "{left:?}");
    assert_eq!(
        fs::read_dir(dev.path().join("storpool")).unwrap().count(),
        0
    );
}

#[test]
fn clients_not_served_get_no_device_links() {
    let sim = Sim::builder().serve_client(1).start().unwrap();
    let api = Api::new(&sim);
    api.ok(
        "VolumeCreate",
        json!({"name": "v", "size": GIB, "replication": 3}),
    );
    api.ok("VolumesReassign", json!([{"volume": "v", "rw": [2]}]));
    assert!(!sim.dev_root().join("storpool/v").exists());
    api.ok("VolumesReassign", json!([{"volume": "v", "ro": [1]}]));
    assert!(sim.dev_root().join("storpool/v").exists());
}

#[test]
fn restart_restores_templates_groups_and_counters() {
    let state = tempfile::tempdir().unwrap();
    let first = Sim::builder().state_dir(state.path()).start().unwrap();
    first.seed_template("t", Some(2), None).unwrap();
    first
        .call(
            "POST",
            "PlacementGroupUpdate/pg",
            Some(json!({"addDisks": [101]})),
        )
        .unwrap();
    first.seed_volume("a", GIB, Some("t")).unwrap();
    let before = first.state();
    drop(first);
    let second = Sim::builder().state_dir(state.path()).start().unwrap();
    assert_eq!(second.state(), before);
    // New objects get new ids.
    let gid = second.seed_volume("b", GIB, None).unwrap();
    assert_ne!(
        Some(gid.as_str()),
        before.volume("a").map(|v| v.global_id.as_str())
    );
}

#[test]
fn two_simulators_never_share_a_state_directory() {
    let state = tempfile::tempdir().unwrap();
    let first = Sim::builder().state_dir(state.path()).start().unwrap();
    first.seed_volume("a", GIB, None).unwrap();
    let err = Sim::builder()
        .state_dir(state.path())
        .lock_wait(std::time::Duration::from_millis(20))
        .start()
        .unwrap_err();
    assert!(
        matches!(err, storpool_sim::SimError::Locked { holder: Some(pid), .. } if pid == std::process::id()),
        "{err:?}"
    );
    let text = err.to_string();
    assert!(text.contains(&state.path().display().to_string()), "{text}");
    // Once the first one is gone, the state is there for the next.
    drop(first);
    let second = Sim::builder()
        .state_dir(state.path())
        .lock_wait(std::time::Duration::ZERO)
        .start()
        .unwrap();
    assert!(second.state().volume("a").is_some());
}

#[test]
fn disk_usage_follows_the_stored_data() {
    let sim = Sim::builder().serve_client(1).start().unwrap();
    let api = Api::new(&sim);
    let free_before: u64 = api
        .read("DisksList")
        .as_object()
        .unwrap()
        .values()
        .map(|d| d["agFree"].as_u64().unwrap())
        .sum();
    api.ok(
        "VolumeCreate",
        json!({"name": "v", "size": 4 * GIB, "replication": 3}),
    );
    api.ok("VolumesReassign", json!([{"volume": "v", "rw": [1]}]));
    let path = sim.dev_root().join("storpool/v");
    let chunk = vec![7u8; 1 << 20];
    for i in 0..64u64 {
        write_at(&path, i * (1 << 20), &chunk);
    }
    let disks = api.read("DisksList");
    let disks = disks.as_object().unwrap();
    let free_after: u64 = disks.values().map(|d| d["agFree"].as_u64().unwrap()).sum();
    assert!(free_after < free_before, "{free_after} < {free_before}");
    let stored: u64 = disks
        .values()
        .map(|d| d["objectsOnDiskSize"].as_u64().unwrap())
        .sum();
    assert!(
        stored >= 3 * (64 << 20),
        "replication 3 of 64 MiB: {stored}"
    );
}
