//! `sp-volume demo`: the newcomer's first command.

use std::path::PathBuf;

use serde::Deserialize;

use crate::{ImageJson, Run, StatsJson, VolumeJson, command};

#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct StepJson {
    step: String,
    elapsed_seconds: f64,
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct DemoJson {
    cluster_source: String,
    image: ImageJson,
    steps: Vec<StepJson>,
    verified_bytes: u64,
    stats: StatsJson,
    volumes: Vec<VolumeJson>,
    total_seconds: f64,
}

#[test]
fn the_demo_runs_the_boot_from_volume_flow_on_a_fresh_embedded_cluster() {
    let home = tempfile::tempdir().unwrap();
    let run = Run::from(
        command(home.path())
            .args(["demo", "--image-mib", "4", "--instances", "2", "--json"])
            .output()
            .unwrap(),
    );
    let report: DemoJson = run.embedded_json();
    assert!(
        report
            .cluster_source
            .starts_with("the embedded simulator in "),
        "{report:?}"
    );
    assert_eq!(report.image.format, "qcow2");
    assert_eq!(report.image.virtual_size_bytes, 4 << 20);
    assert_eq!(report.verified_bytes, 4 << 20);
    let steps: Vec<&str> = report.steps.iter().map(|s| s.step.as_str()).collect();
    for (step, starts) in steps.iter().zip([
        "make a bootable 4 MiB disk image",
        "convert it to qcow2",
        "import it into volume",
        "snapshot it",
        "create 2 instance root volumes from the snapshot",
        "attach",
        "verify its bytes match the image: 4194304 bytes equal",
        "detach",
        "stats",
        "list",
        "clean up: delete 3 volumes and the snapshot",
    ]) {
        assert!(step.starts_with(starts), "{step} / {starts}");
    }
    assert_eq!(steps.len(), 11);
    assert!(report.steps.iter().all(|s| s.elapsed_seconds >= 0.0));
    let sum: f64 = report.steps.iter().map(|s| s.elapsed_seconds).sum();
    // Each figure is rounded to the millisecond.
    #[allow(clippy::cast_precision_loss)]
    let rounding = 0.001 * (report.steps.len() + 1) as f64;
    assert!(report.total_seconds + rounding >= sum, "{report:?}");
    assert_eq!(
        report.volumes.len(),
        3,
        "the image volume and two instances"
    );
    assert!(report.volumes.iter().all(|v| v.size_gib == 1));
    assert_eq!(report.stats.pools[0].pool_name, "default");
    // The temporary cluster is gone, and nothing was left in the user's data folder.
    let dir = PathBuf::from(
        report
            .cluster_source
            .trim_start_matches("the embedded simulator in "),
    );
    assert!(!dir.exists(), "{}", dir.display());
    assert!(!home.path().join(".local").exists());
}

#[test]
fn the_demo_prints_each_step_with_its_time_and_can_use_a_given_cluster() {
    let home = tempfile::tempdir().unwrap();
    let dir = home.path().join("cluster");
    let run = Run::from(
        command(home.path())
            .arg(format!("--embedded={}", dir.display()))
            .args(["demo", "--image-mib", "2", "--instances", "1"])
            .output()
            .unwrap(),
    );
    let text = run.ok();
    let lines: Vec<&str> = text.lines().collect();
    assert!(
        lines[0].starts_with(
            "sp-volume demo: booting instances from a volume, on the embedded simulator in "
        ),
        "{text}"
    );
    assert!(
        lines[1].starts_with(" 1. make a bootable 2 MiB disk image"),
        "{text}"
    );
    assert!(lines[1].ends_with(" s)"), "{text}");
    assert!(
        text.contains("\nPOOL ") && text.contains(" TOTAL_GB"),
        "{text}"
    );
    assert!(text.contains("\nID  ") || text.contains("\nID "), "{text}");
    assert!(lines.last().unwrap().starts_with("done in "), "{text}");
    // Everything it made is gone again; the cluster stays.
    let list = Run::from(
        command(home.path())
            .arg(format!("--embedded={}", dir.display()))
            .args(["list", "--json", "-q"])
            .output()
            .unwrap(),
    );
    assert_eq!(list.ok(), "{\"cluster\":\"embedded\",\"volumes\":[]}\n");
}
