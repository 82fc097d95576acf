//! Everything `sp-attach` prints on stdout: one line of text per result, or one JSON document
//! with `--json`. Field names are stable.

use std::io;
use std::path::{Path, PathBuf};

use serde::Serialize;
use storpool_attach::{
    AccessMode, Attached, ClusterAttachment, Detached, Extended, NodeAttachment, ObjectKind,
};
use storpool_cli::{emit, emit_json, json_seconds, table};

/// `connect --json`: os-brick's `{"type": "block", "path": ...}` plus what happened.
#[derive(Serialize)]
struct ConnectJson<'a> {
    #[serde(rename = "type")]
    kind_of_device: &'static str,
    path: &'a Path,
    name_path: &'a Path,
    name: &'a str,
    global_id: &'a str,
    kind: ObjectKind,
    access_mode: AccessMode,
    changed: bool,
    wait_seconds: f64,
    elapsed_seconds: f64,
}

pub(crate) fn attached(attached: &Attached, json: bool) -> io::Result<()> {
    if json {
        emit_json(&ConnectJson {
            kind_of_device: "block",
            path: &attached.path,
            name_path: &attached.name_path,
            name: &attached.name,
            global_id: &attached.global_id,
            kind: attached.kind,
            access_mode: attached.access_mode,
            changed: attached.changed,
            wait_seconds: json_seconds(attached.waited.as_secs_f64()),
            elapsed_seconds: json_seconds(attached.elapsed.as_secs_f64()),
        })
    } else {
        emit(&format!("{}\n", attached.path.display()))
    }
}

/// `disconnect --json`.
#[derive(Serialize)]
struct DisconnectJson<'a> {
    name: &'a str,
    global_id: Option<&'a str>,
    kind: ObjectKind,
    changed: bool,
    forced: bool,
    attempts: u32,
    wait_seconds: f64,
    elapsed_seconds: f64,
}

/// Nothing on stdout without `--json`: a detach has no data to give (`-v` logs it).
pub(crate) fn detached(detached: &Detached, json: bool) -> io::Result<()> {
    if !json {
        return Ok(());
    }
    emit_json(&DisconnectJson {
        name: &detached.name,
        global_id: detached.global_id.as_deref(),
        kind: detached.kind,
        changed: detached.changed,
        forced: detached.forced,
        attempts: detached.attempts,
        wait_seconds: json_seconds(detached.waited.as_secs_f64()),
        elapsed_seconds: json_seconds(detached.elapsed.as_secs_f64()),
    })
}

/// `extend --json`.
#[derive(Serialize)]
struct ExtendJson<'a> {
    name: &'a str,
    path: &'a Path,
    size_bytes: u64,
    wait_seconds: f64,
}

pub(crate) fn extended(extended: &Extended, json: bool) -> io::Result<()> {
    if json {
        emit_json(&ExtendJson {
            name: &extended.name,
            path: &extended.path,
            size_bytes: extended.size,
            wait_seconds: json_seconds(extended.waited.as_secs_f64()),
        })
    } else {
        emit(&format!("{}\n", extended.size))
    }
}

/// `list --json`.
#[derive(Serialize)]
struct ListJson<'a> {
    client_id: u16,
    attachments: Vec<AttachmentJson<'a>>,
}

#[derive(Serialize)]
struct AttachmentJson<'a> {
    id: Option<&'a str>,
    name: &'a str,
    kind: ObjectKind,
    global_id: Option<&'a str>,
    access_mode: Option<AccessMode>,
    path: Option<&'a PathBuf>,
    name_path: Option<&'a PathBuf>,
    present: bool,
}

/// A table with a header: `ID NAME KIND RIGHTS PRESENT PATH`, `-` for what is unknown.
pub(crate) fn list(client_id: u16, list: &[NodeAttachment], json: bool) -> io::Result<()> {
    if json {
        return emit_json(&ListJson {
            client_id,
            attachments: list
                .iter()
                .map(|a| AttachmentJson {
                    id: a.id.as_deref(),
                    name: &a.name,
                    kind: a.kind,
                    global_id: a.global_id.as_deref(),
                    access_mode: a.access_mode,
                    path: a.path.as_ref(),
                    name_path: a.name_path.as_ref(),
                    present: a.present,
                })
                .collect(),
        });
    }
    let rows: Vec<[String; 6]> = list
        .iter()
        .map(|a| {
            [
                a.id.clone().unwrap_or_else(|| "-".to_owned()),
                a.name.clone(),
                a.kind.to_string(),
                a.access_mode
                    .map_or_else(|| "?".to_owned(), |mode| mode.to_string()),
                if a.present { "yes" } else { "no" }.to_owned(),
                a.path
                    .as_ref()
                    .or(a.name_path.as_ref())
                    .map_or_else(|| "-".to_owned(), |p| p.display().to_string()),
            ]
        })
        .collect();
    emit(&table(
        ["ID", "NAME", "KIND", "RIGHTS", "PRESENT", "PATH"],
        &rows,
    ))
}

/// `list --all-nodes --json`.
#[derive(Serialize)]
struct AllNodesJson<'a> {
    client_id: u16,
    attachments: Vec<ClusterAttachmentJson<'a>>,
}

#[derive(Serialize)]
struct ClusterAttachmentJson<'a> {
    client: u32,
    here: bool,
    id: Option<&'a str>,
    name: &'a str,
    kind: ObjectKind,
    global_id: Option<&'a str>,
    access_mode: Option<AccessMode>,
}

/// A table with a header: `CLIENT HERE ID NAME KIND RIGHTS GLOBAL_ID`, by client.
pub(crate) fn list_all_nodes(
    client_id: u16,
    list: &[ClusterAttachment],
    json: bool,
) -> io::Result<()> {
    if json {
        return emit_json(&AllNodesJson {
            client_id,
            attachments: list
                .iter()
                .map(|a| ClusterAttachmentJson {
                    client: a.client,
                    here: a.here,
                    id: a.id.as_deref(),
                    name: &a.name,
                    kind: a.kind,
                    global_id: a.global_id.as_deref(),
                    access_mode: a.access_mode,
                })
                .collect(),
        });
    }
    let dash = |value: Option<&str>| value.unwrap_or("-").to_owned();
    let rows: Vec<[String; 7]> = list
        .iter()
        .map(|a| {
            [
                a.client.to_string(),
                if a.here { "yes" } else { "no" }.to_owned(),
                dash(a.id.as_deref()),
                a.name.clone(),
                a.kind.to_string(),
                a.access_mode
                    .map_or_else(|| "?".to_owned(), |mode| mode.to_string()),
                dash(a.global_id.as_deref()),
            ]
        })
        .collect();
    emit(&table(
        [
            "CLIENT",
            "HERE",
            "ID",
            "NAME",
            "KIND",
            "RIGHTS",
            "GLOBAL_ID",
        ],
        &rows,
    ))
}
