//! Attachment calls.

use serde_json::json;
use storpool_api::{
    Attachment, ClientId, Detach, McMode, ReassignEntry, ReassignWait, Rights, SnapshotRef,
    VolumeReassign, VolumeRef,
};

use crate::{api_ok, client, data, expect, fixture, server, strict};

const LIST: &str = include_str!("fixtures/attachments_list.json");

fn id(n: u64) -> ClientId {
    ClientId::new(n).unwrap()
}

#[tokio::test]
async fn list_decodes_volume_and_snapshot_attachments() {
    strict::<Vec<Attachment>>(LIST);
    let server = server().await;
    expect(&server, "GET", "AttachmentsList", None, data(fixture(LIST))).await;
    let list = client(&server).attachments().list().await.unwrap();
    assert_eq!(list[0].rights, Rights::Rw);
    assert_eq!(list[0].client, 3);
    assert_eq!(list[0].cluster.as_deref(), Some("sofia"));
    assert!(list[1].snapshot);
    assert_eq!(list[1].rights, Rights::Ro);
    assert_eq!(list[1].pos, 1023);
    assert_eq!(list[1].global_id, None);
}

#[tokio::test]
async fn reassign_sends_a_bare_array_with_numeric_client_ids() {
    let server = server().await;
    expect(
        &server,
        "POST",
        "VolumesReassign",
        Some(json!([
            {"volume": "os--volume-1", "detach": "all"},
            {"snapshot": "os--snap--none--snapshot-1", "detach": "all"},
            {"volume": "~d.n.a1z", "rw": [7], "detach": [1, 2], "force": true, "mcMode": "export",
             "allowRemoteExported": true, "onRemoteAttached": "detach"}
        ])),
        api_ok(),
    )
    .await;
    let entries = [
        ReassignEntry::detach_volume_everywhere(VolumeRef::new("os--volume-1").unwrap()),
        ReassignEntry::detach_snapshot_everywhere(
            SnapshotRef::new("os--snap--none--snapshot-1").unwrap(),
        ),
        VolumeReassign {
            rw: Some(vec![id(7)]),
            detach: Some(Detach::Clients(vec![id(1), id(2)])),
            force: Some(true),
            mc_mode: Some(McMode::Export),
            allow_remote_exported: Some(true),
            on_remote_attached: Some(storpool_api::OnAttached::Detach),
            ..VolumeReassign::new(VolumeRef::new("~d.n.a1z").unwrap())
        }
        .into(),
    ];
    client(&server)
        .attachments()
        .reassign(&entries)
        .await
        .unwrap();
}

#[tokio::test]
async fn reassign_wait_attach_and_detach_like_os_brick() {
    let server = server().await;
    expect(
        &server,
        "POST",
        "VolumesReassignWait",
        Some(json!({"reassign": [{"volume": "os--volume-1", "rw": [1]}]})),
        api_ok(),
    )
    .await;
    expect(
        &server,
        "POST",
        "VolumesReassignWait",
        Some(json!({"reassign": [{"volume": "~d.n.a1z", "detach": [1], "force": false}], "attachTimeout": 0})),
        api_ok(),
    )
    .await;
    let client = client(&server);
    client
        .attachments()
        .reassign_wait(&ReassignWait::new(vec![ReassignEntry::attach_volume(
            VolumeRef::new("os--volume-1").unwrap(),
            id(1),
            Rights::Rw,
        )]))
        .await
        .unwrap();
    client
        .attachments()
        .reassign_wait(&ReassignWait {
            reassign: vec![ReassignEntry::detach_volume(
                VolumeRef::new("~d.n.a1z").unwrap(),
                id(1),
                false,
            )],
            attach_timeout: Some(0),
        })
        .await
        .unwrap();
}
