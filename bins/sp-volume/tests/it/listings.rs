//! The listings issue 14 asked for: snapshots, one snapshot, templates, group snapshots.

use serde::Deserialize;

use crate::{GroupJson, SnapshotJson, node};

/// `list-snapshots --json`.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct SnapshotsJson {
    pub(crate) snapshots: Vec<SnapshotJson>,
}

/// `list-group-snapshots --json`.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct GroupsJson {
    pub(crate) group_snapshots: Vec<GroupJson>,
}

/// One template of `list-templates --json`.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct TemplateJson {
    pub(crate) name: String,
    pub(crate) replication: Option<u8>,
    pub(crate) place_all: Option<String>,
    pub(crate) place_tail: Option<String>,
    pub(crate) place_head: Option<String>,
    pub(crate) iops: Option<u64>,
    pub(crate) bw: Option<u64>,
    pub(crate) volumes: Option<u64>,
    pub(crate) snapshots: Option<u64>,
    pub(crate) capacity_bytes: Option<u64>,
    pub(crate) free_bytes: Option<u64>,
    pub(crate) provisioned_bytes: Option<u64>,
}

/// `list-templates --json`.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct TemplatesJson {
    pub(crate) templates: Vec<TemplateJson>,
}

#[test]
fn snapshots_are_listed_and_shown_leaked_export_snapshots_included_issue_14() {
    let node = node();
    node.run(&["create", "a", "--size", "1"]).ok();
    node.run(&["create", "b", "--size", "2"]).ok();
    node.run(&["snapshot", "a", "s1"]).ok();
    node.run(&["snapshot", "b", "s2"]).ok();
    // What an export killed with -9 leaves behind.
    node.sim
        .call(
            "POST",
            "VolumeSnapshot/os--volume-b",
            Some(serde_json::json!({"name": "os--snap--none--snapshot-export-b-1"})),
        )
        .unwrap();
    let all: SnapshotsJson = node.run(&["list-snapshots", "--json"]).json();
    let ids: Vec<&str> = all.snapshots.iter().map(|s| s.id.as_str()).collect();
    assert_eq!(ids, ["export-b-1", "s1", "s2"]);
    let of_b: SnapshotsJson = node.run(&["list-snapshots", "b", "--json"]).json();
    assert_eq!(of_b.snapshots.len(), 2);
    assert!(
        of_b.snapshots
            .iter()
            .all(|s| s.volume.as_deref() == Some("os--volume-b"))
    );
    let text = node.run(&["list-snapshots", "a"]).ok().to_owned();
    let lines: Vec<&str> = text.lines().collect();
    assert!(lines[0].starts_with("ID  NAME"), "{text}");
    assert!(
        lines[1].starts_with("s1  os--snap--none--snapshot-s1  os--volume-a  1 GiB"),
        "{text}"
    );
    assert_eq!(lines.len(), 2, "{text}");
    // One snapshot.
    let shown: SnapshotJson = node.run(&["show-snapshot", "s2", "--json"]).json();
    assert_eq!(
        shown,
        of_b.snapshots
            .iter()
            .find(|s| s.id == "s2")
            .unwrap()
            .clone()
    );
    let text = node.run(&["show-snapshot", "s2"]).ok().to_owned();
    assert!(
        text.contains("size       2 GiB (2147483648 bytes)"),
        "{text}"
    );
    // Not there: exit 1, for a volume or a snapshot.
    let run = node.run(&["show-snapshot", "nope"]);
    assert!(
        run.failed(1).contains("os--snap--none--snapshot-nope"),
        "{run:#?}"
    );
    node.run(&["list-snapshots", "nope"]).failed(1);
}

#[test]
fn group_snapshots_are_listed_by_group() {
    let node = node();
    for id in ["a", "b", "c"] {
        node.run(&["create", id, "--size", "1"]).ok();
    }
    node.run(&["group-snapshot", "g1", "a", "b"]).ok();
    node.run(&["group-snapshot", "g2", "c"]).ok();
    let groups: GroupsJson = node.run(&["list-group-snapshots", "--json"]).json();
    let shape: Vec<(&str, Vec<&str>)> = groups
        .group_snapshots
        .iter()
        .map(|g| {
            (
                g.id.as_str(),
                g.snapshots.iter().map(|s| s.id.as_str()).collect(),
            )
        })
        .collect();
    assert_eq!(shape, [("g1", vec!["a", "b"]), ("g2", vec!["c"])]);
    let text = node.run(&["list-group-snapshots"]).ok().to_owned();
    assert!(text.starts_with("GROUP_ID  VOLUME_ID  SNAPSHOT"), "{text}");
    assert!(
        text.contains("\ng1        a          os--group--g1--snapshot-a"),
        "{text}"
    );
    assert_eq!(text.lines().count(), 4, "{text}");
    // None at all: the header only, or an empty list.
    node.run(&["delete-group-snapshot", "g1"]).ok();
    node.run(&["delete-group-snapshot", "g2"]).ok();
    assert_eq!(
        node.run(&["list-group-snapshots", "--json"]).ok(),
        "{\"group_snapshots\":[]}\n"
    );
}

#[test]
fn templates_are_listed_with_replication_placement_and_capacity() {
    let node = node();
    node.sim.seed_template("hdd", Some(2), None).unwrap();
    node.sim.seed_template("ssd", Some(3), None).unwrap();
    node.run(&[
        "create",
        "v",
        "--size",
        "4",
        "--type-spec",
        "storpool_template=ssd",
    ])
    .ok();
    let list: TemplatesJson = node.run(&["list-templates", "--json"]).json();
    let names: Vec<&str> = list.templates.iter().map(|t| t.name.as_str()).collect();
    assert_eq!(names, ["hdd", "ssd"]);
    let ssd = &list.templates[1];
    assert_eq!(ssd.replication, Some(3));
    assert_eq!(ssd.place_all.as_deref(), Some("default"));
    assert_eq!(ssd.volumes, Some(1));
    assert_eq!(ssd.provisioned_bytes, Some(4 << 30));
    assert!(ssd.capacity_bytes.unwrap() > 0);
    assert!(ssd.free_bytes.unwrap() <= ssd.capacity_bytes.unwrap());
    assert_eq!(
        (ssd.place_tail.as_deref(), ssd.place_head.as_deref()),
        (Some("default"), Some("default"))
    );
    assert_eq!((ssd.iops, ssd.bw, ssd.snapshots), (None, None, Some(0)));
    let text = node.run(&["list-templates"]).ok().to_owned();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(
        lines[0],
        "NAME  REPLICATION  PLACEMENT  VOLUMES  CAPACITY_GIB  FREE_GIB  PROVISIONED_GIB"
    );
    assert!(
        lines[2].starts_with("ssd   3            default    1        "),
        "{text}"
    );
    assert!(lines[2].ends_with("  4.0"), "{text}");
}
