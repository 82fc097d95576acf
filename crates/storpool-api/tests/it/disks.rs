//! Disk calls.

use storpool_api::{DiskDescription, DiskId, DiskSummary, ServerId};

use crate::{client, data, expect, fixture, server, strict};

const LIST: &str = include_str!("fixtures/disks_list.json");
const DESCRIBE: &str = include_str!("fixtures/disk_describe.json");

#[test]
fn fixtures_decode_with_every_member_known() {
    strict::<std::collections::BTreeMap<u32, DiskSummary>>(LIST);
    strict::<DiskDescription>(DESCRIBE);
}

#[tokio::test]
async fn list_tells_up_and_down_disks_apart() {
    let server = server().await;
    expect(&server, "GET", "DisksList", None, data(fixture(LIST))).await;
    let disks = client(&server).disks().list().await.unwrap();
    let up = &disks[&101];
    assert!(up.is_up());
    assert_eq!(
        (up.ag_count, up.ag_allocated, up.ag_free),
        (Some(1860), Some(40), Some(1820))
    );
    assert_eq!(up.wbc, None);
    assert_eq!(up.scrubbing_bw, Some(0));
    assert_eq!(up.device.as_deref(), Some("/dev/sdb"));
    let down = &disks[&102];
    assert!(!down.is_up());
    assert_eq!(down.generation_left, 98);
    assert_eq!(down.ag_count, None);
    let wbc = disks[&103].wbc.as_ref().unwrap();
    assert_eq!(wbc.max_pages, 4096);
    assert_eq!(disks[&103].description, "rack 4 slot 2");
}

#[tokio::test]
async fn server_disks_and_describe() {
    let server = server().await;
    expect(
        &server,
        "GET",
        "ServerDisksList/2",
        None,
        data(fixture(LIST)),
    )
    .await;
    expect(
        &server,
        "GET",
        "DiskDescribe/101",
        None,
        data(fixture(DESCRIBE)),
    )
    .await;
    let client = client(&server);
    let on_server = client
        .disks()
        .list_on_server(ServerId::new(2).unwrap())
        .await
        .unwrap();
    assert_eq!(on_server.len(), 3);
    let disk = client
        .disks()
        .describe(DiskId::new(101).unwrap())
        .await
        .unwrap();
    assert!(disk.is_up());
    assert!(disk.objects[&0].is_ok());
    assert_eq!(disk.objects[&5].state, 2);
    assert_eq!(disk.objects[&5].parent_volume, "");
}
