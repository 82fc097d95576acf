//! Signals and `kill -9` during image copies: the copy (a stand-in `qemu-img` that sleeps
//! where it would copy to or from a device) never outlives the command, and a handled signal
//! cleans up and exits 128 + the signal.

use std::fs;
use std::os::unix::fs::PermissionsExt as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use rustix::process::{Pid, Signal, kill_process};

use crate::{Node, Run, command, node, pause};

/// The real `qemu-img`.
fn real_qemu_img() -> PathBuf {
    std::env::var_os("PATH")
        .map(|paths| std::env::split_paths(&paths).collect::<Vec<_>>())
        .unwrap_or_default()
        .into_iter()
        .map(|dir| dir.join("qemu-img"))
        .find(|path| path.is_file())
        .expect("qemu-img on PATH")
}

/// A folder holding a `qemu-img` that runs the real one, except for a copy to or from a
/// StorPool device: there it writes its pid to `qemu-img.pid` in the folder and sleeps.
struct SlowQemuImg {
    dir: tempfile::TempDir,
}

impl SlowQemuImg {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let pid = dir.path().join("qemu-img.pid");
        let script = dir.path().join("qemu-img");
        fs::write(
            &script,
            format!(
                "#!/bin/sh\ncase \"$*\" in\n  *storpool-byid*)\n    echo $$ > '{pid}.tmp' && mv '{pid}.tmp' '{pid}'\n    exec sleep 600 ;;\nesac\nexec '{real}' \"$@\"\n",
                pid = pid.display(),
                real = real_qemu_img().display()
            ),
        )
        .unwrap();
        fs::set_permissions(&script, fs::Permissions::from_mode(0o755)).unwrap();
        Self { dir }
    }

    /// `PATH` with this folder first.
    fn path(&self) -> std::ffi::OsString {
        let rest = std::env::var_os("PATH").unwrap_or_default();
        std::env::join_paths(
            std::iter::once(self.dir.path().to_owned()).chain(std::env::split_paths(&rest)),
        )
        .unwrap()
    }

    /// The stand-in's pid once it sleeps (within 30 s, while `child` runs).
    fn wait(&self, child: &mut Child) -> Sleeper {
        let path = self.dir.path().join("qemu-img.pid");
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Ok(text) = fs::read_to_string(&path)
                && let Ok(pid) = text.trim().parse()
            {
                return Sleeper(pid);
            }
            assert!(
                child.try_wait().unwrap().is_none(),
                "the command ended before the copy started"
            );
            assert!(Instant::now() < deadline, "the copy never started");
            pause();
        }
    }
}

/// The stand-in's process; killed on drop if it still runs (a failed test leaves nothing).
struct Sleeper(i32);

impl Sleeper {
    /// Whether it runs (a zombie does not).
    fn alive(&self) -> bool {
        match fs::read_to_string(format!("/proc/{}/stat", self.0)) {
            Err(_) => false,
            Ok(stat) => !matches!(
                stat.rsplit_once(") ")
                    .and_then(|(_, rest)| rest.chars().next()),
                Some('Z' | 'X')
            ),
        }
    }

    /// Whether it is gone within 10 s.
    fn gone(&self) -> bool {
        let deadline = Instant::now() + Duration::from_secs(10);
        while self.alive() {
            if Instant::now() > deadline {
                return false;
            }
            pause();
        }
        true
    }
}

impl Drop for Sleeper {
    fn drop(&mut self) {
        if self.alive()
            && let Some(pid) = Pid::from_raw(self.0)
        {
            let _ = kill_process(pid, Signal::KILL);
        }
    }
}

/// Sends `signal` to `child`.
fn signal(child: &Child, signal: Signal) {
    let pid = Pid::from_raw(i32::try_from(child.id()).unwrap()).unwrap();
    kill_process(pid, signal).unwrap();
}

/// `sp-volume --config CONF --dev-root ROOT ARGS...` with the stand-in first on `PATH`,
/// started.
fn spawn(node: &Node, slow: &SlowQemuImg, args: &[&str]) -> Child {
    let mut command = command(node.dir.path());
    command
        .env("PATH", slow.path())
        .arg("--config")
        .arg(node.conf())
        .arg("--dev-root")
        .arg(node.sim.dev_root())
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    command.spawn().unwrap()
}

/// A raw image of 4 MiB with some data.
fn image(dir: &Path) -> PathBuf {
    let path = dir.join("disk.raw");
    let mut bytes = vec![0u8; 4 << 20];
    bytes[..4096].fill(0xAB);
    fs::write(&path, bytes).unwrap();
    path
}

#[test]
fn kill_9_of_an_import_takes_qemu_img_with_it() {
    // Issue 13, defect 16: `qemu-img convert` went on writing into the volume.
    let node = node();
    let slow = SlowQemuImg::new();
    let image = image(node.dir.path());
    let mut child = spawn(
        &node,
        &slow,
        &["import-image", "k", image.to_str().unwrap()],
    );
    let qemu_img = slow.wait(&mut child);
    signal(&child, Signal::KILL);
    let status = child.wait().unwrap();
    assert_eq!(
        std::os::unix::process::ExitStatusExt::signal(&status),
        Some(9)
    );
    assert!(
        qemu_img.gone(),
        "qemu-img (pid {}) outlived sp-volume",
        qemu_img.0
    );
}

/// Waits (up to 60 s) for `child` to end; its output.
fn finish(mut child: Child) -> Run {
    let deadline = Instant::now() + Duration::from_mins(1);
    while child.try_wait().unwrap().is_none() {
        if Instant::now() > deadline {
            child.kill().unwrap();
            panic!(
                "sp-volume did not end: {:#?}",
                Run::from(child.wait_with_output().unwrap())
            );
        }
        pause();
    }
    Run::from(child.wait_with_output().unwrap())
}

/// Runs `args` with the stand-in, sends `sig` once the copy runs, and waits for the end.
fn stopped_during_the_copy(node: &Node, args: &[&str], sig: Signal) -> (Run, Sleeper) {
    let slow = SlowQemuImg::new();
    let mut child = spawn(node, &slow, args);
    let qemu_img = slow.wait(&mut child);
    signal(&child, sig);
    (finish(child), qemu_img)
}

/// Asserts that the cluster holds no volume, snapshot or attachment.
fn nothing_left(node: &Node) {
    let state = node.sim.state();
    assert!(state.volumes.is_empty(), "{:?}", state.volumes);
    assert!(state.snapshots.is_empty(), "{:?}", state.snapshots);
    assert!(state.attachments.is_empty(), "{:?}", state.attachments);
}

#[test]
fn sigterm_during_an_import_stops_qemu_img_deletes_the_new_volume_and_exits_143() {
    // Issue 13, defect 17: SIGTERM left the volume attached and half written.
    let node = node();
    let image = image(node.dir.path());
    let (run, qemu_img) = stopped_during_the_copy(
        &node,
        &["import-image", "t", image.to_str().unwrap()],
        Signal::TERM,
    );
    assert_eq!(run.code, Some(143), "{run:#?}");
    assert!(
        run.error_line().ends_with("into volume `t`: interrupted"),
        "{run:#?}"
    );
    assert!(
        run.stderr
            .contains("hint: the volume `t` created for the image was deleted again"),
        "{run:#?}"
    );
    assert!(qemu_img.gone(), "qemu-img outlived the command");
    nothing_left(&node);
}

#[test]
fn sighup_during_an_export_removes_the_snapshot_and_the_partial_file_and_exits_129() {
    let node = node();
    let image = image(node.dir.path());
    node.run(&["import-image", "v", image.to_str().unwrap(), "-q"])
        .ok();
    let out = node.dir.path().join("out.raw");
    let (run, qemu_img) = stopped_during_the_copy(
        &node,
        &["export-image", "v", out.to_str().unwrap()],
        Signal::HUP,
    );
    assert_eq!(run.code, Some(129), "{run:#?}");
    assert!(qemu_img.gone(), "qemu-img outlived the command");
    let state = node.sim.state();
    assert!(state.snapshots.is_empty(), "{:?}", state.snapshots);
    assert!(state.attachments.is_empty(), "{:?}", state.attachments);
    assert_eq!(state.volumes.len(), 1, "the volume itself stays");
    assert!(!out.exists());
    let partial: Vec<_> = fs::read_dir(node.dir.path())
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.to_string_lossy().ends_with(".partial"))
        .collect();
    assert!(partial.is_empty(), "{partial:?}");
}

#[test]
fn ctrl_c_before_qemu_img_starts_deletes_the_export_snapshot_and_exits_130() {
    // Issue 13, defect 17: Ctrl-C while the temporary snapshot was made and attached killed
    // the command outright and leaked the snapshot.
    let node = node();
    let image = image(node.dir.path());
    node.run(&["import-image", "v", image.to_str().unwrap(), "-q"])
        .ok();
    // This node's client is down: the attach waits for it, after the snapshot is made.
    node.sim.set_client_running(crate::ID, false);
    let slow = SlowQemuImg::new();
    let out = node.dir.path().join("out.raw");
    let mut child = spawn(&node, &slow, &["export-image", "v", out.to_str().unwrap()]);
    let deadline = Instant::now() + Duration::from_secs(30);
    while node.sim.state().snapshots.is_empty() {
        assert!(child.try_wait().unwrap().is_none(), "it ended early");
        assert!(Instant::now() < deadline, "no snapshot was made");
        pause();
    }
    signal(&child, Signal::INT);
    // The detach of the cleanup waits for the client too.
    node.sim.set_client_running(crate::ID, true);
    let run = finish(child);
    assert_eq!(run.code, Some(130), "{run:#?}");
    assert!(run.error_line().ends_with(": interrupted"), "{run:#?}");
    let state = node.sim.state();
    assert!(state.snapshots.is_empty(), "{:?}", state.snapshots);
    assert!(state.attachments.is_empty(), "{:?}", state.attachments);
    assert!(!out.exists());
}

#[test]
fn sigterm_during_the_demo_removes_everything_it_made_and_exits_143() {
    let node = node();
    let (run, qemu_img) = stopped_during_the_copy(
        &node,
        &["demo", "--image-mib", "2", "--instances", "1"],
        Signal::TERM,
    );
    assert_eq!(run.code, Some(143), "{run:#?}");
    assert!(qemu_img.gone(), "qemu-img outlived the command");
    nothing_left(&node);
}
