//! The simulators a benchmark measures against: one given with `--sim NAME=URL`, or one it
//! starts in-process.

use serde_json::{Value, json};
use storpool_sim::{Sim, SimError, SimHandle};

use crate::BenchArgs;

/// A simulator to measure against.
pub enum SimTarget {
    /// Started by this benchmark, in this process (stopped on drop).
    InProcess(Sim),
    /// A running `storpool-sim` process.
    External {
        /// `http://host:port`.
        url: String,
        /// Its token.
        token: String,
    },
}

impl SimTarget {
    /// The simulator given as `--sim NAME=URL`, else `start()` in-process.
    pub fn named(
        args: &BenchArgs,
        name: &str,
        start: impl FnOnce() -> Result<Sim, SimError>,
    ) -> Result<Self, SimError> {
        match args.sim(name) {
            Some((url, token)) => Ok(Self::External { url, token }),
            None => start().map(Self::InProcess),
        }
    }

    /// `http://host:port`.
    pub fn url(&self) -> String {
        match self {
            Self::InProcess(sim) => sim.base_url(),
            Self::External { url, .. } => url.clone(),
        }
    }

    /// The token.
    pub fn token(&self) -> String {
        match self {
            Self::InProcess(sim) => sim.token().to_owned(),
            Self::External { token, .. } => token.clone(),
        }
    }

    /// Where it runs, for table titles.
    pub fn describe(&self) -> &'static str {
        match self {
            Self::InProcess(_) => "in-process storpool-sim",
            Self::External { .. } => "storpool-sim process",
        }
    }
}

/// The name of the `i`-th volume of [`volume_body`]: `os--volume-{uuid}`, a volume of
/// `sp-volume` and the Cinder driver with the default prefix.
pub fn volume_name(i: usize) -> String {
    format!("os--volume-{i:08x}-5f0c-4b7e-9a51-2d3c4e5f6a7b")
}

/// The `VolumeCreate` body of the `i`-th volume of a realistic listing: OpenStack-style
/// names, 10 GiB, replication 3, two tags on every other volume.
pub fn volume_body(i: usize) -> Value {
    let name = volume_name(i);
    if i.is_multiple_of(2) {
        json!({
            "name": name, "size": 10u64 << 30, "replication": 3,
            "tags": {"qc": "tier1", "owner": format!("project-{}", i / 7)},
        })
    } else {
        json!({"name": name, "size": 10u64 << 30, "replication": 3})
    }
}

/// Creates volumes `from..to` (see [`volume_body`]) in-process (no HTTP).
pub fn seed_volumes(sim: &SimHandle, from: usize, to: usize) -> Result<(), SimError> {
    for i in from..to {
        sim.call("POST", "VolumeCreate", Some(volume_body(i)))?;
    }
    Ok(())
}
