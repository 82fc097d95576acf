//! Volume template calls.

use serde_json::json;
use storpool_api::{
    Limit, PlacementGroupName, SnapshotName, Template, TemplateCreate, TemplateName,
    TemplateStatus, TemplateUpdate, TemplateValue,
};

use crate::{api_ok, client, data, expect, fixture, server, strict};

const LIST: &str = include_str!("fixtures/templates_list.json");
const STATUS: &str = include_str!("fixtures/templates_status.json");

fn name(n: &str) -> TemplateName {
    TemplateName::new(n).unwrap()
}

#[test]
fn fixtures_decode_with_every_member_known() {
    strict::<Vec<Template>>(LIST);
    strict::<Vec<TemplateStatus>>(STATUS);
}

#[tokio::test]
async fn list_status_and_describe_decode_dash_values() {
    let server = server().await;
    expect(
        &server,
        "GET",
        "VolumeTemplatesList",
        None,
        data(fixture(LIST)),
    )
    .await;
    expect(
        &server,
        "GET",
        "VolumeTemplatesStatus",
        None,
        data(fixture(STATUS)),
    )
    .await;
    let gold = fixture(LIST)[1].clone();
    expect(
        &server,
        "GET",
        "VolumeTemplateDescribe/ssd-gold",
        None,
        data(gold),
    )
    .await;
    let client = client(&server);
    let list = client.templates().list().await.unwrap();
    assert_eq!(list[0].size, TemplateValue::Unset);
    assert_eq!(list[0].replication.value(), Some(3));
    assert_eq!(list[1].size.value(), Some(21_474_836_480));
    assert_eq!(list[1].replication, TemplateValue::Unset);
    assert_eq!(list[1].bw, Limit::Value(250_000));
    let status = client.templates().status().await.unwrap();
    assert_eq!(status[0].stored.capacity, 1_099_511_627_776);
    assert_eq!(status[0].stored.place_tail.free, 549_755_813_888);
    assert_eq!(status[0].volumes_size, Some(128_849_018_880));
    assert_eq!(status[1].replication, TemplateValue::Unset);
    assert_eq!(status[1].stored.internal, None);
    let gold = client
        .templates()
        .describe(&name("ssd-gold"))
        .await
        .unwrap();
    assert_eq!(gold.parent_name, "base-image");
}

#[tokio::test]
async fn create_update_delete() {
    let server = server().await;
    expect(
        &server,
        "POST",
        "VolumeTemplateCreate",
        Some(json!({"name": "gold", "replication": 3, "placeAll": "ssd", "iops": "-", "size": 1_073_741_824})),
        api_ok(),
    )
    .await;
    expect(
        &server,
        "POST",
        "VolumeTemplateUpdate/gold",
        Some(json!({"rename": "platinum", "propagate": true, "parent": "base@1"})),
        api_ok(),
    )
    .await;
    expect(
        &server,
        "POST",
        "VolumeTemplateDelete/platinum",
        None,
        api_ok(),
    )
    .await;
    let client = client(&server);
    client
        .templates()
        .create(&TemplateCreate {
            replication: Some(3),
            place_all: Some(PlacementGroupName::new("ssd").unwrap()),
            iops: Some(Limit::Unlimited),
            size: Some(1 << 30),
            ..TemplateCreate::new(name("gold"))
        })
        .await
        .unwrap();
    client
        .templates()
        .update(
            &name("gold"),
            &TemplateUpdate {
                rename: Some(name("platinum")),
                propagate: Some(true),
                parent: Some(SnapshotName::new("base@1").unwrap()),
                ..TemplateUpdate::default()
            },
        )
        .await
        .unwrap();
    client.templates().delete(&name("platinum")).await.unwrap();
}
