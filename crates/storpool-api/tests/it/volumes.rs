//! Volume calls.

use serde_json::json;
use storpool_api::{
    ApiError, Limit, LimitType, ObjectStatus, OnAttached, Rebase, SnapshotRef, TemplateName,
    VolumeCreate, VolumeDelete, VolumeDescription, VolumeFreeze, VolumeInfo, VolumeName, VolumeRef,
    VolumeRevert, VolumeSpace, VolumeStatus, VolumeSummary, VolumeUpdate,
};

use crate::{api_ok, client, data, expect, fixture, server, strict};

const LIST: &str = include_str!("fixtures/volumes_list.json");
const DESCRIBE: &str = include_str!("fixtures/volume_describe.json");
const INFO: &str = include_str!("fixtures/volume_info.json");
const SPACE: &str = include_str!("fixtures/volumes_space.json");
const STATUS: &str = include_str!("fixtures/volumes_status.json");
const STATUS_QUICK: &str = include_str!("fixtures/volumes_status_quick.json");

fn vref(name: &str) -> VolumeRef {
    VolumeRef::new(name).unwrap()
}

#[test]
fn fixtures_decode_with_every_member_known() {
    strict::<Vec<VolumeSummary>>(LIST);
    strict::<VolumeDescription>(DESCRIBE);
    strict::<VolumeInfo>(INFO);
    strict::<Vec<VolumeSpace>>(SPACE);
    strict::<std::collections::BTreeMap<String, VolumeStatus>>(STATUS);
    strict::<std::collections::BTreeMap<String, VolumeStatus>>(STATUS_QUICK);
}

#[tokio::test]
async fn list_decodes_named_system_and_unnamed_volumes() {
    let server = server().await;
    expect(&server, "GET", "VolumesList", None, data(fixture(LIST))).await;
    let volumes = client(&server).volumes().list().await.unwrap();
    assert_eq!(volumes.len(), 3);
    let v = &volumes[0];
    assert_eq!(v.name, "os--volume-5f0c");
    assert_eq!(v.global_id, "d.n.a1z");
    assert_eq!(v.size, 10_737_418_240);
    assert_eq!(v.replication, 3);
    assert_eq!(v.parent_name, "os--snap--none--snapshot-77");
    assert_eq!(v.template_name, "hybrid");
    assert_eq!(
        (v.place_all.as_str(), v.place_tail.as_str()),
        ("hdd", "ssd")
    );
    assert_eq!(v.tags.get("qc"), Some("tier1"));
    assert_eq!(v.bw, Limit::Unlimited);
    assert_eq!(v.limit_type, Some(LimitType::Total));
    assert_eq!(v.cluster_id.as_deref(), Some("d.n"));
    assert_eq!(v.reuse_server, Some(false));
    assert_eq!(v.creation_timestamp, 1_700_000_000);
    let system = &volumes[1];
    assert_eq!(system.name, "#iscsi-config");
    assert!(system.tags.is_empty(), "an absent tags member is no tags");
    assert_eq!(
        (system.bw, system.iops),
        (Limit::Value(10000), Limit::Value(2000))
    );
    assert_eq!(system.cluster_name, None);
    assert_eq!(volumes[2].name, "~d.n.b7m");
    assert_eq!(volumes[2].limit_type, Some(LimitType::PerGiB));
}

#[tokio::test]
async fn responses_tolerate_members_this_client_does_not_know() {
    let server = server().await;
    let mut list = fixture(LIST);
    list[0]["revertSize"] = json!(true);
    list[0]["onAttached"] = json!("detach");
    list[0]["someFutureObject"] = json!({"nested": [1, 2]});
    list[1]["limitType"] = json!("perTiB");
    expect(&server, "GET", "VolumesList", None, data(list)).await;
    let volumes = client(&server).volumes().list().await.unwrap();
    assert_eq!(volumes.len(), 3);
    assert_eq!(volumes[1].limit_type, Some(LimitType::Unknown));
}

#[tokio::test]
async fn get_returns_the_single_element() {
    let server = server().await;
    let one = json!([fixture(LIST)[2].clone()]);
    expect(&server, "GET", "Volume/~d.n.b7m", None, data(one)).await;
    let volume = client(&server)
        .volumes()
        .get(&vref("~d.n.b7m"))
        .await
        .unwrap();
    assert_eq!(volume.global_id, "d.n.b7m");
}

#[tokio::test]
async fn get_with_an_empty_array_is_a_decode_error() {
    let server = server().await;
    expect(&server, "GET", "Volume/v1", None, data(json!([]))).await;
    let err = client(&server)
        .volumes()
        .get(&vref("v1"))
        .await
        .unwrap_err();
    let ApiError::Decode {
        call,
        status,
        excerpt,
        ..
    } = &err
    else {
        panic!("{err:?}");
    };
    assert_eq!(call, "GET /ctrl/1.0/Volume/v1");
    assert_eq!(*status, 200);
    assert!(excerpt.contains("\"data\":[]"), "{excerpt}");
}

#[tokio::test]
async fn describe_info_and_list_snapshots() {
    let server = server().await;
    expect(
        &server,
        "GET",
        "VolumeDescribe/os--volume-5f0c",
        None,
        data(fixture(DESCRIBE)),
    )
    .await;
    expect(
        &server,
        "GET",
        "VolumeGetInfo/os--volume-5f0c",
        None,
        data(fixture(INFO)),
    )
    .await;
    let snapshots = fixture(include_str!("fixtures/snapshots_list.json"));
    expect(
        &server,
        "GET",
        "VolumeListSnapshots/os--volume-5f0c",
        None,
        data(json!([snapshots[0].clone()])),
    )
    .await;
    let client = client(&server);
    let volumes = client.volumes();
    let described = volumes.describe(&vref("os--volume-5f0c")).await.unwrap();
    assert_eq!(described.target_disk_sets[1], [103, 104, 202]);
    assert_eq!(described.objects.len(), 3);
    let info = volumes.info(&vref("os--volume-5f0c")).await.unwrap();
    assert_eq!(info.global_id, "d.n.a1z");
    assert_eq!(info.disks_count, 6);
    assert_eq!(info.objects_per_disk[&201], 160);
    assert_eq!(info.objects_per_chain[0].disks, [101, 102, 201]);
    let parents = volumes
        .list_snapshots(&vref("os--volume-5f0c"))
        .await
        .unwrap();
    assert_eq!(parents[0].name, "os--snap--none--snapshot-77");
}

#[tokio::test]
async fn status_space_and_quick_status() {
    let server = server().await;
    expect(
        &server,
        "GET",
        "VolumesGetStatus",
        None,
        data(fixture(STATUS)),
    )
    .await;
    expect(
        &server,
        "GET",
        "VolumesGetStatusQuick",
        None,
        data(fixture(STATUS_QUICK)),
    )
    .await;
    expect(&server, "GET", "VolumesSpace", None, data(fixture(SPACE))).await;
    let client = client(&server);
    let status = client.volumes().status().await.unwrap();
    let volume = &status["os--volume-5f0c"];
    assert_eq!(volume.status, ObjectStatus::UpSoon);
    assert!(!volume.snapshot && volume.decreased_redundancy);
    assert_eq!(volume.missing_drives, [102]);
    assert_eq!(volume.on_disk_size, Some(6_442_450_944));
    let deleted = &status["*os--snap--none--snapshot-12"];
    assert!(deleted.snapshot);
    assert_eq!(deleted.status, ObjectStatus::Down);
    assert_eq!(deleted.deleted, Some(true));
    assert_eq!(deleted.on_volume.as_deref(), Some("-"));
    let quick = client.volumes().status_quick().await.unwrap();
    assert_eq!(quick["os--volume-5f0c"].stored_size, None);
    let space = client.volumes().space().await.unwrap();
    assert_eq!(space[0].space_used, 4_294_967_296);
}

#[tokio::test]
async fn create_sends_only_the_given_members_and_returns_the_global_id() {
    let server = server().await;
    expect(
        &server,
        "POST",
        "VolumeCreate",
        Some(json!({"name": "os--volume-1", "size": 10_737_418_240_u64, "template": "hybrid"})),
        data(json!({"ok": true, "generation": 501, "globalId": "d.n.b7k"})),
    )
    .await;
    let created = client(&server)
        .volumes()
        .create(&VolumeCreate {
            name: Some(VolumeName::new("os--volume-1").unwrap()),
            size: Some(10 << 30),
            template: Some(TemplateName::new("hybrid").unwrap()),
            ..VolumeCreate::default()
        })
        .await
        .unwrap();
    assert_eq!(created.global_id.as_deref(), Some("d.n.b7k"));
    assert_eq!(created.generation, 501);
    assert_eq!(created.name, None);
}

#[tokio::test]
async fn create_unnamed_and_clone_decode_name_and_auto_name() {
    let server = server().await;
    expect(
        &server,
        "POST",
        "VolumeCreate",
        Some(json!({"size": 512, "replication": 3, "tags": {"k": "v"}, "bw": "-", "iops": 200})),
        data(json!({"ok": true, "generation": 502, "globalId": "d.n.b7m", "name": "~d.n.b7m"})),
    )
    .await;
    expect(
        &server,
        "POST",
        "VolumeCreate",
        Some(json!({"name": "os--volume-2", "baseOn": "os--volume-1", "placeAll": "hdd", "reuseServer": true})),
        data(json!({"ok": true, "generation": 503, "globalId": "d.n.b7p", "autoName": "os--volume-1@2231"})),
    )
    .await;
    let client = client(&server);
    let unnamed = client
        .volumes()
        .create(&VolumeCreate {
            size: Some(512),
            replication: Some(3),
            tags: Some([("k".to_owned(), "v".to_owned())].into()),
            bw: Some(Limit::Unlimited),
            iops: Some(Limit::Value(200)),
            ..VolumeCreate::default()
        })
        .await
        .unwrap();
    assert_eq!(unnamed.name.as_deref(), Some("~d.n.b7m"));
    let clone = client
        .volumes()
        .create(&VolumeCreate {
            name: Some(VolumeName::new("os--volume-2").unwrap()),
            base_on: Some(vref("os--volume-1")),
            place_all: Some(storpool_api::PlacementGroupName::new("hdd").unwrap()),
            reuse_server: Some(true),
            ..VolumeCreate::default()
        })
        .await
        .unwrap();
    assert_eq!(clone.auto_name.as_deref(), Some("os--volume-1@2231"));
}

#[tokio::test]
async fn update_freeze_revert_rebase() {
    let server = server().await;
    expect(
        &server,
        "POST",
        "VolumeUpdate/os--volume-1",
        Some(json!({"size": 21_474_836_480_u64})),
        api_ok(),
    )
    .await;
    expect(
        &server,
        "POST",
        "VolumeUpdate/os--volume-1",
        Some(json!({"rename": "os--volume-1--temp--mig", "tags": {"qc": ""}, "shrinkOk": true})),
        api_ok(),
    )
    .await;
    expect(&server, "POST", "VolumeFreeze/v-frozen", None, api_ok()).await;
    expect(
        &server,
        "POST",
        "VolumeFreeze/v-frozen2",
        Some(json!({"deleteAfter": 3600})),
        api_ok(),
    )
    .await;
    expect(
        &server,
        "POST",
        "VolumeRevert/os--volume-1",
        Some(json!({"toSnapshot": "os--snap--none--snapshot-1"})),
        api_ok(),
    )
    .await;
    expect(
        &server,
        "POST",
        "VolumeRevert/~d.n.a1z",
        Some(json!({"toSnapshot": "~d.n.c9x", "revertSize": true})),
        api_ok(),
    )
    .await;
    expect(
        &server,
        "POST",
        "VolumeRebase/v",
        Some(json!({"parentName": "s@1"})),
        api_ok(),
    )
    .await;
    expect(
        &server,
        "POST",
        "VolumeRebase/v2",
        Some(json!({})),
        api_ok(),
    )
    .await;
    let client = client(&server);
    let volumes = client.volumes();
    let ok = volumes
        .update(
            &vref("os--volume-1"),
            &VolumeUpdate {
                size: Some(20 << 30),
                ..VolumeUpdate::default()
            },
        )
        .await
        .unwrap();
    assert!(ok.ok);
    assert_eq!(ok.generation, 42);
    volumes
        .update(
            &vref("os--volume-1"),
            &VolumeUpdate {
                rename: Some(VolumeName::new("os--volume-1--temp--mig").unwrap()),
                tags: Some([("qc".to_owned(), String::new())].into()),
                shrink_ok: Some(true),
                ..VolumeUpdate::default()
            },
        )
        .await
        .unwrap();
    volumes
        .freeze(&vref("v-frozen"), &VolumeFreeze::default())
        .await
        .unwrap();
    volumes
        .freeze(
            &vref("v-frozen2"),
            &VolumeFreeze {
                delete_after: Some(3600),
                ..VolumeFreeze::default()
            },
        )
        .await
        .unwrap();
    volumes
        .revert(
            &vref("os--volume-1"),
            &VolumeRevert::to(SnapshotRef::new("os--snap--none--snapshot-1").unwrap()),
        )
        .await
        .unwrap();
    volumes
        .revert(
            &vref("~d.n.a1z"),
            &VolumeRevert {
                revert_size: Some(true),
                ..VolumeRevert::to(SnapshotRef::new("~d.n.c9x").unwrap())
            },
        )
        .await
        .unwrap();
    volumes
        .rebase(
            &vref("v"),
            &Rebase {
                parent_name: Some(SnapshotRef::new("s@1").unwrap()),
            },
        )
        .await
        .unwrap();
    volumes
        .rebase(&vref("v2"), &Rebase::default())
        .await
        .unwrap();
}

#[tokio::test]
async fn delete_sends_no_body_unless_on_attached_is_given() {
    let server = server().await;
    expect(&server, "POST", "VolumeDelete/os--volume-1", None, api_ok()).await;
    expect(
        &server,
        "POST",
        "VolumeDelete/os--volume-2",
        Some(json!({"onAttached": "detachForce"})),
        api_ok(),
    )
    .await;
    let client = client(&server);
    client
        .volumes()
        .delete(&vref("os--volume-1"))
        .await
        .unwrap();
    client
        .volumes()
        .delete_with(
            &vref("os--volume-2"),
            &VolumeDelete {
                on_attached: Some(OnAttached::DetachForce),
            },
        )
        .await
        .unwrap();
}

#[tokio::test]
async fn post_without_body_sends_content_length_zero() {
    let server = server().await;
    wiremock::Mock::given(wiremock::matchers::method("POST"))
        .and(wiremock::matchers::path("/ctrl/1.0/VolumeDelete/v"))
        .and(wiremock::matchers::header("Content-Length", "0"))
        .respond_with(api_ok())
        .expect(1)
        .mount(&server)
        .await;
    client(&server).volumes().delete(&vref("v")).await.unwrap();
}
