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
