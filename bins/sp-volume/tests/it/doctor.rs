//! `sp-volume doctor`: one line per check, exit 0 when healthy, 1 when a check fails.

use std::path::Path;

use serde::Deserialize;

use crate::{Run, command, node};

#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct DoctorJson {
    healthy: bool,
    checks: Vec<CheckJson>,
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct CheckJson {
    check: String,
    status: String,
    detail: String,
}

impl DoctorJson {
    fn get(&self, check: &str) -> &CheckJson {
        self.checks
            .iter()
            .find(|c| c.check == check)
            .unwrap_or_else(|| panic!("no check {check}: {self:#?}"))
    }
}

const CHECKS: [&str; 6] = ["config", "cluster", "api", "client", "devices", "qemu-img"];

#[test]
fn a_healthy_node_passes_every_check_one_line_each() {
    let node = node();
    let run = node.run(&["doctor"]);
    let text = run.ok();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), CHECKS.len(), "{text}");
    for (line, check) in lines.iter().zip(CHECKS) {
        let status = line.split_whitespace().next().unwrap();
        assert!(["ok", "warn"].contains(&status), "{text}");
        assert_eq!(line.split_whitespace().nth(1), Some(check), "{text}");
    }
    let report: DoctorJson = node.run(&["doctor", "--json"]).json();
    assert!(report.healthy);
    let config = report.get("config");
    assert_eq!(config.status, "ok");
    assert!(
        config.detail.contains(&node.conf().display().to_string()),
        "{config:?}"
    );
    let api = report.get("api");
    assert_eq!(api.status, "ok");
    assert!(api.detail.contains(&node.sim.base_url()), "{api:?}");
    assert!(api.detail.contains("token accepted"), "{api:?}");
    let client = report.get("client");
    assert_eq!(client.status, "ok");
    assert!(client.detail.contains("SP_OURID 7"), "{client:?}");
    assert_eq!(report.get("devices").status, "ok");
    // The configured cluster is a storpool-sim: said, as a warning.
    let cluster = report.get("cluster");
    assert_eq!(cluster.status, "warn", "{cluster:?}");
    assert!(cluster.detail.contains("simulator"), "{cluster:?}");
    let qemu = report.get("qemu-img");
    if qemu.status == "ok" {
        assert!(qemu.detail.contains("qemu-img version"), "{qemu:?}");
    }
}

#[test]
fn a_refused_token_and_an_unknown_client_fail_with_exit_1() {
    let node = node();
    let text = node.sim.storpool_conf(Some(99));
    std::fs::write(node.conf(), &text).unwrap();
    let run = node.run(&["doctor"]);
    assert_eq!(run.code, Some(1), "{run:#?}");
    let client = run.stdout.lines().find(|l| l.contains(" client ")).unwrap();
    assert!(client.starts_with("fail"), "{run:#?}");
    assert!(client.contains("SP_OURID 99"), "{run:#?}");
    assert!(client.contains("does not know"), "{run:#?}");
    std::fs::write(
        node.conf(),
        text.replace(node.sim.token(), "1111222233334444555"),
    )
    .unwrap();
    let run = node.run(&["doctor", "--json", "--api-retries", "0"]);
    assert_eq!(run.code, Some(1), "{run:#?}");
    let report: DoctorJson = serde_json::from_str(&run.stdout).unwrap();
    assert!(!report.healthy);
    let api = report.get("api");
    assert_eq!(api.status, "fail");
    assert!(api.detail.contains("token refused"), "{api:?}");
    assert_eq!(report.get("client").status, "skip");
}

#[test]
fn without_a_configuration_doctor_says_why_and_fails() {
    if Path::new("/etc/storpool.conf").exists() {
        eprintln!("skipped: this machine has /etc/storpool.conf, so a cluster is configured");
        return;
    }
    let home = tempfile::tempdir().unwrap();
    let run = Run::from(command(home.path()).arg("doctor").output().unwrap());
    assert_eq!(run.code, Some(1), "{run:#?}");
    let lines: Vec<&str> = run.stdout.lines().collect();
    assert!(lines[0].starts_with("fail  config"), "{run:#?}");
    assert!(
        lines[0].contains("no StorPool cluster configured"),
        "{run:#?}"
    );
    assert!(lines[0].contains("STORPOOL_EMBEDDED"), "{run:#?}");
    assert!(lines.iter().any(|l| l.starts_with("skip  api")), "{run:#?}");
}

#[test]
fn on_the_embedded_simulator_doctor_says_so() {
    let home = tempfile::tempdir().unwrap();
    let dir = home.path().join("cluster");
    let run = Run::from(
        command(home.path())
            .arg("--embedded")
            .arg(&dir)
            .args(["doctor", "--json"])
            .output()
            .unwrap(),
    );
    let report: DoctorJson = run.embedded_json();
    assert!(report.healthy, "{report:#?}");
    let cluster = report.get("cluster");
    assert_eq!(cluster.status, "ok");
    assert!(
        cluster
            .detail
            .contains(&format!("the embedded simulator in {}", dir.display())),
        "{cluster:?}"
    );
    assert!(report.get("client").detail.contains("SP_OURID 1"));
}
