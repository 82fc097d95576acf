//! Signals and `kill -9` during image copies: the copy (a stand-in `qemu-img` that sleeps
//! where it would copy to or from a device) never outlives the command, and a handled signal
//! cleans up and exits 128 + the signal.

use std::fs;
use std::os::unix::fs::PermissionsExt as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use rustix::process::{Pid, Signal, kill_process};

use crate::{Node, command, node, pause};

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
