//! Placement group calls.

use serde_json::json;
use storpool_api::{DiskId, PlacementGroup, PlacementGroupName, PlacementGroupUpdate};

use crate::{api_ok, client, data, expect, fixture, server, strict};

const LIST: &str = include_str!("fixtures/placement_groups_list.json");

fn name(n: &str) -> PlacementGroupName {
    PlacementGroupName::new(n).unwrap()
}

#[tokio::test]
async fn list_and_describe() {
    strict::<std::collections::BTreeMap<String, PlacementGroup>>(LIST);
    let server = server().await;
    expect(
        &server,
        "GET",
        "PlacementGroupsList",
        None,
        data(fixture(LIST)),
    )
    .await;
    let ssd = fixture(LIST)["ssd"].clone();
    expect(
        &server,
        "GET",
        "PlacementGroupDescribe/ssd",
        None,
        data(ssd),
    )
    .await;
    let client = client(&server);
    let groups = client.placement_groups().list().await.unwrap();
    assert_eq!(groups["default"].disks, [101, 102, 103]);
    assert!(groups["empty"].disks.is_empty());
    let ssd = client
        .placement_groups()
        .describe(&name("ssd"))
        .await
        .unwrap();
    assert_eq!(ssd.id, 2);
}

#[tokio::test]
async fn update_always_sends_both_disk_lists_and_delete() {
    let server = server().await;
    expect(
        &server,
        "POST",
        "PlacementGroupUpdate/hdd",
        Some(json!({"addDisks": [1, 2], "rmDisks": []})),
        api_ok(),
    )
    .await;
    expect(
        &server,
        "POST",
        "PlacementGroupUpdate/hdd",
        Some(json!({"rename": "hdd2", "addDisks": [], "rmDisks": [0]})),
        api_ok(),
    )
    .await;
    expect(&server, "POST", "PlacementGroupDelete/hdd2", None, api_ok()).await;
    let client = client(&server);
    let groups = client.placement_groups();
    groups
        .update(
            &name("hdd"),
            &PlacementGroupUpdate {
                add_disks: vec![DiskId::new(1).unwrap(), DiskId::new(2).unwrap()],
                ..PlacementGroupUpdate::default()
            },
        )
        .await
        .unwrap();
    groups
        .update(
            &name("hdd"),
            &PlacementGroupUpdate {
                rename: Some(name("hdd2")),
                rm_disks: vec![DiskId::new(0).unwrap()],
                ..PlacementGroupUpdate::default()
            },
        )
        .await
        .unwrap();
    groups.delete(&name("hdd2")).await.unwrap();
}
