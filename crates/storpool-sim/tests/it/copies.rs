//! Data copies (snapshots, clones, reverts of volumes that hold data) run outside the state
//! lock: other calls are answered meanwhile, and a crash in the middle leaves the state as it
//! was before the call.

use std::fs;
use std::io::Write;
use std::os::unix::fs::FileExt;
use std::path::Path;
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::json;
use storpool_sim::Sim;

use crate::{Api, GIB, create};

/// How long a test waits for something that must happen.
const DEADLINE: Duration = Duration::from_secs(20);
const MIB: usize = 1 << 20;

/// Fill the first `mib` MiB of the device at `link` with non-zero data (each MiB its own byte).
fn fill(link: &Path, mib: usize) {
    let mut f = fs::OpenOptions::new().write(true).open(link).unwrap();
    let mut buf = vec![0u8; MIB];
    for i in 0..mib {
        buf.fill(u8::try_from(i % 251).unwrap() + 1);
        f.write_all(&buf).unwrap();
    }
}

/// The byte at the start of every MiB of the first `mib` MiB of `path`.
fn marks(path: &Path, mib: usize) -> Vec<u8> {
    let f = fs::File::open(path).unwrap();
    (0..mib)
        .map(|i| {
            let mut b = [0u8; 1];
            f.read_exact_at(&mut b, (i * MIB) as u64).unwrap();
            b[0]
        })
        .collect()
}

/// A hook that reports each copy on `started` and holds it until `release` sends (or is
/// dropped).
fn holding_hook(
    started: mpsc::Sender<()>,
    release: mpsc::Receiver<()>,
) -> impl Fn() + Send + Sync + 'static {
    let release = Mutex::new(release);
    move || {
        let _ = started.send(());
        let _ = release.lock().unwrap().recv_timeout(DEADLINE);
    }
}

#[test]
fn other_calls_are_answered_while_a_snapshot_copies_data() {
    const DATA_MIB: usize = 256;
    let (started_tx, started) = mpsc::channel();
    let (release, release_rx) = mpsc::channel::<()>();
    let sim = Sim::builder()
        .serve_client(1)
        .copy_hook(holding_hook(started_tx, release_rx))
        .start()
        .unwrap();
    // Declared after the simulator: dropped first if the test fails, which lets the copy go.
    let release = release;
    let api = Api::new(&sim);
    create(&api, "big", GIB);
    create(&api, "other", GIB);
    api.ok("VolumesReassign", json!([{"volume": "big", "rw": [1]}]));
    let link = sim.dev_root().join("storpool/big");
    fill(&link, DATA_MIB);

    let snapshot = {
        let api = Api::new(&sim);
        std::thread::spawn(move || api.post("VolumeSnapshot/big", json!({"name": "snap"})))
    };
    started
        .recv_timeout(DEADLINE)
        .expect("the snapshot never started copying");
    // The copy is held: every kind of call must still be answered.
    let (tx, answers) = mpsc::channel();
    {
        let api = Api::new(&sim);
        std::thread::spawn(move || {
            let unauthenticated = api.raw("GET", "/ctrl/1.0/VolumesList", None, None);
            let _ = tx.send(("unauthenticated", unauthenticated.status, 401));
            let _ = tx.send(("read of one volume", api.get("Volume/other").status, 200));
            let _ = tx.send(("listing", api.get("VolumesList").status, 200));
            let created = api.post(
                "VolumeCreate",
                json!({"name": "new", "size": GIB, "replication": 3}),
            );
            let _ = tx.send(("create", created.status, 200));
            let attached = api.post("VolumesReassign", json!([{"volume": "other", "rw": [1]}]));
            let _ = tx.send(("attach", attached.status, 200));
        });
    }
    for _ in 0..5 {
        let (what, status, expected) = answers
            .recv_timeout(DEADLINE)
            .expect("a call was not answered while the copy was in progress");
        assert_eq!(status, expected, "{what}");
    }
    assert!(
        !snapshot.is_finished(),
        "the snapshot was answered before its copy was let go"
    );
    release.send(()).unwrap();
    let r = snapshot.join().unwrap();
    r.data();
    // The snapshot holds the data the volume held.
    let snap = sim
        .data_path("snap")
        .expect("the snapshot has no data file");
    assert_eq!(marks(&snap, DATA_MIB), marks(&link, DATA_MIB));
    let st = sim.state();
    assert!(st.volume("new").is_some() && st.snapshot("snap").is_some());
}

/// Copy the files of a state directory, as they are on disk at this instant (what a `kill -9`
/// leaves behind).
fn crash_image(state: &Path, image: &Path) {
    fs::create_dir_all(image.join("data")).unwrap();
    for entry in fs::read_dir(state)
        .unwrap()
        .chain(fs::read_dir(state.join("data")).unwrap())
    {
        let entry = entry.unwrap();
        if entry.file_type().unwrap().is_file() {
            let rel = entry.path().strip_prefix(state).unwrap().to_owned();
            fs::copy(entry.path(), image.join(rel)).unwrap();
        }
    }
}

#[test]
fn a_crash_while_a_snapshot_copies_data_leaves_the_state_before_the_call() {
    const DATA_MIB: usize = 16;
    let tmp = tempfile::tempdir().unwrap();
    let state = tmp.path().join("state");
    let image = tmp.path().join("image");
    let imaged = Arc::new(Mutex::new(false));
    let sim = {
        let (state, image, imaged) = (state.clone(), image.clone(), imaged.clone());
        Sim::builder()
            .state_dir(&state)
            .dev_root(tmp.path().join("dev"))
            .serve_client(1)
            .sync(true)
            .copy_hook(move || {
                crash_image(&state, &image);
                *imaged.lock().unwrap() = true;
            })
            .start()
            .unwrap()
    };
    let api = Api::new(&sim);
    // Small, so that the crash image (a plain copy, holes filled) is quick to take.
    create(&api, "v", (DATA_MIB * MIB) as u64);
    api.ok("VolumesReassign", json!([{"volume": "v", "rw": [1]}]));
    let link = sim.dev_root().join("storpool/v");
    fill(&link, DATA_MIB);
    let before = marks(&link, DATA_MIB);
    let generation = sim.state().generation;
    api.ok("VolumeSnapshot/v", json!({"name": "s"}));
    assert!(*imaged.lock().unwrap(), "the copy hook did not run");
    drop(sim);
    let names = || -> Vec<String> {
        fs::read_dir(image.join("data"))
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect()
    };
    assert!(
        names()
            .iter()
            .any(|n| Path::new(n).extension().is_some_and(|e| e == "tmp")),
        "the crash image holds no copy in progress: {:?}",
        names()
    );

    // Restarted from the files as they were in the middle of the copy.
    let sim = Sim::builder()
        .state_dir(&image)
        .dev_root(tmp.path().join("dev2"))
        .serve_client(1)
        .start()
        .unwrap();
    let st = sim.state();
    assert_eq!(st.generation, generation);
    assert!(
        st.snapshot("s").is_none(),
        "the unanswered snapshot was kept"
    );
    // Only data files (named by global id, `sim.a.ID`) remain.
    let leftovers: Vec<String> = names()
        .into_iter()
        .filter(|n| n.split('.').count() != 3)
        .collect();
    assert!(leftovers.is_empty(), "copies left behind: {leftovers:?}");
    let data = sim.data_path("v").unwrap();
    assert_eq!(marks(&data, DATA_MIB), before);
    // The call works again, with the same data.
    let api = Api::new(&sim);
    api.ok("VolumeSnapshot/v", json!({"name": "s"}));
    assert_eq!(marks(&sim.data_path("s").unwrap(), DATA_MIB), before);
}

/// A simulator whose copies are held by [`holding_hook`], with volume `v` of `mib` MiB of data
/// attached to this host: (simulator, copy started, release).
fn held_copies(mib: usize) -> (Sim, mpsc::Receiver<()>, mpsc::Sender<()>) {
    let (started_tx, started) = mpsc::channel();
    let (release, release_rx) = mpsc::channel::<()>();
    let sim = Sim::builder()
        .serve_client(1)
        .copy_hook(holding_hook(started_tx, release_rx))
        .start()
        .unwrap();
    let api = Api::new(&sim);
    create(&api, "v", (mib * MIB) as u64);
    api.ok("VolumesReassign", json!([{"volume": "v", "rw": [1]}]));
    fill(&sim.dev_root().join("storpool/v"), mib);
    (sim, started, release)
}

#[test]
fn a_source_changed_during_its_copy_is_copied_again_as_it_is_at_the_commit() {
    const DATA_MIB: usize = 16;
    let (sim, started, release) = held_copies(DATA_MIB);
    let snapshot = {
        let api = Api::new(&sim);
        std::thread::spawn(move || api.post("VolumeSnapshot/v", json!({"name": "s"})))
    };
    started.recv_timeout(DEADLINE).expect("no copy started");
    // While the copy is held: the volume loses everything past 4 MiB (shrink, then grow).
    let api = Api::new(&sim);
    let size = (DATA_MIB * MIB) as u64;
    api.ok(
        "VolumeUpdate/v",
        json!({"size": 4 * MIB as u64, "shrinkOk": true}),
    );
    api.ok("VolumeUpdate/v", json!({"size": size}));
    release.send(()).unwrap();
    snapshot.join().unwrap().data();
    let now = marks(&sim.dev_root().join("storpool/v"), DATA_MIB);
    assert!(now[4..].iter().all(|&b| b == 0), "{now:?}");
    assert_eq!(marks(&sim.data_path("s").unwrap(), DATA_MIB), now);
}

#[test]
fn a_copying_call_whose_source_goes_away_fails_and_leaves_no_copy() {
    let (sim, started, release) = held_copies(8);
    let snapshot = {
        let api = Api::new(&sim);
        std::thread::spawn(move || api.post("VolumeSnapshot/v", json!({"name": "s"})))
    };
    started.recv_timeout(DEADLINE).expect("no copy started");
    let api = Api::new(&sim);
    api.ok("VolumeDelete/v", json!({"onAttached": "detach"}));
    release.send(()).unwrap();
    let r = snapshot.join().unwrap();
    assert_eq!(r.err(), "objectDoesNotExist", "{r:?}");
    assert!(sim.state().snapshots.is_empty());
    let files: Vec<_> = fs::read_dir(sim.state_dir().join("data"))
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert!(files.is_empty(), "left behind: {files:?}");
}
