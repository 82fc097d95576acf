//! Scenario tests: the driver against an in-process `storpool-sim`, one simulator per test.
//! Every test states the behaviour it checks and ends by asserting the cluster's state:
//! nothing leaked, nothing lost.
// Scenario tests read best as one story each, even when long.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::too_many_lines)]

mod clone;
mod connection;
mod create;
mod errors;
mod faults;
mod logging;
mod manage;
mod migration;
mod proxy;
mod reads;
mod retype;
mod snapshots;
mod stats;

use std::path::PathBuf;

use serde_json::json;
use storpool_api::{Client, RetryPolicy, TemplateName};
use storpool_conf::Loader;
use storpool_driver_core::{Driver, DriverOptions, Specs};
use storpool_sim::{ClusterState, Sim, SimBuilder};

/// One GiB.
pub(crate) const GIB: u64 = 1 << 30;

/// A simulator with the reference tests' templates `ssd` and `hdd`, a driver on it, and a
/// storpool.conf with the reference tests' host sections.
pub(crate) struct Env {
    pub(crate) sim: Sim,
    pub(crate) driver: Driver,
    _conf: tempfile::TempDir,
    pub(crate) conf_file: PathBuf,
}

impl Env {
    /// The simulator's state.
    pub(crate) fn state(&self) -> ClusterState {
        self.sim.state()
    }

    /// Names of all volumes, sorted.
    pub(crate) fn volumes(&self) -> Vec<String> {
        let mut names: Vec<String> = self.state().volumes.into_iter().map(|v| v.name).collect();
        names.sort();
        names
    }

    /// Names of all snapshots (including pending deletions), sorted.
    pub(crate) fn snapshots(&self) -> Vec<String> {
        let mut names: Vec<String> = self.state().snapshots.into_iter().map(|s| s.name).collect();
        names.sort();
        names
    }

    /// Asserts the cluster holds no volume and no snapshot.
    pub(crate) fn assert_empty(&self) {
        let state = self.state();
        assert!(
            state.volumes.is_empty() && state.snapshots.is_empty(),
            "left on the cluster: volumes {:?}, snapshots {:?}",
            self.volumes(),
            self.snapshots()
        );
    }

    /// A second driver on the same simulator with other options.
    pub(crate) fn driver_with(&self, options: DriverOptions) -> Driver {
        driver(&self.sim, options, &self.conf_file)
    }
}

/// The storpool.conf of the tests: sections as the reference test's `MockSPConfig` answers
/// them (`s01` -> 1, `s02` -> 2, `sbad` -> invalid, anything else -> no `SP_OURID`).
const HOSTS_CONF: &str = "\
SP_OPENSTACK_VOLUME_PREFIX=os
[s01]
SP_OURID=1
[s02]
SP_OURID=2
[sbad]
SP_OURID=bad
[this-node]
SP_OURID=7
";

pub(crate) fn client(sim: &Sim) -> Client {
    Client::builder()
        .base_url(sim.base_url())
        .token(sim.token())
        .retry(RetryPolicy::immediate(5))
        .build()
        .unwrap()
}

pub(crate) fn driver(sim: &Sim, options: DriverOptions, conf_file: &std::path::Path) -> Driver {
    Driver::new(client(sim), options)
        .unwrap()
        .with_host_config(Loader::new(conf_file).use_env(false))
}

/// The default environment: templates `ssd` (replication 3) and `hdd` (replication 2), no
/// default template, replication 3, `MultiCluster/` on.
pub(crate) fn env() -> Env {
    env_with(Sim::builder(), DriverOptions::new())
}

pub(crate) fn env_with(builder: SimBuilder, options: DriverOptions) -> Env {
    let sim = builder.start().unwrap();
    sim.seed_template("ssd", Some(3), None).unwrap();
    sim.seed_template("hdd", Some(2), None).unwrap();
    let conf = tempfile::tempdir().unwrap();
    let conf_file = conf.path().join("storpool.conf");
    std::fs::write(&conf_file, HOSTS_CONF).unwrap();
    let driver = driver(&sim, options, &conf_file);
    Env {
        sim,
        driver,
        _conf: conf,
        conf_file,
    }
}

/// Volume-type specs from pairs.
pub(crate) fn specs(pairs: &[(&str, &str)]) -> Specs {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

/// The reference tests' three volume types: none, `ssd`, `hdd`.
pub(crate) fn volume_types() -> [(Option<&'static str>, Specs); 3] {
    [
        (None, Specs::new()),
        (Some("ssd"), specs(&[("storpool_template", "ssd")])),
        (Some("hdd"), specs(&[("storpool_template", "hdd")])),
    ]
}

pub(crate) fn template(name: &str) -> TemplateName {
    TemplateName::new(name).unwrap()
}

/// `os--volume-{id}`.
pub(crate) fn vol(id: &str) -> String {
    format!("os--volume-{id}")
}

/// `os--snap--none--snapshot-{id}`.
pub(crate) fn snap(id: &str) -> String {
    format!("os--snap--none--snapshot-{id}")
}

/// `os--clone--none--snapshot-{id}`.
pub(crate) fn clone_snap(id: &str) -> String {
    format!("os--clone--none--snapshot-{id}")
}

/// Writes `data` at the start of volume `name` through the emulated device of client 1.
pub(crate) fn write_through_device(env: &Env, name: &str, data: &[u8]) {
    use std::io::Write;
    env.sim
        .call(
            "POST",
            "VolumesReassign",
            Some(json!([{"volume": name, "rw": [1]}])),
        )
        .unwrap();
    let device = env.sim.dev_root().join("storpool").join(name);
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .open(&device)
        .unwrap();
    file.write_all(data).unwrap();
    file.sync_all().unwrap();
    env.sim
        .call(
            "POST",
            "VolumesReassign",
            Some(json!([{"volume": name, "detach": "all"}])),
        )
        .unwrap();
}

/// Reads the first `len` bytes of volume `name` through the emulated device of client 1.
pub(crate) fn read_through_device(env: &Env, name: &str, len: usize) -> Vec<u8> {
    use std::io::Read;
    env.sim
        .call(
            "POST",
            "VolumesReassign",
            Some(json!([{"volume": name, "ro": [1]}])),
        )
        .unwrap();
    let device = env.sim.dev_root().join("storpool").join(name);
    let mut data = vec![0; len];
    std::fs::File::open(&device)
        .unwrap()
        .read_exact(&mut data)
        .unwrap();
    env.sim
        .call(
            "POST",
            "VolumesReassign",
            Some(json!([{"volume": name, "detach": "all"}])),
        )
        .unwrap();
    data
}
