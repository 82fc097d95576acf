//! Scenario tests: image copies against an in-process `storpool-sim` that emulates
//! `storpool_block` for the client id it serves, with the real `qemu-img` (and, where a copy
//! must take long, a stand-in that sleeps).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod cancel;
mod copies;
mod lints;

use std::fs;
use std::io::{Seek, SeekFrom, Write};
use std::os::unix::fs::PermissionsExt as _;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use storpool_api::{Client, ClientId, RetryPolicy};
use storpool_attach::{Connector, DeviceRoot, WaitOptions};
use storpool_driver_core::{Driver, DriverOptions};
use storpool_image::Images;
use storpool_sim::Sim;

/// The client id the simulator serves: this "node".
pub const ID: u16 = 7;
/// One MiB.
pub const MIB: u64 = 1 << 20;

/// A simulator serving [`ID`], image copies on it, and a folder for files.
pub struct Env {
    /// The simulator.
    pub sim: Sim,
    /// Image copies through the simulator's client [`ID`].
    pub images: Images,
    /// A folder for images.
    pub dir: tempfile::TempDir,
}

/// A fresh [`Env`].
pub fn env() -> Env {
    let sim = Sim::builder().serve_client(ID).start().unwrap();
    let client = Client::builder()
        .base_url(sim.base_url())
        .token(sim.token())
        .retry(RetryPolicy::none())
        .build()
        .unwrap();
    let driver = Driver::new(client.clone(), DriverOptions::new()).unwrap();
    let connector = Connector::new(&client, ClientId::new(u64::from(ID)).unwrap())
        .with_device_root(DeviceRoot::new(sim.dev_root()))
        .with_wait(WaitOptions {
            timeout: Duration::from_secs(20),
            recheck: Duration::from_secs(1),
        });
    Env {
        sim,
        images: Images::new(driver, connector),
        dir: tempfile::tempdir().unwrap(),
    }
}

/// A current-thread runtime.
pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

/// A raw image of `size` bytes with 1 MiB of data at its start and another at 3 MiB, holes
/// elsewhere; returns its bytes.
pub fn raw_image(path: &Path, size: u64) -> Vec<u8> {
    let mut file = fs::File::create(path).unwrap();
    file.set_len(size).unwrap();
    for (at, seed) in [(0, 1u8), (3 * MIB, 7)] {
        let block: Vec<u8> = (0..MIB).map(|i| (i % 251) as u8 ^ seed).collect();
        file.seek(SeekFrom::Start(at)).unwrap();
        file.write_all(&block).unwrap();
    }
    drop(file);
    fs::read(path).unwrap()
}

/// Hidden partial files left in a folder.
pub fn leftovers(dir: &Path) -> Vec<PathBuf> {
    fs::read_dir(dir)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.to_string_lossy().ends_with(".partial"))
        .collect()
}

/// A stand-in for `qemu-img` in `dir`: it runs the real one, except for a copy to or from a
/// StorPool device, where it writes its pid to `dir/qemu-img.pid` and sleeps (as a copy that
/// takes long). Returns its path.
pub fn slow_qemu_img(dir: &Path) -> PathBuf {
    let real = which("qemu-img");
    let pid_file = dir.join("qemu-img.pid");
    let script = dir.join("qemu-img");
    fs::write(
        &script,
        format!(
            "#!/bin/sh\ncase \"$*\" in\n  *storpool-byid*)\n    echo $$ > '{pid}.tmp' && mv '{pid}.tmp' '{pid}'\n    exec sleep 600 ;;\nesac\nexec '{real}' \"$@\"\n",
            pid = pid_file.display(),
            real = real.display()
        ),
    )
    .unwrap();
    fs::set_permissions(&script, fs::Permissions::from_mode(0o755)).unwrap();
    script
}

/// The pid the stand-in wrote, once it has (within 20 s).
pub fn wait_for_pid(dir: &Path) -> u32 {
    let path = dir.join("qemu-img.pid");
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if let Ok(text) = fs::read_to_string(&path)
            && let Ok(pid) = text.trim().parse()
        {
            return pid;
        }
        assert!(Instant::now() < deadline, "the stand-in never started");
        pause();
    }
}

/// Whether process `pid` runs (a zombie does not).
pub fn alive(pid: u32) -> bool {
    match fs::read_to_string(format!("/proc/{pid}/stat")) {
        Err(_) => false,
        Ok(stat) => !matches!(
            stat.rsplit_once(") ")
                .and_then(|(_, rest)| rest.chars().next()),
            Some('Z' | 'X')
        ),
    }
}

/// A program on `PATH`.
pub fn which(program: &str) -> PathBuf {
    std::env::var_os("PATH")
        .map(|paths| std::env::split_paths(&paths).collect::<Vec<_>>())
        .unwrap_or_default()
        .into_iter()
        .map(|dir| dir.join(program))
        .find(|path| path.is_file())
        .unwrap_or_else(|| panic!("no `{program}` on PATH"))
}

/// A short pause between two looks at a condition polled with a deadline.
#[allow(clippy::disallowed_methods)] // sync code, no runtime on this thread
pub fn pause() {
    std::thread::sleep(Duration::from_millis(20));
}
