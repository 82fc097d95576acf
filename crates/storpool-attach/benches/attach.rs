//! Benchmark (not a test): attach-to-usable-device latency, prints a table.
//!
//! Each cycle attaches a 1 GiB volume read-write to the simulator's served client, measures
//! from the start of the attach until the device exists under both links and opens for
//! writing, then detaches (not measured). Two waits are compared:
//!
//! - `inotify`: [`Connector::connect`] (`AttachmentsList`, `VolumesReassignWait`,
//!   `VolumeGetInfo`, then the inotify-driven wait);
//! - `200 ms polling`: what the older bindings did: `VolumesReassignWait` and `VolumeGetInfo`,
//!   then look for the device, sleeping 200 ms between looks.
//!
//! and two kinds of device appearance:
//!
//! - `with the API answer`: the simulator creates the links before it answers (the device is
//!   there when the cluster says so);
//! - `N ms later`: a stand-in for udev, which creates the `/dev/storpool*` links on a real
//!   node asynchronously, mirrors the simulator's links into the node's device root N ms after
//!   they appear.
//!
//! Run with `cargo bench -p storpool-attach` (optionally `-- CYCLES POLLING_CYCLES`).
// A bench binary prints its table; panicking on a broken setup is fine here, and counts far
// below 2^52 convert to f64 exactly.
#![allow(
    clippy::print_stdout,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::cast_precision_loss
)]

use std::time::{Duration, Instant};

use storpool_api::{Client, ReassignEntry, ReassignWait, Rights, VolumeRef};
use storpool_attach::wait::wait_until;
use storpool_attach::{
    AccessMode, ClientId, Connector, DetachOptions, DeviceRoot, Target, WaitOptions, device,
};
use storpool_sim::Sim;

const ID: u16 = 7;
const POLL: Duration = Duration::from_millis(200);

/// How the device shows up on the node.
#[derive(Clone, Copy)]
enum Appearance {
    /// The simulator's own links, made before the API answers.
    WithAnswer,
    /// Links mirrored into another root this long after the simulator made them.
    Later(Duration),
}

#[derive(Clone, Copy)]
enum Wait {
    Inotify,
    Polling,
}

struct Bench {
    sim: Sim,
    client: Client,
    /// A root only the udev stand-in writes to.
    mirror: tempfile::TempDir,
}

struct Sample {
    total: Duration,
    device_wait: Duration,
}

impl Bench {
    fn new() -> Self {
        let sim = Sim::builder().serve_client(ID).start().unwrap();
        sim.seed_volume("os--volume-bench", 1 << 30, None).unwrap();
        let client = Client::builder()
            .base_url(sim.base_url())
            .token(sim.token())
            .multi_cluster(true)
            .build()
            .unwrap();
        let mirror = tempfile::tempdir().unwrap();
        for dir in [device::BY_NAME_DIR, device::BY_ID_DIR] {
            std::fs::create_dir_all(mirror.path().join(dir)).unwrap();
        }
        Self {
            sim,
            client,
            mirror,
        }
    }

    fn node_root(&self, appearance: Appearance) -> DeviceRoot {
        match appearance {
            Appearance::WithAnswer => DeviceRoot::new(self.sim.dev_root()),
            Appearance::Later(_) => DeviceRoot::new(self.mirror.path()),
        }
    }

    fn connector(&self, appearance: Appearance) -> Connector {
        Connector::new(&self.client, ClientId::new(u64::from(ID)).unwrap())
            .with_device_root(self.node_root(appearance))
            .with_wait(WaitOptions {
                timeout: Duration::from_secs(30),
                recheck: Duration::from_secs(1),
            })
    }

    /// One attach, measured, then the detach.
    async fn cycle(&self, wait: Wait, appearance: Appearance, gid: &str) -> Sample {
        let connector = self.connector(appearance);
        let target = Target::volume("bench");
        let attach = async {
            match wait {
                Wait::Inotify => {
                    let attached = connector.connect(&target, AccessMode::Rw).await.unwrap();
                    Sample {
                        total: attached.elapsed,
                        device_wait: attached.waited,
                    }
                }
                Wait::Polling => self.poll_attach(&connector.device_root().clone()).await,
            }
        };
        let sample = match appearance {
            Appearance::WithAnswer => attach.await,
            Appearance::Later(delay) => {
                let (sample, ()) = tokio::join!(attach, self.udev_add(gid, delay));
                sample
            }
        };
        let detach = connector.disconnect(&target, DetachOptions::default());
        match appearance {
            Appearance::WithAnswer => {
                detach.await.unwrap();
            }
            Appearance::Later(_) => {
                let (detached, ()) = tokio::join!(detach, self.udev_remove(gid));
                detached.unwrap();
            }
        }
        sample
    }

    /// The older bindings: reassign, global id, then look every 200 ms.
    async fn poll_attach(&self, root: &DeviceRoot) -> Sample {
        let start = Instant::now();
        let volume = VolumeRef::new("os--volume-bench").unwrap();
        let entry = ReassignEntry::attach_volume(
            volume.clone(),
            ClientId::new(u64::from(ID)).unwrap(),
            Rights::Rw,
        );
        self.client
            .attachments()
            .reassign_wait(&ReassignWait {
                reassign: vec![entry],
                attach_timeout: Some(30),
            })
            .await
            .unwrap();
        let info = self.client.volumes().info(&volume).await.unwrap();
        let path = root.by_id(&info.global_id);
        let name_path = root.by_name("os--volume-bench");
        let device_wait = Instant::now();
        while !(name_path.exists() && device::can_open_for_writing(&path)) {
            assert!(start.elapsed() < Duration::from_secs(30), "no device");
            tokio::time::sleep(POLL).await;
        }
        Sample {
            total: start.elapsed(),
            device_wait: device_wait.elapsed(),
        }
    }

    /// The udev stand-in: once the simulator has made the links, wait `delay`, then make the
    /// node's links.
    async fn udev_add(&self, gid: &str, delay: Duration) {
        let sim_root = DeviceRoot::new(self.sim.dev_root());
        let node_root = DeviceRoot::new(self.mirror.path());
        let links = [
            (
                sim_root.by_name("os--volume-bench"),
                node_root.by_name("os--volume-bench"),
            ),
            (sim_root.by_id(gid), node_root.by_id(gid)),
        ];
        wait_until(&sim_root, long_wait(), || {
            links.iter().all(|(src, _)| src.exists())
        })
        .await
        .unwrap();
        tokio::time::sleep(delay).await;
        for (src, dst) in &links {
            std::os::unix::fs::symlink(std::fs::read_link(src).unwrap(), dst).unwrap();
        }
    }

    /// The udev stand-in: once the simulator has removed its links, remove the node's.
    async fn udev_remove(&self, gid: &str) {
        let sim_root = DeviceRoot::new(self.sim.dev_root());
        let node_root = DeviceRoot::new(self.mirror.path());
        let sim_links = [sim_root.by_name("os--volume-bench"), sim_root.by_id(gid)];
        wait_until(&sim_root, long_wait(), || {
            sim_links.iter().all(|l| l.symlink_metadata().is_err())
        })
        .await
        .unwrap();
        for link in [node_root.by_name("os--volume-bench"), node_root.by_id(gid)] {
            std::fs::remove_file(link).unwrap();
        }
    }
}

fn long_wait() -> WaitOptions {
    WaitOptions {
        timeout: Duration::from_secs(30),
        recheck: Duration::from_secs(1),
    }
}

struct Stats {
    median: Duration,
    p99: Duration,
    min: Duration,
    max: Duration,
}

fn stats(mut samples: Vec<Duration>) -> Stats {
    samples.sort_unstable();
    let n = samples.len();
    let p99 = (n * 99).div_ceil(100).max(1) - 1;
    Stats {
        median: samples[n / 2],
        p99: samples[p99],
        min: samples[0],
        max: samples[n - 1],
    }
}

fn ms(d: Duration) -> String {
    format!("{:.2}", d.as_secs_f64() * 1e3)
}

fn main() {
    let mut args = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with('-'))
        .filter_map(|a| a.parse::<usize>().ok());
    let cycles = args.next().unwrap_or(1000);
    let polling_cycles = args.next().unwrap_or(100);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let bench = Bench::new();
    let gid = bench
        .sim
        .state()
        .volume("os--volume-bench")
        .unwrap()
        .global_id
        .clone();
    let later = Appearance::Later(Duration::from_millis(10));
    let runs = [
        (
            "inotify (Connector::connect)",
            Wait::Inotify,
            Appearance::WithAnswer,
            cycles,
        ),
        (
            "200 ms polling",
            Wait::Polling,
            Appearance::WithAnswer,
            cycles,
        ),
        ("inotify (Connector::connect)", Wait::Inotify, later, cycles),
        ("200 ms polling", Wait::Polling, later, polling_cycles),
    ];
    println!(
        "attach-to-usable-device latency, 1 GiB volume, in-process simulator (fsync off, a new \
         connection per call)\n"
    );
    println!(
        "| wait | device appears | cycles | median ms | p99 ms | min ms | max ms | device wait median ms | device wait p99 ms |"
    );
    println!("|---|---|---|---|---|---|---|---|---|");
    runtime.block_on(async {
        // Warm up: connections, files, the SQLite cache.
        for _ in 0..20 {
            bench
                .cycle(Wait::Inotify, Appearance::WithAnswer, &gid)
                .await;
        }
        for (label, wait, appearance, n) in runs {
            let mut totals = Vec::with_capacity(n);
            let mut waits = Vec::with_capacity(n);
            for _ in 0..n {
                let sample = bench.cycle(wait, appearance, &gid).await;
                totals.push(sample.total);
                waits.push(sample.device_wait);
            }
            let total = stats(totals);
            let device_wait = stats(waits);
            let appears = match appearance {
                Appearance::WithAnswer => "with the API answer".to_owned(),
                Appearance::Later(d) => format!("{} ms later (udev stand-in)", d.as_millis()),
            };
            println!(
                "| {label} | {appears} | {n} | {} | {} | {} | {} | {} | {} |",
                ms(total.median),
                ms(total.p99),
                ms(total.min),
                ms(total.max),
                ms(device_wait.median),
                ms(device_wait.p99),
            );
        }
    });
}
