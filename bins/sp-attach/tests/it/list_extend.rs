//! `sp-attach list` and `sp-attach extend`.

use std::io::Read as _;
use std::process::{Command, Stdio};

use serde_json::json;

use crate::{AttachmentJson, ExtendJson, GIB, ID, ListJson, node};

#[test]
fn list_shows_what_is_attached_here() {
    let node = node();
    let g1 = node.volume("v1");
    node.volume("v2");
    node.snapshot("v1", "s1");
    node.run(&["connect", "v1"]).ok();
    node.run(&["connect", "s1", "--snapshot"]).ok();
    node.sim
        .call(
            "POST",
            "VolumesReassign",
            Some(json!([{"volume": "os--volume-v2", "rw": [crate::OTHER]}])),
        )
        .unwrap();
    let list: ListJson = node.run(&["list", "--json"]).json();
    assert_eq!(list.client_id, ID);
    let root = node.root();
    assert_eq!(list.attachments.len(), 2);
    assert_eq!(
        list.attachments[1],
        AttachmentJson {
            id: Some("v1".to_owned()),
            name: "os--volume-v1".to_owned(),
            kind: "volume".to_owned(),
            global_id: Some(g1.clone()),
            access_mode: Some("rw".to_owned()),
            path: Some(root.join("storpool-byid").join(&g1)),
            name_path: Some(root.join("storpool/os--volume-v1")),
            present: true,
        }
    );
    assert_eq!(list.attachments[0].kind, "snapshot");
    assert_eq!(list.attachments[0].id.as_deref(), Some("s1"));
    let text = node.run(&["list"]).ok().to_owned();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 3, "{text}");
    assert!(lines[0].starts_with("ID "), "{text}");
    let v1: Vec<&str> = lines[2].split_whitespace().collect();
    assert_eq!(
        v1,
        [
            "v1",
            "os--volume-v1",
            "volume",
            "rw",
            "yes",
            root.join("storpool-byid").join(&g1).to_str().unwrap()
        ]
    );
}

#[test]
fn list_of_nothing_is_an_empty_document() {
    let node = node();
    let list: ListJson = node.run(&["--json", "list"]).json();
    assert!(list.attachments.is_empty());
    assert_eq!(
        node.run(&["list"]).ok().lines().count(),
        1,
        "the header only"
    );
}

#[test]
fn extend_prints_the_new_size() {
    let node = node();
    node.volume("v1");
    node.run(&["connect", "v1"]).ok();
    node.sim
        .call(
            "POST",
            "VolumeUpdate/os--volume-v1",
            Some(json!({"size": 5 * GIB})),
        )
        .unwrap();
    assert_eq!(node.run(&["extend", "v1"]).ok(), format!("{}\n", 5 * GIB));
    let extended: ExtendJson = node.run(&["--json", "extend", "v1"]).json();
    assert_eq!(extended.size_bytes, 5 * GIB);
    assert_eq!(extended.name, "os--volume-v1");
    assert_eq!(extended.path, node.root().join("storpool/os--volume-v1"));
}

#[test]
fn extend_of_a_volume_not_attached_here_fails_with_exit_1() {
    let node = node();
    node.volume("v1");
    let line = node.run(&["extend", "v1"]).failed(1).to_owned();
    assert!(line.contains("is not attached on this node"), "{line}");
}

#[test]
fn a_closed_stdout_is_not_an_error() {
    let node = node();
    node.volume("v1");
    node.run(&["connect", "v1"]).ok();
    let mut child = Command::new(env!("CARGO_BIN_EXE_sp-attach"))
        .arg("--config")
        .arg(node.conf())
        .arg("--dev-root")
        .arg(node.root())
        .arg("list")
        .env_remove("STORPOOL_CONF")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Close the reading end before the binary writes (it first asks the API).
    drop(child.stdout.take());
    let status = child.wait().unwrap();
    let mut stderr = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    assert_eq!(status.code(), Some(0), "{stderr}");
    assert_eq!(stderr, "");
}

/// One attachment of `list --all-nodes --json`.
#[derive(Debug, serde::Deserialize, schemars::JsonSchema, PartialEq)]
#[serde(deny_unknown_fields)]
pub(crate) struct NodeAttachmentJson {
    client: u32,
    here: bool,
    id: Option<String>,
    name: String,
    kind: String,
    global_id: Option<String>,
    access_mode: Option<String>,
}

/// `list --all-nodes --json`.
#[derive(Debug, serde::Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct AllNodesJson {
    client_id: u16,
    attachments: Vec<NodeAttachmentJson>,
}

#[test]
fn list_all_nodes_shows_who_has_what_attached_issue_14() {
    let node = node();
    let g1 = node.volume("v1");
    let g2 = node.volume("v2");
    node.run(&["connect", "v1"]).ok();
    node.sim
        .call(
            "POST",
            "VolumesReassign",
            Some(json!([{"volume": "os--volume-v2", "ro": [crate::OTHER, 9]}])),
        )
        .unwrap();
    let list: AllNodesJson = node.run(&["list", "--all-nodes", "--json"]).json();
    assert_eq!(list.client_id, ID);
    let entry = |client: u32, id: &str, gid: &str, mode: &str| NodeAttachmentJson {
        client,
        here: client == u32::from(ID),
        id: Some(id.to_owned()),
        name: format!("os--volume-{id}"),
        kind: "volume".to_owned(),
        global_id: Some(gid.to_owned()),
        access_mode: Some(mode.to_owned()),
    };
    assert_eq!(
        list.attachments,
        [
            entry(u32::from(crate::OTHER), "v2", &g2, "ro"),
            entry(u32::from(ID), "v1", &g1, "rw"),
            entry(9, "v2", &g2, "ro"),
        ]
    );
    let text = node.run(&["list", "--all-nodes"]).ok().to_owned();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(
        lines[0],
        "CLIENT  HERE  ID  NAME           KIND    RIGHTS  GLOBAL_ID"
    );
    assert!(
        lines[2].starts_with("7       yes   v1  os--volume-v1  volume  rw"),
        "{text}"
    );
    assert_eq!(lines.len(), 4, "{text}");
}
