//! Files and folders that are not the simulator's: the state folder's rules, device links,
//! file modes, paths (issue 13).

use std::fs;
use std::path::Path;

use serde_json::json;
use storpool_sim::{Sim, SimError};

use crate::{Api, GIB};

/// A simulator on `state` (devices under `dev`) serving client 1.
fn start(state: &Path, dev: &Path) -> Result<Sim, SimError> {
    Sim::builder()
        .state_dir(state)
        .dev_root(dev)
        .serve_client(1)
        .start()
}

fn write(path: &Path, text: &str) {
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    fs::write(path, text).unwrap();
}

#[test]
fn a_state_folder_holding_files_of_others_is_refused_and_left_alone() {
    let tmp = tempfile::tempdir().unwrap();
    let state = tmp.path().join("state");
    // A folder with a `data` subfolder, but no simulator ever ran here.
    let notes = state.join("data/notes.txt");
    let gid_like = state.join("data/sim.a.1");
    write(&notes, "mine");
    write(&gid_like, "also mine");
    let err = start(&state, &tmp.path().join("dev")).unwrap_err();
    let text = err.to_string();
    assert!(text.contains(&state.display().to_string()), "{text}");
    assert_eq!(fs::read_to_string(&notes).unwrap(), "mine");
    assert_eq!(fs::read_to_string(&gid_like).unwrap(), "also mine");
    assert_eq!(
        fs::read_dir(&state).unwrap().count(),
        1,
        "nothing was added to the folder"
    );

    // The same for any other file of a stranger at the top.
    let other = tmp.path().join("other");
    write(&other.join("report.txt"), "x");
    assert!(start(&other, &tmp.path().join("dev")).is_err());
    assert_eq!(fs::read_dir(&other).unwrap().count(), 1);
}

#[test]
fn files_of_others_in_a_simulator_data_folder_survive_a_restart() {
    let tmp = tempfile::tempdir().unwrap();
    let state = tmp.path().join("state");
    let dev = tmp.path().join("dev");
    let sim = start(&state, &dev).unwrap();
    let api = Api::new(&sim);
    api.ok(
        "VolumeCreate",
        json!({"name": "v", "size": GIB, "replication": 3}),
    );
    api.ok("VolumesReassign", json!([{"volume": "v", "rw": [1]}]));
    let gid = sim.state().volume("v").unwrap().global_id.clone();
    drop(sim);

    // Files the simulator never made, some with names like its own temporary files.
    let data = state.join("data");
    let foreign = [
        "notes.txt",
        "keep.tmp",
        "keep.replace",
        "x.y.z",
        "other.a.1",
    ];
    for name in foreign {
        write(&data.join(name), name);
    }
    // A copy the simulator left behind when it was killed is its own: it goes.
    write(&data.join(format!("{gid}9.tmp")), "");

    let sim = start(&state, &dev).unwrap();
    for name in foreign {
        assert_eq!(
            fs::read_to_string(data.join(name)).unwrap(),
            name,
            "{name} was touched"
        );
    }
    assert!(!data.join(format!("{gid}9.tmp")).exists());
    assert!(data.join(&gid).exists(), "the volume's data is kept");
    assert!(dev.join("storpool/v").exists());
    drop(sim);
}

fn mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt as _;
    fs::symlink_metadata(path).unwrap().permissions().mode() & 0o7777
}

#[test]
fn the_state_folder_and_its_files_are_private_to_the_owner() {
    use std::os::unix::fs::PermissionsExt as _;
    let tmp = tempfile::tempdir().unwrap();
    let state = tmp.path().join("state");
    let dev = tmp.path().join("dev");
    let sim = start(&state, &dev).unwrap();
    let api = Api::new(&sim);
    api.ok(
        "VolumeCreate",
        json!({"name": "v", "size": GIB, "replication": 3}),
    );
    api.ok("VolumesReassign", json!([{"volume": "v", "rw": [1]}]));
    api.ok("VolumeSnapshot/v", json!({"name": "s"}));
    api.ok("VolumesReassign", json!([{"snapshot": "s", "ro": [1]}]));
    let st = sim.state();
    let volume = state.join("data").join(&st.volume("v").unwrap().global_id);
    let snapshot = state
        .join("data")
        .join(&st.snapshot("s").unwrap().global_id);
    let check = |when: &str| {
        assert_eq!(mode(&state), 0o700, "{when}: the state folder");
        assert_eq!(mode(&state.join("data")), 0o700, "{when}: the data folder");
        for name in ["state.db", "state.db-wal", "lock"] {
            let path = state.join(name);
            if path.exists() {
                assert_eq!(mode(&path), 0o600, "{when}: {name}");
            }
        }
        assert_eq!(mode(&volume), 0o600, "{when}: a volume's data");
        assert_eq!(mode(&snapshot), 0o400, "{when}: a snapshot's data");
    };
    check("new");
    drop(sim);

    // A state written with looser modes (by an older version) is made private at start.
    for (path, loose) in [
        (&state, 0o755),
        (&state.join("data"), 0o755),
        (&state.join("state.db"), 0o644),
        (&state.join("lock"), 0o644),
        (&volume, 0o644),
        (&snapshot, 0o444),
    ] {
        fs::set_permissions(path, fs::Permissions::from_mode(loose)).unwrap();
    }
    let sim = start(&state, &dev).unwrap();
    check("restarted");
    // Detached, a volume's data stays private too.
    let api = Api::new(&sim);
    api.ok("VolumesReassign", json!([{"volume": "v", "detach": "all"}]));
    assert_eq!(mode(&volume), 0o600);
    // Copies (a clone of the volume's data) are private from the start.
    api.ok("VolumeCreate", json!({"name": "c", "baseOn": "v"}));
    let clone = state
        .join("data")
        .join(&sim.state().volume("c").unwrap().global_id);
    assert_eq!(mode(&clone), 0o600);
}

#[test]
fn the_default_device_root_is_the_dev_folder_of_the_state() {
    let tmp = tempfile::tempdir().unwrap();
    let state = tmp.path().join("state");
    let sim = Sim::builder()
        .state_dir(&state)
        .serve_client(1)
        .start()
        .unwrap();
    assert_eq!(sim.dev_root(), state.join("dev"));
    sim.seed_volume("v", GIB, None).unwrap();
    sim.call(
        "POST",
        "VolumesReassign",
        Some(json!([{"volume": "v", "rw": [1]}])),
    )
    .unwrap();
    assert!(state.join("dev/storpool/v").exists());
    drop(sim);
    // Without a state folder, the devices are in the temporary one.
    let sim = Sim::builder().start().unwrap();
    assert_eq!(sim.dev_root(), sim.state_dir().join("dev"));
}

#[test]
fn a_linked_device_folder_is_refused_and_nothing_behind_it_is_touched() {
    for linked in ["storpool", "storpool-byid"] {
        let tmp = tempfile::tempdir().unwrap();
        let dev = tmp.path().join("dev");
        let elsewhere = tmp.path().join("elsewhere");
        write(&elsewhere.join("v"), "mine");
        fs::create_dir_all(&dev).unwrap();
        std::os::unix::fs::symlink(&elsewhere, dev.join(linked)).unwrap();
        let err = start(&tmp.path().join("state"), &dev).unwrap_err();
        let text = err.to_string();
        assert!(
            text.contains(&dev.join(linked).display().to_string()),
            "{linked}: {text}"
        );
        assert_eq!(fs::read_to_string(elsewhere.join("v")).unwrap(), "mine");
        assert_eq!(fs::read_dir(&elsewhere).unwrap().count(), 1, "{linked}");
    }
}

#[test]
fn files_and_foreign_links_at_device_paths_are_never_removed() {
    let tmp = tempfile::tempdir().unwrap();
    let state = tmp.path().join("state");
    let dev = tmp.path().join("dev");
    // What someone else (a real storpool_block, a user) has in the device folders.
    write(&dev.join("storpool/v"), "mine");
    std::os::unix::fs::symlink("/nonexistent/sp-7", dev.join("storpool/w")).unwrap();
    let sim = start(&state, &dev).unwrap();
    let api = Api::new(&sim);
    for name in ["v", "w"] {
        api.ok(
            "VolumeCreate",
            json!({"name": name, "size": GIB, "replication": 3}),
        );
        api.ok("VolumesReassign", json!([{"volume": name, "rw": [1]}]));
    }
    let check = || {
        let file = dev.join("storpool/v");
        assert!(
            fs::symlink_metadata(&file).unwrap().is_file(),
            "still a file"
        );
        assert_eq!(fs::read_to_string(&file).unwrap(), "mine");
        assert_eq!(
            fs::read_link(dev.join("storpool/w")).unwrap(),
            Path::new("/nonexistent/sp-7")
        );
    };
    check();
    // The links by global id are made all the same.
    let st = sim.state();
    for name in ["v", "w"] {
        let gid = &st.volume(name).unwrap().global_id;
        assert!(dev.join("storpool-byid").join(gid).exists(), "{name}");
    }
    // Detaching, renaming and a restart leave them alone too.
    api.ok("VolumeUpdate/w", json!({"rename": "w2"}));
    api.ok("VolumesReassign", json!([{"volume": "v", "detach": "all"}]));
    drop(sim);
    let sim = start(&state, &dev).unwrap();
    check();
    assert!(
        dev.join("storpool/w2").exists(),
        "a free name gets its link"
    );
    drop(sim);
}

#[test]
fn the_names_dot_and_dot_dot_are_refused_as_invalid() {
    let tmp = tempfile::tempdir().unwrap();
    let sim = start(&tmp.path().join("state"), &tmp.path().join("dev")).unwrap();
    let api = Api::new(&sim);
    api.ok(
        "VolumeCreate",
        json!({"name": "v", "size": GIB, "replication": 3}),
    );
    for bad in [".", ".."] {
        let create = api.post(
            "VolumeCreate",
            json!({"name": bad, "size": GIB, "replication": 3}),
        );
        assert_eq!(create.err(), "invalidParam", "{bad}: {create:?}");
        let rename = api.post("VolumeUpdate/v", json!({"rename": bad}));
        assert_eq!(rename.err(), "invalidParam", "{bad}: {rename:?}");
        let snapshot = api.post("VolumeSnapshot/v", json!({"name": bad}));
        assert_eq!(snapshot.err(), "invalidParam", "{bad}: {snapshot:?}");
        let clone = api.post("VolumeCreate", json!({"name": bad, "baseOn": "v"}));
        assert_eq!(clone.err(), "invalidParam", "{bad}: {clone:?}");
    }
    api.ok("VolumeSnapshot/v", json!({"name": "s"}));
    for bad in [".", ".."] {
        let rename = api.post("SnapshotUpdate/s", json!({"rename": bad}));
        assert_eq!(rename.err(), "invalidParam", "{bad}: {rename:?}");
    }
    let st = sim.state();
    assert_eq!(st.volumes.len(), 1);
    assert_eq!(st.snapshots.len(), 1);
    // Nothing under the device root names the root or its parent.
    assert!(
        !tmp.path()
            .join("dev/storpool")
            .read_dir()
            .unwrap()
            .any(|e| {
                let name = e.unwrap().file_name();
                name == "." || name == ".."
            })
    );
}

#[test]
fn a_token_that_is_not_one_line_of_visible_characters_is_refused_unrepeated() {
    for token in [
        "12\nSP_OURID=3",
        "12\r",
        "1 2",
        "caf\u{e9}",
        "a\\b",
        "\u{7f}",
    ] {
        let err = Sim::builder().token(token).start().unwrap_err();
        let text = err.to_string();
        assert!(matches!(err, SimError::Option(_)), "{token:?}: {err:?}");
        assert!(text.contains("token") && !text.contains(token), "{text}");
    }
    let sim = Sim::builder().token("!~#=;0aZ").start().unwrap();
    assert_eq!(sim.token(), "!~#=;0aZ");
}

#[test]
fn a_link_planted_where_a_data_file_goes_is_never_written_through() {
    let tmp = tempfile::tempdir().unwrap();
    let state = tmp.path().join("state");
    let sim = start(&state, &tmp.path().join("dev")).unwrap();
    let gid = sim.seed_volume("v", GIB, None).unwrap();
    let victim = tmp.path().join("victim");
    write(&victim, "keep");
    std::os::unix::fs::symlink(&victim, state.join("data").join(&gid)).unwrap();
    // Attaching needs the data file: the link is not followed to make it.
    let _ = sim.call(
        "POST",
        "VolumesReassign",
        Some(json!([{"volume": "v", "rw": [1]}])),
    );
    assert_eq!(fs::metadata(&victim).unwrap().len(), 4, "not resized");
    assert_eq!(fs::read_to_string(&victim).unwrap(), "keep");
    assert!(
        fs::symlink_metadata(state.join("data").join(&gid))
            .unwrap()
            .is_symlink()
    );
}
