//! Snapshot calls.

use serde_json::json;
use storpool_api::{
    GlobalId, GroupSnapshot, GroupSnapshotVolume, Rebase, SnapshotCreate, SnapshotDescription,
    SnapshotInfo, SnapshotName, SnapshotRef, SnapshotSpace, SnapshotSummary, SnapshotUpdate,
    TemplateName, VolumeRef,
};

use crate::{api_ok, client, data, expect, fixture, server, strict};

const LIST: &str = include_str!("fixtures/snapshots_list.json");
const DESCRIBE: &str = include_str!("fixtures/snapshot_describe.json");
const INFO: &str = include_str!("fixtures/snapshot_info.json");
const SPACE: &str = include_str!("fixtures/snapshots_space.json");

fn sref(name: &str) -> SnapshotRef {
    SnapshotRef::new(name).unwrap()
}

#[test]
fn fixtures_decode_with_every_member_known() {
    strict::<Vec<SnapshotSummary>>(LIST);
    strict::<SnapshotDescription>(DESCRIBE);
    strict::<SnapshotInfo>(INFO);
    strict::<Vec<SnapshotSpace>>(SPACE);
}

#[tokio::test]
async fn list_decodes_named_anonymous_deleted_and_transient_snapshots() {
    let server = server().await;
    expect(&server, "GET", "SnapshotsList", None, data(fixture(LIST))).await;
    let snapshots = client(&server).snapshots().list().await.unwrap();
    assert_eq!(snapshots.len(), 4);
    let s = &snapshots[0];
    assert_eq!(s.name, "os--snap--none--snapshot-77");
    assert_eq!(s.on_volume, "os--volume-5f0c");
    assert_eq!(s.global_id, "d.n.c9x");
    assert_eq!(s.target_delete_date, Some(0));
    assert_eq!(s.delete_blocked.as_deref(), Some("not blocked"));
    assert_eq!(s.mc_state.as_deref(), Some("owner"));
    assert_eq!(s.backup_of_global_id.as_deref(), Some("d.n.a00"));
    let anonymous = &snapshots[1];
    assert!(anonymous.auto_name && anonymous.bound);
    assert_eq!(anonymous.name, "os--volume-5f0c@1430");
    assert_eq!(anonymous.on_volume, "-");
    assert_eq!(anonymous.target_delete_date, None);
    let deleted = &snapshots[2];
    assert!(deleted.deleted);
    assert!(deleted.name.starts_with('*'));
    assert_eq!(deleted.delete_blocked.as_deref(), Some("multiple children"));
    assert!(snapshots[3].transient);
}

#[tokio::test]
async fn get_describe_info_space() {
    let server = server().await;
    let first = fixture(LIST)[0].clone();
    expect(
        &server,
        "GET",
        "Snapshot/os--snap--none--snapshot-77",
        None,
        data(json!([first])),
    )
    .await;
    expect(
        &server,
        "GET",
        "SnapshotDescribe/~d.n.c9x",
        None,
        data(fixture(DESCRIBE)),
    )
    .await;
    expect(
        &server,
        "GET",
        "SnapshotGetInfo/s@1",
        None,
        data(fixture(INFO)),
    )
    .await;
    expect(&server, "GET", "SnapshotsSpace", None, data(fixture(SPACE))).await;
    let client = client(&server);
    let snapshots = client.snapshots();
    let one = snapshots
        .get(&sref("os--snap--none--snapshot-77"))
        .await
        .unwrap();
    assert_eq!(one.size, 10_737_418_240);
    let described = snapshots.describe(&sref("~d.n.c9x")).await.unwrap();
    assert_eq!(described.objects, [[101, 102, 201]]);
    let info = snapshots.info(&sref("s@1")).await.unwrap();
    assert_eq!(info.disks_count, 3);
    let space = snapshots.space().await.unwrap();
    assert_eq!(space[0].space_used, 536_870_912);
}

#[tokio::test]
async fn create_named_and_anonymous() {
    let server = server().await;
    expect(
        &server,
        "POST",
        "VolumeSnapshot/os--volume-1",
        Some(json!({"name": "os--snap--none--snapshot-1"})),
        data(json!({"ok": true, "generation": 610, "snapshotGlobalId": "d.n.c9x", "snapshotVisibleVolumeId": 16269})),
    )
    .await;
    expect(
        &server,
        "POST",
        "VolumeSnapshot/~d.n.a1z",
        Some(json!({"bind": true, "deleteAfter": 86400, "tags": {"backup": "daily"}})),
        data(json!({"ok": true, "generation": 611, "autoName": "os--volume-1@7"})),
    )
    .await;
    let client = client(&server);
    let created = client
        .snapshots()
        .create(
            &VolumeRef::new("os--volume-1").unwrap(),
            &SnapshotCreate::named(SnapshotName::new("os--snap--none--snapshot-1").unwrap()),
        )
        .await
        .unwrap();
    assert_eq!(created.snapshot_global_id.as_deref(), Some("d.n.c9x"));
    assert_eq!(created.snapshot_visible_volume_id, Some(16269));
    let anonymous = client
        .snapshots()
        .create(
            &VolumeRef::new("~d.n.a1z").unwrap(),
            &SnapshotCreate {
                bind: Some(true),
                delete_after: Some(86400),
                tags: Some([("backup".to_owned(), "daily".to_owned())].into()),
                ..SnapshotCreate::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(anonymous.auto_name.as_deref(), Some("os--volume-1@7"));
}

#[tokio::test]
async fn group_snapshot() {
    let server = server().await;
    expect(
        &server,
        "POST",
        "VolumesGroupSnapshot",
        Some(json!({
            "volumes": [
                {"volume": "os--volume-a", "name": "cg1-a", "tags": {"k": "v"}},
                {"volume": "~d.n.b7m"}
            ],
            "tags": {"cg": "cg1"}
        })),
        data(json!({"ok": true, "generation": 700, "snapshots": [
            {"volume": "os--volume-a", "volumeGlobalId": "d.n.a1z", "snapshot": "cg1-a",
             "snapshotGlobalId": "d.n.d01", "remoteId": "d.n.d01"},
            {"volume": "~d.n.b7m", "volumeGlobalId": "d.n.b7m", "snapshotGlobalId": "d.n.d02",
             "remoteId": "d.n.d02"}
        ]})),
    )
    .await;
    let mut first = GroupSnapshotVolume::new(
        VolumeRef::new("os--volume-a").unwrap(),
        Some(SnapshotName::new("cg1-a").unwrap()),
    );
    first.tags = Some([("k".to_owned(), "v".to_owned())].into());
    let result = client(&server)
        .snapshots()
        .create_group(&GroupSnapshot {
            volumes: vec![
                first,
                GroupSnapshotVolume::new(VolumeRef::new("~d.n.b7m").unwrap(), None),
            ],
            tags: Some([("cg".to_owned(), "cg1".to_owned())].into()),
        })
        .await
        .unwrap();
    assert_eq!(result.ok, Some(true));
    assert_eq!(result.snapshots[1].snapshot, None);
    assert_eq!(result.snapshots[1].snapshot_global_id, "d.n.d02");
}

#[tokio::test]
async fn update_rebase_delete_and_delete_by_id() {
    let server = server().await;
    expect(
        &server,
        "POST",
        "SnapshotUpdate/os--clone--none--snapshot-9",
        Some(json!({"template": "ssd-gold"})),
        api_ok(),
    )
    .await;
    expect(
        &server,
        "POST",
        "SnapshotUpdate/os--clone--none--snapshot-9",
        Some(json!({"tags": {"transient": "1.0"}, "bind": false, "targetDeleteDate": 0})),
        api_ok(),
    )
    .await;
    expect(
        &server,
        "POST",
        "SnapshotRebase/s1",
        Some(json!({})),
        api_ok(),
    )
    .await;
    expect(
        &server,
        "POST",
        "SnapshotDelete/os--snap--none--snapshot-1",
        None,
        api_ok(),
    )
    .await;
    expect(
        &server,
        "POST",
        "SnapshotDeleteById/d.n.c9x",
        None,
        api_ok(),
    )
    .await;
    let client = client(&server);
    let snapshots = client.snapshots();
    let clone = sref("os--clone--none--snapshot-9");
    snapshots
        .update(
            &clone,
            &SnapshotUpdate {
                template: Some(TemplateName::new("ssd-gold").unwrap()),
                ..SnapshotUpdate::default()
            },
        )
        .await
        .unwrap();
    snapshots
        .update(
            &clone,
            &SnapshotUpdate {
                tags: Some([("transient".to_owned(), "1.0".to_owned())].into()),
                bind: Some(false),
                target_delete_date: Some(0),
                ..SnapshotUpdate::default()
            },
        )
        .await
        .unwrap();
    snapshots
        .rebase(&sref("s1"), &Rebase::default())
        .await
        .unwrap();
    snapshots
        .delete(&sref("os--snap--none--snapshot-1"))
        .await
        .unwrap();
    snapshots
        .delete_by_id(&GlobalId::new("d.n.c9x").unwrap())
        .await
        .unwrap();
}
